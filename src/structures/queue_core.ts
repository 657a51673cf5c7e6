/**
 * Queue's algorithm in TypeScript, one element at a time (queue.ts has the handle and
 * the header comment on the algorithm): what a handle fixes when it opens (QueueCore,
 * shared with the bulk operations in queue_bulk.ts) and tryPush / tryPop over it, with
 * the claim records and the repairs of dead claims (vyukov_repair.ts) and the pause
 * points of the crash suite. The handle calls the native fast paths first
 * (zig/fastpath.zig); these run for what those leave: a repair (FAST_SLOW), slots of
 * 64 KiB or more, and every operation while SHMKIT_TEST_PAUSE_AT is set.
 */
import type { ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import type { Placement } from "../segment/structure.ts";
import { notify } from "../wait/wait.ts";
import { ClaimRecords, R_N, R_POS, recordCount, Stall } from "./claim_records.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";
import { DEQ, ENQ, HANDED_BACK, NOT_EMPTY, NOT_FULL, recordsAt, ringSize, SKIPPED, slotLayout } from "./queue_layout.ts";
import { Staging } from "./staging.ts";
import { CONSUME, handBackDeadConsumer, PRODUCE, skipDeadProducer } from "./vyukov_repair.ts";

/** What the TypeScript operations need of a Queue handle (fixed when it opens). */
export interface QueueCore<T> {
  readonly name: string;
  readonly type: ElementType<T>;
  readonly capacity: number;
  readonly data: number;
  readonly ring: number;
  readonly mask: number;
  readonly stride: number;
  readonly elemOffset: number;
  /** i32 indices of the position words. */
  readonly enq: number;
  readonly deq: number;
  readonly bounded: boolean;
  /** Byte offsets of the eventcounts. */
  readonly notEmpty: number;
  readonly notFull: number;
  /** i32 indices of this process's claim record words (position, n). */
  readonly rp: number;
  readonly rn: number;
  readonly view: { [i: number]: T } | undefined;
  readonly accepts: ((v: unknown) => boolean) | undefined;
  readonly vStride: number;
  readonly vOff: number;
  readonly staging: Staging<T>;
  readonly recs: ClaimRecords;
  readonly stall: Stall;
}

/**
 * Re-reads a position counter after finding a slot already taken for `pos`. If the
 * counter has not moved, the slot's sequence is impossible: the memory is damaged
 * (checking this keeps a corrupt segment from looping forever).
 */
export function reload(i32: Int32Array, at: number, pos: number, name: string): number {
  const now = Atomics.load(i32, at);
  if (now === pos) throw new ShmError("CORRUPT", `queue "${name}": slot sequence ahead of its position counter`);
  return now;
}

/**
 * The core of a Queue handle on `m` for entry `p`: geometry from the validated entry,
 * a typed-array view over the slots for numeric kinds (an element is then one indexed
 * access: slot s's element at s * vStride + vOff), and this process's claim record.
 */
export function queueCore<T>(m: Memory, p: Placement, type: ElementType<T>, maxProcesses: number): QueueCore<T> {
  const { elemOffset, stride } = slotLayout(type as ElementType<unknown>);
  const ring = ringSize(p.capacity), size = type.size;
  let view: { [i: number]: T } | undefined, accepts: ((v: unknown) => boolean) | undefined;
  if (type.typedArray && type.accepts && stride % size === 0 && elemOffset % size === 0 && p.data % size === 0) {
    view = new type.typedArray(m.buffer, p.data, (ring * stride) / size) as unknown as { [i: number]: T };
    accepts = type.accepts as (v: unknown) => boolean;
  }
  const recs = ClaimRecords.claim(m, recordsAt(p.data, ring, stride), recordCount(maxProcesses), p.name);
  return {
    name: p.name,
    type,
    capacity: p.capacity,
    data: p.data,
    ring,
    mask: ring - 1,
    stride,
    elemOffset,
    enq: (p.control + ENQ) >> 2,
    deq: (p.control + DEQ) >> 2,
    bounded: ring !== p.capacity,
    notEmpty: p.control + NOT_EMPTY,
    notFull: p.control + NOT_FULL,
    rp: recs.own + R_POS,
    rn: recs.own + R_N,
    view,
    accepts,
    vStride: stride / size,
    vOff: elemOffset / size,
    staging: new Staging(type),
    recs,
    stall: new Stall(),
  };
}

/** Queue.tryPush in TypeScript: every element type, the repairs, the pause points. */
export function tryPushTs<T>(c: QueueCore<T>, m: Memory, value: T): boolean {
  const seq0 = c.data >> 2, seqStride = c.stride >> 2;
  // Validate before claiming a slot: numeric kinds with `accepts` (then the value is
  // stored straight into the slot), anything else by staging a checked copy.
  const view = c.view;
  const direct = view !== undefined && c.accepts!(value);
  if (!direct) c.staging.stage(value);
  const i32 = m.i32;
  const mask = c.mask;
  // Plain read (Vyukov's relaxed load of enqueue_pos): a stale position cannot do
  // harm, since the sequence test below (an atomic load) and the CAS decide, and a
  // retry takes the CAS's result or an atomic re-read. Saves one Atomics call.
  let pos = i32[c.enq];
  for (;;) {
    const s = pos & mask;
    const seqAt = seq0 + s * seqStride;
    const dif = (Atomics.load(i32, seqAt) - pos) | 0;
    if (dif === 0) {
      if (c.bounded && ((pos - Atomics.load(i32, c.deq)) | 0) >= c.capacity) {
        i32[c.rn] = 0;
        return false;
      }
      // Claim record before the claim: plain stores, published by the CAS (claim_records.ts).
      i32[c.rp] = pos;
      i32[c.rn] = PRODUCE;
      const found = Atomics.compareExchange(i32, c.enq, pos, (pos + 1) | 0);
      if (found === pos) {
        if (PAUSE_POINT !== undefined) pauseHere("queue.push.claimed");
        if (direct) view[s * c.vStride + c.vOff] = value;
        else c.staging.copyTo(m, (seqAt << 2) + c.elemOffset);
        Atomics.store(i32, seqAt, (pos + 1) | 0); // publish after the element is written
        Atomics.store(i32, c.rn, 0); // after the publish: the claim is over
        notify(m, c.notEmpty, 1); // one load unless a consumer is parked
        return true;
      }
      pos = found;
    } else if (dif < 0) {
      // The slot still holds last lap's element: full, unless its consumer died (slow path).
      if (
        (dif === -c.ring || dif === 1 - c.ring) &&
        handBackDeadConsumer(i32, c.recs, c.stall, c.deq, seqAt, pos, (dif + pos) | 0, c.ring)
      ) {
        Atomics.add(i32, c.enq + (HANDED_BACK >> 2), 1);
        continue;
      }
      i32[c.rn] = 0;
      return false;
    } else {
      pos = reload(i32, c.enq, pos, c.name);
    }
  }
}

/** Queue.tryPop in TypeScript (as tryPushTs); a non-numeric element is read with `read` (the type's, or tryPopInto's). */
export function tryPopTs<T>(c: QueueCore<T>, m: Memory, read: (m: Memory, o: number) => T): T | undefined {
  const seq0 = c.data >> 2, seqStride = c.stride >> 2;
  const i32 = m.i32;
  const mask = c.mask;
  let pos = i32[c.deq]; // plain read, as in tryPush: the sequence test and the CAS decide
  for (;;) {
    const s = pos & mask;
    const seqAt = seq0 + s * seqStride;
    const dif = (Atomics.load(i32, seqAt) - ((pos + 1) | 0)) | 0; // acquire: the element is written
    if (dif === 0) {
      i32[c.rp] = pos; // claim record, published by the CAS
      i32[c.rn] = CONSUME;
      const found = Atomics.compareExchange(i32, c.deq, pos, (pos + 1) | 0);
      if (found === pos) {
        if (PAUSE_POINT !== undefined) pauseHere("queue.pop.claimed");
        const view = c.view;
        if (view !== undefined) {
          const v = view[s * c.vStride + c.vOff]; // a typed-array read cannot throw
          Atomics.store(i32, seqAt, (pos + c.ring) | 0); // hand the slot to the next lap's producer
          Atomics.store(i32, c.rn, 0);
          notify(m, c.notFull, 1);
          return v;
        }
        try {
          return read(m, (seqAt << 2) + c.elemOffset);
        } finally {
          Atomics.store(i32, seqAt, (pos + c.ring) | 0);
          Atomics.store(i32, c.rn, 0);
          notify(m, c.notFull, 1);
        }
      }
      pos = found;
    } else if (dif < 0) {
      // Not yet published: empty, unless the producer that claimed it died (slow path).
      if (dif === -1 && skipDeadProducer(i32, c.recs, c.stall, c.enq, c.deq, seqAt, pos, c.ring)) {
        Atomics.add(i32, c.enq + (SKIPPED >> 2), 1);
        notify(m, c.notFull, 1);
        pos = (pos + 1) | 0;
        continue;
      }
      i32[c.rn] = 0;
      return undefined;
    } else {
      pos = reload(i32, c.deq, pos, c.name);
    }
  }
}
