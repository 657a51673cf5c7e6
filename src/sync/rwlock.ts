/**
 * RWLock: a robust, writer-preferring, process-shared readers-writer lock.
 *
 * Algorithm: a writer word plus per-process reader indicators (the "distributed
 * reader indicator" design of per-CPU / big-reader rwlocks such as Linux's
 * percpu-rwsem, here one slot per process):
 *   - the writer word is a robust Drepper mutex word (`pid | WAITERS`, ./owner.ts)
 *     that writers take first;
 *   - each process that reads owns a slot {pid, count, start time} in the data area
 *     and counts its read holds there.
 * A reader increments its slot's count, then reads the writer word: 0 means no writer
 * holds or wants the lock and the read lock is held (two atomic operations, no
 * syscall, no shared counter to bounce between readers). Otherwise it backs off
 * (decrements, wakes a draining writer) and parks on the writer word. A writer takes
 * the writer word, then waits for every slot's count to drain to zero, parking on a
 * separate `drain` eventcount that departing readers bump only when a writer is
 * draining. All of this is a Dekker-style handshake over sequentially consistent
 * Atomics: either the reader sees the writer's word or the writer sees the reader's
 * count.
 *
 * No writer starvation: as soon as a writer holds the writer word, new readers back
 * off, so a writer waits only for the readers already inside (writer preference;
 * under a continuous stream of writers, readers can starve).
 *
 * Robustness (parked waiters re-check every LIVENESS_CHECK_MS = 100 ms):
 *   - a writer that dies holding (or draining for) the lock is detected by the next
 *     writer, which takes the lock over (guard.recovered), or by a waiting reader,
 *     which clears the writer word (its guard.recovered is true);
 *   - a reader process that dies holding read locks leaves a non-zero count in its
 *     slot; a draining writer that has waited a whole period checks the slot's
 *     process (pid + start time) and, if it is dead, zeroes the slot.
 * Ownership is per process and the lock is not reentrant (a process that holds a
 * read lock and asks for another while a writer waits deadlocks with it).
 *
 * Every wait throws ShmError TIMEOUT when its timeout passes (async: ABORTED on the
 * signal), leaving the lock as it was.
 *
 * Layout (control area): writer word i32 @0, drain seq i32 @4, drain waiters i32 @8,
 * recoveries u32 @12, writer owner record @16. Data: `maxProcesses` slots of 16
 * bytes: pid i32 @0 (-1 while being claimed), count i32 @4, start time u64 @8.
 */
