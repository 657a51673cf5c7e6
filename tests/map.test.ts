import assert from "node:assert/strict";
import fc from "fast-check";
import {
  array,
  f32,
  f64,
  i32,
  i64,
  Kind,
  Segment,
  SharedArray,
  SharedMap,
  SharedSet,
  string,
  struct,
  u16,
  u32,
  u8,
} from "../mod.ts";
import { murmur3Bytes } from "../src/structures/hash/murmur3.ts";
import { runtime, test } from "./harness.ts";
import { startBarrier } from "./helpers/barrier.ts";
import { code } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, run, type Runtime, start } from "./helpers/procs.ts";

const WORKER = new URL("./workers/map_worker.ts", import.meta.url);
const Tag = struct({ writer: u32, round: u32 });
const Quad = struct({ a: f64, b: f64, c: i32, d: f64 });

const withSegment = (size: number, fn: SegmentBody) => segmentTest("map", size, fn);

// ------------------------------------------------------------------ basics

test(
  "map: set/get/insert/delete/has/update/size on a u32 -> f64 map",
  withSegment(1 << 20, (seg) => {
    const m = SharedMap.create(seg, "m", u32, f64, 100);
    assert.equal(m.capacity, 100);
    assert.equal(m.slots, 256); // next power of two ≥ 100 / 0.75
    assert.equal(m.size, 0);
    assert.equal(m.get(1), undefined);
    assert.equal(m.set(1, 1.5), m);
    assert.equal(m.get(1), 1.5);
    assert.equal(m.insert(1, 9), false);
    assert.equal(m.get(1), 1.5);
    assert.equal(m.insert(2, 2.5), true);
    assert.equal(m.size, 2);
    assert.equal(m.has(2), true);
    assert.equal(m.has(3), false);
    assert.equal(m.update(1, (v) => v! * 2), 3);
    assert.equal(m.get(1), 3);
    assert.equal(m.update(3, (v) => (v ?? 10) + 1), 11); // absent: fn(undefined) inserts
    assert.equal(m.update(4, () => undefined), undefined); // absent and stays absent
    assert.equal(m.has(4), false);
    assert.equal(m.update(3, () => undefined), undefined); // returning undefined deletes
    assert.equal(m.has(3), false);
    assert.equal(m.delete(2), true);
    assert.equal(m.delete(2), false);
    assert.equal(m.size, 1);
    assert.deepEqual([...m], [[1, 3]]);
    assert.deepEqual([...m.keys()], [1]);
    assert.deepEqual([...m.values()], [3]);
    m.clear();
    assert.equal(m.size, 0);
    assert.deepEqual(m.stats().tombstones, 0);
    assert.equal(m.get(1), undefined);
  }),
);

test(
  "map: reopen by name in another segment handle sees the same data",
  withSegment(1 << 20, (seg, name) => {
    const m = SharedMap.create(seg, "m", string(10), u32, 10);
    m.set("héllo", 7);
    using again = Segment.open(name);
    const m2 = SharedMap.open(again, "m", string(10), u32);
    assert.equal(m2.get("héllo"), 7);
    m2.set("héllo", 8);
    assert.equal(m.get("héllo"), 8);
    const m3 = SharedMap.openOrCreate(again, "m", string(10), u32, 999);
    assert.equal(m3.capacity, 10); // opened, not re-created
    assert.equal(m3.size, 1);
  }),
);

test(
  "map: a full map throws FULL from set, returns false from insert, never loops",
  withSegment(1 << 20, (seg) => {
    // capacity == slots: every slot used, no EMPTY slot left to end a probe.
    const m = SharedMap.create(seg, "full", u32, u32, 64, { slots: 64 });
    for (let i = 0; i < 64; i++) m.set(i * 1000, i);
    assert.equal(m.size, 64);
    assert.equal(m.stats().empty, 0);
    assert.equal(code(() => m.set(99_999, 1)), "FULL");
    assert.equal(m.insert(99_999, 1), false);
    assert.equal(code(() => m.update(99_999, () => 1)), "FULL");
    assert.equal(m.get(99_999), undefined); // probes all 64 slots, then stops
    assert.equal(m.has(99_999), false);
    assert.equal(m.delete(99_999), false);
    m.set(5000, 55); // replacing an existing key still works when full
    assert.equal(m.get(5000), 55);
    assert.equal(m.delete(0), true);
    assert.equal(m.insert(99_999, 1), true); // the tombstone is reused
    assert.equal(m.get(99_999), 1);
    // Default sizing: capacity is the limit even though slots remain.
    const d = SharedMap.create(seg, "d", u32, u32, 10);
    for (let i = 0; i < 10; i++) d.set(i, i);
    assert.equal(code(() => d.set(10, 1)), "FULL");
    assert.equal(d.insert(10, 1), false);
    assert.equal(d.size, 10);
    const s = SharedSet.create(seg, "s", u32, 4, { slots: 4 });
    for (let i = 0; i < 4; i++) assert.equal(s.add(i), true);
    assert.equal(code(() => s.add(4)), "FULL");
    assert.equal(s.insert(4), false);
  }),
);

