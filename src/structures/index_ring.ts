/**
 * A ring of free slot indices for Stack and ObjectPool: Vyukov's bounded MPMC queue
 * (the algorithm of queue.ts) holding u32 indices. It is the free list of those
 * structures because it is ABA-safe with plain 32-bit atomics: every ring slot has a
 * sequence number that only moves forward, so a delayed taker cannot take an index
 * twice, unlike an untagged Treiber free list.
 *
 * It never holds more than `capacity` indices (each structure slot is either in use
 * or in the ring), so `put` always finds room; the ring has capacity rounded up to a
 * power of two slots of 8 bytes: u32 sequence, u32 index.
 *
 * Positions live in two i32 words (enqueue, dequeue) that the caller places on
 * separate cache lines.
 *
 * Crashes (docs/RELIABILITY.md): every put and take is announced in the process's
 * claim record (claim_records.ts) before its CAS, a put with the index it places.
 * - A putter killed between its CAS and its publish: the taker that reaches the
 *   position finds it stalled with no live claim, takes the position over and returns
 *   the dead putter's index from its record: no index is lost.
 * - A taker killed between its CAS and its hand-back: the putter of the next lap finds
 *   the slot stalled with no live claim, hands it back, and puts the index the dead
 *   taker never returned (still in the slot) back into the ring.
 * Both are counted in the caller's `recovered` word.
 */
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import { ClaimRecords, R_N, R_POS, R_VALUE, recordBytes, recordCount, Stall } from "./claim_records.ts";
import { CONSUME, PRODUCE } from "./vyukov_repair.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";

/** Ring slots for `capacity` indices: capacity rounded up to a power of two. */
export function ringSlots(capacity: number): number {
  let r = 1;
  while (r < capacity) r *= 2;
  return r;
}

/** Bytes of ring slots for `capacity` indices, followed by the claim records (64-aligned). */
export function ringBytes(capacity: number, maxProcesses: number): number {
  return Math.ceil((ringSlots(capacity) * 8) / 64) * 64 + recordBytes(maxProcesses);
}

/** Fills a fresh ring with indices 0..capacity-1 (0 taken first). Only on a block nobody else sees yet. */
export function initRingFull(m: Memory, enq: number, deq: number, slots: number, capacity: number): void {
  const i32 = m.i32;
  const r = ringSlots(capacity);
  for (let i = 0; i < r; i++) {
    const s = (slots + i * 8) >> 2;
    if (i < capacity) {
      i32[s] = i + 1; // published for position i
      i32[s + 1] = i;
    } else {
      i32[s] = i; // free for the producer of position i
    }
  }
  i32[enq] = capacity;
  i32[deq] = 0;
}

function damaged(name: string): ShmError {
  return new ShmError(
    "CORRUPT",
    `"${name}": free-slot ring sequence ahead of its position counter; the structure's memory is damaged`,
  );
}

const nap = new Int32Array(new SharedArrayBuffer(4));
const GIVE_UP_MS = 5_000;

/** Spins, then sleeps 1 ms at a time; after GIVE_UP_MS a live holder is taken to be stuck. */
function backoff(waited: number, name: string): number {
  if (waited < 1000) return waited + 1;
  Atomics.wait(nap, 0, 0, 1);
  if (waited - 1000 > GIVE_UP_MS) {
    throw new ShmError("CORRUPT", `"${name}": a live process stopped for ${GIVE_UP_MS} ms in the middle of taking a free slot`);
  }
  return waited + 1;
}

/** One handle's view of a free-index ring. Indices passed in are i32 indices (byte offset >> 2). */
export class IndexRing {
  readonly #enq: number;
  readonly #deq: number;
  readonly #slots: number;
  readonly #mask: number;
  readonly #ring: number;
  readonly #name: string;
  readonly #recovered: number;
  readonly #recs: ClaimRecords;
  readonly #stall = new Stall();

