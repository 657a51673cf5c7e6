/**
 * The numeric element kinds (i8 … u64, f32, f64, i64AsNumber, u64AsNumber) and bool,
 * and which of them the native fast paths move.
 */
import { ShmError } from "../errors.ts";
import { badValue, type ElementType, inlined, type Pick, scalar, type TypedArrayCtor, type ViewName } from "./element_type.ts";

/** A kind that one typed array reads and writes exactly; `accepts` rejects values it would wrap or coerce. */
function numeric<T extends number | bigint>(
  name: ViewName,
  size: number,
  ctor: TypedArrayCtor,
  pick: Pick,
  accepts: (v: T) => boolean,
  test: (v: string) => string,
): ElementType<T> {
  const shift = Math.log2(size);
  const type = scalar<T>(name, size, ctor, (m, o) => pick(m)[o >> shift] as T, (m, o, v) => {
    if (!accepts(v)) throw badValue(name, v);
    pick(m)[o >> shift] = v;
  }, accepts);
  inlined.set(type as ElementType<unknown>, { view: name, shift, test });
  return type;
}

/**
 * Integer kinds check their range so a bad value is an error, never silently wrapped
 * (typeof first: a bigint or symbol would make the bit operators throw a TypeError).
 * Each kind's test is given twice: as `accepts` and as source text for struct().
 *
 * @example
 * ```ts
 * import { i8, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-i8-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", i8, 4);
 * xs.set(0, -128);
 * assert.equal(xs.get(0), -128);
 * assert.throws(() => xs.set(1, 128), { code: "INVALID_ARGUMENT" });
 * ```
 */
export const i8: ElementType<number> = numeric(
  "i8",
  1,
  Int8Array,
  (m) => m.i8,
  (v) => typeof v === "number" && (v << 24) >> 24 === v,
  (v) => `typeof ${v} === "number" && (${v} << 24) >> 24 === ${v}`,
);
/**
 * Unsigned 8-bit integer (C `uint8_t`).
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, u8 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-u8-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", u8, 4);
 * xs.set(0, 255);
 * assert.equal(xs.get(0), 255);
 * assert.throws(() => xs.set(1, 256), { code: "INVALID_ARGUMENT" });
 * ```
 */
export const u8: ElementType<number> = numeric(
  "u8",
  1,
  Uint8Array,
  (m) => m.u8,
  (v) => typeof v === "number" && (v & 0xff) === v,
  (v) => `typeof ${v} === "number" && (${v} & 0xff) === ${v}`,
);
/**
 * Signed 16-bit integer (C `int16_t`).
 *
 * @example
 * ```ts
 * import { i16, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-i16-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", i16, 4);
 * xs.set(0, -32768);
 * assert.equal(xs.get(0), -32768);
 * assert.throws(() => xs.set(1, 32768), { code: "INVALID_ARGUMENT" });
 * ```
 */
export const i16: ElementType<number> = numeric(
  "i16",
  2,
  Int16Array,
  (m) => m.i16,
  (v) => typeof v === "number" && (v << 16) >> 16 === v,
  (v) => `typeof ${v} === "number" && (${v} << 16) >> 16 === ${v}`,
);
/**
 * Unsigned 16-bit integer (C `uint16_t`).
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, u16 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-u16-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", u16, 4);
 * xs.set(0, 65535);
 * assert.equal(xs.get(0), 65535);
 * assert.throws(() => xs.set(1, -1), { code: "INVALID_ARGUMENT" });
 * ```
 */
export const u16: ElementType<number> = numeric(
  "u16",
  2,
  Uint16Array,
  (m) => m.u16,
  (v) => typeof v === "number" && (v & 0xffff) === v,
  (v) => `typeof ${v} === "number" && (${v} & 0xffff) === ${v}`,
);
/**
 * Signed 32-bit integer (C `int32_t`).
 *
 * @example
 * ```ts
 * import { i32, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-i32-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", i32, 4);
 * xs.set(0, -2147483648);
 * assert.equal(xs.get(0), -2147483648);
 * assert.throws(() => xs.set(1, 2 ** 31), { code: "INVALID_ARGUMENT" });
 * ```
 */
export const i32: ElementType<number> = numeric(
  "i32",
  4,
  Int32Array,
  (m) => m.i32,
  (v) => typeof v === "number" && (v | 0) === v,
  (v) => `typeof ${v} === "number" && (${v} | 0) === ${v}`,
);
/**
 * Unsigned 32-bit integer (C `uint32_t`).
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-u32-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", u32, 4);
 * xs.set(0, 4294967295);
 * assert.equal(xs.get(0), 4294967295);
 * assert.throws(() => xs.set(1, -1), { code: "INVALID_ARGUMENT" });
 * ```
 */
export const u32: ElementType<number> = numeric(
  "u32",
  4,
  Uint32Array,
  (m) => m.u32,
  (v) => typeof v === "number" && v >>> 0 === v,
  (v) => `typeof ${v} === "number" && ${v} >>> 0 === ${v}`,
);
/**
 * 32-bit float (C `float`); values are rounded to single precision.
 *
 * @example
 * ```ts
 * import { f32, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-f32-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", f32, 4);
 * xs.set(0, 0.5);
 * assert.equal(xs.get(0), 0.5);
 * ```
 */
export const f32: ElementType<number> = numeric(
  "f32",
  4,
  Float32Array,
  (m) => m.f32,
  (v) => typeof v === "number",
  (v) => `typeof ${v} === "number"`,
);
/**
 * 64-bit float (C `double`).
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-f64-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", f64, 4);
 * xs.set(0, 3.25);
 * assert.equal(xs.get(0), 3.25);
 * ```
 */
