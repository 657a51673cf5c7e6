/**
 * RingBuffer<T>: a bounded, throughput-oriented ring for ONE producer and any number
 * of consumers (SPMC), with bulk paths, non-consuming reads and an overwrite mode.
 *
 * Layout of the block (docs/FORMAT.md has the byte-level version):
 *
 *   header   64 bytes (structure header, capacity)
 *   line 0   head  i32 @+0   next position to write   (producer only)
 *            epoch i32 @+4   half-wrap count of head   (producer only, for totalWritten)
 *            eventcount @+8  "not empty" (seq i32, waiters i32): popWait/popAsync park here
 *            claim u64 @+16  producer identity: pid * 2^31 + (start time mod 2^31), 0 = none
 *                            (src/structures/writer_claim.ts; written only when a producer claims or releases)
 *   line 1   tail  i32 @+64  next position to read    (consumers, and the producer when it overwrites)
 *            eventcount @+72 "not full" (seq i32, waiters i32): pushWait/pushAsync park here
 *   data     capacity elements, contiguous, element i at data + i * elemSize
 *
 * Positions run from 0 to M-1 and wrap to 0, where M = capacity * floor(2^31 / capacity):
 * the largest multiple of the capacity that fits a non-negative int32, so `pos % capacity`
 * stays continuous across the wrap for any capacity (powers of two are not required) and
 * M ≥ 2^30, which is the window within which a CAS on `tail` cannot suffer ABA.
 *
 * The claim word sits on the producer's line (which consumers only read, except for the
 * not-empty waiters count they touch when they park), inside the 128 control bytes the
 * format always had: blocks keep their size, and rings created before the claim existed
 * hold 0 there, i.e. "no producer".
 */
import { type ElementType, fastKind, type NumericView } from "../segment/elements.ts";
import { FAST_CORRUPT, FAST_F64, FAST_INVALID, FAST_NONE, FAST_OK, FAST_STATUS } from "../../ffi/native.ts";
import { bindRing, bindRingBytes, type BytesCalls } from "./fast_path.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";
import { type AsyncWaitOptions, notify, type WaitOptions, waitOrThrow, waitOrThrowAsync } from "../wait/wait.ts";
import type { Selectable } from "../wait/select.ts";
import { WriterClaim } from "./writer_claim.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";
import { CLAIM, EPOCH, HEAD, NOT_EMPTY, NOT_FULL, RING_MAX_CAPACITY, spec, TAIL } from "./ring_layout.ts";
import { copyIn, copyOut, sameKind, type Span } from "./span_copy.ts";

export { _ringTesting, RING_MAX_CAPACITY } from "./ring_layout.ts";
export type { Span } from "./span_copy.ts";

/**
 * A ring buffer in shared memory for one producer and any number of consumers.
 *
 * Algorithm: a Lamport ring with free-running positions (as in Rigtorp's SPSCQueue),
 * where consumers *commit* a read with a compare-and-swap on `tail` after copying the
 * element out (speculative read, then CAS). That CAS is what makes `pushOverwrite`
 * safe: when the ring is full the producer drops the oldest element with the same CAS
 * on `tail` before reusing its slot, so a consumer whose copy raced the overwrite fails
 * its CAS, discards the copy and retries. No element is ever returned twice, out of
 * order, or torn (the C++ ancestor's overwrite mode moved the tail with a plain store
 * and produced duplicates). The same CAS lets several consumers share the ring.
 *
 * One producer at a time, enforced: the first push-side operation (`tryPush`, `push`,
 * `pushOverwrite`, `pushBulk`, `pushWait`, `pushAsync`) claims the producer role with a
 * CAS on a claim word holding this process's pid and start time (`claimProducer()` does
 * it explicitly); later pushes from that handle only test a private flag. A push from
 * another live process, or another open handle in this process, throws EXISTS naming the
 * holder's pid; the claim of a producer that died is taken over. `releaseProducer()`,
 * `close()` and closing the segment give it back. Consumers never claim anything.
 * Operations never block: `tryPush`/`tryPop` report full/empty, `push`/`pop` throw
 * FULL/EMPTY. Numeric element types get zero-overhead bulk paths (typed array copies
 * straight into the mapped data region).
 *
 * @example
 * ```ts
 * import { f64, RingBuffer, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-ring-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const ring = RingBuffer.create(seg, "samples", f64, 4096);
 * ring.pushBulk(new Float64Array([1, 2, 3]));
 * const out = new Float64Array(64);
 * assert.equal(ring.popBulk(out), 3);
 * assert.deepEqual([...out.subarray(0, 3)], [1, 2, 3]);
 * ```
 */