test(
  "map: string keys of the maximum length, multi-byte UTF-8, and bad keys",
  withSegment(1 << 20, (seg) => {
    const m = SharedMap.create(seg, "s", string(16), u16, 64);
    const full = "0123456789abcdef"; // exactly 16 bytes: no NUL terminator
    const utf = "ééééééé€"; // 7×2 + 3 = 17 bytes: too long
    const utf16 = "éééééééé"; // 16 bytes
    m.set(full, 1);
    m.set(utf16, 2);
    m.set("", 3);
    m.set("0123456789abcde", 4); // a prefix of `full`
    assert.equal(m.get(full), 1);
    assert.equal(m.get(utf16), 2);
    assert.equal(m.get(""), 3);
    assert.equal(m.get("0123456789abcde"), 4);
    assert.equal(code(() => m.set(utf, 5)), "INVALID_ARGUMENT");
    assert.equal(code(() => m.get(full + "x")), "INVALID_ARGUMENT");
    assert.equal(code(() => m.set(42 as unknown as string, 1)), "INVALID_ARGUMENT");
    assert.equal(code(() => m.set("k", 70_000)), "INVALID_ARGUMENT"); // value does not fit u16
    assert.equal(m.has("k"), false); // nothing was inserted by the failed set
    assert.equal(m.size, 4);
    assert.deepEqual(new Map(m.entries()), new Map([[full, 1], [utf16, 2], ["", 3], ["0123456789abcde", 4]]));
  }),
);

test(
  "map: struct keys (with padding), array keys, f64 and bigint keys",
  withSegment(1 << 20, (seg) => {
    const P = struct({ tag: u8, id: u32, w: u16 }); // 3 bytes of padding after tag, 2 at the end
    const m = SharedMap.create(seg, "p", P, string(8), 32);
    m.set({ tag: 1, id: 2, w: 3 }, "a");
    m.set({ tag: 1, id: 3, w: 3 }, "b");
    assert.equal(m.get({ tag: 1, id: 2, w: 3 }), "a");
    assert.equal(m.get({ tag: 1, id: 3, w: 3 }), "b");
    assert.equal(m.get({ tag: 2, id: 2, w: 3 }), undefined);
    assert.deepEqual([...m.keys()].sort((x, y) => x.id - y.id), [{ tag: 1, id: 2, w: 3 }, { tag: 1, id: 3, w: 3 }]);
    const a = SharedMap.create(seg, "a", array(u8, 5), u32, 8);
    a.set([1, 2, 3, 4, 5], 1);
    assert.equal(a.get([1, 2, 3, 4, 5]), 1);
    assert.equal(a.get([1, 2, 3, 4, 6]), undefined);
    const f = SharedMap.create(seg, "f", f64, f32, 8);
    f.set(0.1, 1);
    f.set(-0, 2); // keys compare by bytes: -0 and 0 are different keys
    f.set(0, 3);
    assert.equal(f.get(0.1), 1);
    assert.equal(f.get(-0), 2);
    assert.equal(f.get(0), 3);
    const b = SharedMap.create(seg, "b", i64, i64, 8);
    b.set(-(2n ** 63n), 2n ** 63n - 1n);
    assert.equal(b.get(-(2n ** 63n)), 2n ** 63n - 1n);
  }),
);

