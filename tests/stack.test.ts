import assert from "node:assert/strict";
import fc from "fast-check";
import { f64, Queue, Segment, Stack, string, struct, u32, u8 } from "../mod.ts";
import { _setStackCounters } from "../src/structures/stack.ts";
import { test, uniqueName } from "./harness.ts";
import { codeOf as code } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, type Runtime, start } from "./helpers/procs.ts";

const WORKER = new URL("./workers/stack_worker.ts", import.meta.url);

const withSegment = (tag: string, fn: SegmentBody) => segmentTest(tag, 1 << 22, fn);

test(
  "Stack: LIFO order, full and empty, peek",
  withSegment("s-basic", (seg) => {
    const s = Stack.create(seg, "s", u32, 3);
    assert.equal(s.isEmpty, true);
    assert.equal(s.peek(), undefined);
    assert.equal(s.tryPop(), undefined);
    assert.throws(() => s.pop(), (e) => code(e) === "EMPTY");
    s.push(1);
    s.push(2);
    assert.equal(s.peek(), 2);
    s.push(3);
    assert.equal(s.isFull, true);
    assert.equal(s.size, 3);
    assert.equal(s.tryPush(4), false);
    assert.throws(() => s.push(4), (e) => code(e) === "FULL");
    assert.deepEqual([s.pop(), s.pop(), s.peek(), s.pop(), s.tryPop()], [3, 2, 1, 1, undefined]);
    assert.equal(s.size, 0);
  }),
);

test(
  "Stack: capacity 1 and capacities that are not powers of two",
  withSegment("s-cap", (seg) => {
    for (const cap of [1, 3, 7, 100]) {
      const s = Stack.create(seg, `s${cap}`, f64, cap);
      for (let lap = 0; lap < 3; lap++) {
        let n = 0;
        while (s.tryPush(n + 0.5)) n++;
        assert.equal(n, cap);
        for (let i = cap - 1; i >= 0; i--) assert.equal(s.pop(), i + 0.5);
        assert.equal(s.isEmpty, true);
      }
    }
  }),
);

test(
  "Stack: struct and string elements",
  withSegment("s-struct", (seg) => {
    const P = struct({ x: f64, name: string(6), id: u8 });
    const s = Stack.create(seg, "s", P, 2);
    s.push({ x: 1.25, name: "ab", id: 3 });
    s.push({ x: -0, name: "ünï", id: 255 });
    assert.deepEqual(s.peek(), { x: -0, name: "ünï", id: 255 });
    assert.deepEqual(s.pop(), { x: -0, name: "ünï", id: 255 });
    assert.deepEqual(s.pop(), { x: 1.25, name: "ab", id: 3 });
  }),
);

test(
  "Stack: bad values throw INVALID_ARGUMENT and lose nothing",
  withSegment("s-bad", (seg) => {
    const s = Stack.create(seg, "s", u8, 2);
    s.push(7);
    for (const bad of [256, -1, 0.5, "1", undefined, 1n]) {
      assert.throws(() => s.push(bad as unknown as number), (e) => code(e) === "INVALID_ARGUMENT");
    }
    assert.equal(s.size, 1);
    s.push(8); // the node a failed push took went back to the free ring
    assert.equal(s.isFull, true);
    assert.deepEqual([s.pop(), s.pop()], [8, 7]);
  }),
);

test(
  "Stack: open by name, wrong type, closed handles",
  withSegment("s-open", (seg, name) => {
    const s = Stack.create(seg, "s", u32, 4);
    s.push(5);
    assert.throws(() => Stack.open(seg, "s", f64), (e) => code(e) === "TYPE_MISMATCH");
    assert.throws(() => Queue.open(seg, "s", u32), (e) => code(e) === "TYPE_MISMATCH");
    assert.throws(() => Stack.create(seg, "big", u32, 2 ** 21), (e) => code(e) === "INVALID_ARGUMENT");
    using seg2 = Segment.open(name);
    const s2 = Stack.openOrCreate(seg2, "s", u32, 100);
    assert.equal(s2.capacity, 4);
    assert.equal(s2.pop(), 5);
    s2.close();
    assert.throws(() => s2.push(1), (e) => code(e) === "CLOSED");
    assert.throws(() => s2.peek(), (e) => code(e) === "CLOSED");
    seg.close();
    assert.throws(() => s.tryPop(), (e) => code(e) === "CLOSED");
  }),
);

