/**
 * The name table: fixed-size entries (name, kind, element size and type hash,
 * capacity, offset, size) in a region fixed at creation. All functions here run with
 * the metadata lock held; every field read back is validated, since the segment is
 * untrusted input.
 */
import type { Extent } from "./allocator.ts";
import { ShmError } from "../errors.ts";
import { E, EntryState, H } from "./format.ts";
import { kindName } from "./kinds.ts";
import type { Memory } from "./memory.ts";

/** Table and heap geometry, validated when the segment is opened. */
export interface Geometry {
  readonly totalSize: number;
  readonly maxEntries: number;
  readonly maxNameLength: number;
  readonly entrySize: number;
  readonly maxProcesses: number;
  readonly tableOffset: number;
  readonly heapOffset: number;
  readonly heapSize: number;
}

/**
 * What the name table says about one structure.
 *
 * @example
 * ```ts
 * import { Queue, Segment, type EntryInfo, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-entry-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * Queue.create(seg, "jobs", u32, 1024);
 * const info: EntryInfo | undefined = seg.find("jobs");
 * assert.equal(info?.kindName, "queue");
 * assert.equal(info?.capacity, 1024);
 * ```
 */
export interface EntryInfo {
  /** Structure name. */
  readonly name: string;
  /** Kind tag (see Kind) and its human name. */
  readonly kind: number;
  /** Kind name, e.g. "queue" (see kindName). */
  readonly kindName: string;
  /** Bytes per element. */
  readonly elemSize: number;
  /** Hash of the element type signature, checked on open. */
  readonly typeHash: number;
  /** Elements (or slots) the structure was created for. */
  readonly capacity: number;
  /** Byte offset of the structure's block from the segment start. */
  readonly offset: number;
  /** Bytes reserved for the block. */
  readonly size: number;
  /** Pid of the process that created it. */
  readonly creatorPid: number;
}

const decoder = new TextDecoder();

export function entryAt(g: Geometry, index: number): number {
  return g.tableOffset + index * g.entrySize;
}

function nameMatches(m: Memory, at: number, name: Uint8Array): boolean {
  if (m.u32[(at + E.nameLength) >> 2] !== name.length) return false;
  const base = at + E.name;
  for (let i = 0; i < name.length; i++) if (m.u8[base + i] !== name[i]) return false;
  return true;
}

/** Index of the READY entry with this name, or -1. */
export function find(m: Memory, g: Geometry, name: Uint8Array): number {
  for (let i = 0; i < g.maxEntries; i++) {
    const at = entryAt(g, i);
    if (m.u32[(at + E.state) >> 2] === EntryState.READY && nameMatches(m, at, name)) return i;
  }
  return -1;
}

export function freeSlot(m: Memory, g: Geometry): number {
  for (let i = 0; i < g.maxEntries; i++) {
    if (m.u32[(entryAt(g, i) + E.state) >> 2] === EntryState.FREE) return i;
  }
  return -1;
}

function corrupt(index: number, why: string): ShmError {
  return new ShmError("CORRUPT", `name table entry ${index} is corrupt: ${why}`);
}

/**
 * An entry's block, validated to lie inside the heap, and its name length checked
 * (without decoding the name: this is the allocator's path over every entry).
 */
function extent(m: Memory, g: Geometry, index: number): Extent {
  const at = entryAt(g, index);
  const nameLength = m.u32[(at + E.nameLength) >> 2];
  if (nameLength === 0 || nameLength > g.maxNameLength) throw corrupt(index, `name length ${nameLength}`);
  const offset = m.getU64(at + E.offset);
  const size = m.getU64(at + E.size);
  const heapEnd = g.heapOffset + g.heapSize;
  if (offset % 64 !== 0 || offset < g.heapOffset || size < 64 || size > heapEnd - offset) {
    throw corrupt(index, `block [${offset}, +${size}) is not inside the heap [${g.heapOffset}, ${heapEnd})`);
  }
  return { offset, size };
}

/** The extent of claimed entry `index` if it is valid on its own, else undefined. */
function validExtent(m: Memory, g: Geometry, index: number): Extent | undefined {
  const state = m.u32[(entryAt(g, index) + E.state) >> 2];
  if (state !== EntryState.RESERVED && state !== EntryState.READY) return undefined;
  try {
    return extent(m, g, index);
  } catch {
    return undefined; // reported when that entry itself is read
  }
}

