/**
 * Sync primitives: single-process semantics, then real processes of both runtimes
 * (tests/workers/sync_worker.ts) contending, dying (SIGKILL) and recovering.
 */
import assert from "node:assert/strict";
import {
  Barrier,
  ConditionVariable,
  i32,
  Latch,
  Mutex,
  Once,
  RWLock,
  Semaphore,
  SharedArray,
  SharedEvent,
  ShmError,
  u32,
} from "../mod.ts";
import { runtime, test } from "./harness.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, run, type Runtime, start } from "./helpers/procs.ts";

const WORKER = new URL("./workers/sync_worker.ts", import.meta.url);
const other: Runtime = runtime === "deno" ? "bun" : "deno";

function withSegment(tag: string, fn: SegmentBody) {
  return segmentTest(tag, 1 << 20, fn, { unlinkFirst: true });
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof ShmError && e.code === code);
}

function throwsWith(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ShmError && e.code === code);
}

// ---------------------------------------------------------------- Mutex

test(
  "mutex: lock, tryLock, using releases, unlock by non-holder is NOT_OWNER",
  withSegment("mu1", (seg) => {
    const mu = Mutex.create(seg, "mu");
    {
      using g = mu.lock();
      assert.equal(g.recovered, false);
      assert.equal(mu.locked, true);
      assert.equal(mu.tryLock(), undefined);
    }
    assert.equal(mu.locked, false);
    throwsWith(() => mu.unlock(), "NOT_OWNER");
    const g = mu.tryLock();
    assert.ok(g);
    g.unlock();
    g.unlock(); // idempotent
    assert.equal(mu.locked, false);
    // Opening with the wrong kind is a TYPE_MISMATCH.
    throwsWith(() => Semaphore.open(seg, "mu"), "TYPE_MISMATCH");
    assert.equal(mu.withLock(() => 42), 42);
  }),
);

test(
  "mutex: timeout fires within tolerance, sync and async",
  withSegment("mu2", async (seg) => {
    const mu = Mutex.create(seg, "mu");
    using _g = mu.lock();
    // Held by this process: another lock attempt here waits like any other locker.
    let t0 = performance.now();
    throwsWith(() => mu.lock(150), "TIMEOUT");
    let ms = performance.now() - t0;
    assert.ok(ms >= 145 && ms < 600, `sync timeout took ${ms} ms`);
    t0 = performance.now();
    await rejectsWith(mu.lockAsync({ timeout: 150 }), "TIMEOUT");
    ms = performance.now() - t0;
    assert.ok(ms >= 145 && ms < 600, `async timeout took ${ms} ms`);
  }),
);

test(
  "mutex: aborting lockAsync rejects ABORTED and leaves the mutex usable",
  withSegment("mu3", async (seg) => {
    const mu = Mutex.create(seg, "mu");
    const g = mu.lock();
    const ac = new AbortController();
    const p = mu.lockAsync({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error("stop")), 50);
    const t0 = performance.now();
    await rejectsWith(p, "ABORTED");
    assert.ok(performance.now() - t0 < 300);
    g.unlock();
    // Still fully usable: an async lock succeeds, a pre-aborted one rejects at once.
    (await mu.lockAsync({ timeout: 1000 })).unlock();
    await rejectsWith(mu.lockAsync({ signal: AbortSignal.abort() }), "ABORTED");
    assert.equal(mu.locked, false);
  }),
);

test(
  "mutex: 2 deno + 2 bun processes keep a plain counter exact",
  withSegment("mu4", async (seg, name) => {
    Mutex.create(seg, "mu");
    const counter = SharedArray.create(seg, "counter", u32, 1);
    const iters = 20_000;
    Latch.create(seg, "start", 4);
    const jobs: [Runtime, string][] = [["deno", "0"], ["deno", "1"], ["bun", "0"], ["bun", "1"]];
    const outs = await Promise.all(jobs.map(([rt, a]) => run(rt, WORKER, ["mutex-count", name, String(iters), a])));
    for (const o of outs) assert.equal(lastJson<{ done: number }>(o).done, iters);
    assert.equal(counter.get(0), iters * jobs.length);
  }),
  { timeout: 60_000 },
);