test(
  "map: opening with another type is TYPE_MISMATCH; a closed handle is CLOSED",
  withSegment(1 << 20, (seg, name) => {
    const m = SharedMap.create(seg, "m", u32, f64, 10);
    SharedSet.create(seg, "s", u32, 10);
    SharedArray.create(seg, "arr", u32, 10);
    assert.equal(code(() => SharedMap.open(seg, "m", u32, f32)), "TYPE_MISMATCH");
    assert.equal(code(() => SharedMap.open(seg, "m", u16, f64)), "TYPE_MISMATCH");
    assert.equal(code(() => SharedMap.open(seg, "m", string(4), f64)), "TYPE_MISMATCH"); // same size, other type
    assert.equal(code(() => SharedMap.openOrCreate(seg, "m", u32, u32, 10)), "TYPE_MISMATCH");
    assert.equal(code(() => SharedSet.open(seg, "m", u32)), "TYPE_MISMATCH");
    assert.equal(code(() => SharedMap.open(seg, "s", u32, f64)), "TYPE_MISMATCH");
    assert.equal(code(() => SharedMap.open(seg, "arr", u32, f64)), "TYPE_MISMATCH");
    assert.equal(code(() => SharedArray.open(seg, "m", u32)), "TYPE_MISMATCH");
    assert.equal(code(() => SharedMap.open(seg, "nope", u32, f64)), "NOT_FOUND");
    assert.equal(code(() => SharedMap.create(seg, "m", u32, f64, 10)), "EXISTS");
    assert.equal(code(() => SharedMap.create(seg, "z", u32, f64, 0)), "INVALID_ARGUMENT");
    assert.equal(code(() => SharedMap.create(seg, "z", u32, f64, 10, { slots: 12 })), "INVALID_ARGUMENT");
    assert.equal(code(() => SharedMap.create(seg, "z", u32, f64, 10, { slots: 8 })), "INVALID_ARGUMENT");
    assert.equal(code(() => SharedMap.create(seg, "z", u32, f64, 1e6)), "FULL"); // no room in a 1 MiB segment
    assert.equal(seg.find("m")?.kind, Kind.MAP);
    assert.equal(seg.find("s")?.kind, Kind.SET);
    m.set(1, 1);
    const it = m.entries();
    assert.deepEqual(it.next().value, [1, 1]);
    m.close();
    for (
      const op of [
        () => m.get(1),
        () => m.set(1, 2),
        () => m.insert(2, 2),
        () => m.delete(1),
        () => m.has(1),
        () => m.update(1, (v) => v),
        () => m.size,
        () => m.clear(),
        () => [...m],
        () => it.next(),
        () => m.stats(),
      ]
    ) assert.equal(code(op), "CLOSED");
    using other = Segment.open(name);
    const m2 = SharedMap.open(other, "m", u32, f64);
    other.close();
    assert.equal(code(() => m2.get(1)), "CLOSED");
  }),
);

test(
  "map: update callbacks may read but not write through the same handle; a throwing callback changes nothing",
  withSegment(1 << 20, (seg) => {
    const m = SharedMap.create(seg, "m", u32, u32, 10);
    m.set(1, 10);
    m.set(2, 20);
    assert.equal(m.update(1, (v) => v! + m.get(2)!), 30); // read inside: fine
    assert.equal(m.update(3, () => m.get(1)! + 1), 31); // absent key, read inside: fine
    assert.equal(m.get(3), 31);
    assert.equal(code(() => m.update(1, () => (m.set(2, 0), 1))), "INVALID_ARGUMENT");
    assert.equal(code(() => m.update(9, () => (m.delete(2), 1))), "INVALID_ARGUMENT");
    assert.throws(() =>
      m.update(1, () => {
        throw new Error("boom");
      }), /boom/);
    assert.throws(() =>
      m.update(8, () => {
        throw new Error("boom");
      }), /boom/);
    assert.deepEqual(new Map(m), new Map([[1, 30], [2, 20], [3, 31]]));
    m.set(4, 4); // locks were released
    assert.equal(m.size, 4);
  }),
);

