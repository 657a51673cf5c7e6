/**
 * Child process for tests/ring_buffer.test.ts (Deno and Bun alike). Prints one JSON
 * line with its result.
 *
 * Modes:
 *   produce <seg> <ring> <n> <single|bulk>     push 1..n (f64), spinning while full
 *   consume <seg> <ring> <n> <single|bulk>     pop n values, check they are exactly 1..n in order
 *   overwrite <seg> <ring> <n> [f64]           pushOverwrite n structs (f64: the numbers 1..n), then set
 *                                              the "done" atomic
 *   feed <seg> <ring> <n>                      tryPush structs 1..n, spinning while full, then set the "done" atomic
 *   drain <seg> <ring> [f64]                   pop structs (f64: numbers, through the native tryPop) until
 *                                              "done" is set and the ring is empty; check no duplicate, no
 *                                              reordering, no torn struct
 *   hold <seg> <ring>                          push 1 (f64), claiming the producer role, print
 *                                              "holding", wait to be killed
 */
import { Segment } from "../../src/segment/segment.ts";
import { f64, i32, struct, u32 } from "../../src/segment/elements.ts";
import { SharedAtomic } from "../../src/structures/atomic.ts";
import { RingBuffer } from "../../src/structures/ring_buffer.ts";
import { args as argv, forever } from "../helpers/worker.ts";

const [mode, segName, ringName] = argv;

const Sample = struct({ seq: u32, neg: i32, half: f64, check: u32 });
function sample(seq: number) {
  return { seq, neg: -(seq % 1_000_000), half: seq / 2, check: (seq * 2654435761) >>> 0 };
}
function isWhole(v: { seq: number; neg: number; half: number; check: number }): boolean {
  return v.neg === -(v.seq % 1_000_000) && v.half === v.seq / 2 && v.check === (v.seq * 2654435761) >>> 0;
}

const seg = Segment.open(segName);
const deadline = performance.now() + 20_000;
function timedOut(): boolean {
  return performance.now() > deadline;
}

if (mode === "produce" || mode === "consume") {
  const n = Number(argv[3]);
  const bulk = argv[4] === "bulk";
  const ring = RingBuffer.open(seg, ringName, f64);
  if (mode === "produce") {
    let next = 1;
    let fullSpins = 0;
    const batch = new Float64Array(97); // odd size so batches straddle the wrap point
    while (next <= n && !timedOut()) {
      if (bulk) {
        const k = Math.min(batch.length, n - next + 1);
        for (let i = 0; i < k; i++) batch[i] = next + i;
        const w = ring.pushBulk(k === batch.length ? batch : batch.subarray(0, k));
        next += w;
        if (w === 0) fullSpins++;
      } else if (ring.tryPush(next)) next++;
      else fullSpins++;
    }
    console.log(JSON.stringify({ pushed: next - 1, fullSpins, total: ring.totalWritten }));
  } else {
    let expect = 1;
    let sum = 0;
    let bad = 0;
    const out = new Float64Array(64);
    while (expect <= n && !timedOut()) {
      if (bulk) {
        const k = ring.popBulk(out);
        for (let i = 0; i < k; i++) {
          if (out[i] !== expect) bad++;
          sum += out[i];
          expect++;
        }
      } else {
        const v = ring.tryPop();
        if (v === undefined) continue;
        if (v !== expect) bad++;
        sum += v;
        expect++;
      }
    }
    console.log(JSON.stringify({ popped: expect - 1, sum, bad }));
  }
} else if (mode === "overwrite") {
  const n = Number(argv[3]);
  const done = SharedAtomic.open(seg, "done", i32);
  let dropped = 0;
  if (argv[4] === "f64") {
    const ring = RingBuffer.open(seg, ringName, f64);
    for (let s = 1; s <= n; s++) if (ring.pushOverwrite(s)) dropped++;
  } else {
    const ring = RingBuffer.open(seg, ringName, Sample);
    for (let s = 1; s <= n; s++) if (ring.pushOverwrite(sample(s))) dropped++;
  }
  done.store(1);
  console.log(JSON.stringify({ pushed: n, dropped }));
} else if (mode === "feed") {
  const n = Number(argv[3]);
  const done = SharedAtomic.open(seg, "done", i32);
  const ring = RingBuffer.open(seg, ringName, Sample);
  let full = 0;
  let s = 1;
  for (const v = Sample.create(); s <= n && !timedOut();) {
    v.seq = s, v.neg = -(s % 1_000_000), v.half = s / 2, v.check = (s * 2654435761) >>> 0;
    if (ring.tryPush(v)) s++;
    else full++;
  }
  done.store(1);
  console.log(JSON.stringify({ pushed: s - 1, full }));
} else if (mode === "drain") {
  // f64: the elements are the sequence numbers themselves (whole by construction).
  const numbers = argv[3] === "f64";
  const ring = (numbers ? RingBuffer.open(seg, ringName, f64) : RingBuffer.open(seg, ringName, Sample)) as RingBuffer<unknown>;
  const seqOf = (v: unknown) => (numbers ? v as number : (v as ReturnType<typeof sample>).seq);
  const done = SharedAtomic.open(seg, "done", i32);
  let last = 0;
  let count = 0;
  let notIncreasing = 0;
  let torn = 0;
  let sum = 0;
  const out = new Array(16);
  let turn = 0;
  for (;;) {
    if (timedOut()) break;
    const finished = done.load() === 1;
    // Alternate single and bulk pops so both commit paths race the overwriting producer.
    let k = 0;
    if ((turn++ & 1) === 0) {
      const v = ring.tryPop();
      if (v !== undefined) out[k++] = v;
    } else k = ring.popBulk(out);
    for (let i = 0; i < k; i++) {
      const v = out[i], seq = seqOf(v);
      if (!numbers && !isWhole(v)) torn++;
      if (seq <= last) notIncreasing++;
      last = seq;
      sum += seq;
      count++;
    }
    if (k === 0 && finished) break;
  }
  console.log(JSON.stringify({ count, sum, notIncreasing, torn, last }));
} else if (mode === "hold") {
  const ring = RingBuffer.open(seg, ringName, f64);
  ring.push(1); // claims the producer role
  console.log(ring.isProducer ? "holding" : "not producer");
  forever();
}
if (mode !== "hold") seg.close();
