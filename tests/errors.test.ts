/**
 * Bad input and misuse: every case is its own test and must fail with its exact
 * ShmError code (never another exception, a crash, or a silent success).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import {
  array,
  bool,
  f32,
  f64,
  i16,
  i32,
  i64,
  i64AsNumber,
  Segment,
  SharedArray,
  SharedAtomic,
  string,
  struct,
  u16,
  u32,
  u64,
  u8,
} from "../mod.ts";
import { command, type Runtime } from "./helpers/procs.ts";
import { test, uniqueName } from "./harness.ts";
import { throwsCode } from "./helpers/errors.ts";
import { type CreateOptions, runWithSegment } from "./helpers/segments.ts";

/** Runs `fn` with a fresh segment that is unlinked and closed afterwards. */
function withSegment(fn: (seg: Segment, name: string) => void, options: CreateOptions = { size: 1 << 16 }): void {
  runWithSegment("err", options, fn);
}

// deno-lint-ignore no-explicit-any
const anyArg = (v: unknown) => v as any;

// ---------------------------------------------------------------- segment names

const badNames: [string, unknown][] = [
  ["empty", ""],
  ["256 bytes", "a".repeat(256)],
  ["256 bytes of multi-byte UTF-8", "é".repeat(128)],
  ["containing '/'", "a/b"],
  ["starting with '/'", "/abc"],
  [".", "."],
  ["..", ".."],
  ["containing NUL", "a\0b"],
  ["a number", 42],
  ["undefined", undefined],
  ["null", null],
  ["an object", { name: "x" }],
];
for (const [what, name] of badNames) {
  test(`errors: segment name ${what} → INVALID_ARGUMENT (create, open, openOrCreate, unlink)`, () => {
    throwsCode("INVALID_ARGUMENT", () => Segment.create(anyArg(name), { size: 1 << 16 }));
    throwsCode("INVALID_ARGUMENT", () => Segment.open(anyArg(name)));
    throwsCode("INVALID_ARGUMENT", () => Segment.openOrCreate(anyArg(name), { size: 1 << 16 }));
    throwsCode("INVALID_ARGUMENT", () => Segment.unlink(anyArg(name)));
  });
}

test("errors: a segment name of exactly 255 bytes is accepted", () => {
  const prefix = uniqueName("long");
  const name = prefix + "x".repeat(255 - prefix.length);
  try {
    using seg = Segment.create(name, { size: 1 << 16 });
    assert.equal(seg.name, name);
    using again = Segment.open(name);
    assert.equal(again.size, seg.size);
  } finally {
    Segment.unlink(name);
  }
});

// ---------------------------------------------------------------- existence

test("errors: opening a segment that does not exist → NOT_FOUND", () => {
  throwsCode("NOT_FOUND", () => Segment.open(uniqueName("missing")));
  assert.equal(Segment.unlink(uniqueName("missing")), false);
});

test("errors: creating a segment that exists → EXISTS, and the existing one keeps its data", () => {
  withSegment((seg, name) => {
    const a = SharedArray.create(seg, "keep", u32, 4);
    a.set(3, 0xdeadbeef);
    throwsCode("EXISTS", () => Segment.create(name, { size: 1 << 16 }));
    throwsCode("EXISTS", () => Segment.create(name, { size: 1 << 20 })); // a different size changes nothing either
    assert.equal(a.get(3), 0xdeadbeef);
    using again = Segment.open(name);
    assert.equal(again.size, seg.size);
    assert.equal(SharedArray.open(again, "keep", u32).get(3), 0xdeadbeef);
    // openOrCreate opens it rather than re-creating it.
    using third = Segment.openOrCreate(name, { size: 1 << 20 });
    assert.equal(third.size, seg.size);
    assert.equal(SharedArray.open(third, "keep", u32).get(3), 0xdeadbeef);
  });
});

// ---------------------------------------------------------------- sizes and geometry