test(
  "map: hashing is MurmurHash3_x86_32 (seed 0) over the key bytes; the slot layout matches docs/MAP.md",
  withSegment(1 << 20, (seg) => {
    const enc = new TextEncoder();
    // Published test vectors of MurmurHash3_x86_32.
    assert.equal(murmur3Bytes(enc.encode(""), 0), 0);
    assert.equal(murmur3Bytes(enc.encode(""), 1), 0x514e28b7);
    assert.equal(murmur3Bytes(enc.encode("test"), 0), 0xba6bd213);
    assert.equal(murmur3Bytes(enc.encode("Hello, world!"), 1234), 0xfaf6cdb3);
    assert.equal(murmur3Bytes(enc.encode("The quick brown fox jumps over the lazy dog"), 0), 0x2e4ff723);
    assert.equal(murmur3Bytes(new Uint8Array([0x21, 0x43, 0x65, 0x87]), 0x5082edee), 0x2362f9de);
    assert.equal(murmur3Bytes(new Uint8Array([0x21, 0x43, 0x65]), 0), 0x7e4a8634);
    assert.equal(murmur3Bytes(new Uint8Array([0x21]), 0), 0x72661cf4);

    // A lookup written only from the documented layout, reading raw bytes (what a C program does).
    const m = SharedMap.create(seg, "raw", string(6), f64, 20);
    const words = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"];
    words.forEach((w, i) => m.set(w, i + 0.5));
    m.set("bb", 7.25); // flips bb to its second value copy
    m.delete("ccc");
    const entry = seg.find("raw")!;
    const dv = new DataView(seg.memory.buffer);
    const block = entry.offset;
    assert.equal(dv.getUint32(block + 0, true), Kind.MAP);
    const dataOffset = dv.getUint32(block + 12, true);
    const ctl = block + 64;
    const field = (o: number) => dv.getUint32(ctl + o, true);
    assert.deepEqual(
      [field(0), field(4), field(8), field(12), field(16), field(20), field(24), field(28), field(32), field(36)],
      [1, 1, 0, 6, 12, 8, 24, 40, 20, 32], // format, hash id, seed, keySize, keyOffset, valueSize, valueOffset, slotSize, capacity, slots
    );
    const lookup = (key: string): number | undefined => {
      const kb = new Uint8Array(6);
      kb.set(enc.encode(key));
      const h = murmur3Bytes(kb, 0);
      const slots = field(36), slotSize = field(28);
      for (let n = 0, i = h & (slots - 1); n < slots; n++, i = (i + 1) & (slots - 1)) {
        const s = block + dataOffset + i * slotSize;
        const c = dv.getUint32(s, true);
        const state = c & 3;
        if (state === 0) return undefined;
        if (state !== 1 || dv.getUint32(s + 8, true) !== h) continue;
        if (!kb.every((b, j) => dv.getUint8(s + field(16) + j) === b)) continue;
        return dv.getFloat64(s + field(24) + ((c & 4) ? field(20) : 0), true);
      }
      return undefined;
    };
    assert.equal(lookup("a"), 0.5);
    assert.equal(lookup("bb"), 7.25);
    assert.equal(lookup("ccc"), undefined);
    assert.equal(lookup("ffffff"), 5.5);
    assert.equal(lookup("zz"), undefined);

    // u32 keys take a fast path that hashes the number directly: same hash as the bytes.
    const u = SharedMap.create(seg, "u", u32, u32, 4);
    const ublock = seg.find("u")!.offset;
    const udata = ublock + dv.getUint32(ublock + 12, true);
    assert.equal(dv.getUint32(ublock + 64 + 28, true), 24);
    for (const k of [0, 1, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff]) {
      u.clear();
      u.set(k, 1);
      const want = murmur3Bytes(new Uint8Array(new Uint32Array([k]).buffer), 0);
      const slot = udata + (want & 7) * 24; // 8 slots of 24 bytes (u32 key, 2 × u32 value); the only key sits at home
      assert.equal(dv.getUint32(slot, true) & 3, 1, `key ${k}`);
      assert.equal(dv.getUint32(slot + 8, true), want, `key ${k}`);
      assert.equal(dv.getUint32(slot + 12, true), k);
    }
  }),
);

// ------------------------------------------------------------------ tombstones and the model

