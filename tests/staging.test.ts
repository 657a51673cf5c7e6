/**
 * The queues' staging struct (SpscQueue / Queue `staging()`, `tryPushStaged`,
 * `pushStaged`; src/segment/struct_view.ts, src/structures/struct_views.ts): every
 * field type's setter checks as the struct's `write` does (a refused value changes
 * nothing and queues nothing), fields persist between pushes and no pop touches them,
 * full and closed queues, non-struct types, the view as an ordinary value, and Queue's
 * TypeScript paths (a slot of 64 KiB and more; a dead consumer's slot that only the
 * repair gives back). Multi-process streams that push staged structs, Deno and Bun
 * mixed: tests/struct_queue.test.ts. No timing is asserted.
 */
import assert from "node:assert/strict";
import { array, f64, Queue, SpscQueue, string, struct, u32, u8 } from "../mod.ts";
import { test } from "./harness.ts";
import { Particle, particle, whole } from "./helpers/particle.ts";
import { queueGeometry } from "./helpers/queue_geometry.ts";
import { EVERY_KEY, EveryField, type EveryValue, everyValue } from "./helpers/every_field.ts";
import { segmentTest } from "./helpers/segments.ts";

const S = EveryField, value = everyValue, KEYS = EVERY_KEY;
type SV = EveryValue;
/** For each field, values its type refuses. */
const BAD: { [K in keyof SV]: unknown[] } = {
  u: [256, -1, 1.5, "1", 1n],
  i: [32768, -32769, NaN],
  w: [2 ** 32, -1, undefined],
  f: ["x", 1n, null],
  d: ["1", {}, 1n],
  ok: [1, "true", null],
  big: [2n ** 63n, 1, "1"],
  ubig: [-1n, 2n ** 64n, 0],
  n: [-1, 2 ** 53, 0.5, 1n],
  sn: [2 ** 53, 0.5, "0"],
  name: ["much too long", 7],
  inner: [{ a: 1 }, { a: 300, b: 0 }, null, 5],
  xs: [[1, 2], [1, 2, 70000], "abc"],
};

for (const cls of ["SpscQueue", "Queue"] as const) {
  const make = cls === "Queue" ? Queue : SpscQueue;

  test(
    `staging ${cls}: every field type set on the staging struct comes out of tryPop as assigned; the view is one object, zero at first`,
    segmentTest("stg", 1 << 20, (seg) => {
      const q = make.create(seg, "s", S, 4);
      const v = q.staging();
      assert.equal(q.staging(), v, "one staging struct per handle");
      const zero: SV = {
        u: 0,
        i: 0,
        w: 0,
        f: 0,
        d: 0,
        ok: false,
        big: 0n,
        ubig: 0n,
        n: 0,
        sn: 0,
        name: "",
        inner: { a: 0, b: 0 },
        xs: [0, 0, 0],
      };
      for (const key of KEYS) assert.deepEqual(v[key], zero[key], `${key} starts as the all-zero struct's`);
      for (let round = 0; round < 3; round++) {
        for (const k of [2 * round, 2 * round + 1]) {
          const want = value(k);
          for (const key of KEYS) (v as Record<string, unknown>)[key] = want[key];
          for (const key of KEYS) assert.deepEqual(v[key], want[key], `${key} reads back`);
          assert.equal(q.tryPushStaged(), true);
        }
        for (const k of [2 * round, 2 * round + 1]) assert.deepEqual(q.tryPop(), value(k));
        assert.equal(q.tryPop(), undefined);
      }
      assert.deepEqual({ ...v }, {}, "accessors, not own properties");
    }),
  );

  test(
    `staging ${cls}: a value a field refuses is INVALID_ARGUMENT, the field unchanged and nothing queued`,
    segmentTest("stg", 1 << 20, (seg) => {
      const q = make.create(seg, "s", S, 4);
      const v = q.staging() as Record<string, unknown>;
      const good = value(3);
      for (const key of KEYS) v[key] = good[key];
      for (const key of KEYS) {
        for (const bad of BAD[key]) {
          assert.throws(() => (v[key] = bad), { code: "INVALID_ARGUMENT" }, `${key} = ${String(bad)}`);
          assert.deepEqual(v[key], good[key], `${key} unchanged after ${String(bad)}`);
        }
      }
      assert.equal(q.tryPop(), undefined, "no assignment queues anything");
      assert.throws(() => (v.nosuch = 1), TypeError, "not extensible: a misspelt field throws");
      assert.equal(Object.isExtensible(v), false);
      q.pushStaged();
      assert.deepEqual(q.pop(), good, "the struct as it was before the refused assignments");
    }),
  );

  test(
    `staging ${cls}: fields persist between pushes; pops (and tryPopView's bytes) never touch them, nor they a popped view`,
    segmentTest("stg", 1 << 20, (seg) => {
      const q = make.create(seg, "p", Particle, 8);
      const v = q.staging();
      particle(5, v);
      q.pushStaged();
      v.id = 6; // only one field changed: the rest stays Particle(5)'s
      q.pushStaged();
      q.push(particle(7));
      const first = q.tryPopView()!;
      assert.ok(whole(first) && first.id === 5);
      particle(9, v); // staging after a pop: the popped view keeps its bytes
      assert.ok(whole(first) && first.id === 5, "the popped view is not the staging block");
      const second = q.pop();
      assert.deepEqual(second, { ...particle(5), id: 6 });
      assert.ok(whole(v) && v.id === 9, "pops leave the staging struct alone");
      const into = particle(0);
      q.tryPopInto(into);
      assert.deepEqual(into, particle(7));
      assert.ok(whole(v) && v.id === 9);
      // The staging struct is an ordinary value of the type too.
      q.push(v);
      q.tryPush(v);
      assert.deepEqual([q.pop(), q.pop()], [particle(9), particle(9)]);
    }),
  );

  test(
    `staging ${cls}: full is false / FULL with the staged struct kept; closed is CLOSED; non-struct types are INVALID_ARGUMENT`,
    segmentTest("stg", 1 << 20, async (seg) => {
      const q = make.create(seg, "p", Particle, 2);
      const v = q.staging();
      particle(1, v);
      assert.equal(q.tryPushStaged(), true);
      particle(2, v);
      assert.equal(q.tryPushStaged(), true);
      particle(3, v);
      assert.equal(q.tryPushStaged(), false, "full");
      assert.throws(() => q.pushStaged(), { code: "FULL" });
      assert.deepEqual(q.pop(), particle(1));
      assert.equal(q.tryPushStaged(), true, "the retry pushes what was staged");
      assert.deepEqual([q.pop(), q.pop()], [particle(2), particle(3)]);
      // A wait takes the view as its value.
      await q.pushAsync(v, { timeout: 1_000 });
      assert.deepEqual(q.pop(), particle(3));
      const nums = make.create(seg, "nums", f64, 2);
      assert.throws(() => nums.staging(), { code: "INVALID_ARGUMENT", message: /^staging needs a struct element type, not f64/ });
      for (const call of [() => nums.tryPushStaged(), () => nums.pushStaged()]) {
        assert.throws(call, { code: "INVALID_ARGUMENT", message: /^tryPushStaged needs a struct element type, not f64/ });
      }
      assert.equal(nums.tryPop(), undefined, "nothing queued by the refused calls");
      const strs = make.create(seg, "strs", string(8), 2);
      assert.throws(() => strs.tryPushStaged(), { code: "INVALID_ARGUMENT" });
      q.close();
      assert.throws(() => q.staging(), { code: "CLOSED" });
      assert.throws(() => q.tryPushStaged(), { code: "CLOSED" });
      assert.throws(() => q.pushStaged(), { code: "CLOSED" });
    }),
  );
}

