/**
 * SharedAtomic: a named atomic integer. 32-bit kinds use JS Atomics on the mapped
 * memory (hardware atomics across processes); i64/u64 use BigInt64Array Atomics and
 * return bigint; i64AsNumber/u64AsNumber call the native 64-bit atomics and return
 * numbers (no BigInt allocation), for values within ±2^53.
 */
import { native } from "../../ffi/mod.ts";
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import type { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import type { Placement, StructureSpec } from "../segment/structure.ts";

interface Ops<T> {
  load(m: Memory, at: number): T;
  store(m: Memory, at: number, v: T): void;
  add(m: Memory, at: number, v: T): T;
  sub(m: Memory, at: number, v: T): T;
  and(m: Memory, at: number, v: T): T;
  or(m: Memory, at: number, v: T): T;
  xor(m: Memory, at: number, v: T): T;
  exchange(m: Memory, at: number, v: T): T;
  compareExchange(m: Memory, at: number, expected: T, desired: T): T;
}

type ArrayOf = (m: Memory) => Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

function jsOps<T>(view: ArrayOf, shift: number): Ops<T> {
  // deno-lint-ignore no-explicit-any
  const A = Atomics as any;
  return {
    load: (m, at) => A.load(view(m), at >> shift),
    store: (m, at, v) => void A.store(view(m), at >> shift, v),
    add: (m, at, v) => A.add(view(m), at >> shift, v),
    sub: (m, at, v) => A.sub(view(m), at >> shift, v),
    and: (m, at, v) => A.and(view(m), at >> shift, v),
    or: (m, at, v) => A.or(view(m), at >> shift, v),
    xor: (m, at, v) => A.xor(view(m), at >> shift, v),
    exchange: (m, at, v) => A.exchange(view(m), at >> shift, v),
    compareExchange: (m, at, e, d) => A.compareExchange(view(m), at >> shift, e, d),
  };
}

function safe(v: number, what: string): number {
  if (!Number.isSafeInteger(v)) {
    throw new ShmError(
      "OUT_OF_RANGE",
      `64-bit atomic holds a value beyond ±2^53 (${v}); open it as i64 to read it exactly (${what})`,
    );
  }
  return v;
}

function nativeOps(unsigned: boolean): Ops<number> {
  const n = native();
  const r = (v: number, what: string) => safe(v, what);
  const toU = unsigned ? (v: number) => (v < 0 ? v + 2 ** 64 : v) : (v: number) => v;
  return {
    load: (m, at) => r(toU(n.load64(m.base, at)), "load"),
    store: (m, at, v) => n.store64(m.base, at, v),
    add: (m, at, v) => r(toU(n.add64(m.base, at, v)), "add"),
    sub: (m, at, v) => r(toU(n.add64(m.base, at, -v)), "sub"),
    and: (m, at, v) => r(toU(n.and64(m.base, at, v)), "and"),
    or: (m, at, v) => r(toU(n.or64(m.base, at, v)), "or"),
    xor: (m, at, v) => r(toU(n.xor64(m.base, at, v)), "xor"),
    exchange: (m, at, v) => r(toU(n.exchange64(m.base, at, v)), "exchange"),
    compareExchange: (m, at, e, d) => r(toU(n.cas64(m.base, at, e, d)), "compareExchange"),
  };
}

function opsFor(type: ElementType<unknown>): { ops: Ops<unknown>; check: (v: unknown) => void } {
  const int32 = (lo: number, hi: number) => (v: unknown) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
      throw new ShmError("INVALID_ARGUMENT", `${String(v)} is not a valid ${type.name} value`);
    }
  };
  const big = (bits: "asIntN" | "asUintN") => (v: unknown) => {
    if (typeof v !== "bigint" || BigInt[bits](64, v) !== v) {
      throw new ShmError("INVALID_ARGUMENT", `${String(v)} is not a valid ${type.name} value`);
    }
  };
  const num = (min: number) => (v: unknown) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw new ShmError("INVALID_ARGUMENT", `${String(v)} is not a safe integer for a ${type.name} atomic used as number`);
    }
  };
  const asNumber = type.typedArray === undefined;
  switch (type.name) {
    case "i32":
      return { ops: jsOps((m) => m.i32, 2), check: int32(-(2 ** 31), 2 ** 31 - 1) };
    case "u32":
      return { ops: jsOps((m) => m.u32, 2), check: int32(0, 2 ** 32 - 1) };
    case "i64":
      return asNumber
        ? { ops: nativeOps(false) as Ops<unknown>, check: num(-(2 ** 53)) }
        : { ops: jsOps((m) => m.i64, 3), check: big("asIntN") };
    case "u64":
      return asNumber
        ? { ops: nativeOps(true) as Ops<unknown>, check: num(0) }
        : { ops: jsOps((m) => m.u64, 3), check: big("asUintN") };
  }
  throw new ShmError("INVALID_ARGUMENT", `SharedAtomic holds i32, u32, i64, u64, i64AsNumber or u64AsNumber, not ${type.name}`);
}

