/**
 * Blocking and async forms of the structures (popWait/pushWait/popAsync/pushAsync
 * and friends), across real processes of both runtimes.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { BroadcastRing, ObjectPool, Queue, RingBuffer, type Segment, ShmError, SpscQueue, Stack, u32 } from "../mod.ts";
import { ASYNC_SPIN, asyncSpinOf, waiterCount } from "../src/wait/wait.ts";
import { runtime, test } from "./harness.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, run, type Runtime, start } from "./helpers/procs.ts";

const WORKER = new URL("./workers/blocking_worker.ts", import.meta.url);

function withQueue(capacity: number, fn: (seg: Segment, name: string, q: Queue<number>) => unknown) {
  return segmentTest("blk", 1 << 20, (seg, name) => fn(seg, name, Queue.create(seg, "q", u32, capacity)), { unlinkFirst: true });
}

/** Byte offsets of the queue's eventcounts (see the layout in src/structures/queue.ts). */
const notEmptyAt = (q: Queue<number>) => q.offset + 64 + 8;
const notFullAt = (q: Queue<number>) => q.offset + 64 + 72;

const isCode = (code: string) => (e: unknown) => e instanceof ShmError && e.code === code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const rt of ["deno", "bun"] as Runtime[]) {
  for (const mode of ["0", "1"]) {
    const form = mode === "1" ? "popAsync" : "popWait";
    test(
      `queue: a ${rt} consumer parked in ${form} wakes when this ${runtime} process pushes`,
      withQueue(8, async (seg, name, q) => {
        const child = start(rt, WORKER, ["q-pop", name, mode, "1", "10000"]);
        await child.waitForLine((l) => l === "ready");
        const t0 = performance.now();
        while (waiterCount(seg.memory, notEmptyAt(q)) === 0 && performance.now() - t0 < 5000) await sleep(5);
        assert.equal(waiterCount(seg.memory, notEmptyAt(q)), 1, "the consumer is parked");
        await sleep(100);
        q.push(42);
        const r = await child.done;
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(lastJson<{ values: number[] }>(r.stdout).values, [42]);
        assert.equal(waiterCount(seg.memory, notEmptyAt(q)), 0);
        assert.equal(q.size, 0);
      }),
      { timeout: 20_000 },
    );
  }
}

test(
  "queue: 2 producers and 2 consumers (deno + bun, blocking + async) through a 4-slot queue",
  withQueue(4, async (_seg, name, q) => {
    const per = 1500;
    const consumers = [
      start("deno", WORKER, ["q-pop", name, "1", String(per), "20000"]),
      start("bun", WORKER, ["q-pop", name, "0", String(per), "20000"]),
    ];
    const producers = [
      run("bun", WORKER, ["q-push", name, "1", "0", String(per)]),
      run("deno", WORKER, ["q-push", name, "0", String(per), String(per)]),
    ];
    await Promise.all(producers);
    const seen = new Set<number>();
    for (const c of consumers) {
      const r = await c.done;
      assert.equal(r.code, 0, r.stderr);
      for (const v of lastJson<{ values: number[] }>(r.stdout).values) {
        assert.ok(!seen.has(v), `value ${v} popped twice`);
        seen.add(v);
      }
    }
    assert.equal(seen.size, 2 * per, "every value popped exactly once");
    assert.equal(q.size, 0);
  }),
  { timeout: 60_000 },
);

test(
  "queue: popWait/popAsync time out within tolerance; pushWait on a full queue too",
  withQueue(2, async (seg, _n, q) => {
    let t0 = performance.now();
    assert.throws(() => q.popWait(120), isCode("TIMEOUT"));
    let ms = performance.now() - t0;
    assert.ok(ms >= 119 && ms < 400, `popWait took ${ms}`);
    t0 = performance.now();
    await assert.rejects(q.popAsync({ timeout: 120 }), isCode("TIMEOUT"));
    ms = performance.now() - t0;
    assert.ok(ms >= 119 && ms < 400, `popAsync took ${ms}`);
    q.push(1);
    q.push(2);
    assert.throws(() => q.pushWait(3, 50), isCode("TIMEOUT"));
    await assert.rejects(q.pushAsync(3, { timeout: 50 }), isCode("TIMEOUT"));
    // A pending pushAsync completes when a consumer makes room.
    const p = q.pushAsync(3, { timeout: 2000 });
    await sleep(20);
    assert.equal(waiterCount(seg.memory, notFullAt(q)), 1);
    assert.equal(q.popWait(0), 1);
    await p;
    assert.deepEqual([q.popWait(), q.popWait()], [2, 3]);
    assert.equal(waiterCount(seg.memory, notFullAt(q)), 0);
  }),
);

