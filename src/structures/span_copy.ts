/**
 * The bulk calls' copies between a ring's data region and the caller's batch, shared by
 * SpscQueue and RingBuffer (both keep their elements in one run of `slots` elements that
 * wraps), and the check of a `popBulkInto` target, shared with Queue.
 *
 * Why `set`: a typed array of the region's own kind is copied with one memcpy-like
 * `TypedArray.prototype.set` per run instead of an indexed store per element. Measured
 * (64 f64 into a 4097-slot Float64Array, best of 5 × 1M, Zen 5 VM, 2026-12-02): in,
 * Deno 56 → 20 ns, Bun 22 → 17 ns; out, Deno 54 → 38 ns, Bun 27 → 41 ns. So copies in
 * use `set` on both runtimes, copies out only on Deno (`SET_OUT`).
 */
import type { ElementType, NumericView } from "../segment/elements.ts";
import type { Memory } from "../segment/memory.ts";
import { ShmError } from "../errors.ts";

/**
 * Anything bulk operations accept: a JS array or a typed array.
 *
 * @example
 * ```ts
 * import { RingBuffer, Segment, type Span, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-span-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const ring = RingBuffer.create(seg, "ids", u32, 16);
 * const batch: Span<number> = [1, 2, 3]; // an array or a typed array
 * assert.equal(ring.pushBulk(batch), 3);
 * assert.equal(ring.tryPop(), 1);
 * ```
 */
export type Span<T> = ArrayLike<T> & { [n: number]: T };

/**
 * Whether copies out use `set` (Deno) or an indexed loop (Bun): the two `subarray`
 * views `set` needs from the region are allocations, and JavaScriptCore's collector,
 * running beside the other process on two cores, made a Bun consumer slower with them
 * (measured above and in docs/DECISIONS.md "Bulk copies").
 */
const SET_OUT = !("Bun" in globalThis);

/** Whether `src` can be copied into `view` with `set` and no check: a typed array of the view's own kind (every value fits). */
export function sameKind(view: NumericView | undefined, src: unknown): src is NumericView {
  return view !== undefined && (src as { constructor?: unknown }).constructor === view.constructor;
}

/** Copies src[0..k) into the region `view` from slot `s` on, wrapping at `slots` (`sameKind` holds). */
export function copyIn(view: NumericView, slots: number, s: number, src: NumericView, k: number): void {
  const first = Math.min(k, slots - s); // elements before the end of the region
  // deno-lint-ignore no-explicit-any
  const v = view as any;
  v.set(k === src.length && first === k ? src : src.subarray(0, first), s);
  if (first < k) v.set(src.subarray(first, k), 0);
}

/**
 * Copies k elements from slot `s` on (wrapping at `slots`) into out[from..from + k): one
 * typed array `set` per run when `out` is a typed array of the view's kind, an indexed
 * store per element otherwise (converted as typed-array stores convert), and the type's
 * `read` when there is no view (which may throw: the caller decides what that costs).
 */
export function copyOut<T>(
  m: Memory,
  view: NumericView | undefined,
  type: ElementType<T>,
  data: number,
  slots: number,
  s: number,
  k: number,
  out: Span<T>,
  from = 0,
): void {
  const first = Math.min(k, slots - s);
  if (SET_OUT && sameKind(view, out)) {
    // deno-lint-ignore no-explicit-any
    const o = out as any;
    o.set(view!.subarray(s, s + first), from);
    if (first < k) o.set(view!.subarray(0, k - first), from + first);
  } else if (view !== undefined) {
    for (let i = 0; i < first; i++) out[from + i] = view[s + i] as T;
    for (let i = first; i < k; i++) out[from + i] = view[i - first] as T;
  } else {
    const size = type.size;
    let at = data + s * size;
    for (let i = 0; i < first; i++, at += size) out[from + i] = type.read(m, at);
    at = data;
    for (let i = first; i < k; i++, at += size) out[from + i] = type.read(m, at);
  }
}

/**
 * Checks a `popBulkInto` target before anything is taken: numbers (`numeric`: every
 * numeric element type but i64 / u64) go into a typed array of numbers, bigints (i64,
 * u64) into a BigInt64Array or BigUint64Array; anything else is INVALID_ARGUMENT.
 */
export function checkBulkTarget(type: ElementType<unknown>, numeric: boolean, target: unknown): void {
  const typed = ArrayBuffer.isView(target) && !(target instanceof DataView);
  const big = target instanceof BigInt64Array || target instanceof BigUint64Array;
  const bigType = type.typedArray === BigInt64Array || type.typedArray === BigUint64Array;
  if (!typed || (numeric ? big : !(bigType && big))) {
    const what = typed ? (target as object).constructor.name : target === null ? "null" : typeof target;
    throw new ShmError("INVALID_ARGUMENT", `popBulkInto: a queue of ${type.name} cannot fill a ${what}`);
  }
}
