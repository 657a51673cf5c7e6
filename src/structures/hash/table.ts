/**
 * The engine under SharedMap and SharedSet, write side: inserts under the table's
 * insert lock, replaces and deletes under the key's slot lock, tombstone cleanup and
 * the probe limit. The protocol and its reasons are in `read.ts` and docs/MAP.md.
 */
import { ShmError } from "../../errors.ts";
import type { Memory } from "../../segment/memory.ts";
import { ACTIVE_BIT, bump, DELETED, EMPTY, READY, STATE_MASK } from "./layout.ts";
import { HashReader } from "./read.ts";
import { lockWord, tryLockWord, unlockWord } from "./slot_lock.ts";

/** Outcomes of the insert path. */
const ABSENT_NO_ROOM = -2;

/** A table a process can write: lookups (HashReader) plus every write. */
export class HashTable<K, V> extends HashReader<K, V> {
  /** True while an update callback runs: writes through this handle would deadlock. */
  #inCallback = false;

  // ---------------------------------------------------------------- locks (slot_lock.ts)

  /** Takes the slot lock: the slot's `owner` word, just after its ctl word. */
  #lockSlot(m: Memory, base: number): void {
    lockWord(m, (base >>> 2) + 1);
  }

  #unlockSlot(m: Memory, base: number): void {
    unlockWord(m, (base >>> 2) + 1);
  }

  /** Takes the insert lock: the same robust lock as a slot's, on its own cache line. */
  #lockInsert(m: Memory): void {
    lockWord(m, this.lockAt >>> 2);
  }

  #tryLockInsert(m: Memory): boolean {
    return tryLockWord(m, this.lockAt >>> 2);
  }

  #unlockInsert(m: Memory): void {
    unlockWord(m, this.lockAt >>> 2);
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
    return (Atomics.load(m.i32, w) & STATE_MASK) === READY && m.u32[w + 2] === h && this.keyEq(m, base);
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
    const limit = this.limit(m);
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
      } else if (st !== READY) {
        // State 3 is never written: a corrupt slot, which no insert may reuse or match.
        throw new ShmError("CORRUPT", `"${this.name}": slot ${i} has the invalid state ${st}`);
      } else if (u32[w + 2] === h && this.keyEq(m, base)) {
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
    this.codec.copyTo(m, base + this.keyOffset);
    Atomics.store(m.i32, w, bump(c, READY, 0));
  }

  /** Writes the scratch key into a non-READY slot (before a callback may reuse the scratch). */
  #stageKey(m: Memory, base: number, h: number): void {
    m.u32[(base >>> 2) + 2] = h;
    this.codec.copyTo(m, base + this.keyOffset);
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
        nv = this.#call(fn, this.value!.read(m, this.valueAt(base, Atomics.load(m.i32, base >>> 2))));
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
            const nv = this.#call(fn, this.value!.read(m, this.valueAt(found, Atomics.load(m.i32, found >>> 2))));
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

  #full(): ShmError {
    return new ShmError("FULL", `"${this.name}" is full (capacity ${this.capacity} entries in ${this.slots} slots)`);
  }
}
