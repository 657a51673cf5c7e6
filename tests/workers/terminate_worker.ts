/**
 * Web Worker for tests/workers/terminate_driver.ts: opens the segment, says "ready" and
 * then waits (kind: pop | lock | sem | barrier; mode: blocking | async) until the
 * driver terminates it. Whatever it obtains after that would be a bug: it reports it.
 */
import { Barrier, Mutex, Queue, Segment, Semaphore, u32 } from "../../mod.ts";

// deno-lint-ignore no-explicit-any
const w = self as any;
w.onmessage = async (e: MessageEvent<{ seg: string; kind: string; mode: string; entry: string }>) => {
  const { seg: segName, kind, mode, entry } = e.data;
  // Open everything first: a Worker terminated inside a lifecycle operation would leave
  // the segment's metadata lock held by this (live) process (docs/WAITING.md, "Workers").
  const seg = Segment.open(segName);
  const sync = mode === "blocking";
  const q = kind === "pop" ? Queue.open(seg, entry, u32) : undefined;
  const mu = kind === "lock" ? Mutex.open(seg, entry) : undefined;
  const s = kind === "sem" ? Semaphore.open(seg, entry) : undefined;
  const b = kind === "barrier" ? Barrier.open(seg, entry) : undefined;
  w.postMessage("ready");
  let got: unknown;
  if (q) got = sync ? q.popWait() : await q.popAsync();
  else if (mu) got = sync ? mu.lock() : await mu.lockAsync();
  else if (s) got = sync ? s.acquire() : await s.acquireAsync();
  else if (b) got = sync ? b.wait() : await b.waitAsync();
  w.postMessage(`got ${String(got)}`);
};
