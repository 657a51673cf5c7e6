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
 * separate cache lines; functions take their Int32Array indices.
 */
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";

/** Ring slots for `capacity` indices: capacity rounded up to a power of two. */
export function ringSlots(capacity: number): number {
  let r = 1;
  while (r < capacity) r *= 2;
  return r;
}

/** Bytes of ring slots for `capacity` indices. */
export function ringBytes(capacity: number): number {
  return ringSlots(capacity) * 8;
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
  return new ShmError("CORRUPT", `"${name}": free-slot ring sequence ahead of its position counter; the structure's memory is damaged`);
}

const nap = new Int32Array(new SharedArrayBuffer(4));
const GIVE_UP_MS = 5_000;

/** Spins, then sleeps 1 ms at a time; after GIVE_UP_MS the slot's holder is taken for dead. */
function backoff(waited: number, name: string): number {
  if (waited < 1000) return waited + 1;
  Atomics.wait(nap, 0, 0, 1);
  if (waited - 1000 > GIVE_UP_MS) {
    throw new ShmError("CORRUPT", `"${name}": a process stopped for ${GIVE_UP_MS} ms in the middle of taking a free slot (killed?)`);
  }
  return waited + 1;
}

/** Takes the oldest index from the ring, or -1 if none is ready. */
export function ringTake(m: Memory, deq: number, slots: number, mask: number, name: string): number {
  const i32 = m.i32;
  let pos = Atomics.load(i32, deq);
  for (;;) {
    const s = (slots + (pos & mask) * 8) >> 2;
    const dif = (Atomics.load(i32, s) - ((pos + 1) | 0)) | 0;
    if (dif === 0) {
      const found = Atomics.compareExchange(i32, deq, pos, (pos + 1) | 0);
      if (found === pos) {
        const v = i32[s + 1]; // ordered by the CAS above and the store below
        Atomics.store(i32, s, (pos + mask + 1) | 0);
        return v;
      }
      pos = found;
    } else if (dif < 0) {
      return -1;
    } else {
      const now = Atomics.load(i32, deq);
      if (now === pos) throw damaged(name);
      pos = now;
    }
  }
}

/** Puts an index (owned by the caller) into the ring. */
export function ringPut(m: Memory, enq: number, slots: number, mask: number, value: number, name: string): void {
  const i32 = m.i32;
  let waited = 0;
  let pos = Atomics.load(i32, enq);
  for (;;) {
    const s = (slots + (pos & mask) * 8) >> 2;
    const dif = (Atomics.load(i32, s) - pos) | 0;
    if (dif === 0) {
      const found = Atomics.compareExchange(i32, enq, pos, (pos + 1) | 0);
      if (found === pos) {
        i32[s + 1] = value;
        Atomics.store(i32, s, (pos + 1) | 0); // publish after the index is written
        return;
      }
      pos = found;
    } else if (dif < 0) {
      // The taker of this slot's previous lap claimed it but has not handed it back
      // yet (it is between its CAS and its store). Only it can finish, so wait for it.
      waited = backoff(waited, name);
      pos = Atomics.load(i32, enq);
    } else {
      const now = Atomics.load(i32, enq);
      if (now === pos) throw damaged(name);
      pos = now;
    }
  }
}

/**
 * Shifts every position of an idle ring by a multiple of its size so that its dequeue
 * position lands near `target` (tests use it to cross the 32-bit wrap). Slot mapping
 * is unchanged because the shift is a multiple of the ring size.
 */
export function ringRebase(m: Memory, enq: number, deq: number, slots: number, mask: number, target: number): void {
  const i32 = m.i32;
  const r = mask + 1;
  const d = Math.floor((((target | 0) - i32[deq]) | 0) / r) * r;
  for (let i = 0; i < r; i++) i32[(slots + i * 8) >> 2] = (i32[(slots + i * 8) >> 2] + d) | 0;
  i32[enq] = (i32[enq] + d) | 0;
  i32[deq] = (i32[deq] + d) | 0;
}
