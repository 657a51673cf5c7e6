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
 *   line 1   committed i32 @+64  length: every index below it is published or a hole
 *            holes     u32 @+68  indexes marked as holes (their appender died)
 *   data     capacity elements, contiguous, element i at data + i * elemSize,
 *            then capacity ready flags (i32, 1 = published, 2 = hole) at data + align(capacity * elemSize, 4),
 *            then (64-aligned) the appenders' claim records (claim_records.ts: pos = index
 *            being written or −1 before the reservation, n = 1 while appending)
 */
import { assertElementType, type ElementType, type NumericView } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement, type StructureSpec } from "../segment/structure.ts";
import { ClaimRecords, R_N, R_POS, RECORD_WORDS, recordBytes, recordCount, Stall } from "./claim_records.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";

/** Largest capacity (indexes, including overshoot by racing appenders, stay well inside int32). */
export const VECTOR_MAX_CAPACITY = 2 ** 30;

const RESERVED = 0;
const COMMITTED = 64;
const HOLES = 68;
const PUBLISHED = 1;
const HOLE = 2;

function flagsOffset(capacity: number, size: number): number {
  return Math.ceil((capacity * size) / 4) * 4;
}

function recordsOffset(capacity: number, size: number): number {
  return Math.ceil((flagsOffset(capacity, size) + capacity * 4) / 64) * 64;
}

function spec<T>(type: ElementType<T>, maxProcesses: number): StructureSpec {
  assertElementType(type);
  return {
    kind: Kind.VECTOR,
    type,
    controlBytes: 128,
    dataBytes: (n) => recordsOffset(n, type.size) + recordBytes(maxProcesses),
  };
}

