/**
 * Start barriers that make test worker processes begin their work at the same time,
 * so that it really overlaps.
 *
 * - Counter barrier: the test creates an i32 SharedAtomic (e.g. "ready") at 0; every
 *   worker calls `arriveAndWait(counter, parties)`.
 * - "go" barrier (tests/workers/map_worker.ts): the test calls `startBarrier(seg, n)`;
 *   every worker calls `joinStartBarrier(seg)`, which does nothing if there is no "go".
 */
import type { Segment } from "../../src/segment/segment.ts";
import type { SharedAtomic } from "../../src/structures/atomic.ts";
import { SharedArray } from "../../src/structures/array.ts";
import { i32 } from "../../src/segment/elements.ts";

const nap = new Int32Array(new SharedArrayBuffer(4));

/**
 * Adds 1 to `counter`, then waits (sleeping `napMs` between looks) until it reaches
 * `parties`. Throws if that takes longer than `timeoutMs`.
 */
export function arriveAndWait(counter: SharedAtomic<number>, parties: number, timeoutMs = 30_000, napMs = 1): void {
  counter.add(1);
  const deadline = Date.now() + timeoutMs;
  while (counter.load() < parties) {
    if (Date.now() > deadline) throw new Error(`barrier: only ${counter.load()} of ${parties} processes arrived`);
    Atomics.wait(nap, 0, 0, napMs);
  }
}

/** Test side: makes the next `parties` workers that call `joinStartBarrier` wait for each other. */
export function startBarrier(seg: Segment, parties: number): void {
  SharedArray.create(seg, "go", i32, 2).set(0, parties);
}

/**
 * Worker side: when the test made a "go" array [parties, arrived], arrives and waits
 * (without a time limit) until every party has arrived, and returns true. Returns
 * false at once when there is no "go".
 */
export function joinStartBarrier(seg: Segment): boolean {
  if (!seg.has("go")) return false;
  const go = SharedArray.open(seg, "go", i32).view() as Int32Array;
  Atomics.add(go, 1, 1);
  while (Atomics.load(go, 1) < go[0]) Atomics.wait(nap, 0, 0, 1);
  return true;
}
