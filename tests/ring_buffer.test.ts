import assert from "node:assert/strict";
import fc from "fast-check";
import { Segment } from "../src/segment/segment.ts";
import { f64, i32, i64AsNumber, string, struct, u32, u8 } from "../src/segment/elements.ts";
import { SharedAtomic } from "../src/structures/atomic.ts";
import { SharedArray } from "../src/structures/array.ts";
import { _ringTesting, RingBuffer } from "../src/structures/ring_buffer.ts";
import { runtime, test, uniqueName } from "./harness.ts";
import { code, throwsCode } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, runAll, start } from "./helpers/procs.ts";
import { native } from "../ffi/mod.ts";
import { me } from "../src/segment/process.ts";
import { ShmError } from "../src/errors.ts";

const worker = new URL("./workers/ring_worker.ts", import.meta.url);

const withSegment = (fn: SegmentBody, size = 1 << 20) => segmentTest("ring", size, fn);

const Point = struct({ x: f64, y: f64, id: u32 });

test(
  "ring: push, pop, peek, read, size, full and empty",
  withSegment((seg) => {
    const r = RingBuffer.create(seg, "r", i32, 4);
    assert.equal(r.capacity, 4);
    assert.equal(r.size, 0);
    assert.equal(r.isEmpty, true);
    assert.equal(r.tryPop(), undefined);
    assert.equal(r.peek(), undefined);
    assert.equal(code(() => r.pop()), "EMPTY");
    for (let i = 1; i <= 4; i++) assert.equal(r.tryPush(i * 10), true);
    assert.equal(r.isFull, true);
    assert.equal(r.tryPush(50), false);
    assert.equal(code(() => r.push(50)), "FULL");
    assert.equal(r.peek(), 10);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => r.read(i)), [10, 20, 30, 40, undefined]);
    assert.equal(r.size, 4);
    assert.equal(r.pop(), 10);
    assert.equal(r.tryPop(), 20);
    r.push(50);
    assert.deepEqual([r.pop(), r.pop(), r.pop()], [30, 40, 50]);
    assert.equal(r.size, 0);
    assert.equal(r.totalWritten, 5);
    assert.equal(code(() => r.read(-1)), "OUT_OF_RANGE");
  }),
);

test(
  "ring: capacity 1",
  withSegment((seg) => {
    const r = RingBuffer.create(seg, "one", f64, 1);
    assert.equal(r.tryPush(1.5), true);
    assert.equal(r.tryPush(2.5), false);
    assert.equal(r.pushOverwrite(3.5), true);
    assert.equal(r.peek(), 3.5);
    assert.equal(r.pop(), 3.5);
    assert.equal(r.pushOverwrite(4.5), false);
    assert.equal(r.pushBulk(new Float64Array([7, 8, 9])), 0);
    const out = new Float64Array(3);
    assert.equal(r.popBulk(out), 1);
    assert.equal(out[0], 4.5);
    assert.equal(r.pushBulk([7, 8, 9]), 1);
    assert.equal(r.pop(), 7);
    assert.equal(r.totalWritten, 4);
  }),
);

test(
  "ring: capacity that is not a power of two works across the position wrap",
  withSegment((seg) => {
    for (const cap of [3, 5, 7, 100]) {
      const r = RingBuffer.create(seg, `np${cap}`, u32, cap);
      const M = _ringTesting.modulus(r);
      assert.ok(M % cap === 0 && M <= 2 ** 31 && M >= 2 ** 30);
      _ringTesting.setPosition(seg, r, M - 2 * cap - 1);
      let next = 0;
      let expect = 0;
      for (let round = 0; round < 10; round++) {
        while (r.tryPush(next)) next++;
        assert.equal(r.size, cap);
        for (let i = 0; i < cap; i++) assert.equal(r.read(i), expect + i);
        const half = Math.ceil(cap / 2);
        for (let i = 0; i < half; i++) assert.equal(r.pop(), expect++);
      }
      assert.equal(r.totalWritten, M - 2 * cap - 1 + next);
      assert.ok(r.totalWritten > M, "positions wrapped");
    }
  }),
);