/**
 * An append-only vector shared between processes.
 *
 * Algorithm: reserve-write-publish. An appender claims an index with one atomic
 * fetch-and-add on `reserved`, writes the element into that slot, then sets the slot's
 * ready flag (a release store). `length` is the *contiguous published prefix*: a
 * `committed` counter that every appender, after publishing, advances with CAS over
 * consecutive ready flags (the last of a group of racing appenders always finishes the
 * job). So every index below `length` holds a fully written element or a hole (below),
 * `get(i)` also returns elements published beyond the prefix, and nothing is ever
 * visible before it is written.
 *
 * Crashes (docs/RELIABILITY.md, "Vector holes"): every appender names the index it is
 * writing in its claim record (−1 from just before its reservation until it knows the
 * index). If an appender dies between reserving and publishing, the prefix stops at its
 * index only until an appender or a `length` read has seen it stalled for 2 ms and
 * found no live appender that may be writing it: that index becomes a *hole* (flag 2,
 * counted in `stats.holes`) and `length` moves on. A hole is never an element: `get(i)`
 * returns undefined and `has(i)` false for it, `toArray()` and iteration skip it; a
 * `view()` spans it with whatever bytes the dead appender left (check `has(i)`). The
 * element being appended is lost (its push never returned); nothing acknowledged is.
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
  readonly #holes: number;
  readonly #scratch: Memory;
  readonly #recs: ClaimRecords;
  readonly #stall = new Stall();
  // Committed length last seen, and whether any hole existed then: below it, with no
  // hole, `get` needs no flag check. (A hole is counted before its flag is set, so a
  // hole below a committed length read first is always seen by the holes read after.)
  #known = 0;
  #anyHole = true;

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    if (!(p.capacity >= 1 && p.capacity <= VECTOR_MAX_CAPACITY)) {
      throw new ShmError("CORRUPT", `vector "${p.name}" claims capacity ${p.capacity} > ${VECTOR_MAX_CAPACITY}`);
    }
    this.capacity = p.capacity;
    this.type = type;
    this.#size = type.size;
    this.#data = p.data;
    this.#flags = (p.data + flagsOffset(p.capacity, type.size)) >> 2;
    this.#reserved = (p.control + RESERVED) >> 2;
    this.#committed = (p.control + COMMITTED) >> 2;
    this.#holes = (p.control + HOLES) >> 2;
    this.#recs = ClaimRecords.claim(this.m, p.data + recordsOffset(p.capacity, type.size), recordCount(seg.maxProcesses), p.name);
    this.#scratch = new Memory(0, new ArrayBuffer(Math.ceil(type.size / 64) * 64));
  }

  /** Creates an empty vector that can hold `capacity` elements (1 to 2^30). EXISTS if the name is taken. */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Vector<T> {
    const s = spec(type, seg.maxProcesses);
    checkCapacity(capacity, "vector capacity", VECTOR_MAX_CAPACITY);
    return new Vector(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing vector; TYPE_MISMATCH if it holds another type, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): Vector<T> {
    return new Vector(seg, seg.openEntry(name, spec(type, seg.maxProcesses)), type);
  }

  /** Opens the vector, or creates it with `capacity` if it does not exist. */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Vector<T> {
    const s = spec(type, seg.maxProcesses);
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
    const own = this.#recs.own;
    i32[own + R_POS] = -1; // "reserving, index unknown": published to hole finders by the add below
    i32[own + R_N] = 1;
    const i = Atomics.add(i32, this.#reserved, 1);
    i32[own + R_POS] = i;
    if (i >= this.capacity || i < 0) {
      Atomics.store(i32, own + R_N, 0);
      if (i < 0) throw this.#damaged("reserved", i); // a write at a negative index would land in the previous structure
      return -1;
    }
    if (PAUSE_POINT !== undefined) pauseHere("vector.push.reserved");
    this.type.write(m, this.#data + i * this.#size, value);
    Atomics.store(i32, this.#flags + i, PUBLISHED); // publish only after the element is written
    Atomics.store(i32, own + R_N, 0);
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
    return new ShmError(
      "CORRUPT",
      `vector "${this.name}": ${what} counter ${v} outside [0, ${this.capacity}]; its memory is damaged`,
    );
  }

  /** The committed length, range-checked. */
  #committedNow(i32: Int32Array): number {
    const c = Atomics.load(i32, this.#committed);
    if (!(c >= 0 && c <= this.capacity)) throw this.#damaged("committed", c);
    return c;
  }

  /** Moves `committed` over every consecutive published slot or hole (helping other appenders); returns it. */
  #advance(i32: Int32Array): number {
    let c = this.#committedNow(i32);
    for (;;) {
      while (c < this.capacity && Atomics.load(i32, this.#flags + c) !== 0) {
        const found = Atomics.compareExchange(i32, this.#committed, c, c + 1);
        c = found === c ? c + 1 : found;
        if (!(c >= 0 && c <= this.capacity)) throw this.#damaged("committed", c);
      }
      // Stalled at c with c reserved: its appender is slow, or dead (then c becomes a hole).
      if (c >= this.capacity || Atomics.load(i32, this.#reserved) <= c || !this.#stall.due(1, c) || !this.#holeAt(i32, c)) {
        this.#see(i32, c);
        return c;
      }
    }
  }

  /**
   * Marks index `c` (reserved, unpublished) a hole if no live appender may be writing
   * it: none whose record names c, or is between "reserving" and knowing its index.
   * The caller read `reserved` past c first, so every reservation of c is visible here.
   */
  #holeAt(i32: Int32Array, c: number): boolean {
    const recs = this.#recs;
    for (let k = 0; k < recs.count; k++) {
      const b = recs.base + k * RECORD_WORDS;
      if (Atomics.load(i32, b + R_N) !== 1) continue;
      const pos = Atomics.load(i32, b + R_POS);
      if ((pos === c || pos === -1) && recs.alive(i32, b)) return false;
    }
    Atomics.add(i32, this.#holes, 1); // counted first: see #known
    if (Atomics.compareExchange(i32, this.#flags + c, 0, HOLE) !== 0) Atomics.sub(i32, this.#holes, 1); // published (or marked) meanwhile
    return true;
  }

  /** Records a committed length `c` just read, and whether holes exist (read after it). */
  #see(i32: Int32Array, c: number): void {
    this.#known = c;
    this.#anyHole = Atomics.load(i32, this.#holes) !== 0;
  }

  /** Length, indexes handed out, and indexes skipped as holes after their appender died (docs/RELIABILITY.md). */
  get stats(): { readonly length: number; readonly reserved: number; readonly holes: number } {
    const i32 = this.mem().i32;
    return { length: this.length, reserved: this.reserved, holes: Atomics.load(i32, this.#holes) >>> 0 };
  }

  /** True if `index` is a hole: reserved by an appender that died before publishing it. */
  isHole(index: number): boolean {
    const m = this.mem();
    if (!(index >= 0 && index < this.capacity && Number.isInteger(index))) return false;
    return Atomics.load(m.i32, this.#flags + index) === HOLE;
  }

  /** Gives the claim record back when the last handle in this Segment closes. */
  override close(): void {
    if (!this.closed) this.#recs.release(this.m);
    super.close();
  }

  /**
   * The element at `index` if it is published, else undefined (claimed but still being
   * written, never appended, or a hole). OUT_OF_RANGE outside [0, capacity).
   */
  get(index: number): T | undefined {
    const m = this.mem();
    if (!(index >= 0 && index < this.capacity && Number.isInteger(index))) {
      throw new ShmError("OUT_OF_RANGE", `index ${index} is outside "${this.name}" [0, ${this.capacity})`);
    }
    if (index >= this.#known || this.#anyHole) {
      if (index >= this.#known) this.#see(m.i32, this.#committedNow(m.i32));
      if ((index >= this.#known || this.#anyHole) && Atomics.load(m.i32, this.#flags + index) !== PUBLISHED) return undefined;
    }
    return this.type.read(m, this.#data + index * this.#size);
  }

  /** True if the element at `index` has been published. */
  has(index: number): boolean {
    const m = this.mem();
    if (!(index >= 0 && index < this.capacity && Number.isInteger(index))) return false;
    return Atomics.load(m.i32, this.#flags + index) === PUBLISHED;
  }

  /**
   * Number of indexes in the contiguous prefix: each of 0..length-1 is published, or a
   * hole (an appender died there; `get` returns undefined). Moves the prefix on first.
   */
  get length(): number {
    const i32 = this.mem().i32;
    const c = this.#committedNow(i32);
    if (c < this.capacity && Atomics.load(i32, this.#reserved) > c) return this.#advance(i32);
    this.#see(i32, c);
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

  /** Copies the published prefix (a snapshot of `length`) into a JS array, without its holes. */
  toArray(): T[] {
    const n = this.length;
    const m = this.mem();
    const out: T[] = [];
    const holes = Atomics.load(m.i32, this.#holes) !== 0;
    for (let i = 0; i < n; i++) {
      if (holes && Atomics.load(m.i32, this.#flags + i) !== PUBLISHED) continue;
      out.push(this.type.read(m, this.#data + i * this.#size));
    }
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

  /** Iterates the published prefix as it was when iteration started, without its holes. */
  *[Symbol.iterator](): Iterator<T> {
    const n = this.length;
    for (let i = 0; i < n; i++) {
      const v = this.get(i);
      if (v !== undefined || !this.isHole(i)) yield v as T;
    }
  }
}
