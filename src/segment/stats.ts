/**
 * A segment's usage figures: heap bytes used and free (from the live extents of the
 * name table, as the allocator sees them), the largest free block, and table sizes.
 */
import { gaps } from "./allocator.ts";
import type { Memory } from "./memory.ts";
import * as table from "./table.ts";
import type { Geometry } from "./table.ts";

/**
 * Usage of a segment's heap and name table.
 *
 * @example
 * ```ts
 * import { Queue, Segment, type SegmentStats, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-stats-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * Queue.create(seg, "jobs", u32, 1024);
 * const stats: SegmentStats = seg.stats();
 * assert.equal(stats.entries, 1);
 * assert.ok(stats.usedBytes > 1024 * 4 && stats.freeBytes < stats.heapSize);
 * ```
 */
export interface SegmentStats {
  /** Bytes of the whole segment. */
  readonly size: number;
  /** Bytes of the heap that structures are allocated from. */
  readonly heapSize: number;
  /** Heap bytes in use by structures. */
  readonly usedBytes: number;
  /** Heap bytes free (possibly fragmented; see `largestFreeBlock`). */
  readonly freeBytes: number;
  /** The largest structure block that can still be allocated. */
  readonly largestFreeBlock: number;
  /** Structures in the name table. */
  readonly entries: number;
  /** Name table capacity. */
  readonly maxEntries: number;
  /** Longest structure name, in UTF-8 bytes. */
  readonly maxNameLength: number;
  /** Process registry capacity. */
  readonly maxProcesses: number;
}

/** Computes the figures (the caller holds the metadata lock, so the table is stable). */
export function segmentStats(m: Memory, g: Geometry): SegmentStats {
  const live = table.liveExtents(m, g);
  const free = gaps(live, g.heapOffset, g.heapOffset + g.heapSize);
  const freeBytes = free.reduce((s, e) => s + e.size, 0);
  return {
    size: g.totalSize,
    heapSize: g.heapSize,
    usedBytes: g.heapSize - freeBytes,
    freeBytes,
    largestFreeBlock: free.reduce((s, e) => Math.max(s, e.size), 0),
    entries: live.length,
    maxEntries: g.maxEntries,
    maxNameLength: g.maxNameLength,
    maxProcesses: g.maxProcesses,
  };
}
