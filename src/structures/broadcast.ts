/**
 * BroadcastRing<T>: one writer, any number of readers, each with its own cursor. The
 * writer never waits for anybody; a reader that falls more than `capacity` messages
 * behind is told how many it missed and continues from the oldest retained message.
 *
 * Layout of the block (docs/FORMAT.md has the byte-level version):
 *
 *   header   64 bytes (structure header, capacity)
 *   line 0   posLo i32 @+0    messages published, low 32 bits        (writer only)
 *            posEp i32 @+4    messages published / 2^31 (half-epoch)  (writer only)
 *            eventcount @+8   "new message" (seq i32, waiters i32): readWait/readAsync/next park here
 *   line 1   claim u64 @+64   writer identity: pid * 2^31 + (start time mod 2^31), 0 = none (src/structures/writer_claim.ts)
 *   data     capacity slots of `stride` bytes: seq i32 @+0, element @+hdr (hdr = 4 or 8)
 *
 * A slot's `seq` is 2*(p+1) (mod 2^32) once message p is fully written in it, and that
 * value + 1 (odd) while the writer is rewriting it.
 */
import type { ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";
import { ALL, notify } from "../wait/wait.ts";
import { WriterClaim } from "./writer_claim.ts";
import {
  BROADCAST_MAX_CAPACITY,
  CLAIM,
  done,
  elementView,
  layout,
  NEW_MESSAGE,
  POS_EP,
  POS_LO,
  published,
  type ReaderOptions,
  spec,
  TWO_31,
} from "./broadcast_layout.ts";
import { BroadcastReader } from "./broadcast_reader.ts";

export { BROADCAST_MAX_CAPACITY, type ReaderOptions } from "./broadcast_layout.ts";
export { BroadcastReader } from "./broadcast_reader.ts";

/**
 * A broadcast ring in shared memory: one writer, any number of readers.
 *
 * Algorithm: a single-writer ring with a seqlock per slot (as in the LMAX Disruptor's
 * multicast ring and Aeron's broadcast buffer). For message p the writer marks slot
 * p % capacity busy (odd stamp), writes the element, stamps it done(p), then publishes
 * the position. A reader copies the element out and re-reads the stamp: an unchanged
 * done(p) proves the copy is whole; anything else means the writer lapped it, so the
 * copy is discarded and the reader skips ahead, counting what it missed. The writer
 * never reads reader state, so a slow, stopped or dead reader cannot stall it (the
 * ancestor's broadcast ring waited for its slowest reader).
 *
 * One writer at a time: the first `publish` claims the ring with a CAS on a claim word
 * holding the writer's pid and start time; another live writer gets EXISTS, and the claim
 * of a writer that died is taken over.
 *
 * @example
 * ```ts
 * import { BroadcastRing, f64, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-bcast-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const ticks = BroadcastRing.create(seg, "ticks", f64, 1024);
 * const r = ticks.reader({ from: "now" }); // in any process
 * ticks.publish(1.5); // in the writer process
 * assert.equal(r.tryRead(), 1.5);
 * assert.equal(r.tryRead(), undefined);
 * ```
 */
export class BroadcastRing<T> extends Handle {
  /** Slots: a reader more than this many messages behind loses the oldest ones. */
  readonly capacity: number;
  /** The element type. */
  readonly type: ElementType<T>;
  readonly #seg: Segment;
  readonly #p: Placement;
  readonly #hdr: number;
  readonly #stride: number;
  readonly #lo: number; // i32 indexes
  readonly #ep: number;
  readonly #claim: WriterClaim; // the writer claim word (src/structures/writer_claim.ts)
  readonly #scratch: Memory;
  /** Numeric kinds with `accepts` (see elementView): validate with `accepts`, store with one indexed write. */
  readonly #fast: { [i: number]: T } | undefined;
  readonly #accepts: ((v: unknown) => boolean) | undefined; // `unknown`: keeps the class covariant in T
  readonly #vStride: number = 0;
  readonly #vOff: number = 0;
  readonly #readers = new Set<BroadcastReader<T>>();
  // Writer state, valid while #writing: the position and slot of the next message.
  #writing = false;
  #pos = 0;
  #slot = 0;
  #nextEpoch = 0;

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    if (!(p.capacity >= 1 && p.capacity <= BROADCAST_MAX_CAPACITY)) {
      throw new ShmError("CORRUPT", `broadcast ring "${p.name}" claims capacity ${p.capacity} > ${BROADCAST_MAX_CAPACITY}`);
    }
    this.capacity = p.capacity;
    this.type = type;
    this.#seg = seg;
    this.#p = p;
    const { hdr, stride } = layout(type);
    this.#hdr = hdr;
    this.#stride = stride;
    this.#lo = (p.control + POS_LO) >> 2;
    this.#ep = (p.control + POS_EP) >> 2;
    this.#claim = new WriterClaim(
      seg.name,
      p.offset,
      p.control + CLAIM,
      { what: `broadcast ring "${p.name}"`, role: "writer", cls: "BroadcastRing" },
      () => this.m.closed,
    );
    this.#scratch = new Memory(0, new ArrayBuffer(Math.ceil(type.size / 64) * 64));
    const ev = type.accepts ? elementView(type, this.m.buffer, p.data, p.capacity) : undefined;
    if (ev !== undefined) {
      this.#fast = ev.view;
      this.#accepts = type.accepts as (v: unknown) => boolean;
      this.#vStride = ev.stride;
      this.#vOff = ev.off;
    }
  }

  /** Creates a broadcast ring with `capacity` slots (1 to 2^30, any integer). EXISTS if the name is taken. */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): BroadcastRing<T> {
    const s = spec(type);
    checkCapacity(capacity, "broadcast capacity", BROADCAST_MAX_CAPACITY);
    return new BroadcastRing(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing broadcast ring; TYPE_MISMATCH if it holds another type, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): BroadcastRing<T> {
    return new BroadcastRing(seg, seg.openEntry(name, spec(type)), type);
  }

  /** Opens the ring, or creates it with `capacity` slots if it does not exist. */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): BroadcastRing<T> {
    const s = spec(type);
    checkCapacity(capacity, "broadcast capacity", BROADCAST_MAX_CAPACITY);
    return new BroadcastRing(seg, seg.openOrCreateEntry(name, s, capacity), type);
  }

  /** Messages published so far by all writers (exact up to 2^53). */
  get published(): number {
    return published(this.mem().i32, this.#lo, this.#ep);
  }

  /** True while this handle holds the writer claim. */
  get isWriter(): boolean {
    return this.#writing && !this.m.closed;
  }

  /**
   * Makes this handle the ring's writer (publish does it on first use). EXISTS if
   * another live process, or another handle in this process, is the writer; the claim
   * of a writer that died is taken over.
   */
  claimWriter(): void {
    const m = this.mem();
    if (this.#writing) return;
    this.#claim.acquire(m);
    // Continue from the published position (a dead writer may have left a slot half
    // written; it was never published, and we rewrite it).
    this.#pos = published(m.i32, this.#lo, this.#ep);
    this.#slot = this.#pos % this.capacity;
    this.#nextEpoch = (Math.floor(this.#pos / TWO_31) + 1) * TWO_31;
    this.#writing = true;
  }

  /** Gives up the writer claim so another handle or process can publish. */
  releaseWriter(): void {
    if (!this.#writing) return;
    this.#writing = false;
    this.#claim.release(this.m);
  }

  /** Writes message `#pos` into its slot (value already validated; `direct`: accepted by the numeric fast path). */
  #put(m: Memory, value: T, direct: boolean): void {
    const i32 = m.i32;
    const at = this.#p.data + this.#slot * this.#stride;
    const seq = done(this.#pos);
    Atomics.store(i32, at >> 2, seq | 1); // busy: readers of the old message will see a change
    if (direct) this.#fast![this.#slot * this.#vStride + this.#vOff] = value;
    else this.type.write(m, at + this.#hdr, value);
    Atomics.store(i32, at >> 2, seq);
    this.#pos++;
    if (++this.#slot === this.capacity) this.#slot = 0;
  }

  /** Makes everything written so far visible to readers (epoch word first, see `published`). */
  #advance(i32: Int32Array): void {
    const p = this.#pos;
    if (p >= this.#nextEpoch) {
      Atomics.store(i32, this.#ep, Math.floor(p / TWO_31) | 0);
      this.#nextEpoch = (Math.floor(p / TWO_31) + 1) * TWO_31;
    }
    Atomics.store(i32, this.#lo, p | 0);
    notify(this.m, (this.#lo << 2) - POS_LO + NEW_MESSAGE, ALL); // wakes every parked reader
  }

  /**
   * Publishes one message. Never waits: the oldest message is overwritten when every
   * slot is in use, whoever has not read it yet. A value that does not fit the type
   * throws INVALID_ARGUMENT and nothing is written.
   */
  publish(value: T): void {
    const m = this.mem();
    if (!this.#writing) this.claimWriter();
    // Validate before touching the ring: `accepts` for numeric kinds, else a write into a scratch buffer.
    const direct = this.#fast !== undefined && this.#accepts!(value);
    if (!direct) this.type.write(this.#scratch, 0, value);
    this.#put(m, value, direct);
    this.#advance(m.i32);
  }

  /**
   * Publishes every element of `span` in order and returns how many (span.length). All
   * values are validated first, so an invalid one publishes nothing. When the span is
   * longer than the capacity only its last `capacity` elements can ever be read; the
   * earlier ones are counted as missed by every reader.
   */
  publishBulk(span: ArrayLike<T>): number {
    const m = this.mem();
    if (!this.#writing) this.claimWriter();
    const n = span.length;
    const ctor = this.type.typedArray;
    const fast = this.#fast;
    const accepts = this.#accepts;
    if (ctor === undefined || span.constructor !== ctor) {
      for (let i = 0; i < n; i++) {
        const v = span[i];
        if (fast === undefined || !accepts!(v)) this.type.write(this.#scratch, 0, v);
      }
    }
    const skip = n > this.capacity ? n - this.capacity : 0;
    if (skip > 0) {
      this.#pos += skip;
      this.#slot = this.#pos % this.capacity;
    }
    for (let i = skip; i < n; i++) {
      const v = span[i];
      this.#put(m, v, fast !== undefined && accepts!(v));
    }
    this.#advance(m.i32);
    return n;
  }

  /**
   * A new reader with its own cursor, living in this process only (readers are never
   * registered in shared memory, so the writer cannot wait for them). `from: "now"`
   * (default) starts at the next message; `"oldest"` at the oldest one still retained.
   */
  reader(options: ReaderOptions = {}): BroadcastReader<T> {
    const m = this.mem();
    const from = options.from ?? "now";
    if (from !== "now" && from !== "oldest") {
      throw new ShmError("INVALID_ARGUMENT", `reader from must be "now" or "oldest", got ${String(from)}`);
    }
    const w = published(m.i32, this.#lo, this.#ep);
    const start = from === "now" ? w : Math.max(0, w - this.capacity);
    const r = new BroadcastReader<T>(this.#seg, this.#p, this, start);
    this.#readers.add(r);
    return r;
  }

  /** @internal */
  _forget(r: BroadcastReader<T>): void {
    this.#readers.delete(r);
  }

  /** @internal Reader geometry: [data, stride, hdr, posLo index, posEpoch index]. */
  _geometry(): [number, number, number, number, number] {
    return [this.#p.data, this.#stride, this.#hdr, this.#lo, this.#ep];
  }

  /** Releases the writer claim (if held), closes this handle's readers, then the handle. */
  override close(): void {
    this.releaseWriter();
    for (const r of [...this.#readers]) r.close();
    super.close();
  }
}

/** @internal Test helper: sets an idle ring's published count (e.g. just below 2^32). Not exported from mod.ts. */
export const _broadcastTesting = {
  setPublished(seg: Segment, ring: BroadcastRing<unknown>, total: number): void {
    const i32 = seg.memory.i32;
    const control = ring.offset + 64;
    Atomics.store(i32, (control + POS_EP) >> 2, Math.floor(total / TWO_31) | 0);
    Atomics.store(i32, (control + POS_LO) >> 2, total | 0);
  },
};
