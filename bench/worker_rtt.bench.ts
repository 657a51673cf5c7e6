/**
 * Main thread ↔ Worker round trip, on mitata: a shmkit Queue (push + popWait, and push +
 * await popAsync) beside `postMessage` and beside a SharedArrayBuffer "ring" (one i32
 * each way, Atomics.wait / Atomics.notify), in the same run. ONE iteration is ONE
 * verified round trip: send n, wait until exactly n comes back. The echo Worker is
 * bench/worker_rtt_echo.ts.
 *
 *   deno run -A bench/worker_rtt.bench.ts        bun bench/worker_rtt.bench.ts
 */
import { bench, run, summary } from "mitata";
import { i32, Queue, Segment } from "../mod.ts";
import { benchSegmentName } from "./common.ts";

const ECHO = new URL("./worker_rtt_echo.ts", import.meta.url).href;

async function echo(setup: Record<string, unknown>): Promise<Worker> {
  const w = new Worker(ECHO, { type: "module" });
  await new Promise<void>((resolve) => {
    w.onmessage = () => resolve();
    w.postMessage(setup);
  });
  return w;
}

const segName = benchSegmentName("worker-rtt");
Segment.unlink(segName);
const seg = Segment.create(segName, { size: 1 << 20 });
const ping = Queue.create(seg, "ping", i32, 64);
const pong = Queue.create(seg, "pong", i32, 64);
const sab = new Int32Array(new SharedArrayBuffer(8));

const post = await echo({ mode: "post" });
const ring = await echo({ mode: "sab", sab: sab.buffer });
const queue = await echo({ mode: "queue", seg: segName });

let n = 0;
summary(() => {
  bench("postMessage round trip (baseline)", async () => {
    const want = ++n;
    await new Promise<void>((resolve, reject) => {
      post.onmessage = (e: MessageEvent<number>) => (e.data === want ? resolve() : reject(new Error(`got ${e.data}`)));
      post.postMessage(want);
    });
  }).baseline(true);
  bench("SharedArrayBuffer ring (Atomics.wait/notify)", () => {
    const want = ++n;
    Atomics.store(sab, 0, want);
    Atomics.notify(sab, 0);
    while (Atomics.load(sab, 1) !== want) Atomics.wait(sab, 1, Atomics.load(sab, 1), 10_000);
  });
  bench("shmkit Queue push + popWait", () => {
    const want = ++n;
    ping.push(want);
    if (pong.popWait(10_000) !== want) throw new Error("lost a round trip");
  });
  bench("shmkit Queue push + await popAsync", async () => {
    const want = ++n;
    ping.push(want);
    if ((await pong.popAsync({ timeout: 10_000 })) !== want) throw new Error("lost a round trip");
  });
});

await run();
Atomics.store(sab, 0, -1);
Atomics.notify(sab, 0);
ping.push(-1);
await new Promise((r) => setTimeout(r, 50));
for (const w of [post, ring, queue]) w.terminate();
seg.close();
Segment.unlink(segName);