test(
  "ring: positions wrap at 2^31 (power of two) and totalWritten keeps counting past 2^32",
  withSegment((seg) => {
    const r = RingBuffer.create(seg, "wrap", f64, 8);
    assert.equal(_ringTesting.modulus(r), 2 ** 31);
    // Just before the 3rd wrap: totalWritten must be rebuilt from the epoch word.
    const start = 3 * 2 ** 31 - 5;
    _ringTesting.setPosition(seg, r, start);
    assert.equal(r.totalWritten, start);
    const batch = new Float64Array(5);
    const out = new Float64Array(8);
    let v = 0;
    let got = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++) batch[i] = v++;
      assert.equal(r.pushBulk(batch), 5);
      assert.equal(r.pushOverwrite(v++), false);
      const k = r.popBulk(out);
      assert.equal(k, 6);
      for (let i = 0; i < k; i++) assert.equal(out[i], got++);
    }
    assert.equal(r.totalWritten, start + 120);
    // Half-way boundary of the epoch as well.
    const r2 = RingBuffer.create(seg, "wrap2", u8, 16);
    _ringTesting.setPosition(seg, r2, 2 ** 32 + 2 ** 30 - 3);
    for (let i = 0; i < 10; i++) r2.push(i);
    assert.equal(r2.totalWritten, 2 ** 32 + 2 ** 30 + 7);
  }),
);

test(
  "ring: struct and string elements, in place, single and bulk",
  withSegment((seg) => {
    const r = RingBuffer.create(seg, "pts", Point, 3);
    r.push({ x: 1, y: 2, id: 3 });
    assert.equal(r.pushBulk([{ x: 4, y: 5, id: 6 }, { x: 7, y: 8, id: 9 }, { x: 0, y: 0, id: 0 }]), 2);
    assert.equal(r.pushOverwrite({ x: 10, y: 11, id: 12 }), true);
    assert.deepEqual(r.read(2), { x: 10, y: 11, id: 12 });
    const out = new Array(5);
    assert.equal(r.popBulk(out), 3);
    assert.deepEqual(out.slice(0, 3), [{ x: 4, y: 5, id: 6 }, { x: 7, y: 8, id: 9 }, { x: 10, y: 11, id: 12 }]);
    const s = RingBuffer.create(seg, "names", string(8), 2);
    s.push("héllo");
    assert.equal(s.pop(), "héllo");
  }),
);

test(
  "ring: bulk operations larger than the capacity",
  withSegment((seg) => {
    const r = RingBuffer.create(seg, "bulk", f64, 6);
    const src = Float64Array.from({ length: 20 }, (_, i) => i);
    assert.equal(r.pushBulk(src), 6);
    assert.equal(r.pushBulk(src), 0);
    const out = new Float64Array(20);
    assert.equal(r.popBulk(out), 6);
    assert.deepEqual([...out.subarray(0, 6)], [0, 1, 2, 3, 4, 5]);
    // Straddle the end of the data region with both typed and plain arrays.
    r.pushBulk([100, 101, 102, 103]);
    assert.equal(r.popBulk(new Float64Array(3)), 3);
    assert.equal(r.pushBulk(src.subarray(10)), 5);
    const plain: number[] = new Array(10).fill(-1);
    assert.equal(r.popBulk(plain), 6);
    assert.deepEqual(plain.slice(0, 6), [103, 10, 11, 12, 13, 14]);
    assert.equal(r.popBulk(plain), 0);
  }),
);

test(
  "ring: invalid values throw INVALID_ARGUMENT and publish or drop nothing",
  withSegment((seg) => {
    const r = RingBuffer.create(seg, "bad", u8, 3);
    assert.equal(code(() => r.push(256)), "INVALID_ARGUMENT");
    assert.equal(code(() => r.pushBulk([1, 2, -1])), "INVALID_ARGUMENT");
    assert.equal(r.size, 0);
    r.pushBulk([1, 2, 3]);
    assert.equal(code(() => r.pushOverwrite(1.5)), "INVALID_ARGUMENT");
    assert.equal(r.size, 3);
    assert.deepEqual([r.read(0), r.read(1), r.read(2)], [1, 2, 3]);
    const p = RingBuffer.create(seg, "badp", Point, 1);
    p.push({ x: 1, y: 1, id: 1 });
    // deno-lint-ignore no-explicit-any
    assert.equal(code(() => p.pushOverwrite({ x: 2, y: 2, id: -5 } as any)), "INVALID_ARGUMENT");
    assert.deepEqual(p.peek(), { x: 1, y: 1, id: 1 });
  }),
);

