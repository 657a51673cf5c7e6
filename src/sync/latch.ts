/**
 * Latch: a process-shared count-down latch (single use), as java.util.concurrent's
 * CountDownLatch or C++20 std::latch.
 *
 * Algorithm: the remaining count is the futex word. `countDown` decrements it with a
 * CAS (never below zero) and, on reaching zero, wakes every parked waiter. Waiters
 * park while the word holds the value they last read; a decrement that does not
 * reach zero changes the word without waking anyone (a waiter entering later sees
 * the new value), so only the final count-down costs a syscall, and only when
 * someone waits.
 *
 * Every wait throws ShmError TIMEOUT when its timeout passes.
 *
 * Layout (control area): count i32 @0, waiters i32 @4, initial count u32 @8.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import { S } from "../segment/format.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import type { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import type { Placement } from "../segment/structure.ts";
import {
  ALL,
  asyncDeadline,
  type AsyncWaitOptions,
  checkAborted,
  deadlineOf,
  driveAsync,
  driveSync,
  timeoutError,
  type WaitAlgorithm,
} from "../wait/wait.ts";
import { syncSpec } from "./owner.ts";

const SPEC = syncSpec(Kind.LATCH, 64);
const COUNT = 0;
const WAITERS = 4;
const INITIAL = 8;

function checkCount(n: unknown, what: string, min: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > 0x7fffffff) {
    throw new ShmError("INVALID_ARGUMENT", `${what} must be an integer from ${min} to ${0x7fffffff}, got ${String(n)}`);
  }
  return n;
}

function specFor(count: number) {
  return {
    ...SPEC,
    init(m: Memory, b: number) {
      m.i32[(b + S.size + COUNT) >> 2] = count;
      m.u32[(b + S.size + INITIAL) >> 2] = count;
    },
  };
}

/**
 * A named count-down latch.
 *
 * @example
 * ```ts
 * import { Latch, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-latch-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const ready = Latch.create(seg, "ready", 2); // e.g. two workers to start
 * ready.countDown(); // in each worker
 * assert.equal(ready.tryWait(), false);
 * ready.countDown();
 * ready.wait(1000); // returns at once: the count is zero
 * assert.equal(ready.count, 0);
 * ```
 */
export class Latch extends Handle {
  readonly #at: number;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#at = p.control;
  }

  /** Creates a latch that opens after `count` count-downs. */
  static create(seg: Segment, name: string, count: number): Latch {
    return new Latch(seg, seg.createEntry(name, specFor(checkCount(count, "count", 0)), 1));
  }

  /** Opens an existing latch. */
  static open(seg: Segment, name: string): Latch {
    return new Latch(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the latch, or creates it with `count`. */
  static openOrCreate(seg: Segment, name: string, count: number): Latch {
    return new Latch(seg, seg.openOrCreateEntry(name, specFor(checkCount(count, "count", 0)), 1));
  }

  /** Count-downs still needed before the latch opens. */
  get count(): number {
    return Atomics.load(this.mem().i32, (this.#at + COUNT) >> 2);
  }

  /** Decrements the count by `n` (default 1); opening the latch wakes every waiter. OUT_OF_RANGE below zero. */
  countDown(n = 1): void {
    const m = this.mem();
    checkCount(n, "count-down", 1);
    const w = (this.#at + COUNT) >> 2;
    for (;;) {
      const c = Atomics.load(m.i32, w);
      if (c - n < 0) throw new ShmError("OUT_OF_RANGE", `latch "${this.name}" has ${c} count-downs left, cannot count down ${n}`);
      if (Atomics.compareExchange(m.i32, w, c, c - n) !== c) continue;
      if (c - n === 0 && Atomics.load(m.i32, (this.#at + WAITERS) >> 2) > 0) native().futexWake(m.base, this.#at + COUNT, ALL);
      return;
    }
  }

  /** True if the latch is open (count zero), without waiting. */
  tryWait(): boolean {
    return this.count === 0;
  }

  *#wait(m: Memory, deadline: number, timeout: number | undefined): WaitAlgorithm<void> {
    const waiters = (this.#at + WAITERS) >> 2;
    for (;;) {
      const c = Atomics.load(m.i32, (this.#at + COUNT) >> 2);
      if (c === 0) return;
      if (performance.now() >= deadline) throw timeoutError(`waiting on latch "${this.name}"`, timeout);
      Atomics.add(m.i32, waiters, 1);
      try {
        yield { at: this.#at + COUNT, expected: c };
      } finally {
        if (!m.closed) Atomics.sub(m.i32, waiters, 1);
      }
    }
  }

  /** Blocks until the count reaches zero; TIMEOUT after `timeout` ms. */
  wait(timeout?: number): void {
    const m = this.mem();
    const deadline = deadlineOf(timeout);
    driveSync(m, this.#wait(m, deadline, timeout), deadline);
  }

  /** Async `wait`: rejects with TIMEOUT or ABORTED (the latch is unaffected). */
  async waitAsync(options?: AsyncWaitOptions): Promise<void> {
    const what = `waiting on latch "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    await driveAsync(() => this.mem(), this.#wait(m, deadline, options?.timeout), deadline, options?.signal, what);
  }

  /** Counts down once and waits for the latch to open (C++ `arrive_and_wait`). */
  arriveAndWait(timeout?: number): void {
    this.countDown();
    this.wait(timeout);
  }
}
