/**
 * Multi-process stack worker: `stack_worker.ts <segment> <stack> <workerId> <count>`.
 * Pushes workerId * 2^20 + seq for seq in [0, count), interleaved with pops (pushing
 * when it still has values and the stack has room, popping otherwise or at random),
 * and reports what it popped per producer (count, sum, hash) as one JSON line.
 */
import { Segment, Stack, u32 } from "../../mod.ts";
import { args } from "../helpers/worker.ts";

const [segName, sName, idArg, countArg, producersArg] = args;
const id = Number(idArg);
const count = Number(countArg);
const producers = Number(producersArg);
const seg = Segment.open(segName);
const s = Stack.open(seg, sName, u32);
const SHIFT = 2 ** 20;
const counts = new Array(producers).fill(0);
const sums = new Array(producers).fill(0);
const hashes = new Array(producers).fill(0);
let bad = 0;
let seq = 0;
let rng = id * 7919 + 1;
const deadline = Date.now() + 30_000;
for (let i = 0; seq < count; i++) {
  rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
  if ((rng & 0x300) !== 0 && s.tryPush(id * SHIFT + seq)) {
    seq++;
    continue;
  }
  const v = s.tryPop();
  if (v !== undefined) {
    const p = Math.floor(v / SHIFT);
    if (p >= producers) bad++;
    else {
      counts[p]++;
      sums[p] += v % SHIFT;
      hashes[p] = (hashes[p] + Math.imul(v, 2654435761)) >>> 0;
    }
  }
  if ((i & 0xffff) === 0 && Date.now() > deadline) throw new Error("stack worker timed out");
}
console.log(JSON.stringify({ id, pushed: seq, counts, sums, hashes, bad }));
seg.close();
