/**
 * Control words are untrusted input (issue 10, item 6): a damaged position, counter,
 * capacity or epoch gives ShmError CORRUPT — never an endless loop, an access outside
 * the structure's block, or a raw RangeError — and non-consuming reads never answer from
 * outside the retained window under a concurrent writer (item 4). One regression test
 * per reported bug.
 */
import assert from "node:assert/strict";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";
import { start } from "./helpers/procs.ts";
import { startWorker } from "./helpers/crash.ts";
import { BroadcastRing, f64, i32, Queue, RingBuffer, SharedArray, SharedAtomic, struct, u32, Vector } from "../mod.ts";
import type { Segment } from "../mod.ts";

const isCorrupt = (e: unknown) => (e as { code?: string }).code === "CORRUPT";
const RING_WORKER = new URL("./workers/ring_worker.ts", import.meta.url);
const RING_READ_WORKER = new URL("./workers/crash_ring.ts", import.meta.url);

/** i32 index of a structure's control word at byte `at` of its control area. */
function control(seg: Segment, name: string, at: number): number {
  return (seg.find(name)!.offset + 64 + at) >> 2;
}

/** Rewrites a structure's capacity in both its name table entry and its block header (a consistent forgery). */
function forgeCapacity(seg: Segment, name: string, capacity: number): void {
  const m = seg.memory;
  const table = m.getU64(40);
  const entrySize = m.u32[32 >> 2];
  const e = seg.find(name)!;
  for (let i = 0; i < seg.maxEntries; i++) {
    const at = table + i * entrySize;
    if (m.u32[at >> 2] === 2 && m.getU64(at + 32) === e.offset) m.setU64(at + 24, capacity);
  }
  m.setU64(e.offset + 16, capacity);
}

test(
  "RingBuffer: capacity 0 in a damaged entry and header is CORRUPT on open",
  segmentTest("cw-cap0", 1 << 20, (seg) => {
    RingBuffer.create(seg, "r", u32, 8).close();
    forgeCapacity(seg, "r", 0);
    assert.throws(() => RingBuffer.open(seg, "r", u32), isCorrupt);
  }),
);

// u32 through the numeric native calls, the struct through the byte-copy calls.
const RingElem = struct({ a: u32, x: f64 });
for (const elem of ["u32", "struct"] as const) {
  const make = (seg: Segment, cap: number) =>
    (elem === "u32" ? RingBuffer.create(seg, "r", u32, cap) : RingBuffer.create(seg, "r", RingElem, cap)) as RingBuffer<unknown>;
  const value = (i: number) => (elem === "u32" ? i : { a: i, x: i / 2 });
  test(
    `RingBuffer<${elem}>: tryPop with head − tail > capacity is CORRUPT, not an endless loop`,
    segmentTest("cw-overfull", 1 << 20, (seg) => {
      const r = make(seg, 8);
      r.push(value(1));
      seg.memory.i32[control(seg, "r", 0)] = 8 + 5; // head
      assert.throws(() => r.tryPop(), isCorrupt);
      assert.throws(() => r.read(0), isCorrupt);
    }),
  );

  test(
    `RingBuffer<${elem}>: positions outside [0, M) are CORRUPT, never a slot outside the ring`,
    segmentTest("cw-pos", 1 << 20, (seg) => {
      const r = make(seg, 6); // not a power of two: slot = pos % capacity
      const after = SharedArray.create(seg, "after", u32, 64);
      for (const bad of [-7, 2 ** 31 - 1, 6 * Math.floor(2 ** 31 / 6)]) {
        seg.memory.i32[control(seg, "r", 0)] = bad; // head
        assert.throws(() => r.tryPush(value(1)), isCorrupt);
        assert.throws(() => r.size, isCorrupt);
        seg.memory.i32[control(seg, "r", 0)] = 0;
        seg.memory.i32[control(seg, "r", 64)] = bad; // tail
        assert.throws(() => r.tryPop(), isCorrupt);
        seg.memory.i32[control(seg, "r", 64)] = 0;
      }
      assert.ok(after.toArray().every((v) => v === 0), "nothing written past the ring");
      r.push(value(3)); // the words restored, the ring works again
      assert.deepEqual(r.tryPop(), value(3));
    }),
  );
}

test(
  "RingBuffer: popBulk with head − tail > capacity is CORRUPT instead of reading the next structure",
  segmentTest("cw-popbulk", 1 << 20, (seg) => {
    const S = struct({ a: u32, b: u32 });
    const r = RingBuffer.create(seg, "r", S, 4);
    const next = SharedArray.create(seg, "next", u32, 64);
    next.fill(0xdeadbeef);
    seg.memory.i32[control(seg, "r", 0)] = 40; // head: 40 elements "retained" in a ring of 4
    assert.throws(() => r.popBulk(new Array(40)), isCorrupt);
  }),
);

