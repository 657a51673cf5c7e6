/**
 * SpscQueue and Queue of struct (and other non-numeric) elements, which move through
 * the native byte-copy calls (zig/fastpath.zig `shmkit_*_bytes`): the type's own
 * checks (a bad value throws with nothing queued), tryPopInto, the same format as the
 * TypeScript paths (a handle with pause points set runs those), hostile control words
 * (CORRUPT, never an access), and multi-process streams, Deno and Bun mixed, in which
 * every field of every message is checked and counts and sums show nothing was lost,
 * duplicated or torn. No timing is asserted.
 */
import assert from "node:assert/strict";
import { array, bool, f64, i64, Queue, SharedAtomic, SpscQueue, string, struct, u32, u8 } from "../mod.ts";
import { lastJson, run, type Runtime } from "./helpers/procs.ts";
import { segmentTest } from "./helpers/segments.ts";
import { assertExactlyOnce } from "./helpers/tally.ts";
import { test } from "./harness.ts";
import { Particle, particle } from "./helpers/particle.ts";
import { EVERY_KEY, EveryField, everyValue } from "./helpers/every_field.ts";

const WORKER = new URL("./workers/struct_queue_worker.ts", import.meta.url);

for (const cls of ["SpscQueue", "Queue"] as const) {
  const make = cls === "Queue" ? Queue : SpscQueue;

  test(
    `struct ${cls}: push / pop / tryPopInto round-trip every field, full and empty reported, FIFO across wrap-around`,
    segmentTest("sq", 1 << 20, (seg) => {
      const q = make.create(seg, "p", Particle, 5);
      let next = 0, want = 0;
      for (let round = 0; round < 7; round++) {
        while (q.tryPush(particle(next))) next++;
        assert.equal(next - want, 5, "exactly capacity elements fit");
        const t = particle(0);
        for (let k = 0; k < 3; k++) assert.deepEqual(q.tryPop(), particle(want++));
        for (let k = 0; k < 2; k++) {
          assert.equal(q.tryPopInto(t), t, "tryPopInto returns its target");
          assert.deepEqual(t, particle(want++));
        }
        assert.equal(q.tryPop(), undefined);
        assert.equal(q.tryPopInto(t), undefined);
      }
    }),
  );

  test(
    `struct ${cls}: a value the type refuses throws INVALID_ARGUMENT and queues nothing; tryPopInto refuses non-struct types and targets`,
    segmentTest("sq", 1 << 20, (seg) => {
      const S = struct({ a: u8, ok: bool, name: string(8) });
      const q = make.create(seg, "s", S, 4);
      q.push({ a: 1, ok: true, name: "one" });
      for (const bad of [{ a: 300, ok: true, name: "x" }, { a: 1, ok: true, name: "much too long" }, { a: 1 }]) {
        assert.throws(() => q.push(bad as never), { code: "INVALID_ARGUMENT" });
      }
      assert.deepEqual(q.tryPop(), { a: 1, ok: true, name: "one" });
      assert.equal(q.tryPop(), undefined, "nothing from the refused pushes");
      assert.throws(() => q.tryPopInto(null as never), { code: "INVALID_ARGUMENT" });
      const strings = make.create(seg, "str", string(12), 2);
      strings.push("héllo");
      assert.throws(() => strings.tryPopInto({} as never), { code: "INVALID_ARGUMENT" });
      assert.equal(strings.pop(), "héllo");
      const big = make.create(seg, "big", i64, 2);
      big.push(-(2n ** 63n));
      assert.equal(big.pop(), -(2n ** 63n));
    }),
  );

  test(
    `struct ${cls}: a closed handle throws CLOSED before any native call`,
    segmentTest("sq", 1 << 20, (seg) => {
      const q = make.create(seg, "p", Particle, 2);
      q.push(particle(1));
      q.close();
      assert.throws(() => q.tryPush(particle(2)), { code: "CLOSED" });
      assert.throws(() => q.tryPop(), { code: "CLOSED" });
      assert.throws(() => q.tryPopInto(particle(0)), { code: "CLOSED" });
      assert.throws(() => q.tryPopView(), { code: "CLOSED" });
    }),
  );

  test(
    `struct ${cls}: tryPopView gives every field type as tryPop does, one reused view, and refuses non-struct types`,
    segmentTest("sq", 1 << 20, (seg) => {
      const q = make.create(seg, "s", EveryField, 4);
      const value = everyValue, keys = EVERY_KEY;
      let view: Readonly<ReturnType<typeof value>> | undefined;
      for (let round = 0; round < 3; round++) {
        q.push(value(2 * round));
        q.push(value(2 * round + 1));
        for (const k of [2 * round, 2 * round + 1]) {
          const v = q.tryPopView()!;
          if (view !== undefined) assert.equal(v, view, "one view per handle");
          view = v;
          for (const key of keys) assert.deepEqual(v[key], value(k)[key], key);
        }
        assert.equal(q.tryPopView(), undefined);
      }
      assert.deepEqual({ ...view }, {}, "getters, not own properties");
      assert.throws(() => (view as { d: number }).d = 1, TypeError, "read-only");
      const nums = make.create(seg, "nums", f64, 2);
      nums.push(1);
      assert.throws(() => nums.tryPopView(), { code: "INVALID_ARGUMENT" });
      assert.equal(nums.pop(), 1, "nothing taken by the refused call");
    }),
  );
}

