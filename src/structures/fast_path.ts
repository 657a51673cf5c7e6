/**
 * Binding a Queue or SpscQueue handle to the native fast paths (zig/fastpath.zig): one
 * FFI call per push or pop, numeric elements by value and every other type as bytes,
 * with every argument but the value bound once per handle (one closure call per
 * operation instead of several private-field loads: docs/DECISIONS.md "Fast paths"),
 * and the errors for the codes those calls return, worded as the TypeScript paths word them.
 */
import { native } from "../../ffi/mod.ts";
import { FAST_CORRUPT, FAST_INVALID, FAST_RANGE, type FastBuffer, type FastState } from "../../ffi/native.ts";
import { ShmError } from "../errors.ts";
import { Memory } from "../segment/memory.ts";
import type { Staging } from "./staging.ts";

/** A handle's bound fast-path calls and its process-private state block. */
export interface FastCalls {
  /** Pushes `v`: FAST_OK, FAST_NONE (full) or a negative code. */
  readonly push: (v: number) => number;
  /** The element popped, or NaN with the outcome in `state.words[FAST_STATUS]`. */
  readonly pop: () => number;
  /** Words shared with the native code (zig/fastpath.zig `State`). */
  readonly state: FastState;
}

/**
 * `x` (a u32 argument) as a number the engine holds as an int32 where it fits. Why:
 * offsets computed from typed-array reads (`Uint32Array` elements, sums of them) are
 * often held as doubles by JavaScriptCore, and Bun's FFI converts a double passed for
 * a `u32` parameter on a slow path: measured, a pop of an empty SpscQueue took 14-16 ns
 * per call with its offsets as doubles and 4.2-4.7 ns with the same values as int32
 * (docs/DECISIONS.md "Fast paths"). `| 0` yields an int32 value; above 2^31 - 1 (a
 * segment past 2 GiB) the value is kept as it is, correct on the slow path.
 */
export function int32Arg(x: number): number {
  return x <= 0x7fffffff ? x | 0 : x;
}

/** A native call's TypeScript face: the argument list is all numbers (u32, usize, f64). */
type NativeFn = (...a: number[]) => number;

/** One call to bind: `fn` with `args` in front, then the pushed value when `value`. */
export interface CallSpec {
  readonly fn: NativeFn;
  readonly args: readonly number[];
  readonly value: boolean;
}

/** A bound call: `(v)` for a push of a number, `()` for everything else. */
export type BoundCall = (v?: number) => number;

/**
 * The handle's calls, every argument but the value bound. In Bun (`literal`) one
 * generated function per handle makes them all, the numbers written into the source as
 * literals: JavaScriptCore folds a literal into the compiled call but loads and checks,
 * on every call, a value captured from a scope made once per handle (measured, Bun: an
 * SpscQueue push+pop pair 16.4 → 13.5 ns, Queue 20.6 → 16.8 ns). V8 runs captured values
 * as fast as literals, so Deno never compiles: compiling is the larger part of opening a
 * handle (docs/DECISIONS.md "Fast paths"). Every argument is a number shmkit computed (an
 * address or a validated offset), checked to be a safe integer, so the source holds
 * nothing but numerals. Where code generation is refused, the captured form.
 */
export function boundCalls(specs: readonly CallSpec[], literal: boolean): BoundCall[] {
  for (const { args } of specs) {
    for (const a of args) {
      if (!Number.isSafeInteger(a)) throw new ShmError("CORRUPT", `fast path argument ${a} is not an integer`);
    }
  }
  if (literal) {
    const body = specs.map(({ args, value }, i) => value ? `(v) => f${i}(${args}, v)` : `() => f${i}(${args})`);
    try {
      return new Function(...specs.map((_, i) => `f${i}`), `return [${body.join(", ")}];`)(...specs.map((c) => c.fn));
    } catch {
      // Code generation from strings refused (e.g. V8's --disallow-code-generation-from-strings).
    }
  }
  return specs.map(captured);
}

/**
 * `fn` over captured values, one closure per argument count (a spread would cost an
 * array per call), the values int32-held (int32Arg says why).
 */