test(
  "map: 100k insert/delete cycles in a 64-slot map keep working: tombstones are reused, misses stay short",
  withSegment(1 << 20, (seg) => {
    const m = SharedMap.create(seg, "churn", u32, u32, 48, { slots: 64 });
    const model = new Map<number, number>();
    const live: number[] = [];
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 100_000; i++) {
      const k = rnd(); // almost always a brand-new key
      if (!model.has(k) && model.size < 40) {
        assert.equal(m.insert(k, i), true);
        model.set(k, i);
        live.push(k);
      }
      if (live.length >= 40 || (rnd() & 1)) {
        const j = rnd() % live.length;
        const victim = live[j];
        live[j] = live[live.length - 1];
        live.pop();
        assert.equal(m.delete(victim), true);
        model.delete(victim);
      }
      if (i % 10_000 === 0) {
        const st = m.stats();
        // Tombstones may take every non-live slot (none is followed by EMPTY), but the
        // probe limit keeps misses short: it tracks the longest live probe.
        assert.ok(st.probeLimit >= st.maxProbe && st.probeLimit <= 32, JSON.stringify(st));
        assert.equal(m.get(0xffffffff), undefined);
      }
    }
    assert.equal(m.size, model.size);
    assert.deepEqual(new Map(m), model);
    for (const k of live) assert.equal(m.get(k), model.get(k));
    const st = m.stats();
    assert.equal(st.ready, model.size);
    assert.equal(st.tombstones + st.ready + st.empty, 64);
    // A table that never reclaimed tombstones would have failed after 64 inserts.
  }),
);

type Op =
  | { op: "set"; k: number; v: number }
  | { op: "insert"; k: number; v: number }
  | { op: "delete"; k: number }
  | { op: "get"; k: number }
  | { op: "update"; k: number; d: number }
  | { op: "clear" };

