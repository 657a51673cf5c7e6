/**
 * SharedSet<K>: a fixed-capacity hash set in shared memory, the same table as
 * SharedMap with no value in its slots.
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { Handle } from "../segment/handle.ts";
import { HashTable } from "./hash/table.ts";
import { slotsFor, tableSpec, type TableStats } from "./hash/layout.ts";
import { Kind } from "../segment/kinds.ts";
import type { HashTableOptions } from "./map.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";

const MAX_CAPACITY = 2 ** 30;

/**
 * A hash set in shared memory: open addressing with linear probing, MurmurHash3_x86_32
 * over the key's bytes, per-slot seqlock versions, and a robust insert lock that
 * serialises only the insertion of new keys (docs/MAP.md). `has`, `size` and
 * iteration are lock-free; `delete` locks only the key's slot; `add` of a new key
 * takes the insert lock briefly.
 *
 * @example
 * ```ts
 * import { Segment, SharedSet, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-set-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const seen = SharedSet.openOrCreate(seg, "seen", u32, 10_000);
 * assert.equal(seen.add(42), true); // exactly one process sees true for each id
 * assert.equal(seen.add(42), false);
 * assert.ok(seen.has(42) && seen.size === 1);
 * ```
 */
export class SharedSet<K> extends Handle implements Iterable<K> {
  /** The key type. */
  readonly keyType: ElementType<K>;
  /** Most keys the set holds (add of a new key beyond it throws FULL). */
  readonly capacity: number;
  /** Table length (a power of two ≥ capacity). */
  readonly slots: number;
  readonly #t: HashTable<K, never>;

  private constructor(seg: Segment, p: Placement, key: ElementType<K>) {
    super(seg, p);
    this.keyType = key;
    this.#t = new HashTable<K, never>(seg.memory, p, key, undefined);
    this.capacity = this.#t.capacity;
    this.slots = this.#t.slots;
  }

  /** Creates an empty set for up to `capacity` keys. EXISTS if the name is taken. */
  static create<K>(
    seg: Segment,
    name: string,
    key: ElementType<K>,
    capacity: number,
    options: HashTableOptions = {},
  ): SharedSet<K> {
    assertElementType(key, "key type");
    checkCapacity(capacity, "set capacity", MAX_CAPACITY);
    const slots = slotsFor(capacity, options.slots);
    return new SharedSet(seg, seg.createEntry(name, tableSpec(Kind.SET, key, undefined, capacity), slots), key);
  }

  /** Opens an existing set; TYPE_MISMATCH if its key type differs, NOT_FOUND if absent. */
  static open<K>(seg: Segment, name: string, key: ElementType<K>): SharedSet<K> {
    assertElementType(key, "key type");
    return new SharedSet(seg, seg.openEntry(name, tableSpec(Kind.SET, key, undefined, 1)), key);
  }

  /** Opens the set, or creates it (as `create`) if it does not exist; safe when processes race. */
  static openOrCreate<K>(
    seg: Segment,
    name: string,
    key: ElementType<K>,
    capacity: number,
    options: HashTableOptions = {},
  ): SharedSet<K> {
    assertElementType(key, "key type");
    checkCapacity(capacity, "set capacity", MAX_CAPACITY);
    const slots = slotsFor(capacity, options.slots);
    return new SharedSet(seg, seg.openOrCreateEntry(name, tableSpec(Kind.SET, key, undefined, capacity), slots), key);
  }

  /**
   * Adds `key`: true if it was added, false if it was already present (when processes
   * add the same key at once, exactly one gets true). A new key beyond `capacity`
   * throws FULL.
   */
  add(key: K): boolean {
    const m = this.mem();
    return this.#t.add(m, key);
  }

  /** Like add, but returns false instead of throwing FULL when there is no room. */
  insert(key: K): boolean {
    const m = this.mem();
    return this.#t.insert(m, key, undefined);
  }

  /** True if `key` is present. Lock-free. */
  has(key: K): boolean {
    const m = this.mem();
    return this.#t.find(m, this.#t.hashKey(key)) >= 0;
  }

  /** Removes `key`; false if it was absent. */
  delete(key: K): boolean {
    const m = this.mem();
    return this.#t.delete(m, key);
  }

  /** Number of keys (an atomic counter). */
  get size(): number {
    return this.#t.size(this.mem());
  }

  /** Removes every key (a sequence of deletes during which no key can be added). */
  clear(): void {
    const m = this.mem();
    this.#t.clear(m);
  }

  /**
   * Iterates the keys over a weakly consistent snapshot: each key yielded was present at
   * some moment during the iteration; a key present throughout is yielded exactly once;
   * keys added or deleted meanwhile may or may not be seen.
   */
  *keys(): IterableIterator<K> {
    const t = this.#t;
    for (let i = 0; i < t.slots; i++) {
      if (t.readSlot(this.mem(), i, false)) yield t.lastKey as K;
    }
  }

  /** Same as keys() (as for JS Set). */
  values(): IterableIterator<K> {
    return this.keys();
  }

  /** Same as keys(). */
  [Symbol.iterator](): IterableIterator<K> {
    return this.keys();
  }

  /** Slot usage from one non-atomic scan: keys, tombstones, empty slots, longest probe. */
  stats(): TableStats {
    return this.#t.stats(this.mem());
  }
}
