/**
 * Binding a Queue or SpscQueue of numeric elements to the native fast paths
 * (zig/fastpath.zig): one FFI call per push or pop, with every argument but the value
 * bound once per handle (one closure call per operation instead of several
 * private-field loads: docs/DECISIONS.md "Fast paths"), and the errors for the codes
 * those calls return, worded as the TypeScript paths word them.
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

/**
 * `fn` with `args` (numbers) bound: `(v) => fn(...args, v)` when `withValue`, else
 * `() => fn(...args)`, the numbers written into the closure's source as literals. Why:
 * JavaScriptCore folds a literal into the compiled call, but a value a closure captures
 * from a scope created once per handle is loaded and checked on every call; measured in
 * Bun, an SpscQueue push+pop pair through the handle cost 16.4-16.5 ns with captured
 * values and 13.4-13.6 ns with literals (Queue 20.6 → 16.8 ns); Deno is unchanged
 * (docs/DECISIONS.md "Fast paths"). Every argument is a number shmkit computed (an
 * address or a validated offset), so the source holds nothing but numerals. Where code
 * generation is refused, the same call over captured values.
 */
function bound(fn: (...a: number[]) => number, args: number[], withValue: boolean): (v?: number) => number {
  for (const a of args) {
    if (!Number.isSafeInteger(a)) throw new ShmError("CORRUPT", `fast path argument ${a} is not an integer`);
  }
  try {
    return new Function("fn", withValue ? `return (v) => fn(${args}, v);` : `return () => fn(${args});`)(fn);
  } catch {
    // Code generation from strings refused (e.g. V8's --disallow-code-generation-from-strings):
    // the same call over captured values, slower in Bun only.
    return withValue ? (v) => fn(...args, v!) : () => fn(...args);
  }
}

/** SpscQueue: the ring of `slots` elements of fast-path `kind` at `data`, indices at `control`. */
export function bindSpsc(m: Memory, ctrl: number, dataAt: number, ringSlots: number, fastKind: number): FastCalls {
  const { spscPush, spscPop, fastState } = native(), base = m.base;
  const state = fastState(), st = state.address;
  const control = int32Arg(ctrl), data = int32Arg(dataAt), slots = int32Arg(ringSlots), kind = int32Arg(fastKind);
  const args = [base, control, data, slots, kind, st];
  return { push: bound(spscPush, args, true), pop: bound(spscPop, args, false), state };
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
 * Queue (Vyukov): `ring` slots at `data` (`layout` packs the kind, the element's
 * offset in its slot and the slot stride), positions at `control`, the calling
 * process's claim record at byte `record`.
 */
export function bindMpmc(
  m: Memory,
  ctrl: number,
  dataAt: number,
  ringSlots: number,
  cap: number,
  slotLayout: number,
  recordAt: number,
): MpmcCalls {
  const { mpmcPush, mpmcPop, mpmcPushBulk, mpmcPopBulk, fastState, fastBuffer } = native(), base = m.base;
  // int32Arg: see there (Bun converts double-held u32 arguments slowly).
  const control = int32Arg(ctrl), data = int32Arg(dataAt), ring = int32Arg(ringSlots), capacity = int32Arg(cap);
  const layout = int32Arg(slotLayout), record = int32Arg(recordAt);
  const state = fastState(), st = state.address;
  // The values cross as f64 through a buffer of our own (zig/fastpath.zig says why f64),
  // never the caller's typed array: its address would cost a pointer object per call in
  // Deno, and a small typed array may live on the JS heap, where the GC moves it.
  const buffer = bulkBuffer ??= fastBuffer(BULK_CHUNK), buf = buffer.address;
  return {
    push: bound(mpmcPush, [base, control, data, ring, capacity, layout, record], true),
    pop: bound(mpmcPop, [base, control, data, ring, layout, record, st], false),
    pushBulk: (count) => mpmcPushBulk(base, control, data, ring, capacity, layout, record, st, buf, count | 0),
    popBulk: (max) => mpmcPopBulk(base, control, data, ring, layout, record, st, buf, max | 0),
    state,
    buffer,
  };
}

/** Queue's calls for an element of any type, moved as bytes through `scratch`. */
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

/** A scratch block of `size` bytes for the byte calls, as Memory, and its native address. */
function scratchOf(size: number): { scratch: Memory; at: number } {
  const block = native().fastBuffer(Math.ceil(size / 8));
  return { scratch: new Memory(block.address, block.values.buffer as ArrayBuffer), at: block.address };
}

/**
 * SpscQueue of a non-numeric element type (structs, fixed strings) of `size` bytes: one
 * native call per push or pop (copy and publish), the value checked and converted by the
 * type's own code in `scratch`. `state` is the handle's FastState (bindSpsc's).
 */
export function bindSpscBytes(
  m: Memory,
  ctrl: number,
  dataAt: number,
  ringSlots: number,
  elemSize: number,
  state: FastState,
): BytesCalls {
  const { spscPushBytes, spscPopBytes } = native(), base = m.base, st = state.address;
  const control = int32Arg(ctrl), data = int32Arg(dataAt), slots = int32Arg(ringSlots), size = int32Arg(elemSize);
  const { scratch, at } = scratchOf(size);
  return {
    push: bound(spscPushBytes, [base, control, data, slots, size, st, at], false),
    pop: bound(spscPopBytes, [base, control, data, slots, size, st, at], false),
    scratch,
  };
}

/**
 * Queue of a non-numeric element type (structs, fixed strings) of `size` bytes: one
 * native call per push or pop (claim, copy, publish), the value checked and converted
 * by the type's own code in `scratch`. Arguments as bindMpmc.
 */
export function bindBytes(
  m: Memory,
  ctrl: number,
  dataAt: number,
  ringSlots: number,
  cap: number,
  slotLayout: number,
  recordAt: number,
  elemSize: number,
): BytesCalls {
  const { mpmcPushBytes, mpmcPopBytes } = native(), base = m.base;
  const control = int32Arg(ctrl), data = int32Arg(dataAt), ring = int32Arg(ringSlots), capacity = int32Arg(cap);
  const layout = int32Arg(slotLayout), record = int32Arg(recordAt), size = int32Arg(elemSize);
  const { scratch, at } = scratchOf(size);
  return {
    push: bound(mpmcPushBytes, [base, control, data, ring, capacity, layout, record, size, at], false),
    pop: bound(mpmcPopBytes, [base, control, data, ring, layout, record, size, at], false),
    scratch,
  };
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