function spec(type: ElementType<unknown>): StructureSpec {
  assertElementType(type);
  opsFor(type); // rejects unsupported types before anything is created
  return { kind: Kind.ATOMIC, type, controlBytes: 0, dataBytes: () => 64 };
}

/**
 * A named atomic integer shared between processes. All operations are sequentially consistent.
 *
 * @example
 * ```ts
 * import { Segment, SharedAtomic, u32, u64 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-atomic-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const hits = SharedAtomic.create(seg, "hits", u32);
 * assert.equal(hits.add(1), 0); // returns the previous value
 * assert.equal(hits.compareExchange(1, 10), 1);
 * const bytes = SharedAtomic.create(seg, "bytes", u64, 2n ** 40n);
 * assert.equal(bytes.load(), 2n ** 40n);
 * ```
 */
export class SharedAtomic<T extends number | bigint> extends Handle {
  /** The element type (i32, u32, i64, u64, i64AsNumber or u64AsNumber). */
  readonly type: ElementType<T>;
  readonly #at: number;
  readonly #ops: Ops<T>;
  readonly #check: (v: unknown) => void;

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    this.type = type;
    this.#at = p.data;
    const { ops, check } = opsFor(type);
    this.#ops = ops as Ops<T>;
    this.#check = check;
  }

  /** Creates an atomic (on its own cache line) with an initial value (default 0). */
  static create<T extends number | bigint>(seg: Segment, name: string, type: ElementType<T>, initial?: T): SharedAtomic<T> {
    const s = spec(type);
    if (initial !== undefined) opsFor(type).check(initial);
    const a = new SharedAtomic(seg, seg.createEntry(name, s, 1), type);
    if (initial !== undefined) a.store(initial);
    return a;
  }

  /** Opens an existing atomic; TYPE_MISMATCH if its type differs, NOT_FOUND if absent. */
  static open<T extends number | bigint>(seg: Segment, name: string, type: ElementType<T>): SharedAtomic<T> {
    return new SharedAtomic(seg, seg.openEntry(name, spec(type)), type);
  }

  /** Opens the atomic, or creates it with value 0; safe when processes race. */
  static openOrCreate<T extends number | bigint>(seg: Segment, name: string, type: ElementType<T>): SharedAtomic<T> {
    return new SharedAtomic(seg, seg.openOrCreateEntry(name, spec(type), 1), type);
  }

  /** Reads the current value. */
  load(): T {
    return this.#ops.load(this.mem(), this.#at);
  }
  /** Writes a value (INVALID_ARGUMENT if it does not fit the type). */
  store(value: T): void {
    const m = this.mem();
    this.#check(value);
    this.#ops.store(m, this.#at, value);
  }
  /** Adds and returns the previous value (wraps around like the C type). */
  add(value: T): T {
    const m = this.mem();
    this.#check(value);
    return this.#ops.add(m, this.#at, value);
  }
  /** Subtracts and returns the previous value (wraps around like the C type). */
  sub(value: T): T {
    const m = this.mem();
    this.#check(value);
    return this.#ops.sub(m, this.#at, value);
  }
  /** Bitwise AND; returns the previous value. */
  and(value: T): T {
    const m = this.mem();
    this.#check(value);
    return this.#ops.and(m, this.#at, value);
  }
  /** Bitwise OR; returns the previous value. */
  or(value: T): T {
    const m = this.mem();
    this.#check(value);
    return this.#ops.or(m, this.#at, value);
  }
  /** Bitwise XOR; returns the previous value. */
  xor(value: T): T {
    const m = this.mem();
    this.#check(value);
    return this.#ops.xor(m, this.#at, value);
  }
  /** Stores a value and returns the previous one. */
  exchange(value: T): T {
    const m = this.mem();
    this.#check(value);
    return this.#ops.exchange(m, this.#at, value);
  }
  /** Stores `desired` if the value equals `expected`; returns the value found. */
  compareExchange(expected: T, desired: T): T {
    const m = this.mem();
    this.#check(expected);
    this.#check(desired);
    return this.#ops.compareExchange(m, this.#at, expected, desired);
  }
}