const badSizes: [string, unknown][] = [
  ["0", 0],
  ["negative", -4096],
  ["non-integer", 4096.5],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["a string", "65536"],
  ["a bigint", 65536n],
  ["missing", undefined],
  ["beyond the limit (2^31 + 1)", 2 ** 31 + 1],
  ["beyond the limit (2^53)", 2 ** 53],
];
for (const [what, size] of badSizes) {
  test(`errors: segment size ${what} → INVALID_ARGUMENT, and nothing is left behind`, () => {
    const name = uniqueName("size");
    throwsCode("INVALID_ARGUMENT", () => Segment.create(name, { size: anyArg(size) }));
    throwsCode("INVALID_ARGUMENT", () => Segment.openOrCreate(name, { size: anyArg(size) }));
    assert.equal(existsSync(`/dev/shm/${name}`), false);
  });
}

test("errors: missing options → INVALID_ARGUMENT", () => {
  throwsCode("INVALID_ARGUMENT", () => Segment.create(uniqueName("opts"), anyArg(undefined)));
  throwsCode("INVALID_ARGUMENT", () => Segment.create(uniqueName("opts"), anyArg(null)));
});

test("errors: a size too small for the header and table → INVALID_ARGUMENT naming what it needs", () => {
  const name = uniqueName("small");
  throwsCode("INVALID_ARGUMENT", () => Segment.create(name, { size: 4096, maxEntries: 100 }), /too small/);
  throwsCode("INVALID_ARGUMENT", () => Segment.create(name, { size: 1 << 16, maxEntries: 100_000 }), /too small/);
  assert.equal(existsSync(`/dev/shm/${name}`), false);
});

const badOptions: [string, Record<string, unknown>][] = [
  ["maxEntries 0", { maxEntries: 0 }],
  ["maxEntries negative", { maxEntries: -1 }],
  ["maxEntries non-integer", { maxEntries: 1.5 }],
  ["maxEntries huge", { maxEntries: 2 ** 31 }],
  ["maxNameLength 0", { maxNameLength: 0 }],
  ["maxNameLength huge", { maxNameLength: 1 << 20 }],
  ["maxProcesses 0", { maxProcesses: 0 }],
  ["mode beyond 0o777", { mode: 0o1000 }],
  ["mode a string", { mode: "600" }],
];
for (const [what, opts] of badOptions) {
  test(`errors: option ${what} → INVALID_ARGUMENT`, () => {
    throwsCode("INVALID_ARGUMENT", () => Segment.create(uniqueName("opt"), { size: 1 << 16, ...opts }));
  });
}

test("errors: open with a bad timeoutMs → INVALID_ARGUMENT", () => {
  withSegment((_seg, name) => {
    throwsCode("INVALID_ARGUMENT", () => Segment.open(name, { timeoutMs: -1 }));
    throwsCode("INVALID_ARGUMENT", () => Segment.open(name, { timeoutMs: 1.5 }));
    throwsCode("INVALID_ARGUMENT", () => Segment.open(name, { timeoutMs: anyArg("5") }));
  });
});

// ---------------------------------------------------------------- full table, full segment

test("errors: a full name table → FULL; removing an entry makes room", () => {
  withSegment((seg) => {
    SharedArray.create(seg, "a", u8, 1);
    SharedArray.create(seg, "b", u8, 1);
    SharedArray.create(seg, "c", u8, 1);
    throwsCode("FULL", () => SharedArray.create(seg, "d", u8, 1), /name table/);
    throwsCode("FULL", () => SharedAtomic.create(seg, "d", i32));
    assert.equal(seg.find("d"), undefined);
    assert.equal(seg.list().length, 3);
    seg.remove("b");
    SharedArray.create(seg, "d", u8, 1);
    assert.deepEqual(seg.list().map((e) => e.name).sort(), ["a", "c", "d"]);
  }, { size: 1 << 16, maxEntries: 3 });
});

test("errors: a full segment → FULL; removing a structure makes room", () => {
  withSegment((seg) => {
    const heap = seg.stats().heapSize;
    const quarter = (heap / 4 - 64) / 8; // four arrays of f64 fill the heap exactly
    for (let i = 0; i < 4; i++) SharedArray.create(seg, `q${i}`, f64, quarter);
    assert.equal(seg.stats().freeBytes, 0);
    throwsCode("FULL", () => SharedArray.create(seg, "more", u8, 1), /no free block/);
    throwsCode("FULL", () => SharedAtomic.create(seg, "more", i32));
    assert.equal(seg.find("more"), undefined);
    seg.remove("q2");
    const a = SharedArray.create(seg, "more", f64, quarter);
    a.set(quarter - 1, 1.5);
    assert.equal(a.get(quarter - 1), 1.5);
    throwsCode("FULL", () => SharedArray.create(seg, "one-more", u8, 1));
  }, { size: 1 << 16, maxEntries: 8 });
});

