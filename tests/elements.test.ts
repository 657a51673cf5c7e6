/**
 * Element types: a round trip through shared memory for every kind, edge values
 * included, and the C layout check: struct(...) sizes, alignments and field offsets
 * against what the C compiler reports for the same structs (tests/c/layout.c).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  array,
  bool,
  type ElementType,
  f32,
  f64,
  i16,
  i32,
  i64,
  i64AsNumber,
  i8,
  Segment,
  SharedArray,
  string,
  struct,
  type StructType,
  u16,
  u32,
  u64,
  u64AsNumber,
  u8,
} from "../mod.ts";
import { test } from "./harness.ts";
import { throwsCode } from "./helpers/errors.ts";
import { runWithSegment } from "./helpers/segments.ts";

function withSegment(fn: (seg: Segment, name: string) => void): void {
  runWithSegment("elem", 1 << 18, fn);
}

/**
 * Writes every value into an array, then reads it back from a second Segment
 * object (a separate mapping of the same memory) and with toArray / iteration.
 */
function roundTrip<T>(type: ElementType<T>, values: readonly T[], expected: readonly T[] = values): void {
  withSegment((seg, name) => {
    const a = SharedArray.create(seg, "v", type, values.length);
    values.forEach((v, i) => a.set(i, v));
    for (let i = 0; i < values.length; i++) assert.deepEqual(a.get(i), expected[i], `${type.name}[${i}]`);
    using other = Segment.open(name);
    const b = SharedArray.open(other, "v", type);
    assert.equal(b.length, values.length);
    assert.deepEqual(b.toArray(), [...expected]);
    assert.deepEqual([...b], [...expected]);
  });
}

const kinds: [string, ElementType<unknown>, unknown[], unknown[]?][] = [
  ["i8", i8, [0, 1, -1, 127, -128, 42]],
  ["u8", u8, [0, 1, 255, 128, 42]],
  ["i16", i16, [0, -1, 32767, -32768, 1234]],
  ["u16", u16, [0, 65535, 32768, 1234]],
  ["i32", i32, [0, -1, 2 ** 31 - 1, -(2 ** 31), 123456789]],
  ["u32", u32, [0, 2 ** 32 - 1, 2 ** 31, 123456789]],
  ["f32", f32, [0, 1.5, -2.25, 3.4e38, Infinity, -Infinity, 0.1], [
    0,
    1.5,
    -2.25,
    Math.fround(3.4e38),
    Infinity,
    -Infinity,
    Math.fround(0.1),
  ]],
  ["f64", f64, [0, -0, Math.PI, -1e308, 5e-324, Number.MAX_VALUE, Infinity, -Infinity]],
  ["i64", i64, [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, 1234567890123456789n]],
  ["u64", u64, [0n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n]],
  ["i64AsNumber", i64AsNumber, [
    0,
    -1,
    1,
    2 ** 32,
    -(2 ** 32),
    2 ** 32 - 1,
    -(2 ** 32) - 1,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    123456789012,
  ]],
  ["u64AsNumber", u64AsNumber, [0, 1, 2 ** 32, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER]],
  ["bool", bool, [true, false, true]],
];
for (const [label, type, values, expected] of kinds) {
  test(`elements: ${label} round-trips its edge values`, () => roundTrip(type, values, expected));
}

test("elements: f32 and f64 keep NaN and -0", () => {
  withSegment((seg) => {
    const a = SharedArray.create(seg, "f", f32, 2);
    const b = SharedArray.create(seg, "d", f64, 2);
    a.set(0, NaN);
    a.set(1, -0);
    b.set(0, NaN);
    b.set(1, -0);
    assert.ok(Number.isNaN(a.get(0)) && Number.isNaN(b.get(0)));
    assert.ok(Object.is(a.get(1), -0) && Object.is(b.get(1), -0));
  });
});

