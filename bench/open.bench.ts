/**
 * What opening (and closing) a structure handle costs, single process: a Queue or
 * SpscQueue handle binds its native fast paths when it opens (src/structures/
 * fast_path.ts: one native bind call, a state block, closures over it; for a struct
 * a scratch block too), so its open is compared with a SharedArray's, which binds
 * none, in the same run.
 * docs/DECISIONS.md "Fast paths" has the numbers and the trade-off.
 *
 *   deno run -A bench/open.bench.ts    |    bun bench/open.bench.ts
 */
import { bench, group, run, summary } from "mitata";
import { f64, Queue, Segment, SharedArray, SpscQueue, struct, u32 } from "../mod.ts";
import { benchSegmentName } from "./common.ts";

const name = benchSegmentName("open");
Segment.unlink(name);
const seg = Segment.create(name, { size: 8 << 20 });
const P = struct({ x: f64, y: f64, id: u32 });
SharedArray.create(seg, "a", u32, 1024);
Queue.create(seg, "q", u32, 1024);
SpscQueue.create(seg, "s", u32, 1024);
Queue.create(seg, "pq", P, 1024);
SpscQueue.create(seg, "ps", P, 1024);

summary(() => {
  group("open + close a handle", () => {
    bench("SharedArray<u32> (baseline: no native calls bound)", () => SharedArray.open(seg, "a", u32).close()).baseline(true);
    bench("Queue<u32>", () => Queue.open(seg, "q", u32).close());
    bench("SpscQueue<u32>", () => SpscQueue.open(seg, "s", u32).close());
    bench("Queue<struct>", () => Queue.open(seg, "pq", P).close());
    bench("SpscQueue<struct>", () => SpscQueue.open(seg, "ps", P).close());
  });
});

await run();
seg.close();
Segment.unlink(name);