export class RingBuffer<T> extends Handle {
  /** Number of elements the ring holds when full. */
  readonly capacity: number;
  /** The element type. */
  readonly type: ElementType<T>;
  readonly #size: number;
  readonly #data: number;
  readonly #mask: number; // capacity - 1 when a power of two, else -1 (use %)
  readonly #M: number; // positions wrap here
  readonly #half: number; // region boundary for the epoch of totalWritten
  readonly #head: number; // i32 indexes
  readonly #epoch: number;
  readonly #tail: number;
  readonly #view: NumericView | undefined;
  /**
   * The same view typed for single elements, set only when the type also has
   * `accepts`: tryPush/tryPop then move an element with one indexed access instead of
   * the type's generic write/read closures (validation is `accepts`, no scratch copy).
   */
  readonly #fast: { [i: number]: T } | undefined;
  readonly #accepts: ((v: unknown) => boolean) | undefined; // `unknown`: keeps the class covariant in T
  readonly #scratch: Memory;
  readonly #claim: WriterClaim;
  /** True while this handle holds the producer claim: the only check a push makes. */
  #producing = false;
  // Rigtorp-style caches: the producer re-reads `tail` only when the ring looks full,
  // a consumer re-reads `head` only when it looks empty. Each cache is trusted only
  // while the position it was taken against is still ours (#lastHead / #lastTail);
  // if another handle moved it, the cache is dropped, so it is never stale by a wrap.
  #tailCache = 0;
  #lastHead = -1;
  #headCache = 0;
  #lastTail = -1;
  /**
   * Native tryPush / tryPop for the typed-array kinds (zig/fastpath.zig `shmkit_ring_*`:
   * one FFI call, the same protocol and the same caches kept in its state block, by the
   * same rule, so its moves and the TypeScript paths' drop each other's caches); bound
   * with every argument but the value, undefined for other types and with pause points.
   */
  readonly #pushN: ((v: number) => number) | undefined;
  readonly #popN: (() => number) | undefined;
  /**
   * Every other element type (structs, strings, arrays, bigint and the 64-bit "as
   * number" kinds): one native call per tryPush / tryPop too, the element's bytes
   * crossing through a private scratch block that the type's own `write` fills (and so
   * checks) and its `read` decodes after the pop has committed (zig/fastpath.zig
   * `shmkit_ring_*_bytes`). Undefined with #pushN, and with pause points.
   */
  readonly #bytes: BytesCalls | undefined;
  readonly #status: Int32Array | undefined;

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    const cap = p.capacity;
    if (!(cap >= 1 && cap <= RING_MAX_CAPACITY)) {
      throw new ShmError("CORRUPT", `ring "${p.name}" claims capacity ${cap} (1 to ${RING_MAX_CAPACITY})`);
    }
    this.capacity = cap;
    this.type = type;
    this.#size = type.size;
    this.#data = p.data;
    this.#mask = (cap & (cap - 1)) === 0 ? cap - 1 : -1;
    this.#M = cap * Math.floor(2 ** 31 / cap);
    this.#half = Math.floor(this.#M / 2);
    this.#head = (p.control + HEAD) >> 2;
    this.#epoch = (p.control + EPOCH) >> 2;
    this.#tail = (p.control + TAIL) >> 2;
    const ctor = type.typedArray;
    this.#view = ctor ? new ctor(this.m.buffer, p.data, cap) as NumericView : undefined;
    if (this.#view !== undefined && type.accepts) {
      this.#fast = this.#view as unknown as { [i: number]: T };
      this.#accepts = type.accepts as (v: unknown) => boolean;
    }
    this.#scratch = new Memory(0, new ArrayBuffer(Math.ceil(type.size / 64) * 64));
    const kind = fastKind(type as ElementType<unknown>);
    if (PAUSE_POINT === undefined && this.#fast !== undefined && kind !== undefined && kind <= FAST_F64) {
      const fast = bindRing(this.m, p.control, p.data, cap, this.#M, kind);
      this.#pushN = fast.push;
      this.#popN = fast.pop;
      this.#status = fast.state.words;
    } else if (PAUSE_POINT === undefined) {
      // The native code trusts these bounds, never the segment's bytes (zig/fastpath.zig):
      // the elements must lie inside this mapping, which the entry checks already imply.
      if (p.data + cap * type.size > this.m.size) throw new ShmError("CORRUPT", `ring "${p.name}": elements leave the segment`);
      this.#bytes = bindRingBytes(this.m, p.control, p.data, cap, this.#M, type.size);
    }
    this.#claim = new WriterClaim(
      seg.name,
      p.offset,
      p.control + CLAIM,
      { what: `ring "${p.name}"`, role: "producer", cls: "RingBuffer" },
      () => this.m.closed,
    );
  }

  /**
   * Creates a ring of `capacity` elements (1 to 2^30; any integer, powers of two are
   * slightly faster). EXISTS if the name is taken.
   */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): RingBuffer<T> {
    const s = spec(type);
    checkCapacity(capacity, "ring capacity", RING_MAX_CAPACITY);
    return new RingBuffer(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing ring; TYPE_MISMATCH if it is not a ring of `type`, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): RingBuffer<T> {
    return new RingBuffer(seg, seg.openEntry(name, spec(type)), type);
  }

  /** Opens the ring, or creates it with `capacity` elements if it does not exist. */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): RingBuffer<T> {
    const s = spec(type);
    checkCapacity(capacity, "ring capacity", RING_MAX_CAPACITY);
    return new RingBuffer(seg, seg.openOrCreateEntry(name, s, capacity), type);
  }

  /** True while this handle holds the producer claim. */
  get isProducer(): boolean {
    return this.#producing && !this.m.closed;
  }

  /**
   * Makes this handle the ring's producer (the first push does it). EXISTS if another
   * live process, or another open handle in this process, is the producer; the claim of
   * a producer that died is taken over, continuing from the published head (an element
   * it wrote but never published is simply written again).
   */
  claimProducer(): void {
    const m = this.mem();
    if (this.#producing) return;
    this.#claim.acquire(m);
    this.#lastHead = -1; // head may have been moved by the previous producer: re-read tail
    this.#producing = true;
  }

  /** Gives up the producer claim so another handle or process can push. Idempotent. */
  releaseProducer(): void {
    if (!this.#producing) return;
    this.#producing = false;
    this.#claim.release(this.m);
  }

  /** Releases the producer claim (if held), then closes the handle. */
  override close(): void {
    this.releaseProducer();
    super.close();
  }

  /** A position read from shared memory: it must lie in [0, M), or the slot index would leave the ring. */
  #pos(v: number): number {
    if (!(v >= 0 && v < this.#M)) throw new ShmError("CORRUPT", `ring "${this.name}": position ${v} outside [0, ${this.#M})`);
    return v;
  }

  /** The native calls' CORRUPT (or a refused argument: a damaged entry or a bug), worded as the TypeScript path's. */
  #nativeCorrupt(code: number): ShmError {
    if (code === FAST_CORRUPT) {
      return new ShmError(
        "CORRUPT",
        `ring "${this.name}": a position outside [0, ${this.#M}), or head more than ${this.capacity} positions past tail`,
      );
    }
    return new ShmError("CORRUPT", `ring "${this.name}": native fast path refused its arguments (${code})`);
  }

  /** Head − tail beyond the capacity, with the tail unchanged: the control words are damaged. */
  #overfull(avail: number): ShmError {
    return new ShmError("CORRUPT", `ring "${this.name}": head is ${avail} positions past tail, capacity ${this.capacity}`);
  }

  #slot(pos: number): number {
    return this.#mask >= 0 ? pos & this.#mask : pos % this.capacity;
  }

  /** (a - b) modulo M, for positions a at or after b. */
  #dist(a: number, b: number): number {
    const d = a - b;
    return d < 0 ? d + this.#M : d;
  }

  #add(p: number, k: number): number {
    const q = p + k;
    return q >= this.#M ? q - this.#M : q;
  }

  /** Makes positions [h, h + k) visible. The epoch goes first so readers of totalWritten never see it behind head. */
  #publish(i32: Int32Array, h: number, k: number): void {
    const q = this.#add(h, k);
    if ((q >= this.#half) !== (h >= this.#half)) Atomics.add(i32, this.#epoch, 1);
    Atomics.store(i32, this.#head, q);
    this.#lastHead = q;
    notify(this.m, (this.#head << 2) - HEAD + NOT_EMPTY, k); // one load unless a consumer is parked
  }

  /** Appends `value`; false (writing nothing) when the ring is full. EXISTS if another producer holds the ring. */
  tryPush(value: T): boolean {
    const m = this.mem();
    if (!this.#producing) this.claimProducer();
    if (this.#pushN !== undefined && typeof value === "number") {
      const rc = this.#pushN(value);
      if (rc === FAST_OK) return true;
      if (rc === FAST_NONE) return false;
      if (rc === FAST_INVALID) this.type.write(this.#scratch, 0, value); // throws the type's own INVALID_ARGUMENT
      throw this.#nativeCorrupt(rc);
    }
    const b = this.#bytes;
    if (b !== undefined) {
      try {
        this.type.write(b.scratch, 0, value); // checks it: INVALID_ARGUMENT with nothing pushed
      } catch (e) {
        if (this.#looksFull(m.i32)) return false; // a full ring is reported before the value, as below
        throw e;
      }
      const rc = b.push();
      if (rc === FAST_OK) return true;
      if (rc === FAST_NONE) return false;
      throw this.#nativeCorrupt(rc);
    }
    const i32 = m.i32;
    const h = i32[this.#head]; // written only by the producer (us)
    // h < 0: the -1 "no cache" mark is also what a damaged head could hold.
    if (h !== this.#lastHead || h < 0 || this.#dist(h, this.#tailCache) >= this.capacity) {
      this.#pos(h);
      this.#tailCache = this.#pos(Atomics.load(i32, this.#tail));
      if (this.#dist(h, this.#tailCache) >= this.capacity) {
        this.#lastHead = h;
        return false;
      }
    }
    // The slot is free (its old element was committed by a consumer), so writing it
    // directly is safe; a value that fails validation throws before head moves.
    const fast = this.#fast;
    if (fast !== undefined && this.#accepts!(value)) fast[this.#slot(h)] = value;
    else this.type.write(m, this.#data + this.#slot(h) * this.#size, value);
    this.#publish(i32, h, 1);
    return true;
  }

  /** Whether the producer sees no free slot (the positions checked, as tryPush reads them). */
  #looksFull(i32: Int32Array): boolean {
    const h = this.#pos(i32[this.#head]);
    return this.#dist(h, this.#pos(Atomics.load(i32, this.#tail))) >= this.capacity;
  }

  /** Appends `value`; throws FULL when the ring is full. */
  push(value: T): void {
    if (!this.tryPush(value)) throw new ShmError("FULL", `ring "${this.name}" is full (capacity ${this.capacity})`);
  }

  /**
   * Appends `value`, dropping the oldest element when the ring is full. Returns true
   * when an element was dropped. The drop is a CAS on `tail`, so it can never hand the
   * same element to a consumer twice or let a consumer return a half-overwritten one.
   */
  pushOverwrite(value: T): boolean {
    const m = this.mem();
    if (!this.#producing) this.claimProducer();
    const i32 = m.i32;
    const h = this.#pos(Atomics.load(i32, this.#head));
    const t = this.#pos(Atomics.load(i32, this.#tail));
    if (this.#dist(h, t) > this.capacity) throw this.#overfull(this.#dist(h, t)); // only we move head: no race
    const at = this.#data + this.#slot(h) * this.#size;
    this.#tailCache = t; // keep the producer's cache in step with #lastHead (set by #publish)
    const fast = this.#fast;
    if (this.#dist(h, t) < this.capacity) {
      if (fast !== undefined && this.#accepts!(value)) fast[this.#slot(h)] = value;
      else this.type.write(m, at, value);
      this.#publish(i32, h, 1);
      return false;
    }
    // Full: the slot still holds the oldest element. Validate first, so a bad value
    // drops nothing; then drop the oldest (unless a consumer just took it) and reuse.
    const direct = fast !== undefined && this.#accepts!(value);
    if (!direct) this.type.write(this.#scratch, 0, value);
    const dropped = Atomics.compareExchange(i32, this.#tail, t, this.#add(t, 1)) === t;
    this.#tailCache = dropped ? this.#add(t, 1) : t; // t is behind the real tail if the CAS failed: conservative
    if (direct) fast[this.#slot(h)] = value;
    else this.type.write(m, at, value);
    this.#publish(i32, h, 1);
    return dropped;
  }

  /**
   * Appends as many elements of `span` as fit (in order, from the start) and returns
   * how many were written. A typed array of the element's own kind is copied with one
   * memcpy-like `set`; anything else is validated element by element. If an element
   * is invalid, INVALID_ARGUMENT is thrown and nothing is published.
   */
  pushBulk(span: Span<T>): number {
    const m = this.mem();
    if (!this.#producing) this.claimProducer();
    const i32 = m.i32;
    const h = this.#pos(Atomics.load(i32, this.#head));
    this.#tailCache = this.#pos(Atomics.load(i32, this.#tail));
    const free = this.capacity - this.#dist(h, this.#tailCache);
    const n = span.length;
    const k = n < free ? n : free;
    if (k <= 0) return 0;
    const s = this.#slot(h);
    const view = this.#view;
    if (sameKind(view, span)) copyIn(view!, this.capacity, s, span, k);
    else {
      const first = Math.min(k, this.capacity - s); // elements before the end of the data region
      const type = this.type;
      const size = this.#size;
      const fast = this.#fast;
      const accepts = this.#accepts;
      // Unpublished until #publish, so an invalid element (thrown by type.write) publishes nothing.
      for (let i = 0; i < k; i++) {
        const v = span[i];
        const slot = i < first ? s + i : i - first;
        if (fast !== undefined && accepts!(v)) fast[slot] = v;
        else type.write(m, this.#data + slot * size, v);
      }
    }
    this.#publish(i32, h, k);
    return k;
  }

  /**
   * Removes and returns the oldest element, or undefined when the ring is empty. A
   * stored value the type cannot return (an i64AsNumber / u64AsNumber beyond ±2^53,
   * written by other code) is consumed and throws OUT_OF_RANGE, so the next pop returns
   * the element after it.
   */
  tryPop(): T | undefined {
    const m = this.mem();
    if (this.#popN !== undefined) {
      const v = this.#popN();
      if (v === v) return v as T;
      const status = this.#status![FAST_STATUS];
      if (status === FAST_OK) return v as T; // the element was NaN
      if (status === FAST_NONE) return undefined;
      throw this.#nativeCorrupt(status);
    }
    const b = this.#bytes;
    if (b !== undefined) {
      const rc = b.pop();
      // Decoded only now, after the commit: a value the type refuses (a 64-bit "as
      // number" beyond 2^53) throws with the element consumed, as SpscQueue's does.
      if (rc === FAST_OK) return this.type.read(b.scratch, 0);
      if (rc === FAST_NONE) return undefined;
      throw this.#nativeCorrupt(rc);
    }
    const i32 = m.i32;
    let t = i32[this.#tail]; // a stale value only makes the CAS below fail
    for (;;) {
      let avail = t === this.#lastTail && t >= 0 ? this.#dist(this.#headCache, t) : 0;
      if (avail === 0 || avail > this.capacity) {
        this.#pos(t);
        this.#headCache = this.#pos(Atomics.load(i32, this.#head)); // acquire: the elements below head are written
        avail = this.#dist(this.#headCache, t);
        if (avail === 0 || avail > this.capacity) {
          // Empty, or `t` was stale: confirm with a fresh tail before reporting empty.
          const fresh = Atomics.load(i32, this.#tail);
          if (fresh === t) {
            this.#lastTail = t;
            if (avail === 0) return undefined;
            this.#lastTail = -1;
            throw this.#overfull(avail); // head − tail > capacity with tail unchanged: not a race
          }
          t = fresh;
          continue;
        }
      }
      const fast = this.#fast;
      const v = fast !== undefined ? fast[this.#slot(t)] : this.type.read(m, this.#data + this.#slot(t) * this.#size);
      // Commit: fails if the producer overwrote this element or another consumer took it.
      const next = this.#add(t, 1);
      const found = Atomics.compareExchange(i32, this.#tail, t, next);
      if (found === t) {
        this.#lastTail = next;
        notify(m, (this.#tail << 2) - TAIL + NOT_FULL, 1);
        return v;
      }
      t = found;
    }
  }

  /**
   * Removes and returns the oldest element, blocking while the ring is empty (spins
   * briefly, then parks on the futex until the producer pushes; src/wait/wait.ts). Throws
   * ShmError TIMEOUT after `timeout` ms (default: no limit).
   */
  popWait(timeout?: number | WaitOptions): T {
    const at = (this.#head << 2) - HEAD + NOT_EMPTY;
    return waitOrThrow(this.mem(), at, () => this.tryPop(), timeout, `popping from ring "${this.name}"`);
  }

  /** Async `popWait`: rejects with TIMEOUT, or ABORTED on `signal` (nothing popped then). */
  popAsync(options?: AsyncWaitOptions): Promise<T> {
    const at = (this.#head << 2) - HEAD + NOT_EMPTY;
    return waitOrThrowAsync(this.mem(), at, () => this.tryPop(), options, `popping from ring "${this.name}"`);
  }

  /** @internal For `select` (src/wait/select.ts): the "not empty" eventcount and tryPop. */
  selectable(): Selectable<T> {
    return { memory: this.mem(), at: (this.#head << 2) - HEAD + NOT_EMPTY, poll: () => this.tryPop() };
  }

  /** Appends `value` (producer only), blocking while the ring is full. TIMEOUT after `timeout` ms (nothing pushed). */
  pushWait(value: T, timeout?: number | WaitOptions): void {
    if (!this.#producing) this.claimProducer(); // EXISTS at once, not after a wait
    const at = (this.#tail << 2) - TAIL + NOT_FULL;
    waitOrThrow(this.mem(), at, () => (this.tryPush(value) ? true : undefined), timeout, `pushing to ring "${this.name}"`);
  }

  /** Async `pushWait` (producer only): rejects with TIMEOUT or ABORTED (nothing pushed then). */
  async pushAsync(value: T, options?: AsyncWaitOptions): Promise<void> {
    if (!this.#producing) this.claimProducer(); // rejects with EXISTS at once
    const at = (this.#tail << 2) - TAIL + NOT_FULL;
    await waitOrThrowAsync(
      this.mem(),
      at,
      () => (this.tryPush(value) ? true : undefined),
      options,
      `pushing to ring "${this.name}"`,
    );
  }

  /** Removes and returns the oldest element; throws EMPTY when the ring is empty. */
  pop(): T {
    const v = this.tryPop();
    if (v === undefined) throw new ShmError("EMPTY", `ring "${this.name}" is empty`);
    return v;
  }

  /**
   * Removes up to `out.length` of the oldest elements into `out[0..n)` and returns n.
   * Copies are speculative until one CAS commits the whole batch; elements of `out`
   * past the returned count are unspecified (they may hold a discarded copy).
   */
  popBulk(out: Span<T>): number {
    const m = this.mem();
    const i32 = m.i32;
    let want = out.length;
    for (;;) {
      const t = this.#pos(Atomics.load(i32, this.#tail));
      const avail = this.#dist(this.#pos(Atomics.load(i32, this.#head)), t);
      if (avail > this.capacity) {
        // A stale tail (consumers or an overwrite moved it) is retried; an unchanged one is damage.
        if (Atomics.load(i32, this.#tail) === t) throw this.#overfull(avail);
        continue;
      }
      const k = avail < want ? avail : want;
      if (k <= 0) return 0;
      copyOut(m, this.#view, this.type, this.#data, this.capacity, this.#slot(t), k, out);
      if (Atomics.compareExchange(i32, this.#tail, t, this.#add(t, k)) === t) {
        notify(m, (this.#tail << 2) - TAIL + NOT_FULL, 1);
        return k;
      }
      // Lost to an overwrite or another consumer: retry with a smaller batch so a
      // producer overwriting in a loop cannot starve a large copy forever.
      if (want > 1) want = want >> 1;
    }
  }

  /** The oldest element without removing it, or undefined when empty. */
  peek(): T | undefined {
    return this.read(0);
  }

  /**
   * The element `at` places after the oldest (0 = oldest retained) without removing
   * it, or undefined if fewer elements are retained. The copy is validated against
   * `tail` afterwards (a seqlock on the tail), so it is never a half-overwritten one.
   */
  read(at: number): T | undefined {
    const m = this.mem();
    if (!Number.isInteger(at) || at < 0) {
      throw new ShmError("OUT_OF_RANGE", `ring index must be a non-negative integer, got ${at}`);
    }
    const i32 = m.i32;
    for (;;) {
      const t = this.#pos(Atomics.load(i32, this.#tail));
      if (PAUSE_POINT !== undefined) pauseHere("ring.read.window");
      const avail = this.#dist(this.#pos(Atomics.load(i32, this.#head)), t);
      if (avail > this.capacity) {
        if (Atomics.load(i32, this.#tail) === t) throw this.#overfull(avail);
        continue; // head read after the tail moved on: no window to answer from
      }
      // Seqlock on the tail: [t, head) is the retained window only if tail is still t
      // after the element is copied (then the slot was not reused either). A tail that
      // moved means the window moved: retry, never answer from a window that no longer
      // (or not yet) existed as a whole (issue 10: read(capacity) returned a value).
      let v: T | undefined;
      if (at < avail) {
        const s = this.#slot(this.#add(t, at));
        const fast = this.#fast;
        try {
          v = fast !== undefined ? fast[s] : this.type.read(m, this.#data + s * this.#size);
        } catch (e) {
          if (Atomics.load(i32, this.#tail) === t) throw e; // not a torn copy
          continue;
        }
      }
      if (Atomics.load(i32, this.#tail) === t) return v;
    }
  }

  /** Elements currently retained (a snapshot; other processes may change it at once). */
  get size(): number {
    const i32 = this.mem().i32;
    const t = this.#pos(Atomics.load(i32, this.#tail));
    const d = this.#dist(this.#pos(Atomics.load(i32, this.#head)), t);
    return d > this.capacity ? this.capacity : d; // head may run on while we read
  }

  /** True when no element is retained (a snapshot). */
  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** True when the ring holds `capacity` elements (a snapshot). */
  get isFull(): boolean {
    return this.size === this.capacity;
  }

  /**
   * Elements ever pushed into this ring (by any process), for monitoring; exact up to
   * 2^53. Derived from head and the producer's epoch word, no 64-bit atomics needed.
   */
  get totalWritten(): number {
    const i32 = this.mem().i32;
    const h = Atomics.load(i32, this.#head);
    let e = Atomics.load(i32, this.#epoch) >>> 0;
    // The epoch is bumped before head crosses a half of M: if its parity disagrees with
    // the half head is in, it has already moved on from the head we read.
    if ((e & 1) !== (h >= this.#half ? 1 : 0)) e -= 1;
    return Math.floor(e / 2) * this.#M + h;
  }
}