test(
  "mutex: a holder killed with SIGKILL does not deadlock others (recovered)",
  withSegment("mu5", async (seg, name) => {
    const mu = Mutex.create(seg, "mu");
    const holder = start(other, WORKER, ["mutex-hold", name]);
    await holder.waitForLine((l) => l === "locked");
    assert.equal(mu.owner, holder.pid);
    // A locker in the holder's runtime... and one in ours, racing for the dead lock.
    const waiter = start(runtime, WORKER, ["mutex-lock", name, "5000"]);
    await new Promise((r) => setTimeout(r, 100));
    holder.kill("SIGKILL");
    await holder.done;
    const t0 = performance.now();
    const g = await mu.lockAsync({ timeout: 5000 });
    const ms = performance.now() - t0;
    const recoveredHere = g.recovered;
    assert.equal(mu.lastLockRecovered, recoveredHere);
    g.unlock();
    const r = await waiter.done;
    assert.equal(r.code, 0, r.stderr);
    const w = lastJson<{ recovered: boolean }>(r.stdout);
    // Exactly one of the two lockers took the lock over from the dead holder.
    assert.equal(Number(recoveredHere) + Number(w.recovered), 1, `here ${recoveredHere}, child ${w.recovered}`);
    assert.equal(mu.recoveries, 1);
    assert.ok(ms < 2000, `recovery took ${ms} ms`);
  }),
  { timeout: 30_000 },
);

// ---------------------------------------------------------------- RWLock

test(
  "rwlock: readers share, writers exclude, timeouts and abort",
  withSegment("rw1", async (seg) => {
    const rw = RWLock.create(seg, "rw", { maxProcesses: 8 });
    const r1 = rw.readLock();
    const r2 = rw.readLock();
    assert.equal(rw.readers, 2);
    assert.equal(rw.tryWriteLock(), undefined);
    throwsWith(() => rw.writeLock(50), "TIMEOUT");
    assert.equal(rw.writer, 0, "a timed-out writer releases the writer word");
    r1.unlock();
    r2.unlock();
    {
      using w = rw.writeLock(1000);
      assert.equal(w.recovered, false);
      assert.equal(rw.tryReadLock(), undefined);
      throwsWith(() => rw.readLock(50), "TIMEOUT");
      const ac = new AbortController();
      const p = rw.readLockAsync({ signal: ac.signal });
      ac.abort();
      await rejectsWith(p, "ABORTED");
    }
    assert.equal(rw.readers, 0);
    const r = rw.tryReadLock();
    assert.ok(r);
    // A writer waiting for the reader blocks new readers (writer preference).
    const pw = rw.writeLockAsync({ timeout: 2000 });
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(rw.tryReadLock(), undefined);
    r.unlock();
    (await pw).unlock();
    r.unlock(); // a guard releases once; later calls do nothing
    assert.equal(rw.readers, 0);
  }),
);

test(
  "rwlock: readers and writers of both runtimes never overlap",
  withSegment("rw2", async (seg, name) => {
    RWLock.create(seg, "rw");
    SharedArray.create(seg, "pair", i32, 2);
    Latch.create(seg, "start", 4);
    const jobs: [Runtime, string][] = [["deno", "0"], ["deno", "1"], ["bun", "0"], ["bun", "1"]];
    const outs = await Promise.all(jobs.map(([rt, a]) => run(rt, WORKER, ["rw-mix", name, "4000", a])));
    let writes = 0;
    for (const o of outs) {
      const r = lastJson<{ bad: number; writes: number }>(o);
      assert.equal(r.bad, 0);
      writes += r.writes;
    }
    assert.deepEqual(SharedArray.open(seg, "pair", i32).toArray(), [writes, writes]);
  }),
  { timeout: 60_000 },
);

