/**
 * Crash worker for Queue. Usage:
 *   crash_queue.ts <segment> produce <id>   pushes id * PER_ID + seq, seq = 0, 1, …;
 *                                           after each push that returned, acked[id] = seq + 1
 *   crash_queue.ts <segment> consume        pops (tryPop, popBulk of 5 and, for u32, popBulkInto of 5) and
 *                                           counts each value in seen[]
 *   crash_queue.ts <segment> push1 <v>      one push (with a pause point set: killed inside it)
 *   crash_queue.ts <segment> pop1           one pop, printing the value
 *   crash_queue.ts <segment> hold           claims the SpscQueue producer role and sleeps
 *   crash_queue.ts <segment> bulkloop       pushBulk of 512 then popBulkInto of 512, forever (u32: the
 *                                           native bulk calls; killed inside their runs), after READY <pid>
 * Structures in the segment: Queue "q" (u32, or struct with "struct", or SpscQueue u32 with "spsc", of the
 * struct with "spsc-struct"; a struct element whose fields do not agree exits non-zero), SharedArray
 * "acked" (u32 × MAX_IDS), SharedArray "seen" (u8 × MAX_IDS × PER_ID), SharedAtomic "stop".
 * Prints READY when it is in its loop.
 */
import { Queue, Segment, SharedArray, SharedAtomic, SpscQueue, struct, u32, u8 } from "../../mod.ts";
import { args, pid } from "../helpers/worker.ts";
import { PER_ID, say } from "../helpers/crash_worker.ts";

const [segName, role, arg, variant] = args;
const seg = Segment.open(segName);
const Item = struct({ v: u32, pad: u32, blob: u32 });
// deno-lint-ignore no-explicit-any
const q: Queue<any> | SpscQueue<any> = variant === "struct"
  ? Queue.open(seg, "q", Item)
  : variant === "spsc"
  ? SpscQueue.open(seg, "q", u32)
  : variant === "spsc-struct"
  ? SpscQueue.open(seg, "q", Item)
  : Queue.open(seg, "q", u32);
const structs = variant === "struct" || variant === "spsc-struct";
const wrap = structs ? (v: number) => ({ v, pad: v ^ 0x5a5a, blob: v * 3 }) : (v: number) => v;
// deno-lint-ignore no-explicit-any
const unwrap = structs ? (x: any) => checked(x) : (x: any) => x as number;
/** A struct element's id, after checking its fields agree (a torn or mixed copy would not). */
function checked(x: { v: number; pad: number; blob: number }): number {
  if (x.pad !== (x.v ^ 0x5a5a) || x.blob !== x.v * 3) throw new Error(`torn element ${JSON.stringify(x)}`);
  return x.v;
}

if (role === "bulkloop") {
  // The same values every time (they are not checked): as little JS outside the native runs as possible.
  const vals = Uint32Array.from({ length: 512 }, (_, j) => j), into = new Uint32Array(512);
  say(`READY ${pid}`);
  for (;;) {
    (q as Queue<number>).pushBulk(vals);
    (q as Queue<number>).popBulkInto(into);
  }
} else if (role === "hold") {
  (q as SpscQueue<number>).claimProducer();
  say("READY");
  setInterval(() => {}, 1 << 30);
} else if (role === "push1") {
  say("READY");
  q.push(wrap(Number(arg)));
  say("DONE");
} else if (role === "pop1") {
  say("READY");
  const v = q.tryPop();
  say(`DONE ${v === undefined ? "none" : unwrap(v)}`);
} else {
  const acked = SharedArray.open(seg, "acked", u32).view() as Uint32Array;
  const seen = SharedArray.open(seg, "seen", u8).view() as Uint8Array;
  const stop = SharedAtomic.open(seg, "stop", u32);
  if (role === "produce") {
    const id = Number(arg);
    say("READY");
    let seq = 0;
    while (seq < PER_ID && stop.load() === 0) {
      if ((seq & 3) === 0 && seq + 4 <= PER_ID) {
        const batch = [0, 1, 2, 3].map((k) => wrap(id * PER_ID + seq + k));
        const n = q.pushBulk(batch);
        if (n > 0) {
          seq += n;
          Atomics.store(acked, id, seq);
          continue;
        }
      } else if (q.tryPush(wrap(id * PER_ID + seq))) {
        seq++;
        Atomics.store(acked, id, seq);
        continue;
      }
    }
  } else {
    say("READY");
    const out: unknown[] = [];
    const into = new Uint32Array(5);
    let i = 0;
    while (stop.load() === 0) {
      out.length = 0;
      const step = i++ % 3;
      if (step === 0) {
        const v = q.tryPop();
        if (v !== undefined) out.push(v);
      } else if (step === 1 || structs) q.popBulk(5, out);
      else {
        // Numeric elements: the typed-array pop as well (killed inside its copy, too).
        const k = (q as Queue<number>).popBulkInto(into);
        for (let j = 0; j < k; j++) out.push(into[j]);
      }
      for (const v of out) Atomics.add(seen, unwrap(v), 1);
    }
  }
}
if (role !== "hold") seg.close();