test("errors: a structure larger than the whole heap → FULL, not a bogus placement", () => {
  withSegment((seg) => {
    throwsCode("FULL", () => SharedArray.create(seg, "huge", f64, 2 ** 30));
    throwsCode("FULL", () => SharedArray.create(seg, "huge", u8, seg.stats().heapSize)); // + header does not fit
    assert.equal(seg.list().length, 0);
  });
});

// ---------------------------------------------------------------- structure names and lengths

const badEntryNames: [string, unknown][] = [
  ["empty", ""],
  ["too long", "n".repeat(17)],
  ["too long in UTF-8 bytes", "é".repeat(9)],
  ["containing NUL", "a\0"],
  ["a number", 7],
  ["undefined", undefined],
];
for (const [what, name] of badEntryNames) {
  test(`errors: structure name ${what} → INVALID_ARGUMENT (create, open, find, remove)`, () => {
    withSegment((seg) => {
      throwsCode("INVALID_ARGUMENT", () => SharedArray.create(seg, anyArg(name), u8, 4));
      throwsCode("INVALID_ARGUMENT", () => SharedArray.open(seg, anyArg(name), u8));
      throwsCode("INVALID_ARGUMENT", () => SharedArray.openOrCreate(seg, anyArg(name), u8, 4));
      throwsCode("INVALID_ARGUMENT", () => SharedAtomic.create(seg, anyArg(name), i32));
      throwsCode("INVALID_ARGUMENT", () => seg.find(anyArg(name)));
      throwsCode("INVALID_ARGUMENT", () => seg.remove(anyArg(name)));
      assert.equal(seg.list().length, 0);
    }, { size: 1 << 16, maxNameLength: 16 });
  });
}

test("errors: a structure name of exactly maxNameLength bytes is accepted", () => {
  withSegment((seg) => {
    SharedArray.create(seg, "é".repeat(8), u8, 1);
    assert.equal(seg.list()[0].name, "é".repeat(8));
  }, { size: 1 << 16, maxNameLength: 16 });
});

test("errors: a structure that exists → EXISTS; one that does not → NOT_FOUND", () => {
  withSegment((seg) => {
    SharedArray.create(seg, "x", u8, 4).set(0, 9);
    throwsCode("EXISTS", () => SharedArray.create(seg, "x", u8, 4));
    throwsCode("EXISTS", () => SharedAtomic.create(seg, "x", i32));
    assert.equal(SharedArray.open(seg, "x", u8).get(0), 9);
    throwsCode("NOT_FOUND", () => SharedArray.open(seg, "y", u8));
    throwsCode("NOT_FOUND", () => seg.remove("y"));
  });
});

for (
  const [what, length] of [["0", 0], ["negative", -1], ["non-integer", 2.5], ["NaN", NaN], ["a string", "4"]] as [
    string,
    unknown,
  ][]
) {
  test(`errors: array length ${what} → INVALID_ARGUMENT`, () => {
    withSegment((seg) => {
      throwsCode("INVALID_ARGUMENT", () => SharedArray.create(seg, "a", u8, anyArg(length)));
      throwsCode("INVALID_ARGUMENT", () => SharedArray.openOrCreate(seg, "a", u8, anyArg(length)));
      assert.equal(seg.list().length, 0);
    });
  });
}

test("errors: an element type that is not a descriptor → INVALID_ARGUMENT", () => {
  withSegment((seg) => {
    throwsCode("INVALID_ARGUMENT", () => SharedArray.create(seg, "a", anyArg("f64"), 4));
    throwsCode("INVALID_ARGUMENT", () => SharedArray.create(seg, "a", anyArg({}), 4));
    throwsCode("INVALID_ARGUMENT", () => SharedAtomic.create(seg, "a", anyArg(f64)));
    throwsCode("INVALID_ARGUMENT", () => SharedAtomic.create(seg, "a", anyArg(u8)));
    throwsCode("INVALID_ARGUMENT", () => struct({}));
    throwsCode("INVALID_ARGUMENT", () => string(0));
    throwsCode("INVALID_ARGUMENT", () => array(u8, 0));
    assert.equal(seg.list().length, 0);
  });
});

