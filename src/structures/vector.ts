/**
 * Vector<T>: an append-only array in shared memory, up to a fixed capacity, that
 * several processes append to at once (shmap's ShmVector, minus its bug of publishing
 * the new size before the element was written).
 *
 * Layout of the block (docs/FORMAT.md has the byte-level version):
 *
 *   header   64 bytes (structure header, capacity)
 *   line 0   reserved  i32 @+0   indexes handed out so far (may run past capacity by
 *                                the number of appenders that raced a full vector)
 *   line 1   committed i32 @+64  length: every index below it is published
 *   data     capacity elements, contiguous, element i at data + i * elemSize,
 *            then capacity ready flags (i32, 1 = published) at data + align(capacity * elemSize, 4)
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement, type StructureSpec } from "../segment/structure.ts";

/** Largest capacity (indexes, including overshoot by racing appenders, stay well inside int32). */
export const VECTOR_MAX_CAPACITY = 2 ** 30;

const RESERVED = 0;
const COMMITTED = 64;

function flagsOffset(capacity: number, size: number): number {
  return Math.ceil((capacity * size) / 4) * 4;
}

function spec<T>(type: ElementType<T>): StructureSpec {
  assertElementType(type);
  return { kind: Kind.VECTOR, type, controlBytes: 128, dataBytes: (n) => flagsOffset(n, type.size) + n * 4 };
}

/**
 * The typed array `Vector.view()` returns.
 *
 * @example
 * ```ts
 * import { Segment, type NumericView, u32, Vector } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-nview-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const v = Vector.create(seg, "v", u32, 16);
 * v.push(7);
 * const view: NumericView = v.view();
 * assert.equal(view[0], 7);
 * ```
 */
export type NumericView = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;

/**
 * An append-only vector shared between processes.
 *
 * Algorithm: reserve-write-publish. An appender claims an index with one atomic
 * fetch-and-add on `reserved`, writes the element into that slot, then sets the slot's
 * ready flag (a release store). `length` is the *contiguous published prefix*: a
 * `committed` counter that every appender, after publishing, advances with CAS over
 * consecutive ready flags (the last of a group of racing appenders always finishes the
 * job). So every index below `length` holds a fully written element, `get(i)` also
 * returns elements published beyond the prefix, and nothing is ever visible before it is
 * written. If an appender dies between claiming and publishing, `length` stops at its
 * index for good (later elements stay readable through `get`).
 *
 * @example
 * ```ts
 * import { f64, Segment, Vector } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-vector-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const log = Vector.create(seg, "log", f64, 1 << 16);
 * const i = log.push(2.5); // in any process
 * assert.equal(log.get(i), 2.5);
 * assert.equal(log.length, 1);
 * ```
 */
