/**
 * select (src/wait/select.ts): waiting on several queues, rings, stacks, pools and
 * broadcast readers at once takes from exactly one, and an aborted or timed-out select
 * takes nothing.
 */
import assert from "node:assert/strict";
import {
  BroadcastRing,
  ObjectPool,
  Queue,
  RingBuffer,
  select,
  type SelectSource,
  ShmError,
  SpscQueue,
  Stack,
  u32,
} from "../mod.ts";
import { runtime, test } from "./harness.ts";
import { lastJson, start } from "./helpers/procs.ts";
import { segmentTest } from "./helpers/segments.ts";

const PRODUCER = new URL("./workers/queue_worker.ts", import.meta.url);
const SHIFT = 2 ** 20;

test(
  "select: two queues filled by two processes, 100,000 selects deliver every element once",
  segmentTest("sel", 1 << 20, async (seg, name) => {
    const qs = [Queue.create(seg, "a", u32, 1024), Queue.create(seg, "b", u32, 1024)];
    const per = 50_000;
    const kids = [
      start(runtime, PRODUCER, [name, "a", "produce", "0", String(per)]),
      start(runtime, PRODUCER, [name, "b", "produce", "1", String(per)]),
    ];
    const seen = [new Uint8Array(per), new Uint8Array(per)];
    let dup = 0;
    let wrong = 0;
    for (let i = 0; i < 2 * per; i++) {
      const { index, value } = await select(qs, { timeout: 20_000 });
      const p = Math.floor(value / SHIFT);
      if (p !== index) wrong++;
      const s = value % SHIFT;
      if (seen[p][s]) dup++;
      seen[p][s] = 1;
    }
    for (const k of kids) {
      const r = await k.done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(lastJson<{ pushed: number }>(r.stdout).pushed, per);
    }
    assert.equal(dup, 0);
    assert.equal(wrong, 0);
    assert.equal(seen[0].reduce((a, b) => a + b, 0) + seen[1].reduce((a, b) => a + b, 0), 2 * per);
    assert.equal(qs[0].size + qs[1].size, 0);
  }),
  { timeout: 120_000 },
);

test(
  "select: aborting or timing out takes nothing, and later pushes stay in the queues",
  segmentTest("sel2", 1 << 16, async (seg) => {
    const qa = Queue.create(seg, "a", u32, 8);
    const qb = Queue.create(seg, "b", u32, 8);
    for (let i = 0; i < 20; i++) {
      const ac = new AbortController();
      const p = select([qa, qb], { signal: ac.signal });
      setTimeout(() => ac.abort(), i % 3);
      await assert.rejects(p, (e) => e instanceof ShmError && e.code === "ABORTED");
      qa.push(i);
      qb.push(i);
      assert.equal(qa.size + qb.size, 2, "nothing taken by the aborted select");
      assert.deepEqual(await select([qa, qb]), { index: 0, value: i }, "the first ready source wins");
      assert.equal(qb.tryPop(), i);
    }
    await assert.rejects(select([qa, qb], { timeout: 20 }), (e) => e instanceof ShmError && e.code === "TIMEOUT");
    // A wait woken by a push to the second queue takes that element only.
    const p = select([qa, qb]);
    setTimeout(() => qb.push(99), 10);
    assert.deepEqual(await p, { index: 1, value: 99 });
    assert.equal(qa.size + qb.size, 0);
  }),
  { timeout: 60_000 },
);

test(
  "select: every kind of source (Queue, SpscQueue, RingBuffer, Stack, ObjectPool, BroadcastReader) wakes it and only that one is taken from",
  segmentTest("sel3", 1 << 20, async (seg) => {
    const q = Queue.create(seg, "q", u32, 8);
    const spsc = SpscQueue.create(seg, "spsc", u32, 8);
    const ring = RingBuffer.create(seg, "ring", u32, 8);
    const stack = Stack.create(seg, "stack", u32, 8);
    const pool = ObjectPool.create(seg, "pool", u32, 2);
    const held = [pool.acquire()!, pool.acquire()!]; // the pool starts with no free slot
    const bcast = BroadcastRing.create(seg, "bcast", u32, 8);
    const reader = bcast.reader();
    const sources: SelectSource<number>[] = [q, spsc, ring, stack, pool, reader];
    const feed = [
      () => q.push(10),
      () => spsc.push(11),
      () => ring.push(12),
      () => stack.push(13),
      () => pool.release(held[0]),
      () => bcast.publish(15),
    ];
    const fills = () => [q.size, spsc.size, ring.size, stack.size, pool.available, reader.lag];
    for (let k = 0; k < sources.length; k++) {
      const p = select(sources, { timeout: 10_000 });
      setTimeout(feed[k], 5);
      const got = await p;
      assert.equal(got.index, k, `woken by source ${k}`);
      if (k === 4) held[0] = got.value; // the freed slot, under a new handle (handles carry a generation)
      else assert.equal(got.value, 10 + k);
      assert.deepEqual(fills(), [0, 0, 0, 0, 0, 0], "nothing else taken, nothing left behind");
    }
    // A timed-out select over all of them takes nothing.
    await assert.rejects(select(sources, { timeout: 20 }), (e) => e instanceof ShmError && e.code === "TIMEOUT");
    pool.release(held[1]);
    const last = await select(sources, { timeout: 1000 });
    assert.equal(last.index, 4);
    assert.equal(pool.available, 0);
    pool.release(held[0]);
    pool.release(last.value);
    assert.equal(pool.available, 2, "both handles taken through select are live handles of the pool");
  }),
  { timeout: 60_000 },
);

test(
  "select: bad sources are INVALID_ARGUMENT, a closed one CLOSED, and nothing is taken from the good ones",
  segmentTest("sel4", 1 << 16, async (seg) => {
    const q = Queue.create(seg, "q", u32, 8);
    q.push(1);
    const invalid = (e: unknown) => e instanceof ShmError && e.code === "INVALID_ARGUMENT";
    const bads: unknown[][] = [[], [q, {}], [q, null], [q, 42], [q, { selectable: 1 }]];
    for (const [i, bad] of bads.entries()) {
      await assert.rejects(select(bad as SelectSource<number>[], { timeout: 10 }), invalid, `bad source list ${i}`);
    }
    await assert.rejects(select("q" as unknown as SelectSource<number>[]), invalid);
    const other = Queue.create(seg, "other", u32, 8);
    other.close();
    await assert.rejects(select([q, other], { timeout: 10 }), (e) => e instanceof ShmError && e.code === "CLOSED");
    assert.equal(q.size, 1, "the good source kept its element");
  }),
  { timeout: 30_000 },
);