test(
  "Queue and SpscQueue: elements of 64 KiB and more (beyond the native layout word's 16-bit stride) still round-trip",
  segmentTest("sq", 1 << 21, (seg) => {
    const big = array(u8, 100_000), v = Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    const s = "é".repeat(32_768); // 65536 bytes of UTF-8: a slot of 65540 bytes in a Queue
    for (const make of [Queue, SpscQueue]) {
      const a = make.create(seg, `a-${make.name}`, big, 2);
      a.push(v);
      assert.deepEqual(a.pop(), v);
      const t = make.create(seg, `s-${make.name}`, string(65_536), 2);
      t.push(s);
      assert.equal(t.tryPush("x"), true);
      assert.equal(t.pop(), s);
      assert.equal(t.pop(), "x");
      assert.equal(t.tryPop(), undefined);
    }
    // A struct that big: tryPopInto on the TypeScript path too.
    const S = struct({ id: u32, blob: array(u8, 70_000) });
    const q = Queue.create(seg, "big-struct", S, 2);
    q.push({ id: 7, blob: v.slice(0, 70_000) });
    const into = { id: 0, blob: [] as number[] };
    assert.equal(q.tryPopInto(into), into);
    assert.equal(into.id, 7);
    assert.deepEqual(into.blob, v.slice(0, 70_000));
    // And tryPopView, over a private copy of the slot there.
    for (const id of [8, 9]) q.push({ id, blob: v.slice(id, id + 70_000) });
    for (const id of [8, 9]) {
      const view = q.tryPopView()!;
      assert.equal(view.id, id);
      assert.deepEqual(view.blob, v.slice(id, id + 70_000));
    }
    assert.equal(q.tryPopView(), undefined);
    assert.equal(q.tryPopInto(into), undefined);
  }),
);

test(
  "struct SpscQueue: hostile indices are CORRUPT on push and pop, nothing outside the ring is touched",
  segmentTest("sq", 1 << 20, (seg) => {
    const q = SpscQueue.create(seg, "p", Particle, 4);
    q.push(particle(1));
    q.claimConsumer(); // both roles' claim words written before the snapshot
    const m = seg.memory, control = q.offset + 64;
    const before = m.u8.slice(0, m.size);
    for (const at of [0, 64]) { // write index, read index
      const saved = m.u32[(control + at) >> 2];
      m.u32[(control + at) >> 2] = 0xfffffff0;
      assert.throws(() => (at === 0 ? q.tryPush(particle(2)) : q.tryPop()), { code: "CORRUPT" });
      m.u32[(control + at) >> 2] = saved;
    }
    assert.deepEqual(m.u8.slice(0, m.size), before, "no byte of the segment changed");
    assert.deepEqual(q.tryPop(), particle(1));
  }),
);

test(
  "struct Queue: a slot sequence ahead of a position that does not move is CORRUPT, never a spin",
  segmentTest("sq", 1 << 20, (seg) => {
    const q = Queue.create(seg, "p", Particle, 4);
    const m = seg.memory;
    const data = q.offset + m.u32[(q.offset + 12) >> 2];
    m.u32[data >> 2] = 1000; // slot 0's sequence, far ahead of positions 0
    assert.throws(() => q.tryPush(particle(1)), { code: "CORRUPT" });
    m.u32[data >> 2] = 0;
    q.push(particle(1));
    assert.deepEqual(q.pop(), particle(1));
  }),
);

for (const [a, b] of [["deno", "bun"], ["bun", "deno"]] as [Runtime, Runtime][]) {
  test(
    `struct SpscQueue multiprocess: ${a} -> ${b} streaming 64-byte structs through 8 slots (${
      a === "deno" ? "staged" : "pushed"
    }), every field of every message checked, in order`,
    segmentTest("sqs", 1 << 20, async (seg, name) => {
      SpscQueue.create(seg, "q", Particle, 8);
      const count = 100_000;
      const [rp, rc] = await Promise.all([
        run(a, WORKER, ["spsc", name, "q", "produce", String(count), a === "deno" ? "staged" : "push"], 90_000),
        run(b, WORKER, ["spsc", name, "q", "consume", String(count), a === "deno" ? "view" : "into"], 90_000),
      ]);
      const want = (count * (count - 1)) / 2;
      assert.equal(lastJson<{ sum: number }>(rp).sum, want);
      assert.equal(lastJson<{ sum: number }>(rc).sum, want, "the consumer saw every message once, whole, in order");
    }),
    { timeout: 120_000 },
  );
}

test(
  "struct Queue multiprocess: 2 Deno + 2 Bun producers (push, staged) and 2 + 2 consumers (pop, popInto, popView), exact count and sum, no torn message",
  segmentTest("sqq", 4 << 20, async (seg, name) => {
    Queue.create(seg, "q", Particle, 16);
    SharedAtomic.create(seg, "done", u32);
    const per = 15_000,
      producers: Runtime[] = ["deno", "bun", "deno", "bun"],
      consumers: Runtime[] = ["bun", "deno", "bun", "deno"];
    const total = per * producers.length;
    const results = await Promise.all([
      ...producers.map((rt, id) =>
        run(rt, WORKER, ["mpmc-produce", name, "q", String(id), String(per), id >= 2 ? "staged" : "push"], 90_000)
      ),
      ...consumers.map((rt, i) =>
        run(rt, WORKER, ["mpmc-consume", name, "q", String(total), "done", ["0", "1", "view", "view"][i]], 90_000)
      ),
    ]);
    assertExactlyOnce(results, producers.length, total);
  }),
  { timeout: 120_000 },
);
