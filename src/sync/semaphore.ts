/**
 * Semaphore: a counting semaphore shared between processes.
 *
 * Algorithm: the permit count is the futex word. `acquire` takes a permit with a CAS
 * that never lets the count go below zero (so it can never over-admit), spinning
 * briefly and then parking on the word while it reads 0. `release` adds permits and
 * wakes as many parked acquirers as it added, only when the waiter count (in shared
 * memory) says someone is parked, so an uncontended acquire/release pair is two
 * atomic operations and no syscall.
 *
 * Not robust: a process that dies holding permits does not give them back (nothing
 * records who holds what). Use a Mutex or RWLock when that matters.
 *
 * Layout (control area): permits i32 @0, waiters i32 @4, initial permits u32 @8.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import { S } from "../format.ts";
import { Handle } from "../handle.ts";
import { Kind } from "../kinds.ts";
import type { Memory } from "../memory.ts";
import type { Segment } from "../segment.ts";
import type { Placement } from "../structure.ts";
import {
  ASYNC_SPIN,
  asyncDeadline,
  type AsyncWaitOptions,
  checkAborted,
  deadlineOf,
  DEFAULT_SPIN,
  driveAsync,
  driveSync,
  spinFor,
  timeoutError,
  type WaitAlgorithm,
} from "../wait.ts";
import { syncSpec } from "./owner.ts";

const SPEC = syncSpec(Kind.SEMAPHORE, 64);
const PERMITS = 0;
const WAITERS = 4;
const INITIAL = 8;
const MAX_PERMITS = 0x7fffffff;

function checkPermits(n: unknown, what: string, min: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > MAX_PERMITS) {
    throw new ShmError("INVALID_ARGUMENT", `${what} must be an integer from ${min} to ${MAX_PERMITS}, got ${String(n)}`);
  }
  return n;
}

/**
 * A named counting semaphore. Every wait throws ShmError TIMEOUT when its timeout
 * passes (async waits also reject with ABORTED on their signal).
 *
 * ```ts
 * const slots = Semaphore.openOrCreate(seg, "slots", 4);
 * using _permit = slots.acquire(1000);   // released at the end of the block
 * ```
 */
export class Semaphore extends Handle {
  readonly #at: number;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#at = p.control;
  }

  /** Creates a semaphore holding `permits` permits (default 1). */
  static create(seg: Segment, name: string, permits = 1): Semaphore {
    checkPermits(permits, "permits", 0);
    return new Semaphore(seg, seg.createEntry(name, { ...SPEC, init: (m, b) => init(m, b + S.size, permits) }, 1));
  }

  /** Opens an existing semaphore. */
  static open(seg: Segment, name: string): Semaphore {
    return new Semaphore(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the semaphore, or creates it with `permits` permits. */
  static openOrCreate(seg: Segment, name: string, permits = 1): Semaphore {
    checkPermits(permits, "permits", 0);
    return new Semaphore(seg, seg.openOrCreateEntry(name, { ...SPEC, init: (m, b) => init(m, b + S.size, permits) }, 1));
  }

  /** Permits available right now. */
  get available(): number {
    return Atomics.load(this.mem().i32, (this.#at + PERMITS) >> 2);
  }

  /** The permit count the semaphore was created with. */
  get initialPermits(): number {
    return this.mem().u32[(this.#at + INITIAL) >> 2];
  }

  #try(m: Memory): boolean {
    const i32 = m.i32;
    const w = (this.#at + PERMITS) >> 2;
    for (;;) {
      const v = Atomics.load(i32, w);
      if (v <= 0) return false;
      if (Atomics.compareExchange(i32, w, v, v - 1) === v) return true;
    }
  }

  #permit(): Disposable & { release(): void } {
    let held = true;
    const release = () => {
      if (held) {
        held = false;
        this.release();
      }
    };
    return { release, [Symbol.dispose]: release };
  }

  /** Takes a permit if one is free, without waiting. */
  tryAcquire(): boolean {
    return this.#try(this.mem());
  }

  *#wait(m: Memory, deadline: number, timeout: number | undefined): WaitAlgorithm<void> {
    const i32 = m.i32;
    const waiters = (this.#at + WAITERS) >> 2;
    for (;;) {
      if (this.#try(m)) return;
      if (performance.now() >= deadline) throw timeoutError(`acquiring semaphore "${this.name}"`, timeout);
      Atomics.add(i32, waiters, 1);
      try {
        if (this.#try(m)) return;
        yield { at: this.#at + PERMITS, expected: 0 };
      } finally {
        if (!m.closed) Atomics.sub(i32, waiters, 1);
      }
    }
  }

  /** Spins (bounded, see wait.ts) before parking: `DEFAULT_SPIN` for blocking waits, `ASYNC_SPIN` for async. */
  #spin(m: Memory, polls: number): boolean {
    return spinFor(() => (this.#try(m) ? true : undefined), polls) === true;
  }

  /**
   * Takes one permit, blocking until one is free. Throws TIMEOUT after `timeout` ms.
   * Returns a disposable that releases the permit once (with `using`), or call `release()`.
   */
  acquire(timeout?: number): Disposable & { release(): void } {
    const m = this.mem();
    if (!this.#spin(m, DEFAULT_SPIN)) {
      const deadline = deadlineOf(timeout);
      driveSync(m, this.#wait(m, deadline, timeout), deadline);
    }
    return this.#permit();
  }

  /** Async `acquire`: rejects with TIMEOUT or ABORTED (no permit is taken then). */
  async acquireAsync(options?: AsyncWaitOptions): Promise<Disposable & { release(): void }> {
    const what = `acquiring semaphore "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    if (!this.#spin(m, ASYNC_SPIN)) {
      await driveAsync(() => this.mem(), this.#wait(m, deadline, options?.timeout), deadline, options?.signal, what);
    }
    return this.#permit();
  }

  /** Returns `n` permits (default 1) and wakes up to `n` parked acquirers. */
  release(n = 1): void {
    const m = this.mem();
    checkPermits(n, "release count", 1);
    const old = Atomics.add(m.i32, (this.#at + PERMITS) >> 2, n);
    if (old + n > MAX_PERMITS) {
      Atomics.sub(m.i32, (this.#at + PERMITS) >> 2, n);
      throw new ShmError("OUT_OF_RANGE", `semaphore "${this.name}" would exceed ${MAX_PERMITS} permits`);
    }
    if (Atomics.load(m.i32, (this.#at + WAITERS) >> 2) > 0) native().futexWake(m.base, this.#at + PERMITS, n);
  }
}

function init(m: Memory, control: number, permits: number): void {
  m.i32[(control + PERMITS) >> 2] = permits;
  m.u32[(control + INITIAL) >> 2] = permits;
}
