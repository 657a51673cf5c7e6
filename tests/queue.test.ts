import assert from "node:assert/strict";
import fc from "fast-check";
import { f64, i64AsNumber, Queue, Segment, SharedAtomic, SpscQueue, Stack, string, struct, u32, u8 } from "../mod.ts";
import { _setQueuePositions } from "../src/structures/queue.ts";
import { test, uniqueName } from "./harness.ts";
import { codeOf as code } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, type Runtime, start } from "./helpers/procs.ts";

const WORKER = new URL("./workers/queue_worker.ts", import.meta.url);

const withSegment = (tag: string, fn: SegmentBody, size = 1 << 22) => segmentTest(tag, size, fn);

const kinds = [
  ["Queue", Queue],
  ["SpscQueue", SpscQueue],
] as const;

for (const [label, Q] of kinds) {
  test(
    `${label}: FIFO order, full and empty`,
    withSegment("q-basic", (seg) => {
      const q = Q.create(seg, "q", u32, 4);
      assert.equal(q.capacity, 4);
      assert.equal(q.isEmpty, true);
      assert.equal(q.tryPop(), undefined);
      assert.throws(() => q.pop(), (e) => code(e) === "EMPTY");
      for (let i = 1; i <= 4; i++) q.push(i);
      assert.equal(q.isFull, true);
      assert.equal(q.size, 4);
      assert.equal(q.tryPush(5), false);
      assert.throws(() => q.push(5), (e) => code(e) === "FULL");
      assert.equal(q.pop(), 1);
      assert.equal(q.tryPush(5), true);
      assert.deepEqual([q.pop(), q.pop(), q.pop(), q.tryPop(), q.tryPop()], [2, 3, 4, 5, undefined]);
      assert.equal(q.size, 0);
    }),
  );

  test(
    `${label}: capacity 1`,
    withSegment("q-cap1", (seg) => {
      const q = Q.create(seg, "q", f64, 1);
      for (let i = 0; i < 100; i++) {
        assert.equal(q.tryPush(i + 0.5), true);
        assert.equal(q.tryPush(-1), false);
        assert.equal(q.isFull, true);
        assert.equal(q.pop(), i + 0.5);
        assert.equal(q.tryPop(), undefined);
      }
    }),
  );

  test(
    `${label}: capacity that is not a power of two holds exactly that many`,
    withSegment("q-npot", (seg) => {
      for (const cap of [3, 5, 100, 1000]) {
        const q = Q.create(seg, `q${cap}`, u32, cap);
        for (let lap = 0; lap < 3; lap++) {
          let n = 0;
          while (q.tryPush(n)) n++;
          assert.equal(n, cap);
          assert.equal(q.size, cap);
          for (let i = 0; i < cap; i++) assert.equal(q.pop(), i);
          assert.equal(q.tryPop(), undefined);
        }
      }
    }),
  );

  test(
    `${label}: struct and string elements`,
    withSegment("q-struct", (seg) => {
      const P = struct({ x: f64, y: f64, id: u32, tag: string(5) });
      const q = Q.create(seg, "q", P, 3);
      const a = { x: 1.5, y: -2, id: 7, tag: "héé" };
      const b = { x: 0, y: 1e300, id: 4294967295, tag: "" };
      q.push(a);
      q.push(b);
      assert.deepEqual(q.pop(), a);
      assert.deepEqual(q.popBulk(5), [b]);
      const s = Q.create(seg, "s", string(3), 2);
      s.push("abc");
      assert.throws(() => s.push("abcd"), (e) => code(e) === "INVALID_ARGUMENT");
      assert.equal(s.pop(), "abc");
    }),
  );

  test(
    `${label}: bulk operations larger than the capacity`,
    withSegment("q-bulk", (seg) => {
      const q = Q.create(seg, "q", u32, 4);
      assert.equal(q.pushBulk([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 4);
      assert.equal(q.pushBulk([11]), 0);
      assert.deepEqual(q.popBulk(100), [1, 2, 3, 4]);
      assert.deepEqual(q.popBulk(100), []);
      assert.equal(q.pushBulk([5, 6, 7]), 3);
      const out = [0];
      assert.equal(q.popBulk(2, out), out);
      assert.deepEqual(out, [0, 5, 6]);
      assert.deepEqual(q.popBulk(0), []);
      assert.deepEqual(q.popBulk(1), [7]);
      assert.throws(() => q.popBulk(-1), (e) => code(e) === "INVALID_ARGUMENT");
    }),
  );

  test(
    `${label}: bad values throw INVALID_ARGUMENT and lose nothing`,
    withSegment("q-bad", (seg) => {
      const q = Q.create(seg, "q", u8, 4);
      q.push(1);
      for (const bad of [256, -1, 1.5, "2", undefined, null, 2n]) {
        assert.throws(() => q.push(bad as unknown as number), (e) => code(e) === "INVALID_ARGUMENT");
        assert.throws(() => q.tryPush(bad as unknown as number), (e) => code(e) === "INVALID_ARGUMENT");
      }
      assert.throws(() => q.pushBulk([2, 3, 300]), (e) => code(e) === "INVALID_ARGUMENT");
      assert.equal(q.size, 1);
      q.push(2);
      assert.deepEqual(q.popBulk(10), [1, 2]);
      const P = struct({ a: u32, b: u32 });
      const s = Q.create(seg, "s", P, 2);
      assert.throws(() => s.push({ a: 1 } as unknown as { a: number; b: number }), (e) => code(e) === "INVALID_ARGUMENT");
      assert.throws(() => s.push({ a: 1, b: -1 }), (e) => code(e) === "INVALID_ARGUMENT");
      assert.equal(s.size, 0);
      s.push({ a: 1, b: 2 });
      assert.deepEqual(s.pop(), { a: 1, b: 2 });
    }),
  );

  test(
    `${label}: open by name, wrong type, closed handles`,
    withSegment("q-open", (seg, name) => {
      const q = Q.create(seg, "q", u32, 8);
      q.push(42);
      assert.throws(() => Q.create(seg, "q", u32, 8), (e) => code(e) === "EXISTS");
      assert.throws(() => Q.open(seg, "q", f64), (e) => code(e) === "TYPE_MISMATCH");
      assert.throws(() => Q.open(seg, "nope", u32), (e) => code(e) === "NOT_FOUND");
      assert.throws(() => Stack.open(seg, "q", u32), (e) => code(e) === "TYPE_MISMATCH");
      const other = label === "Queue" ? SpscQueue : Queue;
      assert.throws(() => other.open(seg, "q", u32), (e) => code(e) === "TYPE_MISMATCH");
      assert.throws(() => Q.create(seg, "bad", u32, 0), (e) => code(e) === "INVALID_ARGUMENT");
      assert.throws(() => Q.create(seg, "bad", u32, 2 ** 30 + 1), (e) => code(e) === "INVALID_ARGUMENT");
      using seg2 = Segment.open(name);
      const q2 = Q.openOrCreate(seg2, "q", u32, 1);
      assert.equal(q2.capacity, 8);
      assert.equal(q2.pop(), 42);
      q2.close();
      assert.throws(() => q2.push(1), (e) => code(e) === "CLOSED");
      assert.throws(() => q2.size, (e) => code(e) === "CLOSED");
      q.push(1);
      seg2.close();
      assert.throws(() => q2.tryPop(), (e) => code(e) === "CLOSED");
      assert.equal(q.pop(), 1); // the first segment handle is unaffected
    }),
  );
}

test(
  "Queue: 32-bit positions wrap around",
  withSegment("q-wrap", (seg) => {
    for (const cap of [1, 4, 5]) {
      const q = Queue.create(seg, `q${cap}`, u32, cap);
      _setQueuePositions(q, 2 ** 32 - 7);
      let next = 0;
      let expect = 0;
      // Run several laps across the wrap, with single and bulk operations.
      for (let round = 0; round < 20; round++) {
        if (round % 2 === 0) {
          while (q.tryPush(next)) next++;
        } else {
          const vs = [next, next + 1, next + 2];
          next += q.pushBulk(vs);
        }
        assert.ok(q.size <= cap && q.size >= 1);
        if (round % 3 === 0) {
          for (const v of q.popBulk(cap)) assert.equal(v, expect++);
        } else {
          while (!q.isEmpty) assert.equal(q.pop(), expect++);
        }
      }
      assert.equal(expect, next);
      assert.ok(next > 14);
    }
  }),
);

test(
  "Queue: damaged slot sequences give CORRUPT, not an endless loop",
  withSegment("q-corrupt", (seg) => {
    const q = Queue.create(seg, "q", u32, 4);
    const data = seg.find("q")!.offset + 64 + 128;
    seg.memory.i32[data >> 2] = 12345; // slot 0 claims a far-future position
    assert.throws(() => q.tryPush(1), (e) => code(e) === "CORRUPT");
    seg.memory.i32[data >> 2] = 0;
    q.push(1);
    assert.equal(q.pop(), 1);
  }),
);

// A simple in-process model: a JS array with a capacity.
type Op =
  | { op: "push"; v: number }
  | { op: "pop" }
  | { op: "pushBulk"; vs: number[] }
  | { op: "popBulk"; n: number }
  | { op: "bad" };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("push" as const), v: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
  fc.record({ op: fc.constant("pop" as const) }),
  fc.record({ op: fc.constant("pushBulk" as const), vs: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 12 }) }),
  fc.record({ op: fc.constant("popBulk" as const), n: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant("bad" as const) }),
);