test(
  "rwlock: a reader killed while reading does not block writers forever",
  withSegment("rw3", async (seg, name) => {
    const rw = RWLock.create(seg, "rw");
    const reader = start(other, WORKER, ["rw-read-hold", name]);
    await reader.waitForLine((l) => l === "reading");
    assert.equal(rw.readers, 1);
    reader.kill("SIGKILL");
    await reader.done;
    const t0 = performance.now();
    const w = await rw.writeLockAsync({ timeout: 3000 });
    assert.equal(w.recovered, true);
    assert.ok(performance.now() - t0 < 1500);
    w.unlock();
    assert.equal(rw.readers, 0);
  }),
  { timeout: 30_000 },
);

// ---------------------------------------------------------------- Semaphore

test(
  "semaphore: permits, tryAcquire, timeout, abort",
  withSegment("sem1", async (seg) => {
    const sem = Semaphore.create(seg, "sem", 2);
    const a = sem.acquire();
    const b = sem.acquire();
    assert.equal(sem.available, 0);
    assert.equal(sem.tryAcquire(), false);
    throwsWith(() => sem.acquire(60), "TIMEOUT");
    const ac = new AbortController();
    const p = sem.acquireAsync({ signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await rejectsWith(p, "ABORTED");
    assert.equal(sem.available, 0, "an aborted acquire takes nothing");
    const q = sem.acquireAsync({ timeout: 2000 });
    a.release();
    a.release(); // once only
    const c = await q;
    assert.equal(sem.available, 0);
    b.release();
    c.release();
    assert.equal(sem.available, 2);
  }),
);

test(
  "semaphore: never over-admits across 2 deno + 2 bun processes",
  withSegment("sem2", async (seg, name) => {
    const permits = 2;
    Semaphore.create(seg, "sem", permits);
    const stats = SharedArray.create(seg, "stats", i32, 3);
    const iters = 5000;
    Latch.create(seg, "start", 4);
    const jobs: [Runtime, string][] = [["deno", "0"], ["deno", "1"], ["bun", "0"], ["bun", "1"]];
    await Promise.all(jobs.map(([rt, a]) => run(rt, WORKER, ["sem", name, String(iters), a])));
    assert.equal(stats.get(2), iters * jobs.length);
    assert.ok(stats.get(1) <= permits, `max holders ${stats.get(1)} > ${permits}`);
    assert.ok(stats.get(1) >= 1);
    assert.equal(stats.get(0), 0);
    assert.equal(Semaphore.open(seg, "sem").available, permits);
  }),
  { timeout: 60_000 },
);

test(
  "semaphore: a wake-one that lands on an aborted async wait is passed on",
  withSegment("sem3", async (seg, name) => {
    const sem = Semaphore.create(seg, "sem", 0);
    const go = SharedEvent.create(seg, "go");
    const child = start(other, WORKER, ["sem-acquire", name]);
    await child.waitForLine((l) => l === "ready");
    // Our aborted wait leaves its helper thread parked (until its slice ends) ahead of the child's.
    const ac = new AbortController();
    const p = sem.acquireAsync({ signal: ac.signal });
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await rejectsWith(p, "ABORTED");
    go.set();
    const waiters = (sem.offset + 64 + 4) >> 2;
    const t0 = performance.now();
    while (Atomics.load(seg.memory.i32, waiters) === 0 && performance.now() - t0 < 3000) {
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 10));
    sem.addPermits(); // wakes one: the kernel picks the abandoned waiter first, which passes the wake on
    const r = await child.done;
    assert.equal(r.code, 0, r.stderr);
    const out = lastJson<{ ok: boolean; ms: number }>(r.stdout);
    assert.equal(out.ok, true, "the child got the permit");
    // Without the pass-on the wake is lost and the child only finds the permit at its 5 s deadline.
    assert.ok(out.ms < 2000, `the child waited ${out.ms} ms for a released permit`);
  }),
  { timeout: 20_000 },
);

// ---------------------------------------------------------------- Barrier

test(
  "barrier: reusable generations, serial party, timeout withdraws",
  withSegment("bar1", async (seg) => {
    const bar = Barrier.create(seg, "bar", 2);
    throwsWith(() => bar.wait(50), "TIMEOUT");
    assert.equal(bar.arrived, 0, "a timed-out party withdraws its arrival");
    for (let round = 0; round < 3; round++) {
      const p = bar.waitAsync({ timeout: 2000 });
      const last = bar.wait(2000); // completes the generation
      assert.equal(last, true);
      assert.equal(await p, false);
    }
    assert.equal(bar.generation, 3);
    const ac = new AbortController();
    const p = bar.waitAsync({ signal: ac.signal });
    ac.abort();
    await rejectsWith(p, "ABORTED");
    assert.equal(bar.arrived, 0);
  }),
);

test(
  "barrier: 2 deno + 2 bun processes pass 200 rounds in lockstep",
  withSegment("bar2", async (seg, name) => {
    Barrier.create(seg, "bar", 4);
    SharedArray.create(seg, "progress", i32, 4);
    const rounds = 200;
    const jobs: [Runtime, string][] = [["deno", "0"], ["bun", "1"], ["deno", "1"], ["bun", "0"]];
    const outs = await Promise.all(jobs.map(([rt, a], i) => run(rt, WORKER, ["barrier", name, String(rounds), a, String(i)])));
    let serial = 0;
    for (const o of outs) {
      const r = lastJson<{ serial: number; violations: number }>(o);
      assert.equal(r.violations, 0);
      serial += r.serial;
    }
    assert.equal(serial, rounds, "exactly one serial party per generation");
  }),
  { timeout: 60_000 },
);

// ---------------------------------------------------------------- Latch, Event, Once, CondVar

test(
  "latch: opens after count-downs, across runtimes",
  withSegment("latch", async (seg, name) => {
    const latch = Latch.create(seg, "latch", 3);
    throwsWith(() => latch.wait(30), "TIMEOUT");
    const kids = [run("deno", WORKER, ["latch-wait", name, "10000"]), run("bun", WORKER, ["latch-wait", name, "10000"])];
    await latch.waitAsync({ timeout: 1000 }).then(() => assert.fail("opened early"), (e) => assert.equal(e.code, "TIMEOUT"));
    latch.countDown();
    for (const o of await Promise.all(kids)) assert.equal(lastJson<{ ok: boolean }>(o).ok, true);
    assert.equal(latch.count, 0);
    latch.wait(0);
    throwsWith(() => latch.countDown(), "OUT_OF_RANGE");
  }),
  { timeout: 30_000 },
);

test(
  "event: manual and auto reset",
  withSegment("ev", async (seg, name) => {
    const ev = SharedEvent.create(seg, "ev");
    throwsWith(() => ev.wait(30), "TIMEOUT");
    const child = start(other, WORKER, ["event-wait", name, "10000"]);
    await new Promise((r) => setTimeout(r, 300));
    ev.set();
    const r = await child.done;
    assert.equal(lastJson<{ ok: boolean }>(r.stdout).ok, true, r.stderr);
    ev.wait(0); // manual: stays set
    assert.equal(ev.isSet, true);
    ev.reset();
    assert.equal(ev.tryWait(), false);

    const auto = SharedEvent.create(seg, "auto", { autoReset: true });
    assert.equal(SharedEvent.open(seg, "auto").autoReset, true);
    const w1 = auto.waitAsync({ timeout: 2000 });
    const w2 = auto.waitAsync({ timeout: 400 });
    await new Promise((r) => setTimeout(r, 30));
    auto.set();
    const results = await Promise.allSettled([w1, w2]);
    // Each set releases exactly one waiter.
    assert.equal(results.filter((x) => x.status === "fulfilled").length, 1);
    assert.equal(auto.isSet, false);
  }),
  { timeout: 30_000 },
);

test(
  "once: runs exactly once; a killed initialiser is taken over",
  withSegment("once", async (seg, name) => {
    Once.create(seg, "once");
    const runs = SharedArray.create(seg, "runs", i32, 1);
    const hung = start(other, WORKER, ["once-hang", name]);
    await hung.waitForLine((l) => l === "initialising");
    const waiters = [start("deno", WORKER, ["once-run", name, "10000"]), start("bun", WORKER, ["once-run", name, "10000"])];
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(runs.get(0), 0, "nobody ran it while the first initialiser lived");
    hung.kill("SIGKILL");
    const rs = (await Promise.all(waiters.map((w) => w.done))).map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return lastJson<{ ran: boolean; recovered: boolean; done: boolean }>(r.stdout);
    });
    assert.equal(rs.filter((r) => r.ran).length, 1);
    assert.equal(rs.filter((r) => r.recovered).length, 1);
    assert.ok(rs.every((r) => r.done));
    assert.equal(runs.get(0), 1);
    const once = Once.open(seg, "once");
    assert.equal(once.run(() => assert.fail("ran twice")), false);
    assert.equal(await once.runAsync(() => assert.fail("ran twice")), false);
    assert.equal(once.recoveries, 1);
  }),
  { timeout: 30_000 },
);

