/**
 * The hash table's byte layout (docs/MAP.md is the contract): slot states and the
 * ctl word's bits, the control area, where key and values sit in a slot, the table
 * length for a capacity, and the StructureSpec that SharedMap and SharedSet create.
 */
import { type ElementType, fnv1a } from "../../segment/elements.ts";
import { ShmError } from "../../errors.ts";
import { align } from "../../segment/memory.ts";
import type { StructureSpec } from "../../segment/structure.ts";

/** Slot states (ctl bits 0..1). */
export const EMPTY = 0;
export const READY = 1;
export const DELETED = 2;
export const STATE_MASK = 3;
export const ACTIVE_BIT = 4;
const VERSION_UNIT = 8;

/** Slot header: ctl u32, owner u32, hash u32; the key follows at `keyOffset`. */
export const SLOT_HEADER = 12;

/** Layout of the control area (bytes after the 64-byte structure header). */
export const C = {
  // line 0: written once at creation, read-only afterwards
  format: 0,
  hashAlgorithm: 4,
  seed: 8,
  keySize: 12,
  keyOffset: 16,
  valueSize: 20,
  valueOffset: 24,
  slotSize: 28,
  capacity: 32,
  slots: 36,
  keyTypeHash: 40,
  valueTypeHash: 44,
  // Raised (rarely) by inserters; read by every lookup, so it sits with the constants.
  probeLimit: 48,
  // line 1: the insert lock, and what only its holder touches
  insertLock: 64,
  insertsSinceRefresh: 68,
  // line 2: the entry count
  count: 128,
  size: 192,
} as const;

export const TABLE_FORMAT = 1;
/** Hash algorithm id 1: MurmurHash3_x86_32 over the key's encoded bytes. */
export const HASH_MURMUR3_32 = 1;
export const HASH_SEED = 0;
/** Largest table: slot indexes and masks stay in int32 arithmetic. */
export const MAX_SLOTS = 2 ** 30;

/** Next ctl word: version + 1, with the given state and active copy. */
export function bump(ctl: number, state: number, active: number): number {
  return (((ctl & ~7) + VERSION_UNIT) | active | state) | 0;
}

/** Where the key and the two value copies sit in a slot. */
export interface Layout {
  readonly keySize: number;
  readonly keyOffset: number;
  readonly valueSize: number;
  readonly valueOffset: number;
  readonly slotSize: number;
  readonly slotAlign: number;
}

/** C layout rules: each part at the next offset aligned for it; the slot padded to its alignment. */
export function layoutOf(key: ElementType<unknown>, value: ElementType<unknown> | undefined): Layout {
  const keyOffset = align(SLOT_HEADER, key.align);
  const valueSize = value?.size ?? 0;
  const valueAlign = value?.align ?? 1;
  const valueOffset = align(keyOffset + key.size, valueAlign);
  const slotAlign = Math.max(4, key.align, valueAlign);
  const slotSize = align(valueOffset + 2 * valueSize, slotAlign);
  return { keySize: key.size, keyOffset, valueSize, valueOffset, slotSize, slotAlign };
}

/** Table length for `capacity` entries unless given: the next power of two ≥ capacity / 0.75. */
export function slotsFor(capacity: number, slots: number | undefined): number {
  if (slots === undefined) {
    let n = 2;
    while (n < Math.ceil((capacity * 4) / 3)) n *= 2;
    return n;
  }
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS || (slots & (slots - 1)) !== 0 || slots < capacity) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `slots must be a power of two from capacity (${capacity}) to 2^30, got ${String(slots)}`,
    );
  }
  return slots;
}

/**
 * The StructureSpec of a map (value given) or set. The entry's element is the whole
 * slot: its size is the slot size and its type hash covers key and value types, so
 * opening with other types is a TYPE_MISMATCH. The entry's capacity is the slot count.
 */
export function tableSpec(
  kind: number,
  key: ElementType<unknown>,
  value: ElementType<unknown> | undefined,
  capacity: number,
): StructureSpec {
  const L = layoutOf(key, value);
  const name = value ? `map{key:${key.name},value:${value.name}}` : `set{key:${key.name}}`;
  const refuse = () => {
    throw new ShmError("INVALID_ARGUMENT", `${name} slots are not elements`);
  };
  const type: ElementType<unknown> = {
    name,
    size: L.slotSize,
    align: L.slotAlign,
    typeHash: fnv1a(name),
    typedArray: undefined,
    read: refuse,
    write: refuse,
  };
  return {
    kind,
    type,
    controlBytes: C.size,
    dataBytes: (slots) => slots * L.slotSize,
    init(m, block, _data, slots) {
      const c = (block + 64) >>> 2;
      const u32 = m.u32;
      u32[c + (C.format >> 2)] = TABLE_FORMAT;
      u32[c + (C.hashAlgorithm >> 2)] = HASH_MURMUR3_32;
      u32[c + (C.seed >> 2)] = HASH_SEED;
      u32[c + (C.keySize >> 2)] = L.keySize;
      u32[c + (C.keyOffset >> 2)] = L.keyOffset;
      u32[c + (C.valueSize >> 2)] = L.valueSize;
      u32[c + (C.valueOffset >> 2)] = L.valueOffset;
      u32[c + (C.slotSize >> 2)] = L.slotSize;
      u32[c + (C.capacity >> 2)] = capacity;
      u32[c + (C.slots >> 2)] = slots;
      u32[c + (C.keyTypeHash >> 2)] = key.typeHash;
      u32[c + (C.valueTypeHash >> 2)] = value?.typeHash ?? 0;
    },
  };
}

/**
 * What `stats()` reports: a non-atomic scan, for monitoring and tests.
 *
 * @example
 * ```ts
 * import { Segment, SharedMap, type TableStats, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-tstats-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const m = SharedMap.create(seg, "m", u32, u32, 100);
 * for (let i = 0; i < 50; i++) m.set(i, i * i);
 * const stats: TableStats = m.stats();
 * assert.equal(stats.ready, 50);
 * assert.ok(stats.maxProbe <= stats.probeLimit);
 * ```
 */
export interface TableStats {
  /** The entry counter (what `size` returns). */
  readonly size: number;
  /** Most entries the table accepts. */
  readonly capacity: number;
  /** Table length (power of two). */
  readonly slots: number;
  /** Slots seen READY, DELETED (tombstones) and EMPTY during the scan. */
  readonly ready: number;
  /** Slots seen DELETED (tombstones). */
  readonly tombstones: number;
  /** Slots seen EMPTY. */
  readonly empty: number;
  /** Longest probe sequence from a READY key's home slot to the key (1 = at home). */
  readonly maxProbe: number;
  /** The table's probe limit: no lookup probes more slots than this. */
  readonly probeLimit: number;
}
