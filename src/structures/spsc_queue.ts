/**
 * SpscQueue<T>: a bounded FIFO for exactly ONE producer and ONE consumer (which may be
 * two processes, or one). Faster than Queue because neither side ever CASes.
 *
 * Algorithm: the single-producer single-consumer ring of Erik Rigtorp's SPSCQueue
 * (github.com/rigtorp/SPSCQueue): a write index owned by the producer, a read index
 * owned by the consumer, each on its own cache line, and one spare slot so that
 * "full" and "empty" differ. Each side keeps a private cached copy of the other's
 * index and re-reads the shared one only when the cache says full (producer) or
 * empty (consumer), so in steady state an operation touches no line the other side
 * writes except the slot itself.
 *
 * One producer and one consumer *at a time* (docs/RELIABILITY.md): the first push of a
 * handle claims the producer role, its first pop or peek the consumer role, each with a
 * CAS on a claim word holding the process's pid and start time (writer_claim.ts, as
 * RingBuffer's producer). A second live holder of a role gets EXISTS; the role of a
 * process that died (or closed its handle) is taken over, and the new holder starts
 * from the indices in shared memory, so a handover is exact: no element is delivered
 * twice, skipped or overwritten. A producer killed inside push loses that element (it
 * was never published); a consumer killed inside pop loses it only if it died after
 * storing the read index (its pop never returned either way). After the first
 * operation a handle checks only a private boolean. Indices stay in [0, capacity], so
 * there is no wrap-around limit and any capacity works.
 *
 * Block layout: spsc_layout.ts.
 */
import { type ElementType, fastKind, type NumericView, structReadInto } from "../segment/elements.ts";
import { checkBulkTarget, copyIn, copyOut, sameKind, type Span } from "./span_copy.ts";
import { FAST_INVALID, FAST_NONE, FAST_OK, FAST_STATUS, type FastState } from "../../ffi/native.ts";
import { bindSpsc, bindSpscBytes, type BytesCalls, fastError } from "./fast_path.ts";
import type { Memory } from "../segment/memory.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Staging } from "./staging.ts";
import { QueueViews } from "./struct_views.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";
import { CONSUMER_CLAIM, MAX_SPSC_CAPACITY, NOT_EMPTY, NOT_FULL, PRODUCER_CLAIM, READ, spec, WRITE } from "./spsc_layout.ts";
import { type AsyncWaitOptions, notify, type WaitOptions, waitOrThrow, waitOrThrowAsync } from "../wait/wait.ts";
import { WriterClaim } from "./writer_claim.ts";
import type { Selectable } from "../wait/select.ts";

/**
 * A bounded single-producer single-consumer FIFO in shared memory (Rigtorp's
 * SPSCQueue design). Only one process may push and only one may pop at any time.
 *
 * `push` throws FULL and `pop` throws EMPTY; `tryPush` returns false and `tryPop` /
 * `peek` return undefined instead.
 *
 * @example
 * ```ts
 * import { f64, Segment, SpscQueue } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-spsc-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = SpscQueue.create(seg, "samples", f64, 256); // one producer, one consumer
 * assert.equal(q.tryPush(1.5), true);
 * assert.equal(q.peek(), 1.5);
 * assert.equal(q.pop(), 1.5);
 * assert.ok(q.isEmpty);
 * ```
 */
