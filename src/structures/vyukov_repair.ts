/**
 * Repairs of a Vyukov bounded MPMC ring (Queue, and the free-index ring under Stack
 * and ObjectPool) whose position was claimed by a process that died before finishing
 * (docs/RELIABILITY.md has the proof sketch). Both run only on the paths that would
 * otherwise report "empty" or "full", after the claim has stayed unfinished for
 * STALL_MS, and only when no live process's claim record names the position.
 *
 * - A producer claimed `pos` (CAS on the enqueue counter) and died before publishing
 *   sequence pos + 1: consumers would see "empty" at `pos` forever. The consumer at
 *   `pos` takes the position over as if it had consumed it (its own record names it,
 *   CAS on the dequeue counter, one repairer wins) and hands the slot to the next lap
 *   (sequence pos + ring). The dead producer's element is lost: its push never returned.
 * - A consumer claimed `q` (CAS on the dequeue counter) and died before handing the
 *   slot back (sequence q + ring): the producer of q + ring would see "full" forever.
 *   That producer hands the slot back itself, by CAS on the sequence (one repairer
 *   wins). The dead consumer's element is lost: its pop never returned.
 */
import { type ClaimRecords, R_N, R_POS, type Stall } from "./claim_records.ts";

export const PRODUCE = 1;
export const CONSUME = -1;

/**
 * The consumer at `pos` sees the slot's sequence still at `pos`. True if it skipped a
 * dead producer's position (the dequeue counter is now past `pos`); false if the queue
 * is simply empty there, or the producer may still be alive.
 */
export function skipDeadProducer(
  i32: Int32Array,
  recs: ClaimRecords,
  stall: Stall,
  enq: number,
  deq: number,
  seqAt: number,
  pos: number,
  ring: number,
): boolean {
  if (Atomics.load(i32, enq) === pos) return false; // nobody claimed it: empty
  if (!stall.due(PRODUCE, pos)) return false;
  if (recs.liveClaim(i32, pos, PRODUCE)) return false;
  if (Atomics.load(i32, seqAt) !== pos) return false; // published meanwhile
  const own = recs.own;
  i32[own + R_POS] = pos;
  i32[own + R_N] = CONSUME; // we are the consumer of pos now: a repairer that dies is repaired too
  if (Atomics.compareExchange(i32, deq, pos, (pos + 1) | 0) !== pos) {
    Atomics.store(i32, own + R_N, 0);
    return false;
  }
  Atomics.store(i32, seqAt, (pos + ring) | 0);
  Atomics.store(i32, own + R_N, 0);
  return true;
}

/**
 * The producer at `pos` sees the slot's sequence `seen` at pos − ring + 1 (last lap's
 * element) or pos − ring (last lap skipped by a repairer that died). True if a dead
 * consumer had claimed position pos − ring and it handed the slot back (retry the
 * push); false if the ring is simply full, or the consumer may still be alive.
 */
export function handBackDeadConsumer(
  i32: Int32Array,
  recs: ClaimRecords,
  stall: Stall,
  deq: number,
  seqAt: number,
  pos: number,
  seen: number,
  ring: number,
): boolean {
  const q = (pos - ring) | 0;
  if (((Atomics.load(i32, deq) - q) | 0) <= 0) return false; // not claimed: full
  if (!stall.due(CONSUME, q)) return false;
  if (recs.liveClaim(i32, q, CONSUME)) return false;
  return Atomics.compareExchange(i32, seqAt, seen, pos) === seen;
}
