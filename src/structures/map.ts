/**
 * SharedMap<K, V>: a fixed-capacity hash map in shared memory that many processes
 * read and write at once. Keys are any fixed-size element type, compared by their
 * encoded bytes; values are any element type.
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { Handle } from "../segment/handle.ts";
import { HashTable } from "./hash/table.ts";
import { slotsFor, tableSpec, type TableStats } from "./hash/layout.ts";
import { Kind } from "../segment/kinds.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";

export type { TableStats } from "./hash/layout.ts";

/**
 * Creation options of SharedMap and SharedSet.
 *
 * @example
 * ```ts
 * import { Segment, SharedSet, type HashTableOptions, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-opts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const options: HashTableOptions = { slots: 64 }; // allow a 100% load
 * const ids = SharedSet.create(seg, "ids", u32, 64, options);
 * assert.equal(ids.slots, 64);
 * ```
 */
export interface HashTableOptions {
  /**
   * Table length: a power of two ≥ capacity (at most 2^30). Default: the next power of
   * two ≥ capacity / 0.75, so a full table stays ≤ 75% loaded and probes stay short.
   * Give `slots: capacity` (a power of two) to allow a 100% load.
   */
  slots?: number;
}

const MAX_CAPACITY = 2 ** 30;

function check(key: ElementType<unknown>, value: ElementType<unknown>): void {
  assertElementType(key, "key type");
  assertElementType(value, "value type");
}

/**
 * A hash map in shared memory: open addressing with linear probing over a fixed
 * power-of-two slot array, MurmurHash3_x86_32 over the key's bytes, per-slot
 * seqlock versions with double-buffered values (readers never wait and never see a
 * torn value), per-slot robust locks for writers of one key, and a robust insert
 * lock that serialises only the insertion of new keys (docs/MAP.md).
 *
 * What is lock-free: `get`, `has`, `size`, iteration. `set`/`update` of an existing
 * key and `delete` lock only that key's slot. Inserting a new key (and `clear`) takes
 * the table's insert lock for a few hundred nanoseconds. A process killed while
 * holding any of these locks is detected (by pid) and its lock taken over; because
 * every change is published by one atomic store, nothing is half-done.
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedMap, string } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-map-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const prices = SharedMap.create(seg, "prices", string(12), f64, 10_000);
 * prices.set("AAPL", 231.5);
 * prices.update("hits", (n) => (n ?? 0) + 1);
 * assert.equal(prices.get("AAPL"), 231.5);
 * assert.deepEqual([...prices.keys()].sort(), ["AAPL", "hits"]);
 * ```
 */
export class SharedMap<K, V> extends Handle implements Iterable<[K, V]> {
  /** The key type. */
  readonly keyType: ElementType<K>;
  /** The value type. */
  readonly valueType: ElementType<V>;
  /** Most entries the map holds (set of a new key beyond it throws FULL). */
  readonly capacity: number;
  /** Table length (a power of two ≥ capacity). */
  readonly slots: number;
  readonly #t: HashTable<K, V>;

  private constructor(seg: Segment, p: Placement, key: ElementType<K>, value: ElementType<V>) {
    super(seg, p);
    this.keyType = key;
    this.valueType = value;
    this.#t = new HashTable(seg.memory, p, key, value);
    this.capacity = this.#t.capacity;
    this.slots = this.#t.slots;
  }

  /**
   * Creates an empty map for up to `capacity` entries. EXISTS if the name is taken.
   * Memory: slots × (12-byte header + key + 2 × value, aligned) bytes (docs/MAP.md).
   */
  static create<K, V>(
    seg: Segment,
    name: string,
    key: ElementType<K>,
    value: ElementType<V>,
    capacity: number,
    options: HashTableOptions = {},
  ): SharedMap<K, V> {
    check(key, value);
    checkCapacity(capacity, "map capacity", MAX_CAPACITY);
    const slots = slotsFor(capacity, options.slots);
    return new SharedMap(seg, seg.createEntry(name, tableSpec(Kind.MAP, key, value, capacity), slots), key, value);
  }

  /** Opens an existing map; TYPE_MISMATCH if its key or value type differs, NOT_FOUND if absent. */
  static open<K, V>(seg: Segment, name: string, key: ElementType<K>, value: ElementType<V>): SharedMap<K, V> {
    check(key, value);
    return new SharedMap(seg, seg.openEntry(name, tableSpec(Kind.MAP, key, value, 1)), key, value);
  }

