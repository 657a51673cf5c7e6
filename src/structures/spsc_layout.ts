/**
 * SpscQueue's block layout (docs/FORMAT.md) and StructureSpec. After the 64-byte
 * structure header:
 *
 *   control +0    u32 write index (producer)   own 64-byte line
 *   control +8    eventcount "not empty" (seq i32, waiters i32): popWait/popAsync park here
 *   control +16   u64 producer claim (writer_claim.ts; 0 = none)
 *   control +64   u32 read index (consumer)    own 64-byte line
 *   control +72   eventcount "not full" (seq i32, waiters i32): pushWait/pushAsync park here
 *   control +80   u64 consumer claim
 *   data          capacity + 1 elements
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { Kind } from "../segment/kinds.ts";
import type { StructureSpec } from "../segment/structure.ts";

/** Largest SpscQueue capacity. */
export const MAX_SPSC_CAPACITY = 2 ** 30;

export const WRITE = 0;
export const READ = 64;
// Blocking forms (src/wait/wait.ts eventcounts), each on the line of the side that notifies it.
export const NOT_EMPTY = WRITE + 8;
export const NOT_FULL = READ + 8;
// Role claims (u64, writer_claim.ts), each on its side's line after the eventcount.
export const PRODUCER_CLAIM = WRITE + 16;
export const CONSUMER_CLAIM = READ + 16;

export function spec(type: ElementType<unknown>): StructureSpec {
  assertElementType(type);
  return { kind: Kind.SPSC_QUEUE, type, controlBytes: 128, dataBytes: (n) => (n + 1) * type.size };
}