export class SpscQueue<T> extends Handle {
  /** The element type. */
  readonly type: ElementType<T>;
  /** Most elements the queue holds. */
  readonly capacity: number;
  readonly #data: number;
  readonly #size: number;
  readonly #slots: number;
  readonly #write: number;
  readonly #read: number;
  /**
   * Process-private words shared with the native fast path (zig/fastpath.zig): [0] the
   * producer's last view of the read index, [1] the consumer's last view of the write
   * index (both loaded from shared memory when the role is claimed), [2] the status of
   * a native pop that returned NaN. The JS paths (bulk, peek) and the byte calls use
   * the same two cached indices, so both paths always agree.
   */
  readonly #fast: FastState;
  get #cachedRead(): number {
    return this.#fast.words[0];
  }
  set #cachedRead(v: number) {
    this.#fast.words[0] = v;
  }
  get #cachedWrite(): number {
    return this.#fast.words[1];
  }
  set #cachedWrite(v: number) {
    this.#fast.words[1] = v;
  }
  /**
   * Native fast path: the element kind (fastKind) for numeric elements, or -1. One FFI
   * call then does a whole push or pop, wake-up included (measured in docs/DECISIONS.md).
   */
  readonly #kind: number;
  /**
   * The two native calls with every argument but the value bound (the mapping's base,
   * the offsets and bounds the native code checks against, the state block): one
   * closure call instead of six private-field loads per operation (measured: Bun 13 ns
   * per push+pop pair less; docs/DECISIONS.md "Fast paths").
   */
  readonly #pushN: ((v: number) => number) | undefined;
  readonly #popN: (() => number) | undefined;
  readonly #status: Int32Array;
  readonly #readInto: ((m: Memory, o: number, target: T) => T) | undefined;
  /** tryPopView's and staging()'s views, made at the first call of either (struct types only). */
  #views: QueueViews<T> | undefined;
  /**
   * Every other element type (structs, strings, arrays, bigint): one native call per
   * tryPush / tryPop / tryPopInto too, the element's bytes crossing through a private
   * scratch block that the type's own `write` fills (and so checks) and its `read` reads
   * back (zig/fastpath.zig `shmkit_spsc_*_bytes`). Undefined when #kind >= 0.
   */
  readonly #bytes: BytesCalls | undefined;
  readonly #producerClaim: WriterClaim;
  readonly #consumerClaim: WriterClaim;
  /** True while this handle holds the role: the only check a push (pop) makes. */
  #producing = false;
  #consuming = false;
  readonly #staging: Staging<T>;
  /**
   * Numeric kinds (typed-array element and `accepts`): a typed array over the
   * elements, so a push or pop moves the element with one indexed access instead of
   * the type's generic write/read closures.
   */
  readonly #view: { [i: number]: T } | undefined;
  readonly #accepts: ((v: unknown) => boolean) | undefined; // `unknown`: keeps the class covariant in T
  /** Elements are numbers of a numeric kind (what `popBulkInto` accepts a number array for). */
  readonly #numeric: boolean;

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    if (p.capacity > MAX_SPSC_CAPACITY) throw new ShmError("CORRUPT", `queue "${p.name}" claims capacity ${p.capacity}`);
    this.type = type;
    this.capacity = p.capacity;
    this.#data = p.data;
    this.#size = type.size;
    this.#slots = p.capacity + 1;
    this.#write = (p.control + WRITE) >> 2;
    this.#read = (p.control + READ) >> 2;
    this.#staging = new Staging(type);
    if (type.typedArray && type.accepts && p.data % type.size === 0) {
      this.#view = new type.typedArray(this.m.buffer, p.data, this.#slots) as unknown as { [i: number]: T };
      this.#accepts = type.accepts as (v: unknown) => boolean;
    }
    // The native code trusts these bounds, never the segment's bytes (zig/fastpath.zig):
    // the elements must lie inside this mapping, which the entry checks already imply.
    if (p.data + this.#slots * type.size > this.m.size) {
      throw new ShmError("CORRUPT", `queue "${p.name}": elements leave the segment`);
    }
    const kind = fastKind(type as ElementType<unknown>);
    this.#numeric = kind !== undefined;
    this.#kind = kind !== undefined && p.data % type.size === 0 ? kind : -1;
    // Only the calls this element type uses are bound (binding costs most of an open).
    if (this.#kind >= 0) {
      const fast = bindSpsc(this.m, p.control, p.data, this.#slots, this.#kind);
      this.#fast = fast.state;
      this.#pushN = fast.push;
      this.#popN = fast.pop;
    } else {
      const bytes = bindSpscBytes(this.m, p.control, p.data, this.#slots, type.size);
      this.#fast = bytes.state;
      this.#bytes = bytes;
    }
    this.#status = this.#fast.words;
    this.#readInto = structReadInto(type);
    const what = `queue "${p.name}"`;
    const closed = () => this.m.closed;
    this.#producerClaim = new WriterClaim(seg.name, p.offset, p.control + PRODUCER_CLAIM, {
      what,
      role: "producer",
      cls: "SpscQueue",
    }, closed);
    // A second key in the per-process claim map: the consumer claim is another word of the same block.
    this.#consumerClaim = new WriterClaim(seg.name, p.offset + 1, p.control + CONSUMER_CLAIM, {
      what,
      role: "consumer",
      cls: "SpscQueue",
    }, closed);
  }

  /** True while this handle holds the producer role. */
  get isProducer(): boolean {
    return this.#producing && !this.m.closed;
  }

  /** True while this handle holds the consumer role. */
  get isConsumer(): boolean {
    return this.#consuming && !this.m.closed;
  }

  /**
   * Makes this handle the producer (the first push does it). EXISTS if another live
   * process or another open handle here is the producer; a dead producer's role is taken
   * over, continuing from the write index in shared memory.
   */
  claimProducer(): void {
    const m = this.mem();
    if (this.#producing) return;
    this.#producerClaim.acquire(m);
    this.#cachedRead = this.#index(m.i32, this.#read, true);
    this.#producing = true;
  }

  /** Makes this handle the consumer (the first pop or peek does it); as claimProducer. */
  claimConsumer(): void {
    const m = this.mem();
    if (this.#consuming) return;
    this.#consumerClaim.acquire(m);
    this.#cachedWrite = this.#index(m.i32, this.#write, true);
    this.#consuming = true;
  }

  /** Gives up the producer and consumer roles this handle holds (idempotent). */
  releaseRoles(): void {
    if (this.#producing) this.#producerClaim.release(this.m);
    if (this.#consuming) this.#consumerClaim.release(this.m);
    this.#producing = this.#consuming = false;
  }

  /** Releases the roles (if held), then closes the handle. */
  override close(): void {
    this.releaseRoles();
    super.close();
  }

  /** Creates a queue of `capacity` elements (any integer from 1 to 2^30). EXISTS if the name is taken. */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): SpscQueue<T> {
    const s = spec(type as ElementType<unknown>);
    checkCapacity(capacity, "queue capacity", MAX_SPSC_CAPACITY);
    return new SpscQueue(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing SPSC queue; TYPE_MISMATCH if it is not an SpscQueue of `type`. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): SpscQueue<T> {
    return new SpscQueue(seg, seg.openEntry(name, spec(type as ElementType<unknown>)), type);
  }

  /** Opens the queue, or creates it with `capacity` if it does not exist. */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): SpscQueue<T> {
    const s = spec(type as ElementType<unknown>);
    checkCapacity(capacity, "queue capacity", MAX_SPSC_CAPACITY);
    return new SpscQueue(seg, seg.openOrCreateEntry(name, s, capacity), type);
  }

  #index(i32: Int32Array, at: number, atomic: boolean): number {
    const v = atomic ? Atomics.load(i32, at) : i32[at];
    if (!(v >= 0 && v < this.#slots)) {
      throw new ShmError("CORRUPT", `queue "${this.name}": index ${v} outside [0, ${this.#slots})`);
    }
    return v;
  }

  /** Appends `value` (producer only); false if full. A value that does not fit the type throws INVALID_ARGUMENT and nothing is queued. */
  tryPush(value: T): boolean {
    this.mem(); // CLOSED once closed
    if (!this.#producing) this.claimProducer();
    let rc: number;
    if (this.#kind >= 0) {
      // Not a number: the type's own INVALID_ARGUMENT (fastError stages the value).
      if (typeof value !== "number") throw this.#fastError(FAST_INVALID, value);
      rc = this.#pushN!(value);
    } else {
      const b = this.#bytes!;
      this.type.write(b.scratch, 0, value); // checks it: INVALID_ARGUMENT with nothing queued
      rc = b.push();
    }
    if (rc === FAST_OK) return true;
    if (rc === FAST_NONE) return false;
    throw this.#fastError(rc, value);
  }

  /** Appends `value` (producer only); throws FULL if the queue is full. */
  push(value: T): void {
    if (!this.tryPush(value)) throw new ShmError("FULL", `queue "${this.name}" is full (capacity ${this.capacity})`);
  }

  /** Returns the oldest element without removing it (consumer only), or undefined if empty. */
  peek(): T | undefined {
    const m = this.mem();
    if (!this.#consuming) this.claimConsumer();
    const i32 = m.i32;
    const r = this.#index(i32, this.#read, false);
    if (r === this.#cachedWrite) {
      this.#cachedWrite = this.#index(i32, this.#write, true);
      if (r === this.#cachedWrite) return undefined;
    }
    const view = this.#view;
    return view !== undefined ? view[r] : this.type.read(m, this.#data + r * this.#size);
  }

  /** Removes and returns the oldest element (consumer only), or undefined if empty. */
  tryPop(): T | undefined {
    this.mem(); // CLOSED once closed
    if (!this.#consuming) this.claimConsumer();
    if (this.#kind >= 0) {
      const v = this.#popN!();
      if (v === v) return v as T;
      const status = this.#status[FAST_STATUS];
      if (status === FAST_OK) return v as T; // the element was NaN
      if (status === FAST_NONE) return undefined;
      throw this.#fastError(status, undefined);
    }
    const b = this.#bytes!;
    const rc = b.pop();
    if (rc === FAST_OK) return this.type.read(b.scratch, 0);
    if (rc === FAST_NONE) return undefined;
    throw this.#fastError(rc, undefined);
  }

  /** The error for a negative native result (zig/fastpath.zig codes). */
  #fastError(code: number, value: unknown): Error {
    const corrupt = `an index in shared memory is outside [0, ${this.#slots})`;
    return fastError(code, value, { name: this.name, typeName: this.type.name, staging: this.#staging, corrupt });
  }

  /**
   * Removes the oldest element (consumer only) into `target`, an object of the struct
   * type's shape, and returns `target`; undefined if empty. No object is allocated, so
   * a consumer loop can reuse one result object; make it with the type's `create()` (on
   * Deno a literal target boxes every double stored into it). Struct element types only
   * (INVALID_ARGUMENT otherwise).
   *
   * @example
   * ```ts
   * import { f64, Segment, SpscQueue, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-spsc-into-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const Point = struct({ x: f64, id: u32 });
   * const q = SpscQueue.create(seg, "points", Point, 16);
   * q.push({ x: 1.5, id: 1 });
   * q.push({ x: 2.5, id: 2 });
   * const p = Point.create(); // one object for every pop (not a literal: see StructType.create)
   * assert.equal(q.tryPopInto(p), p);
   * assert.deepEqual(p, { x: 1.5, id: 1 });
   * q.tryPopInto(p);
   * assert.deepEqual(p, { x: 2.5, id: 2 });
   * assert.equal(q.tryPopInto(p), undefined);
   * ```
   */
  tryPopInto(target: T): T | undefined {
    this.mem(); // CLOSED once closed
    const into = this.#readInto;
    if (into === undefined) {
      throw new ShmError("INVALID_ARGUMENT", `tryPopInto needs a struct element type, not ${this.type.name}`);
    }
    if (typeof target !== "object" || target === null) throw new ShmError("INVALID_ARGUMENT", "tryPopInto needs a target object");
    if (!this.#consuming) this.claimConsumer();
    const b = this.#bytes!; // a struct type has no fast kind
    const rc = b.pop();
    if (rc === FAST_OK) return into(b.scratch, 0, target);
    if (rc === FAST_NONE) return undefined;
    throw this.#fastError(rc, undefined);
  }

  /**
   * Removes the oldest element (consumer only) and returns this handle's view of it, or
   * undefined if empty: a read-only object whose fields are getters over the popped
   * bytes, so nothing is copied into an object: on Deno, filling one costs more than the
   * pop; on Bun, tryPopInto is as fast or faster (docs/BENCHMARKS.md). Always the same
   * object, valid until this handle's next push or pop, which reuse its bytes: read what
   * you need, or copy it out with `type.read`. Its fields are not own properties
   * (`{ ...view }` is empty). Struct element types only (INVALID_ARGUMENT otherwise).
   *
   * @example
   * ```ts
   * import { f64, Segment, SpscQueue, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-spsc-view-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const Tick = struct({ price: f64, qty: u32 });
   * const q = SpscQueue.create(seg, "ticks", Tick, 16);
   * q.push({ price: 10.5, qty: 3 });
   * q.push({ price: 11, qty: 4 });
   * let notional = 0;
   * for (let t; (t = q.tryPopView()) !== undefined;) notional += t.price * t.qty;
   * assert.equal(notional, 10.5 * 3 + 11 * 4);
   * ```
   */
  tryPopView(): Readonly<T> | undefined {
    this.mem(); // CLOSED once closed
    const view = this.#structViews().popped("tryPopView");
    if (!this.#consuming) this.claimConsumer();
    const rc = this.#bytes!.pop(); // a struct type has no fast kind
    if (rc === FAST_OK) return view;
    if (rc === FAST_NONE) return undefined;
    throw this.#fastError(rc, undefined);
  }

  /**
   * This handle's staging struct: one writable object (always the same) whose fields
   * are setters into a private block, for building the next element in place and
   * pushing it with `tryPushStaged` / `pushStaged` (producer only). Each assignment is
   * checked as the type's `write` checks that field (INVALID_ARGUMENT, the field
   * unchanged); fields keep their values between pushes (all zero at first), and no pop
   * touches them. Why: on Deno, filling an object and pushing it costs a 64-byte struct
   * ~22 ns, the setters ~8 (docs/BENCHMARKS.md). A nested struct or string field reads
   * as a new value: assign the whole field to change it. The object is not extensible
   * (a misspelt field throws) and is itself a valid value of the type (`push(view)`
   * works, as do the waits). Struct element types only (INVALID_ARGUMENT otherwise).
   *
   * @example
   * ```ts
   * import { f64, Segment, SpscQueue, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-spsc-stage-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const Particle = struct({ id: u32, x: f64, y: f64 });
   * const q = SpscQueue.create(seg, "particles", Particle, 64);
   * const p = q.staging();
   * for (let i = 0; i < 3; i++) {
   *   p.id = i;
   *   p.x = i * 0.5;
   *   p.y = -i;
   *   q.pushStaged();
   * }
   * assert.deepEqual(q.pop(), { id: 0, x: 0, y: -0 });
   * assert.equal(q.size, 2);
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
   * Appends a copy of the staging struct (`staging()`; producer only); false if full
   * (the staged fields stay as they are, for a retry). Its fields were checked when
   * they were assigned, so nothing here can be INVALID_ARGUMENT but a non-struct type.
   *
   * @example
   * ```ts
   * import { f64, Segment, SpscQueue, struct } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-spsc-trystaged-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const q = SpscQueue.create(seg, "v", struct({ x: f64 }), 1);
   * q.staging().x = 2.5;
   * assert.equal(q.tryPushStaged(), true);
   * assert.equal(q.tryPushStaged(), false); // full
   * assert.deepEqual(q.pop(), { x: 2.5 });
   * ```
   */
  tryPushStaged(): boolean {
    this.mem(); // CLOSED once closed
    if (this.#readInto === undefined) this.#structViews().staging("tryPushStaged"); // throws: not a struct
    if (!this.#producing) this.claimProducer();
    const rc = this.#bytes!.pushStaged();
    if (rc === FAST_OK) return true;
    if (rc === FAST_NONE) return false;
    throw this.#fastError(rc, undefined);
  }

  /**
   * As tryPushStaged, but throws FULL if the queue is full.
   *
   * @example
   * ```ts
   * import { Segment, SpscQueue, struct, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-spsc-pushstaged-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const q = SpscQueue.create(seg, "ids", struct({ id: u32 }), 1);
   * q.staging().id = 7;
   * q.pushStaged();
   * assert.throws(() => q.pushStaged(), { code: "FULL" });
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
   * import { f64, Segment, SpscQueue, struct } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-spsc-popinto-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const V = struct({ x: f64, y: f64 });
   * const q = SpscQueue.create(seg, "v", V, 4);
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

  /** Removes and returns the oldest element (consumer only); throws EMPTY if the queue is empty. */
  pop(): T {
    const v = this.tryPop();
    if (v === undefined) throw new ShmError("EMPTY", `queue "${this.name}" is empty`);
    return v;
  }

  /**
   * Appends as many of `values` as fit (producer only), publishing them with one store;
   * returns how many. If any value does not fit the type, throws INVALID_ARGUMENT and
   * nothing is pushed.
   */
  pushBulk(values: ArrayLike<T>): number {
    const m = this.mem();
    if (!this.#producing) this.claimProducer();
    const i32 = m.i32;
    const slots = this.#slots;
    const w = this.#index(i32, this.#write, false);
    const r = (this.#cachedRead = this.#index(i32, this.#read, true));
    const free = (r - w - 1 + slots) % slots;
    const k = Math.min(free, values.length);
    const view = this.#view;
    const region = view as unknown as NumericView | undefined;
    if (sameKind(region, values)) copyIn(region!, slots, w, values, k); // every value fits: nothing to check
    else {
      const accepts = this.#accepts;
      for (let i = k; i < values.length; i++) {
        const v = values[i];
        if (view === undefined || !accepts!(v)) this.#staging.stage(v); // those not written below
      }
      let at = w;
      for (let i = 0; i < k; i++) {
        const v = values[i]; // unpublished until the store below
        if (view !== undefined && accepts!(v)) view[at] = v;
        else this.type.write(m, this.#data + at * this.#size, v);
        if (++at === slots) at = 0;
      }
    }
    Atomics.store(i32, this.#write, (w + k) % slots);
    if (k > 0) notify(m, (this.#write << 2) - WRITE + NOT_EMPTY, 1);
    return k;
  }

  /** Removes up to `max` elements (consumer only) and appends them to `out` (a new array by default), which it returns. */
  popBulk(max: number, out: T[] = []): T[] {
    const m = this.mem();
    if (!(Number.isInteger(max) && max >= 0)) {
      throw new ShmError("INVALID_ARGUMENT", `popBulk max must be a non-negative integer, got ${max}`);
    }
    this.#drain(m, max, out, out.length);
    return out;
  }

  /**
   * Removes up to `target.length` elements (consumer only, oldest first) into `target`,
   * from index 0, and returns how many: popBulk without an array per call, as Queue's
   * `popBulkInto`. A typed array of the element's own kind is filled with one
   * memcpy-like copy per run. Numbers (every numeric element type but i64/u64) go into
   * a typed array of numbers, converted as typed-array stores convert; i64 / u64
   * (bigint) into a BigInt64Array or BigUint64Array. Anything else is INVALID_ARGUMENT,
   * with nothing taken. An i64AsNumber or u64AsNumber element beyond ±(2^53 − 1) is
   * consumed and dropped, and OUT_OF_RANGE thrown after the others are in `target`.
   *
   * @example
   * ```ts
   * import { f64, Segment, SpscQueue } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-spsc-into-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const q = SpscQueue.create(seg, "samples", f64, 256);
   * assert.equal(q.pushBulk(Float64Array.of(0.5, 1.5, 2.5)), 3);
   * const batch = new Float64Array(64); // reused for every call
   * const k = q.popBulkInto(batch);
   * assert.deepEqual(Array.from(batch.subarray(0, k)), [0.5, 1.5, 2.5]);
   * assert.equal(q.popBulkInto(batch), 0);
   * ```
   */
  popBulkInto(target: NumericView): number {
    const m = this.mem();
    checkBulkTarget(this.type as ElementType<unknown>, this.#numeric, target);
    return this.#drain(m, target.length, target as unknown as Span<T>, 0);
  }

  /**
   * Takes up to `max` elements (claiming the consumer role) into out[from..], then
   * stores the read index past them and wakes a parked producer. An element the type's
   * `read` refuses (an i64AsNumber beyond ±(2^53 − 1), a damaged string) is consumed
   * and dropped, the others still delivered in order, and the first such error thrown
   * at the end. Returns how many went to `out`.
   */
  #drain(m: Memory, max: number, out: Span<T>, from: number): number {
    if (!this.#consuming) this.claimConsumer();
    const i32 = m.i32;
    const slots = this.#slots;
    const r = this.#index(i32, this.#read, false);
    const w = (this.#cachedWrite = this.#index(i32, this.#write, true));
    const k = Math.min((w - r + slots) % slots, max);
    let n = k;
    let failure: unknown;
    if (this.#view !== undefined) copyOut(m, this.#view as unknown as NumericView, this.type, this.#data, slots, r, k, out, from);
    else {
      n = 0;
      for (let i = 0, at = r; i < k; i++) {
        try {
          out[from + n] = this.type.read(m, this.#data + at * this.#size);
          n++;
        } catch (e) {
          failure ??= e;
        }
        if (++at === slots) at = 0;
      }
    }
    Atomics.store(i32, this.#read, (r + k) % slots);
    if (k > 0) notify(m, (this.#read << 2) - READ + NOT_FULL, 1);
    if (failure !== undefined) throw failure;
    return n;
  }

  /**
   * Removes and returns the oldest element (consumer only), blocking while the queue
   * is empty (spins briefly, then parks on the futex until the producer pushes;
   * src/wait/wait.ts). Throws ShmError TIMEOUT after `timeout` ms (default: no limit).
   */
  popWait(timeout?: number | WaitOptions): T {
    if (!this.#consuming) this.claimConsumer(); // EXISTS at once, not after a wait
    const at = (this.#write << 2) - WRITE + NOT_EMPTY;
    return waitOrThrow(this.mem(), at, () => this.tryPop(), timeout, `popping from queue "${this.name}"`);
  }

  /** Async `popWait` (consumer only): rejects with TIMEOUT, or ABORTED on `signal` (nothing popped then). */
  popAsync(options?: AsyncWaitOptions): Promise<T> {
    try {
      if (!this.#consuming) this.claimConsumer();
    } catch (e) {
      return Promise.reject(e);
    }
    const at = (this.#write << 2) - WRITE + NOT_EMPTY;
    return waitOrThrowAsync(this.mem(), at, () => this.tryPop(), options, `popping from queue "${this.name}"`);
  }

  /** @internal For `select` (src/wait/select.ts): the "not empty" eventcount and tryPop (which claims the consumer role). */
  selectable(): Selectable<T> {
    return { memory: this.mem(), at: (this.#write << 2) - WRITE + NOT_EMPTY, poll: () => this.tryPop() };
  }

  /** Appends `value` (producer only), blocking while the queue is full. TIMEOUT after `timeout` ms (nothing pushed). */
  pushWait(value: T, timeout?: number | WaitOptions): void {
    if (!this.#producing) this.claimProducer();
    const at = (this.#read << 2) - READ + NOT_FULL;
    waitOrThrow(this.mem(), at, () => (this.tryPush(value) ? true : undefined), timeout, `pushing to queue "${this.name}"`);
  }

  /** Async `pushWait` (producer only): rejects with TIMEOUT or ABORTED (nothing pushed then). */
  async pushAsync(value: T, options?: AsyncWaitOptions): Promise<void> {
    if (!this.#producing) this.claimProducer();
    const at = (this.#read << 2) - READ + NOT_FULL;
    await waitOrThrowAsync(
      this.mem(),
      at,
      () => (this.tryPush(value) ? true : undefined),
      options,
      `pushing to queue "${this.name}"`,
    );
  }

  /** Elements in the queue (exact for the producer and the consumer; a snapshot for anyone else). */
  get size(): number {
    const i32 = this.mem().i32;
    const slots = this.#slots;
    const r = this.#index(i32, this.#read, true);
    return (this.#index(i32, this.#write, true) - r + slots) % slots;
  }

  /** True if the queue held no element at the moment of the check. */
  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** True if the queue was full at the moment of the check. */
  get isFull(): boolean {
    return this.size === this.capacity;
  }
}