// ---------------------------------------------------------------- indexes

for (
  const [what, index] of [["= length", 8], ["> length", 1000], ["negative", -1], ["non-integer", 1.5], ["NaN", NaN], [
    "Infinity",
    Infinity,
  ], ["a string", "1"]] as [string, unknown][]
) {
  test(`errors: array index ${what} → OUT_OF_RANGE (get, set, getField, setField)`, () => {
    withSegment((seg) => {
      const a = SharedArray.create(seg, "a", i32, 8);
      a.fill(5);
      throwsCode("OUT_OF_RANGE", () => a.get(anyArg(index)));
      throwsCode("OUT_OF_RANGE", () => a.set(anyArg(index), 1));
      const s = SharedArray.create(seg, "s", struct({ x: f64 }), 8);
      throwsCode("OUT_OF_RANGE", () => s.getField(anyArg(index), "x"));
      throwsCode("OUT_OF_RANGE", () => s.setField(anyArg(index), "x", 1));
      assert.deepEqual(a.toArray(), [5, 5, 5, 5, 5, 5, 5, 5]);
    });
  });
}

test("errors: fill with a bad range → OUT_OF_RANGE, nothing written", () => {
  withSegment((seg) => {
    const a = SharedArray.create(seg, "a", u8, 4);
    throwsCode("OUT_OF_RANGE", () => a.fill(1, -1));
    throwsCode("OUT_OF_RANGE", () => a.fill(1, 0, 5));
    throwsCode("OUT_OF_RANGE", () => a.fill(1, 3, 2));
    throwsCode("OUT_OF_RANGE", () => a.fill(1, 0.5));
    assert.deepEqual(a.toArray(), [0, 0, 0, 0]);
  });
});

test("errors: an unknown struct field → INVALID_ARGUMENT", () => {
  withSegment((seg) => {
    const s = SharedArray.create(seg, "s", struct({ x: f64 }), 2);
    throwsCode("INVALID_ARGUMENT", () => s.getField(0, "y"));
    throwsCode("INVALID_ARGUMENT", () => s.setField(0, "y", 1));
    const n = SharedArray.create(seg, "n", f64, 2);
    throwsCode("INVALID_ARGUMENT", () => n.getField(0, "x"));
  });
});

// ---------------------------------------------------------------- type mismatch

test("errors: opening an array with the wrong element type → TYPE_MISMATCH", () => {
  withSegment((seg) => {
    SharedArray.create(seg, "f", f64, 4);
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "f", i32));
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "f", f32));
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "f", i64)); // same size, other type
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "f", u64));
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "f", string(8)));
    throwsCode("TYPE_MISMATCH", () => SharedArray.openOrCreate(seg, "f", i32, 4));
    SharedArray.create(seg, "p", struct({ x: f64, y: f64 }), 4);
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "p", struct({ y: f64, x: f64 }))); // same layout, other names
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "p", struct({ x: f64, y: i64 })));
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "p", array(f64, 2)));
    SharedArray.create(seg, "s", string(8), 4);
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "s", string(9)));
    // The right types still open.
    SharedArray.open(seg, "f", f64);
    SharedArray.open(seg, "p", struct({ x: f64, y: f64 }));
    SharedArray.open(seg, "s", string(8));
  });
});

test("errors: i64 and i64AsNumber share a layout, so either opens the other's array", () => {
  withSegment((seg) => {
    SharedArray.create(seg, "n", i64, 2).set(1, -5n);
    assert.equal(SharedArray.open(seg, "n", i64AsNumber).get(1), -5);
  });
});

test("errors: opening an entry of another kind → TYPE_MISMATCH", () => {
  withSegment((seg) => {
    SharedArray.create(seg, "arr", i32, 1);
    SharedAtomic.create(seg, "atom", i32);
    throwsCode("TYPE_MISMATCH", () => SharedAtomic.open(seg, "arr", i32), /array/);
    throwsCode("TYPE_MISMATCH", () => SharedAtomic.openOrCreate(seg, "arr", i32));
    throwsCode("TYPE_MISMATCH", () => SharedArray.open(seg, "atom", i32), /atomic/);
    throwsCode("TYPE_MISMATCH", () => SharedAtomic.open(seg, "atom", u32));
    throwsCode("TYPE_MISMATCH", () => SharedAtomic.open(seg, "atom", i64));
  });
});

