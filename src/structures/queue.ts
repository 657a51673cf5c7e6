/**
 * Queue<T>: a bounded FIFO that any number of producer and consumer processes use at
 * once (MPMC), lock-free.
 *
 * Algorithm: Dmitry Vyukov's bounded MPMC queue (1024cores.net, "Bounded MPMC
 * queue"). Every slot carries a sequence number that says whose turn it is: a slot
 * with sequence `pos` is free for the producer of position `pos`; sequence `pos + 1`
 * means it holds the element of position `pos`, ready for that position's consumer,
 * who sets it to `pos + ring` to hand it to the producer of the next lap. Producers
 * and consumers claim positions with a CAS on their own counter, then touch only
 * their slot; the element is written before its sequence is published, and read
 * before the slot is handed back.
 *
 * Positions are free-running 32-bit counters compared with wrap-around arithmetic
 * (`((a - b) | 0) < 0`), which is exact while the ring has at most 2^30 slots, so a
 * queue keeps working after 2^32 operations.
 *
 * Crashes (docs/RELIABILITY.md): before each claim CAS a process writes which
 * position(s) it claims into its claim record (claim_records.ts); a consumer that
 * finds a position claimed but unpublished for STALL_MS, with no live process's record
 * naming it, skips it; a producer that finds last lap's slot claimed by a consumer
 * but never handed back does the same and hands it back (vyukov_repair.ts). So a
 * process killed inside push or pop costs at most the element it was pushing or
 * popping (never one a push acknowledged and no pop returned; pushBulk/popBulk: the
 * batch in flight), nothing is delivered twice, and no capacity is lost; `stats`
 * counts the repairs. A worker *thread* killed inside an operation while its process
 * lives is not detected (its claim looks live).
 *
 * Block layout (after the 64-byte structure header, see docs/FORMAT.md):
 *   control +0    u32 enqueue position (written by producers)   own 64-byte line
 *   control +64   u32 dequeue position (written by consumers)   own 64-byte line
 *   data          `ring` slots of `stride` bytes: u32 sequence, then the element at
 *                 `elemOffset` (4, or the element's alignment if larger)
 *   control +8    eventcount "not empty" (seq i32, waiters i32): popWait/popAsync park here
 *   control +72   eventcount "not full" (seq i32, waiters i32): pushWait/pushAsync park here
 *   control +16   u32 positions skipped after a dead producer, +20 u32 slots handed back after a dead consumer
 *   data + align64(ring × stride)   claim records (claim_records.ts), maxProcesses + 16 of 64 bytes
 * `ring` is the capacity rounded up to a power of two (at least 2). A capacity that is not a power
 * of two is supported: producers then also check `enqueue - dequeue < capacity`,
 * which costs one extra load per push; power-of-two capacities skip it.
 */
