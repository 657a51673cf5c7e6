/**
 * Binding a Queue, SpscQueue or RingBuffer handle to the native fast paths (zig/fastpath.zig): one
 * FFI call per push or pop, numeric elements by value and every other type as bytes.
 * Where the queue lies is bound natively into the handle's state block once, so each
 * call passes only that block's address and the value (docs/DECISIONS.md "Fast
 * paths"); and the errors for the codes those calls return, worded as the TypeScript
 * paths word them.
 */
import { native } from "../../ffi/mod.ts";
import {
  FAST_BYTES,
  FAST_CORRUPT,
  FAST_INVALID,
  FAST_OK,
  FAST_RANGE,
  type FastBuffer,
  type FastState,
} from "../../ffi/native.ts";
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
 * Binds a new state block with `bind` (the native code checks where the queue lies
 * once, there, and every call trusts it afterwards): the block, or CORRUPT if the
 * native code refused the geometry (TypeScript validated it from the entry first, so
 * that is a damaged entry or a bug).
 */
function boundState(bind: (st: number) => number): FastState {
  const state = native().fastState();
  const rc = bind(state.address);
  if (rc !== FAST_OK) throw new ShmError("CORRUPT", `the native fast path refused the queue's geometry (${rc})`);
  return state;
}

/** SpscQueue of a numeric kind: the ring of `slots` elements of fast-path `kind` at `data`, indices at `control`. */
export function bindSpsc(m: Memory, control: number, data: number, slots: number, kind: number): FastCalls {
  const { spscBind } = native(), push = native().spscPush[kind]!, pop = native().spscPop[kind]!;
  const state = boundState((st) => spscBind(st, m.base, control, data, slots, kind, 0, 0, 0)), st = state.address;
  return { push: (v) => push(st, v), pop: () => pop(st), state };
}

/**
 * RingBuffer of a typed-array kind (fastKind 0-7): capacity elements at `data`, control
 * words at `control`, positions wrapping at `modulus`.
 */
export function bindRing(m: Memory, control: number, data: number, capacity: number, modulus: number, kind: number): FastCalls {
  const { ringBind } = native(), push = native().ringPush[kind]!, pop = native().ringPop[kind]!;
  const state = boundState((st) => ringBind(st, m.base, control, data, capacity, modulus, kind, 0, 0, 0)), st = state.address;
  return { push: (v) => push(st, v), pop: () => pop(st), state };
}

/**
 * RingBuffer of any other element type (structs, strings, arrays, the 64-bit "as
 * number" kinds) of `size` bytes: one native call per push or pop, the value checked
 * and converted by the type's own code in `scratch`, a popped element only after its
 * commit (so an element torn by an overwrite is never decoded).
 */
