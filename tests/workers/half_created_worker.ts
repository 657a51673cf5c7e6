/**
 * Races Segment.openOrCreate on a half-created name (tests/half_created.test.ts).
 *
 *   race <name> <startAtMs>   wait until the wall clock reaches startAtMs, openOrCreate
 *                             the segment, add 1 to its i32 atomic "n", report
 *                             { created, pid } (created: this process's pid is the header's creator)
 */
import { i32, Segment, SharedAtomic } from "../../mod.ts";
import { H } from "../../src/segment/format.ts";
import { args, pid } from "../helpers/worker.ts";

const [mode, name, startAt] = args;
if (mode !== "race") throw new Error(`unknown mode ${mode}`);
while (Date.now() < Number(startAt)) {
  // spin: every racer leaves this loop within a millisecond of the others
}
const seg = Segment.openOrCreate(name, { size: 1 << 16, timeoutMs: 10_000 });
const created = seg.memory.u32[H.creatorPid >> 2] === pid;
SharedAtomic.openOrCreate(seg, "n", i32).add(1);
seg.close();
console.log(JSON.stringify({ created, pid }));
