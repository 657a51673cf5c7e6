/**
 * Web Worker for tests/wait.test.ts: starts an async wait, aborts it (its helper
 * thread stays parked for up to one slice), closes the segment and reports; the test
 * then terminates this worker while that thread is still parked.
 */
import { i32, Segment, SharedArray } from "../../mod.ts";
import { waitForAsync } from "../../src/wait/wait.ts";

// deno-lint-ignore no-explicit-any
const w = self as any;
w.onmessage = async (e: MessageEvent<string>) => {
  const seg = Segment.open(e.data);
  const a = SharedArray.open(seg, "ec", i32);
  const ac = new AbortController();
  const p = waitForAsync(seg.memory, a.offset + 64, () => undefined, Infinity, ac.signal, "worker wait");
  setTimeout(() => ac.abort(), 20);
  await p.catch(() => {});
  seg.close();
  w.postMessage("aborted");
};
