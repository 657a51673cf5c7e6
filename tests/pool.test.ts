import assert from "node:assert/strict";
import fc from "fast-check";
import { f64, i32, ObjectPool, Segment, SharedArray, Stack, string, struct, u32, u8 } from "../mod.ts";
import { _setPoolPositions } from "../src/structures/pool.ts";
import { test, uniqueName } from "./harness.ts";
import { codeOf as code } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, run, type Runtime, start } from "./helpers/procs.ts";

const WORKER = new URL("./workers/pool_worker.ts", import.meta.url);

const withSegment = (tag: string, fn: SegmentBody) => segmentTest(tag, 1 << 22, fn);

test(
  "ObjectPool: acquire until exhausted, release, reuse",
  withSegment("p-basic", (seg) => {
    const p = ObjectPool.create(seg, "p", f64, 3);
    assert.equal(p.available, 3);
    const hs = [p.acquire(), p.acquire(), p.acquire()];
    assert.ok(hs.every((h) => h !== undefined));
    assert.equal(new Set(hs.map((h) => p.slotOf(h!))).size, 3);
    assert.equal(p.acquire(), undefined);
    assert.equal(p.available, 0);
    assert.equal(p.inUse, 3);
    p.set(hs[1]!, 2.5);
    assert.equal(p.get(hs[1]!), 2.5);
    p.release(hs[1]!);
    assert.equal(p.available, 1);
    const again = p.acquire()!;
    assert.equal(p.slotOf(again), p.slotOf(hs[1]!));
    assert.notEqual(again, hs[1]); // a new generation: the old handle is stale
    assert.equal(p.get(again), 2.5); // the slot keeps its value
    assert.equal(p.isHeld(hs[1]!), false);
    assert.equal(p.isHeld(again), true);
  }),
);

test(
  "ObjectPool: double release and stale handles are INVALID_ARGUMENT",
  withSegment("p-double", (seg) => {
    const p = ObjectPool.create(seg, "p", u32, 2);
    const h = p.acquire()!;
    p.release(h);
    assert.throws(() => p.release(h), (e) => code(e) === "INVALID_ARGUMENT" && /already released/.test((e as Error).message));
    const h2 = p.acquire()!;
    const h3 = p.acquire()!;
    assert.equal(p.acquire(), undefined);
    const stale = p.slotOf(h2) === p.slotOf(h) ? h : h;
    assert.throws(() => p.release(stale), (e) => code(e) === "INVALID_ARGUMENT");
    assert.throws(() => p.get(h), (e) => code(e) === "INVALID_ARGUMENT");
    assert.throws(() => p.set(h, 1), (e) => code(e) === "INVALID_ARGUMENT");
    for (const junk of [undefined, -1, 0, 1.5, 2 ** 21 + 0.5, 5, "x", 2 ** 60, NaN]) {
      assert.throws(() => p.release(junk as unknown as number), (e) => code(e) === "INVALID_ARGUMENT", String(junk));
      assert.throws(() => p.get(junk as unknown as number), (e) => code(e) === "INVALID_ARGUMENT", String(junk));
    }
    // Nothing above disturbed the pool.
    assert.equal(p.available, 0);
    p.release(h2);
    p.release(h3);
    assert.equal(p.available, 2);
  }),
);

test(
  "ObjectPool: capacity 1 and capacities that are not powers of two",
  withSegment("p-cap", (seg) => {
    for (const cap of [1, 3, 6, 100]) {
      const p = ObjectPool.create(seg, `p${cap}`, u8, cap);
      for (let lap = 0; lap < 3; lap++) {
        const hs = [];
        for (let h = p.acquire(); h !== undefined; h = p.acquire()) hs.push(h);
        assert.equal(hs.length, cap);
        assert.equal(new Set(hs.map((h) => p.slotOf(h))).size, cap);
        for (const h of hs) p.release(h);
        assert.equal(p.available, cap);
      }
    }
  }),
);

test(
  "ObjectPool: struct slots, field access in place, bad values",
  withSegment("p-struct", (seg) => {
    const P = struct({ x: f64, y: f64, id: u32, label: string(8) });
    const p = ObjectPool.create(seg, "p", P, 4);
    const h = p.acquire()!;
    p.set(h, { x: 1, y: 2, id: 3, label: "abc" });
    assert.equal(p.getField(h, "y"), 2);
    p.setField(h, "id", 99);
    assert.deepEqual(p.get(h), { x: 1, y: 2, id: 99, label: "abc" });
    assert.throws(() => p.setField(h, "id", -5), (e) => code(e) === "INVALID_ARGUMENT");
    assert.throws(() => p.set(h, { x: 0, y: 0, id: 0, label: "far too long" }), (e) => code(e) === "INVALID_ARGUMENT");
    assert.throws(() => p.getField(h, "nope"), (e) => code(e) === "INVALID_ARGUMENT");
    assert.deepEqual(p.get(h), { x: 1, y: 2, id: 99, label: "abc" }); // unchanged by the failed writes
  }),
);

