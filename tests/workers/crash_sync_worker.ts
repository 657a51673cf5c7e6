/**
 * Child process for tests/crash_sync.test.ts: runs a tight loop on one primitive (or
 * a SharedMap / SharedSet) until the test sets `ctl[0]` (stop) or SIGKILLs it. Each
 * iteration adds 1 to `progress[slot]`, so the test can tell a wedged survivor from a
 * working one. Prints "ready" once in the loop; on stop, prints a JSON report
 * { counts of each outcome } and exits 0. Any outcome outside the primitive's
 * documented ones is an error: the worker prints it and exits 1.
 *
 *   crash_sync_worker.ts <mode> <seg> <slot>
 *   modes: rwlock, barrier, latch, event, condvar, map, set
 *   latch-never <seg> <slot>   open latch "late", print "ready", never count down (to be killed)
 */
import {
  Barrier,
  ConditionVariable,
  i32,
  Latch,
  Mutex,
  RWLock,
  Segment,
  SharedArray,
  SharedEvent,
  SharedMap,
  SharedSet,
  ShmError,
  u32,
} from "../../mod.ts";
import { args, exit, pid, runtime } from "../helpers/worker.ts";

const [mode, segName, slotArg] = args;
const slot = Number(slotArg);
const seg = Segment.open(segName);
const ctl = SharedArray.open(seg, "ctl", i32).view() as Int32Array; // [stop]
const progress = SharedArray.open(seg, "progress", u32).view() as Uint32Array;
const counts: Record<string, number> = {};
const note = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);

/** Runs fn; documented ShmError codes are counted, anything else ends the worker with an error. */
function attempt(allowed: readonly string[], fn: () => void): void {
  try {
    fn();
    note("ok");
  } catch (e) {
    if (e instanceof ShmError && allowed.includes(e.code)) {
      note(e.code);
      return;
    }
    console.log(`UNEXPECTED ${e instanceof ShmError ? e.code : ""} ${e instanceof Error ? e.stack : String(e)}`);
    exit(1);
  }
}

if (mode === "latch-never") {
  Latch.open(seg, "late");
  console.log("ready");
  setInterval(() => {}, 1 << 30);
}

let step: () => void = () => {};
switch (mode) {
  case "latch-never":
    break;
  case "rwlock": {
    // Writers set the pair [a, b] to the same value; readers check it. A writer killed
    // between the two stores leaves it torn: the next writer that recovers the lock repairs it.
    const rw = RWLock.open(seg, "rw");
    const pair = SharedArray.open(seg, "pair", u32).view() as Uint32Array;
    let i = 0;
    step = () => {
      if (i++ % 3 === 0) {
        attempt(["TIMEOUT"], () => {
          const g = rw.writeLock(2_000);
          if (g.recovered) note("recovered");
          const v = (pid * 1000 + i) >>> 0;
          pair[0] = v;
          pair[1] = v;
          g.unlock();
        });
      } else {
        attempt(["TIMEOUT", "FULL"], () => {
          const g = rw.readLock(2_000);
          const torn = pair[0] !== pair[1];
          g.unlock();
          if (torn && !rw.recoveries) throw new Error(`torn pair ${pair[0]} ${pair[1]} with no writer ever recovered`);
          if (torn) note("torn-after-kill");
        });
      }
    };
    break;
  }
  case "barrier": {
    const bar = Barrier.open(seg, "bar");
    step = () =>
      attempt(["BROKEN", "TIMEOUT", "FULL"], () => {
        try {
          bar.wait(500);
        } catch (e) {
          if (e instanceof ShmError && e.code === "BROKEN") bar.reset();
          throw e;
        }
      });
    break;
  }
  case "latch": {
    // Latch k (k = progress round) starts at 2; each worker counts down the current one and waits.
    let round = 0;
    step = () => {
      const name = `latch.${round++ % 64}`;
      attempt(["TIMEOUT", "NOT_FOUND"], () => {
        const l = Latch.open(seg, name);
        if (l.count > 0) l.countDown();
        l.wait(200);
      });
    };
    break;
  }
  case "event": {
    const ev = SharedEvent.open(seg, "ev");
    let i = 0;
    step = () =>
      attempt(["TIMEOUT"], () => {
        switch (i++ % 4) {
          case 0:
            ev.set();
            break;
          case 1:
            ev.wait(50);
            break;
          case 2:
            ev.reset();
            break;
          default:
            ev.tryWait();
        }
      });
    break;
  }
  case "condvar": {
    // A counter under the mutex: even slots produce, odd slots consume (waiting on the condvar).
    const mu = Mutex.open(seg, "mu");
    const cv = ConditionVariable.open(seg, "cv");
    const items = SharedArray.open(seg, "items", i32).view() as Int32Array;
    step = () =>
      attempt(["TIMEOUT"], () => {
        const g = mu.lock(2_000);
        try {
          if (g.recovered) note("recovered");
          if (slot % 2 === 0) {
            items[0]++;
            cv.notifyOne();
          } else if (items[0] > 0) items[0]--;
          else cv.wait(mu, 50);
          if (items[0] < 0) throw new Error(`item count ${items[0]} < 0`);
        } finally {
          g.unlock();
        }
      });
    break;
  }
  case "map": {
    // Keys 0..31; a value for key k is always k + 1000 * (something): checkable after any kill.
    const m = SharedMap.open(seg, "map", u32, u32);
    let i = 0;
    step = () => {
      const k = (i * 7 + slot) % 32;
      attempt(["FULL"], () => {
        if (i++ % 3 === 2) m.delete(k);
        else m.set(k, k + 1000 * ((pid + i) % 4000));
      });
    };
    break;
  }
  case "set": {
    const s = SharedSet.open(seg, "set", u32);
    let i = 0;
    step = () => {
      const k = (i * 5 + slot) % 32;
      attempt(["FULL"], () => {
        if (i++ % 2 === 1) s.delete(k);
        else s.add(k);
      });
    };
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}

if (mode !== "latch-never") {
  console.log("ready");
  while (Atomics.load(ctl, 0) === 0) {
    step();
    Atomics.add(progress, slot, 1);
  }
  console.log(JSON.stringify({ runtime, pid, mode, counts }));
  seg.close();
}