import { type ElementType, fastKind, type NumericView, structReadInto } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { FAST_BYTES, FAST_NONE, FAST_OK, FAST_POP_CHECKED, FAST_PUSH_CHECKED, FAST_SLOW, FAST_STATUS } from "../../ffi/native.ts";
import { bindBytes, bindMpmc, type BytesCalls, fastError, type MpmcPlace } from "./fast_path.ts";
import { Handle } from "../segment/handle.ts";
import type { Selectable } from "../wait/select.ts";
import { HANDED_BACK, MAX_QUEUE_CAPACITY, type QueueStats, SKIPPED, spec } from "./queue_layout.ts";
import { PAUSE_POINT } from "./pause.ts";
import { waitStalled, waitStalledAsync } from "./stall_wait.ts";
import { type BulkOut, type FastBulk, popBulk, popBulkFast, pushBulk, pushBulkFast } from "./queue_bulk.ts";
import { type QueueCore, queueCore, tryPopTs, tryPushTs } from "./queue_core.ts";
import { QueueViews } from "./struct_views.ts";
import { checkBulkTarget } from "./span_copy.ts";
import type { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";
import { type AsyncWaitOptions, checkAborted, type WaitOptions } from "../wait/wait.ts";

export { MAX_QUEUE_CAPACITY, type QueueStats } from "./queue_layout.ts";

let setPositions: (q: Queue<unknown>, pos: number) => void;

/**
 * A bounded multi-producer multi-consumer FIFO queue in shared memory (Vyukov's
 * bounded MPMC algorithm, lock-free). Every process that opens it by name may push
 * and pop at once; each element is delivered exactly once and, per producer, in the
 * order it was pushed.
 *
 * `push` throws FULL and `pop` throws EMPTY; `tryPush` returns false and `tryPop`
 * returns undefined instead.
 *
 * @example
 * ```ts
 * import { Queue, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-queue-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const jobs = Queue.create(seg, "jobs", u32, 1024);
 * jobs.push(42);
 * jobs.pushBulk([43, 44]);
 * assert.equal(jobs.tryPop(), 42);
 * assert.deepEqual(jobs.popBulk(10), [43, 44]);
 * assert.equal(jobs.tryPop(), undefined);
 * ```
 */
export class Queue<T> extends Handle {
  /** The element type. */
  readonly type: ElementType<T>;
  /** Most elements the queue holds. */
  readonly capacity: number;
  /** Geometry, claim record and the rest the TypeScript paths use (queue_core.ts, queue_bulk.ts). */
  readonly #core: QueueCore<T>;
  /**
   * Native fast path (zig/fastpath.zig `shmkit_mpmc_*`): one FFI call per tryPush /
   * tryPop of a numeric element, writing the claim record word for word as the
   * TypeScript path below does (record, CAS, slot, sequence store, clear, wake). -1:
   * not used — other element types, and whenever SHMKIT_TEST_PAUSE_AT is set (pause
   * points live in the TypeScript path, so the crash suite drives that path).
   * Where the TypeScript path would start a repair (a claimed, unfinished slot) the
   * native call returns FAST_SLOW having claimed nothing, and the TypeScript path runs.
   */
  readonly #fastKind: number;
  /**
   * The native calls with every argument but the value bound (as SpscQueue: one closure
   * call, no field loads); bound when #fastKind >= 0, undefined otherwise.
   */
  readonly #pushN: ((v: number) => number) | undefined;
  readonly #popN: (() => number) | undefined;
  readonly #status: Int32Array | undefined;
  /** The native bulk calls (pushBulk / popBulk / popBulkInto), bound when #fastKind >= 0. */
  readonly #bulk: FastBulk | undefined;
  /** True for element types whose values are numbers (a fast-path kind, used or not). */
  readonly #numeric: boolean;
  /**
   * Every other element type (structs, strings, arrays, bigint): one native call per
   * tryPush / tryPop too, the element's bytes crossing through a private scratch block
   * that the type's own `write` fills (and so checks) and its `read` reads back
   * (zig/fastpath.zig `shmkit_mpmc_*_bytes`; the same record protocol and FAST_SLOW as
   * the numeric calls). Undefined where #fastKind would be -1 for the same reason, for
   * numeric types, and for slots of 64 KiB or more (the layout word's stride is 16 bits).
   */
  readonly #bytes: BytesCalls | undefined;
  /** The struct type's in-place reader (tryPopInto), or undefined for other types. */
  readonly #readInto: ((m: Memory, o: number, target: T) => T) | undefined;
  /** tryPopView's and staging()'s views, made at the first call of either. */
  #views: QueueViews<T> | undefined;
  /** The type's `read`, bound once (#tryPopTs takes a reader: this one, or tryPopInto's). */
  readonly #read: (m: Memory, o: number) => T;

  static {
    setPositions = (q, pos) => q.#setPositions(pos);
  }

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    if (p.capacity > MAX_QUEUE_CAPACITY) throw new ShmError("CORRUPT", `queue "${p.name}" claims capacity ${p.capacity}`);
    this.type = type;
    this.capacity = p.capacity;
    const c = this.#core = queueCore(this.m, p, type, seg.maxProcesses);
    const { elemOffset, stride } = c;
    const kind = fastKind(type as ElementType<unknown>);
    // Every numeric kind, i64AsNumber / u64AsNumber too (the native code reads unaligned-safe).
    this.#fastKind = PAUSE_POINT === undefined && kind !== undefined ? kind : -1;
    const place: MpmcPlace = {
      control: p.control,
      data: p.data,
      ring: c.ring,
      capacity: p.capacity,
      layout: (kind ?? FAST_BYTES) | (elemOffset << 8) | (stride << 16),
      record: c.rp << 2,
    };
    // Only the calls this element type uses are bound (binding costs most of an open).
    const fast = this.#fastKind >= 0 ? bindMpmc(this.m, place) : undefined;
    this.#pushN = fast?.push;
    this.#popN = fast?.pop;
    this.#status = fast?.state.words;
    this.#numeric = kind !== undefined;
    // `layout` holds the stride in 16 bits: a slot of 64 KiB or more takes the TypeScript path.
    this.#bytes = PAUSE_POINT === undefined && kind === undefined && stride <= 0xffff
      ? bindBytes(this.m, place, type.size)
      : undefined;
    this.#readInto = structReadInto(type);
    this.#read = (mem, o) => type.read(mem, o);
    this.#bulk = fast && {
      push: fast.pushBulk,
      pop: fast.popBulk,
      values: fast.buffer.values,
      status: fast.state.words,
      error: (code, value) => this.#fastError(code, value),
    };
  }

  /** Gives the claim record back when the last handle of this queue in the Segment closes. */
  override close(): void {
    if (!this.closed) this.#core.recs.release(this.m);
    super.close();
  }

  /**
   * Creates a queue of `capacity` elements (1 to 2^30; any integer — a power of two
   * saves one load per push). EXISTS if the name is taken.
   */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Queue<T> {
    const s = spec(type as ElementType<unknown>, seg.maxProcesses);
    checkCapacity(capacity, "queue capacity", MAX_QUEUE_CAPACITY);
    return new Queue(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing queue; TYPE_MISMATCH if it is not a Queue of `type`, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): Queue<T> {
    return new Queue(seg, seg.openEntry(name, spec(type as ElementType<unknown>, seg.maxProcesses)), type);
  }

  /** Opens the queue, or creates it with `capacity` if it does not exist (atomic across processes). */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Queue<T> {
    const s = spec(type as ElementType<unknown>, seg.maxProcesses);
    checkCapacity(capacity, "queue capacity", MAX_QUEUE_CAPACITY);
    return new Queue(seg, seg.openOrCreateEntry(name, s, capacity), type);
  }

  /** Appends `value`; false if the queue is full. INVALID_ARGUMENT (nothing queued) if it does not fit the type. */
  tryPush(value: T): boolean {
    const m = this.mem();
    if (this.#fastKind >= 0 && typeof value === "number") {
      const rc = this.#pushN!(value);
      if (rc === FAST_OK) return true;
      if (rc === FAST_NONE) return false;
      if (rc !== FAST_SLOW) throw this.#fastError(rc, value);
    } else if (this.#bytes !== undefined) {
      const b = this.#bytes;
      this.type.write(b.scratch, 0, value); // checks it: INVALID_ARGUMENT before anything is claimed
      const rc = b.push();
      if (rc === FAST_OK) return true;
      if (rc === FAST_NONE) return false;
      if (rc !== FAST_SLOW) throw this.#fastError(rc, value);
    }
    return tryPushTs(this.#core, m, value);
  }

  /** Appends `value`; throws FULL if the queue is full. */
  push(value: T): void {
    if (!this.tryPush(value)) throw new ShmError("FULL", `queue "${this.name}" is full (capacity ${this.capacity})`);
  }

  /** Removes and returns the oldest element, or undefined if the queue is empty. */
  tryPop(): T | undefined {
    const m = this.mem();
    if (this.#fastKind >= 0) {
      const v = this.#popN!();
      if (v === v) return v as T;
      const status = this.#status![FAST_STATUS];
      if (status === FAST_OK) return v as T; // the element was NaN
      if (status === FAST_NONE) return undefined;
      if (status !== FAST_SLOW) throw this.#fastError(status, undefined);
    } else if (this.#bytes !== undefined) {
      const b = this.#bytes;
      const rc = b.pop();
      if (rc === FAST_OK) return this.type.read(b.scratch, 0);
      if (rc === FAST_NONE) return undefined;
      if (rc !== FAST_SLOW) throw this.#fastError(rc, undefined);
    }
    return tryPopTs(this.#core, m, this.#read);
  }

  /**
   * Removes the oldest element into `target`, an object of the struct type's shape, and
   * returns `target`; undefined if the queue is empty. No object is allocated, so a
   * consumer loop can reuse one result object; make it with the type's `create()` (on
   * Deno a literal target boxes every double stored into it). Struct element types only
   * (INVALID_ARGUMENT otherwise).
   *
   * @example
   * ```ts
   * import { f64, Queue, Segment, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-queue-into-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const Tick = struct({ id: u32, price: f64 });
   * const q = Queue.create(seg, "ticks", Tick, 64);
   * q.push({ id: 1, price: 10.5 });
   * q.push({ id: 2, price: 11 });
   * const t = Tick.create(); // one object for every pop (not a literal: see StructType.create)
   * assert.equal(q.tryPopInto(t), t);
   * assert.deepEqual(t, { id: 1, price: 10.5 });
   * q.tryPopInto(t);
   * assert.deepEqual(t, { id: 2, price: 11 });
   * assert.equal(q.tryPopInto(t), undefined);
   * ```
   */
  tryPopInto(target: T): T | undefined {
    const m = this.mem();
    const into = this.#readInto;
    if (into === undefined) {
      throw new ShmError("INVALID_ARGUMENT", `tryPopInto needs a struct element type, not ${this.type.name}`);
    }
    if (typeof target !== "object" || target === null) throw new ShmError("INVALID_ARGUMENT", "tryPopInto needs a target object");
    const b = this.#bytes;
    if (b !== undefined) {
      const rc = b.pop();
      if (rc === FAST_OK) return into(b.scratch, 0, target);
      if (rc === FAST_NONE) return undefined;
      if (rc !== FAST_SLOW) throw this.#fastError(rc, undefined);
    }
    return tryPopTs(this.#core, m, (mem, o) => into(mem, o, target));
  }

  /**
   * Removes the oldest element and returns this handle's view of it, or undefined if
   * empty: a read-only object whose fields are getters over the popped bytes, so nothing
   * is copied into an object: on Deno, filling one costs more than the pop; on Bun,
   * tryPopInto is as fast or faster (docs/BENCHMARKS.md). Always the same object, valid
   * until this handle's next push or pop, which reuse its bytes: read what you need, or
   * copy it out with `type.read`. Its fields are not own properties (`{ ...view }` is
   * empty). Struct element types only (INVALID_ARGUMENT otherwise).
   *
   * @example
   * ```ts
   * import { f64, Queue, Segment, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-q-view-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const Order = struct({ id: u32, price: f64 });
   * const q = Queue.create(seg, "orders", Order, 16);
   * q.push({ id: 1, price: 10.5 });
   * const o = q.tryPopView()!;
   * assert.equal(o.id, 1);
   * assert.equal(o.price, 10.5);
   * assert.equal(q.tryPopView(), undefined);
   * ```
   */
  tryPopView(): Readonly<T> | undefined {
    const m = this.mem();
    const views = this.#structViews();
    const view = views.popped("tryPopView");
    const b = this.#bytes;
    if (b !== undefined) {
      const rc = b.pop();
      if (rc === FAST_OK) return view;
      if (rc === FAST_NONE) return undefined;
      if (rc !== FAST_SLOW) throw this.#fastError(rc, undefined);
    }
    return tryPopTs(this.#core, m, views.readPopped);
  }

  /**
   * This handle's staging struct: one writable object (always the same) whose fields
   * are setters into a private block, for building the next element in place and
   * pushing it with `tryPushStaged` / `pushStaged`. Each assignment is checked as the
   * type's `write` checks that field (INVALID_ARGUMENT, the field unchanged); fields
   * keep their values between pushes (all zero at first), and no pop touches them.
   * Why: on Deno, filling an object and pushing it costs a 64-byte struct ~22 ns, the
   * setters ~8 (docs/BENCHMARKS.md). A nested struct or string field reads as a new
   * value: assign the whole field to change it. The object is not extensible (a
   * misspelt field throws) and is itself a valid value of the type (`push(view)`
   * works, as do the waits). Struct element types only (INVALID_ARGUMENT otherwise).
   *
   * @example
   * ```ts
   * import { f64, Queue, Segment, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-q-stage-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const Order = struct({ id: u32, price: f64 });
   * const q = Queue.create(seg, "orders", Order, 16);
   * const o = q.staging();
   * for (let i = 1; i <= 3; i++) {
   *   o.id = i;
   *   o.price = 10 * i;
   *   assert.equal(q.tryPushStaged(), true);
   * }
   * assert.throws(() => (o.id = -1), { code: "INVALID_ARGUMENT" });
   * assert.deepEqual([q.pop(), q.pop(), q.pop()], [{ id: 1, price: 10 }, { id: 2, price: 20 }, { id: 3, price: 30 }]);
   * ```
   */
  staging(): T {
    this.mem(); // CLOSED once closed
    return this.#structViews().staging("staging");
  }

  /** This handle's struct views (tryPopView, staging), made at the first use. */
  #structViews(): QueueViews<T> {
    return this.#views ??= new QueueViews(this.type, this.#bytes);
  }

  /**
   * Appends a copy of the staging struct (`staging()`); false if the queue is full
   * (the staged fields stay as they are, for a retry). Its fields were checked when
   * they were assigned, so nothing here can be INVALID_ARGUMENT but a non-struct type.
   *
   * @example
   * ```ts
   * import { f64, Queue, Segment, struct } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-q-trystaged-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const P = struct({ x: f64, y: f64 });
   * const q = Queue.create(seg, "p", P, 1);
   * const p = q.staging();
   * p.x = 1;
   * p.y = 2;
   * assert.equal(q.tryPushStaged(), true);
   * assert.equal(q.tryPushStaged(), false); // full
   * assert.deepEqual(q.pop(), { x: 1, y: 2 });
   * ```
   */
  tryPushStaged(): boolean {
    const m = this.mem();
    if (this.#readInto === undefined) this.#structViews().staging("tryPushStaged"); // throws: not a struct
    const b = this.#bytes;
    if (b !== undefined) {
      const rc = b.pushStaged();
      if (rc === FAST_OK) return true;
      if (rc === FAST_NONE) return false;
      if (rc !== FAST_SLOW) throw this.#fastError(rc, undefined);
    }
    return tryPushTs(this.#core, m, this.#structViews().stagedValue());
  }

  /**
   * As tryPushStaged, but throws FULL if the queue is full.
   *
   * @example
   * ```ts
   * import { Queue, Segment, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-q-pushstaged-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const q = Queue.create(seg, "ids", struct({ id: u32 }), 1);
   * q.staging().id = 7;
   * q.pushStaged();
   * assert.throws(() => q.pushStaged(), { code: "FULL" });
   * assert.deepEqual(q.pop(), { id: 7 });
   * ```
   */
  pushStaged(): void {
    if (!this.tryPushStaged()) throw new ShmError("FULL", `queue "${this.name}" is full (capacity ${this.capacity})`);
  }

  /**
   * As tryPopInto, but throws EMPTY if the queue is empty.
   *
   * @example
   * ```ts
   * import { f64, Queue, Segment, struct } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-queue-popinto-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const V = struct({ x: f64, y: f64 });
   * const q = Queue.create(seg, "v", V, 4);
   * q.push({ x: 1, y: 2 });
   * const v = { x: 0, y: 0 };
   * assert.deepEqual(q.popInto(v), { x: 1, y: 2 });
   * assert.throws(() => q.popInto(v), { code: "EMPTY" });
   * ```
   */
  popInto(target: T): T {
    const v = this.tryPopInto(target);
    if (v === undefined) throw new ShmError("EMPTY", `queue "${this.name}" is empty`);
    return v;
  }

  /** The error for a negative native result (zig/fastpath.zig codes), as the TypeScript path reports it. */
  #fastError(code: number, value: unknown): Error {
    const corrupt = "slot sequence ahead of its position counter";
    return fastError(code, value, { name: this.name, typeName: this.type.name, staging: this.#core.staging, corrupt });
  }

  /** Removes and returns the oldest element; throws EMPTY if the queue is empty. */
  pop(): T {
    const v = this.tryPop();
    if (v === undefined) throw new ShmError("EMPTY", `queue "${this.name}" is empty`);
    return v;
  }

  /**
   * Appends as many of `values` as fit, in order, claiming runs of slots with one CAS;
   * returns how many were pushed (fewer than values.length when the queue fills up).
   * Every value is validated first: one bad value throws INVALID_ARGUMENT with nothing pushed.
   * `values` may be an array or, for numeric element types, a typed array; numeric
   * elements move in native calls of up to BULK_CHUNK (fast_path.ts) elements each.
   */
  pushBulk(values: ArrayLike<T>): number {
    const m = this.mem();
    if (this.#fastKind >= 0) return pushBulkFast(this.#core as QueueCore<unknown> as QueueCore<number>, m, this.#bulk!, values);
    return pushBulk(this.#core, m, values);
  }

  /**
   * Removes up to `max` elements (oldest first), claiming runs of slots with one CAS,
   * and appends them to `out` (a new array by default), which it returns. For numeric
   * element types without an array per call: `popBulkInto`.
   */
  popBulk(max: number, out: T[] = []): T[] {
    const m = this.mem();
    if (!(Number.isInteger(max) && max >= 0)) {
      throw new ShmError("INVALID_ARGUMENT", `popBulk max must be a non-negative integer, got ${max}`);
    }
    if (this.#fastKind < 0) return popBulk(this.#core, m, max, out);
    popBulkFast(this.#core as QueueCore<unknown> as QueueCore<number>, m, this.#bulk!, max, out as unknown as number[]);
    return out;
  }

  /**
   * Removes up to `target.length` elements (oldest first) into `target`, from index 0,
   * and returns how many: popBulk without an array per call. Numbers (every numeric
   * element type but i64/u64) go into a typed array of numbers, converted as typed-array
   * stores convert (a u32 queue into a Float64Array is exact; into a Uint8Array it wraps);
   * i64 / u64 (bigint) into a BigInt64Array or BigUint64Array. Anything else is
   * INVALID_ARGUMENT, with nothing taken. An OUT_OF_RANGE (an i64AsNumber or u64AsNumber
   * element beyond ±(2^53 − 1), consumed and dropped) is thrown after the call, the other
   * elements it took then being in `target` in order.
   *
   * @example
   * ```ts
   * import { Queue, Segment, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-qinto-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const q = Queue.create(seg, "ticks", u32, 256);
   * q.pushBulk(Uint32Array.of(5, 6, 7));
   * const batch = new Uint32Array(64); // reused for every call
   * const k = q.popBulkInto(batch);
   * assert.equal(k, 3);
   * assert.deepEqual(Array.from(batch.subarray(0, k)), [5, 6, 7]);
   * assert.equal(q.popBulkInto(batch), 0);
   * ```
   */
  popBulkInto(target: NumericView): number {
    const m = this.mem();
    checkBulkTarget(this.type as ElementType<unknown>, this.#numeric, target);
    if (this.#fastKind >= 0) {
      const core = this.#core as QueueCore<unknown> as QueueCore<number>;
      return popBulkFast(core, m, this.#bulk!, target.length, target as unknown as BulkOut);
    }
    const got: unknown[] = [];
    try {
      popBulk(this.#core, m, target.length, got as T[]);
    } finally {
      for (let i = 0; i < got.length; i++) (target as unknown as unknown[])[i] = got[i];
    }
    return got.length;
  }

  /**
   * Removes and returns the oldest element, blocking while the queue is empty: spins
   * briefly, then parks on the futex until a producer pushes (src/wait/wait.ts). Throws
   * ShmError TIMEOUT after `timeout` ms (default: no limit). Takes the timeout in ms
   * or WaitOptions (`{ timeout, spin }`: `spin` = polls before parking, see WaitOptions).
   */
  popWait(timeout?: number | WaitOptions): T {
    const m = this.mem();
    return waitStalled(
      m,
      this.#core.notEmpty,
      () => this.tryPop(),
      this.#core.stall,
      timeout,
      `popping from queue "${this.name}"`,
      this.#checkedPop,
    );
  }

  /**
   * Async `popWait`: resolves with the oldest element without blocking the event loop
   * (beyond a spin of at most SPIN_LIMIT_US before parking: adaptive by default, or
   * `spin` polls). Rejects with TIMEOUT after `timeout` ms, or ABORTED when `signal`
   * fires (nothing is taken from the queue then).
   */
  popAsync(options?: AsyncWaitOptions): Promise<T> {
    const what = `popping from queue "${this.name}"`;
    try {
      checkAborted(what, options?.signal);
      const at = this.#core.notEmpty;
      return waitStalledAsync(this.mem(), at, () => this.tryPop(), this.#core.stall, options, what, this.#checkedPop);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * @internal For `select` (src/wait/select.ts): the "not empty" eventcount and a tryPop
   * that checks for a dead claim every time (select parks between its polls).
   */
  selectable(): Selectable<T> {
    return { memory: this.mem(), at: this.#core.notEmpty, poll: this.#checkedPop };
  }

  /**
   * `poll`, made so that its native empty pop (`word` FAST_POP_CHECKED) or full push
   * (FAST_PUSH_CHECKED) reads the other side's counter for a dead claim, which spinning
   * polls do only about every 25 µs (zig/fastpath.zig `checkDue`). The waits make it
   * their poll before they park: a dead holder sends no wake-up, so a waiter must not
   * sleep on a claim it has not seen.
   */
  #checking<R>(word: number, poll: () => R): () => R {
    return () => {
      if (this.#status) this.#status[word] = this.#status[word + 1] = 0;
      if (this.#bytes) this.#bytes.state.words[word] = this.#bytes.state.words[word + 1] = 0;
      return poll();
    };
  }

  readonly #checkedPop = this.#checking(FAST_POP_CHECKED, () => this.tryPop());

  /**
   * Appends `value`, blocking while the queue is full (parks until a consumer pops).
   * Throws TIMEOUT after `timeout` ms (nothing pushed), INVALID_ARGUMENT for a bad value.
   * Takes the timeout in ms or WaitOptions (`{ timeout, spin }`).
   */
  pushWait(value: T, timeout?: number | WaitOptions): void {
    const m = this.mem();
    const poll = () => (this.tryPush(value) ? true : undefined);
    const what = `pushing to queue "${this.name}"`;
    waitStalled(m, this.#core.notFull, poll, this.#core.stall, timeout, what, this.#checking(FAST_PUSH_CHECKED, poll));
  }

  /** Async `pushWait`: rejects with TIMEOUT or ABORTED (nothing pushed then). */
  async pushAsync(value: T, options?: AsyncWaitOptions): Promise<void> {
    const what = `pushing to queue "${this.name}"`;
    checkAborted(what, options?.signal);
    const m = this.mem();
    const poll = () => (this.tryPush(value) ? true : undefined);
    await waitStalledAsync(m, this.#core.notFull, poll, this.#core.stall, options, what, this.#checking(FAST_PUSH_CHECKED, poll));
  }

  /** Elements, and the repairs made after processes died mid-operation (docs/RELIABILITY.md). */
  get stats(): QueueStats {
    const i32 = this.mem().i32;
    return {
      size: this.size,
      recoveredPushes: Atomics.load(i32, this.#core.enq + (SKIPPED >> 2)) >>> 0,
      recoveredPops: Atomics.load(i32, this.#core.enq + (HANDED_BACK >> 2)) >>> 0,
    };
  }

  /** Elements in the queue (a snapshot: others may change it at once). */
  get size(): number {
    const i32 = this.mem().i32;
    const deq = Atomics.load(i32, this.#core.deq);
    const d = (Atomics.load(i32, this.#core.enq) - deq) | 0;
    return d < 0 ? 0 : d > this.capacity ? this.capacity : d;
  }

  /** True if the queue held no element at the moment of the check. */
  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** True if the queue was full at the moment of the check. */
  get isFull(): boolean {
    return this.size >= this.capacity;
  }

  /** Moves an empty, idle queue to position `pos` (tests use it to cross the 2^32 wrap). */
  #setPositions(pos: number): void {
    const m = this.mem();
    const i32 = m.i32;
    if (this.size !== 0) throw new ShmError("INVALID_ARGUMENT", "only an empty queue can be repositioned");
    pos |= 0;
    const c = this.#core;
    for (let k = 0; k < c.ring; k++) {
      const p = (pos + k) | 0;
      i32[(c.data + (p & c.mask) * c.stride) >> 2] = p;
    }
    Atomics.store(i32, this.#core.enq, pos);
    Atomics.store(i32, this.#core.deq, pos);
  }
}

/**
 * @internal Test hook: sets both position counters of an empty queue that nobody else
 * is using to `pos` (e.g. 2^32 - 5), so a test can run it across the 32-bit wrap.
 */
export function _setQueuePositions<T>(q: Queue<T>, pos: number): void {
  setPositions(q as Queue<unknown>, pos);
}
