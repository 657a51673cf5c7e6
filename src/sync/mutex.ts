/**
 * Mutex: a robust, process-shared mutual exclusion lock.
 *
 * Algorithm: Drepper's three-state futex mutex ("Futexes Are Tricky", 2011, mutex
 * #3: 0 free / 1 locked / 2 locked with waiters), with the locked states carrying the
 * owner's pid (`pid` and `pid | WAITERS`, see ./owner.ts). Uncontended lock and
 * unlock are one CAS and one exchange, with no syscall; a contended locker spins
 * briefly, sets the WAITERS bit and parks on the word; unlock wakes one waiter only
 * when the bit was set.
 *
 * Robustness: a parked locker wakes every LIVENESS_CHECK_MS (100 ms) while the lock
 * stays held and checks whether the owner process is alive (pid + start time). If it
 * died, the locker takes the lock over with a CAS from the dead owner's word and is
 * told: the guard's `recovered` is true, and so is `mutex.lastLockRecovered`. The
 * data the lock protects may be half-updated; the recovering process decides what to
 * do about it. (`recoveries` counts takeovers across all processes.)
 *
 * Ownership is per process (threads/workers of one process share a pid): the lock is
 * not reentrant, and `unlock` from a process that does not hold it throws NOT_OWNER.
 * Do not call the blocking `lock` on a thread whose own async code holds the lock:
 * the holder cannot run to release it (the wait ends only at its timeout).
 *
 * Layout (control area, one cache line): word i32 @0, recoveries u32 @4, owner
 * record @16 (tag pid i32, start time u64 @24).
 */
