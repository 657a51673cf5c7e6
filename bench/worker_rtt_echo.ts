/**
 * Echo Worker for bench/worker_rtt.bench.ts. { mode: "post" }: echoes every message.
 * { mode: "sab", sab }: waits on i32 [0] (ping) with Atomics.wait and stores it into [1]
 * (pong). { mode: "queue", seg }: ping.popWait() → pong.push(). A value of -1 stops the
 * loop (the Worker then returns to its event loop and can be terminated).
 */
import { i32, Queue, Segment } from "../mod.ts";

// deno-lint-ignore no-explicit-any
const w = self as any;
w.onmessage = (e: MessageEvent) => {
  const d = e.data;
  if (d.mode === "post") {
    w.onmessage = (m: MessageEvent) => w.postMessage(m.data);
    w.postMessage("ready");
  } else if (d.mode === "sab") {
    const v = new Int32Array(d.sab);
    w.postMessage("ready");
    let last = 0;
    for (;;) {
      Atomics.wait(v, 0, last);
      const n = Atomics.load(v, 0);
      if (n === last) continue;
      last = n;
      if (n === -1) break;
      Atomics.store(v, 1, n);
      Atomics.notify(v, 1);
    }
  } else if (d.mode === "queue") {
    const seg = Segment.open(d.seg);
    const ping = Queue.open(seg, "ping", i32);
    const pong = Queue.open(seg, "pong", i32);
    w.postMessage("ready");
    for (;;) {
      const n = ping.popWait();
      if (n === -1) break;
      pong.push(n);
    }
    seg.close();
  }
};
