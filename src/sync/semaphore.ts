/**
 * Semaphore: a robust counting semaphore shared between processes.
 *
 * Algorithm: the permit count is the futex word. `acquire` takes a permit with a CAS
 * that never lets the count go below zero (so it can never over-admit), spinning
 * briefly and then parking on the word while it reads 0. `release` gives permits
 * back and wakes as many parked acquirers as it added, only when the waiter count
 * (in shared memory) says someone is parked.
 *
 * Robustness: every process that acquires owns a slot {pid, held, start time} in the
 * data area (one slot per process, as in RWLock's reader slots) and counts there the
 * permits it holds. So the uncontended paths stay two atomic operations and no
 * syscall: acquire is one CAS on the count plus one add on the process's own slot,
 * release one subtract on the slot plus one add on the count. An acquirer that finds no
 * permit sweeps the slots before it parks (at most once per LIVENESS_CHECK_MS = 100 ms
 * per handle), and again every 100 ms while parked: a slot holding permits whose
 * process is dead (pid + start time) is taken with a CAS on its pid word (pid ->
 * -1), so only one sweeper ever returns its permits; they go back into the count,
 * parked acquirers are woken, `recoveries` counts it and the acquirer is told
 * (`permit.recovered`, `sem.lastAcquireRecovered`).
 *
 * Order of the two writes: acquire takes from the count before it records the permit
 * in its slot; release clears it from its slot before it adds it to the count. A
 * process killed between the two (a few nanoseconds) therefore loses one permit for
 * good, but a permit is never returned twice: the semaphore can under-admit after
 * such a death, never over-admit. (A sweeper killed in the middle of its sweep can
 * lose the dead holder's permits the same way, and leaves that slot unusable.)
 *
 * Ownership is per process (threads/workers of one process share a pid and slot):
 * `release(n)` by a process that holds fewer than `n` permits throws NOT_OWNER and
 * releases nothing. Permits that nobody holds (a producer signalling a consumer, a
 * semaphore created with 0 permits) are added with `addPermits(n)`.
 *
 * Layout (control area): permits i32 @0, waiters i32 @4, initial permits u32 @8,
 * recoveries u32 @12. Data: `maxProcesses` slots of 16 bytes: pid i32 @0 (-1 while
 * being claimed or swept), held i32 @4, start time u64 @8.
 */
import { native } from "../../ffi/mod.ts";
import { Errno, ShmError } from "../errors.ts";
import { S } from "../segment/format.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import type { Memory } from "../segment/memory.ts";
import { isAlive, me } from "../segment/process.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";
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
} from "../wait/wait.ts";
import { LIVENESS_CHECK_MS, syncSpec } from "./owner.ts";
import { ProcessSlots, SLOT_BYTES, SLOT_START, SLOT_STATE } from "./process_slots.ts";

const SPEC = syncSpec(Kind.SEMAPHORE, 64, (n) => n * SLOT_BYTES);
const PERMITS = 0;
const WAITERS = 4;
const INITIAL = 8;
const RECOVERIES = 12;
/** Slot field: permits this process holds (the slot's state word, ./process_slots.ts). */
const HELD = SLOT_STATE;
const MAX_PERMITS = 0x7fffffff;
const ETIMEDOUT = -Errno.ETIMEDOUT;

function checkPermits(n: unknown, what: string, min: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > MAX_PERMITS) {
    throw new ShmError("INVALID_ARGUMENT", `${what} must be an integer from ${min} to ${MAX_PERMITS}, got ${String(n)}`);
  }
  return n;
}

/**
 * Options for creating a Semaphore.
 *
 * @example
 * ```ts
 * import { Segment, Semaphore, type SemaphoreOptions } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-semopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const options: SemaphoreOptions = { maxProcesses: 8 };
 * const gpu = Semaphore.create(seg, "gpu", 2, options);
 * assert.equal(gpu.initialPermits, 2);
 * ```
 */
export interface SemaphoreOptions {
  /** How many processes can hold permits at once (holder slots; default 64). */
  maxProcesses?: number;
}

/**
 * What `acquire` returns: one permit, released with `release()` or by leaving a `using` block.
 *
 * @example
 * ```ts
 * import { Segment, Semaphore, type SemaphorePermit } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-permit-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const sem = Semaphore.create(seg, "sem", 1);
 * const permit: SemaphorePermit = sem.acquire();
 * assert.equal(sem.tryAcquire(), false);
 * permit.release();
 * assert.equal(sem.available, 1);
 * ```
 */
