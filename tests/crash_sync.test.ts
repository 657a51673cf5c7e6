/**
 * Crash suite for the sync primitives not covered by tests/sync.test.ts (RWLock,
 * Barrier, Latch, SharedEvent, ConditionVariable) and for SharedMap / SharedSet
 * (issue 10): worker processes of both runtimes (tests/workers/crash_sync_worker.ts)
 * run tight loops on one primitive while the test SIGKILLs one at a random moment and
 * starts a replacement, KILLS times. Then: every survivor is still making progress
 * (never wedged), exits cleanly when told to stop, and the primitive shows only its
 * documented cost of a kill (a RWLock / Mutex held by the dead is recovered; a Barrier
 * breaks until reset(); a Latch whose counter died never reaches zero, so its waiters
 * time out; a map or set keeps unique keys, written values and a size within one per
 * kill of its contents).
 *
 * SHMKIT_SOAK=1 kills many more times.
 */
import assert from "node:assert/strict";
import {
  Barrier,
  ConditionVariable,
  i32,
  Latch,
  Mutex,
  RWLock,
  type Segment,
  SharedArray,
  SharedEvent,
  SharedMap,
  SharedSet,
  u32,
} from "../mod.ts";
import { flag, runtime, test } from "./harness.ts";
import { throwsCode } from "./helpers/errors.ts";
import { type Child, lastJson, type Runtime, start } from "./helpers/procs.ts";
import { segmentTest } from "./helpers/segments.ts";

const WORKER = new URL("./workers/crash_sync_worker.ts", import.meta.url);
const SOAK = flag("SHMKIT_SOAK");
const KILLS = SOAK ? 150 : 20;
const WORKERS = 3;
const other: Runtime = runtime === "deno" ? "bun" : "deno";
const RUNTIMES: Runtime[] = [runtime, other, other];

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Slot {
  child: Child;
  rt: Runtime;
}

function launch(mode: string, name: string, slot: number): Slot {
  const rt = RUNTIMES[slot % RUNTIMES.length];
  return { child: start(rt, WORKER, [mode, name, String(slot)], 300_000), rt };
}

/**
 * Runs WORKERS workers of `mode`, kills a random one KILLS times (each at a random
 * moment after it reached its loop) and replaces it, then checks that all survivors
 * progress and stop cleanly. Returns the survivors' reports.
 */