for (const [label, Q] of kinds) {
  test(
    `${label}: behaves like an array model under random operations`,
    withSegment("q-prop", (seg) => {
      let run = 0;
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.array(opArb, { maxLength: 80 }), (cap, wrap, ops) => {
          const name = `p${run++}`;
          const q = Q.create(seg, name, u32, cap);
          if (wrap && q instanceof Queue) _setQueuePositions(q, 2 ** 32 - 20);
          const model: number[] = [];
          try {
            for (const o of ops) {
              switch (o.op) {
                case "push": {
                  const ok = q.tryPush(o.v);
                  assert.equal(ok, model.length < cap);
                  if (ok) model.push(o.v);
                  break;
                }
                case "pop":
                  assert.equal(q.tryPop(), model.shift());
                  break;
                case "pushBulk": {
                  const n = q.pushBulk(o.vs);
                  assert.equal(n, Math.min(o.vs.length, cap - model.length));
                  model.push(...o.vs.slice(0, n));
                  break;
                }
                case "popBulk":
                  assert.deepEqual(q.popBulk(o.n), model.splice(0, o.n));
                  break;
                case "bad":
                  assert.throws(() => q.pushBulk([1, -1]), (e) => code(e) === "INVALID_ARGUMENT");
                  break;
              }
              assert.equal(q.size, model.length);
              assert.equal(q.isEmpty, model.length === 0);
              assert.equal(q.isFull, model.length === cap);
            }
          } finally {
            q.close();
            seg.remove(name);
          }
        }),
        { numRuns: 150 },
      );
      assert.equal(run, 150);
    }),
  );
}