function overlaps(a: Extent, b: Extent): boolean {
  return a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

/**
 * Reads and validates an entry: its extent must lie inside the heap and overlap no
 * other claimed entry's (a corrupt table must not hand two structures one block).
 */
export function read(m: Memory, g: Geometry, index: number, checkOverlap = true): EntryInfo {
  const at = entryAt(g, index);
  const { offset, size } = extent(m, g, index);
  for (let j = 0; checkOverlap && j < g.maxEntries; j++) {
    if (j === index) continue;
    const other = validExtent(m, g, j);
    if (other && overlaps(other, { offset, size })) {
      throw corrupt(index, `block [${offset}, +${size}) overlaps entry ${j}'s [${other.offset}, +${other.size})`);
    }
  }
  const nameLength = m.u32[(at + E.nameLength) >> 2];
  const kind = m.u32[(at + E.kind) >> 2];
  return {
    name: decoder.decode(m.u8.slice(at + E.name, at + E.name + nameLength)),
    kind,
    kindName: kindName(kind),
    elemSize: m.u32[(at + E.elemSize) >> 2],
    typeHash: m.u32[(at + E.typeHash) >> 2],
    capacity: m.getU64(at + E.capacity),
    offset,
    size,
    creatorPid: m.u32[(at + E.creatorPid) >> 2],
  };
}

/** Every READY entry. */
export function list(m: Memory, g: Geometry): EntryInfo[] {
  const out: EntryInfo[] = [];
  const claimed: (Extent & { index: number })[] = [];
  for (let i = 0; i < g.maxEntries; i++) {
    if (m.u32[(entryAt(g, i) + E.state) >> 2] === EntryState.READY) out.push(read(m, g, i, false));
    const e = validExtent(m, g, i);
    if (e) claimed.push({ ...e, index: i });
  }
  checkDisjoint(claimed);
  return out;
}

/** CORRUPT if any two of these extents overlap (sorted scan: O(n log n)). */
function checkDisjoint(extents: readonly (Extent & { index: number })[]): void {
  const sorted = [...extents].sort((a, b) => a.offset - b.offset);
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1];
    const b = sorted[k];
    if (b.offset < a.offset + a.size) throw corrupt(b.index, `its block overlaps entry ${a.index}'s`);
  }
}

/**
 * Extents of every claimed (reserved or ready) entry: the allocator's view of used
 * memory. CORRUPT if one is invalid or two overlap.
 */
export function liveExtents(m: Memory, g: Geometry): Extent[] {
  const out: (Extent & { index: number })[] = [];
  for (let i = 0; i < g.maxEntries; i++) {
    const state = m.u32[(entryAt(g, i) + E.state) >> 2];
    if (state === EntryState.FREE) continue;
    if (state !== EntryState.RESERVED && state !== EntryState.READY) throw corrupt(i, `state ${state}`);
    out.push({ ...extent(m, g, i), index: i });
  }
  checkDisjoint(out);
  return out;
}

export interface NewEntry {
  kind: number;
  elemSize: number;
  typeHash: number;
  capacity: number;
  offset: number;
  size: number;
  pid: number;
  start: number;
}

/** Claims a free entry as RESERVED with all its fields (the memory is not yet initialised). */
export function reserve(m: Memory, g: Geometry, index: number, name: Uint8Array, e: NewEntry): void {
  const at = entryAt(g, index);
  m.u8.fill(0, at + E.name, at + g.entrySize);
  m.u8.set(name, at + E.name);
  m.u32[(at + E.nameLength) >> 2] = name.length;
  m.u32[(at + E.kind) >> 2] = e.kind;
  m.u32[(at + E.elemSize) >> 2] = e.elemSize;
  m.u32[(at + E.typeHash) >> 2] = e.typeHash;
  m.setU64(at + E.capacity, e.capacity);
  m.setU64(at + E.offset, e.offset);
  m.setU64(at + E.size, e.size);
  m.u32[(at + E.creatorPid) >> 2] = e.pid;
  m.setU64(at + E.creatorStart, e.start);
  Atomics.add(m.u32, (at + E.generation) >> 2, 1);
  Atomics.store(m.u32, (at + E.state) >> 2, EntryState.RESERVED);
}

export function publish(m: Memory, g: Geometry, index: number): void {
  Atomics.store(m.u32, (entryAt(g, index) + E.state) >> 2, EntryState.READY);
  Atomics.add(m.u32, H.tableVersion >> 2, 1);
}

export function release(m: Memory, g: Geometry, index: number): void {
  const at = entryAt(g, index);
  Atomics.add(m.u32, (at + E.generation) >> 2, 1);
  Atomics.store(m.u32, (at + E.state) >> 2, EntryState.FREE);
  Atomics.add(m.u32, H.tableVersion >> 2, 1);
}

/**
 * Frees entries left RESERVED: creation happens entirely under the metadata lock, so
 * a reserved entry seen by the lock holder belongs to a creator that died.
 */
export function reclaimReserved(m: Memory, g: Geometry): number {
  let n = 0;
  for (let i = 0; i < g.maxEntries; i++) {
    if (m.u32[(entryAt(g, i) + E.state) >> 2] === EntryState.RESERVED) {
      release(m, g, i);
      n++;
    }
  }
  return n;
}
