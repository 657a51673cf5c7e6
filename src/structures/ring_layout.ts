/**
 * RingBuffer's block layout (docs/FORMAT.md, kind 7), its StructureSpec, the bulk copy
 * out of the data region, and the test helpers that move a ring's positions.
 */
import { assertElementType, type ElementType, type NumericView } from "../segment/elements.ts";
import { Kind } from "../segment/kinds.ts";
import type { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import type { StructureSpec } from "../segment/structure.ts";

/** Largest capacity: keeps M ≥ 2 × capacity and every position a non-negative int32. */
export const RING_MAX_CAPACITY = 2 ** 30;

export const HEAD = 0; // byte offsets inside the control area
export const EPOCH = 4;
export const TAIL = 64;
// Blocking forms (src/wait/wait.ts eventcounts), each on the line of the side that notifies it.
export const NOT_EMPTY = HEAD + 8;
export const NOT_FULL = TAIL + 8;
/** Producer claim (u64, src/structures/writer_claim.ts), on the producer's line after its eventcount. */
export const CLAIM = 16;

export function spec<T>(type: ElementType<T>): StructureSpec {
  assertElementType(type);
  return { kind: Kind.RING, type, controlBytes: 128, dataBytes: (n) => n * type.size };
}

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
 * Copies k elements from slot `s` on (wrapping at `capacity`) into out[0..k): one typed
 * array `set` per run when `out` is a typed array of the view's kind.
 */
export function copyOut<T>(
  m: Memory,
  view: NumericView | undefined,
  type: ElementType<T>,
  data: number,
  capacity: number,
  s: number,
  k: number,
  out: Span<T>,
): void {
  const first = Math.min(k, capacity - s);
  if (view !== undefined && out.constructor === view.constructor) {
    // deno-lint-ignore no-explicit-any
    const o = out as any;
    o.set(view.subarray(s, s + first), 0);
    if (first < k) o.set(view.subarray(0, k - first), first);
  } else if (view !== undefined) {
    for (let i = 0; i < first; i++) out[i] = view[s + i] as T;
    for (let i = first; i < k; i++) out[i] = view[i - first] as T;
  } else {
    const size = type.size;
    let at = data + s * size;
    for (let i = 0; i < first; i++, at += size) out[i] = type.read(m, at);
    at = data;
    for (let i = first; i < k; i++, at += size) out[i] = type.read(m, at);
  }
}

/**
 * @internal Test helpers: move a fresh ring's positions to just before the wrap point.
 * Not exported from mod.ts.
 */
export const _ringTesting = {
  /** Where positions wrap to 0 for this ring. */
  modulus(r: { readonly capacity: number }): number {
    const cap = r.capacity;
    return cap * Math.floor(2 ** 31 / cap);
  },
  /** Sets head = tail = `total` (as if `total` elements had been pushed and popped). Ring must be empty and idle. */
  setPosition(seg: Segment, r: { readonly capacity: number; readonly offset: number }, total: number): void {
    const m = seg.memory;
    const M = _ringTesting.modulus(r);
    const pos = total % M;
    const control = r.offset + 64;
    const e = 2 * Math.floor(total / M) + (pos >= Math.floor(M / 2) ? 1 : 0);
    Atomics.store(m.i32, (control + EPOCH) >> 2, e | 0);
    Atomics.store(m.i32, (control + HEAD) >> 2, pos);
    Atomics.store(m.i32, (control + TAIL) >> 2, pos);
  },
};
