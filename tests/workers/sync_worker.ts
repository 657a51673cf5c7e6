/**
 * Child process for tests/sync.test.ts and tests/wait.test.ts. Runs under Deno and
 * Bun alike; argv[0] selects the mode. Results are JSON on the last stdout line;
 * modes that wait to be killed print a marker line first.
 *
 * Modes:
 *   mutex-count <seg> <iters> <async:0|1>   increment a plain (non-atomic) u32 under the mutex
 *   mutex-hold <seg>                       lock "mu", print "locked", wait to be killed
 *   mutex-lock <seg> <timeoutMs>           lock "mu", report whether it was recovered
 *   barrier <seg> <rounds> <async:0|1>     pass the barrier "bar" `rounds` times, checking nobody ran ahead
 *   sem <seg> <iters> <async:0|1>          acquire "sem", count concurrent holders, release
 *   once-hang <seg>                        run once "once" with an initialiser that never returns
 *   once-run <seg> <timeoutMs>             run once "once"; report whether it ran / recovered
 *   rw-read-hold <seg>                     read-lock "rw", print "reading", wait to be killed
 *   rw-mix <seg> <iters> <async:0|1>       readers/writers checking exclusion on a shared pair
 *   ec-wait <seg> <async:0|1> <timeoutMs>  wait on the eventcount in array "ec" until flag [2] is set
 *   event-wait <seg> <timeoutMs>           wait on SharedEvent "ev"; report
 *   latch-wait <seg> <timeoutMs>           count down latch "latch", wait for it
 *   cv-consumer <seg> <n>                  take n items from a mutex+condvar protected counter
 *   sem-acquire <seg>                      print "ready", wait for SharedEvent "go", acquire "sem" (5 s limit)
 *   sem-hold <seg> <n>                     acquire n permits of "sem", print "holding", wait to be killed
 *   sem-probe <seg>                        release "sem" without holding, then tryAcquire; report the outcomes
 *   barrier-hold <seg>                     arrive at barrier "bar" and wait there (60 s limit) until killed
 */
import {
  Barrier,
  ConditionVariable,
  i32,
  Latch,
  Mutex,
  Once,
  RWLock,
  Segment,
  Semaphore,
  SharedArray,
  SharedEvent,
  u32,
} from "../../mod.ts";
import { waitFor, waitForAsync } from "../../src/wait/wait.ts";
import { args as argv, exit, forever, pid, runtime } from "../helpers/worker.ts";

function report(value: unknown): void {
  console.log(JSON.stringify({ runtime, pid, ...(value as object) }));
}

const [mode, segName, ...rest] = argv;
const seg = Segment.open(segName);

/** When the test made a latch "start", every worker arrives and waits, so the work overlaps. */
function startTogether(): void {
  if (!seg.has("start")) return;
  const l = Latch.open(seg, "start");
  l.countDown();
  l.wait(20_000);
}