test(
  "queue: aborting popAsync/pushAsync rejects ABORTED and leaves the queue intact",
  withQueue(1, async (seg, _n, q) => {
    const ac = new AbortController();
    const p = q.popAsync({ signal: ac.signal });
    await sleep(20);
    ac.abort();
    await assert.rejects(p, isCode("ABORTED"));
    assert.equal(waiterCount(seg.memory, notEmptyAt(q)), 0);
    q.push(7);
    assert.equal(q.size, 1, "the aborted pop took nothing");
    const ac2 = new AbortController();
    const p2 = q.pushAsync(8, { signal: ac2.signal });
    await sleep(20);
    ac2.abort();
    await assert.rejects(p2, isCode("ABORTED"));
    assert.equal(q.size, 1, "the aborted push added nothing");
    assert.equal(await q.popAsync({ timeout: 1000 }), 7);
    await assert.rejects(q.popAsync({ signal: AbortSignal.abort() }), isCode("ABORTED"));
    // Still works after aborts: a wake reaches a new waiter.
    const p3 = q.popAsync({ timeout: 2000 });
    await sleep(20);
    q.push(9);
    assert.equal(await p3, 9);
  }),
);

test(
  `queue: a parked popAsync uses no CPU and timers keep firing (${runtime})`,
  withQueue(4, async (_seg, _n, q) => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const u0 = process.cpuUsage();
    await assert.rejects(q.popAsync({ timeout: 1000 }), isCode("TIMEOUT"));
    const u = process.cpuUsage(u0);
    clearInterval(timer);
    const cpu = (u.user + u.system) / 1000;
    console.log(`popAsync parked 1 s (${runtime}): ${cpu.toFixed(1)} ms CPU, ${ticks} timer ticks`);
    assert.ok(cpu < 100, `used ${cpu} ms CPU`);
    assert.ok(ticks >= 30, `only ${ticks} ticks`);
  }),
  { timeout: 10_000 },
);

test(
  "queue & co: the spin option is validated (INVALID_ARGUMENT), blocking waits take a number or options",
  withQueue(2, async (seg, _n, q) => {
    const bad: unknown[] = [-1, NaN, "3", null, {}, -Infinity];
    for (const spin of bad) {
      const o = { spin } as unknown as { spin: number };
      await assert.rejects(q.popAsync(o), isCode("INVALID_ARGUMENT"), `popAsync spin ${String(spin)}`);
      await assert.rejects(q.pushAsync(1, o), isCode("INVALID_ARGUMENT"), `pushAsync spin ${String(spin)}`);
      assert.throws(() => q.popWait(o), isCode("INVALID_ARGUMENT"), `popWait spin ${String(spin)}`);
      assert.throws(() => q.pushWait(1, o), isCode("INVALID_ARGUMENT"), `pushWait spin ${String(spin)}`);
    }
    assert.equal(q.size, 0, "nothing pushed by a rejected call");
    const s = Stack.create(seg, "s", u32, 2);
    await assert.rejects(s.popAsync({ spin: -5 }), isCode("INVALID_ARGUMENT"));
    assert.throws(() => s.popWait({ spin: -5 }), isCode("INVALID_ARGUMENT"));
    const ring = RingBuffer.create(seg, "r", u32, 4);
    await assert.rejects(ring.popAsync({ spin: -5 }), isCode("INVALID_ARGUMENT"));
    // Valid forms: a plain timeout (the original signature), options, spin 0, a huge spin.
    assert.throws(() => q.popWait(20), isCode("TIMEOUT"));
    assert.throws(
      () => q.popWait({ timeout: 20, spin: 0 }),
      (e: unknown) => isCode("TIMEOUT")(e) && /after 20 ms/.test(String(e)),
    );
    await assert.rejects(q.popAsync({ timeout: 20, spin: Infinity }), isCode("TIMEOUT"));
    q.pushWait(1, { spin: 0 });
    q.pushWait(2, 100);
    assert.throws(() => q.pushWait(3, { timeout: 10, spin: 1e9 }), isCode("TIMEOUT"));
    assert.deepEqual([q.popWait({ spin: 0 }), await q.popAsync({ spin: 0 })], [1, 2]);
    assert.throws(() => s.popWait({ timeout: 10, spin: 0 }), isCode("TIMEOUT"));
  }),
);