test("elements: i64AsNumber / u64AsNumber share i64 / u64's bytes exactly", () => {
  withSegment((seg) => {
    const big = SharedArray.create(seg, "i", i64, 4);
    const num = SharedArray.open(seg, "i", i64AsNumber);
    num.set(0, -5);
    num.set(1, Number.MIN_SAFE_INTEGER);
    big.set(2, 2n ** 40n + 7n);
    big.set(3, -(2n ** 52n));
    assert.deepEqual(big.toArray(), [-5n, BigInt(Number.MIN_SAFE_INTEGER), 2n ** 40n + 7n, -(2n ** 52n)]);
    assert.deepEqual(num.toArray(), [-5, Number.MIN_SAFE_INTEGER, 2 ** 40 + 7, -(2 ** 52)]);
    const ubig = SharedArray.create(seg, "u", u64, 2);
    const unum = SharedArray.open(seg, "u", u64AsNumber);
    unum.set(0, 2 ** 52 + 3);
    assert.equal(ubig.get(0), 2n ** 52n + 3n);
    ubig.set(1, 2n ** 33n);
    assert.equal(unum.get(1), 2 ** 33);
  });
});

test("elements: reading an i64AsNumber / u64AsNumber beyond 2^53 → OUT_OF_RANGE, never a rounded number", () => {
  withSegment((seg) => {
    const big = SharedArray.create(seg, "i", i64, 4);
    const num = SharedArray.open(seg, "i", i64AsNumber);
    big.set(0, 2n ** 53n); // not a safe integer
    big.set(1, 2n ** 53n + 1n); // would round to 2^53
    big.set(2, -(2n ** 53n) - 1n);
    big.set(3, 2n ** 53n - 1n); // the largest that fits
    throwsCode("OUT_OF_RANGE", () => num.get(0));
    throwsCode("OUT_OF_RANGE", () => num.get(1));
    throwsCode("OUT_OF_RANGE", () => num.get(2));
    throwsCode("OUT_OF_RANGE", () => num.toArray());
    assert.equal(num.get(3), Number.MAX_SAFE_INTEGER);
    const ubig = SharedArray.create(seg, "u", u64, 2);
    const unum = SharedArray.open(seg, "u", u64AsNumber);
    ubig.set(0, 2n ** 64n - 1n);
    ubig.set(1, 2n ** 53n);
    throwsCode("OUT_OF_RANGE", () => unum.get(0));
    throwsCode("OUT_OF_RANGE", () => unum.get(1));
  });
});

test("elements: string round-trips ASCII, multi-byte UTF-8, emoji and exact-length values", () => {
  roundTrip(string(8), ["", "a", "abcdefgh", "héllo", "日本", "🎉🎉", "€uro", "naïve"]);
  roundTrip(string(9), ["日本語", "😀😀a"]); // exactly 9 bytes each
});

test("elements: string of exactly maxBytes has no terminator and does not spill into the next element", () => {
  withSegment((seg) => {
    const s = SharedArray.create(seg, "s", string(4), 3);
    s.set(0, "abcd");
    s.set(1, "🎉"); // 4 bytes of UTF-8
    s.set(2, "é"); // 2 bytes + NUL padding
    assert.deepEqual(s.toArray(), ["abcd", "🎉", "é"]);
    s.set(0, "x"); // shorter overwrite clears the tail
    assert.equal(s.get(0), "x");
    assert.equal(s.get(1), "🎉");
    throwsCode("INVALID_ARGUMENT", () => s.set(2, "abcde"));
    throwsCode("INVALID_ARGUMENT", () => s.set(2, "ab🎉")); // 6 bytes
    throwsCode("INVALID_ARGUMENT", () => s.set(2, "éé€")); // 7 bytes
    assert.equal(s.get(2), "é");
  });
});

test("elements: string stores UTF-8 bytes as C sees them (NUL padded)", () => {
  withSegment((seg) => {
    const s = SharedArray.create(seg, "s", string(6), 1);
    s.set(0, "hé");
    const e = seg.list()[0];
    const data = e.offset + 64;
    assert.deepEqual([...seg.memory.u8.subarray(data, data + 6)], [0x68, 0xc3, 0xa9, 0, 0, 0]);
  });
});

