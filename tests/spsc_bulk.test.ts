/**
 * SpscQueue.pushBulk / popBulk / popBulkInto: the typed-array copies of the element's
 * own kind (src/structures/span_copy.ts) across the ring's wrap, the converted and the
 * element-by-element paths, refused targets (nothing taken), 64-bit elements beyond
 * ±(2^53 − 1) (dropped, the rest delivered, OUT_OF_RANGE after), bulk calls mixed with
 * the native single calls, and a Deno and a Bun process streaming through one queue in
 * bulk both ways (exact counts, sums and order).
 */
import assert from "node:assert/strict";
import { f64, i64, i64AsNumber, type Segment, SharedAtomic, SpscQueue, string, struct, u32, u64AsNumber, u8 } from "../mod.ts";
import { test, uniqueName } from "./harness.ts";
import { lastJson, type Runtime, start } from "./helpers/procs.ts";
import { segmentTest } from "./helpers/segments.ts";
import { Segment as Seg } from "../src/segment/segment.ts";

const WORKER = new URL("./workers/queue_worker.ts", import.meta.url);

/** Byte offset of the queue's first element (its block header's data offset). */
function dataOf(seg: Segment, q: { offset: number }): number {
  return q.offset + seg.memory.u32[(q.offset + 12) >> 2];
}

/** Moves a fresh queue's indices to `at` (both sides), so the next elements wrap at the end of the ring. */
function startAt(q: SpscQueue<number>, at: number): void {
  for (let i = 0; i < at; i++) assert.equal(q.tryPush(0), true);
  for (let i = 0; i < at; i++) assert.equal(q.tryPop(), 0);
}

test(
  "SpscQueue bulk: typed arrays of the element's own kind, across the wrap, full and empty",
  segmentTest("sb", 1 << 20, (seg) => {
    const q = SpscQueue.create(seg, "q", f64, 10); // 11 slots
    startAt(q, 8);
    const src = Float64Array.from({ length: 14 }, (_, i) => i + 0.5);
    assert.equal(q.pushBulk(src), 10, "as many as fit");
    assert.equal(q.isFull, true);
    assert.equal(q.pushBulk(src), 0);
    const into = new Float64Array(4);
    assert.equal(q.popBulkInto(into), 4);
    assert.deepEqual(Array.from(into), [0.5, 1.5, 2.5, 3.5]);
    assert.equal(q.pushBulk(src.subarray(10)), 4, "the rest, into the slots the pop freed");
    const all = new Float64Array(32);
    assert.equal(q.popBulkInto(all), 10);
    assert.deepEqual(Array.from(all.subarray(0, 10)), [4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5]);
    assert.equal(q.popBulkInto(all), 0);
    assert.equal(q.isEmpty, true);
    // The single native calls see what the bulk copies moved, and the other way round.
    assert.equal(q.pushBulk(Float64Array.of(1, 2, 3)), 3);
    assert.equal(q.tryPop(), 1);
    assert.equal(q.tryPush(4), true);
    assert.equal(q.popBulkInto(all.subarray(0, 2)), 2);
    assert.deepEqual(Array.from(all.subarray(0, 2)), [2, 3]);
    assert.equal(q.tryPop(), 4);
    assert.equal(q.tryPop(), undefined);
  }),
);

test(
  "SpscQueue bulk: popBulkInto converts as typed-array stores do; refused targets take nothing",
  segmentTest("sb", 1 << 20, (seg) => {
    const q = SpscQueue.create(seg, "q", u32, 8);
    startAt(q, 6);
    assert.equal(q.pushBulk([1, 255, 256, 4_000_000_000]), 4, "a plain array, checked value by value");
    for (const bad of [new BigInt64Array(4), [0, 0], new DataView(new ArrayBuffer(8)), null, "abcd"]) {
      assert.throws(() => q.popBulkInto(bad as unknown as Uint8Array), { code: "INVALID_ARGUMENT" }, String(bad));
    }
    assert.equal(q.size, 4, "nothing taken by a refused target");
    const bytes = new Uint8Array(2);
    assert.equal(q.popBulkInto(bytes), 2);
    assert.deepEqual(Array.from(bytes), [1, 255]);
    const wide = new Float64Array(8);
    assert.equal(q.popBulkInto(wide), 2);
    assert.deepEqual(Array.from(wide.subarray(0, 2)), [256, 4_000_000_000]);
    assert.throws(() => q.pushBulk(Float64Array.of(1, 2.5)), { code: "INVALID_ARGUMENT" }, "another kind is checked");
    assert.throws(() => q.pushBulk([1, -1]), { code: "INVALID_ARGUMENT" });
    assert.equal(q.size, 0, "a bad value pushes nothing");

    const big = SpscQueue.create(seg, "big", i64, 4);
    assert.equal(big.pushBulk(BigInt64Array.of(-5n, 2n ** 62n)), 2);
    assert.throws(() => big.popBulkInto(new Float64Array(2)), { code: "INVALID_ARGUMENT" });
    const unsigned = new BigUint64Array(2);
    assert.equal(big.popBulkInto(unsigned), 2);
    assert.deepEqual(Array.from(unsigned), [2n ** 64n - 5n, 2n ** 62n]);

    const S = struct({ a: u8 });
    const s = SpscQueue.create(seg, "s", S, 4);
    s.push({ a: 1 });
    assert.throws(() => s.popBulkInto(new Uint8Array(4)), { code: "INVALID_ARGUMENT" });
    const t = SpscQueue.create(seg, "t", string(8), 4);
    assert.equal(t.pushBulk(["a", "b"]), 2);
    assert.throws(() => t.popBulkInto(new Uint8Array(4)), { code: "INVALID_ARGUMENT" });
    assert.deepEqual(t.popBulk(8), ["a", "b"]);
    assert.equal(s.size, 1);
  }),
);

