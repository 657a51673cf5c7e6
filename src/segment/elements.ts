/**
 * Element descriptors: how one value of a structure is laid out and read or written
 * in place. Numeric kinds, bool, fixed-length UTF-8 strings, fixed-length arrays and
 * C-layout structs (same size, alignment and field offsets as a C compiler gives).
 */
import { ShmError } from "../errors.ts";
import { Memory } from "./memory.ts";

/**
 * The typed array constructors an element type can expose for zero-copy views.
 *
 * @example
 * ```ts
 * import { f64, i64, type TypedArrayCtor } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const ctor: TypedArrayCtor | undefined = f64.typedArray;
 * assert.equal(ctor, Float64Array);
 * assert.equal(i64.typedArray, BigInt64Array);
 * ```
 */
export type TypedArrayCtor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/**
 * Describes one element type. `read`/`write` take a byte offset into the segment.
 *
 * @example
 * ```ts
 * import { f64, string, type ElementType } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const t: ElementType<number> = f64;
 * assert.equal(t.size, 8);
 * assert.equal(string(16).name, "string(16)");
 * ```
 */
export interface ElementType<T> {
  /** Canonical type signature, e.g. "f64", "string(16)", "struct{x:f64,y:f64,id:u32}". */
  readonly name: string;
  /** Bytes per element, a multiple of `align` (as C's sizeof). */
  readonly size: number;
  /** Alignment in bytes (as C's alignof). */
  readonly align: number;
  /** FNV-1a hash of `name`, stored in the segment to check types on open. */
  readonly typeHash: number;
  /** A typed array that reads exactly these values, for numeric kinds (zero-copy views). */
  readonly typedArray: TypedArrayCtor | undefined;
  /** For typed-array kinds: whether `write` would accept the value (lets hot paths skip `write`). */
  accepts?(value: T): boolean;
  /** Reads the value stored at byte `offset` of the segment. */
  read(m: Memory, offset: number): T;
  /** Throws INVALID_ARGUMENT (writing nothing) if the value does not fit the type. */
  write(m: Memory, offset: number, value: T): void;
}

/**
 * The value type an element descriptor reads and writes.
 *
 * @example
 * ```ts
 * import { f64, struct, type ValueOf, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const Point = struct({ x: f64, id: u32 });
 * type Point = ValueOf<typeof Point>; // { x: number; id: number }
 * const p: Point = { x: 1, id: 2 };
 * assert.equal(p.id, 2);
 * ```
 */
export type ValueOf<E> = E extends ElementType<infer T> ? T : never;

/** 32-bit FNV-1a over UTF-16 code units (documented in docs/FORMAT.md). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function badValue(type: string, value: unknown): ShmError {
  const shown = typeof value === "bigint" ? `${value}n` : typeof value === "string" ? JSON.stringify(value) : String(value);
  return new ShmError("INVALID_ARGUMENT", `${shown} is not a valid ${type} value`);
}

function scalar<T>(
  name: string,
  size: number,
  typedArray: TypedArrayCtor | undefined,
  read: (m: Memory, offset: number) => T,
  write: (m: Memory, offset: number, value: T) => void,
  accepts?: (value: T) => boolean,
): ElementType<T> {
  return { name, size, align: size, typeHash: fnv1a(name), typedArray, read, write, accepts };
}

type Pick = (m: Memory) => { [i: number]: number | bigint };
type ViewName = "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "f32" | "f64" | "i64" | "u64";

/**
 * How struct() inlines a field of a built-in numeric kind in its generated read and
 * write: the Memory view, log2 of the size, and the kind's validity test as source
 * text over a variable name. The text must say exactly what `accepts` says (the
 * elements tests check both against the same values).
 */