test(
  "ring: invalid capacity, wrong type on open, use after close",
  withSegment((seg) => {
    for (const c of [0, -1, 1.5, 2 ** 30 + 1, NaN]) {
      assert.equal(code(() => RingBuffer.create(seg, "c", f64, c)), "INVALID_ARGUMENT");
    }
    const r = RingBuffer.create(seg, "typed", f64, 4);
    assert.equal(
      code(() => RingBuffer.open(seg, "typed", i32)),
      "TYPE_MISMATCH",
    );
    SharedArray.create(seg, "arr", f64, 4);
    assert.equal(code(() => RingBuffer.open(seg, "arr", f64)), "TYPE_MISMATCH");
    assert.equal(code(() => RingBuffer.open(seg, "nope", f64)), "NOT_FOUND");
    const again = RingBuffer.openOrCreate(seg, "typed", f64, 4);
    r.push(1);
    assert.equal(again.pop(), 1);
    r.close();
    for (
      const op of [() => r.push(1), () => r.tryPop(), () => r.size, () => r.peek(), () => r.pushBulk([1]), () => r.totalWritten]
    ) {
      assert.equal(code(op), "CLOSED");
    }
    assert.equal(again.size, 0);
  }),
);

test("ring: use after the segment is closed throws CLOSED", () => {
  const name = uniqueName("ring");
  const seg = Segment.create(name, { size: 1 << 16 });
  try {
    const r = RingBuffer.create(seg, "r", f64, 4);
    seg.close();
    assert.equal(code(() => r.pushOverwrite(1)), "CLOSED");
    assert.equal(code(() => r.popBulk(new Float64Array(2))), "CLOSED");
  } finally {
    Segment.unlink(name);
  }
});

test(
  "ring: native tryPush / tryPop and the TypeScript paths (overwrite, bulk) of three handles drop each other's caches, nothing stale or twice",
  withSegment((seg) => {
    const p = RingBuffer.create(seg, "mix", f64, 4);
    const c1 = RingBuffer.open(seg, "mix", f64), c2 = RingBuffer.open(seg, "mix", f64);
    for (let v = 0; v < 4; v++) assert.equal(p.tryPush(v), true);
    assert.equal(p.tryPush(99), false, "full: the native push's cached tail says so");
    assert.equal(c1.tryPop(), 0); // c1 caches head 4, tail 1
    assert.equal(p.pushOverwrite(4), false); // TypeScript path moves head
    assert.equal(p.pushOverwrite(5), true, "full again: drops 1 with a CAS on tail");
    assert.equal(c1.tryPop(), 2, "the tail moved under c1's cache: reloaded, 1 is gone");
    const out = new Float64Array(2);
    assert.equal(c2.popBulk(out), 2);
    assert.deepEqual([...out], [3, 4]);
    assert.equal(c1.tryPop(), 5);
    assert.equal(c1.tryPop(), undefined);
    assert.equal(c2.tryPop(), undefined);
    for (let v = 6; v < 10; v++) assert.equal(p.tryPush(v), true, `push ${v} after the overwrites moved head`);
    assert.equal(p.tryPush(10), false);
    assert.deepEqual([c2.tryPop(), c1.tryPop(), c2.tryPop(), c1.tryPop(), c1.tryPop()], [6, 7, 8, 9, undefined]);
    assert.equal(p.totalWritten, 10);
    assert.throws(() => p.tryPush(1n as never), { code: "INVALID_ARGUMENT" });
    assert.equal(c1.tryPop(), undefined, "nothing queued by the refused push");
  }),
);

