/**
 * Byte offsets of the binary format (docs/FORMAT.md is the prose version; keep the
 * two in step). All integers little-endian; all offsets relative to segment start.
 */

/** "SHMK" read as a little-endian u32. */
export const MAGIC = 0x4b4d4853;
export const FORMAT_VERSION = 1;

export const enum State {
  INITIALISING = 0,
  READY = 1,
}

/** Segment header: 256 bytes, four cache lines. */
export const H = {
  // line 0: identity and geometry, written once by the creator before `state`
  magic: 0,
  version: 4,
  state: 8,
  headerSize: 12,
  totalSize: 16, // u64
  maxEntries: 24,
  maxNameLength: 28,
  entrySize: 32,
  maxProcesses: 36,
  tableOffset: 40, // u64
  heapOffset: 48, // u64
  heapSize: 56, // u64
  // line 1: creator, written first so openers can tell a dead creator
  creatorPid: 64,
  flags: 68,
  creatorStart: 72, // u64
  // line 2: the metadata lock (name table, allocator, registry)
  lockOwner: 128,
  lockWaiters: 132,
  tableVersion: 136, // bumped on every table change
  // line 3: reserved
  size: 256,
} as const;

export const FLAG_UNLINK_ON_LAST_CLOSE = 1;

/** Process registry slot: pid u32, reserved u32, start time u64. */
export const REGISTRY_SLOT = 16;
export const REGISTRY_OFFSET = H.size;

/** Name table entry header; the name's UTF-8 bytes follow at `name`. */
export const E = {
  state: 0,
  generation: 4,
  kind: 8,
  elemSize: 12,
  typeHash: 16,
  nameLength: 20,
  capacity: 24, // u64
  offset: 32, // u64
  size: 40, // u64
  creatorPid: 48,
  creatorStart: 56, // u64
  name: 64,
} as const;

export const enum EntryState {
  FREE = 0,
  /** Claimed by a creator holding the metadata lock; reclaimed if it died. */
  RESERVED = 1,
  READY = 2,
}

/** Every structure block starts with this 64-byte header, repeating its entry's type. */
export const S = {
  kind: 0,
  elemSize: 4,
  typeHash: 8,
  dataOffset: 12, // bytes from block start to the element data
  capacity: 16, // u64
  size: 64,
} as const;

export const CACHE_LINE = 64;
export const PAGE = 4096;
/**
 * Largest segment this implementation maps: 2 GiB, so that every byte offset is a
 * non-negative int32 and hot paths can index typed arrays with `offset >> 2` etc.
 * The format itself allows 2^53; use several segments for more memory.
 */
export const MAX_SEGMENT_SIZE = 2 ** 31;
export const MAX_ENTRIES = 1 << 20;
export const MAX_NAME_LENGTH = 1024;
export const MAX_PROCESSES = 1 << 16;

export function entrySize(maxNameLength: number): number {
  return E.name + Math.ceil(maxNameLength / 64) * 64;
}
