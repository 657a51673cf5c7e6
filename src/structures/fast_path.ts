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
import type { Memory } from "../segment/memory.ts";
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

/** SpscQueue: the ring of `slots` elements of fast-path `kind` at `data`, indices at `control`. */
export function bindSpsc(m: Memory, control: number, data: number, slots: number, kind: number): FastCalls {
  const { spscPush, spscPop, fastState } = native(), base = m.base;
  const state = fastState(), st = state.address;
  return {
    push: (v) => spscPush(base, control, data, slots, kind, st, v),
    pop: () => spscPop(base, control, data, slots, kind, st),
    state,
  };
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
  control: number,
  data: number,
  ring: number,
  capacity: number,
  layout: number,
  record: number,
): MpmcCalls {
  const { mpmcPush, mpmcPop, mpmcPushBulk, mpmcPopBulk, fastState, fastBuffer } = native(), base = m.base;
  const state = fastState(), st = state.address;
  // The values cross as f64 through a buffer of our own (zig/fastpath.zig says why f64),
  // never the caller's typed array: its address would cost a pointer object per call in
  // Deno, and a small typed array may live on the JS heap, where the GC moves it.
  const buffer = bulkBuffer ??= fastBuffer(BULK_CHUNK), buf = buffer.address;
  return {
    push: (v) => mpmcPush(base, control, data, ring, capacity, layout, record, v),
    pop: () => mpmcPop(base, control, data, ring, layout, record, st),
    pushBulk: (count) => mpmcPushBulk(base, control, data, ring, capacity, layout, record, st, buf, count),
    popBulk: (max) => mpmcPopBulk(base, control, data, ring, layout, record, st, buf, max),
    state,
    buffer,
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
