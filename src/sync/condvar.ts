/**
 * ConditionVariable: a process-shared condition variable (monitor) used with a Mutex.
 *
 * Algorithm: the sequence-counter futex condvar (as in Drepper's "Futexes Are Tricky"
 * and musl/glibc before 2.25): `seq` is the futex word and `waiters` counts parked
 * waiters. `wait` reads `seq`, registers, unlocks the mutex, parks while `seq` is
 * unchanged, then re-locks. `notifyOne`/`notifyAll` bump `seq` and wake one/all, and
 * do nothing at all (no write, no syscall) when nobody waits. A notify that lands
 * between the unlock and the park changes `seq`, so the park returns at once: no
 * lost wakeups. Like every condition variable, `wait` may return spuriously; check
 * the predicate in a loop (or use `waitUntil`).
 *
 * Timeouts: `wait` returns false when its timeout passed (the mutex is held again
 * either way) instead of throwing, so the caller can re-check its predicate; the
 * async form rejects with ABORTED after re-acquiring the mutex.
 *
 * Layout (control area): seq i32 @0, waiters i32 @4 (an eventcount, see src/wait/wait.ts).
 */
import { Errno } from "../errors.ts";
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
  notify,
  type WaitAlgorithm,
} from "../wait/wait.ts";
import type { Mutex } from "./mutex.ts";
import { syncSpec } from "./owner.ts";

const SPEC = syncSpec(Kind.CONDVAR, 64);
const SEQ = 0;
const WAITERS = 4;
const ETIMEDOUT = -Errno.ETIMEDOUT;

/**
 * A named condition variable shared between processes.
 *
 * @example
 * ```ts
 * import { ConditionVariable, Mutex, Queue, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-condvar-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const mu = Mutex.create(seg, "mu");
 * const cv = ConditionVariable.create(seg, "cv");
 * const jobs = Queue.create(seg, "jobs", u32, 16);
 * jobs.push(1); // another process would push, then cv.notifyOne()
 * using _g = mu.lock();
 * assert.equal(cv.waitUntil(mu, () => !jobs.isEmpty, 1000), true);
 * assert.equal(jobs.pop(), 1);
 * ```
 */
export class ConditionVariable extends Handle {
  readonly #at: number;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#at = p.control;
  }

  /** Creates a condition variable named `name`. */
  static create(seg: Segment, name: string): ConditionVariable {
    return new ConditionVariable(seg, seg.createEntry(name, SPEC, 1));
  }

  /** Opens an existing condition variable. */
  static open(seg: Segment, name: string): ConditionVariable {
    return new ConditionVariable(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the condition variable, or creates it. */
  static openOrCreate(seg: Segment, name: string): ConditionVariable {
    return new ConditionVariable(seg, seg.openOrCreateEntry(name, SPEC, 1));
  }

  /** Registers, releases the mutex (NOT_OWNER if not held: registration undone), returns seq. */
  #enter(m: Memory, mutex: Mutex): number {
    const seq = Atomics.load(m.i32, (this.#at + SEQ) >> 2);
    Atomics.add(m.i32, (this.#at + WAITERS) >> 2, 1);
    try {
      mutex.unlock();
    } catch (e) {
      Atomics.sub(m.i32, (this.#at + WAITERS) >> 2, 1);
      throw e;
    }
    return seq;
  }

  /** Parks until `seq` moves or the deadline passes; true unless it timed out. */
  *#park(m: Memory, seq: number, deadline: number): WaitAlgorithm<boolean> {
    try {
      for (;;) {
        const rc = yield { at: this.#at + SEQ, expected: seq };
        if (rc !== ETIMEDOUT) return true;
        if (performance.now() >= deadline) return false;
        // An async slice ended: park again on the same seq (returns at once if it moved).
      }
    } finally {
      if (!m.closed) Atomics.sub(m.i32, (this.#at + WAITERS) >> 2, 1);
    }
  }

  /**
   * Atomically releases `mutex` (which this process must hold) and waits for a
   * notify, then re-acquires `mutex` (without a timeout) before returning. Returns
   * false if `timeout` ms passed without a notify, true otherwise (including
   * spurious wakeups). Whether re-acquiring recovered the mutex from a dead owner is
   * in `mutex.lastLockRecovered`.
   */
  wait(mutex: Mutex, timeout?: number): boolean {
    const m = this.mem();
    const deadline = deadlineOf(timeout);
    const seq = this.#enter(m, mutex);
    try {
      return driveSync(m, this.#park(m, seq, deadline), deadline);
    } finally {
      mutex.lock();
    }
  }

  /**
   * Async `wait`: resolves true on a notify, false on timeout; rejects with ABORTED
   * when `signal` fires. In every case the mutex is held again when it settles.
   */
  async waitAsync(mutex: Mutex, options?: AsyncWaitOptions): Promise<boolean> {
    const what = `waiting on condition variable "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const seq = this.#enter(m, mutex);
    try {
      return await driveAsync(() => this.mem(), this.#park(m, seq, deadline), deadline, options?.signal, what);
    } finally {
      await mutex.lockAsync();
    }
  }

  /**
   * Waits until `predicate()` (evaluated with the mutex held) is true. Returns false
   * if `timeout` ms passed first; the mutex is held on return either way.
   */
  waitUntil(mutex: Mutex, predicate: () => boolean, timeout?: number): boolean {
    const deadline = deadlineOf(timeout);
    while (!predicate()) {
      const left = deadline - performance.now();
      if (left <= 0 || !this.wait(mutex, left === Infinity ? undefined : left)) return predicate();
    }
    return true;
  }

  /** Async `waitUntil`. */
  async waitUntilAsync(mutex: Mutex, predicate: () => boolean, options?: AsyncWaitOptions): Promise<boolean> {
    const deadline = asyncDeadline(options);
    while (!predicate()) {
      const left = deadline - performance.now();
      if (left <= 0) return predicate();
      const timeout = left === Infinity ? undefined : left;
      if (!await this.waitAsync(mutex, { timeout, signal: options?.signal })) return predicate();
    }
    return true;
  }

  /** Wakes one waiter (no-op, without a syscall, when nobody waits). */
  notifyOne(): void {
    notify(this.mem(), this.#at, 1);
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    notify(this.mem(), this.#at, ALL);
  }

  /** Processes/threads currently registered as waiting. */
  get waiters(): number {
    return Atomics.load(this.mem().i32, (this.#at + WAITERS) >> 2);
  }
}