test("elements: array() of numbers, strings and structs round-trips", () => {
  roundTrip(array(f64, 3), [[1, 2, 3], [-1.5, 0, Infinity]]);
  roundTrip(array(string(3), 2), [["ab", "c"], ["", "xyz"]]);
  roundTrip(array(struct({ a: u8, b: i16 }), 2), [[{ a: 1, b: -2 }, { a: 255, b: 32767 }]]);
  roundTrip(array(array(i8, 2), 2), [[[1, -1], [127, -128]]]);
  withSegment((seg) => {
    const a = SharedArray.create(seg, "a", array(u16, 4), 1);
    a.set(0, new Uint16Array([1, 2, 3, 4]) as unknown as number[]); // typed arrays are accepted as values
    assert.deepEqual(a.get(0), [1, 2, 3, 4]);
  });
});

test("elements: nested struct round-trips, and getField/setField reach single fields", () => {
  const Vec = struct({ x: f64, y: f64 });
  const Body = struct({
    pos: Vec,
    vel: Vec,
    id: u32,
    tag: string(5),
    flags: array(u8, 3),
    alive: bool,
    mass: f32,
    serial: i64,
    count: u64AsNumber,
  });
  const v = {
    pos: { x: 1.5, y: -2 },
    vel: { x: 0, y: 1e-9 },
    id: 4_000_000_000,
    tag: "añ",
    flags: [1, 2, 255],
    alive: true,
    mass: 0.5,
    serial: -(2n ** 62n),
    count: 2 ** 40,
  };
  roundTrip(Body, [v, { ...v, id: 0, tag: "", alive: false, flags: [0, 0, 0] }]);
  withSegment((seg) => {
    const a = SharedArray.create(seg, "b", Body, 2);
    a.set(1, v);
    assert.deepEqual(a.getField(1, "pos"), { x: 1.5, y: -2 });
    a.setField(1, "id", 7);
    a.setField(1, "vel", { x: 3, y: 4 });
    assert.deepEqual(a.get(1), { ...v, id: 7, vel: { x: 3, y: 4 } });
    assert.deepEqual(a.get(0).pos, { x: 0, y: 0 }); // neighbours untouched
  });
});

test("elements: fill writes every element and leaves the rest alone", () => {
  withSegment((seg) => {
    const P = struct({ a: u8, b: f64 });
    const a = SharedArray.create(seg, "p", P, 6);
    a.fill({ a: 3, b: 2.5 }, 1, 4);
    assert.deepEqual(a.toArray().map((p) => p.a), [0, 3, 3, 3, 0, 0]);
    const s = SharedArray.create(seg, "s", string(3), 3);
    s.fill("é");
    assert.deepEqual(s.toArray(), ["é", "é", "é"]);
  });
});

test("elements: view() is a zero-copy typed array of the right kind for numeric types", () => {
  withSegment((seg) => {
    const cases: [ElementType<number> | ElementType<bigint>, unknown][] = [
      [i8, Int8Array],
      [u8, Uint8Array],
      [i16, Int16Array],
      [u16, Uint16Array],
      [i32, Int32Array],
      [u32, Uint32Array],
      [f32, Float32Array],
      [f64, Float64Array],
      [i64, BigInt64Array],
      [u64, BigUint64Array],
    ];
    for (const [type, ctor] of cases) {
      const a = SharedArray.create(seg, type.name, type as ElementType<number>, 5);
      const v = a.view();
      assert.ok(v instanceof (ctor as typeof Uint8Array), type.name);
      assert.equal(v.length, 5);
      const one = (typeof v[0] === "bigint" ? 1n : 1) as number;
      v[4] = one;
      assert.equal(a.get(4), one, `${type.name}: view write visible through get`);
      a.set(2, one);
      assert.equal(v[2], one, `${type.name}: set visible through the view`);
      assert.equal(v[5], undefined);
    }
  });
});

