import assert from "node:assert/strict";
import fc from "fast-check";
import { SharedMap, SharedSet, string, struct, u16, u32 } from "../mod.ts";
import { test } from "./harness.ts";
import { startBarrier } from "./helpers/barrier.ts";
import { code } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, run, type Runtime } from "./helpers/procs.ts";

const WORKER = new URL("./workers/map_worker.ts", import.meta.url);

const withSegment = (size: number, fn: SegmentBody) => segmentTest("set", size, fn);

test(
  "set: add/has/delete/size/clear/iteration",
  withSegment(1 << 20, (seg) => {
    const s = SharedSet.create(seg, "s", string(8), 10);
    assert.equal(s.slots, 16);
    assert.equal(s.add("x"), true);
    assert.equal(s.add("x"), false);
    assert.equal(s.add("yy"), true);
    assert.equal(s.has("x"), true);
    assert.equal(s.has("z"), false);
    assert.equal(s.size, 2);
    assert.deepEqual(new Set(s), new Set(["x", "yy"]));
    assert.deepEqual(new Set(s.values()), new Set(["x", "yy"]));
    assert.equal(s.delete("x"), true);
    assert.equal(s.delete("x"), false);
    assert.deepEqual([...s.keys()], ["yy"]);
    s.clear();
    assert.equal(s.size, 0);
    assert.deepEqual([...s], []);
    const st = s.stats();
    assert.equal(st.tombstones + st.ready, 0);
  }),
);

test(
  "set: struct keys; TYPE_MISMATCH against a map or another key type; CLOSED after close",
  withSegment(1 << 20, (seg) => {
    const P = struct({ x: u16, y: u16 });
    const s = SharedSet.create(seg, "pts", P, 8);
    s.add({ x: 1, y: 2 });
    assert.equal(s.has({ x: 1, y: 2 }), true);
    assert.equal(s.has({ x: 2, y: 1 }), false);
    assert.equal(code(() => SharedSet.open(seg, "pts", u32)), "TYPE_MISMATCH"); // same size, other type
    assert.equal(code(() => SharedMap.open(seg, "pts", P, u32)), "TYPE_MISMATCH");
    assert.equal(SharedSet.open(seg, "pts", P).has({ x: 1, y: 2 }), true);
    s.close();
    assert.equal(code(() => s.add({ x: 0, y: 0 })), "CLOSED");
    assert.equal(code(() => s.has({ x: 0, y: 0 })), "CLOSED");
    assert.equal(code(() => s.size), "CLOSED");
  }),
);

test(
  "set: property: random add/delete/has/clear sequences match a JS Set",
  withSegment(1 << 20, (seg) => {
    const op = fc.oneof(
      fc.record({ op: fc.constant("add" as const), k: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ op: fc.constant("delete" as const), k: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ op: fc.constant("has" as const), k: fc.integer({ min: 0, max: 30 }) }),
      { weight: 1, arbitrary: fc.constant({ op: "clear" as const, k: 0 }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const s = SharedSet.create(seg, "p", u32, 16, { slots: 16 });
        try {
          const model = new Set<number>();
          for (const o of ops) {
            if (o.op === "add") {
              if (!model.has(o.k) && model.size >= 16) assert.equal(code(() => s.add(o.k)), "FULL");
              else {
                assert.equal(s.add(o.k), !model.has(o.k));
                model.add(o.k);
              }
            } else if (o.op === "delete") assert.equal(s.delete(o.k), model.delete(o.k));
            else if (o.op === "has") assert.equal(s.has(o.k), model.has(o.k));
            else {
              s.clear();
              model.clear();
            }
            assert.equal(s.size, model.size);
          }
          assert.deepEqual(new Set(s), model);
        } finally {
          seg.remove("p");
        }
      }),
      { numRuns: 150 },
    );
  }),
);

const MIX: Runtime[] = ["deno", "bun", "deno", "bun"];

test(
  "set: 4 processes (2 Deno, 2 Bun) add the same keys: each key is added exactly once",
  withSegment(1 << 20, async (seg, name) => {
    const keys = 6000;
    const s = SharedSet.create(seg, "race", u32, keys);
    startBarrier(seg, 4);
    const outs = await Promise.all(MIX.map((rt, w) => run(rt, WORKER, ["set-add", name, "race", String(keys), String(w)])));
    const won = outs.map((o) => lastJson<{ won: number }>(o).won);
    assert.equal(won.reduce((a, b) => a + b, 0), keys); // exactly one true per key, across processes
    assert.equal(s.size, keys);
    const all = [...s];
    assert.equal(all.length, keys);
    assert.equal(new Set(all).size, keys);
  }),
  { timeout: 60_000 },
);

test(
  "set: 4 processes add and delete overlapping keys: ends with every key once, counts match",
  withSegment(1 << 20, async (seg, name) => {
    const keys = 2000, rounds = 6;
    const s = SharedSet.create(seg, "churn", u32, keys);
    startBarrier(seg, 4);
    await Promise.all(MIX.map((rt, w) => run(rt, WORKER, ["set-churn", name, "churn", String(keys), String(rounds), String(w)])));
    assert.equal(s.size, keys);
    const all = [...s];
    assert.equal(all.length, keys);
    assert.equal(new Set(all).size, keys);
    for (let k = 0; k < keys; k++) assert.ok(s.has(k));
    assert.equal(s.stats().ready, keys);
  }),
  { timeout: 60_000 },
);