test(
  "ObjectPool: open by name, wrong type, closed handles",
  withSegment("p-open", (seg, name) => {
    const p = ObjectPool.create(seg, "p", u32, 4);
    const h = p.acquire()!;
    p.set(h, 77);
    assert.throws(() => ObjectPool.open(seg, "p", f64), (e) => code(e) === "TYPE_MISMATCH");
    assert.throws(() => Stack.open(seg, "p", u32), (e) => code(e) === "TYPE_MISMATCH");
    assert.throws(() => ObjectPool.create(seg, "big", u32, 2 ** 21), (e) => code(e) === "INVALID_ARGUMENT");
    using seg2 = Segment.open(name);
    const p2 = ObjectPool.openOrCreate(seg2, "p", u32, 1);
    assert.equal(p2.capacity, 4);
    assert.equal(p2.get(h), 77); // a handle works in any process's view of the pool
    p2.release(h);
    p2.close();
    assert.throws(() => p2.acquire(), (e) => code(e) === "CLOSED");
    seg.close();
    assert.throws(() => p.acquire(), (e) => code(e) === "CLOSED");
    assert.throws(() => p.available, (e) => code(e) === "CLOSED");
  }),
);

test(
  "ObjectPool: free-ring positions wrap around 2^32",
  withSegment("p-wrap", (seg) => {
    for (const cap of [1, 3, 4]) {
      const p = ObjectPool.create(seg, `p${cap}`, u32, cap);
      _setPoolPositions(p, 2 ** 32 - 5);
      for (let round = 0; round < 10; round++) {
        const hs = [];
        for (let h = p.acquire(); h !== undefined; h = p.acquire()) hs.push(h);
        assert.equal(hs.length, cap);
        assert.equal(new Set(hs.map((h) => p.slotOf(h))).size, cap);
        for (const h of hs) p.release(h);
      }
      assert.equal(p.available, cap);
    }
  }),
);

type Op = { op: "acquire" } | { op: "release"; pick: number } | { op: "doubleRelease" } | { op: "set"; pick: number; v: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("acquire" as const) }),
  fc.record({ op: fc.constant("release" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("doubleRelease" as const) }),
  fc.record({ op: fc.constant("set" as const), pick: fc.nat(), v: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
);

test(
  "ObjectPool: behaves like a set-of-held-slots model under random operations",
  withSegment("p-prop", (seg) => {
    let run = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.boolean(), fc.array(opArb, { maxLength: 80 }), (cap, wrap, ops) => {
        const name = `p${run++}`;
        const p = ObjectPool.create(seg, name, u32, cap);
        if (wrap) _setPoolPositions(p, 2 ** 32 - 7);
        const held = new Map<number, number>(); // handle -> value
        const released: number[] = [];
        try {
          for (const o of ops) {
            if (o.op === "acquire") {
              const h = p.acquire();
              if (held.size === cap) assert.equal(h, undefined);
              else {
                assert.notEqual(h, undefined);
                for (const other of held.keys()) assert.notEqual(p.slotOf(other), p.slotOf(h!));
                held.set(h!, p.get(h!));
              }
            } else if (o.op === "release" && held.size > 0) {
              const h = [...held.keys()][o.pick % held.size];
              p.release(h);
              held.delete(h);
              released.push(h);
            } else if (o.op === "doubleRelease" && released.length > 0) {
              assert.throws(() => p.release(released[released.length - 1]), (e) => code(e) === "INVALID_ARGUMENT");
            } else if (o.op === "set" && held.size > 0) {
              const h = [...held.keys()][o.pick % held.size];
              p.set(h, o.v);
              held.set(h, o.v);
            }
            for (const [h, v] of held) assert.equal(p.get(h), v);
            assert.equal(p.available, cap - held.size);
          }
        } finally {
          p.close();
          seg.remove(name);
        }
      }),
      { numRuns: 150 },
    );
    assert.equal(run, 150);
  }),
);

interface Report {
  acquired: number;
  violations: number;
}

test("ObjectPool: 4 processes (2 Deno, 2 Bun) on 3 slots: no slot is ever held twice", async () => {
  const name = uniqueName("p-stress");
  const seg = Segment.create(name, { size: 1 << 20 });
  try {
    const cap = 3;
    const p = ObjectPool.create(seg, "p", f64, cap);
    SharedArray.create(seg, "p.holders", i32, cap);
    const workers: Runtime[] = ["deno", "bun", "bun", "deno"];
    const iterations = 20_000;
    const children = workers.map((rt, i) => start(rt, WORKER, [name, "p", String(i + 1), String(iterations)], 60_000));
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) assert.equal(r.code, 0, `worker failed: ${r.stderr}`);
    for (const r of results.map((x) => lastJson<Report>(x.stdout))) {
      assert.equal(r.acquired, iterations);
      assert.equal(r.violations, 0);
    }
    assert.equal(p.available, cap);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 60_000 });

test("ObjectPool: reclaimDead gives back slots held by exited processes", async () => {
  const name = uniqueName("p-reclaim");
  const seg = Segment.create(name, { size: 1 << 20 });
  try {
    const p = ObjectPool.create(seg, "p", f64, 5);
    const mine = p.acquire()!;
    const held = [
      ...lastJson<{ held: number[] }>(await run("bun", WORKER, [name, "p", "hold", "2"])).held,
      ...lastJson<{ held: number[] }>(await run("deno", WORKER, [name, "p", "hold", "1"])).held,
    ];
    assert.equal(held.length, 3);
    assert.equal(p.available, 1);
    assert.equal(p.reclaimDead(), 3);
    assert.equal(p.reclaimDead(), 0);
    assert.equal(p.available, 4);
    assert.equal(p.isHeld(mine), true); // a live holder keeps its slot
    for (const h of held) assert.throws(() => p.release(h), (e) => code(e) === "INVALID_ARGUMENT");
    const all = [];
    for (let h = p.acquire(); h !== undefined; h = p.acquire()) all.push(h);
    assert.equal(all.length, 4);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 30_000 });
