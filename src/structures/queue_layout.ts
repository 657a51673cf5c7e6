/**
 * Queue's block layout (docs/FORMAT.md, kind 3): control words, ring geometry, the
 * claim records after the ring, and the StructureSpec.
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { Kind } from "../segment/kinds.ts";
import { align } from "../segment/memory.ts";
import type { StructureSpec } from "../segment/structure.ts";
import { recordBytes } from "./claim_records.ts";

/** Largest queue capacity: 32-bit wrap-around comparisons need the ring at most 2^30. */
export const MAX_QUEUE_CAPACITY = 2 ** 30;

export const ENQ = 0;
export const DEQ = 64;
// Blocking forms (src/wait/wait.ts eventcounts): each sits on the line of the side that
// notifies it, so the notifier's "anyone waiting?" load hits a line it already owns.
export const NOT_EMPTY = 8;
export const NOT_FULL = 64 + 8;
// Repair counters (docs/RELIABILITY.md), on the producers' line: rarely written.
export const SKIPPED = 16;
export const HANDED_BACK = 20;

/**
 * What a Queue repaired after processes died inside a push or pop.
 *
 * @example
 * ```ts
 * import { Queue, type QueueStats, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-qstats-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "jobs", u32, 8);
 * q.push(1);
 * const stats: QueueStats = q.stats;
 * assert.deepEqual(stats, { size: 1, recoveredPushes: 0, recoveredPops: 0 });
 * ```
 */
export interface QueueStats {
  /** Elements in the queue (as `size`). */
  readonly size: number;
  /** Positions a dead producer had claimed and never published, skipped by a consumer (each one element lost in flight). */
  readonly recoveredPushes: number;
  /** Slots a dead consumer had claimed and never handed back, handed back by a producer (each one element lost in flight). */
  readonly recoveredPops: number;
}

/**
 * Slots in the ring: the capacity rounded up to a power of two, and at least 2 (with
 * one slot, "published for position p" and "free for position p + 1" would be the
 * same sequence number).
 */
export function ringSize(capacity: number): number {
  let r = 2;
  while (r < capacity) r *= 2;
  return r;
}

export function slotLayout(type: ElementType<unknown>): { elemOffset: number; stride: number } {
  const a = Math.max(4, type.align);
  const elemOffset = align(4, a);
  return { elemOffset, stride: align(elemOffset + type.size, a) };
}

/** Byte offset of the claim records: after the ring, 64-aligned. */
export function recordsAt(data: number, ring: number, stride: number): number {
  return data + align(ring * stride, 64);
}

export function spec(type: ElementType<unknown>, maxProcesses: number): StructureSpec {
  assertElementType(type);
  const { stride } = slotLayout(type);
  return {
    kind: Kind.QUEUE,
    type,
    controlBytes: 128,
    dataBytes: (n) => align(ringSize(n) * stride, 64) + recordBytes(maxProcesses),
    init(m, _block, data, capacity) {
      // Slot i starts free for the producer of position i.
      const r = ringSize(capacity);
      for (let i = 0; i < r; i++) m.i32[(data + i * stride) >> 2] = i;
    },
  };
}
