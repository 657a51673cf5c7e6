/**
 * The engine under SharedMap and SharedSet: a fixed-size open-addressing hash table
 * with linear probing in shared memory, keyed by the encoded bytes of a fixed-size
 * key and hashed with MurmurHash3_x86_32. docs/MAP.md is the byte-level contract.
 *
 * Concurrency protocol (the reasoning behind every rule is in docs/MAP.md):
 *
 * - Each slot has a control word `ctl` = version (bits 3..31) | active value copy
 *   (bit 2) | state (bits 0..1: EMPTY, READY, DELETED). Every change of a slot is
 *   published by one atomic store of `ctl` that also bumps the version, so a reader
 *   that loads `ctl`, reads key and value, and loads `ctl` again knows its reads were
 *   consistent when the two loads agree (a seqlock).
 * - Values are double-buffered: a writer fills the inactive copy, then flips the
 *   active bit. Readers therefore never wait for a writer, and a writer killed
 *   mid-write leaves the previous value intact (nothing to roll back).
 * - A READY slot changes (value flip, delete) only under its slot lock: the slot's
 *   `owner` word, CAS'd from 0 to the writer's pid. Writers of one key serialise
 *   there; writers of different keys never meet.
 * - A non-READY slot changes (EMPTY/DELETED -> READY on insert, DELETED -> EMPTY on
 *   tombstone cleanup) only under the table's insert lock (owner pid, robust). That
 *   serialises inserts of new keys, which is what makes duplicate keys impossible:
 *   an inserter that holds it and probes its key's whole path without finding it
 *   knows nobody else can add that key before it publishes.
 * - A path ends at an EMPTY slot or after `probeLimit` slots (no key lies further from
 *   home; inserters raise it before publishing), so tombstones can never make
 *   lookups scan the whole table.
 * - Lookups take no lock; updates and deletes of existing keys take only the key's
 *   slot lock; a delete tries (never waits for) the insert lock to clean up.
 * - A lock whose owner pid is no longer alive is taken over with a CAS from the dead
 *   pid. Since every slot change is one store, no repair is needed beyond that.
 */
import { native } from "../../ffi/mod.ts";
import { type ElementType, fnv1a } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { align, Memory } from "../segment/memory.ts";
import { isAlive, me } from "../segment/process.ts";
import type { Placement, StructureSpec } from "../segment/structure.ts";
import { murmur3, murmur3Word, murmur3Words2 } from "./murmur3.ts";

/** Slot states (ctl bits 0..1). */
export const EMPTY = 0;
export const READY = 1;
export const DELETED = 2;
const STATE_MASK = 3;
const ACTIVE_BIT = 4;
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

const SPIN = 64;
/** A parked waiter re-checks its lock's owner for liveness this often. */
const PARK_NS = 2_000_000;
const ETIMEDOUT = 110;
/** Lock words hold the owner's pid (Linux pids are < 2^22) and this bit when someone is parked. */
const WAITING = 0x40000000;
const PID_MASK = 0x3fffffff;

