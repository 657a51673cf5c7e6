/**
 * SharedArray<T>: a fixed-length array of elements in a segment, read and written in
 * place. Numeric arrays also offer a zero-copy typed array view.
 */
import { assertElementType, type ElementType, type StructType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement, type StructureSpec } from "../segment/structure.ts";

const MAX_LENGTH = 2 ** 31; // a segment is at most 2 GiB

function spec<T>(type: ElementType<T>): StructureSpec {
  assertElementType(type);
  return { kind: Kind.ARRAY, type, controlBytes: 0, dataBytes: (n) => n * type.size };
}

/**
 * The typed array `SharedArray.view()` returns: a number type's or a bigint type's.
 *
 * @example
 * ```ts
 * import { i32, Segment, SharedArray, type View } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-view-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", i32, 8);
 * const v: View<number> = xs.view();
 * Atomics.add(v as Int32Array, 0, 5); // typed-array tools work on shared elements
 * assert.equal(xs.get(0), 5);
 * ```
 */
export type View<T> = T extends number
  ? Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array
  : T extends bigint ? BigInt64Array | BigUint64Array
  : never;

/**
 * A fixed-length array of elements shared between processes (bounds-checked, validated writes).
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-array-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", f64, 1000);
 * xs.set(0, 3.14);
 * xs.fill(1, 1); // indices 1..999
 * const v = xs.view(); // zero-copy Float64Array over the shared elements
 * v[2] = 2;
 * assert.equal(xs.get(2), 2);
 * assert.deepEqual(xs.toArray().slice(0, 4), [3.14, 1, 2, 1]);
 * ```
 */
export class SharedArray<T> extends Handle implements Iterable<T> {
  /** Number of elements. */
  readonly length: number;
  /** The element type. */
  readonly type: ElementType<T>;
  readonly #data: number;
  readonly #size: number;
  /** Numeric kinds: a typed array over the elements, so get/set cost one indexed access. */
  readonly #fast: { [i: number]: T } | undefined;
  readonly #accepts: ((v: T) => boolean) | undefined;

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    this.length = p.capacity;
    this.type = type;
    this.#data = p.data;
    this.#size = type.size;
    if (type.typedArray && type.accepts) {
      this.#fast = new type.typedArray(seg.memory.buffer, p.data, p.capacity) as unknown as { [i: number]: T };
      this.#accepts = type.accepts;
    }
  }

  /** Creates an array of `length` zeroed elements named `name`. EXISTS if the name is taken. */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, length: number): SharedArray<T> {
    const s = spec(type);
    checkCapacity(length, "array length", MAX_LENGTH);
    return new SharedArray(seg, seg.createEntry(name, s, length), type);
  }

  /** Opens an existing array; TYPE_MISMATCH if it holds another type, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): SharedArray<T> {
    return new SharedArray(seg, seg.openEntry(name, spec(type)), type);
  }

  /** Opens the array, or creates it with `length` elements if it does not exist. */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, length: number): SharedArray<T> {
    const s = spec(type);
    checkCapacity(length, "array length", MAX_LENGTH);
    return new SharedArray(seg, seg.openOrCreateEntry(name, s, length), type);
  }

  #at(index: number): number {
    if (!(index >= 0 && index < this.length && Number.isInteger(index))) throw this.#outOfRange(index);
    return this.#data + index * this.#size;
  }

  #outOfRange(index: unknown): ShmError {
    return new ShmError("OUT_OF_RANGE", `index ${String(index)} is outside "${this.name}" [0, ${this.length})`);
  }

  /** The element at `index` (OUT_OF_RANGE outside [0, length)). */
  get(index: number): T {
    const m = this.mem();
    const fast = this.#fast;
    if (fast !== undefined) {
      // A typed array yields undefined for any index outside [0, length) or not an integer.
      const v = fast[index];
      // (typeof: a numeric string such as "1" would index the typed array too.)
      if (v === undefined || typeof index !== "number") throw this.#outOfRange(index);
      return v;
    }
    return this.type.read(m, this.#at(index));
  }

  /** Writes the element at `index`; a value that does not fit the type is rejected and nothing is written. */
  set(index: number, value: T): void {
    const m = this.mem();
    const fast = this.#fast;
    if (fast !== undefined) {
      if (!(index >>> 0 === index && index < this.length)) throw this.#outOfRange(index);
      if (!this.#accepts!(value)) this.type.write(m, this.#data, value); // throws the type's error
      fast[index] = value;
      return;
    }
    this.type.write(m, this.#at(index), value);
  }

  /** Reads one field of a struct element without building the whole object. */
  getField(index: number, field: string): unknown {
    const m = this.mem();
    const f = this.#field(field);
    return f.type.read(m, this.#at(index) + f.offset);
  }

  /** Writes one field of a struct element in place. */
  setField(index: number, field: string, value: unknown): void {
    const m = this.mem();
    const f = this.#field(field);
    f.type.write(m, this.#at(index) + f.offset, value);
  }

  #field(field: string) {
    const fields = (this.type as unknown as StructType<T>).fields;
    const f = fields?.[field];
    if (!f) throw new ShmError("INVALID_ARGUMENT", `${this.type.name} has no field "${field}"`);
    return f;
  }

  /** Sets elements [start, end) to `value` (like Array.prototype.fill). */
  fill(value: T, start = 0, end: number = this.length): this {
    const m = this.mem();
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.length || start > end) {
      throw new ShmError("OUT_OF_RANGE", `fill range [${start}, ${end}) is outside "${this.name}" [0, ${this.length})`);
    }
    if (start === end) return this;
    const first = this.#data + start * this.#size;
    this.type.write(m, first, value);
    // Copy the first element's bytes: exact for every type, and fast.
    for (let i = start + 1; i < end; i++) m.u8.copyWithin(this.#data + i * this.#size, first, first + this.#size);
    return this;
  }

  /** A zero-copy typed array over the elements (numeric element types only). It reads as empty once the segment is closed. */
  view(): View<T> {
    const m = this.mem();
    const ctor = this.type.typedArray;
    if (!ctor) throw new ShmError("TYPE_MISMATCH", `${this.type.name} elements have no typed array view; use get/set`);
    // Its own buffer over the elements: transferring it detaches nothing else (Memory.viewBuffer).
    return new ctor(m.viewBuffer(this.#data, this.length * this.#size), 0, this.length) as unknown as View<T>;
  }

  /** Copies all elements into a JS array. */
  toArray(): T[] {
    const m = this.mem();
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.type.read(m, this.#data + i * this.#size);
    return out;
  }

  /** Iterates over the elements in index order. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}
