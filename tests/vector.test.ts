import assert from "node:assert/strict";
import fc from "fast-check";
import { f64, i32, string, u8 } from "../src/segment/elements.ts";
import { SharedAtomic } from "../src/structures/atomic.ts";
import { RingBuffer } from "../src/structures/ring_buffer.ts";
import { Vector } from "../src/structures/vector.ts";
import { test } from "./harness.ts";
import { code } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, run } from "./helpers/procs.ts";
import { Rec, rec, whole } from "./workers/vector_rec.ts";

const worker = new URL("./workers/vector_worker.ts", import.meta.url);

const withSegment = (fn: SegmentBody, size = 1 << 22) => segmentTest("vec", size, fn);

test(
  "vector: push returns the index; get, length, iteration, toArray, view",
  withSegment((seg) => {
    const v = Vector.create(seg, "v", f64, 5);
    assert.equal(v.length, 0);
    assert.equal(v.get(0), undefined);
    assert.deepEqual(v.toArray(), []);
    assert.equal(v.push(1.5), 0);
    assert.equal(v.push(2.5), 1);
    assert.equal(v.length, 2);
    assert.equal(v.get(1), 2.5);
    assert.equal(v.get(2), undefined);
    assert.equal(v.has(1), true);
    assert.equal(v.has(2), false);
    assert.deepEqual([...v], [1.5, 2.5]);
    assert.deepEqual(v.toArray(), [1.5, 2.5]);
    assert.deepEqual([...v.view()], [1.5, 2.5]);
    const other = Vector.open(seg, "v", f64);
    assert.equal(other.length, 2);
    assert.equal(other.get(0), 1.5);
    assert.equal(code(() => v.get(5)), "OUT_OF_RANGE");
    assert.equal(code(() => v.get(-1)), "OUT_OF_RANGE");
    assert.equal(code(() => v.get(0.5)), "OUT_OF_RANGE");
  }),
);

test(
  "vector: full vector throws FULL (tryPush -1) and claims nothing more; capacity 1",
  withSegment((seg) => {
    const v = Vector.create(seg, "one", u8, 1);
    assert.equal(v.push(7), 0);
    assert.equal(v.isFull, true);
    assert.equal(code(() => v.push(8)), "FULL");
    assert.equal(v.tryPush(8), -1);
    assert.equal(v.length, 1);
    assert.equal(v.reserved, 1);
    assert.deepEqual(v.toArray(), [7]);
    const odd = Vector.create(seg, "odd", u8, 3); // any capacity: no wrap-around in a vector
    for (let i = 0; i < 3; i++) odd.push(i);
    assert.equal(odd.tryPush(3), -1);
    assert.deepEqual(odd.toArray(), [0, 1, 2]);
  }),
);

test(
  "vector: invalid values throw INVALID_ARGUMENT before an index is claimed",
  withSegment((seg) => {
    const v = Vector.create(seg, "v", u8, 4);
    assert.equal(code(() => v.push(256)), "INVALID_ARGUMENT");
    assert.equal(code(() => v.push(-1)), "INVALID_ARGUMENT");
    assert.equal(v.reserved, 0);
    assert.equal(v.push(1), 0);
    const r = Vector.create(seg, "r", Rec, 4);
    // deno-lint-ignore no-explicit-any
    assert.equal(code(() => r.push({ tag: 1, i: 2, key: 3 } as any)), "INVALID_ARGUMENT");
    assert.equal(r.reserved, 0);
    assert.equal(r.push(rec(1, 2)), 0);
    assert.deepEqual(r.get(0), rec(1, 2));
    const s = Vector.create(seg, "s", string(4), 2);
    assert.equal(code(() => s.push("too long")), "INVALID_ARGUMENT");
    s.push("ok");
    assert.deepEqual(s.toArray(), ["ok"]);
  }),
);

test(
  "vector: length is the contiguous published prefix (a claimed but unwritten slot holds it back)",
  withSegment((seg) => {
    const v = Vector.create(seg, "v", i32, 8);
    v.push(10);
    // Simulate an appender that claimed index 1 and has not written it yet.
    const control = v.offset + 64;
    Atomics.add(seg.memory.i32, control >> 2, 1);
    assert.equal(v.push(30), 2);
    assert.equal(v.length, 1);
    assert.equal(v.get(1), undefined);
    assert.equal(v.get(2), 30); // published beyond the prefix: readable
    assert.deepEqual(v.toArray(), [10]);
    assert.equal(v.reserved, 3);
    // The straggler finishes: write, flag, and the prefix catches up over index 2 too.
    const flags = (v.offset + 64 + 128 + 8 * 4) >> 2;
    seg.memory.i32[(v.offset + 64 + 128 + 4) >> 2] = 20;
    Atomics.store(seg.memory.i32, flags + 1, 1);
    assert.equal(v.push(40), 3);
    assert.equal(v.length, 4);
    assert.deepEqual(v.toArray(), [10, 20, 30, 40]);
  }),
);