test(
  "once: an initialiser that throws lets another caller retry",
  withSegment("once2", async (seg) => {
    const once = Once.create(seg, "once");
    assert.throws(() =>
      once.run(() => {
        throw new Error("boom");
      }), /boom/);
    assert.equal(once.done, false);
    assert.equal(await once.runAsync(async () => await new Promise((r) => setTimeout(r, 10))), true);
    assert.equal(once.done, true);
  }),
);

test(
  "condvar: producer here, consumer in another runtime",
  withSegment("cv", async (seg, name) => {
    const mu = Mutex.create(seg, "mu");
    const cv = ConditionVariable.create(seg, "cv");
    const items = SharedArray.create(seg, "items", i32, 1);
    const n = 50;
    const consumer = start(other, WORKER, ["cv-consumer", name, String(n)]);
    for (let i = 0; i < n; i++) {
      const g = await mu.lockAsync({ timeout: 5000 });
      items.set(0, items.get(0) + 1);
      cv.notifyOne();
      g.unlock();
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const r = await consumer.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson<{ got: number }>(r.stdout).got, n);
    assert.equal(items.get(0), 0);
    // Timeout returns false with the mutex held again.
    using g = mu.lock();
    assert.equal(cv.wait(mu, 50), false);
    assert.equal(mu.owner > 0, true);
    assert.equal(await cv.waitAsync(mu, { timeout: 50 }), false);
    const ac = new AbortController();
    const p = cv.waitAsync(mu, { signal: ac.signal });
    ac.abort();
    await rejectsWith(p, "ABORTED");
    assert.equal(mu.owner > 0, true, "held again after abort");
    assert.equal(cv.waiters, 0);
    void g;
  }),
  { timeout: 30_000 },
);