test("elements: descriptors have C sizes and stable type names", () => {
  const sizes: [ElementType<unknown>, number, string][] = [
    [i8, 1, "i8"],
    [u8, 1, "u8"],
    [i16, 2, "i16"],
    [u16, 2, "u16"],
    [i32, 4, "i32"],
    [u32, 4, "u32"],
    [f32, 4, "f32"],
    [f64, 8, "f64"],
    [i64, 8, "i64"],
    [u64, 8, "u64"],
    [i64AsNumber, 8, "i64"],
    [u64AsNumber, 8, "u64"],
    [bool, 1, "bool"],
    [string(12), 12, "string(12)"],
    [array(u16, 3), 6, "u16[3]"],
    [struct({ x: f64, y: f64, id: u32 }), 24, "struct{x:f64,y:f64,id:u32}"],
  ];
  for (const [t, size, name] of sizes) {
    assert.equal(t.size, size, name);
    assert.equal(t.name, name);
    assert.equal(t.size % t.align, 0, `${name}: size is a multiple of align`);
  }
  assert.equal(struct({ x: f64 }).typeHash, struct({ x: f64 }).typeHash);
  assert.notEqual(struct({ x: f64 }).typeHash, struct({ y: f64 }).typeHash);
});

// ---------------------------------------------------------------- C layout

const Small = struct({ s: i16, c: i8 });
const Inner = struct({ c: i8, d: f64 });
const Nested = struct({ c: i8, in: Inner, s: i16 });

/** The same structs as tests/c/layout.c, built with struct(...). */
const LAYOUTS: Record<string, StructType<unknown>> = {
  Particle: struct({ x: f64, y: f64, id: u32 }),
  Mixed: struct({ c: i8, s: i16, i: i32, d: f64 }),
  Wide: struct({ c: i8, l: i64, c2: i8 }),
  Small,
  Inner,
  Nested,
  Arrays: struct({ a: array(u8, 3), b: u32, f: bool, name: string(5), d: array(f64, 2) }),
  Bools: struct({ a: bool, b: bool, c: i16, f: f32 }),
  OfStructs: struct({ arr: array(Small, 3), tail: i8 }),
  Chars: struct({ name: string(7) }),
  Deep: struct({ tag: u16, n: Nested, s: array(Small, 2), u: u64, last: i8 }),
  Floats: struct({ f: f32, d: f64, g: f32 }),
  Tail: struct({ big: i64, b: u8 }),
} as Record<string, StructType<unknown>>;

interface CLayout {
  size: number;
  align: number;
  fields: Record<string, number>;
}