test(
  "staging SpscQueue: tryPushStaged takes the producer role, as tryPush does (EXISTS while another handle holds it)",
  segmentTest("stg", 1 << 20, (seg) => {
    const a = SpscQueue.create(seg, "p", Particle, 4), b = SpscQueue.open(seg, "p", Particle);
    particle(1, a.staging());
    assert.equal(a.tryPushStaged(), true);
    assert.equal(a.isProducer, true);
    particle(2, b.staging());
    assert.throws(() => b.tryPushStaged(), { code: "EXISTS" });
    a.releaseRoles();
    assert.equal(b.tryPushStaged(), true);
    assert.deepEqual([b.pop(), b.pop()], [particle(1), particle(2)]);
  }),
);

test(
  "staging Queue: structs of 64 KiB and more (the TypeScript path) push from the staging struct too",
  segmentTest("stg", 1 << 21, (seg) => {
    const Big = struct({ id: u32, blob: array(u8, 70_000) });
    const q = Queue.create(seg, "big", Big, 2);
    const v = q.staging();
    const blob = Array.from({ length: 70_000 }, (_, i) => (i * 13) & 0xff);
    v.blob = blob;
    for (const id of [1, 2]) {
      v.id = id;
      assert.equal(q.tryPushStaged(), true);
    }
    assert.equal(q.tryPushStaged(), false, "full");
    for (const id of [1, 2]) assert.deepEqual(q.pop(), { id, blob });
  }),
);

test(
  "staging Queue: on a full queue whose oldest slot a dead consumer claimed, tryPushStaged gets the slot back through the repair",
  segmentTest("stg", 1 << 20, (seg) => {
    const q = Queue.create(seg, "p", Particle, 4);
    const g = queueGeometry(seg, q as Queue<unknown>);
    for (let i = 0; i < 4; i++) q.push(particle(i));
    // The consumer of position 0 claimed it and died (no record names it): its element is lost.
    Atomics.add(seg.memory.i32, g.deq, 1);
    particle(4, q.staging());
    const end = Date.now() + 2_000; // the repair waits out the 2 ms stall clock; 2 s is a hang, not a speed
    let pushed = false;
    while (!(pushed = q.tryPushStaged()) && Date.now() < end);
    assert.equal(pushed, true, "the repair gave the slot back");
    assert.equal(q.stats.recoveredPops, 1);
    assert.deepEqual([q.pop(), q.pop(), q.pop(), q.pop()], [particle(1), particle(2), particle(3), particle(4)]);
    assert.equal(q.tryPop(), undefined);
  }),
);