for (
  const [label, type, beyond] of [["i64AsNumber", i64AsNumber, [0xffffffff, 0x7fffffff]], ["u64AsNumber", u64AsNumber, [
    0,
    0x00200000,
  ]]] as const
) {
  test(
    `SpscQueue bulk: ${label} beyond 2^53 is dropped, the elements after it still delivered, OUT_OF_RANGE after`,
    segmentTest("sb", 1 << 20, (seg) => {
      for (const into of [false, true]) {
        const q = SpscQueue.create(seg, `q${into}`, type, 8);
        const data = dataOf(seg, q);
        startAt(q, 5); // the three elements below straddle the wrap (slots 5..9 of 9)
        for (const v of [1, 2, 3, 4, 5]) assert.equal(q.tryPush(v), true);
        const slot = (5 + 1) % 9; // the second element
        seg.memory.u32[(data + slot * 8) >> 2] = beyond[0];
        seg.memory.u32[((data + slot * 8) >> 2) + 1] = beyond[1];
        if (into) {
          const target = new Float64Array(8).fill(-9);
          assert.throws(() => q.popBulkInto(target), { code: "OUT_OF_RANGE" });
          assert.deepEqual(Array.from(target.subarray(0, 5)), [1, 3, 4, 5, -9]);
        } else {
          const out: number[] = [];
          assert.throws(() => q.popBulk(8, out), { code: "OUT_OF_RANGE" });
          assert.deepEqual(out, [1, 3, 4, 5]);
        }
        assert.equal(q.size, 0, "the bad element is consumed, nothing else lost");
        assert.equal(q.tryPush(7), true);
        assert.deepEqual(q.popBulk(8), [7]);
      }
    }),
  );
}

/** One producer and one consumer process, everything in bulk (tests/workers/queue_worker.ts `spsc-bulk`). */
async function bulkStream(producer: Runtime, consumer: Runtime, n: number, capacity: number) {
  const name = uniqueName("sb-stream");
  const seg = Seg.create(name, { size: 1 << 22 });
  try {
    SpscQueue.create(seg, "q", u32, capacity);
    SharedAtomic.create(seg, "q.taken", u32);
    const c = start(consumer, WORKER, [name, "q", "consume", String(n), "1", "spsc-bulk"], 90_000);
    const p = start(producer, WORKER, [name, "q", "produce", "0", String(n), "spsc-bulk"], 90_000);
    const [cr, pr] = await Promise.all([c.done, p.done]);
    assert.equal(cr.code, 0, `consumer failed: ${cr.stderr}`);
    assert.equal(pr.code, 0, `producer failed: ${pr.stderr}`);
    assert.equal(lastJson<{ pushed: number }>(pr.stdout).pushed, n);
    const r = lastJson<{ counts: number[]; sums: number[]; orderViolations: number; bad: number }>(cr.stdout);
    assert.equal(r.counts[0], n, "every element once");
    assert.equal(r.sums[0], (n * (n - 1)) / 2, "sum");
    assert.equal(r.orderViolations, 0, "in order");
    assert.equal(r.bad, 0);
    assert.equal(SpscQueue.open(seg, "q", u32).size, 0);
  } finally {
    seg.close();
    Seg.unlink(name);
  }
}

test(
  "SpscQueue bulk multiprocess: a Deno producer and a Bun consumer, then Bun to Deno, all in bulk: exactly once, in order",
  async () => {
    await bulkStream("deno", "bun", 200_000, 100);
    await bulkStream("bun", "deno", 200_000, 7);
  },
  { timeout: 120_000 },
);
