/**
 * Web Worker for tests/crash_thread.test.ts: a thread of a live process that is
 * terminated inside an operation. The test sets SHMKIT_TEST_PAUSE_AT before starting
 * it (this isolate reads it when it loads src/structures/pause.ts). Message
 * { seg, role }: "pop1" pops once from Queue "q" (u32); "acquire1" acquires once from
 * ObjectPool "p" (u32). Posts "PAUSED <point>" at the pause point, then blocks there.
 */
import { ObjectPool, Queue, Segment, u32 } from "../../mod.ts";
import { onPause } from "../../src/structures/pause.ts";

// deno-lint-ignore no-explicit-any
const w = self as any;
const cell = new Int32Array(new SharedArrayBuffer(4));
let mode = "block";
onPause((point) => {
  w.postMessage(`PAUSED ${point}`);
  // Deno does not stop a Worker that is busy inside a call (measured: terminate() leaves its
  // thread running); an uncaught exception ends the Worker's thread in both runtimes.
  if (mode === "throw") throw new Error("the Worker ends inside the operation");
  for (;;) Atomics.wait(cell, 0, 0, 50);
});
w.onmessage = (e: MessageEvent) => {
  const d = e.data;
  mode = d.mode;
  const seg = Segment.open(d.seg);
  if (d.role === "pop1") w.postMessage(`DONE ${Queue.open(seg, "q", u32).tryPop()}`);
  else w.postMessage(`DONE ${ObjectPool.open(seg, "p", u32).acquire()}`);
};