test("errors: a typed array view of a non-numeric array → TYPE_MISMATCH", () => {
  withSegment((seg) => {
    throwsCode("TYPE_MISMATCH", () => SharedArray.create(seg, "b", bool, 4).view());
    throwsCode("TYPE_MISMATCH", () => SharedArray.create(seg, "s", string(4), 4).view());
    throwsCode("TYPE_MISMATCH", () => SharedArray.create(seg, "n", i64AsNumber, 4).view());
  });
});

// ---------------------------------------------------------------- values that do not fit

function rejects<T>(type: Parameters<typeof SharedArray.create<T>>[2], good: T, bad: unknown[]): void {
  withSegment((seg) => {
    const a = SharedArray.create(seg, "v", type, 2);
    a.set(1, good);
    const before = a.get(1);
    for (const v of bad) {
      throwsCode("INVALID_ARGUMENT", () => a.set(1, anyArg(v)));
      throwsCode("INVALID_ARGUMENT", () => a.fill(anyArg(v)));
      assert.deepEqual(a.get(1), before, `writing ${String(v)} changed the element`);
    }
  });
}

test("errors: u8 rejects 300, -1, 1.5, NaN, '5', 5n; the element is unchanged", () => {
  rejects(u8, 7, [300, 256, -1, 1.5, NaN, "5", 5n, null, undefined]);
});

test("errors: i32 rejects 1.5, 2^31, -2^31-1, Infinity, '1', true", () => {
  rejects(i32, -7, [1.5, 2 ** 31, -(2 ** 31) - 1, Infinity, "1", true]);
});

test("errors: i16 and u16 reject values outside their range", () => {
  rejects(i16, -3, [32768, -32769, 0.5]);
  rejects(u16, 3, [65536, -1]);
});

test("errors: u32 rejects -1, 2^32, 0.5", () => {
  rejects(u32, 0xffffffff, [-1, 2 ** 32, 0.5]);
});

test("errors: f64 and f32 reject non-numbers", () => {
  rejects(f64, 2.5, ["2.5", 2n, null, {}]);
  rejects(f32, 2.5, ["2.5", undefined]);
});

test("errors: i64 rejects numbers and out-of-range bigints; i64AsNumber rejects unsafe integers", () => {
  rejects(i64, -1n, [5, 2n ** 63n, -(2n ** 63n) - 1n, "5"]);
  rejects(u64, 1n, [-1n, 2n ** 64n, 1]);
  rejects(i64AsNumber, -9, [2 ** 53, 1.5, 5n, "1"]);
});

test("errors: bool rejects 1, 0, 'true', null", () => {
  rejects(bool, true, [1, 0, "true", null]);
});

test("errors: string rejects non-strings, strings too long (in UTF-8 bytes) and NUL", () => {
  rejects(string(4), "ok", [5, null, ["a"], "abcde", "ééé", "🎉!", "a\0b"]);
});

test("errors: struct rejects non-objects, missing fields and a bad field, writing nothing", () => {
  const P = struct({ x: f64, id: u8, name: string(4) });
  rejects(P, { x: 1.5, id: 2, name: "ab" }, [
    5,
    null,
    "x",
    { x: 1 }, // missing fields
    { x: 9, id: 300, name: "ab" }, // x is valid and comes first: it must not be written either
    { x: 9, id: 3, name: "toolong" },
    { x: "9", id: 3, name: "ab" },
  ]);
});

test("errors: array() rejects the wrong length and a bad element, writing nothing", () => {
  rejects(array(u8, 3), [1, 2, 3], [[1, 2], [1, 2, 3, 4], [9, 9, 300], "abc", 5]);
});

test("errors: setField with a bad value → INVALID_ARGUMENT, field unchanged", () => {
  withSegment((seg) => {
    const s = SharedArray.create(seg, "s", struct({ id: u8, ok: bool }), 2);
    s.set(0, { id: 4, ok: true });
    throwsCode("INVALID_ARGUMENT", () => s.setField(0, "id", 256));
    throwsCode("INVALID_ARGUMENT", () => s.setField(0, "ok", 1));
    assert.deepEqual(s.get(0), { id: 4, ok: true });
  });
});