test(
  "ring: matches an array model under random operations (fast-check)",
  withSegment((seg) => {
    let id = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("push" as const), v: fc.integer({ min: -1000, max: 1000 }) }),
            fc.record({ op: fc.constant("over" as const), v: fc.integer({ min: -1000, max: 1000 }) }),
            fc.record({ op: fc.constant("pop" as const) }),
            fc.record({
              op: fc.constant("pushBulk" as const),
              vs: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 12 }),
              typed: fc.boolean(),
            }),
            fc.record({ op: fc.constant("popBulk" as const), n: fc.integer({ min: 0, max: 12 }), typed: fc.boolean() }),
            fc.record({ op: fc.constant("read" as const), at: fc.integer({ min: 0, max: 10 }) }),
          ),
          { maxLength: 60 },
        ),
        (cap, beforeWrap, ops) => {
          const r = RingBuffer.create(seg, `m${id++}`, i32, cap);
          try {
            const start = _ringTesting.modulus(r) - beforeWrap; // every run crosses the wrap point
            _ringTesting.setPosition(seg, r, start);
            const model: number[] = [];
            let written = 0;
            for (const o of ops) {
              switch (o.op) {
                case "push": {
                  const ok = r.tryPush(o.v);
                  assert.equal(ok, model.length < cap);
                  if (ok) model.push(o.v), written++;
                  break;
                }
                case "over": {
                  const dropped = r.pushOverwrite(o.v);
                  assert.equal(dropped, model.length === cap);
                  if (dropped) model.shift();
                  model.push(o.v);
                  written++;
                  break;
                }
                case "pop":
                  assert.equal(r.tryPop(), model.shift());
                  break;
                case "pushBulk": {
                  const k = r.pushBulk(o.typed ? Int32Array.from(o.vs) : o.vs);
                  const fit = Math.min(o.vs.length, cap - model.length);
                  assert.equal(k, fit);
                  model.push(...o.vs.slice(0, fit));
                  written += fit;
                  break;
                }
                case "popBulk": {
                  const out = o.typed ? new Int32Array(o.n) : new Array<number>(o.n);
                  const k = r.popBulk(out);
                  const want = model.splice(0, o.n);
                  assert.equal(k, want.length);
                  assert.deepEqual(Array.from(out).slice(0, k), want);
                  break;
                }
                case "read":
                  assert.equal(r.read(o.at), model[o.at]);
                  break;
              }
              assert.equal(r.size, model.length);
              assert.equal(r.peek(), model[0]);
              assert.equal(r.totalWritten, start + written);
            }
          } finally {
            r.close();
            seg.remove(r.name);
          }
        },
      ),
      { numRuns: 400 },
    );
  }),
);

for (
  const [producer, consumer, mode] of [["deno", "bun", "bulk"], ["bun", "deno", "single"], ["deno", "bun", "single"], [
    "bun",
    "deno",
    "bulk",
  ]] as const
) {
  test(
    `ring: ${producer} producer -> ${consumer} consumer (${mode}), exact sequence and sum`,
    withSegment(async (seg, name) => {
      const n = mode === "bulk" ? 300_000 : 100_000;
      const r = RingBuffer.create(seg, "xfer", f64, 1000); // not a power of two
      _ringTesting.setPosition(seg, r, _ringTesting.modulus(r) - 25_000); // wrap mid-run
      const [p, c] = await runAll([
        [producer, worker, ["produce", name, "xfer", String(n), mode]],
        [consumer, worker, ["consume", name, "xfer", String(n), mode]],
      ], 30_000);
      const pr = lastJson<{ pushed: number }>(p);
      const cr = lastJson<{ popped: number; sum: number; bad: number }>(c);
      assert.equal(pr.pushed, n);
      assert.equal(cr.popped, n);
      assert.equal(cr.bad, 0);
      assert.equal(cr.sum, (n * (n + 1)) / 2);
      assert.equal(r.size, 0);
    }),
    { timeout: 40_000 },
  );
}

const Sample = struct({ seq: u32, neg: i32, half: f64, check: u32 });

for (
  const [producer, consumer, elem] of [["deno", "bun", "struct"], ["bun", "deno", "struct"], ["deno", "bun", "f64"], [
    "bun",
    "deno",
    "f64",
  ]] as const
) {
  test(
    `ring: pushOverwrite (${producer}) racing a consumer (${consumer}), ${elem}${
      elem === "f64" ? " (native tryPop commits)" : ""
    }: no duplicates, no reordering, no torn element`,
    withSegment(async (seg, name) => {
      const n = 200_000;
      const r = (elem === "f64" ? RingBuffer.create(seg, "ow", f64, 64) : RingBuffer.create(seg, "ow", Sample, 64)) as RingBuffer<
        unknown
      >;
      SharedAtomic.create(seg, "done", i32);
      const [p, c] = await runAll([
        [producer, worker, ["overwrite", name, "ow", String(n), elem]],
        [consumer, worker, ["drain", name, "ow", elem]],
      ], 30_000);
      const pr = lastJson<{ dropped: number }>(p);
      const cr = lastJson<{ count: number; sum: number; notIncreasing: number; torn: number; last: number }>(c);
      assert.equal(cr.torn, 0);
      assert.equal(cr.notIncreasing, 0);
      // Whatever the consumer left behind is still in order after what it saw.
      let last = cr.last;
      let left = 0;
      for (let v = r.tryPop(); v !== undefined; v = r.tryPop()) {
        const seq = elem === "f64" ? v as number : (v as { seq: number }).seq;
        assert.ok(seq > last);
        last = seq;
        left++;
      }
      assert.equal(last, n);
      // Every value was either consumed once or dropped once by the producer.
      assert.equal(cr.count + left + pr.dropped, n);
      assert.ok(cr.count > 0);
      assert.ok(pr.dropped > 0, "the producer really overwrote while the consumer ran");
    }),
    { timeout: 40_000 },
  );
}

