/**
 * Creating a structure's entry in a segment, under the metadata lock: a free name
 * table slot is reserved, a heap block placed first-fit among the live extents, the
 * block zeroed and given its structure header and initial state, and only then the
 * entry published, so no process can open a structure that is not complete.
 */
import { ShmError } from "../errors.ts";
import { blockSize, place } from "./allocator.ts";
import type { Memory } from "./memory.ts";
import { me } from "./process.ts";
import { blockBytes, checkEntry, type Placement, type StructureSpec, writeHeader } from "./structure.ts";
import * as table from "./table.ts";
import type { Geometry } from "./table.ts";

/** Creates entry `name` (its UTF-8 `bytes`) of `spec` with `capacity`; the caller holds the metadata lock. */
export function createEntryLocked(
  m: Memory,
  g: Geometry,
  segment: string,
  name: string,
  bytes: Uint8Array,
  spec: StructureSpec,
  capacity: number,
): Placement {
  const size = blockSize(blockBytes(spec, capacity));
  if (table.find(m, g, bytes) >= 0) {
    throw new ShmError("EXISTS", `a structure named "${name}" already exists in segment "${segment}"`);
  }
  const index = table.freeSlot(m, g);
  if (index < 0) throw new ShmError("FULL", `segment "${segment}" has no free name table entry (maxEntries ${g.maxEntries})`);
  const offset = size > g.heapSize ? -1 : place(table.liveExtents(m, g), g.heapOffset, g.heapOffset + g.heapSize, size);
  if (offset < 0) {
    throw new ShmError(
      "FULL",
      `segment "${segment}" has no free block of ${size} bytes for "${name}" (heap ${g.heapSize} bytes)`,
    );
  }
  const self = me();
  const entry = {
    kind: spec.kind,
    elemSize: spec.type?.size ?? 0,
    typeHash: spec.type?.typeHash ?? 0,
    capacity,
    offset,
    size,
    pid: self.pid,
    start: self.start,
  };
  table.reserve(m, g, index, bytes, entry);
  m.u8.fill(0, offset, offset + size);
  writeHeader(m, offset, spec, capacity);
  const placement = checkEntry(m, table.read(m, g, index), spec);
  spec.init?.(m, offset, placement.data, capacity);
  table.publish(m, g, index);
  return placement;
}