function opArb(
  keys: fc.Arbitrary<number>,
  weights: { set: number; insert: number; delete: number; get: number; update: number },
) {
  const v = fc.integer({ min: 0, max: 1000 });
  return fc.oneof(
    { weight: weights.set, arbitrary: fc.record({ op: fc.constant("set" as const), k: keys, v }) },
    { weight: weights.insert, arbitrary: fc.record({ op: fc.constant("insert" as const), k: keys, v }) },
    { weight: weights.delete, arbitrary: fc.record({ op: fc.constant("delete" as const), k: keys }) },
    { weight: weights.get, arbitrary: fc.record({ op: fc.constant("get" as const), k: keys }) },
    {
      weight: weights.update,
      arbitrary: fc.record({ op: fc.constant("update" as const), k: keys, d: fc.integer({ min: -600, max: 600 }) }),
    },
    { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
  );
}

/** Runs ops against a SharedMap and a JS Map (with the same capacity rule) and compares every result. */
function checkAgainstModel(seg: Segment, capacity: number, slots: number, ops: Op[]): void {
  const name = "model";
  const m = SharedMap.create(seg, name, u32, u32, capacity, { slots });
  try {
    const model = new Map<number, number>();
    for (const o of ops) {
      switch (o.op) {
        case "set":
          if (!model.has(o.k) && model.size >= capacity) {
            assert.equal(code(() => m.set(o.k, o.v)), "FULL");
          } else {
            m.set(o.k, o.v);
            model.set(o.k, o.v);
          }
          break;
        case "insert": {
          const expect = !model.has(o.k) && model.size < capacity;
          assert.equal(m.insert(o.k, o.v), expect);
          if (expect) model.set(o.k, o.v);
          break;
        }
        case "delete":
          assert.equal(m.delete(o.k), model.delete(o.k));
          break;
        case "get":
          assert.equal(m.get(o.k), model.get(o.k));
          assert.equal(m.has(o.k), model.has(o.k));
          break;
        case "update": {
          // old + d, deleting when it drops below zero.
          const f = (old: number | undefined) => {
            const n = (old ?? 0) + o.d;
            return n < 0 ? undefined : n;
          };
          const want = f(model.get(o.k));
          if (want !== undefined && !model.has(o.k) && model.size >= capacity) {
            assert.equal(code(() => m.update(o.k, f)), "FULL");
            break;
          }
          assert.equal(m.update(o.k, f), want);
          if (want === undefined) model.delete(o.k);
          else model.set(o.k, want);
          break;
        }
        case "clear":
          m.clear();
          model.clear();
          break;
      }
      assert.equal(m.size, model.size);
    }
    assert.deepEqual(new Map(m.entries()), model);
    const st = m.stats();
    assert.equal(st.ready, model.size);
  } finally {
    seg.remove(name);
  }
}

test(
  "map: property: random op sequences match a JS Map (small key space, table often full)",
  withSegment(1 << 20, (seg) => {
    fc.assert(
      fc.property(
        fc.array(opArb(fc.integer({ min: 0, max: 40 }), { set: 4, insert: 3, delete: 3, get: 3, update: 3 }), { maxLength: 400 }),
        (ops) => checkAgainstModel(seg, 24, 32, ops),
      ),
      { numRuns: 150 },
    );
  }),
  { timeout: 60_000 },
);

test(
  "map: property: delete-heavy sequences over a large key space match a JS Map and never exhaust the table",
  withSegment(1 << 20, (seg) => {
    fc.assert(
      fc.property(
        fc.array(opArb(fc.integer({ min: 0, max: 100_000 }), { set: 5, insert: 5, delete: 8, get: 2, update: 2 }), {
          minLength: 200,
          maxLength: 2000,
        }),
        (ops) => {
          // Deletes mostly target keys that exist: rewrite them to recent keys.
          const recent: number[] = [];
          const seq = ops.map((o, i) => {
            if ("k" in o && o.op !== "delete") recent.push(o.k);
            if (o.op === "delete" && recent.length > 0 && i % 4 !== 0) {
              return { op: "delete" as const, k: recent[(o.k * 7) % recent.length] };
            }
            return o;
          });
          checkAgainstModel(seg, 12, 16, seq);
        },
      ),
      { numRuns: 100 },
    );
  }),
  { timeout: 60_000 },
);

// ------------------------------------------------------------------ many processes

const MIX: Runtime[] = ["deno", "bun", "deno", "bun"];

test(
  "map: 4 processes (2 Deno, 2 Bun) write disjoint key sets: every key holds its writer's last value",
  withSegment(1 << 22, async (seg, name) => {
    const perWriter = 2500, rounds = 4;
    const m = SharedMap.create(seg, "dj", u32, Tag, 4 * perWriter);
    startBarrier(seg, 4);
    await Promise.all(
      MIX.map((rt, w) =>
        run(rt, WORKER, ["disjoint", name, "dj", String(w), String(w * perWriter), String((w + 1) * perWriter), String(rounds)])
      ),
    );
    assert.equal(m.size, 4 * perWriter);
    for (let k = 0; k < 4 * perWriter; k++) {
      assert.deepEqual(m.get(k), { writer: Math.floor(k / perWriter), round: rounds - 1 }, `key ${k}`);
    }
    const keys = [...m.keys()];
    assert.equal(keys.length, 4 * perWriter);
    assert.equal(new Set(keys).size, 4 * perWriter);
  }),
  { timeout: 60_000 },
);

test(
  "map: 4 processes write overlapping keys with set/insert/update/delete: no duplicates, last writes win, counts match",
  withSegment(1 << 22, async (seg, name) => {
    const keys = 3000, rounds = 4;
    const m = SharedMap.create(seg, "ov", u32, Tag, keys, { slots: 4096 }); // 73% load at the end
    startBarrier(seg, 4);
    const outs = await Promise.all(
      MIX.map((rt, w) => run(rt, WORKER, ["overlap", name, "ov", String(w), String(keys), String(rounds)])),
    );
    for (const o of outs) assert.equal(lastJson<{ ok: boolean }>(o).ok, true);
    assert.equal(m.size, keys);
    const seen = new Map<number, { writer: number; round: number }>();
    for (const [k, v] of m) {
      assert.ok(!seen.has(k), `key ${k} is in the table twice`);
      seen.set(k, v);
    }
    assert.equal(seen.size, keys);
    for (let k = 0; k < keys; k++) {
      const v = m.get(k);
      assert.ok(v !== undefined && v.round === rounds - 1 && v.writer < 4, `key ${k}: ${JSON.stringify(v)}`);
      assert.deepEqual(seen.get(k), v);
    }
    const st = m.stats();
    assert.equal(st.ready, keys);
  }),
  { timeout: 60_000 },
);

test(
  "map: update() as a counter from 4 processes (2 Deno, 2 Bun) is exact",
  withSegment(1 << 20, async (seg, name) => {
    const keys = 16, iterations = 40_000;
    const m = SharedMap.create(seg, "cnt", u32, u32, 64);
    m.set(0, 1_000); // one key starts present; the others are created by racing updates
    startBarrier(seg, 4);
    await Promise.all(MIX.map((rt, w) => run(rt, WORKER, ["count", name, "cnt", String(keys), String(iterations), String(w)])));
    let total = 0;
    for (let k = 0; k < keys; k++) total += m.get(k) ?? 0;
    assert.equal(total, 4 * iterations + 1_000);
    assert.equal(m.size, keys);
    // Every key got exactly its share: iteration i of writer w hits (31 i + w) mod keys.
    for (let k = 0; k < keys; k++) {
      let want = k === 0 ? 1_000 : 0;
      for (let w = 0; w < 4; w++) for (let i = 0; i < iterations; i++) if ((i * 31 + w) % keys === k) want++;
      assert.equal(m.get(k), want, `key ${k}`);
    }
  }),
  { timeout: 60_000 },
);

test(
  "map: readers in other processes never see a torn struct value while writers rewrite it",
  withSegment(1 << 20, async (seg, name) => {
    const keys = 8, ms = 1500;
    SharedMap.create(seg, "torn", u32, Quad, 16);
    const jobs: [Runtime, string][] = [["deno", "torn-write"], ["bun", "torn-write"], ["deno", "torn-read"], [
      "bun",
      "torn-read",
    ]];
    startBarrier(seg, 4);
    const outs = await Promise.all(
      jobs.map(([rt, mode], w) => run(rt, WORKER, [mode, name, "torn", String(keys), String(ms), String(w)])),
    );
    const results = outs.map((o) => lastJson<{ writes?: number; reads?: number; torn?: number; iterated?: number }>(o));
    for (const r of results.slice(2)) {
      assert.equal(r.torn, 0);
      assert.ok(r.reads! > 1000, `reader made only ${r.reads} reads`);
      assert.ok(r.iterated! > 0);
    }
    for (const r of results.slice(0, 2)) assert.ok(r.writes! > 1000, `writer made only ${r.writes} writes`);
  }),
  { timeout: 60_000 },
);

test(
  "map: a writer killed (SIGKILL) holding a key's slot lock mid-write does not wedge the key; the old value survives",
  withSegment(1 << 20, async (seg, name) => {
    const m = SharedMap.create(seg, "crash", u32, Tag, 16);
    m.set(5, { writer: 1, round: 1 });
    for (const rt of ["deno", "bun"] as const) {
      const child = start(rt, WORKER, ["hold-update", name, "crash", "5"], 30_000);
      await child.waitForLine((l) => l === "holding");
      // The child holds key 5's lock and has half-written the inactive value copy.
      assert.deepEqual(m.get(5), { writer: 1, round: 1 }); // readers do not wait for it
      child.kill("SIGKILL");
      await child.done;
      const t0 = performance.now();
      assert.equal(m.update(5, (v) => ({ writer: v!.writer + 1, round: 2 }))!.round, 2); // takes the dead lock over
      assert.ok(performance.now() - t0 < 5_000);
      m.set(5, { writer: 1, round: 1 });
      assert.equal(m.size, 1);
    }
  }),
  { timeout: 60_000 },
);

test(
  "map: an inserter killed (SIGKILL) holding the insert lock mid-write does not wedge inserts; its key never appears",
  withSegment(1 << 20, async (seg, name) => {
    const m = SharedMap.create(seg, "crash", u32, Tag, 16);
    for (const rt of ["bun", "deno"] as const) {
      const child = start(rt, WORKER, ["hold-update", name, "crash", "9"], 30_000);
      await child.waitForLine((l) => l === "holding");
      assert.equal(m.has(9), false); // half-inserted: not visible
      child.kill("SIGKILL");
      await child.done;
      m.set(10, { writer: 0, round: 0 }); // a new key: needs the dead child's insert lock
      assert.equal(m.has(9), false);
      assert.equal(m.insert(9, { writer: 3, round: 3 }), true);
      assert.deepEqual(m.get(9), { writer: 3, round: 3 });
      assert.equal(m.size, 2);
      m.clear();
    }
  }),
  { timeout: 60_000 },
);

test(
  `map: runtime ${runtime} sees the same hash and layout as the other runtime`,
  withSegment(1 << 20, async (seg, name) => {
    // The other runtime fills a set; this one must find every key (hash and layout agree).
    const other: Runtime = runtime === "deno" ? "bun" : "deno";
    SharedSet.create(seg, "agree", u32, 5000);
    await run(other, WORKER, ["set-add", name, "agree", "4000", "0"]);
    const s = SharedSet.open(seg, "agree", u32);
    assert.equal(s.size, 4000);
    for (let k = 0; k < 4000; k++) assert.ok(s.has(k), `key ${k}`);
    assert.equal(s.has(4000), false);
  }),
  { timeout: 60_000 },
);
