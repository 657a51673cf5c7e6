/**
 * RingBuffer's block layout (docs/FORMAT.md, kind 7), its StructureSpec, and the test
 * helpers that move a ring's positions.
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { Kind } from "../segment/kinds.ts";
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