export class Vector<T> extends Handle implements Iterable<T> {
  /** Most elements the vector can ever hold. */
  readonly capacity: number;
  /** The element type. */
  readonly type: ElementType<T>;
  readonly #size: number;
  readonly #data: number;
  readonly #flags: number; // i32 index of flag 0
  readonly #reserved: number; // i32 indexes
  readonly #committed: number;
  readonly #scratch: Memory;
  #known = 0; // committed length last seen: indexes below it need no flag check

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    if (!(p.capacity >= 1 && p.capacity <= VECTOR_MAX_CAPACITY)) throw new ShmError("CORRUPT", `vector "${p.name}" claims capacity ${p.capacity} > ${VECTOR_MAX_CAPACITY}`);
    this.capacity = p.capacity;
    this.type = type;
    this.#size = type.size;
    this.#data = p.data;
    this.#flags = (p.data + flagsOffset(p.capacity, type.size)) >> 2;
    this.#reserved = (p.control + RESERVED) >> 2;
    this.#committed = (p.control + COMMITTED) >> 2;
    this.#scratch = new Memory(0, new ArrayBuffer(Math.ceil(type.size / 64) * 64));
  }

  /** Creates an empty vector that can hold `capacity` elements (1 to 2^30). EXISTS if the name is taken. */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Vector<T> {
    const s = spec(type);
    checkCapacity(capacity, "vector capacity", VECTOR_MAX_CAPACITY);
    return new Vector(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing vector; TYPE_MISMATCH if it holds another type, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): Vector<T> {
    return new Vector(seg, seg.openEntry(name, spec(type)), type);
  }

  /** Opens the vector, or creates it with `capacity` if it does not exist. */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Vector<T> {
    const s = spec(type);
    checkCapacity(capacity, "vector capacity", VECTOR_MAX_CAPACITY);
    return new Vector(seg, seg.openOrCreateEntry(name, s, capacity), type);
  }

  /**
   * Appends `value` and returns its index, or -1 (claiming nothing) when full. A value
   * that does not fit the type throws INVALID_ARGUMENT before an index is claimed.
   */
  tryPush(value: T): number {
    const m = this.mem();
    const i32 = m.i32;
    this.type.write(this.#scratch, 0, value); // validate first: a claimed index must be published
    // Check before adding so a full vector's counter does not run on without bound.
    if (Atomics.load(i32, this.#reserved) >= this.capacity) return -1;
    const i = Atomics.add(i32, this.#reserved, 1);
    if (i >= this.capacity) return -1;
    if (i < 0) throw this.#damaged("reserved", i); // a write at a negative index would land in the previous structure
    this.type.write(m, this.#data + i * this.#size, value);
    Atomics.store(i32, this.#flags + i, 1); // publish only after the element is written
    this.#advance(i32);
    return i;
  }

  /** Appends `value` and returns its index; throws FULL when the vector is full. */
  push(value: T): number {
    const i = this.tryPush(value);
    if (i < 0) throw new ShmError("FULL", `vector "${this.name}" is full (capacity ${this.capacity})`);
    return i;
  }

  /** The control words are untrusted: a counter outside [0, capacity] is damage, never an index. */
  #damaged(what: string, v: number): ShmError {
    return new ShmError("CORRUPT", `vector "${this.name}": ${what} counter ${v} outside [0, ${this.capacity}]; its memory is damaged`);
  }

  /** The committed length, range-checked. */
  #committedNow(i32: Int32Array): number {
    const c = Atomics.load(i32, this.#committed);
    if (!(c >= 0 && c <= this.capacity)) throw this.#damaged("committed", c);
    return c;
  }

  /** Moves `committed` over every consecutive published slot (helping other appenders). */
  #advance(i32: Int32Array): void {
    let c = this.#committedNow(i32);
    while (c < this.capacity && Atomics.load(i32, this.#flags + c) === 1) {
      const found = Atomics.compareExchange(i32, this.#committed, c, c + 1);
      c = found === c ? c + 1 : found;
      if (!(c >= 0 && c <= this.capacity)) throw this.#damaged("committed", c);
    }
    this.#known = c;
  }

  /**
   * The element at `index` if it is published, else undefined (claimed but still being
   * written, or never appended). OUT_OF_RANGE outside [0, capacity).
   */
  get(index: number): T | undefined {
    const m = this.mem();
    if (!(index >= 0 && index < this.capacity && Number.isInteger(index))) {
      throw new ShmError("OUT_OF_RANGE", `index ${index} is outside "${this.name}" [0, ${this.capacity})`);
    }
    if (index >= this.#known) {
      this.#known = this.#committedNow(m.i32);
      if (index >= this.#known && Atomics.load(m.i32, this.#flags + index) !== 1) return undefined;
    }
    return this.type.read(m, this.#data + index * this.#size);
  }

  /** True if the element at `index` has been published. */
  has(index: number): boolean {
    const m = this.mem();
    if (!(index >= 0 && index < this.capacity && Number.isInteger(index))) return false;
    return Atomics.load(m.i32, this.#flags + index) === 1;
  }

  /** Number of elements in the contiguous published prefix: indexes 0..length-1 are all readable. */
  get length(): number {
    const c = this.#committedNow(this.mem().i32);
    this.#known = c;
    return c;
  }

  /** Indexes handed out so far, published or still being written (at most capacity). */
  get reserved(): number {
    const r = Atomics.load(this.mem().i32, this.#reserved);
    if (r < 0) throw this.#damaged("reserved", r);
    return r > this.capacity ? this.capacity : r;
  }

  /** True when every index has been handed out. */
  get isFull(): boolean {
    return this.reserved === this.capacity;
  }

  /** Copies the published prefix (a snapshot of `length`) into a JS array. */
  toArray(): T[] {
    const n = this.length;
    const m = this.mem();
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = this.type.read(m, this.#data + i * this.#size);
    return out;
  }

  /**
   * A zero-copy typed array over the published prefix (numeric element types only). It
   * does not grow: take a new view to see later elements.
   */
  view(): NumericView {
    const n = this.length;
    const ctor = this.type.typedArray;
    if (!ctor) throw new ShmError("TYPE_MISMATCH", `${this.type.name} elements have no typed array view; use get()`);
    // Its own buffer over the elements: transferring it detaches nothing else (Memory.viewBuffer).
    return new ctor(this.mem().viewBuffer(this.#data, n * this.type.size), 0, n) as NumericView;
  }

  /** Iterates the published prefix as it was when iteration started. */
  *[Symbol.iterator](): Iterator<T> {
    const n = this.length;
    for (let i = 0; i < n; i++) yield this.get(i) as T;
  }
}