// ---------------------------------------------------------------- Semaphore robustness

test(
  "semaphore: permits of a holder killed with SIGKILL are returned (parked and fresh acquirers)",
  withSegment("sem4", async (seg, name) => {
    const sem = Semaphore.create(seg, "sem", 3);
    assert.equal(sem.maxProcesses, 64);
    let holder = start(other, WORKER, ["sem-hold", name, "2"]);
    await holder.waitForLine((l) => l === "holding");
    assert.equal(sem.available, 1);
    // 1) This process takes the free permit, then parks for another; the holder dies meanwhile.
    const t0 = performance.now();
    const a = sem.acquire(2000);
    assert.equal(a.recovered, false);
    const pb = sem.acquireAsync({ timeout: 3000 });
    await new Promise((r) => setTimeout(r, 50));
    holder.kill("SIGKILL");
    await holder.done;
    const b = await pb; // the parked acquirer's periodic re-check returns the dead holder's 2 permits
    assert.equal(b.recovered, true);
    assert.equal(sem.lastAcquireRecovered, true);
    const c = sem.acquire(2000);
    assert.equal(c.recovered, false);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `3 permits took ${ms} ms`);
    assert.equal(sem.held, 3);
    assert.equal(sem.available, 0);
    assert.equal(sem.recoveries, 1);
    for (const p of [a, b, c]) p.release();
    assert.equal(sem.available, 3);
    assert.equal(sem.held, 0);

    // 2) A holder of all 3 dies; a fresh handle's first acquire sweeps before it parks.
    holder = start(other, WORKER, ["sem-hold", name, "3"]);
    await holder.waitForLine((l) => l === "holding");
    holder.kill("SIGKILL");
    await holder.done;
    const fresh = Semaphore.open(seg, "sem");
    const t1 = performance.now();
    const got = [fresh.acquire(2000), fresh.acquire(2000), fresh.acquire(2000)];
    const ms1 = performance.now() - t1;
    assert.deepEqual(got.map((p) => p.recovered), [true, false, false]);
    assert.ok(ms1 < 1000, `recovery before parking took ${ms1} ms`);
    assert.equal(fresh.recoveries, 2);
    assert.equal(fresh.tryAcquire(), false);
    for (const p of got) p.release();
    assert.equal(sem.available, 3);
  }),
  { timeout: 30_000 },
);