test(
  "queue: popAsync({ spin: 0 }) registers and parks at once, and leaves the adaptive spin alone",
  withQueue(4, async (seg, _n, q) => {
    const at = notEmptyAt(q);
    const t0 = performance.now();
    const p = q.popAsync({ spin: 0, timeout: 2000 });
    const syncMs = performance.now() - t0;
    assert.equal(waiterCount(seg.memory, at), 1, "registered before the first await");
    q.push(11);
    assert.equal(await p, 11);
    assert.equal(asyncSpinOf(seg.memory, at), ASYNC_SPIN);
    assert.ok(syncMs < 5, `the call blocked ${syncMs} ms`);
  }),
);

test(
  `queue: after a burst of fast round trips the adaptive spin shrinks back; idle popAsync costs no CPU (${runtime})`,
  withQueue(4, async (seg, _n, q) => {
    const at = notEmptyAt(q);
    // A burst: each popAsync finds the queue empty, parks, and the element arrives right
    // after (pushed as soon as the call returns), so its parks are short: the spin grows.
    let grown = ASYNC_SPIN;
    for (let i = 0; i < 50; i++) {
      const p = q.popAsync({ timeout: 2000 });
      q.push(i);
      assert.equal(await p, i);
      grown = Math.max(grown, asyncSpinOf(seg.memory, at));
    }
    console.log(`adaptive spin after the burst (${runtime}): up to ${grown} polls, now ${asyncSpinOf(seg.memory, at)}`);
    assert.ok(grown > ASYNC_SPIN, "fast parks grew the spin");
    // Then idle: one wait spins (≤ 50 µs) and parks for a second; the spin is back to the minimum.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const u0 = process.cpuUsage();
    await assert.rejects(q.popAsync({ timeout: 1000 }), isCode("TIMEOUT"));
    const u = process.cpuUsage(u0);
    clearInterval(timer);
    const cpu = (u.user + u.system) / 1000;
    console.log(`popAsync parked 1 s after a burst (${runtime}): ${cpu.toFixed(1)} ms CPU, ${ticks} timer ticks`);
    assert.equal(asyncSpinOf(seg.memory, at), ASYNC_SPIN);
    assert.ok(cpu < 100, `used ${cpu} ms CPU`);
    assert.ok(ticks >= 30, `only ${ticks} ticks`);
  }),
  { timeout: 10_000 },
);

function withSegment(fn: SegmentBody) {
  return segmentTest("blk2", 1 << 20, fn, { unlinkFirst: true });
}

const other: Runtime = runtime === "deno" ? "bun" : "deno";

test(
  "stack: popWait/popAsync/pushWait/pushAsync, timeouts, abort",
  withSegment(async (seg) => {
    const s = Stack.create(seg, "s", u32, 2);
    assert.throws(() => s.popWait(30), isCode("TIMEOUT"));
    const p = s.popAsync({ timeout: 2000 });
    await sleep(20);
    s.push(5);
    assert.equal(await p, 5);
    s.push(1);
    s.push(2);
    assert.throws(() => s.pushWait(3, 30), isCode("TIMEOUT"));
    const ac = new AbortController();
    const pa = s.pushAsync(3, { signal: ac.signal });
    ac.abort();
    await assert.rejects(pa, isCode("ABORTED"));
    const pw = s.pushAsync(4, { timeout: 2000 });
    await sleep(20);
    assert.equal(s.popWait(), 2);
    await pw;
    assert.deepEqual([s.popWait(0), s.popWait(0)], [4, 1]);
  }),
);

