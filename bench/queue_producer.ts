/**
 * Child process for bench/queue.bench.ts: pushes `count` u32 values into a queue
 * (Queue or SpscQueue) in segment `segment`, spinning when full.
 *   queue_producer.ts <segment> <queue> <mpmc|spsc> <count>
 */
import { Queue, Segment, SpscQueue, u32 } from "../mod.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [segName, qName, kind, countArg] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const seg = Segment.open(segName);
const q = kind === "spsc" ? SpscQueue.open(seg, qName, u32) : Queue.open(seg, qName, u32);
const count = Number(countArg);
for (let i = 0; i < count; i++) while (!q.tryPush(i)) { /* full: spin */ }
seg.close();
