/**
 * Worker threads (issue 10, docs/RELIABILITY.md "Claim records"): claim records name
 * the owner thread (tid and its start time) when taken in a Worker, so a Worker
 * terminated inside an operation while its process lives is a dead owner: its claim
 * or transit hold is repaired like a killed process's.
 */
import assert from "node:assert/strict";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";
import { ObjectPool, Queue } from "../mod.ts";
import { u32 } from "../mod.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
function setEnv(k: string, v: string | undefined): void {
  if (g.Deno) v === undefined ? g.Deno.env.delete(k) : g.Deno.env.set(k, v);
  else if (v === undefined) delete g.process.env[k];
  else g.process.env[k] = v;
}

/** Starts the thread worker with the pause point set, waits until it is paused there, terminates it. */
async function terminateAt(seg: string, role: string, point: string): Promise<void> {
  setEnv("SHMKIT_TEST_PAUSE_AT", point);
  const w = new Worker(new URL("./workers/crash_thread.ts", import.meta.url).href, { type: "module" });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker thread never reached ${point}`)), 20_000);
      w.onmessage = (e: MessageEvent) => (clearTimeout(timer), resolve(String(e.data)));
      w.onerror = (e: Event) => e.preventDefault(); // the Worker's uncaught exception (Deno) ends it: expected
      w.postMessage({ seg, role, mode: g.Deno ? "throw" : "block" });
    });
    assert.equal(line, `PAUSED ${point}`);
  } finally {
    setEnv("SHMKIT_TEST_PAUSE_AT", undefined);
    w.terminate();
  }
  // Bun ends a terminated Worker's thread within 10 ms; Deno ends a Worker whose code threw (measured).
  await new Promise((r) => setTimeout(r, 100));
}

test(
  "crash thread: a Worker terminated inside a Queue pop (its process alive) costs no capacity",
  segmentTest("crash-thr-q", 1 << 20, async (seg, name) => {
    const q = Queue.create(seg, "q", u32, 4);
    for (let i = 1; i <= 4; i++) q.push(i);
    await terminateAt(name, "pop1", "queue.pop.claimed");
    assert.deepEqual([q.pop(), q.pop(), q.pop()], [2, 3, 4]);
    q.pushWait(5, 5_000); // the dead thread's slot is handed back
    assert.equal(q.stats.recoveredPops, 1);
    for (let i = 6; i <= 8; i++) q.push(i);
    assert.equal(q.tryPush(9), false);
  }),
  { timeout: 60_000 },
);

test(
  "crash thread: a Worker terminated holding an ObjectPool slot in transit costs no slot",
  segmentTest("crash-thr-p", 1 << 20, async (seg, name) => {
    const p = ObjectPool.create(seg, "p", u32, 2);
    await terminateAt(name, "acquire1", "pool.acquire.taken");
    const a = p.acquireWait(5_000);
    const b = p.acquireWait(5_000);
    assert.notEqual(p.slotOf(a), p.slotOf(b));
    assert.equal(p.acquire(), undefined);
    assert.equal(p.stats.recovered, 1);
  }),
  { timeout: 60_000 },
);