/** Next ctl word: version + 1, with the given state and active copy. */
function bump(ctl: number, state: number, active: number): number {
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

/** What `stats()` reports: a non-atomic scan, for monitoring and tests. */
export interface TableStats {
  /** The entry counter (what `size` returns). */
  readonly size: number;
  /** Most entries the table accepts. */
  readonly capacity: number;
  /** Table length (power of two). */
  readonly slots: number;
  /** Slots seen READY, DELETED (tombstones) and EMPTY during the scan. */
  readonly ready: number;
  readonly tombstones: number;
  readonly empty: number;
  /** Longest probe sequence from a READY key's home slot to the key (1 = at home). */
  readonly maxProbe: number;
  /** The table's probe limit: no lookup probes more slots than this. */
  readonly probeLimit: number;
}

/** Outcomes of the insert path. */
const ABSENT_NO_ROOM = -2;

let myPid = 0;
function pid(): number {
  return myPid || (myPid = me().pid);
}

/**
 * One process's view of one table: layout numbers, a scratch buffer the key is encoded
 * into (so lookups hash and compare bytes without allocating), and the operations.
 * Every method takes the Memory the handle checked was open.
 */
export class HashTable<K, V> {
  readonly name: string;
  readonly key: ElementType<K>;
  readonly value: ElementType<V> | undefined;
  readonly slots: number;
  readonly mask: number;
  readonly capacity: number;
  readonly slotSize: number;
  readonly keyOffset: number;
  readonly keySize: number;
  readonly valueOffset: number;
  readonly valueSize: number;
  /** Byte offsets of the slot array, the insert lock word and the counter. */
  readonly data: number;
  readonly lockAt: number;
  readonly limitAt: number;
  readonly refreshAt: number;
  readonly countAt: number;
  readonly #scratch: Memory;
  readonly #s8: Uint8Array;
  readonly #s32: Uint32Array;
  readonly #keyWords: number;
  readonly #keyTail: number;
  /** 1 for u32 keys, 2 for i32 keys (encoded inline), else 0. */
  readonly #intKey: number;
  /** True while an update callback runs: writes through this handle would deadlock. */
  #inCallback = false;

  constructor(m: Memory, p: Placement, key: ElementType<K>, value: ElementType<V> | undefined) {
    const L = layoutOf(key, value);
    const c = p.control >>> 2;
    const u32 = m.u32;
    const slots = p.capacity;
    const bad = (why: string) => new ShmError("CORRUPT", `"${p.name}": ${why}`);
    if (slots < 1 || slots > MAX_SLOTS || (slots & (slots - 1)) !== 0) {
      throw bad(`slot count ${slots} is not a power of two ≤ 2^30`);
    }
    if (u32[c + (C.format >> 2)] !== TABLE_FORMAT) {
      throw bad(`table format ${u32[c + (C.format >> 2)]}, this library reads ${TABLE_FORMAT}`);
    }
    if (u32[c + (C.hashAlgorithm >> 2)] !== HASH_MURMUR3_32 || u32[c + (C.seed >> 2)] !== HASH_SEED) {
      throw bad("unknown hash algorithm or seed");
    }
    if (
      u32[c + (C.keySize >> 2)] !== L.keySize || u32[c + (C.keyOffset >> 2)] !== L.keyOffset ||
      u32[c + (C.valueSize >> 2)] !== L.valueSize || u32[c + (C.valueOffset >> 2)] !== L.valueOffset ||
      u32[c + (C.slotSize >> 2)] !== L.slotSize || u32[c + (C.slots >> 2)] !== slots ||
      u32[c + (C.keyTypeHash >> 2)] !== key.typeHash || u32[c + (C.valueTypeHash >> 2)] !== (value?.typeHash ?? 0)
    ) {
      throw bad("slot layout in the table header does not match its key and value types");
    }
    const capacity = u32[c + (C.capacity >> 2)];
    if (capacity < 1 || capacity > slots) throw bad(`capacity ${capacity} is not within 1..${slots}`);
    this.name = p.name;
    this.key = key;
    this.value = value;
    this.slots = slots;
    this.mask = slots - 1;
    this.capacity = capacity;
    this.slotSize = L.slotSize;
    this.keyOffset = L.keyOffset;
    this.keySize = L.keySize;
    this.valueOffset = L.valueOffset;
    this.valueSize = L.valueSize;
    this.data = p.data;
    this.lockAt = p.control + C.insertLock;
    this.limitAt = p.control + C.probeLimit;
    this.refreshAt = p.control + C.insertsSinceRefresh;
    this.countAt = p.control + C.count;
    this.#scratch = new Memory(0, new ArrayBuffer(align(key.size, 8) + 8));
    this.#s8 = this.#scratch.u8;
    this.#s32 = this.#scratch.u32;
    this.#keyWords = key.size >>> 2;
    this.#keyTail = key.size & 3;
    this.#intKey = key.name === "u32" && key.typedArray === Uint32Array
      ? 1
      : key.name === "i32" && key.typedArray === Int32Array
      ? 2
      : 0;
  }

  // ---------------------------------------------------------------- keys

  /** Encodes `k` into the scratch buffer (validating it) and returns its hash. */
  hashKey(k: K): number {
    const s32 = this.#s32;
    const int = this.#intKey;
    if (int !== 0 && typeof k === "number") {
      // u32 / i32 keys: validate and encode inline (their bytes are the LE word k >>> 0).
      if (int === 1 ? k >>> 0 === k : (k | 0) === k) {
        s32[0] = k;
        return murmur3Word(k | 0, HASH_SEED);
      }
    }
    this.key.write(this.#scratch, 0, k);
    if (this.keySize === 4) return murmur3Word(s32[0], HASH_SEED);
    if (this.keySize === 8) return murmur3Words2(s32[0], s32[1], HASH_SEED);
    return murmur3(this.#s8, s32, this.keySize, HASH_SEED);
  }

  /** True when the key bytes of the slot at `base` equal the scratch key. */
  #keyEq(m: Memory, base: number): boolean {
    const u32 = m.u32;
    const s32 = this.#s32;
    const kw = (base + this.keyOffset) >>> 2;
    const words = this.#keyWords;
    for (let j = 0; j < words; j++) if (u32[kw + j] !== s32[j]) return false;
    const tail = this.#keyTail;
    if (tail !== 0) {
      const u8 = m.u8;
      const s8 = this.#s8;
      const kb = base + this.keyOffset + (words << 2);
      const sb = words << 2;
      for (let j = 0; j < tail; j++) if (u8[kb + j] !== s8[sb + j]) return false;
    }
    return true;
  }

  /**
   * How many slots a lookup probes at most: no key sits further than this from its home
   * slot (inserters raise it before publishing a key further out), so a lookup stops
   * there even when tombstones have used up the EMPTY slots that normally end a probe.
   */
  #limit(m: Memory): number {
    const l = Atomics.load(m.u32, this.limitAt >>> 2);
    return l < this.slots ? l : this.slots; // (a corrupt value cannot make us loop longer)
  }

  /** Byte offset of the active value copy of a slot whose ctl is `ctl`. */
  #valueAt(base: number, ctl: number): number {
    return base + this.valueOffset + ((ctl & ACTIVE_BIT) === 0 ? 0 : this.valueSize);
  }

  /**
   * Lock-free lookup of the scratch key (hash h): the byte offset of its READY slot,
   * or -1. Probes at most `slots` slots; a slot that changes under the read is re-read
   * (that needs a writer to make progress, so the loop is lock-free).
   */
  find(m: Memory, h: number): number {
    const i32 = m.i32;
    const u32 = m.u32;
    const mask = this.mask;
    const size = this.slotSize;
    const data = this.data;
    const limit = this.#limit(m);
    let i = h & mask;
    for (let n = 0; n < limit;) {
      const base = data + i * size;
      const w = base >>> 2;
      const c = Atomics.load(i32, w);
      const st = c & STATE_MASK;
      if (st === EMPTY) return -1;
      if (st === READY && u32[w + 2] === h) {
        const eq = this.#keyEq(m, base);
        // Key bytes are stable while the version is: a changed version means re-read.
        if (Atomics.load(i32, w) !== c) continue;
        if (eq) return base;
      }
      i = (i + 1) & mask;
      n++;
    }
    return -1;
  }

  /** Lock-free read of the scratch key's value (undefined if absent). */
  get(m: Memory, h: number): V | undefined {
    const i32 = m.i32;
    const u32 = m.u32;
    const mask = this.mask;
    const size = this.slotSize;
    const data = this.data;
    const value = this.value!;
    const limit = this.#limit(m);
    let i = h & mask;
    for (let n = 0; n < limit;) {
      const base = data + i * size;
      const w = base >>> 2;
      const c = Atomics.load(i32, w);
      const st = c & STATE_MASK;
      if (st === EMPTY) return undefined;
      if (st === READY && u32[w + 2] === h) {
        if (this.#keyEq(m, base)) {
          let v: V;
          try {
            v = value.read(m, this.#valueAt(base, c));
          } catch (e) {
            // A torn read can decode to garbage that a type rejects: only real if stable.
            if (Atomics.load(i32, w) !== c) continue;
            throw e;
          }
          if (Atomics.load(i32, w) === c) return v;
          continue;
        }
        if (Atomics.load(i32, w) !== c) continue;
      }
      i = (i + 1) & mask;
      n++;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- locks

  /**
   * Takes the slot lock at `base`: the owner word goes 0 -> pid by CAS. Contended, a
   * waiter sets the WAITING bit and parks on the word (so unlock knows to wake), and
   * after a park that timed out checks whether the owner is alive; a dead owner's
   * lock is taken over by CAS (Drepper's three-state futex mutex, made robust by pid).
   */
  #lockSlot(m: Memory, base: number): void {
    const i32 = m.i32;
    const w = (base >>> 2) + 1;
    const self = pid();
    if (Atomics.compareExchange(i32, w, 0, self) === 0) return;
    this.#lockSlow(m, w, self);
  }

  #lockSlow(m: Memory, w: number, self: number): void {
    const i32 = m.i32;
    let spins = 0;
    // After we have parked once, others may be parked too: acquire with WAITING set.
    let mine = self;
    for (;;) {
      const o = Atomics.load(i32, w);
      if (o === 0) {
        if (Atomics.compareExchange(i32, w, 0, mine) === 0) return;
        continue;
      }
      if (++spins < SPIN) continue;
      if ((o & WAITING) === 0 && Atomics.compareExchange(i32, w, o, o | WAITING) !== o) continue;
      mine = self | WAITING;
      const rc = native().futexWait(m.base, w << 2, o | WAITING, PARK_NS);
      if (rc === -ETIMEDOUT) {
        const owner = Atomics.load(i32, w);
        if (owner !== 0 && !isAlive(owner & PID_MASK)) {
          // Its holder died: the slot is consistent (every change is one ctl store).
          if (Atomics.compareExchange(i32, w, owner, self | WAITING) === owner) return;
        }
      }
    }
  }

  #unlockSlot(m: Memory, base: number): void {
    const w = (base >>> 2) + 1;
    if ((Atomics.exchange(m.i32, w, 0) & WAITING) !== 0) native().futexWake(m.base, w << 2, 1);
  }

  /** Takes the insert lock: the same robust three-state lock as a slot's, on its own cache line. */
  #lockInsert(m: Memory): void {
    const w = this.lockAt >>> 2;
    const self = pid();
    if (Atomics.compareExchange(m.i32, w, 0, self) === 0) return;
    this.#lockSlow(m, w, self);
  }

  #tryLockInsert(m: Memory): boolean {
    return Atomics.compareExchange(m.i32, this.lockAt >>> 2, 0, pid()) === 0;
  }

  #unlockInsert(m: Memory): void {
    if ((Atomics.exchange(m.i32, this.lockAt >>> 2, 0) & WAITING) !== 0) native().futexWake(m.base, this.lockAt, 1);
  }

  /** Finds the scratch key and locks its slot, re-checking under the lock; -1 if absent. */
  #lockKey(m: Memory, h: number): number {
    for (;;) {
      const base = this.find(m, h);
      if (base < 0) return -1;
      this.#lockSlot(m, base);
      if (this.#holds(m, base, h)) return base;
      this.#unlockSlot(m, base); // deleted (maybe reused) between lookup and lock: look again
    }
  }

  /** Under the slot lock: is the slot still READY with the scratch key? */
  #holds(m: Memory, base: number, h: number): boolean {
    const w = base >>> 2;
    return (Atomics.load(m.i32, w) & STATE_MASK) === READY && m.u32[w + 2] === h && this.#keyEq(m, base);
  }

  #checkNotInCallback(): void {
    if (this.#inCallback) {
      throw new ShmError(
        "INVALID_ARGUMENT",
        `"${this.name}": an update() callback cannot write to the same map through the same handle (it holds the key's lock)`,
      );
    }
  }

  // ---------------------------------------------------------------- writes to a locked READY slot

  /** Writes `v` into the inactive copy, then flips it active with one store. Slot lock held. */
  #replace(m: Memory, base: number, v: V): void {
    const w = base >>> 2;
    const c = Atomics.load(m.i32, w);
    const active = c & ACTIVE_BIT;
    if (this.valueSize !== 0) this.value!.write(m, base + this.valueOffset + (active === 0 ? this.valueSize : 0), v);
    Atomics.store(m.i32, w, bump(c, READY, active ^ ACTIVE_BIT));
  }

  /**
   * count - 1, then READY -> DELETED (a tombstone). Slot lock held. The count drops
   * first: otherwise an insert racing this delete in a map at capacity saw the old
   * count and failed with FULL although the key was already on its way out (found by
   * the 4-process set churn test). The price: while a delete is in flight the table
   * may hold one READY slot more than `capacity` (there is always a spare slot unless
   * `slots` was set equal to `capacity`, where that insert reports FULL instead).
   */
  #remove(m: Memory, base: number): void {
    const w = base >>> 2;
    Atomics.sub(m.i32, this.countAt >>> 2, 1);
    Atomics.store(m.i32, w, bump(Atomics.load(m.i32, w), DELETED, 0));
  }

  /**
   * Tombstone cleanup: a DELETED slot whose next slot is EMPTY lies on no key's probe
   * path (linear probing keeps every path free of EMPTY slots), so it can become
   * EMPTY; walking backwards repeats that for a run of tombstones. Insert lock held,
   * which is what keeps the next slot EMPTY while we look.
   */
  #sweepBack(m: Memory, i: number): void {
    const i32 = m.i32;
    const mask = this.mask;
    for (let n = 0; n < this.slots; n++) {
      const nextW = (this.data + ((i + 1) & mask) * this.slotSize) >>> 2;
      if ((Atomics.load(i32, nextW) & STATE_MASK) !== EMPTY) return;
      const w = (this.data + i * this.slotSize) >>> 2;
      const c = Atomics.load(i32, w);
      if ((c & STATE_MASK) !== DELETED) return;
      Atomics.store(i32, w, bump(c, EMPTY, 0));
      i = (i - 1) & mask;
    }
  }

  /** After a delete at slot index i: clean up if the next slot is EMPTY and the insert lock is free. */
  #tidyAfterDelete(m: Memory, base: number): void {
    const i = (base - this.data) / this.slotSize;
    const nextW = (this.data + ((i + 1) & this.mask) * this.slotSize) >>> 2;
    if ((Atomics.load(m.i32, nextW) & STATE_MASK) !== EMPTY) return;
    if (!this.#tryLockInsert(m)) return; // someone is inserting: leave the tombstone for reuse
    try {
      this.#sweepBack(m, i);
    } finally {
      this.#unlockInsert(m);
    }
  }

  // ---------------------------------------------------------------- the insert path

  /**
   * Under the insert lock: probe for the scratch key. Sets `#found` to its READY slot
   * (or -1); else `#target` to the slot to insert into (the first tombstone or EMPTY
   * slot on the path; ABSENT_NO_ROOM if none) and `#targetProbe` to its probe count;
   * `#emptyAt` to the index of the EMPTY slot that ended the probe (-1 if none). Any
   * present key lies within the probe limit, so past it, a free slot is enough to stop.
   */
  #probeLocked(m: Memory, h: number): void {
    const i32 = m.i32;
    const u32 = m.u32;
    const mask = this.mask;
    const limit = this.#limit(m);
    let i = h & mask;
    let free = -1;
    let freeProbe = 0;
    this.#found = -1;
    this.#emptyAt = -1;
    for (let n = 0; n < this.slots; n++) {
      if (n >= limit && free >= 0) break;
      const base = this.data + i * this.slotSize;
      const w = base >>> 2;
      const st = Atomics.load(i32, w) & STATE_MASK;
      if (st === EMPTY) {
        this.#emptyAt = i;
        if (free < 0) {
          free = base;
          freeProbe = n + 1;
        }
        break;
      }
      if (st === DELETED) {
        if (free < 0) {
          free = base;
          freeProbe = n + 1;
        }
      } else if (u32[w + 2] === h && this.#keyEq(m, base)) {
        // READY keys cannot change bytes while we hold the insert lock (re-use needs it).
        this.#found = base;
        return;
      }
      i = (i + 1) & mask;
    }
    this.#target = free >= 0 ? free : ABSENT_NO_ROOM;
    this.#targetProbe = freeProbe;
  }

  /**
   * Raises the probe limit to cover a key about to be published at `#target` (insert
   * lock held). The limit only rises here, so every `slots` inserts it is recomputed
   * from the live keys (no key can appear meanwhile: we hold the insert lock; keys
   * never move; deletes only make the true maximum smaller): one slot scanned per
   * insert, amortised, keeps it near the longest live probe instead of the longest ever.
   */
  #coverTarget(m: Memory): void {
    const u32 = m.u32;
    const w = this.limitAt >>> 2;
    const r = this.refreshAt >>> 2;
    const since = u32[r] + 1;
    if (since >= this.slots) {
      u32[r] = 0;
      Atomics.store(u32, w, Math.max(this.#longestProbe(m), this.#targetProbe));
    } else {
      u32[r] = since;
      if (Atomics.load(u32, w) < this.#targetProbe) Atomics.store(u32, w, this.#targetProbe);
    }
  }

  /** The longest probe (displacement + 1) of any READY key. */
  #longestProbe(m: Memory): number {
    let longest = 0;
    for (let i = 0; i < this.slots; i++) {
      const w = (this.data + i * this.slotSize) >>> 2;
      if ((Atomics.load(m.i32, w) & STATE_MASK) !== READY) continue;
      const probe = ((i - (m.u32[w + 2] & this.mask)) & this.mask) + 1;
      if (probe > longest) longest = probe;
    }
    return longest;
  }
  #targetProbe = 0;
  #found = -1;
  #target = -1;
  #emptyAt = -1;

  /**
   * Writes the scratch key (hash h) and, unless `noValue`, value `v` into the non-READY
   * slot `base`, then publishes it READY. Insert lock held; the caller reserved a count.
   */
  #publish(m: Memory, base: number, h: number, v: V | undefined, noValue: boolean): void {
    const w = base >>> 2;
    const c = Atomics.load(m.i32, w);
    if (this.valueSize !== 0 && !noValue) this.value!.write(m, base + this.valueOffset, v as V);
    m.u32[w + 2] = h;
    m.u8.set(this.#s8.subarray(0, this.keySize), base + this.keyOffset);
    Atomics.store(m.i32, w, bump(c, READY, 0));
  }

  /** Writes the scratch key into a non-READY slot (before a callback may reuse the scratch). */
  #stageKey(m: Memory, base: number, h: number): void {
    m.u32[(base >>> 2) + 2] = h;
    m.u8.set(this.#s8.subarray(0, this.keySize), base + this.keyOffset);
  }

  /** Reserves one entry of capacity (insert lock held, so only deletes race: they only lower it). */
  #reserve(m: Memory): boolean {
    const w = this.countAt >>> 2;
    if (Atomics.load(m.i32, w) >= this.capacity) return false;
    Atomics.add(m.i32, w, 1);
    return true;
  }

  /**
   * Inserts the scratch key with value `v` if absent. Returns 1 inserted, 0 present
   * (and then, if `replace`, its value was replaced), ABSENT_NO_ROOM when full.
   */
  #insertOrReplace(m: Memory, h: number, v: V | undefined, replace: boolean): number {
    this.#lockInsert(m);
    try {
      for (;;) {
        this.#probeLocked(m, h);
        const found = this.#found;
        if (found >= 0) {
          if (!replace) return 0;
          this.#lockSlot(m, found);
          try {
            if (!this.#holds(m, found, h)) continue; // deleted meanwhile: probe again
            this.#replace(m, found, v as V);
            return 0;
          } finally {
            this.#unlockSlot(m, found);
          }
        }
        const target = this.#target;
        if (target < 0) return ABSENT_NO_ROOM;
        if (this.valueSize !== 0) this.value!.write(m, target + this.valueOffset, v as V); // may throw: nothing published
        if (!this.#reserve(m)) return ABSENT_NO_ROOM;
        this.#coverTarget(m);
        this.#publish(m, target, h, v, true);
        if (this.#emptyAt >= 0) this.#sweepBack(m, (this.#emptyAt - 1) & this.mask);
        return 1;
      }
    } finally {
      this.#unlockInsert(m);
    }
  }

  // ---------------------------------------------------------------- operations

  /** Insert or replace. */
  set(m: Memory, k: K, v: V): void {
    this.#checkNotInCallback();
    const h = this.hashKey(k);
    const base = this.#lockKey(m, h);
    if (base >= 0) {
      try {
        this.#replace(m, base, v);
      } finally {
        this.#unlockSlot(m, base);
      }
      return;
    }
    if (this.#insertOrReplace(m, h, v, true) === ABSENT_NO_ROOM) throw this.#full();
  }

  /** Insert only if absent: true if inserted; false if present or the table is full. */
  insert(m: Memory, k: K, v: V | undefined): boolean {
    this.#checkNotInCallback();
    const h = this.hashKey(k);
    if (this.find(m, h) >= 0) return false;
    return this.#insertOrReplace(m, h, v, false) === 1;
  }

  /** Insert only if absent, throwing FULL (not returning false) when there is no room. */
  add(m: Memory, k: K): boolean {
    this.#checkNotInCallback();
    const h = this.hashKey(k);
    if (this.find(m, h) >= 0) return false;
    const r = this.#insertOrReplace(m, h, undefined, false);
    if (r === ABSENT_NO_ROOM) throw this.#full();
    return r === 1;
  }

  /** Removes the key; false if it was absent. */
  delete(m: Memory, k: K): boolean {
    this.#checkNotInCallback();
    const h = this.hashKey(k);
    const base = this.#lockKey(m, h);
    if (base < 0) return false;
    try {
      this.#remove(m, base);
    } finally {
      this.#unlockSlot(m, base);
    }
    this.#tidyAfterDelete(m, base);
    return true;
  }

  /**
   * Applies `fn` to the key's value (undefined if absent) with the key's slot lock held
   * (and, for an absent key, the insert lock), so no other writer of the key can
   * interleave. Returning undefined deletes the key (or leaves it absent).
   */
  update(m: Memory, k: K, fn: (old: V | undefined) => V | undefined): V | undefined {
    this.#checkNotInCallback();
    if (typeof fn !== "function") throw new ShmError("INVALID_ARGUMENT", "update needs a function (old) => new");
    const h = this.hashKey(k);
    const base = this.#lockKey(m, h);
    if (base >= 0) {
      let deleted = false;
      let nv: V | undefined;
      try {
        nv = this.#call(fn, this.value!.read(m, this.#valueAt(base, Atomics.load(m.i32, base >>> 2))));
        if (nv === undefined) {
          this.#remove(m, base);
          deleted = true;
        } else {
          this.#replace(m, base, nv);
        }
      } finally {
        this.#unlockSlot(m, base);
      }
      if (deleted) this.#tidyAfterDelete(m, base);
      return nv;
    }
    this.#lockInsert(m);
    try {
      for (;;) {
        this.#probeLocked(m, h);
        const found = this.#found;
        if (found >= 0) {
          // Inserted by someone else since our lookup: apply fn to that value.
          this.#lockSlot(m, found);
          try {
            if (!this.#holds(m, found, h)) continue;
            const nv = this.#call(fn, this.value!.read(m, this.#valueAt(found, Atomics.load(m.i32, found >>> 2))));
            if (nv === undefined) this.#remove(m, found);
            else this.#replace(m, found, nv);
            return nv;
          } finally {
            this.#unlockSlot(m, found);
          }
        }
        const target = this.#target;
        // The callback may read this map through this handle (reusing the scratch): stage the key first.
        if (target >= 0) this.#stageKey(m, target, h);
        const nv = this.#call(fn, undefined);
        if (nv === undefined) return undefined;
        if (target < 0) throw this.#full();
        this.value!.write(m, target + this.valueOffset, nv);
        if (!this.#reserve(m)) throw this.#full();
        this.#coverTarget(m);
        Atomics.store(m.i32, target >>> 2, bump(Atomics.load(m.i32, target >>> 2), READY, 0));
        if (this.#emptyAt >= 0) this.#sweepBack(m, (this.#emptyAt - 1) & this.mask);
        return nv;
      }
    } finally {
      this.#unlockInsert(m);
    }
  }

  #call(fn: (old: V | undefined) => V | undefined, old: V | undefined): V | undefined {
    this.#inCallback = true;
    try {
      return fn(old);
    } finally {
      this.#inCallback = false;
    }
  }

  /** The entry counter (clamped: a process killed inside a delete can leave it one off, see docs). */
  size(m: Memory): number {
    const n = Atomics.load(m.i32, this.countAt >>> 2);
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
  }

  /**
   * Removes every entry: under the insert lock (no new keys), each READY slot is
   * deleted under its slot lock (a proper delete, so a concurrent reader never sees a
   * key vanish and come back), then every tombstone becomes EMPTY and the counter is
   * set to 0 (which also repairs any drift left by killed processes).
   */
  clear(m: Memory): void {
    this.#checkNotInCallback();
    const i32 = m.i32;
    this.#lockInsert(m);
    try {
      for (let i = 0; i < this.slots; i++) {
        const base = this.data + i * this.slotSize;
        if ((Atomics.load(i32, base >>> 2) & STATE_MASK) !== READY) continue;
        this.#lockSlot(m, base);
        try {
          if ((Atomics.load(i32, base >>> 2) & STATE_MASK) === READY) this.#remove(m, base);
        } finally {
          this.#unlockSlot(m, base);
        }
      }
      for (let i = 0; i < this.slots; i++) {
        const w = (this.data + i * this.slotSize) >>> 2;
        const c = Atomics.load(i32, w);
        if ((c & STATE_MASK) === DELETED) Atomics.store(i32, w, bump(c, EMPTY, 0));
      }
      Atomics.store(i32, this.countAt >>> 2, 0);
      Atomics.store(m.u32, this.limitAt >>> 2, 0);
    } finally {
      this.#unlockInsert(m);
    }
  }

  /**
   * Reads slot `i` if it is READY: returns false if not; else sets `lastKey` (and
   * `lastValue`) from one consistent version of the slot.
   */
  readSlot(m: Memory, i: number, withValue: boolean): boolean {
    const base = this.data + i * this.slotSize;
    const w = base >>> 2;
    for (;;) {
      const c = Atomics.load(m.i32, w);
      if ((c & STATE_MASK) !== READY) return false;
      let k: K;
      let v: V | undefined;
      try {
        k = this.key.read(m, base + this.keyOffset);
        v = withValue && this.valueSize !== 0 ? this.value!.read(m, this.#valueAt(base, c)) : undefined;
      } catch (e) {
        if (Atomics.load(m.i32, w) !== c) continue;
        throw e;
      }
      if (Atomics.load(m.i32, w) !== c) continue;
      this.lastKey = k;
      this.lastValue = v;
      return true;
    }
  }
  lastKey: K | undefined;
  lastValue: V | undefined;

  stats(m: Memory): TableStats {
    let ready = 0, tombstones = 0, empty = 0, maxProbe = 0;
    for (let i = 0; i < this.slots; i++) {
      const base = this.data + i * this.slotSize;
      const w = base >>> 2;
      const st = Atomics.load(m.i32, w) & STATE_MASK;
      if (st === READY) {
        ready++;
        const home = m.u32[w + 2] & this.mask;
        maxProbe = Math.max(maxProbe, ((i - home) & this.mask) + 1);
      } else if (st === DELETED) tombstones++;
      else empty++;
    }
    return {
      size: this.size(m),
      capacity: this.capacity,
      slots: this.slots,
      ready,
      tombstones,
      empty,
      maxProbe,
      probeLimit: this.#limit(m),
    };
  }

  #full(): ShmError {
    return new ShmError("FULL", `"${this.name}" is full (capacity ${this.capacity} entries in ${this.slots} slots)`);
  }
}