test("errors: SharedAtomic rejects values that do not fit its type", () => {
  withSegment((seg) => {
    const a = SharedAtomic.create(seg, "a", i32, 5);
    throwsCode("INVALID_ARGUMENT", () => a.add(1.5));
    throwsCode("INVALID_ARGUMENT", () => a.store(2 ** 31));
    throwsCode("INVALID_ARGUMENT", () => a.compareExchange(5, anyArg("6")));
    throwsCode("INVALID_ARGUMENT", () => SharedAtomic.create(seg, "b", i32, 2 ** 40));
    assert.equal(seg.find("b"), undefined);
    const b = SharedAtomic.create(seg, "big", i64);
    throwsCode("INVALID_ARGUMENT", () => b.add(anyArg(1)));
    const n = SharedAtomic.create(seg, "num", i64AsNumber);
    throwsCode("INVALID_ARGUMENT", () => n.add(2 ** 53));
    throwsCode("INVALID_ARGUMENT", () => n.add(anyArg(1n)));
    assert.equal(a.load(), 5);
    assert.equal(n.load(), 0);
  });
});

// ---------------------------------------------------------------- use after close

test("errors: every segment method after close() → CLOSED; close is idempotent", () => {
  const name = uniqueName("closed");
  const seg = Segment.create(name, { size: 1 << 16 });
  try {
    SharedArray.create(seg, "a", u8, 4);
    seg.close();
    assert.equal(seg.closed, true);
    seg.close();
    seg[Symbol.dispose]();
    throwsCode("CLOSED", () => seg.list());
    throwsCode("CLOSED", () => seg.find("a"));
    throwsCode("CLOSED", () => seg.remove("a"));
    throwsCode("CLOSED", () => seg.stats());
    throwsCode("CLOSED", () => seg.processes());
    throwsCode("CLOSED", () => seg.unlink());
    throwsCode("CLOSED", () => SharedArray.create(seg, "b", u8, 4));
    throwsCode("CLOSED", () => SharedArray.open(seg, "a", u8));
    throwsCode("CLOSED", () => SharedArray.openOrCreate(seg, "a", u8, 4));
    throwsCode("CLOSED", () => SharedAtomic.create(seg, "c", i32));
    // The segment itself is intact for others.
    using again = Segment.open(name);
    assert.deepEqual(again.list().map((e) => e.name), ["a"]);
  } finally {
    Segment.unlink(name);
  }
});

test("errors: handles after their segment closes → CLOSED, never a read of unmapped memory", () => {
  const name = uniqueName("closedh");
  const seg = Segment.create(name, { size: 1 << 16 });
  try {
    const a = SharedArray.create(seg, "a", f64, 4);
    const s = SharedArray.create(seg, "s", struct({ x: f64 }), 4);
    const c = SharedAtomic.create(seg, "c", i32);
    const n = SharedAtomic.create(seg, "n", i64AsNumber);
    a.fill(1);
    seg.close();
    for (const h of [a, s, c, n]) assert.equal(h.closed, true);
    throwsCode("CLOSED", () => a.get(0));
    throwsCode("CLOSED", () => a.set(0, 2));
    throwsCode("CLOSED", () => a.fill(2));
    throwsCode("CLOSED", () => a.view());
    throwsCode("CLOSED", () => a.toArray());
    throwsCode("CLOSED", () => [...a]);
    throwsCode("CLOSED", () => s.getField(0, "x"));
    throwsCode("CLOSED", () => s.setField(0, "x", 1));
    throwsCode("CLOSED", () => c.load());
    throwsCode("CLOSED", () => c.add(1));
    throwsCode("CLOSED", () => c.compareExchange(0, 1));
    throwsCode("CLOSED", () => n.load()); // native 64-bit op: must not touch the unmapped address
    throwsCode("CLOSED", () => n.add(1));
    throwsCode("CLOSED", () => n.compareExchange(0, 1));
    a.close(); // idempotent on a closed handle
  } finally {
    Segment.unlink(name);
  }
});