switch (mode) {
  case "mutex-count": {
    startTogether();
    const iters = Number(rest[0]);
    const useAsync = rest[1] === "1";
    const mu = Mutex.open(seg, "mu");
    const counter = SharedArray.open(seg, "counter", u32);
    let recovered = 0;
    for (let i = 0; i < iters; i++) {
      using gd = useAsync ? await mu.lockAsync({ timeout: 20_000 }) : mu.lock(20_000);
      if (gd.recovered) recovered++;
      // A plain read-modify-write: only mutual exclusion keeps it exact.
      const v = counter.get(0);
      counter.set(0, v + 1);
    }
    report({ done: iters, recovered });
    break;
  }
  case "mutex-hold": {
    const mu = Mutex.open(seg, "mu");
    mu.lock();
    console.log("locked");
    forever();
    break;
  }
  case "mutex-lock": {
    const mu = Mutex.open(seg, "mu");
    const t0 = performance.now();
    const gd = mu.lock(Number(rest[0]));
    report({ recovered: gd.recovered, ms: performance.now() - t0, last: mu.lastLockRecovered });
    gd.unlock();
    break;
  }
  case "barrier": {
    startTogether();
    const rounds = Number(rest[0]);
    const useAsync = rest[1] === "1";
    const bar = Barrier.open(seg, "bar");
    const progress = SharedArray.open(seg, "progress", i32);
    const me = Number(rest[2]);
    let serial = 0;
    let violations = 0;
    for (let r = 1; r <= rounds; r++) {
      progress.set(me, r);
      const last = useAsync ? await bar.waitAsync({ timeout: 20_000 }) : bar.wait(20_000);
      if (last) serial++;
      // Everyone must have reached round r before anyone passes it.
      for (let j = 0; j < progress.length; j++) if (progress.get(j) < r) violations++;
      // A second barrier keeps fast parties from overwriting progress before slow ones check.
      useAsync ? await bar.waitAsync({ timeout: 20_000 }) : bar.wait(20_000);
    }
    report({ serial, violations });
    break;
  }
  case "sem": {
    startTogether();
    const iters = Number(rest[0]);
    const useAsync = rest[1] === "1";
    const sem = Semaphore.open(seg, "sem");
    const stats = SharedArray.open(seg, "stats", i32); // [0] holders now, [1] max holders, [2] total
    const v = stats.view() as Int32Array;
    for (let i = 0; i < iters; i++) {
      using _p = useAsync ? await sem.acquireAsync({ timeout: 20_000 }) : sem.acquire(20_000);
      const now = Atomics.add(v, 0, 1) + 1;
      for (let m = Atomics.load(v, 1); now > m; m = Atomics.load(v, 1)) Atomics.compareExchange(v, 1, m, now);
      Atomics.add(v, 2, 1);
      for (let k = 0; k < 200; k++) Atomics.load(v, 0); // hold it briefly
      Atomics.sub(v, 0, 1);
    }
    report({ done: iters });
    break;
  }
  case "once-hang": {
    const once = Once.open(seg, "once");
    once.run(() => {
      console.log("initialising");
      const s = new Int32Array(new SharedArrayBuffer(4));
      for (;;) Atomics.wait(s, 0, 0, 1000);
    });
    break;
  }
  case "once-run": {
    const once = Once.open(seg, "once");
    const runs = SharedArray.open(seg, "runs", i32);
    const t0 = performance.now();
    const ran = once.run(() => {
      Atomics.add(runs.view() as Int32Array, 0, 1);
    }, Number(rest[0]));
    report({ ran, recovered: once.lastRunRecovered, ms: performance.now() - t0, done: once.done });
    break;
  }
  case "rw-read-hold": {
    const rw = RWLock.open(seg, "rw");
    rw.readLock();
    console.log("reading");
    forever();
    break;
  }
  case "rw-mix": {
    startTogether();
    const iters = Number(rest[0]);
    const useAsync = rest[1] === "1";
    const rw = RWLock.open(seg, "rw");
    const pair = SharedArray.open(seg, "pair", i32);
    let bad = 0;
    let reads = 0;
    let writes = 0;
    for (let i = 0; i < iters; i++) {
      if (i % 4 === 0) {
        using _w = useAsync ? await rw.writeLockAsync({ timeout: 20_000 }) : rw.writeLock(20_000);
        const a = pair.get(0);
        pair.set(0, a + 1);
        for (let k = 0; k < 100; k++) pair.get(1);
        pair.set(1, a + 1);
        writes++;
      } else {
        using _r = useAsync ? await rw.readLockAsync({ timeout: 20_000 }) : rw.readLock(20_000);
        if (pair.get(0) !== pair.get(1)) bad++;
        reads++;
      }
    }
    report({ bad, reads, writes });
    break;
  }
  case "ec-wait": {
    const useAsync = rest[0] === "1";
    const timeout = Number(rest[1]);
    const ec = SharedArray.open(seg, "ec", i32);
    const v = ec.view() as Int32Array;
    const at = ec.offset + 64; // data of the array: eventcount at [0..1], flag at [2]
    const poll = () => (Atomics.load(v, 2) !== 0 ? Atomics.load(v, 2) : undefined);
    console.log("waiting");
    const t0 = performance.now();
    const r = useAsync
      ? await waitForAsync(seg.memory, at, poll, performance.now() + timeout, undefined, "test")
      : waitFor(seg.memory, at, poll, performance.now() + timeout);
    report({ value: r ?? null, ms: performance.now() - t0 });
    break;
  }
  case "event-wait": {
    const ev = SharedEvent.open(seg, "ev");
    const t0 = performance.now();
    let ok = true;
    try {
      ev.wait(Number(rest[0]));
    } catch {
      ok = false;
    }
    report({ ok, ms: performance.now() - t0 });
    break;
  }
  case "latch-wait": {
    const latch = Latch.open(seg, "latch");
    latch.countDown();
    await latch.waitAsync({ timeout: Number(rest[0]) });
    report({ ok: true });
    break;
  }
  case "cv-consumer": {
    const n = Number(rest[0]);
    const mu = Mutex.open(seg, "mu");
    const cv = ConditionVariable.open(seg, "cv");
    const items = SharedArray.open(seg, "items", i32);
    let got = 0;
    while (got < n) {
      using _g = mu.lock(20_000);
      if (!cv.waitUntil(mu, () => items.get(0) > 0, 20_000)) throw new Error("condvar wait timed out");
      items.set(0, items.get(0) - 1);
      got++;
    }
    report({ got });
    break;
  }
  case "sem-acquire": {
    const sem = Semaphore.open(seg, "sem");
    const go = SharedEvent.open(seg, "go");
    console.log("ready");
    go.wait(10_000);
    const t0 = performance.now();
    let ok = true;
    try {
      sem.acquire(5000);
    } catch {
      ok = false;
    }
    report({ ok, ms: performance.now() - t0 });
    break;
  }
  case "sem-hold": {
    const sem = Semaphore.open(seg, "sem");
    for (let i = 0; i < Number(rest[0]); i++) sem.acquire(5000);
    console.log("holding");
    forever();
    break;
  }
  case "sem-probe": {
    const sem = Semaphore.open(seg, "sem");
    const outcome = (fn: () => unknown) => {
      try {
        return fn();
      } catch (e) {
        return (e as { code?: string }).code ?? String(e);
      }
    };
    const release = outcome(() => sem.release());
    const available = sem.available;
    const tryAcquire = outcome(() => sem.tryAcquire());
    report({ release, available, tryAcquire, held: sem.held });
    break;
  }
  case "barrier-hold": {
    // The test sees the arrival in `bar.arrived` and kills this process while it waits.
    const bar = Barrier.open(seg, "bar");
    bar.wait(60_000);
    report({ passed: true });
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
seg.close();
exit(0);