  /**
   * @param enq, deq   i32 indices of the position words
   * @param slots      byte offset of the ring slots (the claim records follow, 64-aligned)
   * @param recovered  i32 index of the caller's "indices recovered" counter
   */
  constructor(
    m: Memory,
    enq: number,
    deq: number,
    slots: number,
    capacity: number,
    maxProcesses: number,
    recovered: number,
    name: string,
  ) {
    this.#enq = enq;
    this.#deq = deq;
    this.#slots = slots;
    this.#ring = ringSlots(capacity);
    this.#mask = this.#ring - 1;
    this.#name = name;
    this.#recovered = recovered;
    const records = slots + Math.ceil((this.#ring * 8) / 64) * 64;
    // A dead putter's record is kept while its position is claimed and unpublished: the
    // taker that repairs that position needs the index in it.
    const pending = (pos: number) => {
      const seq = Atomics.load(m.i32, (slots + (pos & this.#mask) * 8) >> 2);
      return seq === pos && Atomics.load(m.i32, enq) !== pos;
    };
    this.#recs = ClaimRecords.claim(m, records, recordCount(maxProcesses), name, pending);
  }

  /** The stall clock of this handle (the wait loops read `seen`). */
  get stall(): Stall {
    return this.#stall;
  }

  /** Gives the claim record back (the owning handle closes). */
  release(m: Memory): void {
    this.#recs.release(m);
  }

  /** i32 index of this process's claim record (Pool/Stack mark an index held in transit with it). */
  get record(): number {
    return this.#recs.own;
  }

  /** Takes the oldest index from the ring, or -1 if none is ready. */
  take(m: Memory): number {
    const i32 = m.i32;
    const mask = this.#mask;
    const own = this.#recs.own;
    let pos = Atomics.load(i32, this.#deq);
    for (;;) {
      const s = (this.#slots + (pos & mask) * 8) >> 2;
      const dif = (Atomics.load(i32, s) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        i32[own + R_POS] = pos; // claim record, published by the CAS
        i32[own + R_N] = CONSUME;
        const found = Atomics.compareExchange(i32, this.#deq, pos, (pos + 1) | 0);
        if (found === pos) {
          const v = i32[s + 1]; // ordered by the CAS above and the store below
          if (PAUSE_POINT !== undefined) pauseHere("ring.take.claimed");
          Atomics.store(i32, s, (pos + mask + 1) | 0);
          Atomics.store(i32, own + R_N, 0);
          return v;
        }
        pos = found;
      } else if (dif < 0) {
        if (dif === -1) {
          const v = this.#takeDeadPut(i32, pos, s);
          if (v >= 0) return v;
          if (v === -2) {
            pos = (pos + 1) | 0; // skipped, but the dead putter's index was not recorded
            continue;
          }
        }
        i32[own + R_N] = 0;
        return -1;
      } else {
        const now = Atomics.load(i32, this.#deq);
        if (now === pos) throw damaged(this.#name);
        pos = now;
      }
    }
  }

  /** Puts an index (owned by the caller) into the ring. */
  put(m: Memory, value: number): void {
    const i32 = m.i32;
    const mask = this.#mask;
    const own = this.#recs.own;
    let extra: number[] | undefined; // indices recovered from dead takers, to put after `value`
    let waited = 0;
    let pos = Atomics.load(i32, this.#enq);
    for (;;) {
      const s = (this.#slots + (pos & mask) * 8) >> 2;
      const seq = Atomics.load(i32, s);
      const dif = (seq - pos) | 0;
      if (dif === 0) {
        i32[own + R_POS] = pos; // claim record with the index, published by the CAS
        i32[own + R_VALUE] = value;
        i32[own + R_N] = PRODUCE;
        const found = Atomics.compareExchange(i32, this.#enq, pos, (pos + 1) | 0);
        if (found === pos) {
          if (PAUSE_POINT !== undefined) pauseHere("ring.put.claimed");
          i32[s + 1] = value;
          Atomics.store(i32, s, (pos + 1) | 0); // publish after the index is written
          Atomics.store(i32, own + R_N, 0);
          if (extra === undefined || extra.length === 0) return;
          value = extra.pop()!;
          pos = Atomics.load(i32, this.#enq);
          continue;
        }
        pos = found;
      } else if (dif < 0) {
        // Behind a putter a slot can only be in its previous lap: claimed by that lap's
        // putter (dif = -ring) or published and not yet handed back by its taker
        // (dif = -ring + 1). Any other value at an unchanged position is a damaged
        // counter or slot: report it now instead of backing off for seconds.
        if (dif !== -this.#ring && dif !== -this.#ring + 1) {
          const now = Atomics.load(i32, this.#enq);
          if (now === pos) throw damaged(this.#name);
          pos = now;
          continue;
        }
        // The taker of this slot's previous lap claimed it but has not handed it back
        // yet (it is between its CAS and its store): wait for it, or repair if it died.
        const r = this.#handBackDeadTake(i32, pos, s, seq);
        if (r >= 0 || r === -2) {
          if (r >= 0) (extra ??= []).push(r);
          continue;
        }
        waited = backoff(waited, this.#name);
        pos = Atomics.load(i32, this.#enq);
      } else {
        const now = Atomics.load(i32, this.#enq);
        if (now === pos) throw damaged(this.#name);
        pos = now;
      }
    }
  }

  /**
   * Taker at `pos`, slot sequence still `pos`: if a dead putter claimed it, take the
   * position over and return that putter's index (−2: skipped, index unknown). −1: empty.
   */
  #takeDeadPut(i32: Int32Array, pos: number, s: number): number {
    if (Atomics.load(i32, this.#enq) === pos) return -1;
    if (!this.#stall.due(PRODUCE, pos)) return -1;
    if (this.#recs.liveClaim(i32, pos, PRODUCE)) return -1;
    if (Atomics.load(i32, s) !== pos) return -1;
    const own = this.#recs.own;
    i32[own + R_POS] = pos;
    i32[own + R_N] = CONSUME;
    if (Atomics.compareExchange(i32, this.#deq, pos, (pos + 1) | 0) !== pos) {
      Atomics.store(i32, own + R_N, 0);
      return -1;
    }
    const b = this.#recs.deadPut(i32, pos);
    const v = b >= 0 ? Atomics.load(i32, b + R_VALUE) : -2;
    if (b >= 0) Atomics.compareExchange(i32, b + R_N, PRODUCE, 0); // resolved: the record may be reused
    Atomics.store(i32, s, (pos + this.#ring) | 0);
    Atomics.store(i32, own + R_N, 0);
    if (v >= 0) Atomics.add(i32, this.#recovered, 1);
    return v;
  }

  /**
   * Putter at `pos`, slot still in last lap (`seq`): if the taker that claimed it died,
   * hand the slot back; returns the index it never returned (to be put again), −2 when
   * handed back without one (a dead repairer's skip), −1 when the taker may be alive.
   */
  #handBackDeadTake(i32: Int32Array, pos: number, s: number, seq: number): number {
    const ring = this.#ring;
    const dif = (seq - pos) | 0;
    if (dif !== 1 - ring && dif !== -ring) return -1;
    const q = (pos - ring) | 0;
    if (((Atomics.load(i32, this.#deq) - q) | 0) <= 0) return -1;
    if (!this.#stall.due(CONSUME, q)) return -1;
    if (this.#recs.liveClaim(i32, q, CONSUME)) return -1;
    const v = dif === 1 - ring ? i32[s + 1] : -2;
    if (Atomics.compareExchange(i32, s, seq, pos) !== seq) return -1;
    if (v >= 0) Atomics.add(i32, this.#recovered, 1);
    return v;
  }

  /**
   * Shifts every position of an idle ring by a multiple of its size so that its dequeue
   * position lands near `target` (tests use it to cross the 32-bit wrap). Slot mapping
   * is unchanged because the shift is a multiple of the ring size.
   */
  rebase(m: Memory, target: number): void {
    const i32 = m.i32;
    const r = this.#ring;
    const d = Math.floor((((target | 0) - i32[this.#deq]) | 0) / r) * r;
    for (let i = 0; i < r; i++) i32[(this.#slots + i * 8) >> 2] = (i32[(this.#slots + i * 8) >> 2] + d) | 0;
    i32[this.#enq] = (i32[this.#enq] + d) | 0;
    i32[this.#deq] = (i32[this.#deq] + d) | 0;
  }
}
