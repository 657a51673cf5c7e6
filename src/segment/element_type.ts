/**
 * What an element type is: the descriptor interface every kind implements, its type
 * hash, and the helpers the kinds share (the INVALID_ARGUMENT for a bad value, the
 * scalar descriptor, how struct() inlines a numeric field).
 */
import { ShmError } from "../errors.ts";
import type { Memory } from "./memory.ts";

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
 * A typed array over numeric elements: what `Vector.view()` returns, and the view the
 * numeric rings and queues move elements through.
 *
 * @example
 * ```ts
 * import { Segment, type NumericView, u32, Vector } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-nview-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const v = Vector.create(seg, "v", u32, 16);
 * v.push(7);
 * const view: NumericView = v.view();
 * assert.equal(view[0], 7);
 * ```
 */
export type NumericView =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array;

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

/** The INVALID_ARGUMENT for a value that does not fit `type`. */
export function badValue(type: string, value: unknown): ShmError {
  const shown = typeof value === "bigint" ? `${value}n` : typeof value === "string" ? JSON.stringify(value) : String(value);
  return new ShmError("INVALID_ARGUMENT", `${shown} is not a valid ${type} value`);
}

/** A descriptor for a kind of one fixed size and alignment. */
export function scalar<T>(
  name: string,
  size: number,
  typedArray: TypedArrayCtor | undefined,
  read: (m: Memory, offset: number) => T,
  write: (m: Memory, offset: number, value: T) => void,
  accepts?: (value: T) => boolean,
): ElementType<T> {
  return { name, size, align: size, typeHash: fnv1a(name), typedArray, read, write, accepts };
}

export type Pick = (m: Memory) => { [i: number]: number | bigint };
export type ViewName = "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "f32" | "f64" | "i64" | "u64";

/**
 * How struct() inlines a field of a built-in numeric kind in its generated read and
 * write: the Memory view, log2 of the size, and the kind's validity test as source
 * text over a variable name. The text must say exactly what `accepts` says (the
 * elements tests check both against the same values).
 */
export interface Inline {
  readonly view: ViewName;
  readonly shift: number;
  readonly test: (v: string) => string;
}
export const inlined = new WeakMap<ElementType<unknown>, Inline>();

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