test(
  "semaphore: release without holding is NOT_OWNER (here and in another process); addPermits adds unowned permits",
  withSegment("sem5", async (seg, name) => {
    const sem = Semaphore.create(seg, "sem", 2);
    throwsWith(() => sem.release(), "NOT_OWNER");
    assert.equal(sem.available, 2, "a refused release adds nothing");
    const p = sem.acquire();
    assert.equal(sem.held, 1);
    throwsWith(() => sem.release(2), "NOT_OWNER");
    assert.equal(sem.held, 1, "all or nothing");
    assert.equal(sem.available, 1);
    // Another process holds nothing, so it cannot release the permit this one holds.
    const r = await start(other, WORKER, ["sem-probe", name]).done;
    assert.equal(r.code, 0, r.stderr);
    const probe = lastJson<{ release: unknown; available: number; tryAcquire: unknown; held: number }>(r.stdout);
    assert.equal(probe.release, "NOT_OWNER");
    assert.equal(probe.available, 1);
    assert.equal(probe.tryAcquire, true);
    assert.equal(probe.held, 1);
    // The probe exited holding its permit: the next acquirer that finds none returns it.
    assert.equal(sem.available, 0);
    const q = sem.acquire(2000);
    assert.equal(q.recovered, true);
    q.release();
    sem.release(); // a direct release of the permit p stands for...
    throwsWith(() => p.release(), "NOT_OWNER"); // ...so the guard finds nothing left to release
    p.release(); // a guard releases once; later calls do nothing
    assert.equal(sem.held, 0);
    assert.equal(sem.available, 2);

    const zero = Semaphore.create(seg, "zero", 0);
    zero.addPermits(2);
    assert.equal(zero.available, 2);
    assert.equal(zero.held, 0);
    using _z = zero.acquire(0);
    throwsWith(() => zero.addPermits(0x7fffffff), "OUT_OF_RANGE");
    throwsWith(() => zero.release(0), "INVALID_ARGUMENT");
  }),
  { timeout: 30_000 },
);