async function killLoop(seg: Segment, name: string, mode: string): Promise<Record<string, number>[]> {
  SharedArray.create(seg, "ctl", i32, 1);
  const progress = SharedArray.create(seg, "progress", u32, WORKERS).view() as Uint32Array;
  const slots: Slot[] = [];
  for (let i = 0; i < WORKERS; i++) slots.push(launch(mode, name, i));
  let rnd = 0x1234567 ^ KILLS;
  const random = () => ((rnd = Math.imul(rnd ^ (rnd >>> 13), 0x5bd1e995) >>> 0) / 2 ** 32);
  try {
    await Promise.all(slots.map((s) => s.child.waitForLine((l) => l === "ready")));
    for (let k = 0; k < KILLS; k++) {
      const i = Math.floor(random() * WORKERS);
      await slots[i].child.waitForLine((l) => l === "ready");
      await delay(5 + random() * 60);
      slots[i].child.kill("SIGKILL");
      await slots[i].child.done;
      slots[i] = launch(mode, name, i);
    }
    await Promise.all(slots.map((s) => s.child.waitForLine((l) => l === "ready")));
    // Never wedged: every survivor keeps going.
    const before = Array.from(progress);
    await delay(1_500);
    for (let i = 0; i < WORKERS; i++) {
      assert.ok(progress[i] > before[i], `${mode}: worker ${i} (${slots[i].rt}) made no progress in 1.5 s after the kills`);
    }
    Atomics.store(SharedArray.open(seg, "ctl", i32).view() as Int32Array, 0, 1);
    const reports: Record<string, number>[] = [];
    for (const s of slots) {
      const r = await s.child.done;
      assert.equal(r.code, 0, `${mode} ${s.rt} worker: ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
      reports.push(lastJson<{ counts: Record<string, number> }>(r.stdout).counts);
    }
    return reports;
  } finally {
    for (const s of slots) s.child.kill("SIGKILL");
    await Promise.all(slots.map((s) => s.child.done.catch(() => {})));
  }
}

const TIMEOUT = SOAK ? 1_800_000 : 120_000;

test(
  `crash: RWLock under ${KILLS} kills → survivors progress; a writer killed holding it is recovered`,
  segmentTest("crw", 1 << 20, async (seg, name) => {
    const rw = RWLock.create(seg, "rw", { maxProcesses: 8 });
    SharedArray.create(seg, "pair", u32, 2);
    await killLoop(seg, name, "rwlock");
    // Whatever the kills left behind, the lock is free again for a writer and for readers.
    const w = rw.writeLock(3_000);
    w.unlock();
    const r = rw.readLock(3_000);
    r.unlock();
    assert.equal(rw.writer, 0);
  }),
  { timeout: TIMEOUT },
);

test(
  `crash: Barrier under ${KILLS} kills → survivors progress (BROKEN, reset); afterwards it works again`,
  segmentTest("cbar", 1 << 20, async (seg, name) => {
    const bar = Barrier.create(seg, "bar", 2, { maxProcesses: 8 });
    await killLoop(seg, name, "barrier");
    bar.reset();
    const p = bar.waitAsync({ timeout: 3_000 });
    assert.equal(bar.wait(3_000), true);
    assert.equal(await p, false);
  }),
  { timeout: TIMEOUT },
);

test(
  `crash: Latch under ${KILLS} kills → waiters released or TIMEOUT, never stuck`,
  segmentTest("clat", 1 << 20, async (seg, name) => {
    for (let i = 0; i < 64; i++) Latch.create(seg, `latch.${i}`, 2);
    const reports = await killLoop(seg, name, "latch");
    assert.ok(reports.some((r) => (r.ok ?? 0) > 0), JSON.stringify(reports));
  }),
  { timeout: TIMEOUT },
);

test(
  "crash: a Latch whose counting process is killed never reaches zero: its waiters time out (documented)",
  segmentTest("clat2", 1 << 20, async (seg, name) => {
    SharedArray.create(seg, "ctl", i32, 1);
    SharedArray.create(seg, "progress", u32, 1);
    const late = Latch.create(seg, "late", 2);
    const s = launch("latch-never", name, 0);
    await s.child.waitForLine((l) => l === "ready");
    s.child.kill("SIGKILL");
    await s.child.done;
    late.countDown();
    const t0 = performance.now();
    throwsCode("TIMEOUT", () => late.wait(300));
    assert.ok(performance.now() - t0 < 2_000);
    assert.equal(late.count, 1);
  }),
  { timeout: 60_000 },
);

test(
  `crash: SharedEvent under ${KILLS} kills → survivors progress; set() still releases a waiter`,
  segmentTest("cev", 1 << 20, async (seg, name) => {
    const ev = SharedEvent.create(seg, "ev");
    await killLoop(seg, name, "event");
    ev.set();
    ev.wait(1_000);
    ev.reset();
    assert.equal(ev.tryWait(), false);
  }),
  { timeout: TIMEOUT },
);

test(
  `crash: ConditionVariable + Mutex under ${KILLS} kills → survivors progress; the mutex is recovered, notify still wakes`,
  segmentTest("ccv", 1 << 20, async (seg, name) => {
    const mu = Mutex.create(seg, "mu");
    const cv = ConditionVariable.create(seg, "cv");
    SharedArray.create(seg, "items", i32, 1);
    await killLoop(seg, name, "condvar");
    const g = mu.lock(3_000);
    assert.equal(cv.wait(mu, 20), false); // times out, holds the mutex again
    g.unlock();
    cv.notifyAll();
    assert.equal(mu.locked, false);
  }),
  { timeout: TIMEOUT },
);

test(
  `crash: SharedMap under ${KILLS} kills mid-set/delete → unique keys, written values, size within one per kill`,
  segmentTest("cmap", 1 << 20, async (seg, name) => {
    const m = SharedMap.create(seg, "map", u32, u32, 64);
    await killLoop(seg, name, "map");
    const keys = [...m.keys()];
    assert.equal(new Set(keys).size, keys.length, "duplicate keys");
    for (const [k, v] of m.entries()) assert.equal(v % 1000, k, `key ${k} holds ${v}, which no process wrote`);
    assert.ok(Math.abs(m.size - keys.length) <= KILLS, `size ${m.size} vs ${keys.length} entries`);
    // Not wedged: every key can be written and removed.
    for (let k = 0; k < 32; k++) m.set(k, k);
    for (let k = 0; k < 32; k++) assert.equal(m.delete(k), true);
    m.clear();
    assert.equal(m.size, 0);
  }),
  { timeout: TIMEOUT },
);

test(
  `crash: SharedSet under ${KILLS} kills mid-add/delete → unique keys, size within one per kill, not wedged`,
  segmentTest("cset", 1 << 20, async (seg, name) => {
    const s = SharedSet.create(seg, "set", u32, 64);
    await killLoop(seg, name, "set");
    const keys = [...s.values()];
    assert.equal(new Set(keys).size, keys.length, "duplicate keys");
    assert.ok(keys.every((k) => k < 32), `keys ${keys}`);
    assert.ok(Math.abs(s.size - keys.length) <= KILLS, `size ${s.size} vs ${keys.length} keys`);
    for (let k = 0; k < 32; k++) s.add(k);
    assert.equal([...s.values()].length, 32);
    s.clear();
    assert.equal(s.size, 0);
  }),
  { timeout: TIMEOUT },
);