  /** Opens the map, or creates it (as `create`) if it does not exist; safe when processes race. */
  static openOrCreate<K, V>(
    seg: Segment,
    name: string,
    key: ElementType<K>,
    value: ElementType<V>,
    capacity: number,
    options: HashTableOptions = {},
  ): SharedMap<K, V> {
    check(key, value);
    checkCapacity(capacity, "map capacity", MAX_CAPACITY);
    const slots = slotsFor(capacity, options.slots);
    return new SharedMap(seg, seg.openOrCreateEntry(name, tableSpec(Kind.MAP, key, value, capacity), slots), key, value);
  }

  /** The value of `key`, or undefined. Lock-free: never waits, even for a writer of this key. */
  get(key: K): V | undefined {
    const m = this.mem();
    return this.#t.get(m, this.#t.hashKey(key));
  }

  /** True if `key` is present. Lock-free. */
  has(key: K): boolean {
    const m = this.mem();
    return this.#t.find(m, this.#t.hashKey(key)) >= 0;
  }

  /**
   * Inserts or replaces. A replaced value becomes visible in one atomic step; a new key
   * beyond `capacity` throws FULL (nothing is written). Returns this map.
   */
  set(key: K, value: V): this {
    const m = this.mem();
    this.#t.set(m, key, value);
    return this;
  }

  /** Inserts only if `key` is absent: true if inserted, false if present or the map is full. */
  insert(key: K, value: V): boolean {
    const m = this.mem();
    return this.#t.insert(m, key, value);
  }

  /** Removes `key`; false if it was absent. Its slot becomes a tombstone that later inserts reuse. */
  delete(key: K): boolean {
    const m = this.mem();
    return this.#t.delete(m, key);
  }

  /**
   * Replaces the value of `key` by `fn(old)` (old is undefined when absent) atomically
   * with respect to every other writer of `key`, in every process: `fn` runs while the
   * key's slot lock is held. Returning undefined deletes the key (or keeps it absent).
   * Returns the new value. `fn` must be quick and must not write to this map (doing so
   * through this handle throws INVALID_ARGUMENT; through another handle it would
   * deadlock); reading it is fine. If `fn` throws, nothing changes.
   *
   * @example
   * ```ts
   * import { Segment, SharedMap, string, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-update-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const hits = SharedMap.create(seg, "hits", string(32), u32, 1000);
   * for (const path of ["/", "/about", "/"]) hits.update(path, (n) => (n ?? 0) + 1); // an exact shared counter per key
   * assert.equal(hits.get("/"), 2);
   * ```
   */
  update(key: K, fn: (old: V | undefined) => V | undefined): V | undefined {
    const m = this.mem();
    return this.#t.update(m, key, fn);
  }

  /** Number of entries (an atomic counter, exact while no process is killed mid-operation). */
  get size(): number {
    return this.#t.size(this.mem());
  }

  /**
   * Removes every entry. Not atomic as a whole: it is a sequence of deletes during
   * which no new key can be inserted (inserters wait); lookups keep running.
   */
  clear(): void {
    const m = this.mem();
    this.#t.clear(m);
  }

  /**
   * Iterates [key, value] pairs in slot order over a weakly consistent snapshot: each
   * pair yielded was in the map at some moment during the iteration and is read
   * consistently (never torn); a key present and unchanged throughout is yielded
   * exactly once; keys inserted, deleted or updated meanwhile may or may not be seen
   * (a key deleted and re-inserted meanwhile may be seen twice).
   */
  *entries(): IterableIterator<[K, V]> {
    const t = this.#t;
    for (let i = 0; i < t.slots; i++) {
      if (t.readSlot(this.mem(), i, true)) yield [t.lastKey as K, t.lastValue as V];
    }
  }

  /** The keys, with the same semantics as entries(). */
  *keys(): IterableIterator<K> {
    const t = this.#t;
    for (let i = 0; i < t.slots; i++) {
      if (t.readSlot(this.mem(), i, false)) yield t.lastKey as K;
    }
  }

  /** The values, with the same semantics as entries(). */
  *values(): IterableIterator<V> {
    const t = this.#t;
    for (let i = 0; i < t.slots; i++) {
      if (t.readSlot(this.mem(), i, true)) yield t.lastValue as V;
    }
  }

  /** Same as entries(). */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Slot usage from one non-atomic scan: entries, tombstones, empty slots, longest probe. */
  stats(): TableStats {
    return this.#t.stats(this.mem());
  }
}