export interface SemaphorePermit extends Disposable {
  /** True when this acquire returned permits of a process that died holding them. */
  readonly recovered: boolean;
  /** Releases the permit (once; later calls do nothing). */
  release(): void;
}

/**
 * A named counting semaphore; see the module comment for the algorithm and its
 * robustness. Every wait throws ShmError TIMEOUT when its timeout passes (async
 * waits also reject with ABORTED on their signal).
 *
 * @example
 * ```ts
 * import { Segment, Semaphore } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-sem-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const slots = Semaphore.openOrCreate(seg, "slots", 4);
 * {
 *   using _permit = slots.acquire(1000); // released at the end of the block
 *   assert.equal(slots.available, 3);
 * }
 * assert.equal(slots.available, 4);
 * ```
 */
export class Semaphore extends Handle {
  readonly #at: number;
  readonly #ps: ProcessSlots;
  /** Holder slots (processes that can hold permits at once). */
  readonly maxProcesses: number;
  /** Whether the most recent acquisition through this handle returned a dead holder's permits. */
  lastAcquireRecovered = false;
  #slot = -1;
  #lastSweep = -Infinity;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#at = p.control;
    this.#ps = new ProcessSlots(p.data, p.capacity);
    this.maxProcesses = p.capacity;
  }

  /** Creates a semaphore holding `permits` permits (default 1). */
  static create(seg: Segment, name: string, permits = 1, options: SemaphoreOptions = {}): Semaphore {
    checkPermits(permits, "permits", 0);
    const n = checkCapacity(options.maxProcesses ?? 64, "maxProcesses", 1 << 16);
    return new Semaphore(seg, seg.createEntry(name, { ...SPEC, init: (m, b) => init(m, b + S.size, permits) }, n));
  }

  /** Opens an existing semaphore. */
  static open(seg: Segment, name: string): Semaphore {
    return new Semaphore(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the semaphore, or creates it with `permits` permits. */
  static openOrCreate(seg: Segment, name: string, permits = 1, options: SemaphoreOptions = {}): Semaphore {
    checkPermits(permits, "permits", 0);
    const n = checkCapacity(options.maxProcesses ?? 64, "maxProcesses", 1 << 16);
    return new Semaphore(seg, seg.openOrCreateEntry(name, { ...SPEC, init: (m, b) => init(m, b + S.size, permits) }, n));
  }

  /** Permits available right now. */
  get available(): number {
    return Atomics.load(this.mem().i32, (this.#at + PERMITS) >> 2);
  }

  /** The permit count the semaphore was created with. */
  get initialPermits(): number {
    return this.mem().u32[(this.#at + INITIAL) >> 2];
  }

  /** Permits this process holds (all its threads together). */
  get held(): number {
    const m = this.mem();
    const self = me();
    let n = 0;
    for (let i = 0; i < this.maxProcesses; i++) {
      if (this.#ps.isMine(m, i, self)) n += Math.max(0, Atomics.load(m.i32, (this.#ps.at(i) + HELD) >> 2));
    }
    return n;
  }

  /** How many times, in any process, the permits of a dead holder were returned. */
  get recoveries(): number {
    return Atomics.load(this.mem().u32, (this.#at + RECOVERIES) >> 2);
  }

  // ---- holder slots ----

  /**
   * This process's slot, or -1. With `claim`, a free slot is claimed (or, when all are
   * taken, a dead process's slot is taken over) and FULL is thrown if there is none.
   */
  #findSlot(m: Memory, claim: boolean): number {
    // Once found, a live process's slot stays its own (only dead processes' slots are taken).
    if (this.#slot >= 0) return this.#slot;
    const self = me();
    const mine = this.#ps.findMine(m, self);
    if (mine >= 0) return this.#slot = mine;
    if (!claim) return -1;
    // Else a free slot, else (full) the slot of a dead process, returning any permits it held.
    const i = this.#ps.claim(m, self, (j, p, s) => this.#takeDead(m, j, p, s));
    if (i >= 0) return this.#slot = i;
    throw new ShmError(
      "FULL",
      `semaphore "${this.name}" has no free holder slot: ${this.maxProcesses} live processes use it (maxProcesses)`,
    );
  }

  /**
   * Takes the slot of dead process (`pid`, `start`) with a CAS on its pid word, so of
   * several sweepers exactly one gets it, and returns the permits it held to the
   * count. Returns false if another sweeper was first. On success the slot is left in
   * the CLAIMING state for the caller to free or reuse.
   */
  #takeDead(m: Memory, i: number, pid: number, start: number): boolean {
    if (!this.#ps.takeDead(m, i, pid, start)) return false;
    const at = this.#ps.at(i);
    // Clear the slot first: dying right here loses these permits, never returns them twice.
    const h = Atomics.exchange(m.i32, (at + HELD) >> 2, 0);
    if (h > 0) {
      Atomics.add(m.u32, (this.#at + RECOVERIES) >> 2, 1);
      this.#give(m, h);
    }
    return true;
  }

  /**
   * Returns the permits of dead processes; true if it returned any. Only slots that
   * hold permits are checked (one /proc read each), so a sweep costs little.
   */
  #sweep(m: Memory): boolean {
    this.#lastSweep = performance.now();
    let found = false;
    for (let i = 0; i < this.maxProcesses; i++) {
      const at = this.#ps.at(i);
      const p = Atomics.load(m.i32, at >> 2);
      if (p <= 0 || Atomics.load(m.i32, (at + HELD) >> 2) <= 0) continue;
      const s = m.getU64(at + SLOT_START);
      if (isAlive(p, s) || !this.#takeDead(m, i, p, s)) continue;
      m.setU64(at + SLOT_START, 0);
      Atomics.store(m.i32, at >> 2, 0);
      found = true;
    }
    return found;
  }

  #sweepDue(): boolean {
    return performance.now() - this.#lastSweep >= LIVENESS_CHECK_MS;
  }

  // ---- permits ----

  /** Adds `n` permits to the count and wakes up to `n` parked acquirers. */
  #give(m: Memory, n: number): void {
    const w = (this.#at + PERMITS) >> 2;
    const old = Atomics.add(m.i32, w, n);
    if (old + n > MAX_PERMITS) {
      Atomics.sub(m.i32, w, n);
      throw new ShmError("OUT_OF_RANGE", `semaphore "${this.name}" would exceed ${MAX_PERMITS} permits`);
    }
    if (Atomics.load(m.i32, (this.#at + WAITERS) >> 2) > 0) native().futexWake(m.base, this.#at + PERMITS, n);
  }

  /** Takes a permit from the count and records it in slot `slot`. */
  #try(m: Memory, slot: number): boolean {
    const i32 = m.i32;
    const w = (this.#at + PERMITS) >> 2;
    for (;;) {
      const v = Atomics.load(i32, w);
      if (v <= 0) return false;
      if (Atomics.compareExchange(i32, w, v, v - 1) === v) {
        Atomics.add(i32, (this.#ps.at(slot) + HELD) >> 2, 1);
        return true;
      }
    }
  }

  #permit(recovered: boolean): SemaphorePermit {
    this.lastAcquireRecovered = recovered;
    let held = true;
    const release = () => {
      if (held) {
        held = false;
        this.release();
      }
    };
    return { recovered, release, [Symbol.dispose]: release };
  }

  /**
   * Takes a permit if one is free, without waiting. When none is, it first returns
   * the permits of dead holders (at most once per 100 ms per handle).
   */
  tryAcquire(): boolean {
    const m = this.mem();
    const slot = this.#findSlot(m, true);
    if (this.#try(m, slot)) {
      this.lastAcquireRecovered = false;
      return true;
    }
    if (this.#sweepDue() && this.#sweep(m) && this.#try(m, slot)) {
      this.lastAcquireRecovered = true;
      return true;
    }
    return false;
  }

  *#wait(m: Memory, slot: number, deadline: number, timeout: number | undefined): WaitAlgorithm<boolean> {
    const i32 = m.i32;
    const waiters = (this.#at + WAITERS) >> 2;
    let recovered = false;
    for (;;) {
      if (this.#try(m, slot)) return recovered;
      if (this.#sweepDue() && this.#sweep(m)) {
        recovered = true;
        continue;
      }
      if (performance.now() >= deadline) throw timeoutError(`acquiring semaphore "${this.name}"`, timeout);
      Atomics.add(i32, waiters, 1);
      let rc = 0;
      try {
        if (this.#try(m, slot)) return recovered;
        // Slices of LIVENESS_CHECK_MS: the next turn sweeps again.
        rc = yield { at: this.#at + PERMITS, expected: 0, sliceMs: LIVENESS_CHECK_MS };
      } finally {
        if (!m.closed) Atomics.sub(i32, waiters, 1);
      }
      if (rc === ETIMEDOUT) this.#lastSweep = -Infinity;
    }
  }

  /** Spins (bounded, see src/wait/wait.ts) before parking: `DEFAULT_SPIN` for blocking waits, `ASYNC_SPIN` for async. */
  #spin(m: Memory, slot: number, polls: number): boolean {
    return spinFor(() => (this.#try(m, slot) ? true : undefined), polls) === true;
  }

  /**
   * Takes one permit, blocking until one is free. Throws TIMEOUT after `timeout` ms,
   * FULL if `maxProcesses` live processes already use the semaphore. Returns a
   * disposable permit (`using`), or call `release()`; its `recovered` is true if this
   * acquire returned the permits of a process that died holding them.
   */
  acquire(timeout?: number): SemaphorePermit {
    const m = this.mem();
    const slot = this.#findSlot(m, true);
    let recovered = false;
    if (!this.#spin(m, slot, DEFAULT_SPIN)) {
      const deadline = deadlineOf(timeout);
      recovered = driveSync(m, this.#wait(m, slot, deadline, timeout), deadline);
    }
    return this.#permit(recovered);
  }

  /** Async `acquire`: rejects with TIMEOUT or ABORTED (no permit is taken then). */
  async acquireAsync(options?: AsyncWaitOptions): Promise<SemaphorePermit> {
    const what = `acquiring semaphore "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const slot = this.#findSlot(m, true);
    let recovered = false;
    if (!this.#spin(m, slot, ASYNC_SPIN)) {
      const alg = this.#wait(m, slot, deadline, options?.timeout);
      recovered = await driveAsync(() => this.mem(), alg, deadline, options?.signal, what);
    }
    return this.#permit(recovered);
  }

  /**
   * Returns `n` permits (default 1) that this process holds and wakes up to `n`
   * parked acquirers. Throws NOT_OWNER, releasing nothing, if this process holds
   * fewer than `n` (use `addPermits` to add permits nobody holds).
   */
  release(n = 1): void {
    const m = this.mem();
    checkPermits(n, "release count", 1);
    const slot = this.#unhold(m, n);
    try {
      this.#give(m, n);
    } catch (e) {
      Atomics.add(m.i32, (this.#ps.at(slot) + HELD) >> 2, n);
      throw e;
    }
  }

  /**
   * Adds `n` permits (default 1) that no process holds, e.g. a producer signalling a
   * consumer on a semaphore created with 0 permits, and wakes up to `n` parked
   * acquirers. OUT_OF_RANGE if the count would exceed 2^31 - 1.
   */
  addPermits(n = 1): void {
    const m = this.mem();
    checkPermits(n, "permit count", 1);
    this.#give(m, n);
  }

  /**
   * Removes `n` permits from this process's slots (all or nothing) and returns one of
   * its slots; throws NOT_OWNER if it holds fewer.
   */
  #unhold(m: Memory, n: number): number {
    const i32 = m.i32;
    const c = this.#findSlot(m, false);
    if (c >= 0) {
      // Only this process changes its slot's count (and may see it dip below zero briefly).
      const h = (this.#ps.at(c) + HELD) >> 2;
      if (Atomics.sub(i32, h, n) >= n) return c;
      Atomics.add(i32, h, n);
    }
    // Threads of this process that claimed at the same time can own several slots.
    const self = me();
    const took: [number, number][] = [];
    let left = n;
    for (let i = 0; i < this.maxProcesses && left > 0; i++) {
      if (!this.#ps.isMine(m, i, self)) continue;
      const h = (this.#ps.at(i) + HELD) >> 2;
      for (;;) {
        const v = Atomics.load(i32, h);
        const t = Math.min(left, v);
        if (t <= 0) break;
        if (Atomics.compareExchange(i32, h, v, v - t) === v) {
          took.push([h, t]);
          left -= t;
          break;
        }
      }
    }
    if (left === 0) return this.#slot;
    for (const [h, t] of took) Atomics.add(i32, h, t);
    throw new ShmError(
      "NOT_OWNER",
      `process ${self.pid} holds ${n - left} permit(s) of semaphore "${this.name}" and cannot release ${n}`,
    );
  }
}

function init(m: Memory, control: number, permits: number): void {
  m.i32[(control + PERMITS) >> 2] = permits;
  m.u32[(control + INITIAL) >> 2] = permits;
}