test("errors: a closed handle → CLOSED while the segment and other handles keep working", () => {
  withSegment((seg) => {
    const a = SharedArray.create(seg, "a", u32, 4);
    const b = SharedArray.open(seg, "a", u32);
    a.set(0, 1);
    a.close();
    assert.equal(a.closed, true);
    throwsCode("CLOSED", () => a.get(0));
    throwsCode("CLOSED", () => a.set(0, 1));
    assert.equal(b.get(0), 1);
    {
      using c = SharedAtomic.create(seg, "c", i32);
      c.add(1);
      assert.equal(c.closed, false);
    }
    assert.equal(SharedAtomic.open(seg, "c", i32).load(), 1);
  });
});

test("errors: handles after remove() → CLOSED; the name can be reused with new data", () => {
  withSegment((seg) => {
    const a = SharedArray.create(seg, "a", u32, 4);
    const b = SharedArray.open(seg, "a", u32);
    const c = SharedAtomic.create(seg, "c", i32);
    a.fill(7);
    seg.remove("a");
    throwsCode("CLOSED", () => a.get(0));
    throwsCode("CLOSED", () => b.set(0, 1));
    throwsCode("NOT_FOUND", () => SharedArray.open(seg, "a", u32));
    c.add(1); // other structures are unaffected
    const again = SharedArray.create(seg, "a", u32, 4);
    assert.deepEqual(again.toArray(), [0, 0, 0, 0]);
    throwsCode("CLOSED", () => a.get(0));
  });
});

test("errors: a typed array from view() reads as empty (length 0) after the segment closes", () => {
  const name = uniqueName("view");
  const seg = Segment.create(name, { size: 1 << 16 });
  try {
    const a = SharedArray.create(seg, "a", f64, 16);
    const big = SharedArray.create(seg, "big", i64, 4);
    const v = a.view();
    const vb = big.view();
    v[3] = 2.5;
    assert.equal(a.get(3), 2.5);
    assert.equal(v.length, 16);
    seg.close();
    assert.equal(v.length, 0);
    assert.equal(v.byteLength, 0);
    assert.equal(v[3], undefined);
    assert.equal(vb.length, 0);
    v[3] = 1; // a write to a detached view is dropped, not a write to unmapped memory
    assert.equal(v[3], undefined);
    // The data is still in the segment.
    using again = Segment.open(name);
    assert.equal(SharedArray.open(again, "a", f64).get(3), 2.5);
  } finally {
    Segment.unlink(name);
  }
});

test("errors: closing one Segment object leaves another of the same segment (same process) working", () => {
  withSegment((seg, name) => {
    SharedArray.create(seg, "x", u8, 4).set(0, 1);
    const other = Segment.open(name);
    const b = SharedArray.open(other, "x", u8);
    const v = b.view();
    other.close();
    throwsCode("CLOSED", () => b.get(0));
    assert.equal(v.length, 0);
    assert.equal(SharedArray.open(seg, "x", u8).get(0), 1);
    assert.equal(seg.processes().length, 1);
  });
});

// ---------------------------------------------------------------- missing native library

function runWithEnv(rt: Runtime, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const worker = decodeURIComponent(new URL("./workers/foundation_worker.ts", import.meta.url).pathname);
  const [cmd, args] = command(rt, worker, ["load-library"]);
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${rt} load-library did not finish`));
    }, 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

for (const rt of ["deno", "bun"] as Runtime[]) {
  test(`errors: SHMKIT_LIB pointing at a nonexistent path → LIBRARY_MISSING with the build hint (${rt})`, async () => {
    const r = await runWithEnv(rt, { SHMKIT_LIB: "/nonexistent/libshmkit.so" });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(out.code, "LIBRARY_MISSING", out.message);
    assert.match(out.message, /\/nonexistent\/libshmkit\.so/);
    assert.match(out.message, /deno task build/);
  });

  test(`errors: SHMKIT_LIB pointing at a file that is not a library → LIBRARY_MISSING (${rt})`, async () => {
    const notALibrary = decodeURIComponent(new URL("./harness.ts", import.meta.url).pathname);
    const r = await runWithEnv(rt, { SHMKIT_LIB: notALibrary });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(out.code, "LIBRARY_MISSING", out.message);
    assert.match(out.message, /could not be loaded/);
    assert.match(out.message, /deno task build/);
  });
}
