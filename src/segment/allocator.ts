/**
 * The heap allocator. It keeps no state of its own: the live blocks are exactly the
 * extents recorded in the name table's claimed entries, so removing an entry gives
 * its memory back at once, adjacent free space merges by construction, and a process
 * that dies mid-allocation cannot leave allocator metadata inconsistent.
 *
 * Placement is first-fit in address order over 64-byte aligned blocks. Internal
 * fragmentation is under 64 bytes per block; external fragmentation is that of
 * first-fit (docs/ALLOCATOR.md). Cost: O(n log n) in the number of live entries,
 * paid only when a structure is created.
 */
import { CACHE_LINE } from "./format.ts";

export interface Extent {
  readonly offset: number;
  readonly size: number;
}

/** Rounds a request up to whole cache lines. */
export function blockSize(bytes: number): number {
  return Math.ceil(bytes / CACHE_LINE) * CACHE_LINE;
}

/** Free gaps between live extents in [heapStart, heapEnd), in address order. */
export function gaps(live: readonly Extent[], heapStart: number, heapEnd: number): Extent[] {
  const sorted = [...live].sort((a, b) => a.offset - b.offset);
  const out: Extent[] = [];
  let cursor = heapStart;
  for (const e of sorted) {
    if (e.offset > cursor) out.push({ offset: cursor, size: e.offset - cursor });
    cursor = Math.max(cursor, e.offset + e.size);
  }
  if (heapEnd > cursor) out.push({ offset: cursor, size: heapEnd - cursor });
  return out;
}

/** First-fit placement of `bytes` (already a block size); -1 when no gap is large enough. */
export function place(live: readonly Extent[], heapStart: number, heapEnd: number, bytes: number): number {
  for (const g of gaps(live, heapStart, heapEnd)) if (g.size >= bytes) return g.offset;
  return -1;
}