function captured({ fn, args, value }: CallSpec): BoundCall {
  const [a, b, c, d, e, f, g, h, i] = args.map(int32Arg);
  switch (args.length + (value ? 16 : 0)) {
    case 16 + 6:
      return (v) => fn(a!, b!, c!, d!, e!, f!, v!);
    case 16 + 7:
      return (v) => fn(a!, b!, c!, d!, e!, f!, g!, v!);
    case 6:
      return () => fn(a!, b!, c!, d!, e!, f!);
    case 7:
      return () => fn(a!, b!, c!, d!, e!, f!, g!);
    case 8:
      return () => fn(a!, b!, c!, d!, e!, f!, g!, h!);
    case 9:
      return () => fn(a!, b!, c!, d!, e!, f!, g!, h!, i!);
  }
  throw new ShmError("UNSUPPORTED", `no bound form for a call of ${args.length} arguments${value ? " and a value" : ""}`);
}

/** Literal-argument calls pay off in JavaScriptCore only (boundCalls says why). */
function literalCalls(): boolean {
  return native().runtime === "bun";
}

/** SpscQueue of a numeric kind: the ring of `slots` elements of fast-path `kind` at `data`, indices at `control`. */
export function bindSpsc(m: Memory, control: number, data: number, slots: number, kind: number): FastCalls {
  const { spscPush, spscPop, fastState } = native();
  const state = fastState(), args = [m.base, control, data, slots, kind, state.address];
  const [push, pop] = boundCalls([{ fn: spscPush, args, value: true }, { fn: spscPop, args, value: false }], literalCalls());
  return { push: push!, pop: pop!, state };
}

/** Queue's calls: the single ones, and the bulk ones over the isolate's FastBuffer. */
export interface MpmcCalls extends FastCalls {
  /** Pushes `buffer.values[0, count)`: how many (all, or fewer when full), or a negative code (count pushed in FAST_DONE). */
  readonly pushBulk: (count: number) => number;
  /** Pops up to `max` into `buffer.values`: how many, or a negative code (count popped in FAST_DONE). */
  readonly popBulk: (max: number) => number;
  readonly buffer: FastBuffer;
}

/**
 * Values per bulk call: a pushBulk / popBulk of more moves them in calls of this many
 * (one FFI call costs a few ns; 512 makes it nothing per element). The buffer is one
 * per isolate, 4 KiB: calls are synchronous, so no two use it at once.
 */
export const BULK_CHUNK = 512;
let bulkBuffer: FastBuffer | undefined;

/**
 * Where a Queue (Vyukov) lies, as its native calls take it: `ring` slots at byte `data`
 * (`layout` packs the kind, the element's offset in its slot and the slot stride),
 * positions at `control`, the calling process's claim record at byte `record`.
 */
export interface MpmcPlace {
  readonly control: number;
  readonly data: number;
  readonly ring: number;
  readonly capacity: number;
  readonly layout: number;
  readonly record: number;
}

/** Queue of a numeric kind at `place`. */
export function bindMpmc(m: Memory, place: MpmcPlace): MpmcCalls {
  const { control, data, ring, capacity, layout, record } = place;
  const { mpmcPush, mpmcPop, mpmcPushBulk, mpmcPopBulk, fastState, fastBuffer } = native();
  const state = fastState(), st = state.address, base = m.base;
  const [push, pop] = boundCalls([
    { fn: mpmcPush, args: [base, control, data, ring, capacity, layout, record], value: true },
    { fn: mpmcPop, args: [base, control, data, ring, layout, record, st], value: false },
  ], literalCalls());
  // The values cross as f64 through a buffer of our own (zig/fastpath.zig says why f64),
  // never the caller's typed array: its address would cost a pointer object per call in
  // Deno, and a small typed array may live on the JS heap, where the GC moves it. The
  // bulk calls take a count, so they stay plain closures (a few ns per 512 values).
  const buffer = bulkBuffer ??= fastBuffer(BULK_CHUNK), buf = buffer.address;
  const [c, d, r, cap, lay, rec] = [control, data, ring, capacity, layout, record].map(int32Arg);
  return {
    push: push!,
    pop: pop!,
    pushBulk: (count) => mpmcPushBulk(base, c!, d!, r!, cap!, lay!, rec!, st, buf, count | 0),
    popBulk: (max) => mpmcPopBulk(base, c!, d!, r!, lay!, rec!, st, buf, max | 0),
    state,
    buffer,
  };
}

