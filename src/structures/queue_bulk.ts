/**
 * Queue's bulk operations (queue.ts): pushBulk and popBulk claim runs of positions with
 * one CAS, announce the whole run in the claim record, and repair dead claims on their
 * full/empty paths exactly as tryPush/tryPop do (vyukov_repair.ts).
 */
import type { ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import { notify } from "../wait/wait.ts";
import type { ClaimRecords, Stall } from "./claim_records.ts";
import type { Staging } from "./staging.ts";
import { HANDED_BACK, SKIPPED } from "./queue_layout.ts";
import { handBackDeadConsumer, skipDeadProducer } from "./vyukov_repair.ts";

/** What the bulk operations need of a Queue handle (fixed at construction). */
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
 * Appends as many of `values` as fit, in order, claiming runs of slots with one CAS;
 * returns how many were pushed (fewer than values.length when the queue fills up).
 * Every value is validated first: one bad value throws INVALID_ARGUMENT with nothing pushed.
 */
export function pushBulk<T>(c: QueueCore<T>, m: Memory, values: ArrayLike<T>): number {
  const count = values.length;
  const view = c.view;
  const accepts = c.accepts;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (view === undefined || !accepts!(v)) c.staging.stage(v);
  }
  const i32 = m.i32;
  let done = 0;
  let failure: unknown;
  let pos = Atomics.load(i32, c.enq);
  while (done < count) {
    const want = Math.min(count - done, c.ring);
    let k = 0;
    let dif = 0;
    while (k < want) {
      const slot = c.data + (((pos + k) | 0) & c.mask) * c.stride;
      dif = (Atomics.load(i32, slot >> 2) - ((pos + k) | 0)) | 0;
      if (dif !== 0) break;
      k++;
    }
    if (k === 0) {
      if (dif < 0) {
        const seqAt = (c.data + (pos & c.mask) * c.stride) >> 2;
        const ring = c.ring;
        if (
          (dif === -ring || dif === 1 - ring) &&
          handBackDeadConsumer(i32, c.recs, c.stall, c.deq, seqAt, pos, (dif + pos) | 0, ring)
        ) {
          Atomics.add(i32, c.enq + (HANDED_BACK >> 2), 1);
          continue;
        }
        break; // full
      }
      pos = reload(i32, c.enq, pos, c.name);
      continue;
    }
    if (c.bounded) {
      k = Math.min(k, c.capacity - ((pos - Atomics.load(i32, c.deq)) | 0));
      if (k <= 0) break;
    }
    i32[c.rp] = pos; // claim record for [pos, pos + k), published by the CAS
    i32[c.rn] = k;
    const found = Atomics.compareExchange(i32, c.enq, pos, (pos + k) | 0);
    if (found !== pos) {
      pos = found;
      continue;
    }
    for (let j = 0; j < k; j++) {
      const p = (pos + j) | 0;
      const slot = c.data + (p & c.mask) * c.stride;
      const v = values[done + j];
      if (view !== undefined && accepts!(v)) {
        view[(p & c.mask) * c.vStride + c.vOff] = v; // unpublished until the store below
        Atomics.store(i32, slot >> 2, (p + 1) | 0);
        continue;
      }
      try {
        c.type.write(m, slot + c.elemOffset, v);
      } catch (e) {
        // Only a value that changed since it was validated (a getter) gets here: keep the queue consistent.
        m.u8.fill(0, slot + c.elemOffset, slot + c.elemOffset + c.type.size);
        failure ??= e;
      }
      Atomics.store(i32, slot >> 2, (p + 1) | 0);
    }
    Atomics.store(i32, c.rn, 0);
    done += k;
    pos = (pos + k) | 0;
  }
  i32[c.rn] = 0; // a failed CAS may have left a record naming someone else's claim
  if (done > 0) notify(m, c.notEmpty, done);
  if (failure !== undefined) throw failure;
  return done;
}

/**
 * Removes up to `max` elements (oldest first), claiming runs of slots with one CAS,
 * and appends them to `out` (a new array by default), which it returns.
 */
export function popBulk<T>(c: QueueCore<T>, m: Memory, max: number, out: T[]): T[] {
  if (!(Number.isInteger(max) && max >= 0)) {
    throw new ShmError("INVALID_ARGUMENT", `popBulk max must be a non-negative integer, got ${max}`);
  }
  const i32 = m.i32;
  const view = c.view;
  let got = 0;
  let failure: unknown;
  let pos = Atomics.load(i32, c.deq);
  while (got < max) {
    const want = Math.min(max - got, c.ring);
    let k = 0;
    let dif = 0;
    while (k < want) {
      const slot = c.data + (((pos + k) | 0) & c.mask) * c.stride;
      dif = (Atomics.load(i32, slot >> 2) - ((pos + k + 1) | 0)) | 0;
      if (dif !== 0) break;
      k++;
    }
    if (k === 0) {
      if (dif < 0) {
        const seqAt = (c.data + (pos & c.mask) * c.stride) >> 2;
        if (dif === -1 && skipDeadProducer(i32, c.recs, c.stall, c.enq, c.deq, seqAt, pos, c.ring)) {
          Atomics.add(i32, c.enq + (SKIPPED >> 2), 1);
          notify(m, c.notFull, 1);
          pos = (pos + 1) | 0;
          continue;
        }
        break; // empty
      }
      pos = reload(i32, c.deq, pos, c.name);
      continue;
    }
    i32[c.rp] = pos; // claim record for [pos, pos + k), published by the CAS
    i32[c.rn] = -k;
    const found = Atomics.compareExchange(i32, c.deq, pos, (pos + k) | 0);
    if (found !== pos) {
      pos = found;
      continue;
    }
    for (let j = 0; j < k; j++) {
      const p = (pos + j) | 0;
      const slot = c.data + (p & c.mask) * c.stride;
      try {
        const v = view !== undefined ? view[(p & c.mask) * c.vStride + c.vOff] : c.type.read(m, slot + c.elemOffset);
        out.push(v);
      } catch (e) {
        failure ??= e; // an element this type cannot read (written by a foreign program)
      }
      Atomics.store(i32, slot >> 2, (p + c.ring) | 0);
    }
    Atomics.store(i32, c.rn, 0);
    got += k;
    pos = (pos + k) | 0;
  }
  i32[c.rn] = 0;
  if (got > 0) notify(m, c.notFull, got);
  if (failure !== undefined) throw failure;
  return out;
}