// Structs through the native byte calls: one producer, a Deno and a Bun consumer committing by CAS.
test(
  "ring: a struct stream to a Deno and a Bun consumer at once (native byte calls): every element exactly once, whole, in order per consumer",
  withSegment(async (seg, name) => {
    const n = 200_000;
    RingBuffer.create(seg, "sx", Sample, 100); // not a power of two
    SharedAtomic.create(seg, "done", i32);
    const [p, c1, c2] = await runAll([
      ["bun", worker, ["feed", name, "sx", String(n)]],
      ["deno", worker, ["drain", name, "sx"]],
      ["bun", worker, ["drain", name, "sx"]],
    ], 30_000);
    const pr = lastJson<{ pushed: number }>(p);
    const a = lastJson<{ count: number; sum: number; notIncreasing: number; torn: number }>(c1);
    const b = lastJson<{ count: number; sum: number; notIncreasing: number; torn: number }>(c2);
    assert.equal(pr.pushed, n);
    assert.equal(a.torn + b.torn, 0);
    assert.equal(a.notIncreasing + b.notIncreasing, 0);
    assert.equal(a.count + b.count, n, "nothing lost or taken twice");
    assert.equal(a.sum + b.sum, (n * (n + 1)) / 2);
  }),
  { timeout: 40_000 },
);

test(
  "ring: a 64-bit element beyond 2^53 (i64AsNumber) is consumed with OUT_OF_RANGE, and the next one follows",
  withSegment((seg) => {
    const r = RingBuffer.create(seg, "big", i64AsNumber, 4);
    r.push(1);
    r.push(2);
    r.push(3);
    // The second element's bytes made 2^60 (another program's value no JS number holds exactly).
    const at = r.offset + seg.memory.u32[(r.offset + 12) >> 2] + 8;
    new BigInt64Array(seg.memory.buffer, at, 1)[0] = 2n ** 60n;
    assert.equal(r.tryPop(), 1);
    assert.equal(code(() => r.tryPop()), "OUT_OF_RANGE");
    assert.equal(r.tryPop(), 3, "the refused element was consumed");
    assert.equal(r.tryPop(), undefined);
  }),
);

// ---- single producer, enforced (claim word at control +16, src/structures/writer_claim.ts) ----

/** The raw producer claim word of `r` (0 = unclaimed). */
function claimWord(seg: Segment, r: RingBuffer<unknown>): number {
  return native().load64(seg.memory.base, r.offset + 64 + 16);
}
const myClaim = () => me().pid * 2 ** 31 + (me().start % 2 ** 31);

test(
  "ring: a second handle in this process cannot push while the first holds the producer claim",
  withSegment(async (seg) => {
    const a = RingBuffer.create(seg, "r", f64, 4);
    const b = RingBuffer.open(seg, "r", f64);
    assert.equal(claimWord(seg, a), 0);
    assert.equal(a.isProducer, false);
    a.push(1); // first push claims
    assert.equal(a.isProducer, true);
    assert.equal(claimWord(seg, a), myClaim());
    const e = throwsCode(
      "EXISTS",
      () => b.tryPush(2),
      new RegExp(`already has a producer: another handle in this process \\(pid ${me().pid}\\)`),
    );
    assert.match(e.message, /ring "r"/);
    for (
      const op of [
        () => b.push(2),
        () => b.pushOverwrite(2),
        () => b.pushBulk([2]),
        () => b.pushWait(2, 0),
        () => b.claimProducer(),
      ]
    ) {
      assert.equal(code(op), "EXISTS");
    }
    await assert.rejects(b.pushAsync(2, { timeout: 0 }), (err) => err instanceof ShmError && err.code === "EXISTS");
    assert.equal(b.isProducer, false);
    // Consumers are unaffected: the second handle pops, peeks and reads freely.
    assert.equal(b.peek(), 1);
    assert.equal(b.pop(), 1);
    assert.equal(b.size, 0);
    a.push(3); // the holder keeps pushing
    assert.equal(b.pop(), 3);
  }),
);

