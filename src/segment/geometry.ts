/**
 * The segment header's geometry (docs/FORMAT.md): where the registry, the name table
 * and the heap sit for given table parameters, writing it at creation, and reading it
 * back from an untrusted mapping, where every field is checked before it is used.
 */
import { ShmError } from "../errors.ts";
import {
  entrySize,
  FORMAT_VERSION,
  H,
  MAGIC,
  MAX_ENTRIES,
  MAX_NAME_LENGTH,
  MAX_PROCESSES,
  REGISTRY_OFFSET,
  REGISTRY_SLOT,
} from "./format.ts";
import { align, type Memory } from "./memory.ts";
import type { Geometry } from "./table.ts";

/** Computes the layout for the given table parameters and total size. */
export function geometry(totalSize: number, maxEntries: number, maxNameLength: number, maxProcesses: number): Geometry {
  const tableOffset = align(REGISTRY_OFFSET + maxProcesses * REGISTRY_SLOT, 64);
  const size = entrySize(maxNameLength);
  const heapOffset = align(tableOffset + maxEntries * size, 64);
  return {
    totalSize,
    maxEntries,
    maxNameLength,
    entrySize: size,
    maxProcesses,
    tableOffset,
    heapOffset,
    heapSize: Math.max(0, totalSize - heapOffset),
  };
}

export function corrupt(name: string, why: string): ShmError {
  return new ShmError("CORRUPT", `segment "${name}" is corrupt or not a shmkit segment: ${why}`);
}

/** Validates a mapped header; returns the geometry it describes. */
export function readGeometry(m: Memory, name: string): Geometry {
  const u32 = m.u32;
  if (u32[H.magic >> 2] !== MAGIC) throw corrupt(name, "bad magic number");
  const version = u32[H.version >> 2];
  if (version !== FORMAT_VERSION) throw corrupt(name, `format version ${version}, this library reads ${FORMAT_VERSION}`);
  if (u32[H.headerSize >> 2] !== H.size) throw corrupt(name, `header size ${u32[H.headerSize >> 2]}`);
  const totalSize = m.getU64(H.totalSize);
  if (totalSize !== m.size) throw corrupt(name, `header says ${totalSize} bytes, the object has ${m.size}`);
  const maxEntries = u32[H.maxEntries >> 2];
  const maxNameLength = u32[H.maxNameLength >> 2];
  const maxProcesses = u32[H.maxProcesses >> 2];
  if (maxEntries < 1 || maxEntries > MAX_ENTRIES) throw corrupt(name, `maxEntries ${maxEntries}`);
  if (maxNameLength < 1 || maxNameLength > MAX_NAME_LENGTH) throw corrupt(name, `maxNameLength ${maxNameLength}`);
  if (maxProcesses < 1 || maxProcesses > MAX_PROCESSES) throw corrupt(name, `maxProcesses ${maxProcesses}`);
  const g = geometry(totalSize, maxEntries, maxNameLength, maxProcesses);
  if (
    u32[H.entrySize >> 2] !== g.entrySize || m.getU64(H.tableOffset) !== g.tableOffset ||
    m.getU64(H.heapOffset) !== g.heapOffset || m.getU64(H.heapSize) !== g.heapSize || g.heapSize <= 0
  ) {
    throw corrupt(name, "table or heap geometry does not add up");
  }
  return g;
}

export function writeGeometry(m: Memory, g: Geometry, flags: number): void {
  const u32 = m.u32;
  u32[H.flags >> 2] = flags;
  u32[H.headerSize >> 2] = H.size;
  m.setU64(H.totalSize, g.totalSize);
  u32[H.maxEntries >> 2] = g.maxEntries;
  u32[H.maxNameLength >> 2] = g.maxNameLength;
  u32[H.entrySize >> 2] = g.entrySize;
  u32[H.maxProcesses >> 2] = g.maxProcesses;
  m.setU64(H.tableOffset, g.tableOffset);
  m.setU64(H.heapOffset, g.heapOffset);
  m.setU64(H.heapSize, g.heapSize);
  u32[H.version >> 2] = FORMAT_VERSION;
  u32[H.magic >> 2] = MAGIC;
}