interface Inline {
  readonly view: ViewName;
  readonly shift: number;
  readonly test: (v: string) => string;
}
const inlined = new WeakMap<ElementType<unknown>, Inline>();

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
export const i8: ElementType<number> = numeric("i8", 1, Int8Array, (m) => m.i8, (v) => typeof v === "number" && (v << 24) >> 24 === v, (v) => `typeof ${v} === "number" && (${v} << 24) >> 24 === ${v}`);
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
export const u8: ElementType<number> = numeric("u8", 1, Uint8Array, (m) => m.u8, (v) => typeof v === "number" && (v & 0xff) === v, (v) => `typeof ${v} === "number" && (${v} & 0xff) === ${v}`);
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
export const i16: ElementType<number> = numeric("i16", 2, Int16Array, (m) => m.i16, (v) => typeof v === "number" && (v << 16) >> 16 === v, (v) => `typeof ${v} === "number" && (${v} << 16) >> 16 === ${v}`);
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
export const u16: ElementType<number> = numeric("u16", 2, Uint16Array, (m) => m.u16, (v) => typeof v === "number" && (v & 0xffff) === v, (v) => `typeof ${v} === "number" && (${v} & 0xffff) === ${v}`);
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
export const i32: ElementType<number> = numeric("i32", 4, Int32Array, (m) => m.i32, (v) => typeof v === "number" && (v | 0) === v, (v) => `typeof ${v} === "number" && (${v} | 0) === ${v}`);
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
export const u32: ElementType<number> = numeric("u32", 4, Uint32Array, (m) => m.u32, (v) => typeof v === "number" && v >>> 0 === v, (v) => `typeof ${v} === "number" && ${v} >>> 0 === ${v}`);
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
export const f32: ElementType<number> = numeric("f32", 4, Float32Array, (m) => m.f32, (v) => typeof v === "number", (v) => `typeof ${v} === "number"`);
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
export const f64: ElementType<number> = numeric("f64", 8, Float64Array, (m) => m.f64, (v) => typeof v === "number", (v) => `typeof ${v} === "number"`);
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
export const i64: ElementType<bigint> = numeric("i64", 8, BigInt64Array, (m) => m.i64, (v) => typeof v === "bigint" && BigInt.asIntN(64, v) === v, (v) => `typeof ${v} === "bigint" && BigInt.asIntN(64, ${v}) === ${v}`);
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
export const u64: ElementType<bigint> = numeric("u64", 8, BigUint64Array, (m) => m.u64, (v) => typeof v === "bigint" && BigInt.asUintN(64, v) === v, (v) => `typeof ${v} === "bigint" && BigInt.asUintN(64, ${v}) === ${v}`);

const TWO_32 = 0x1_0000_0000;