test(
  "vector: wrong type, CLOSED after close",
  withSegment((seg) => {
    const v = Vector.create(seg, "v", f64, 4);
    assert.equal(code(() => Vector.open(seg, "v", i32)), "TYPE_MISMATCH");
    RingBuffer.create(seg, "ring", f64, 4);
    assert.equal(code(() => Vector.open(seg, "ring", f64)), "TYPE_MISMATCH");
    assert.equal(code(() => Vector.create(seg, "z", f64, 0)), "INVALID_ARGUMENT");
    assert.equal(code(() => Vector.create(seg, "z", f64, 2 ** 30 + 1)), "INVALID_ARGUMENT");
    v.push(1);
    v.close();
    for (const op of [() => v.push(1), () => v.get(0), () => v.length, () => v.toArray()]) assert.equal(code(op), "CLOSED");
    const again = Vector.open(seg, "v", f64);
    seg.close();
    assert.equal(code(() => again.get(0)), "CLOSED");
  }),
);

test(
  "vector: matches an array model under random operations (fast-check)",
  withSegment((seg) => {
    let id = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("push" as const), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
            fc.record({ op: fc.constant("bad" as const) }),
            fc.record({ op: fc.constant("get" as const), i: fc.nat(12) }),
          ),
          { maxLength: 40 },
        ),
        (cap, ops) => {
          const v = Vector.create(seg, `m${id++}`, i32, cap);
          try {
            const model: number[] = [];
            for (const o of ops) {
              if (o.op === "push") {
                const i = v.tryPush(o.v);
                if (model.length < cap) {
                  assert.equal(i, model.length);
                  model.push(o.v);
                } else assert.equal(i, -1);
              } else if (o.op === "bad") {
                assert.equal(code(() => v.push(2 ** 31)), "INVALID_ARGUMENT");
              } else if (o.i >= cap) {
                assert.equal(code(() => v.get(o.i)), "OUT_OF_RANGE");
              } else assert.equal(v.get(o.i), model[o.i]);
              assert.equal(v.length, model.length);
              assert.equal(v.reserved, model.length);
            }
            assert.deepEqual(v.toArray(), model);
          } finally {
            v.close();
            seg.remove(v.name);
          }
        },
      ),
      { numRuns: 150 },
    );
  }),
);

test(
  "vector: appenders in Deno and Bun at once, readers concurrently: every value once, nothing seen unwritten",
  withSegment(async (seg, name) => {
    const per = 25_000;
    const appenders = [["deno", 1], ["bun", 2], ["deno", 3], ["bun", 4]] as const;
    const total = per * appenders.length;
    const v = Vector.create(seg, "v", Rec, total + 10);
    const go = SharedAtomic.create(seg, "go", i32);
    const scanners = ["bun", "deno"] as const;
    const jobs = [
      ...appenders.map(([rt, tag]) => run(rt, worker, ["append", name, "v", String(tag), String(per)], 40_000)),
      ...scanners.map((rt) => run(rt, worker, ["scan", name, "v", String(total)], 40_000)),
    ];
    const deadline = Date.now() + 20_000;
    while (go.load() < appenders.length + scanners.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    go.store(1000);
    const outs = await Promise.all(jobs);
    const pushReports = outs.slice(0, appenders.length).map((o) => lastJson<{ pushed: number; idxSum: number }>(o));
    const scanReports = outs.slice(appenders.length).map((o) =>
      lastJson<{ bad: number; length: number; iterated: number; checked: number }>(o)
    );
    assert.equal(v.length, total);
    // Indexes handed out are exactly 0..total-1, each once.
    assert.equal(pushReports.reduce((s, r) => s + r.idxSum, 0), (total * (total - 1)) / 2);
    const seen = new Map<number, number[]>();
    for (const e of v) {
      assert.ok(whole(e));
      const list = seen.get(e.tag) ?? [];
      list.push(e.i);
      seen.set(e.tag, list);
    }
    for (const [, tag] of appenders) {
      const list = seen.get(tag)!;
      assert.equal(list.length, per);
      // Each appender's values appear once each, and in its own push order.
      for (let i = 0; i < per; i++) assert.equal(list[i], i);
    }
    for (const r of scanReports) {
      assert.equal(r.bad, 0, JSON.stringify(r));
      assert.equal(r.length, total);
      assert.equal(r.iterated, total);
    }
  }),
  { timeout: 60_000 },
);