test("elements: struct(...) size, alignment and every field offset match the C compiler (tests/c/layout.c)", () => {
  const source = decodeURIComponent(new URL("./c/layout.c", import.meta.url).pathname);
  const dir = mkdtempSync(join(tmpdir(), "shmkit-layout-"));
  try {
    const exe = join(dir, "layout");
    try {
      execFileSync("cc", ["-std=c11", "-O0", "-Wall", "-Werror", "-o", exe, source], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const err = e as { code?: string; stderr?: Uint8Array };
      if (err.code === "ENOENT") {
        throw new Error("the C layout test needs a C compiler: `cc` was not found on PATH (install gcc or clang)");
      }
      throw new Error(`compiling tests/c/layout.c failed: ${err.stderr ? new TextDecoder().decode(err.stderr) : e}`);
    }
    const c = JSON.parse(new TextDecoder().decode(execFileSync(exe))) as Record<string, CLayout>;
    assert.deepEqual(Object.keys(c).sort(), Object.keys(LAYOUTS).sort(), "layout.c and LAYOUTS list the same structs");
    for (const [name, t] of Object.entries(LAYOUTS)) {
      const ours: CLayout = {
        size: t.size,
        align: t.align,
        fields: Object.fromEntries(Object.values(t.fields).map((f) => [f.name, f.offset])),
      };
      assert.deepEqual(ours, c[name], `struct ${name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("elements: a struct array in shared memory matches C's byte layout (stride and field bytes)", () => {
  withSegment((seg) => {
    const P = LAYOUTS.Mixed as StructType<{ c: number; s: number; i: number; d: number }>;
    const a = SharedArray.create(seg, "m", P, 2);
    a.set(1, { c: -1, s: 0x1234, i: 0x0a0b0c0d, d: 1.0 });
    const base = seg.list()[0].offset + 64 + P.size; // element 1
    const dv = new DataView(seg.memory.buffer);
    assert.equal(dv.getInt8(base + 0), -1);
    assert.equal(dv.getInt16(base + 2, true), 0x1234);
    assert.equal(dv.getInt32(base + 4, true), 0x0a0b0c0d);
    assert.equal(dv.getFloat64(base + 8, true), 1.0);
    assert.equal(dv.getInt8(base - P.size), 0); // element 0 untouched
  });
});

// ---------------------------------------------------------------- generated struct read/write

/** Field names that are awkward in generated code or on a plain object. */
const ODD_NAMES = [
  "é",
  "😀",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  'quo"te',
  "it's",
  "back\\slash",
  "line\nbreak",
  "sep\u2028arator",
  "${x}`",
  "}; globalThis.shmkitInjected = 1; ({",
  "0",
  "",
];

test("elements: struct fields with odd names (unicode, __proto__, constructor, quotes) round-trip as own properties", () => {
  // Object.fromEntries defines own properties, so "__proto__" is a field, not the prototype.
  const T = struct(Object.fromEntries(ODD_NAMES.map((n, i) => [n, i % 2 === 0 ? u32 : string(8)])));
  assert.deepEqual(Object.keys(T.fields).sort(), [...ODD_NAMES].sort());
  for (const n of ODD_NAMES) assert.ok(Object.hasOwn(T.fields, n) && T.fields[n].name === n, n);
  const value = (k: number) => Object.fromEntries(ODD_NAMES.map((n, i) => [n, i % 2 === 0 ? i * 1000 + k : `v${i}:${k}`]));
  roundTrip(T, [value(1), value(2)]);
  withSegment((seg) => {
    const a = SharedArray.create(seg, "odd", T, 2);
    a.set(1, value(7));
    const got = a.get(1) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    for (const [i, n] of ODD_NAMES.entries()) {
      assert.ok(Object.hasOwn(got, n), `own property ${JSON.stringify(n)}`);
      assert.equal(got[n], value(7)[n]);
      assert.equal(a.getField(1, n), value(7)[n]);
      a.setField(1, n, i % 2 === 0 ? 5 : "s");
      assert.equal((a.get(1) as Record<string, unknown>)[n], i % 2 === 0 ? 5 : "s");
    }
    assert.deepEqual(a.get(0), Object.fromEntries(ODD_NAMES.map((n, i) => [n, i % 2 === 0 ? 0 : ""])));
  });
  assert.equal((globalThis as Record<string, unknown>).shmkitInjected, undefined, "a field name is never run as code");
});

test("elements: struct create() is every field's zero, a fresh ordinary object each call, also for odd field names", () => {
  const Inner = struct({ a: u8, b: f32 });
  const T = struct({
    x: f64,
    id: u32,
    on: bool,
    name: string(8),
    xs: array(i16, 3),
    inner: Inner,
    big: i64,
    ubig: u64,
    n64: i64AsNumber,
  });
  const zero = { x: 0, id: 0, on: false, name: "", xs: [0, 0, 0], inner: { a: 0, b: 0 }, big: 0n, ubig: 0n, n64: 0 };
  const a = T.create(), b = T.create();
  assert.deepEqual(a, zero); // strict: same prototype (Object.prototype), same own properties
  assert.equal(Object.getPrototypeOf(a), Object.prototype);
  assert.equal(Object.getPrototypeOf(a.inner), Object.prototype);
  assert.deepEqual(Object.keys(a), Object.keys(T.fields));
  assert.notEqual(a, b);
  assert.notEqual(a.inner, b.inner);
  a.x = 2.5, a.inner.a = 3, a.xs[1] = 7;
  assert.deepEqual(b, zero, "values share nothing");
  assert.deepEqual(T.create(), zero, "create() reads bytes nothing writes");
  assert.deepEqual(structuredClone(a), { ...zero, x: 2.5, inner: { a: 3, b: 0 }, xs: [0, 7, 0] });
  // A value from create() and one from read are the same kind of object, and a target.
  withSegment((seg) => {
    const arr = SharedArray.create(seg, "c", T, 1);
    arr.set(0, a);
    assert.deepEqual(arr.get(0), a);
    assert.deepEqual(Object.keys(arr.get(0) as object), Object.keys(a));
  });
  // Names Object.prototype has are own properties too (defined, not assigned).
  const Odd = struct(Object.fromEntries(ODD_NAMES.map((n, i) => [n, i % 2 === 0 ? u32 : string(8)])));
  const o = Odd.create() as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(o), Object.prototype);
  for (const [i, n] of ODD_NAMES.entries()) {
    assert.ok(Object.hasOwn(o, n), `own property ${JSON.stringify(n)}`);
    assert.equal(o[n], i % 2 === 0 ? 0 : "");
  }
});

test("elements: struct errors keep their codes and messages, also for odd field names", () => {
  const T = struct(Object.fromEntries([["__proto__", u8], ['a"b', f64], ["😀", string(2)], ["constructor", bool]]));
  const messageOf = (fn: () => unknown): string => throwsCode("INVALID_ARGUMENT", fn).message;
  withSegment((seg) => {
    const a = SharedArray.create(seg, "t", T, 1);
    const good = Object.fromEntries([["__proto__", 1], ['a"b', 2.5], ["😀", "ok"], ["constructor", true]]);
    a.set(0, good);
    const without = (n: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== n));
    const withField = (n: string, v: unknown) => Object.fromEntries(Object.entries(good).map(([k, x]) => [k, k === n ? v : x]));
    assert.equal(messageOf(() => a.set(0, anyValue(5))), `5 is not a valid ${T.name} value`);
    assert.equal(messageOf(() => a.set(0, anyValue(null))), `null is not a valid ${T.name} value`);
    assert.equal(messageOf(() => a.set(0, without('a"b'))), `${T.name}: field "a"b" is missing`);
    assert.equal(messageOf(() => a.set(0, without("😀"))), `${T.name}: field "😀" is missing`);
    // A bad value: the field type's own message, the first bad field in field order.
    assert.equal(messageOf(() => a.set(0, withField("__proto__", 256))), "256 is not a valid u8 value");
    assert.equal(messageOf(() => a.set(0, withField('a"b', 1n))), "1n is not a valid f64 value");
    assert.equal(messageOf(() => a.set(0, withField("😀", "abc"))), "string of 3 UTF-8 bytes does not fit string(2)");
    assert.equal(messageOf(() => a.set(0, withField("constructor", 1))), "1 is not a valid bool value");
    assert.equal(messageOf(() => a.set(0, { ...withField("😀", 7), ['a"b']: "x" })), '"x" is not a valid f64 value');
    assert.deepEqual(a.get(0), good, "nothing was written");
  });
});

test("elements: struct write validates every field, nested structs and arrays included, before writing any", () => {
  const Inner = struct({ k: u16, s: string(3) });
  const T = struct({ a: f64, in: Inner, b: i64, list: array(Inner, 2), c: i8, n: i64AsNumber, last: u32 });
  const good = {
    a: 1.5,
    in: { k: 7, s: "ab" },
    b: -5n,
    list: [{ k: 1, s: "x" }, { k: 2, s: "y" }],
    c: -3,
    n: -(2 ** 40),
    last: 9,
  };
  withSegment((seg) => {
    const a = SharedArray.create(seg, "t", T, 1);
    a.set(0, good);
    const bad: [Partial<Record<keyof typeof good, unknown>>, string][] = [
      [{ in: { k: 70000, s: "ab" } }, "70000 is not a valid u16 value"],
      [{ in: { k: 1 } }, `${Inner.name}: field "s" is missing`],
      [{ in: 5 }, `5 is not a valid ${Inner.name} value`],
      [{ b: 2n ** 63n }, "9223372036854775808n is not a valid i64 value"],
      [{ list: [{ k: 1, s: "x" }, { k: 2, s: "long" }] }, "string of 4 UTF-8 bytes does not fit string(3)"],
      [{ list: [{ k: 1, s: "x" }] }, `${Inner.name}[2] needs exactly 2 values, got 1`],
      [{ c: 128 }, "128 is not a valid i8 value"],
      [{ n: 2 ** 53 }, `${2 ** 53} is not a valid i64 (as number) value`],
      [{ last: -1 }, "-1 is not a valid u32 value"],
    ];
    for (const [patch, message] of bad) {
      // Every other field differs from what is stored: none of them may be written.
      const v = { ...good, a: 99, b: 99n, c: 99, last: 99, in: { k: 99, s: "zz" }, ...patch };
      assert.equal(throwsCode("INVALID_ARGUMENT", () => a.set(0, anyValue(v))).message, message);
      assert.deepEqual(a.get(0), good, message);
    }
  });
});

test("elements: struct read gives a fresh plain object with the fields in declaration order", () => {
  const T = struct({ z: u8, a: f32, m: bool, s: string(4), q: i64 });
  withSegment((seg) => {
    const a = SharedArray.create(seg, "t", T, 2);
    a.set(0, { z: 1, a: 0.5, m: true, s: "hé", q: 3n });
    const x = a.get(0);
    const y = a.get(0);
    assert.notEqual(x, y);
    assert.deepEqual(Object.keys(x), ["z", "a", "m", "s", "q"]);
    assert.deepEqual(x, { z: 1, a: 0.5, m: true, s: "hé", q: 3n });
    x.z = 2; // the result is a copy
    assert.equal(a.get(0).z, 1);
    assert.deepEqual(a.get(1), { z: 0, a: 0, m: false, s: "", q: 0n });
  });
});

// deno-lint-ignore no-explicit-any
function anyValue(v: unknown): any {
  return v;
}

test("elements: a struct's inlined numeric and bool fields accept exactly what the kind's own write accepts, with its message", () => {
  const values: unknown[] = [
    0,
    -0,
    1,
    -1,
    0.5,
    127,
    128,
    -128,
    -129,
    255,
    256,
    32767,
    32768,
    -32768,
    -32769,
    65535,
    65536,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    -(2 ** 31) - 1,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53,
    NaN,
    Infinity,
    -Infinity,
    0n,
    1n,
    -1n,
    2n ** 63n - 1n,
    2n ** 63n,
    -(2n ** 63n),
    -(2n ** 63n) - 1n,
    2n ** 64n - 1n,
    2n ** 64n,
    "1",
    "",
    true,
    false,
    null,
    undefined,
    {},
    [],
    [1],
    Symbol("s"),
    new Number(1),
    Object(1n),
  ];
  withSegment((seg) => {
    for (const kind of [i8, u8, i16, u16, i32, u32, f32, f64, i64, u64, bool] as ElementType<unknown>[]) {
      const T = struct({ pad: u8, v: kind });
      const own = SharedArray.create(seg, `own-${kind.name}`, kind, 1);
      const inStruct = SharedArray.create(seg, `st-${kind.name}`, T, 1);
      for (const v of values) {
        let ownError: string | undefined;
        try {
          own.set(0, v);
        } catch (e) {
          ownError = `${(e as { code?: string }).code}: ${(e as Error).message}`;
        }
        if (kind.accepts) assert.equal(kind.accepts(v), ownError === undefined, `${kind.name} accepts ${String(v)}`);
        let structError: string | undefined;
        try {
          inStruct.set(0, { pad: 1, v });
        } catch (e) {
          structError = `${(e as { code?: string }).code}: ${(e as Error).message}`;
        }
        assert.equal(structError, ownError, `${kind.name} in a struct, value ${String(v)}`);
        if (ownError === undefined) {
          assert.ok(Object.is(inStruct.get(0).v, own.get(0)), `${kind.name} reads back ${String(v)} alike`);
          assert.ok(Object.is(inStruct.getField(0, "v"), own.get(0)));
        }
      }
    }
  });
});