test(
  "ring: releaseProducer hands the role over; close and segment close release it",
  withSegment((seg, name) => {
    const a = RingBuffer.create(seg, "r", f64, 4);
    const b = RingBuffer.open(seg, "r", f64);
    a.claimProducer();
    a.claimProducer(); // idempotent
    assert.equal(code(() => b.push(1)), "EXISTS");
    a.releaseProducer();
    a.releaseProducer(); // idempotent
    assert.equal(a.isProducer, false);
    assert.equal(claimWord(seg, a), 0);
    b.push(1); // another handle can push now, continuing from head
    assert.equal(b.isProducer, true);
    assert.equal(code(() => a.push(2)), "EXISTS"); // and the first one no longer can
    b.close(); // close releases
    assert.equal(claimWord(seg, a), 0);
    a.push(2);
    assert.deepEqual([a.pop(), a.pop()], [1, 2]);
    assert.equal(a.totalWritten, 2);

    // Closing the segment releases the claim of every handle from it.
    const seg2 = Segment.open(name);
    const c = RingBuffer.open(seg2, "r", f64);
    a.releaseProducer();
    c.push(3);
    assert.equal(claimWord(seg, a), myClaim());
    assert.equal(code(() => a.push(4)), "EXISTS");
    seg2.close();
    assert.equal(c.closed, true);
    assert.equal(claimWord(seg, a), 0);
    a.push(4);
    assert.deepEqual([a.pop(), a.pop()], [3, 4]);

    // Removing the structure closes (and releases) its handles before the block is freed.
    a.close();
    const d = RingBuffer.create(seg, "gone", f64, 2);
    d.push(1);
    const at = d.offset + 64 + 16;
    seg.remove("gone");
    assert.equal(d.closed, true);
    assert.equal(native().load64(seg.memory.base, at), 0);
  }),
);

test(
  "ring: a claim left by a handle dropped without close is reused by this process",
  withSegment((seg) => {
    const a = RingBuffer.create(seg, "r", f64, 4);
    a.push(1);
    // Simulate a handle lost without close: the word names this process, no open handle holds it.
    const b = RingBuffer.open(seg, "r", f64);
    a.close();
    native().cas64(seg.memory.base, b.offset + 64 + 16, 0, myClaim());
    b.push(2);
    assert.equal(b.isProducer, true);
    assert.deepEqual([b.pop(), b.pop()], [1, 2]);
  }),
);

{
  const other = runtime === "deno" ? "bun" : "deno";
  test(
    `ring: a live ${other} producer is refused with EXISTS; after SIGKILL its claim is taken over`,
    withSegment(async (seg, name) => {
      const mine = RingBuffer.create(seg, "held", f64, 8);
      const child = start(other, worker, ["hold", name, "held"], 20_000);
      try {
        assert.equal(await child.waitForLine((l) => l === "holding" || l === "not producer"), "holding");
        const e = throwsCode("EXISTS", () => mine.tryPush(2), new RegExp(`already has a producer \\(pid ${child.pid}\\)`));
        assert.match(e.message, /RingBuffer allows one producer at a time/);
        for (const op of [() => mine.pushOverwrite(2), () => mine.pushBulk(new Float64Array([2])), () => mine.claimProducer()]) {
          assert.equal(code(op), "EXISTS");
        }
        assert.equal(mine.isProducer, false);
        assert.equal(mine.pop(), 1); // consuming is fine while another process produces
        child.kill("SIGKILL");
        const r = await child.done;
        assert.equal(r.signal, "SIGKILL");
        mine.push(2); // the dead producer's claim is taken over
        assert.equal(mine.isProducer, true);
        assert.equal(claimWord(seg, mine), myClaim());
        mine.pushBulk(new Float64Array([3, 4]));
        assert.deepEqual([mine.pop(), mine.pop(), mine.pop()], [2, 3, 4]);
        assert.equal(mine.totalWritten, 4);
      } finally {
        child.kill("SIGKILL");
      }
    }),
    { timeout: 30_000 },
  );
}