function numberFromWords(type: string, lo: number, hi: number): number {
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

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * A UTF-8 string of at most `maxBytes` bytes, NUL-padded (C's `char[maxBytes]`; a
 * string of exactly maxBytes bytes has no terminator). Longer strings are rejected
 * with INVALID_ARGUMENT, never truncated.
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, string } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-string-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const names = SharedArray.create(seg, "names", string(16), 4);
 * names.set(0, "héllo");
 * assert.equal(names.get(0), "héllo");
 * assert.throws(() => names.set(1, "x".repeat(17)), { code: "INVALID_ARGUMENT" });
 * ```
 */
export function string(maxBytes: number): ElementType<string> {
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > 65536) {
    throw new ShmError("INVALID_ARGUMENT", `string length must be an integer from 1 to 65536 bytes, got ${maxBytes}`);
  }
  const scratch = new Uint8Array(maxBytes + 4);
  const name = `string(${maxBytes})`;
  return {
    name,
    size: maxBytes,
    align: 1,
    typeHash: fnv1a(name),
    typedArray: undefined,
    read(m, o) {
      const bytes = m.u8.subarray(o, o + maxBytes);
      const end = bytes.indexOf(0);
      return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
    },
    write(m, o, v) {
      if (typeof v !== "string") throw badValue(name, v);
      const { read, written } = encoder.encodeInto(v, scratch);
      if (read !== v.length || written > maxBytes) {
        throw new ShmError("INVALID_ARGUMENT", `string of ${encoder.encode(v).length} UTF-8 bytes does not fit ${name}`);
      }
      if (scratch.subarray(0, written).includes(0)) throw new ShmError("INVALID_ARGUMENT", `${name} cannot hold a NUL character`);
      m.u8.set(scratch.subarray(0, written), o);
      m.u8.fill(0, o + written, o + maxBytes);
    },
  };
}

/**
 * A fixed-length array of `length` elements (C's `T name[length]`), read as a JS array.
 *
 * @example
 * ```ts
 * import { array, f32, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-array-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const rows = SharedArray.create(seg, "rows", array(f32, 3), 2);
 * rows.set(1, [1, 2, 3]);
 * assert.deepEqual(rows.get(1), [1, 2, 3]);
 * ```
 */
export function array<T>(element: ElementType<T>, length: number): ElementType<T[]> {
  if (!Number.isInteger(length) || length < 1 || length > 1 << 20) {
    throw new ShmError("INVALID_ARGUMENT", `array length must be an integer from 1 to 2^20, got ${length}`);
  }
  const name = `${element.name}[${length}]`;
  const stride = element.size;
  return {
    name,
    size: stride * length,
    align: element.align,
    typeHash: fnv1a(name),
    typedArray: undefined,
    read(m, o) {
      const out = new Array<T>(length);
      for (let i = 0; i < length; i++) out[i] = element.read(m, o + i * stride);
      return out;
    },
    write(m, o, v) {
      if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw badValue(name, v);
      const values = v as ArrayLike<T>;
      if (values.length !== length) throw new ShmError("INVALID_ARGUMENT", `${name} needs exactly ${length} values, got ${values.length}`);
      // Validate everything first so that a bad value writes nothing.
      for (let i = 0; i < length; i++) checkValue(element, values[i]);
      for (let i = 0; i < length; i++) element.write(m, o + i * stride, values[i]);
    },
  };
}

/**
 * One field of a struct layout.
 *
 * @example
 * ```ts
 * import { f64, struct, type Field, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const Point = struct({ id: u32, x: f64 });
 * const x: Field = Point.fields.x;
 * assert.equal(x.offset, 8); // padded to f64 alignment, as in C
 * ```
 */
export interface Field {
  /** Field name, as given to struct(). */
  readonly name: string;
  /** Byte offset of the field from the start of the struct (as C's offsetof). */
  readonly offset: number;
  /** The field's element type. */
  readonly type: ElementType<unknown>;
}

/**
 * A struct element type: also exposes its fields' offsets.
 *
 * @example
 * ```ts
 * import { f64, struct, type StructType } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const Vec2: StructType<{ x: number; y: number }> = struct({ x: f64, y: f64 });
 * assert.deepEqual(Object.keys(Vec2.fields), ["x", "y"]);
 * ```
 */
export interface StructType<T> extends ElementType<T> {
  /** The fields by name, with their offsets and types. */
  readonly fields: Readonly<Record<string, Field>>;
}

/**
 * The JS object a struct of fields `F` reads and writes: each field's value type.
 *
 * @example
 * ```ts
 * import { f64, struct, type StructValue, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const fields = { x: f64, id: u32 };
 * const Point = struct(fields);
 * const p: StructValue<typeof fields> = { x: 0.5, id: 1 };
 * assert.equal(Point.name, "struct{x:f64,id:u32}");
 * assert.equal(p.x, 0.5);
 * ```
 */
export type StructValue<F extends Record<string, ElementType<unknown>>> = { [K in keyof F]: ValueOf<F[K]> };

// Values are checked by writing them into a private scratch buffer first: the exact
// same checks as the real write, so a bad field means nothing at all is written.
let probe: Memory = new Memory(0, new ArrayBuffer(64));
function checkValue<T>(type: ElementType<T>, value: T): void {
  if (probe.size < type.size) probe = new Memory(0, new ArrayBuffer(Math.ceil(type.size / 64) * 64));
  type.write(probe, 0, value);
}

/** Structs' generated checks (validate a value, write nothing), used when a struct is a field of another. */
const checkers = new WeakMap<ElementType<unknown>, (value: unknown) => void>();

/** A function that throws the type's own INVALID_ARGUMENT for a value `write` would reject, writing nothing. */
function checkerFor(type: ElementType<unknown>): (value: unknown) => void {
  return checkers.get(type) ?? ((value) => checkValue(type, value));
}

/**
 * Compiles a struct layout's read, write and check (see struct()). Field names and
 * everything else that comes from the caller reach the generated code only as
 * JSON.stringify'd string literals or as arguments; the code itself holds nothing
 * but numbers we computed (offsets, shifts) and fixed text.
 */
function compileStruct(name: string, list: readonly Field[]): {
  read: (m: Memory, o: number) => unknown;
  readInto: (m: Memory, o: number, target: unknown) => unknown;
  write: (m: Memory, o: number, v: unknown) => void;
  check: (v: unknown) => void;
} {
  const at = (off: number) => (off === 0 ? "o" : `(o + ${off})`);
  const views = new Set<string>(); // Memory views the inlined fields use, loaded once per call
  const props: string[] = []; // read: one property of the object literal per field
  const stores: string[] = []; // readInto: one assignment to the target per field
  const field = (key: string, prop: string, expr: string) => {
    props.push(`${prop}: ${expr}`);
    // An assignment to t["__proto__"] would set the prototype: define that one instead.
    stores.push(prop === key ? `t[${key}] = ${expr};` : `own(t, ${key}, ${expr});`);
  };
  const checks: string[] = []; // validate one field value (v0, v1, ...)
  const inlineWrites: string[] = [];
  const callWrites: string[] = []; // fields written by their type's `write`, which validated already
  list.forEach((f, i) => {
    const key = JSON.stringify(f.name);
    // `"__proto__": x` in a literal would set the prototype; a computed key defines an own property.
    const prop = f.name === "__proto__" ? `[${key}]` : key;
    const v = `v${i}`;
    const num = inlined.get(f.type);
    const as64 = f.type === i64AsNumber ? "i32" : f.type === u64AsNumber ? "u32" : undefined;
    if (as64) {
      // 64-bit integers as numbers, inline: the same words, checks and errors as the
      // type's own read/write (numberFromWords, Number.isSafeInteger), no closure call.
      views.add("u32");
      views.add(as64);
      const w = `(${at(f.offset)} >> 2)`;
      const tag = JSON.stringify(f.type.name);
      field(key, prop, `words64(${tag}, u32[${w}], ${as64}[${w} + 1])`);
      const unsigned = as64 === "u32";
      checks.push(
        `if (!Number.isSafeInteger(${v})${unsigned ? ` || ${v} < 0` : ""}) throw badValue(${JSON.stringify(`${f.type.name} (as number)`)}, ${v});`,
      );
      inlineWrites.push(`{ const hi = Math.floor(${v} / 4294967296); u32[${w}] = ${v} - hi * 4294967296; ${as64}[${w} + 1] = hi; }`);
    } else if (num) {
      views.add(num.view);
      const slot = num.shift === 0 ? `${num.view}[o + ${f.offset}]` : `${num.view}[${at(f.offset)} >> ${num.shift}]`;
      field(key, prop, `${slot}`);
      checks.push(`if (!(${num.test(v)})) throw badValue(${JSON.stringify(f.type.name)}, ${v});`);
      inlineWrites.push(`${slot} = ${v};`);
    } else if (f.type === bool) {
      views.add("u8");
      field(key, prop, `u8[o + ${f.offset}] !== 0`);
      checks.push(`if (typeof ${v} !== "boolean") throw badValue("bool", ${v});`);
      inlineWrites.push(`u8[o + ${f.offset}] = ${v} ? 1 : 0;`);
    } else {
      field(key, prop, `t${i}.read(m, ${at(f.offset)})`);
      checks.push(`c${i}(${v});`);
      callWrites.push(`t${i}.write(m, ${at(f.offset)}, ${v});`);
    }
  });
  const loadViews = views.size ? `const ${[...views].map((w) => `${w} = m.${w}`).join(", ")};` : "";
  const validate = [
    `if (typeof v !== "object" || v === null) throw notObject(v);`,
    ...list.map((f, i) => `if (!(${JSON.stringify(f.name)} in v)) throw missing(${i});`),
    `const ${list.map((f, i) => `v${i} = v[${JSON.stringify(f.name)}]`).join(", ")};`,
    ...checks,
  ].join("\n    ");
  const source = `"use strict";
  return {
    read(m, o) {
      ${loadViews}
      return { ${props.join(", ")} };
    },
    readInto(m, o, t) {
      ${loadViews}
      ${stores.join("\n      ")}
      return t;
    },
    write(m, o, v) {
      ${validate}
      ${callWrites.join("\n      ")}
      ${inlineWrites.length ? `${loadViews}\n      ${inlineWrites.join("\n      ")}` : ""}
    },
    check(v) {
      ${validate}
    },
  };`;
  const params = ["badValue", "notObject", "missing", "words64", "own", ...list.flatMap((_, i) => [`t${i}`, `c${i}`])];
  const args: unknown[] = [
    badValue,
    (v: unknown) => badValue(name, v),
    (i: number) => new ShmError("INVALID_ARGUMENT", `${name}: field "${list[i].name}" is missing`),
    numberFromWords,
    (t: object, k: string, v: unknown) => Object.defineProperty(t, k, { value: v, enumerable: true, writable: true, configurable: true }),
    ...list.flatMap((f) => [f.type, checkerFor(f.type)]),
  ];
  return new Function(...params, source)(...args);
}

/**
 * A C struct: fields in the order given, each at the next offset aligned to its
 * alignment; the struct is aligned to its largest field and padded to a multiple of
 * it — the System V rules every C compiler on Linux follows.
 *
 * read and write are compiled per layout (compileStruct): read builds one object
 * literal of a fixed shape, numeric and bool fields are read, checked and written
 * inline, and write validates every field (the same checks and errors as the field
 * types' own) before it writes any, so a bad field means nothing at all is written.
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedArray, struct, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-struct-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const Point = struct({ x: f64, y: f64, id: u32 }); // C: struct { double x, y; uint32_t id; }
 * assert.equal(Point.size, 24);
 * const points = SharedArray.create(seg, "points", Point, 10);
 * points.set(0, { x: 1.5, y: -2, id: 7 });
 * assert.deepEqual(points.get(0), { x: 1.5, y: -2, id: 7 });
 * ```
 */
export function struct<F extends Record<string, ElementType<unknown>>>(fields: F): StructType<StructValue<F>> {
  const entries = Object.entries(fields);
  if (entries.length === 0) throw new ShmError("INVALID_ARGUMENT", "a struct needs at least one field");
  const laid: Record<string, Field> = {};
  let offset = 0;
  let maxAlign = 1;
  for (const [name, type] of entries) {
    if (!type || typeof type.write !== "function") throw new ShmError("INVALID_ARGUMENT", `struct field "${name}" is not an element type`);
    offset = Math.ceil(offset / type.align) * type.align;
    // defineProperty: an assignment to laid["__proto__"] would set the prototype instead.
    Object.defineProperty(laid, name, { value: { name, offset, type }, enumerable: true, writable: true, configurable: true });
    offset += type.size;
    maxAlign = Math.max(maxAlign, type.align);
  }
  const size = Math.ceil(offset / maxAlign) * maxAlign;
  const name = `struct{${entries.map(([n, t]) => `${n}:${t.name}`).join(",")}}`;
  const { read, readInto, write, check } = compileStruct(name, Object.values(laid));
  const type: StructType<StructValue<F>> = {
    name,
    size,
    align: maxAlign,
    typeHash: fnv1a(name),
    typedArray: undefined,
    fields: laid,
    read: read as (m: Memory, o: number) => StructValue<F>,
    write: write as (m: Memory, o: number, v: StructValue<F>) => void,
  };
  checkers.set(type as ElementType<unknown>, check);
  readers.set(type as ElementType<unknown>, readInto);
  return type;
}

/**
 * Every predefined element type, by name.
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, types } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-types-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const t = types.u16; // look a type up by name, e.g. from a config file
 * const xs = SharedArray.create(seg, "xs", t, 4);
 * xs.set(0, 65535);
 * assert.equal(xs.get(0), 65535);
 * ```
 */
export const types = {
  i8, u8, i16, u16, i32, u32, f32, f64, i64, u64, i64AsNumber, u64AsNumber, bool, string, array, struct,
} as const;

/** True for the kinds that Atomics (32-bit) or 64-bit atomics can operate on. */
export function isIntegerType(t: ElementType<unknown>): boolean {
  return ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"].includes(t.name);
}

export function assertElementType(t: unknown, what = "element type"): asserts t is ElementType<unknown> {
  const e = t as ElementType<unknown> | undefined;
  if (!e || typeof e.read !== "function" || typeof e.write !== "function" || !(e.size > 0)) {
    throw new ShmError("INVALID_ARGUMENT", `${what} must be an element descriptor such as f64, string(16) or struct({...})`);
  }
}

/**
 * Numbers of the element kinds the native fast paths move (zig/fastpath.zig `Kind`):
 * every kind whose values are JS numbers that an f64 carries exactly. The native code
 * validates a value with the same rules as the kind's `accepts` / `write` here.
 */
const FAST_KINDS = new Map<ElementType<unknown>, number>([
  [i8, 0], [u8, 1], [i16, 2], [u16, 3], [i32, 4], [u32, 5], [f32, 6], [f64, 7], [i64AsNumber, 8], [u64AsNumber, 9],
] as [ElementType<unknown>, number][]);

/** The native fast-path kind number of `t`, or undefined when it has none (bigint, bool, string, array, struct). */
export function fastKind(t: ElementType<unknown>): number | undefined {
  return FAST_KINDS.get(t);
}

const readers = new WeakMap<ElementType<unknown>, (m: Memory, o: number, target: unknown) => unknown>();

/**
 * For struct types: a compiled read that assigns every field into an existing
 * `target` object and returns it (no allocation), for `popInto`-style APIs that reuse
 * one result object. Undefined for other types.
 */
export function structReadInto<T>(type: ElementType<T>): ((m: Memory, o: number, target: T) => T) | undefined {
  return readers.get(type as ElementType<unknown>) as ((m: Memory, o: number, target: T) => T) | undefined;
}
