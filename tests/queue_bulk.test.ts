/**
 * Queue.pushBulk / popBulk / popBulkInto on the native bulk path (zig/fastpath.zig
 * `shmkit_mpmc_push_bulk`, `_pop_bulk`): every numeric kind, plain arrays and typed
 * arrays, full, empty, wrap-around (of the ring and of the 32-bit positions), more than
 * one native call per operation, bad values (nothing pushed), the claim record, the
 * hand-over to the TypeScript path where a repair is due, wake-ups, and Deno and Bun
 * processes pushing and popping in bulk on one queue (exact counts, sums and order).
 */
import assert from "node:assert/strict";
import {
  type ElementType,
  f32,
  f64,
  i16,
  i32,
  i64,
  i64AsNumber,
  i8,
  Queue,
  Segment,
  SharedAtomic,
  string,
  u16,
  u32,
  u64AsNumber,
  u8,
} from "../mod.ts";
import { native } from "../ffi/mod.ts";
import { _setQueuePositions } from "../src/structures/queue.ts";
import { BULK_CHUNK } from "../src/structures/fast_path.ts";
import { recordCount } from "../src/structures/claim_records.ts";
import { recordsAt } from "../src/structures/queue_layout.ts";
import { test, uniqueName } from "./harness.ts";
import { lastJson, type Runtime, start } from "./helpers/procs.ts";
import { segmentTest } from "./helpers/segments.ts";
import { queueGeometry } from "./helpers/queue_geometry.ts";

const WORKER = new URL("./workers/queue_worker.ts", import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** i32 index of this process's claim record of queue `q`. */
function ownRecord(seg: Segment, q: Queue<unknown>): number {
  const { data, ring, stride } = queueGeometry(seg, q);
  const at = recordsAt(data, ring, stride) >> 2, pid = native().getpid();
  for (let i = 0; i < recordCount(seg.maxProcesses); i++) if (seg.memory.i32[at + i * 16 + 2] === pid) return at + i * 16;
  throw new Error("no record of ours");
}

const KINDS: [string, ElementType<number>, number[], unknown[]][] = [
  ["i8", i8, [-128, 127, 0, -5], [128, -129, 0.5, NaN]],
  ["u8", u8, [0, 255, 7], [256, -1, 1.5]],
  ["i16", i16, [-32768, 32767, 1], [32768, 0.25]],
  ["u16", u16, [0, 65535, 2], [65536, -1]],
  ["i32", i32, [-(2 ** 31), 2 ** 31 - 1, 7], [2 ** 31, 1e-9]],
  ["u32", u32, [0, 2 ** 32 - 1, 9], [2 ** 32, -1, 3.5]],
  ["f32", f32, [1.5, -0.25, Infinity, 3.4e38, 1e-45], ["1", 1n]],
  ["f64", f64, [Math.PI, -0, -Infinity, 5e-324, Number.MAX_VALUE], ["x", undefined]],
  ["i64AsNumber", i64AsNumber, [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -1], [2 ** 53, 0.5, NaN]],
  ["u64AsNumber", u64AsNumber, [Number.MAX_SAFE_INTEGER, 0, 2 ** 40], [-1, 2 ** 53, Infinity]],
];

const TYPED: Record<string, { new (n: number): ArrayLike<number> & { [i: number]: number } }> = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  f32: Float32Array,
  f64: Float64Array,
  i64AsNumber: Float64Array,
  u64AsNumber: Float64Array,
};

