/**
 * Multi-process queue worker. Usage:
 *   queue_worker.ts <segment> <queue> produce <producerId> <count> [spsc]
 *   queue_worker.ts <segment> <queue> consume <total> <producers> [spsc]
 *   variant `bulk` (Queue) or `spsc-bulk` (SpscQueue): producers use pushBulk only (runs
 *   of 1 to 70, plain arrays and Uint32Arrays in turn), consumers popBulk and popBulkInto
 *   only (1 to 100 per call; popBulkInto into a Float64Array and, for SpscQueue, also
 *   into a Uint32Array, its own kind's copy).
 * Producers push producerId * 2^20 + seq for seq in [0, count). Consumers pop until the
 * shared "taken" counter reaches `total`, and report per producer: count, sum, order
 * violations (a value not greater than the previous one from the same producer).
 * Prints one JSON line.
 */
import { Queue, Segment, SharedAtomic, SpscQueue, u32 } from "../../mod.ts";
import { args } from "../helpers/worker.ts";

const [segName, qName, role, a, b, variant] = args;
const seg = Segment.open(segName);
const spsc = variant === "spsc" || variant === "spsc-bulk";
const q: Queue<number> | SpscQueue<number> = spsc ? SpscQueue.open(seg, qName, u32) : Queue.open(seg, qName, u32);
const bulk = variant === "bulk" || variant === "spsc-bulk";
const deadline = Date.now() + 30_000;
const SHIFT = 2 ** 20;

if (role === "produce") {
  const id = Number(a);
  const count = Number(b);
  let fullSpins = 0;
  if (bulk) {
    const typed = new Uint32Array(70);
    let calls = 0;
    for (let seq = 0; seq < count;) {
      const k = Math.min(count - seq, 1 + ((calls * 37) % 70));
      const vs: ArrayLike<number> = (calls++ & 1) === 0
        ? Array.from({ length: k }, (_, j) => id * SHIFT + seq + j)
        : typed.subarray(0, k).map((_, j) => id * SHIFT + seq + j);
      const n = q.pushBulk(vs);
      seq += n;
      if (n === 0 && (++fullSpins & 0xffff) === 0 && Date.now() > deadline) throw new Error("producer timed out");
    }
  }
  for (let seq = bulk ? count : 0; seq < count; seq++) {
    while (!q.tryPush(id * SHIFT + seq)) {
      fullSpins++;
      if ((fullSpins & 0xffff) === 0 && Date.now() > deadline) throw new Error("producer timed out");
    }
  }
  console.log(JSON.stringify({ role, id, pushed: count, fullSpins }));
} else {
  const total = Number(a);
  const producers = Number(b);
  const taken = SharedAtomic.open(seg, `${qName}.taken`, u32);
  const counts = new Array(producers).fill(0);
  const sums = new Array(producers).fill(0);
  const last = new Array(producers).fill(-1);
  let orderViolations = 0;
  let bad = 0;
  let spins = 0;
  const batch: number[] = [];
  const into = new Float64Array(100);
  const own = new Uint32Array(100);
  for (;;) {
    // Mix single pops and bulk pops so both paths are exercised under contention.
    batch.length = 0;
    if (bulk) {
      const max = 1 + ((spins * 29) % 100);
      if ((spins & 1) === 0) q.popBulk(max, batch);
      else {
        const target = spsc && (spins & 2) === 0 ? own : into;
        const k = q.popBulkInto(target.subarray(0, max));
        for (let j = 0; j < k; j++) batch.push(target[j]);
      }
    } else if ((spins & 1) === 0) {
      const v = q.tryPop();
      if (v !== undefined) batch.push(v);
    } else {
      q.popBulk(8, batch);
    }
    if (batch.length === 0) {
      if (taken.load() >= total) break;
      if ((++spins & 0xffff) === 0 && Date.now() > deadline) throw new Error(`consumer timed out at ${taken.load()}/${total}`);
      continue;
    }
    spins++;
    for (const v of batch) {
      const p = Math.floor(v / SHIFT);
      const seq = v % SHIFT;
      if (p >= producers) {
        bad++;
        continue;
      }
      counts[p]++;
      sums[p] += seq;
      if (seq <= last[p]) orderViolations++;
      last[p] = seq;
    }
    taken.add(batch.length);
  }
  console.log(JSON.stringify({ role, counts, sums, orderViolations, bad }));
}
seg.close();