test(
  "RingBuffer.read(capacity) never returns a value under a concurrent pushOverwrite (issue 10)",
  segmentTest("cw-read", 1 << 20, async (seg, name) => {
    const Sample = struct({ seq: u32, neg: i32, half: f64, check: u32 });
    const cap = 4;
    const r = RingBuffer.create(seg, "r", Sample, cap);
    const done = SharedAtomic.create(seg, "done", i32);
    const w = start("bun", RING_WORKER, ["overwrite", name, "r", "3000000"], 60_000);
    let reads = 0;
    let bad = 0;
    let inconsistent = 0;
    const end = Date.now() + 1_500;
    while (Date.now() < end && done.load() === 0) {
      for (let k = 0; k < 1000; k++) {
        if (r.read(cap) !== undefined) bad++;
        const a = r.read(0);
        const b = r.read(cap - 1);
        // Within one call the window is whole; across calls seq only grows.
        if (a !== undefined && b !== undefined && b.seq < a.seq) inconsistent++;
        reads++;
      }
    }
    w.kill();
    await w.done.catch(() => {});
    assert.ok(reads > 0);
    assert.equal(bad, 0, `read(capacity) returned a value ${bad} times in ${reads}`);
    assert.equal(inconsistent, 0);
  }),
  { timeout: 60_000 },
);

test(
  "RingBuffer.read(at) re-checks the window after a concurrent overwrite between its loads (issue 10)",
  segmentTest("cw-read2", 1 << 20, async (seg, name) => {
    RingBuffer.create(seg, "r", u32, 4).close();
    for (const rt of ["deno", "bun"] as const) {
      for (const [at, want] of [[4, null], [3, 5], [0, 2]] as const) {
        seg.remove("r");
        RingBuffer.create(seg, "r", u32, 4).close();
        const w = startWorker(rt, RING_READ_WORKER, [name, "readwindow", String(at)], {
          SHMKIT_TEST_PAUSE_AT: "ring.read.window",
        });
        const line = await w.line("{");
        const r = await w.exited;
        assert.equal(r.code, 0, r.stderr);
        // After the overwrite the ring holds 2, 3, 4, 5: read(4) has nothing, read(3) is 5, read(0) is 2.
        assert.deepEqual(JSON.parse(line), { value: want, oldest: 2 }, `${rt} read(${at})`);
      }
    }
  }),
  { timeout: 60_000 },
);

test(
  "Vector: a negative reserved counter is CORRUPT instead of a write into the previous structure",
  segmentTest("cw-vres", 1 << 20, (seg) => {
    const before = SharedArray.create(seg, "before", u32, 64);
    before.fill(7);
    const v = Vector.create(seg, "v", u32, 8);
    seg.memory.i32[control(seg, "v", 0)] = -3;
    assert.throws(() => v.tryPush(1), isCorrupt);
    assert.throws(() => v.reserved, isCorrupt);
    assert.deepEqual(before.toArray(), new Array(64).fill(7));
  }),
);

test(
  "Vector: a committed counter past the capacity is CORRUPT, not a raw RangeError or a read past the block",
  segmentTest("cw-vcom", 1 << 20, (seg) => {
    const v = Vector.create(seg, "v", u32, 8);
    v.push(1);
    seg.memory.i32[control(seg, "v", 64)] = 1 << 20;
    assert.throws(() => v.length, isCorrupt);
    assert.throws(() => v.toArray(), isCorrupt);
    assert.throws(() => v.get(5), isCorrupt);
    assert.throws(() => v.push(2), isCorrupt);
    seg.memory.i32[control(seg, "v", 64)] = -5;
    assert.throws(() => v.length, isCorrupt);
  }),
);

test(
  "BroadcastRing: an epoch word that pushes positions past 2^53 is CORRUPT, not a reader that never returns",
  segmentTest("cw-bcast", 1 << 20, (seg) => {
    const b = BroadcastRing.create(seg, "b", u32, 8);
    const reader = b.reader({ from: "oldest" });
    b.publish(1);
    assert.equal(reader.tryRead(), 1);
    seg.memory.i32[control(seg, "b", 4)] = 0x7fff_fff0; // half-epoch
    assert.throws(() => reader.tryRead(), isCorrupt);
    assert.throws(() => b.published, isCorrupt);
  }),
);

test(
  "Queue: a corrupt enqueue position makes popWait/popAsync time out on time, not loop (fuzz cases queue.control+0)",
  segmentTest("cw-qenq", 1 << 20, async (seg) => {
    for (const value of [0x80000000, 0xffffffff, 0, 1]) {
      const name = `q${value}`;
      const q = Queue.create(seg, name, u32, 5);
      q.push(1), q.push(2), q.pop(), q.pop(); // empty, positions at 2
      seg.memory.u32[(q.offset + 64) >> 2] = value; // the enqueue position (docs/FORMAT.md)
      const t0 = performance.now();
      assert.throws(() => q.popWait(5), (e: { code?: string }) => e.code === "TIMEOUT" || e.code === "CORRUPT");
      await assert.rejects(q.popAsync({ timeout: 5 }), (e: { code?: string }) => e.code === "TIMEOUT" || e.code === "CORRUPT");
      assert.ok(performance.now() - t0 < 2_000, `value ${value}: the waits took ${performance.now() - t0} ms`);
      q.close();
      seg.remove(name);
    }
  }),
  { timeout: 20_000 },
);