test(
  "pool: acquireWait/acquireAsync park until a slot is released (here and in another runtime)",
  withSegment(async (seg, name) => {
    const pool = ObjectPool.create(seg, "pool", u32, 1);
    const h = pool.acquireWait(100);
    assert.throws(() => pool.acquireWait(30), isCode("TIMEOUT"));
    await assert.rejects(pool.acquireAsync({ timeout: 30 }), isCode("TIMEOUT"));
    const ac = new AbortController();
    const pa = pool.acquireAsync({ signal: ac.signal });
    ac.abort();
    await assert.rejects(pa, isCode("ABORTED"));
    const p = pool.acquireAsync({ timeout: 2000 });
    await sleep(20);
    pool.release(h);
    const h2 = await p;
    assert.equal(pool.available, 0);
    pool.release(h2);
    // Another runtime holds the only slot; our blocking acquire parks until it releases.
    const child = start(other, WORKER, ["pool-hold", name, "300"]);
    await child.waitForLine((l) => l === "holding");
    const t0 = performance.now();
    const h3 = pool.acquireWait(5000);
    const ms = performance.now() - t0;
    assert.ok(ms > 100 && ms < 2000, `acquired after ${ms} ms`);
    pool.release(h3);
    assert.equal((await child.done).code, 0);
  }),
  { timeout: 20_000 },
);

test(
  "spsc queue: a consumer in another runtime parks in popAsync and gets every value",
  withSegment(async (seg, name) => {
    const sq = SpscQueue.create(seg, "spsc", u32, 4);
    const n = 500;
    const child = start(other, WORKER, ["spsc-pop", name, String(n)]);
    await child.waitForLine((l) => l === "ready");
    await sleep(50);
    for (let i = 0; i < n; i++) {
      if (i % 100 === 0) await sleep(20); // let the consumer park now and then
      await sq.pushAsync(i, { timeout: 10_000 });
    }
    const r = await child.done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson<{ values: number[] }>(r.stdout).values, Array.from({ length: n }, (_, i) => i));
    assert.throws(() => sq.popWait(20), isCode("TIMEOUT"));
  }),
  { timeout: 30_000 },
);

test(
  "ring buffer: popWait/popAsync/pushWait/pushAsync, timeouts, abort",
  withSegment(async (seg) => {
    const ring = RingBuffer.create(seg, "ring", u32, 2);
    assert.throws(() => ring.popWait(30), isCode("TIMEOUT"));
    const ac = new AbortController();
    const pa = ring.popAsync({ signal: ac.signal });
    ac.abort();
    await assert.rejects(pa, isCode("ABORTED"));
    const p = ring.popAsync({ timeout: 2000 });
    await sleep(20);
    ring.push(7);
    assert.equal(await p, 7);
    ring.push(1);
    ring.push(2);
    await assert.rejects(ring.pushAsync(3, { timeout: 30 }), isCode("TIMEOUT"));
    const pw = ring.pushAsync(3, { timeout: 2000 });
    await sleep(20);
    assert.equal(ring.popWait(), 1);
    await pw;
    assert.deepEqual([ring.popWait(0), ring.popWait(0)], [2, 3]);
  }),
);

test(
  "broadcast: readers in both runtimes iterate with for await while this process publishes",
  withSegment(async (seg, name) => {
    const ring = BroadcastRing.create(seg, "bc", u32, 64);
    const n = 200;
    const kids = [start("deno", WORKER, ["bc-read", name, String(n)]), start("bun", WORKER, ["bc-read", name, String(n)])];
    for (const k of kids) await k.waitForLine((l) => l === "ready");
    await sleep(100); // both parked
    for (let i = 0; i < n; i++) {
      ring.publish(i);
      if (i % 20 === 0) await sleep(5);
    }
    for (const k of kids) {
      const r = await k.done;
      assert.equal(r.code, 0, r.stderr);
      const out = lastJson<{ values: number[]; missed: number }>(r.stdout);
      assert.equal(out.missed, 0);
      assert.deepEqual(out.values, Array.from({ length: n }, (_, i) => i));
    }
    // In-process: for await, readWait timeout, readAsync abort, and the loop ending on close.
    const reader = ring.reader();
    assert.throws(() => reader.readWait(20), isCode("TIMEOUT"));
    const ac = new AbortController();
    const pa = reader.readAsync({ signal: ac.signal });
    ac.abort();
    await assert.rejects(pa, isCode("ABORTED"));
    const got: number[] = [];
    const loop = (async () => {
      for await (const v of reader) got.push(v);
    })();
    ring.publish(1000);
    await sleep(30);
    ring.publish(1001);
    await sleep(30);
    reader.close();
    await loop; // ends with done once the reader is closed
    assert.deepEqual(got, [1000, 1001]);
  }),
  { timeout: 30_000 },
);