/** Calls for an element of any other type, moved as bytes through `scratch`. */
export interface BytesCalls {
  /** Pushes the element staged at byte 0 of `scratch`: FAST_OK, FAST_NONE (full) or a negative code. */
  readonly push: () => number;
  /** Pops the oldest element into byte 0 of `scratch`: FAST_OK, FAST_NONE (empty) or a negative code. */
  readonly pop: () => number;
  /**
   * Process-private memory (its own never-moving ArrayBuffer, 8-aligned, `size` bytes
   * rounded up to 8) where the element type's `write` stages a value and its `read`
   * reads one: Memory, so the type's own code checks and converts, exactly as on the
   * TypeScript path.
   */
  readonly scratch: Memory;
}

/** `push` and `pop` with their `args` and then the address of a new scratch block of `size` bytes. */
function bytesCalls(push: NativeFn, pushArgs: number[], pop: NativeFn, popArgs: number[], size: number): BytesCalls {
  const block = native().fastBuffer(Math.ceil(size / 8)), at = block.address;
  const [p, q] = boundCalls([
    { fn: push, args: [...pushArgs, at], value: false },
    { fn: pop, args: [...popArgs, at], value: false },
  ], literalCalls());
  return { push: p!, pop: q!, scratch: new Memory(at, block.values.buffer as ArrayBuffer) };
}

/**
 * SpscQueue of a non-numeric element type (structs, fixed strings) of `size` bytes: one
 * native call per push or pop (copy and publish), the value checked and converted by the
 * type's own code in `scratch`; `state` holds the handle's cached indices, as bindSpsc's.
 */
export function bindSpscBytes(
  m: Memory,
  control: number,
  data: number,
  slots: number,
  size: number,
): BytesCalls & { readonly state: FastState } {
  const { spscPushBytes, spscPopBytes, fastState } = native();
  const state = fastState(), args = [m.base, control, data, slots, size, state.address];
  return { ...bytesCalls(spscPushBytes, args, spscPopBytes, args, size), state };
}

/**
 * Queue at `place` of a non-numeric element type (structs, fixed strings) of `size`
 * bytes: one native call per push or pop (claim, copy, publish), the value checked and
 * converted by the type's own code in `scratch`.
 */
export function bindBytes(m: Memory, place: MpmcPlace, size: number): BytesCalls {
  const { control, data, ring, capacity, layout, record } = place;
  const { mpmcPushBytes, mpmcPopBytes } = native(), base = m.base;
  return bytesCalls(
    mpmcPushBytes,
    [base, control, data, ring, capacity, layout, record, size],
    mpmcPopBytes,
    [base, control, data, ring, layout, record, size],
    size,
  );
}

/**
 * The error for a negative native result, as the TypeScript path reports it: the
 * type's own INVALID_ARGUMENT for a value it rejects (staging it throws that error),
 * OUT_OF_RANGE for a stored 64-bit value no JS number holds exactly, and CORRUPT,
 * with `corrupt` as the reason, for a control word out of range.
 */
export function fastError<T>(
  code: number,
  value: unknown,
  what: { name: string; typeName: string; staging: Staging<T>; corrupt: string },
): Error {
  if (code === FAST_INVALID) {
    what.staging.stage(value as T); // throws the type's own INVALID_ARGUMENT
    return new ShmError("INVALID_ARGUMENT", `${String(value)} is not a valid ${what.typeName} value`);
  }
  if (code === FAST_RANGE) {
    const t = what.typeName;
    return new ShmError("OUT_OF_RANGE", `stored ${t} value does not fit a JS number exactly; read it as bigint (${t})`);
  }
  if (code === FAST_CORRUPT) return new ShmError("CORRUPT", `queue "${what.name}": ${what.corrupt}`);
  return new ShmError("CORRUPT", `queue "${what.name}": native fast path refused its arguments (${code})`);
}