import { Errno, ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import type { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import type { Placement } from "../segment/structure.ts";
import { native } from "../../ffi/mod.ts";
import {
  asyncDeadline,
  type AsyncWaitOptions,
  checkAborted,
  deadlineOf,
  driveAsync,
  driveSync,
  timeoutError,
  type WaitAlgorithm,
} from "../wait/wait.ts";
import {
  clearOwner,
  forgetOwner,
  LIVENESS_CHECK_MS,
  myPid,
  ownerAlive,
  PID_MASK,
  recordOwner,
  syncSpec,
  WAITERS,
} from "./owner.ts";

const SPEC = syncSpec(Kind.MUTEX, 64);
const WORD = 0;
const RECOVERIES = 4;
const RECORD = 16;
const SPIN = 100;
const ACQUIRED = -1;
const RECOVERED = -2;
const ETIMEDOUT = -Errno.ETIMEDOUT;

/**
 * What `lock` returns: release it with `unlock()` or by leaving a `using` block.
 *
 * @example
 * ```ts
 * import { Mutex, Segment, type LockGuard } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-guard-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const mu = Mutex.create(seg, "lock");
 * const g: LockGuard = mu.lock();
 * assert.equal(g.recovered, false);
 * assert.equal(mu.tryLock(), undefined); // held
 * g.unlock();
 * assert.ok(!mu.locked);
 * ```
 */
export interface LockGuard extends Disposable {
  /** True when the lock was taken over from a process that died holding it. */
  readonly recovered: boolean;
  /** Releases the lock (once; later calls do nothing). */
  unlock(): void;
}

/** A lock guard that runs its release once (shared by Mutex and RWLock). */
export class Guard implements LockGuard {
  #release: (() => void) | undefined;
  constructor(readonly recovered: boolean, release: () => void) {
    this.#release = release;
  }
  unlock(): void {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }
  [Symbol.dispose](): void {
    this.unlock();
  }
}

/**
 * A named mutex shared between processes; see the module comment for the algorithm.
 *
 * @example
 * ```ts
 * import { Mutex, Segment, SharedArray, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-mutex-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const mu = Mutex.openOrCreate(seg, "lock");
 * const counter = SharedArray.create(seg, "counter", u32, 1);
 * {
 *   using g = mu.lock(1000); // TIMEOUT after 1 s
 *   if (g.recovered) counter.set(0, 0); // the previous owner died holding it: repair
 *   counter.set(0, counter.get(0) + 1);
 * } // unlocked here
 * assert.equal(mu.locked, false);
 * assert.equal(mu.withLock(() => counter.get(0)), 1);
 * ```
 */
export class Mutex extends Handle {
  readonly #word: number;
  readonly #rec: number;
  /** Whether the most recent acquisition through this handle took over from a dead owner. */
  lastLockRecovered = false;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#word = p.control + WORD;
    this.#rec = p.control + RECORD;
  }

  /** Creates an unlocked mutex named `name`; EXISTS if the name is taken. */
  static create(seg: Segment, name: string): Mutex {
    return new Mutex(seg, seg.createEntry(name, SPEC, 1));
  }

  /** Opens an existing mutex; NOT_FOUND if absent, TYPE_MISMATCH if `name` is another kind. */
  static open(seg: Segment, name: string): Mutex {
    return new Mutex(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the mutex, or creates it if it does not exist (atomic across processes). */
  static openOrCreate(seg: Segment, name: string): Mutex {
    return new Mutex(seg, seg.openOrCreateEntry(name, SPEC, 1));
  }

  /** True while some process holds the lock. */
  get locked(): boolean {
    return (Atomics.load(this.mem().i32, this.#word >> 2) & PID_MASK) !== 0;
  }

  /** Pid of the process holding the lock, or 0. */
  get owner(): number {
    return Atomics.load(this.mem().i32, this.#word >> 2) & PID_MASK;
  }

  /** How many times, in any process, the lock was taken over from a dead owner. */
  get recoveries(): number {
    return Atomics.load(this.mem().u32, (this.#word + RECOVERIES) >> 2);
  }

  #guard(recovered: boolean): LockGuard {
    this.lastLockRecovered = recovered;
    return new Guard(recovered, () => this.unlock());
  }

  /**
   * One attempt: takes the lock (ACQUIRED / RECOVERED) or returns the word value to
   * park on, with the WAITERS bit set. `checkOwner` tests the owner's liveness.
   */
  #step(m: Memory, pid: number, waited: boolean, checkOwner: boolean): number {
    const i32 = m.i32;
    const w = this.#word >> 2;
    for (;;) {
      // Drepper: once we have slept, take the lock in the "waiters" state, since
      // others may still be parked and the unlock must wake one of them.
      const c = Atomics.compareExchange(i32, w, 0, waited ? pid | WAITERS : pid);
      if (c === 0) {
        recordOwner(m, this.#rec);
        return ACQUIRED;
      }
      const owner = c & PID_MASK;
      if (checkOwner && !ownerAlive(m, this.#rec, owner)) {
        forgetOwner(m, this.#rec);
        if (Atomics.compareExchange(i32, w, c, pid | WAITERS) === c) {
          recordOwner(m, this.#rec);
          Atomics.add(m.u32, (this.#word + RECOVERIES) >> 2, 1);
          return RECOVERED;
        }
        continue;
      }
      if ((c & WAITERS) !== 0) return c;
      if (Atomics.compareExchange(i32, w, c, c | WAITERS) === c) return c | WAITERS;
    }
  }

  #fast(m: Memory, pid: number): boolean {
    const i32 = m.i32;
    const w = this.#word >> 2;
    if (Atomics.compareExchange(i32, w, 0, pid) === 0) {
      recordOwner(m, this.#rec);
      return true;
    }
    for (let i = 0; i < SPIN; i++) {
      if (Atomics.load(i32, w) === 0 && Atomics.compareExchange(i32, w, 0, pid) === 0) {
        recordOwner(m, this.#rec);
        return true;
      }
    }
    return false;
  }

  /** Takes the lock if it is free; returns a guard, or undefined if it is held. */
  tryLock(): LockGuard | undefined {
    const m = this.mem();
    const pid = myPid();
    if (Atomics.compareExchange(m.i32, this.#word >> 2, 0, pid) !== 0) return undefined;
    recordOwner(m, this.#rec);
    return this.#guard(false);
  }

  /** The contended path as a wait algorithm (see src/wait/wait.ts): returns whether it recovered. */
  *#acquire(m: Memory, pid: number, deadline: number, timeout: number | undefined): WaitAlgorithm<boolean> {
    let waited = false;
    let check = false;
    for (;;) {
      const r = this.#step(m, pid, waited, check);
      if (r < 0) return r === RECOVERED;
      if (performance.now() >= deadline) throw timeoutError(`locking mutex "${this.name}"`, timeout);
      const rc = yield { at: this.#word, expected: r, sliceMs: LIVENESS_CHECK_MS };
      waited = true;
      check = rc === ETIMEDOUT;
    }
  }

  /**
   * Blocks until the lock is acquired and returns a guard (use with `using`).
   * Throws ShmError TIMEOUT if `timeout` ms pass first (default: wait forever).
   * The guard's `recovered` tells whether the previous owner died holding it.
   */
  lock(timeout?: number): LockGuard {
    const m = this.mem();
    const pid = myPid();
    if (this.#fast(m, pid)) return this.#guard(false);
    const deadline = deadlineOf(timeout);
    return this.#guard(driveSync(m, this.#acquire(m, pid, deadline, timeout), deadline));
  }

  /**
   * Async `lock`: resolves with a guard without blocking the event loop. Rejects with
   * TIMEOUT after `timeout` ms, with ABORTED when `signal` fires (the mutex is left
   * as it was; this caller does not hold it).
   */
  async lockAsync(options?: AsyncWaitOptions): Promise<LockGuard> {
    const what = `locking mutex "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const pid = myPid();
    if (this.#fast(m, pid)) return this.#guard(false);
    const alg = this.#acquire(m, pid, deadline, options?.timeout);
    return this.#guard(await driveAsync(() => this.mem(), alg, deadline, options?.signal, what));
  }

  /**
   * Releases the lock. Throws NOT_OWNER if this process does not hold it. Wakes one
   * parked locker when the WAITERS bit was set (no syscall otherwise).
   */
  unlock(): void {
    const m = this.mem();
    const pid = myPid();
    const c = Atomics.load(m.i32, this.#word >> 2);
    if ((c & PID_MASK) !== pid) {
      throw new ShmError(
        "NOT_OWNER",
        `mutex "${this.name}" is ${c === 0 ? "not locked" : `held by process ${c & PID_MASK}`}; process ${pid} cannot unlock it`,
      );
    }
    clearOwner(m, this.#rec);
    const old = Atomics.exchange(m.i32, this.#word >> 2, 0);
    if ((old & WAITERS) !== 0) native().futexWake(m.base, this.#word, 1);
  }

  /** Runs `fn` with the lock held (sync form of `using g = mu.lock()`). */
  withLock<T>(fn: (recovered: boolean) => T, timeout?: number): T {
    using g = this.lock(timeout);
    return fn(g.recovered);
  }
}