test(
  "Stack: head tag and free-ring positions wrap around 2^32",
  withSegment("s-wrap", (seg) => {
    for (const cap of [1, 2, 5]) {
      const s = Stack.create(seg, `s${cap}`, u32, cap);
      _setStackCounters(s, 2 ** 32 - 6, 2 ** 32 - 9);
      let next = 0;
      for (let round = 0; round < 12; round++) {
        const pushed: number[] = [];
        while (s.tryPush(next)) pushed.push(next++);
        assert.equal(pushed.length, cap);
        while (pushed.length > 0) assert.equal(s.pop(), pushed.pop());
        assert.equal(s.isEmpty, true);
      }
    }
  }),
);

type Op = { op: "push"; v: number } | { op: "pop" } | { op: "peek" } | { op: "bad" };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("push" as const), v: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
  fc.record({ op: fc.constant("pop" as const) }),
  fc.record({ op: fc.constant("peek" as const) }),
  fc.record({ op: fc.constant("bad" as const) }),
);

test(
  "Stack: behaves like an array model under random operations",
  withSegment("s-prop", (seg) => {
    let run = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.array(opArb, { maxLength: 80 }), (cap, wrap, ops) => {
        const name = `p${run++}`;
        const s = Stack.create(seg, name, u32, cap);
        if (wrap) _setStackCounters(s, 2 ** 32 - 10, 2 ** 32 - 12);
        const model: number[] = [];
        try {
          for (const o of ops) {
            if (o.op === "push") {
              const ok = s.tryPush(o.v);
              assert.equal(ok, model.length < cap);
              if (ok) model.push(o.v);
            } else if (o.op === "pop") {
              assert.equal(s.tryPop(), model.pop());
            } else if (o.op === "peek") {
              assert.equal(s.peek(), model.at(-1));
            } else {
              assert.throws(() => s.push(-1), (e) => code(e) === "INVALID_ARGUMENT");
            }
            assert.equal(s.size, model.length);
            assert.equal(s.isEmpty, model.length === 0);
            assert.equal(s.isFull, model.length === cap);
          }
        } finally {
          s.close();
          seg.remove(name);
        }
      }),
      { numRuns: 150 },
    );
    assert.equal(run, 150);
  }),
);

interface Report {
  pushed: number;
  counts: number[];
  sums: number[];
  hashes: number[];
  bad: number;
}

async function stress(workers: Runtime[], perWorker: number, capacity: number) {
  const name = uniqueName("s-stress");
  const seg = Segment.create(name, { size: 1 << 22 });
  try {
    const s = Stack.create(seg, "s", u32, capacity);
    const n = String(workers.length);
    const children = workers.map((rt, id) => start(rt, WORKER, [name, "s", String(id), String(perWorker), n], 60_000));
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) assert.equal(r.code, 0, `worker failed: ${r.stderr}`);
    const reports = results.map((r) => lastJson<Report>(r.stdout));
    // What the workers popped plus what is left must be every pushed value, once.
    const counts = new Array(workers.length).fill(0);
    const sums = new Array(workers.length).fill(0);
    const hashes = new Array(workers.length).fill(0);
    for (const r of reports) {
      assert.equal(r.pushed, perWorker);
      assert.equal(r.bad, 0);
      for (let p = 0; p < workers.length; p++) {
        counts[p] += r.counts[p];
        sums[p] += r.sums[p];
        hashes[p] = (hashes[p] + r.hashes[p]) >>> 0;
      }
    }
    for (let v = s.tryPop(); v !== undefined; v = s.tryPop()) {
      const p = Math.floor(v / 2 ** 20);
      counts[p]++;
      sums[p] += v % 2 ** 20;
      hashes[p] = (hashes[p] + Math.imul(v, 2654435761)) >>> 0;
    }
    for (let p = 0; p < workers.length; p++) {
      let h = 0;
      for (let i = 0; i < perWorker; i++) h = (h + Math.imul(p * 2 ** 20 + i, 2654435761)) >>> 0;
      assert.equal(counts[p], perWorker, `count of worker ${p}`);
      assert.equal(sums[p], (perWorker * (perWorker - 1)) / 2, `sum of worker ${p}`);
      assert.equal(hashes[p], h, `hash of worker ${p}`);
    }
    assert.equal(s.size, 0);
    // Every node is back in the free ring: the stack fills to capacity again.
    let k = 0;
    while (s.tryPush(k)) k++;
    assert.equal(k, capacity);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}

test("Stack: 4 processes (2 Deno, 2 Bun) push and pop: every value exactly once", async () => {
  await stress(["deno", "bun", "deno", "bun"], 30_000, 16);
}, { timeout: 60_000 });

test("Stack: capacity 2 under 3 processes (heavy contention on one node pair)", async () => {
  await stress(["bun", "deno", "bun"], 10_000, 2);
}, { timeout: 60_000 });
