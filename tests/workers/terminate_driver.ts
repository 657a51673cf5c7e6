/**
 * Child process for tests/workers_threads.test.ts: `runs` times, starts a Worker that
 * waits (kind, mode: see terminate_worker.ts), terminates it after 0-10 ms, then makes
 * what it waited for available (push, unlock, add a permit, arrive) and checks that
 * the terminated Worker did not take it. Prints one JSON line and exits by itself.
 */
import process from "node:process";
import { Barrier, Mutex, Queue, Segment, Semaphore, u32 } from "../../mod.ts";

const [segName, kind, mode, runsArg] = process.argv.slice(2);
const runs = Number(runsArg);
/** SHMKIT_TERMINATE_GAP_MS: release that long after terminate() instead of at once. */
const gap = Number(process.env.SHMKIT_TERMINATE_GAP_MS ?? 0);
Segment.unlink(segName);
const seg = Segment.create(segName, { size: 1 << 20, unlinkOnLastClose: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let consumed = 0;
let messages = 0;
const t0 = performance.now();
for (let i = 0; i < runs; i++) {
  const entry = `${kind}${i}`;
  const q = kind === "pop" ? Queue.create(seg, entry, u32, 8) : undefined;
  const mu = kind === "lock" ? Mutex.create(seg, entry) : undefined;
  const guard = mu?.lock();
  const sem = kind === "sem" ? Semaphore.create(seg, entry, 0) : undefined;
  const bar = kind === "barrier" ? Barrier.create(seg, entry, 2) : undefined;
  const worker = new Worker(new URL("./terminate_worker.ts", import.meta.url).href, { type: "module" });
  const ready = new Promise<void>((resolve) => {
    worker.onmessage = (ev: MessageEvent<string>) => {
      if (ev.data === "ready") resolve();
      else messages++;
    };
  });
  worker.postMessage({ seg: segName, kind, mode, entry });
  await ready;
  await sleep(i % 11); // terminate in every phase: before, during and after it parks
  worker.terminate();
  // Released at once: the Worker's VM is being torn down right now (the hardest case for Bun).
  if (gap) await sleep(gap);
  if (q) {
    q.push(7);
    await sleep(20);
    if (q.size !== 1) consumed++;
  } else if (mu) {
    guard!.unlock();
    await sleep(20);
    const g = mu.tryLock();
    if (g) g.unlock();
    else consumed++;
  } else if (sem) {
    sem.addPermits(1);
    await sleep(20);
    if (sem.tryAcquire()) sem.release();
    else consumed++;
  } else if (bar) {
    // The Worker's own arrival (made before terminate) may still count: record it.
    try {
      bar.wait(40);
      consumed++;
    } catch {
      // TIMEOUT: nobody else arrived
    }
  }
}
const ms = Math.round(performance.now() - t0);
seg.close();
console.log(JSON.stringify({ runs, consumed, messages, ms, exists: false }));
