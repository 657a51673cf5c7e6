/**
 * Worker for tests/wait.test.ts: `cancel()` on a cancellable wait that has already
 * completed, many times over (select cancels every wait it started, the winner's
 * too). Under Deno this once wrote into the freed job: a heap corruption that aborted
 * the process ("corrupted double-linked list") about once in a dozen select runs.
 * Usage: cancel_worker.ts <rounds>. Prints one JSON line.
 */
import { native } from "../../ffi/mod.ts";
import { Segment } from "../../mod.ts";
import { args } from "../helpers/worker.ts";

const rounds = Number(args[0]);
const n = native();
using seg = Segment.create("cancel-" + crypto.randomUUID().slice(0, 8), { size: 1 << 16, unlinkOnLastClose: true });
const base = seg.memory.base;
const at = 4096; // a word of the heap (0): waiting for 1 returns EAGAIN at once
let again = 0;
for (let i = 0; i < rounds; i++) {
  // Two at once, as a select over two sources: freed jobs pile up in the allocator's
  // free list, where a stray write is fatal rather than silent.
  const ws = [n.futexWaitCancellable(base, at, 1, 1e9), n.futexWaitCancellable(base, at, 1, 1e9)];
  for (const w of ws) if ((await w.promise) === -11) again++;
  for (const w of ws) w.cancel(); // after completion: must touch nothing
}
console.log(JSON.stringify({ rounds, again }));
