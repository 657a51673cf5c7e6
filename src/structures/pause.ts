/**
 * Test-only pause points, so the crash suite (tests/crash.test.ts) can SIGKILL a worker
 * exactly inside a claim window instead of hoping a random kill lands there.
 *
 * `SHMKIT_TEST_PAUSE_AT=<point>` or `<point>:<n>` (read once, when this module loads)
 * makes the n-th (default 1st) pass through `pauseHere(point)` call the handler set
 * with `onPause` (tests print a line and sleep), or by default sleep forever. Structures
 * guard every call with `if (PAUSE_POINT !== undefined)`: a module constant, so without
 * the variable the hot path pays one always-false comparison.
 *
 * Points: `queue.push.claimed`, `queue.pop.claimed` (after the counter CAS, before the
 * slot's sequence store), `ring.put.recorded` (claim record written, before the CAS),
 * `ring.put.claimed`, `ring.take.claimed` (the free-index ring under Stack and
 * ObjectPool), `ring.adopt.won` (a survivor won a dead owner's hold, before its own
 * hold records the index), `stack.push.taken`, `stack.push.linked`, `stack.pop.cas`, `stack.pop.won`,
 * `stack.pop.unlinked` (a node between the ring and the list), `pool.acquire.taken`,
 * `pool.release.freed` (a slot between the ring and its state), `vector.push.reserved`
 * (an index reserved, not published), `ring.read.window` (RingBuffer.read between its
 * tail and head loads), `records.claim.marked` (a claim record's pid CAS won, the
 * claimer's identity not yet written).
 */
import { optionalEnv as env } from "../../ffi/mod.ts";

const spec = env("SHMKIT_TEST_PAUSE_AT");
const colon = spec?.lastIndexOf(":") ?? -1;

/** The pause point named by SHMKIT_TEST_PAUSE_AT, or undefined (the normal case). */
export const PAUSE_POINT: string | undefined = spec === undefined || spec === ""
  ? undefined
  : colon > 0 && /^\d+$/.test(spec.slice(colon + 1))
  ? spec.slice(0, colon)
  : spec;
let remaining = colon > 0 && spec !== undefined && /^\d+$/.test(spec.slice(colon + 1)) ? Number(spec.slice(colon + 1)) : 1;

const cell = new Int32Array(new SharedArrayBuffer(4));
let handler: (point: string) => void = () => {
  for (;;) Atomics.wait(cell, 0, 0, 1000);
};

/** Sets what a reached pause point does (tests: report it, then sleep until killed). */
export function onPause(fn: (point: string) => void): void {
  handler = fn;
}

/** Calls the pause handler on the n-th pass through `point` when it is the configured point. */
export function pauseHere(point: string): void {
  if (point !== PAUSE_POINT) return;
  if (--remaining !== 0) return;
  handler(point);
}