test(
  "semaphore: maxProcesses holder slots; FULL while they live, a dead holder's slot is taken over",
  withSegment("sem6", async (seg, name) => {
    const sem = Semaphore.create(seg, "sem", 2, { maxProcesses: 1 });
    assert.equal(Semaphore.open(seg, "sem").maxProcesses, 1);
    throwsWith(() => Semaphore.create(seg, "bad", 1, { maxProcesses: 0 }), "INVALID_ARGUMENT");
    const holder = start(other, WORKER, ["sem-hold", name, "1"]);
    await holder.waitForLine((l) => l === "holding");
    holder.kill("SIGKILL");
    await holder.done;
    // The only slot belongs to the dead holder: claiming it returns its permit first.
    const a = sem.acquire(1000);
    assert.equal(sem.recoveries, 1);
    assert.equal(sem.available, 1);
    // Now the slot is this live process's: another process finds no slot.
    const r = await start(other, WORKER, ["sem-probe", name]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson<{ tryAcquire: unknown }>(r.stdout).tryAcquire, "FULL");
    a.release();
    assert.equal(sem.available, 2);
  }),
  { timeout: 30_000 },
);

// ---------------------------------------------------------------- Barrier: broken generations

test(
  "barrier: reset() while a party waits breaks its generation (BROKEN) and starts the next",
  withSegment("bar3", async (seg) => {
    const bar = Barrier.create(seg, "bar", 2, { maxProcesses: 4 });
    assert.equal(bar.maxProcesses, 4);
    bar.reset(); // nobody waits: nothing to do
    assert.equal(bar.generation, 0);
    const p = bar.waitAsync({ timeout: 5000 });
    assert.equal(bar.arrived, 1);
    bar.reset();
    await rejectsWith(p, "BROKEN");
    assert.equal(bar.broken, false);
    assert.equal(bar.arrived, 0);
    assert.equal(bar.generation, 1);
    const q = bar.waitAsync({ timeout: 2000 });
    assert.equal(bar.wait(2000), true);
    assert.equal(await q, false);
  }),
);

test(
  "barrier: a party killed with SIGKILL while waiting breaks the generation (BROKEN within ~1 s); reset() reuses it",
  withSegment("bar4", async (seg, name) => {
    const bar = Barrier.create(seg, "bar", 3);
    assert.equal(bar.maxProcesses, 64);
    const child = start(other, WORKER, ["barrier-hold", name]);
    const t0 = performance.now();
    while (bar.arrived < 1) {
      assert.ok(performance.now() - t0 < 20_000, "the child never arrived");
      await new Promise((r) => setTimeout(r, 10));
    }
    // This process arrives too; the third party never comes.
    let settled = false;
    const p = bar.waitAsync({ timeout: 10_000 });
    p.then(() => (settled = true), () => (settled = true));
    assert.equal(bar.arrived, 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(settled, false, "nothing breaks while both parties are alive");
    assert.equal(bar.broken, false);
    child.kill("SIGKILL");
    const r = await child.done;
    assert.equal(r.signal, "SIGKILL");
    const t1 = performance.now();
    await rejectsWith(p, "BROKEN");
    const ms = performance.now() - t1;
    assert.ok(ms < 1000, `BROKEN took ${ms} ms after the kill`);
    assert.equal(bar.broken, true);
    // A party arriving after the break gets BROKEN too, at once, until reset().
    throwsWith(() => bar.wait(5000), "BROKEN");
    await rejectsWith(bar.waitAsync({ timeout: 5000 }), "BROKEN");
    bar.reset();
    assert.equal(bar.broken, false);
    assert.equal(bar.arrived, 0);
    const a = bar.waitAsync({ timeout: 2000 });
    const b = bar.waitAsync({ timeout: 2000 });
    assert.equal(bar.wait(2000), true);
    assert.deepEqual(await Promise.all([a, b]), [false, false]);
  }),
  { timeout: 30_000 },
);
