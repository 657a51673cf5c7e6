/**
 * BroadcastReader<T>: one reader's cursor over a BroadcastRing. It never writes the
 * ring; it detects being overrun by the slot stamps and reports what it missed.
 */
import type { ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import type { Segment } from "../segment/segment.ts";
import type { Placement } from "../segment/structure.ts";
import { type AsyncWaitOptions, type WaitOptions, waitOrThrow, waitOrThrowAsync } from "../wait/wait.ts";
import type { Selectable } from "../wait/select.ts";
import { done, elementView, NEW_MESSAGE, POS_LO, published, type ReaderSource } from "./broadcast_layout.ts";

/**
 * One reader's cursor over a BroadcastRing. The cursor lives in the reader's process
 * (not in shared memory): any number of readers cost the writer nothing.
 *
 * `tryRead()` returns the next message in order, or undefined when there is none yet.
 * If the writer lapped this reader, the lost messages are skipped and added to `missed`,
 * and `tryRead()` returns the oldest message still retained; `position` is always the
 * sequence number of the next message, so `position - 1` is that of the one just read.
 *
 * @example
 * ```ts
 * import { BroadcastRing, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-breader-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const events = BroadcastRing.create(seg, "events", u32, 8);
 * events.publishBulk([1, 2, 3]);
 * const late = events.reader({ from: "oldest" });
 * assert.equal(late.lag, 3);
 * assert.deepEqual([late.readWait(100), late.readWait(100)], [1, 2]);
 * ```
 */
export class BroadcastReader<T> extends Handle {
  /** Messages this reader lost because the writer overwrote them before they were read. */
  missed = 0;
  readonly #ring: ReaderSource<T>;
  readonly #type: ElementType<T>;
  readonly #cap: number;
  readonly #data: number;
  readonly #stride: number;
  readonly #hdr: number;
  readonly #lo: number;
  readonly #ep: number;
  #pos: number;
  #slot: number;
  #known: number; // positions below this are published (last value read from the ring)
  /** Numeric kinds: typed array over the data region (see elementView); reads need no `accepts`. */
  readonly #view: { [i: number]: T } | undefined;
  readonly #vStride: number = 0;
  readonly #vOff: number = 0;

  /** @internal Use BroadcastRing.reader(). */
  constructor(seg: Segment, p: Placement, ring: ReaderSource<T>, start: number) {
    super(seg, p);
    this.#ring = ring;
    this.#type = ring.type;
    this.#cap = ring.capacity;
    [this.#data, this.#stride, this.#hdr, this.#lo, this.#ep] = ring._geometry();
    this.#pos = start;
    this.#slot = start % ring.capacity;
    this.#known = start;
    const ev = elementView(ring.type, this.m.buffer, this.#data, this.#cap);
    if (ev !== undefined) {
      this.#view = ev.view;
      this.#vStride = ev.stride;
      this.#vOff = ev.off;
    }
  }

  /** Sequence number of the next message this reader will return. */
  get position(): number {
    return this.#pos;
  }

  /** Messages published but not yet read by this reader (may exceed capacity when overrun). */
  get lag(): number {
    const m = this.mem();
    return Math.max(0, published(m.i32, this.#lo, this.#ep) - this.#pos);
  }

  #jump(to: number): void {
    this.missed += to - this.#pos;
    this.#pos = to;
    this.#slot = to % this.#cap;
  }

  /**
   * The next message, or undefined when this reader has seen everything published.
   * Never returns a torn element: the slot's stamp is checked before and after the copy.
   */
  tryRead(): T | undefined {
    const m = this.mem();
    const i32 = m.i32;
    for (;;) {
      if (this.#pos >= this.#known) {
        const w = published(i32, this.#lo, this.#ep);
        this.#known = w;
        if (w <= this.#pos) return undefined;
        // Lapped by more than a whole ring: skip straight to the oldest retained message.
        if (w - this.#pos > this.#cap) this.#jump(w - this.#cap);
      }
      const at = this.#data + this.#slot * this.#stride;
      const want = done(this.#pos);
      if (Atomics.load(i32, at >> 2) === want) {
        const view = this.#view;
        const v = view !== undefined ? view[this.#slot * this.#vStride + this.#vOff] : this.#type.read(m, at + this.#hdr);
        if (Atomics.load(i32, at >> 2) === want) {
          this.#pos++;
          if (++this.#slot === this.#cap) this.#slot = 0;
          return v;
        }
      }
      // The message was published (pos < known) but its slot now holds a later one or
      // is being rewritten: it is lost. Skip to the oldest message that may be intact.
      const w = published(i32, this.#lo, this.#ep);
      this.#known = w;
      this.#jump(Math.max(this.#pos + 1, w - this.#cap));
    }
  }

  /** Reads up to `out.length` messages into `out`, returns how many (gaps are counted in `missed`). */
  readBulk(out: T[] | { [n: number]: T; length: number }): number {
    let n = 0;
    while (n < out.length) {
      const v = this.tryRead();
      if (v === undefined) break;
      out[n++] = v;
    }
    return n;
  }

  /**
   * The next message, blocking while there is none (spins briefly, then parks on the
   * futex until the writer publishes; src/wait/wait.ts). Throws ShmError TIMEOUT after
   * `timeout` ms (default: no limit).
   */
  readWait(timeout?: number | WaitOptions): T {
    const at = (this.#lo << 2) - POS_LO + NEW_MESSAGE;
    return waitOrThrow(this.mem(), at, () => this.tryRead(), timeout, `reading broadcast ring "${this.name}"`);
  }

  /** Async `readWait`: rejects with TIMEOUT, or ABORTED on `signal` (the cursor does not move then). */
  readAsync(options?: AsyncWaitOptions): Promise<T> {
    const at = (this.#lo << 2) - POS_LO + NEW_MESSAGE;
    return waitOrThrowAsync(this.mem(), at, () => this.tryRead(), options, `reading broadcast ring "${this.name}"`);
  }

  /** @internal For `select` (src/wait/select.ts): the "new message" eventcount and tryRead. */
  selectable(): Selectable<T> {
    return { memory: this.mem(), at: (this.#lo << 2) - POS_LO + NEW_MESSAGE, poll: () => this.tryRead() };
  }

  /**
   * Async iterator protocol: resolves with the next message once one is published
   * (`for await (const msg of reader)`), or `{ done: true }` once this reader (or its
   * segment) is closed. The loop never ends on its own: break out of it, or close the
   * reader. Use `readAsync` for a timeout or an AbortSignal.
   */
  async next(): Promise<IteratorResult<T, undefined>> {
    try {
      return { done: false, value: await this.readAsync() };
    } catch (e) {
      if (e instanceof ShmError && e.code === "CLOSED") return { done: true, value: undefined };
      throw e;
    }
  }

  /** `for await (const msg of reader)`: the reader is its own async iterator (see `next`). */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return this;
  }

  /** Closes this reader (the ring and other readers are unaffected). */
  override close(): void {
    this.#ring._forget(this);
    super.close();
  }
}
