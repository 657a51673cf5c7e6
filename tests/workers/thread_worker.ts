/**
 * Web Worker for tests/workers_threads.test.ts. Messages:
 * - { op: "attach", seg, then: "close" | "leave" | "stay" }: opens the segment, then
 *   closes it ("close"), ends the Worker without closing it ("leave": self.close()),
 *   or keeps it open until terminated ("stay"); replies "attached".
 * - { op: "view", buffer }: a transferred view buffer (Uint32 elements): writes 1..n
 *   into it after 50 ms (the sender closes its segment meanwhile) and replies its sum.
 * - { op: "pop", seg, n }: pops n u32 from Queue "q" with popWait and replies the count and sum.
 * - { op: "churn", seg }: opens and closes the segment (each a metadata-lock hold) until
 *   terminated, replying "churning" once; yields to the event loop every 50 rounds (a
 *   Deno Worker stops only there, see docs/WAITING.md).
 */
import { Queue, Segment, u32 } from "../../mod.ts";

// deno-lint-ignore no-explicit-any
const w = self as any;
w.onmessage = async (e: MessageEvent) => {
  const d = e.data;
  if (d.op === "attach") {
    const seg = Segment.open(d.seg);
    w.postMessage("attached");
    if (d.then === "close") seg.close();
    else if (d.then === "leave") w.close();
  } else if (d.op === "view") {
    const v = new Uint32Array(d.buffer);
    await new Promise((r) => setTimeout(r, 50));
    let sum = 0;
    for (let i = 0; i < v.length; i++) {
      v[i] = i + 1;
      sum += v[i];
    }
    w.postMessage(sum);
  } else if (d.op === "churn") {
    w.postMessage("churning");
    for (let i = 0;; i++) {
      Segment.open(d.seg).close();
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 0));
    }
  } else if (d.op === "pop") {
    const seg = Segment.open(d.seg);
    const q = Queue.open(seg, "q", u32);
    let sum = 0;
    for (let i = 0; i < d.n; i++) sum += q.popWait();
    seg.close();
    w.postMessage({ count: d.n, sum });
  }
};