export function bindRingBytes(
  m: Memory,
  control: number,
  data: number,
  capacity: number,
  modulus: number,
  size: number,
): BytesCalls {
  const { ringBind, ringPushBytes, ringPopBytes } = native();
  const block = scratchOf(size);
  const state = boundState((st) =>
    ringBind(st, m.base, control, data, capacity, modulus, FAST_BYTES, size, block.at, block.bytes)
  );
  return bytesCalls(block, state, ringPushBytes, ringPopBytes);
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

/** Binds a state block to the Queue at `place`, its kind (`layout`'s low byte) numeric or FAST_BYTES. */
function mpmcState(m: Memory, p: MpmcPlace, size: number, buffer: number, length: number): FastState {
  const { mpmcBind } = native();
  return boundState((st) =>
    mpmcBind(st, m.base, p.control, p.data, p.ring, p.capacity, p.layout, p.record, size, buffer, length)
  );
}

/** Queue of a numeric kind at `place`. */
export function bindMpmc(m: Memory, place: MpmcPlace): MpmcCalls {
  const { mpmcPushBulk, mpmcPopBulk, fastBuffer } = native(), kind = place.layout & 0xff;
  const push = native().mpmcPush[kind]!, pop = native().mpmcPop[kind]!;
  // The values cross as f64 through a buffer of our own (zig/fastpath.zig says why f64),
  // never the caller's typed array: its address would cost a pointer object per call in
  // Deno, and a small typed array may live on the JS heap, where the GC moves it.
  const buffer = bulkBuffer ??= fastBuffer(BULK_CHUNK);
  const state = mpmcState(m, place, 0, buffer.address, BULK_CHUNK), st = state.address;
  return {
    push: (v) => push(st, v),
    pop: () => pop(st),
    pushBulk: (count) => mpmcPushBulk(st, count | 0),
    popBulk: (max) => mpmcPopBulk(st, max | 0),
    state,
    buffer,
  };
}

/** Calls for an element of any other type, moved as bytes through `scratch`. */
export interface BytesCalls {
  /** Pushes the element staged at byte 0 of `scratch`: FAST_OK, FAST_NONE (full) or a negative code. */
  readonly push: () => number;
  /** Pushes the element at byte `stageAt` of `scratch` (a staging view's bytes): codes as push. */
  readonly pushStaged: () => number;
  /** Pops the oldest element into byte 0 of `scratch`: FAST_OK, FAST_NONE (empty) or a negative code. */
  readonly pop: () => number;
  /**
   * Process-private memory (its own never-moving ArrayBuffer, 8-aligned) of two copies
   * of the element, each `size` bytes rounded up to 8. At byte 0 the element type's
   * `write` stages a value, a pop leaves one and `read` reads it: Memory, so the type's
   * own code checks and converts, exactly as on the TypeScript path. At `stageAt` a
   * staging view (struct_views.ts `QueueViews`) keeps the struct it builds, which no pop
   * overwrites.
   */
  readonly scratch: Memory;
  /** Where the second copy starts: `size` rounded up to 8. */
  readonly stageAt: number;
  /** Words shared with the native code (SpscQueue keeps its cached indices there). */
  readonly state: FastState;
}

/** A scratch block for the byte calls (BytesCalls `scratch`): its native address, its bytes, the second copy's offset. */
function scratchOf(size: number): { at: number; bytes: number; stageAt: number; scratch: Memory } {
  const stageAt = Math.ceil(size / 8) * 8;
  const block = native().fastBuffer(stageAt / 4); // two copies of stageAt bytes, 8 per value
  return {
    at: block.address,
    bytes: block.values.byteLength,
    stageAt,
    scratch: new Memory(block.address, block.values.buffer as ArrayBuffer),
  };
}

/**
 * SpscQueue of a non-numeric element type (structs, fixed strings) of `size` bytes: one
 * native call per push or pop (copy and publish), the value checked and converted by the
 * type's own code in `scratch`.
 */
export function bindSpscBytes(m: Memory, control: number, data: number, slots: number, size: number): BytesCalls {
  const { spscBind, spscPushBytes, spscPopBytes } = native();
  const block = scratchOf(size);
  const state = boundState((st) => spscBind(st, m.base, control, data, slots, FAST_BYTES, size, block.at, block.bytes));
  return bytesCalls(block, state, spscPushBytes, spscPopBytes);
}

/** A bound byte handle's calls: pushes from either copy of `block`, pops into the first. */
function bytesCalls(
  block: ReturnType<typeof scratchOf>,
  state: FastState,
  push: (state: number, from: number) => number,
  pop: (state: number) => number,
): BytesCalls {
  const st = state.address, { stageAt, scratch } = block;
  return { push: () => push(st, 0), pushStaged: () => push(st, stageAt), pop: () => pop(st), scratch, stageAt, state };
}

/**
 * Queue at `place` of a non-numeric element type (structs, fixed strings) of `size`
 * bytes (`place.layout`'s kind byte FAST_BYTES): one native call per push or pop
 * (claim, copy, publish), the value checked and converted by the type's own code in
 * `scratch`.
 */
export function bindBytes(m: Memory, place: MpmcPlace, size: number): BytesCalls {
  const { mpmcPushBytes, mpmcPopBytes } = native();
  const block = scratchOf(size);
  return bytesCalls(block, mpmcState(m, place, size, block.at, block.bytes), mpmcPushBytes, mpmcPopBytes);
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