export const f64: ElementType<number> = numeric(
  "f64",
  8,
  Float64Array,
  (m) => m.f64,
  (v) => typeof v === "number",
  (v) => `typeof ${v} === "number"`,
);
/**
 * Signed 64-bit integer (C `int64_t`), read and written as bigint.
 *
 * @example
 * ```ts
 * import { i64, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-i64-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", i64, 4);
 * xs.set(0, -(2n ** 63n));
 * assert.equal(xs.get(0), -(2n ** 63n));
 * ```
 */
export const i64: ElementType<bigint> = numeric(
  "i64",
  8,
  BigInt64Array,
  (m) => m.i64,
  (v) => typeof v === "bigint" && BigInt.asIntN(64, v) === v,
  (v) => `typeof ${v} === "bigint" && BigInt.asIntN(64, ${v}) === ${v}`,
);
/**
 * Unsigned 64-bit integer (C `uint64_t`), read and written as bigint.
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, u64 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-u64-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", u64, 4);
 * xs.set(0, 2n ** 64n - 1n);
 * assert.equal(xs.get(0), 2n ** 64n - 1n);
 * ```
 */
export const u64: ElementType<bigint> = numeric(
  "u64",
  8,
  BigUint64Array,
  (m) => m.u64,
  (v) => typeof v === "bigint" && BigInt.asUintN(64, v) === v,
  (v) => `typeof ${v} === "bigint" && BigInt.asUintN(64, ${v}) === ${v}`,
);

const TWO_32 = 0x1_0000_0000;

/** A 64-bit integer from its two 32-bit words, as a JS number; OUT_OF_RANGE when not exact. */
export function numberFromWords(type: string, lo: number, hi: number): number {
  const v = hi * TWO_32 + lo;
  if (!Number.isSafeInteger(v)) {
    throw new ShmError("OUT_OF_RANGE", `stored ${type} value does not fit a JS number exactly; read it as bigint (${type})`);
  }
  return v;
}

/**
 * 64-bit integers read and written as JS numbers, for values within ±2^53. Same
 * binary layout (and type signature) as i64/u64; reading a value that is not a safe
 * integer throws OUT_OF_RANGE instead of rounding.
 *
 * @example
 * ```ts
 * import { i64AsNumber, Segment, SharedAtomic } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-i64n-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const total = SharedAtomic.create(seg, "total", i64AsNumber, -(2 ** 40));
 * total.add(1);
 * assert.equal(total.load(), -(2 ** 40) + 1);
 * ```
 */
export const i64AsNumber: ElementType<number> = scalar("i64", 8, undefined, (m, o) => {
  const i = o >> 2;
  return numberFromWords("i64", m.u32[i], m.i32[i + 1]);
}, (m, o, v) => {
  if (!Number.isSafeInteger(v)) throw badValue("i64 (as number)", v);
  const hi = Math.floor(v / TWO_32);
  const i = o >> 2;
  m.u32[i] = v - hi * TWO_32;
  m.i32[i + 1] = hi;
});
/**
 * The same 64-bit layout as u64, read and written as a number (within 2^53).
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, u64AsNumber } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-u64n-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const sizes = SharedArray.create(seg, "sizes", u64AsNumber, 4);
 * sizes.set(0, Number.MAX_SAFE_INTEGER);
 * assert.equal(sizes.get(0), Number.MAX_SAFE_INTEGER);
 * assert.throws(() => sizes.set(1, -1), { code: "INVALID_ARGUMENT" });
 * ```
 */
export const u64AsNumber: ElementType<number> = scalar("u64", 8, undefined, (m, o) => {
  const i = o >> 2;
  return numberFromWords("u64", m.u32[i], m.u32[i + 1]);
}, (m, o, v) => {
  if (!Number.isSafeInteger(v) || v < 0) throw badValue("u64 (as number)", v);
  const hi = Math.floor(v / TWO_32);
  const i = o >> 2;
  m.u32[i] = v - hi * TWO_32;
  m.u32[i + 1] = hi;
});

/**
 * One byte, 0 or 1 (C's bool / _Bool).
 *
 * @example
 * ```ts
 * import { bool, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-bool-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const flags = SharedArray.create(seg, "flags", bool, 8);
 * flags.set(3, true);
 * assert.deepEqual(flags.toArray().slice(2, 5), [false, true, false]);
 * ```
 */
export const bool: ElementType<boolean> = scalar("bool", 1, undefined, (m, o) => m.u8[o] !== 0, (m, o, v) => {
  if (typeof v !== "boolean") throw badValue("bool", v);
  m.u8[o] = v ? 1 : 0;
});

/**
 * Numbers of the element kinds the native fast paths move (zig/fastpath.zig `Kind`):
 * every kind whose values are JS numbers that an f64 carries exactly. The native code
 * validates a value with the same rules as the kind's `accepts` / `write` here.
 */
const FAST_KINDS = new Map<ElementType<unknown>, number>([
  [i8, 0],
  [u8, 1],
  [i16, 2],
  [u16, 3],
  [i32, 4],
  [u32, 5],
  [f32, 6],
  [f64, 7],
  [i64AsNumber, 8],
  [u64AsNumber, 9],
] as [ElementType<unknown>, number][]);

/** The native fast-path kind number of `t`, or undefined when it has none (bigint, bool, string, array, struct). */
export function fastKind(t: ElementType<unknown>): number | undefined {
  return FAST_KINDS.get(t);
}