test(
  "SpscQueue: peek shows the oldest element without removing it",
  withSegment("q-peek", (seg) => {
    const q = SpscQueue.create(seg, "q", u32, 3);
    assert.equal(q.peek(), undefined);
    q.push(1);
    q.push(2);
    assert.equal(q.peek(), 1);
    assert.equal(q.peek(), 1);
    assert.equal(q.pop(), 1);
    assert.equal(q.peek(), 2);
  }),
);

test(
  "Queue: 64-bit numbers and many slots of one lap",
  withSegment("q-i64", (seg) => {
    const q = Queue.create(seg, "q", i64AsNumber, 1000);
    const vs = Array.from({ length: 1000 }, (_, i) => (i - 500) * 2 ** 40 + i);
    assert.equal(q.pushBulk(vs), 1000);
    assert.deepEqual(q.popBulk(1000), vs);
  }),
);

interface ProducerReport {
  pushed: number;
}
interface ConsumerReport {
  counts: number[];
  sums: number[];
  orderViolations: number;
  bad: number;
}

async function stress(kind: "mpmc" | "spsc", producers: Runtime[], consumers: Runtime[], perProducer: number, capacity: number) {
  const name = uniqueName(`q-stress-${kind}`);
  const seg = Segment.create(name, { size: 1 << 22 });
  try {
    if (kind === "spsc") SpscQueue.create(seg, "q", u32, capacity);
    else Queue.create(seg, "q", u32, capacity);
    SharedAtomic.create(seg, "q.taken", u32);
    const total = perProducer * producers.length;
    const extra = kind === "spsc" ? ["spsc"] : [];
    const children = [
      ...consumers.map((rt) =>
        start(rt, WORKER, [name, "q", "consume", String(total), String(producers.length), ...extra], 60_000)
      ),
      ...producers.map((rt, id) => start(rt, WORKER, [name, "q", "produce", String(id), String(perProducer), ...extra], 60_000)),
    ];
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) assert.equal(r.code, 0, `worker failed: ${r.stderr}`);
    const reports = results.slice(0, consumers.length).map((r) => lastJson<ConsumerReport>(r.stdout));
    for (const r of results.slice(consumers.length)) assert.equal(lastJson<ProducerReport>(r.stdout).pushed, perProducer);
    const expectedSum = (perProducer * (perProducer - 1)) / 2;
    for (let p = 0; p < producers.length; p++) {
      assert.equal(reports.reduce((s, r) => s + r.counts[p], 0), perProducer, `count of producer ${p}`);
      assert.equal(reports.reduce((s, r) => s + r.sums[p], 0), expectedSum, `sum of producer ${p}`);
    }
    for (const r of reports) {
      assert.equal(r.orderViolations, 0);
      assert.equal(r.bad, 0);
    }
    const q = kind === "spsc" ? SpscQueue.open(seg, "q", u32) : Queue.open(seg, "q", u32);
    assert.equal(q.size, 0);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}

test("Queue: 2 producers and 2 consumers, Deno and Bun processes: exactly once, per-producer order", async () => {
  await stress("mpmc", ["deno", "bun"], ["bun", "deno"], 60_000, 64);
}, { timeout: 60_000 });

test("Queue: 3 producers, 2 consumers, capacity 5 (not a power of two)", async () => {
  await stress("mpmc", ["bun", "deno", "bun"], ["deno", "bun"], 20_000, 5);
}, { timeout: 60_000 });

test("SpscQueue: one Deno producer, one Bun consumer: exactly once, in order", async () => {
  await stress("spsc", ["deno"], ["bun"], 100_000, 100);
}, { timeout: 60_000 });