import { native } from "../../ffi/mod.ts";
import { Errno, ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import type { Memory } from "../segment/memory.ts";
import { isAlive, me } from "../segment/process.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement } from "../segment/structure.ts";
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
import { Guard, type LockGuard } from "./mutex.ts";
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
import { ProcessSlots, SLOT_BYTES, SLOT_START, SLOT_STATE } from "./process_slots.ts";

const SPEC = syncSpec(Kind.RWLOCK, 64, (n) => n * SLOT_BYTES);
const WORD = 0;
const DRAIN_SEQ = 4;
const DRAIN_WAITERS = 8;
const RECOVERIES = 12;
const RECORD = 16;
/** Slot field: read holds of this process (the slot's state word, ./process_slots.ts). */
const COUNT = SLOT_STATE;
const ETIMEDOUT = -Errno.ETIMEDOUT;

/**
 * Options for creating an RWLock.
 *
 * @example
 * ```ts
 * import { RWLock, Segment, type RWLockOptions } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-rwopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const options: RWLockOptions = { maxProcesses: 8 };
 * const lock = RWLock.create(seg, "lock", options);
 * using _r = lock.readLock();
 * assert.equal(lock.readers, 1);
 * ```
 */
export interface RWLockOptions {
  /** How many processes can hold read locks at once (reader slots; default 64). */
  maxProcesses?: number;
}

/**
 * A named readers-writer lock; see the module comment for the algorithm.
 *
 * @example
 * ```ts
 * import { RWLock, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-rwlock-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const config = RWLock.create(seg, "config");
 * {
 *   using _r1 = config.readLock(1000);
 *   using _r2 = config.tryReadLock(); // readers share the lock
 *   assert.equal(config.readers, 2);
 *   assert.equal(config.tryWriteLock(), undefined); // a writer waits for them
 * }
 * using _w = config.writeLock(1000);
 * ```
 */
export class RWLock extends Handle {
  readonly #word: number;
  readonly #ctl: number;
  readonly #ps: ProcessSlots;
  /** Reader slots (processes that can read at once). */
  readonly maxProcesses: number;
  #slot = -1;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#ctl = p.control;
    this.#word = p.control + WORD;
    this.#ps = new ProcessSlots(p.data, p.capacity);
    this.maxProcesses = p.capacity;
  }

  /** Creates an unlocked RWLock. */
  static create(seg: Segment, name: string, options: RWLockOptions = {}): RWLock {
    const n = checkCapacity(options.maxProcesses ?? 64, "maxProcesses", 1 << 16);
    return new RWLock(seg, seg.createEntry(name, SPEC, n));
  }

  /** Opens an existing RWLock. */
  static open(seg: Segment, name: string): RWLock {
    return new RWLock(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the RWLock, or creates it. */
  static openOrCreate(seg: Segment, name: string, options: RWLockOptions = {}): RWLock {
    const n = checkCapacity(options.maxProcesses ?? 64, "maxProcesses", 1 << 16);
    return new RWLock(seg, seg.openOrCreateEntry(name, SPEC, n));
  }

  /** Pid of the writer holding (or draining for) the lock, or 0. */
  get writer(): number {
    return Atomics.load(this.mem().i32, this.#word >> 2) & PID_MASK;
  }

  /** Read holds currently counted across all processes. */
  get readers(): number {
    const m = this.mem();
    let n = 0;
    for (let i = 0; i < this.maxProcesses; i++) n += Math.max(0, Atomics.load(m.i32, (this.#ps.at(i) + COUNT) >> 2));
    return n;
  }

  /** Takeovers from dead writers or dead readers, across all processes. */
  get recoveries(): number {
    return Atomics.load(this.mem().u32, (this.#ctl + RECOVERIES) >> 2);
  }

  // ---- reader slots ----

  /** This process's slot (claiming a free one), or -1 if none is free. */
  #findSlot(m: Memory): number {
    const self = me();
    const c = this.#slot;
    if (c >= 0 && this.#ps.isMine(m, c, self)) return c;
    const mine = this.#ps.findMine(m, self);
    if (mine >= 0) return this.#slot = mine;
    // The count of a free slot is already 0 (`#reclaim` clears it first): only start and pid are written.
    const free = this.#ps.claimFree(m);
    return free >= 0 ? this.#slot = this.#ps.publish(m, free, self) : -1;
  }

  #mySlot(m: Memory): number {
    let i = this.#findSlot(m);
    if (i >= 0) return i;
    // Full: free the slots of dead processes (only a writer-word holder may), then retry.
    const pid = myPid();
    if (Atomics.compareExchange(m.i32, this.#word >> 2, 0, pid) === 0) {
      try {
        for (let j = 0; j < this.maxProcesses; j++) {
          const at = this.#ps.at(j);
          const p = Atomics.load(m.i32, at >> 2);
          if (p > 0 && !isAlive(p, m.getU64(at + SLOT_START))) this.#reclaim(m, j);
        }
      } finally {
        const old = Atomics.exchange(m.i32, this.#word >> 2, 0);
        if ((old & WAITERS) !== 0) native().futexWake(m.base, this.#word, ALL);
      }
      i = this.#findSlot(m);
      if (i >= 0) return i;
    }
    throw new ShmError(
      "FULL",
      `RWLock "${this.name}" has no free reader slot: ${this.maxProcesses} live processes read it (maxProcesses)`,
    );
  }

  /** Frees a dead process's slot. Only called while holding the writer word. */
  #reclaim(m: Memory, i: number): void {
    const at = this.#ps.at(i);
    if (Atomics.load(m.i32, (at + COUNT) >> 2) > 0) Atomics.add(m.u32, (this.#ctl + RECOVERIES) >> 2, 1);
    Atomics.store(m.i32, (at + COUNT) >> 2, 0);
    m.setU64(at + SLOT_START, 0);
    Atomics.store(m.i32, at >> 2, 0);
  }

  /** Wakes a writer draining readers, if one is parked (after a reader left). */
  #wakeDrainer(m: Memory): void {
    if (Atomics.load(m.i32, (this.#ctl + DRAIN_WAITERS) >> 2) > 0) {
      Atomics.add(m.i32, (this.#ctl + DRAIN_SEQ) >> 2, 1);
      native().futexWake(m.base, this.#ctl + DRAIN_SEQ, ALL);
    }
  }

  #readGuard(slot: number, recovered: boolean): LockGuard {
    return new Guard(recovered, () => this.#readUnlock(slot));
  }

  #readUnlock(slot: number): void {
    const m = this.mem();
    const at = this.#ps.at(slot) + COUNT;
    const self = me();
    if (Atomics.load(m.i32, this.#ps.at(slot) >> 2) !== self.pid || Atomics.load(m.i32, at >> 2) <= 0) {
      throw new ShmError("NOT_OWNER", `process ${self.pid} holds no read lock on "${this.name}"`);
    }
    Atomics.sub(m.i32, at >> 2, 1);
    this.#wakeDrainer(m);
  }

  /** Read-locks if no writer holds or waits for the lock; else undefined. */
  tryReadLock(): LockGuard | undefined {
    const m = this.mem();
    const slot = this.#mySlot(m);
    const cnt = (this.#ps.at(slot) + COUNT) >> 2;
    Atomics.add(m.i32, cnt, 1);
    if (Atomics.load(m.i32, this.#word >> 2) === 0) return this.#readGuard(slot, false);
    Atomics.sub(m.i32, cnt, 1);
    this.#wakeDrainer(m);
    return undefined;
  }

  *#read(m: Memory, slot: number, deadline: number, timeout: number | undefined): WaitAlgorithm<boolean> {
    const i32 = m.i32;
    const cnt = (this.#ps.at(slot) + COUNT) >> 2;
    const w = this.#word >> 2;
    let recovered = false;
    for (;;) {
      Atomics.add(i32, cnt, 1);
      if (Atomics.load(i32, w) === 0) return recovered;
      Atomics.sub(i32, cnt, 1);
      this.#wakeDrainer(m);
      let check = false;
      for (;;) {
        const c = Atomics.load(i32, w);
        if (c === 0) break;
        if (check && !ownerAlive(m, this.#ctl + RECORD, c & PID_MASK)) {
          forgetOwner(m, this.#ctl + RECORD);
          if (Atomics.compareExchange(i32, w, c, 0) === c) {
            recovered = true;
            Atomics.add(m.u32, (this.#ctl + RECOVERIES) >> 2, 1);
            native().futexWake(m.base, this.#word, ALL);
          }
          check = false;
          continue;
        }
        if ((c & WAITERS) === 0 && Atomics.compareExchange(i32, w, c, c | WAITERS) !== c) continue;
        if (performance.now() >= deadline) throw timeoutError(`read-locking "${this.name}"`, timeout);
        const rc = yield { at: this.#word, expected: c | WAITERS, sliceMs: LIVENESS_CHECK_MS };
        check = rc === ETIMEDOUT;
      }
    }
  }

  /**
   * Blocks until a read lock is held; returns a guard (`using`). TIMEOUT after
   * `timeout` ms. `recovered` is true if this reader cleared a dead writer.
   */
  readLock(timeout?: number): LockGuard {
    const m = this.mem();
    const slot = this.#mySlot(m);
    const deadline = deadlineOf(timeout);
    return this.#readGuard(slot, driveSync(m, this.#read(m, slot, deadline, timeout), deadline));
  }

  /** Async `readLock`: rejects with TIMEOUT or ABORTED (holding nothing). */
  async readLockAsync(options?: AsyncWaitOptions): Promise<LockGuard> {
    const what = `read-locking "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const slot = this.#mySlot(m);
    const alg = this.#read(m, slot, deadline, options?.timeout);
    return this.#readGuard(slot, await driveAsync(() => this.mem(), alg, deadline, options?.signal, what));
  }

  // ---- writers ----

  #releaseWriter(m: Memory): void {
    clearOwner(m, this.#ctl + RECORD);
    const old = Atomics.exchange(m.i32, this.#word >> 2, 0);
    if ((old & WAITERS) !== 0) native().futexWake(m.base, this.#word, ALL);
  }

  #writeUnlock(): void {
    const m = this.mem();
    const pid = myPid();
    const c = Atomics.load(m.i32, this.#word >> 2);
    if ((c & PID_MASK) !== pid) {
      throw new ShmError("NOT_OWNER", `process ${pid} does not hold the write lock on "${this.name}"`);
    }
    this.#releaseWriter(m);
  }

  #anyReader(m: Memory): boolean {
    for (let i = 0; i < this.maxProcesses; i++) if (Atomics.load(m.i32, (this.#ps.at(i) + COUNT) >> 2) > 0) return true;
    return false;
  }

  /** Write-locks if nobody holds the lock; else undefined. */
  tryWriteLock(): LockGuard | undefined {
    const m = this.mem();
    const pid = myPid();
    if (Atomics.compareExchange(m.i32, this.#word >> 2, 0, pid) !== 0) return undefined;
    recordOwner(m, this.#ctl + RECORD);
    if (this.#anyReader(m)) {
      this.#releaseWriter(m);
      return undefined;
    }
    return new Guard(false, () => this.#writeUnlock());
  }

  *#write(m: Memory, pid: number, deadline: number, timeout: number | undefined): WaitAlgorithm<boolean> {
    const i32 = m.i32;
    const w = this.#word >> 2;
    const what = `write-locking "${this.name}"`;
    let waited = false;
    let check = false;
    let recovered = false;
    // Phase 1: the writer word (a robust Drepper mutex, as in Mutex).
    for (;;) {
      const c = Atomics.compareExchange(i32, w, 0, waited ? pid | WAITERS : pid);
      if (c === 0) break;
      if (check && !ownerAlive(m, this.#ctl + RECORD, c & PID_MASK)) {
        forgetOwner(m, this.#ctl + RECORD);
        if (Atomics.compareExchange(i32, w, c, pid | WAITERS) === c) {
          recovered = true;
          Atomics.add(m.u32, (this.#ctl + RECOVERIES) >> 2, 1);
          break;
        }
        continue;
      }
      if ((c & WAITERS) === 0 && Atomics.compareExchange(i32, w, c, c | WAITERS) !== c) continue;
      if (performance.now() >= deadline) throw timeoutError(what, timeout);
      const rc = yield { at: this.#word, expected: c | WAITERS, sliceMs: LIVENESS_CHECK_MS };
      waited = true;
      check = rc === ETIMEDOUT;
    }
    recordOwner(m, this.#ctl + RECORD);
    // Phase 2: new readers now back off; wait for those inside to leave.
    let ok = false;
    try {
      const waiters = (this.#ctl + DRAIN_WAITERS) >> 2;
      for (let i = 0; i < this.maxProcesses; i++) {
        const at = this.#ps.at(i);
        check = false;
        while (Atomics.load(i32, (at + COUNT) >> 2) > 0) {
          if (check) {
            const p = Atomics.load(i32, at >> 2);
            if (p > 0 && !isAlive(p, m.getU64(at + SLOT_START))) {
              this.#reclaim(m, i);
              recovered = true;
              break;
            }
          }
          if (performance.now() >= deadline) throw timeoutError(what, timeout);
          Atomics.add(i32, waiters, 1);
          let rc = 0;
          try {
            const seq = Atomics.load(i32, (this.#ctl + DRAIN_SEQ) >> 2);
            if (Atomics.load(i32, (at + COUNT) >> 2) > 0) {
              rc = yield { at: this.#ctl + DRAIN_SEQ, expected: seq, sliceMs: LIVENESS_CHECK_MS };
            }
          } finally {
            if (!m.closed) Atomics.sub(i32, waiters, 1);
          }
          check = rc === ETIMEDOUT;
        }
      }
      ok = true;
      return recovered;
    } finally {
      if (!ok && !m.closed) this.#releaseWriter(m);
    }
  }

  /**
   * Blocks until the write lock is held (no readers, no other writer); returns a
   * guard. TIMEOUT after `timeout` ms. `recovered` is true if a dead writer's lock
   * was taken over or a dead reader's holds were cleared.
   */
  writeLock(timeout?: number): LockGuard {
    const m = this.mem();
    const pid = myPid();
    const deadline = deadlineOf(timeout);
    return new Guard(driveSync(m, this.#write(m, pid, deadline, timeout), deadline), () => this.#writeUnlock());
  }

  /** Async `writeLock`: rejects with TIMEOUT or ABORTED (holding nothing). */
  async writeLockAsync(options?: AsyncWaitOptions): Promise<LockGuard> {
    const what = `write-locking "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const pid = myPid();
    const recovered = await driveAsync(
      () => this.mem(),
      this.#write(m, pid, deadline, options?.timeout),
      deadline,
      options?.signal,
      what,
    );
    return new Guard(recovered, () => this.#writeUnlock());
  }
}