const same = (got: number[], want: number[], what: string) => {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Object.is(got[i], want[i]) || got[i] === want[i], `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
};

for (const [label, type, good, bad] of KINDS) {
  test(
    `Queue bulk: ${label}: pushBulk / popBulk / popBulkInto, full, empty, wrap-around, bad values push nothing`,
    segmentTest("qb", 1 << 20, (seg) => {
      const q = Queue.create(seg, "q", type, 6); // ring 8, bounded by the count
      const want = good.map((v) => (type === f32 ? Math.fround(v) : v));
      const rec = ownRecord(seg, q as Queue<unknown>), i32 = seg.memory.i32;
      for (let round = 0; round < 12; round++) { // 12 rounds of up to 6 elements: the ring wraps several times
        const k = 1 + (round % good.length);
        const vs = Array.from({ length: 6 }, (_, i) => good[(i + round) % good.length]);
        const wantRound = vs.map((v) => (type === f32 ? Math.fround(v) : v));
        i32[rec + 1] = 99;
        assert.equal(q.pushBulk(vs.slice(0, k)), k);
        assert.equal(i32[rec + 1], 0, "the record is cleared after the run");
        // the rest as a typed array; only 6 - k fit
        const t = new TYPED[label](6);
        for (let i = 0; i < 6; i++) t[i] = vs[i];
        assert.equal(q.pushBulk(t), 6 - k, "partial push when full");
        assert.equal(q.pushBulk([good[0]]), 0, "full");
        assert.equal(q.size, 6);
        const firstK = q.popBulk(k);
        same(firstK, wantRound.slice(0, k), "popBulk");
        const into = new Float64Array(10);
        assert.equal(q.popBulkInto(into), 6 - k);
        same(Array.from(into.subarray(0, 6 - k)), wantRound.slice(0, 6 - k), "popBulkInto: the typed array's first 6 - k");
        assert.deepEqual(q.popBulk(5), [], "empty");
        assert.equal(q.popBulkInto(into), 0);
      }
      for (const b of bad) {
        assert.throws(() => q.pushBulk([good[0], good[1], b as number]), { code: "INVALID_ARGUMENT" }, `pushBulk(${String(b)})`);
        assert.equal(q.size, 0, "nothing pushed");
      }
      // Mixed with single operations, both directions.
      assert.equal(q.tryPush(good[0]), true);
      assert.equal(q.pushBulk(good.slice(1)), good.length - 1);
      same([q.tryPop()!, ...q.popBulk(10)], want, "tryPop then popBulk");
      assert.equal(q.pushBulk([]), 0);
      assert.deepEqual(q.popBulk(0), []);
    }),
  );
}

test(
  "Queue bulk: across the 2^32 position wrap, in runs longer than one native call, and a bad value in a later call",
  segmentTest("qb", 1 << 22, (seg) => {
    const q = Queue.create(seg, "q", u32, 4096);
    _setQueuePositions(q, 2 ** 32 - 700);
    const n = BULK_CHUNK * 3 + 17;
    const vs = Array.from({ length: n }, (_, i) => i * 3);
    assert.equal(q.pushBulk(vs), n);
    assert.deepEqual(q.popBulk(n + 10), vs);
    const typed = Uint32Array.from(vs);
    assert.equal(q.pushBulk(typed), n);
    const into = new Uint32Array(n + 5);
    assert.equal(q.popBulkInto(into), n);
    assert.deepEqual(into.subarray(0, n), typed);
    // One bad value in the third chunk: nothing pushed at all.
    vs[BULK_CHUNK * 2 + 5] = -1;
    assert.throws(() => q.pushBulk(vs), { code: "INVALID_ARGUMENT" });
    vs[BULK_CHUNK * 2 + 5] = "7" as unknown as number;
    assert.throws(() => q.pushBulk(vs), { code: "INVALID_ARGUMENT" });
    assert.equal(q.size, 0);
    // Fills to capacity through several calls, and stops there.
    const many = Array.from({ length: 5000 }, (_, i) => i);
    assert.equal(q.pushBulk(many), 4096);
    assert.deepEqual(q.popBulk(5000), many.slice(0, 4096));
  }),
);

test(
  "Queue bulk: a stored 64-bit value beyond 2^53 is consumed and dropped, OUT_OF_RANGE after the others",
  segmentTest("qb", 1 << 20, (seg) => {
    for (const label of ["popBulk", "popBulkInto"]) {
      const q = Queue.create(seg, `q-${label}`, u64AsNumber, 8);
      const g = queueGeometry(seg, q as Queue<unknown>);
      assert.equal(q.pushBulk([1, 2, 3]), 3);
      const pos2 = seg.memory.u32[g.deq] + 1;
      seg.memory.u32[((g.data + (pos2 & (g.ring - 1)) * g.stride + g.elemOffset) >> 2) + 1] = 0x0020_0000; // 2^53 + 2
      const out: number[] = [], into = new Float64Array(8);
      assert.throws(() => (label === "popBulk" ? q.popBulk(8, out) : q.popBulkInto(into)), { code: "OUT_OF_RANGE" });
      if (label === "popBulk") assert.deepEqual(out, [1, 3]);
      else assert.deepEqual(Array.from(into.subarray(0, 2)), [1, 3]);
      assert.equal(q.size, 0);
    }
  }),
);

test(
  "Queue bulk: the native calls stop where a repair may be due; from there the TypeScript path repairs and does the rest",
  segmentTest("qb", 1 << 20, async (seg) => {
    const q = Queue.create(seg, "q", u32, 8);
    const g = queueGeometry(seg, q as Queue<unknown>), i32 = seg.memory.i32;
    assert.equal(q.pushBulk([1, 2, 3]), 3);
    Atomics.add(i32, g.enq, 1); // a producer claimed position 3 and died (no record names it)
    assert.equal(q.pushBulk([5, 6]), 2);
    assert.deepEqual(q.popBulk(10), [1, 2, 3], "stops at the unpublished position 3, returning what it popped");
    assert.deepEqual(q.popBulk(10), [], "from position 3: the TypeScript path, whose stall clock starts");
    await sleep(10);
    assert.deepEqual(q.popBulk(10), [5, 6], "skipped after STALL_MS, then the rest");
    assert.equal(q.stats.recoveredPushes, 1);
    // A consumer claimed position 6 and died before handing the slot back.
    assert.equal(q.pushBulk([10, 11, 12, 13, 14, 15, 16, 17, 18]), 8);
    Atomics.add(i32, g.deq, 1);
    // A full push reads the dequeue counter for a dead claim unless this handle read it less
    // than ~25 µs ago (zig/fastpath.zig `checkDue`), as the pushBulk above just did.
    await sleep(1);
    assert.equal(q.pushBulk([19, 20]), 0, "full: the dead consumer's slot is not free yet");
    await sleep(10);
    assert.equal(q.pushBulk([19, 20]), 1, "handed back, then one pushed");
    assert.equal(q.stats.recoveredPops, 1);
    const into = new Uint32Array(10);
    assert.equal(q.popBulkInto(into), 8);
    assert.deepEqual(Array.from(into.subarray(0, 8)), [11, 12, 13, 14, 15, 16, 17, 19]);
    assert.equal(i32[ownRecord(seg, q as Queue<unknown>) + 1], 0);
    // Hostile: a slot sequence ahead of a position that does not move.
    const e = Atomics.load(i32, g.enq);
    i32[(g.data + (e & (g.ring - 1)) * g.stride) >> 2] = (e + 1000) | 0;
    assert.throws(() => q.pushBulk([1, 2]), { code: "CORRUPT" });
    const d = Atomics.load(i32, g.deq);
    i32[(g.data + (d & (g.ring - 1)) * g.stride) >> 2] = (d + 1001) | 0;
    assert.throws(() => q.popBulk(4), { code: "CORRUPT" });
  }),
);

test(
  "Queue bulk: pushBulk wakes a parked popAsync, popBulk a parked pushAsync",
  segmentTest("qb", 1 << 20, async (seg) => {
    const q = Queue.create(seg, "q", f64, 4);
    const popped = q.popAsync({ spin: 0, timeout: 5000 });
    await sleep(30);
    assert.equal(q.pushBulk(Float64Array.of(1.5, 2.5)), 2);
    assert.equal(await popped, 1.5);
    assert.equal(q.pushBulk([3.5, 4.5, 5.5]), 3);
    const pushed = q.pushAsync(6.5, { spin: 0, timeout: 5000 });
    await sleep(30);
    assert.deepEqual(q.popBulk(2), [2.5, 3.5]);
    await pushed;
    assert.deepEqual(q.popBulk(9), [4.5, 5.5, 6.5]);
  }),
);

test(
  "Queue bulk: popBulkInto targets: bigint queues into BigInt64Array, wrong targets are INVALID_ARGUMENT with nothing taken",
  segmentTest("qb", 1 << 20, (seg) => {
    const b = Queue.create(seg, "b", i64, 4);
    assert.equal(b.pushBulk([-5n, 7n]), 2);
    assert.throws(() => b.popBulkInto(new Float64Array(4)), { code: "INVALID_ARGUMENT" });
    const big = new BigInt64Array(4);
    assert.equal(b.popBulkInto(big), 2);
    assert.deepEqual(Array.from(big.subarray(0, 2)), [-5n, 7n]);
    const n = Queue.create(seg, "n", u16, 4);
    n.pushBulk([1, 2]);
    assert.throws(() => n.popBulkInto(new BigUint64Array(4)), { code: "INVALID_ARGUMENT" });
    assert.throws(() => n.popBulkInto([] as unknown as Uint8Array), { code: "INVALID_ARGUMENT" });
    const s = Queue.create(seg, "s", string(8), 4);
    s.push("x");
    assert.throws(() => s.popBulkInto(new Uint8Array(4)), { code: "INVALID_ARGUMENT" });
    assert.equal(n.size, 2);
    assert.equal(s.size, 1);
    assert.equal(n.popBulkInto(new Uint8Array(1)), 1);
    assert.deepEqual(n.popBulk(4), [2]);
  }),
);

interface ConsumerReport {
  counts: number[];
  sums: number[];
  orderViolations: number;
  bad: number;
}

async function bulkStress(producers: Runtime[], consumers: Runtime[], perProducer: number, capacity: number) {
  const name = uniqueName("qb-stress");
  const seg = Segment.create(name, { size: 1 << 22 });
  try {
    Queue.create(seg, "q", u32, capacity);
    SharedAtomic.create(seg, "q.taken", u32);
    const total = perProducer * producers.length;
    const children = [
      ...consumers.map((rt) =>
        start(rt, WORKER, [name, "q", "consume", String(total), String(producers.length), "bulk"], 90_000)
      ),
      ...producers.map((rt, id) => start(rt, WORKER, [name, "q", "produce", String(id), String(perProducer), "bulk"], 90_000)),
    ];
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) assert.equal(r.code, 0, `worker failed: ${r.stderr}`);
    const reports = results.slice(0, consumers.length).map((r) => lastJson<ConsumerReport>(r.stdout));
    for (const r of results.slice(consumers.length)) assert.equal(lastJson<{ pushed: number }>(r.stdout).pushed, perProducer);
    const expectedSum = (perProducer * (perProducer - 1)) / 2;
    for (let p = 0; p < producers.length; p++) {
      assert.equal(reports.reduce((s, r) => s + r.counts[p], 0), perProducer, `count of producer ${p}`);
      assert.equal(reports.reduce((s, r) => s + r.sums[p], 0), expectedSum, `sum of producer ${p}`);
    }
    for (const r of reports) {
      assert.equal(r.orderViolations, 0, "per-producer order");
      assert.equal(r.bad, 0);
    }
    assert.equal(Queue.open(seg, "q", u32).size, 0);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}

test(
  "Queue bulk multiprocess: 2 Deno + 1 Bun producers, 1 Deno + 2 Bun consumers, all in bulk: exactly once, per-producer order",
  async () => {
    await bulkStress(["deno", "bun", "deno"], ["bun", "deno", "bun"], 100_000, 64);
  },
  { timeout: 120_000 },
);

test("Queue bulk multiprocess: Bun and Deno in bulk through capacity 5 (not a power of two)", async () => {
  await bulkStress(["bun", "deno"], ["deno", "bun"], 20_000, 5);
}, { timeout: 120_000 });
