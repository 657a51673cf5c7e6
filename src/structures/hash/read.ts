/**
 * The engine under SharedMap and SharedSet, read side: one process's view of a
 * fixed-size open-addressing hash table (linear probing, MurmurHash3_x86_32 over the
 * encoded key) and its lock-free lookups. `table.ts` adds the writes.
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
import { ShmError } from "../../errors.ts";
import type { ElementType } from "../../segment/elements.ts";
import type { Memory } from "../../segment/memory.ts";
import type { Placement } from "../../segment/structure.ts";
import { KeyCodec } from "./key_codec.ts";
import {
  ACTIVE_BIT,
  C,
  DELETED,
  EMPTY,
  HASH_MURMUR3_32,
  HASH_SEED,
  layoutOf,
  MAX_SLOTS,
  READY,
  STATE_MASK,
  TABLE_FORMAT,
  type TableStats,
} from "./layout.ts";

/**
 * Layout numbers of one table, checked against its header on open, and the lookups.
 * Every method takes the Memory the handle checked was open.
 */
export class HashReader<K, V> {
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
  /** Encodes, hashes and compares keys without allocating. */
  readonly codec: KeyCodec<K>;

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
    this.codec = new KeyCodec(key);
  }

  // ---------------------------------------------------------------- keys

  /** Encodes `k` into the codec's scratch buffer (validating it) and returns its hash. */
  hashKey(k: K): number {
    return this.codec.hash(k);
  }

  /** True when the key bytes of the slot at `base` equal the scratch key. */
  keyEq(m: Memory, base: number): boolean {
    return this.codec.equals(m, base + this.keyOffset);
  }

  /**
   * How many slots a lookup probes at most: no key sits further than this from its home
   * slot (inserters raise it before publishing a key further out), so a lookup stops
   * there even when tombstones have used up the EMPTY slots that normally end a probe.
   */
  limit(m: Memory): number {
    const l = Atomics.load(m.u32, this.limitAt >>> 2);
    return l < this.slots ? l : this.slots; // (a corrupt value cannot make us loop longer)
  }

  /** Byte offset of the active value copy of a slot whose ctl is `ctl`. */
  valueAt(base: number, ctl: number): number {
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
    const limit = this.limit(m);
    let i = h & mask;
    for (let n = 0; n < limit;) {
      const base = data + i * size;
      const w = base >>> 2;
      const c = Atomics.load(i32, w);
      const st = c & STATE_MASK;
      if (st === EMPTY) return -1;
      if (st === READY && u32[w + 2] === h) {
        const eq = this.keyEq(m, base);
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
    const limit = this.limit(m);
    let i = h & mask;
    for (let n = 0; n < limit;) {
      const base = data + i * size;
      const w = base >>> 2;
      const c = Atomics.load(i32, w);
      const st = c & STATE_MASK;
      if (st === EMPTY) return undefined;
      if (st === READY && u32[w + 2] === h) {
        if (this.keyEq(m, base)) {
          let v: V;
          try {
            v = value.read(m, this.valueAt(base, c));
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

  /** The entry counter (clamped: a process killed inside a delete can leave it one off, see docs). */
  size(m: Memory): number {
    const n = Atomics.load(m.i32, this.countAt >>> 2);
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
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
        v = withValue && this.valueSize !== 0 ? this.value!.read(m, this.valueAt(base, c)) : undefined;
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
      probeLimit: this.limit(m),
    };
  }
}
