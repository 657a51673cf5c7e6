/**
 * Barrier: a reusable, process-shared barrier for a fixed number of parties.
 *
 * Algorithm: a generation-counting (sense-reversing) barrier in one futex word:
 * `broken << 31 | generation << 16 | arrived`. Each party arrives with a CAS that
 * adds 1 (or, for the party that completes the count, stores `(generation + 1) << 16`:
 * count back to 0, so the barrier is immediately reusable, and wakes everyone); the
 * others park until the generation moves. Because arrival and generation share one
 * word, a party whose wait times out (or is aborted) can withdraw its arrival with a
 * CAS that succeeds only within its own (unbroken) generation, so a timeout never
 * corrupts the next round.
 *
 * `wait` returns true in exactly one party per generation (the last to arrive, like
 * PTHREAD_BARRIER_SERIAL_THREAD) and false in the others. Waits throw ShmError
 * TIMEOUT when their timeout passes (async: ABORTED on their signal), having
 * withdrawn their arrival.
 *
 * Dead parties (like Java's BrokenBarrierException): every process that waits owns a
 * slot {pid, generation << 16 | waiting, start time} in the data area (one per
 * process, as in Semaphore; `maxProcesses` slots, FULL when that many live processes
 * use the barrier). A party records its arrival there just after arriving, and takes
 * it back when it withdraws. Every LIVENESS_CHECK_MS (100 ms) while parked, a waiter
 * looks for a slot recording waiting parties in the current generation whose process
 * is dead (pid + start time); if it finds one it sets the broken bit with a CAS
 * within that generation and wakes everyone. Then every waiter of that generation,
 * and every party that arrives later, throws ShmError BROKEN until `reset()`. A
 * party killed in the nanoseconds between its arrival and its slot write is not seen
 * (the others then wait until their timeouts, as before): the check can miss a
 * death, never invent one.
 *
 * `reset()` breaks the current generation if parties are waiting in it (they get
 * BROKEN) and starts the next one: unbroken, nobody arrived. Before moving the word
 * on it records the broken generation in `lastBroken`, so a waiter that wakes only
 * after the reset still tells "my generation broke" from "my generation completed".
 * (Only the most recent one is kept: a waiter that sleeps through two broken
 * generations and resets would take the older one for completed.)
 *
 * Layout (control area): word i32 @0 (bit 31 broken, bits 16-30 generation,
 * bits 0-15 arrived), parties u32 @4, lastBroken i32 @8 (0x8000 | generation of the
 * most recently reset broken generation, 0 = none). Data: `maxProcesses` slots of 16
 * bytes: pid i32 @0 (-1 while being claimed or taken over), state i32 @4
 * (generation << 16 | parties of this process waiting in it), start time u64 @8.
 * At most 65535 parties.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import { S } from "../segment/format.ts";
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
import { LIVENESS_CHECK_MS, syncSpec } from "./owner.ts";
import { ProcessSlots, SLOT_BYTES, SLOT_START, SLOT_STATE } from "./process_slots.ts";

const SPEC = syncSpec(Kind.BARRIER, 64, (n) => n * SLOT_BYTES);
const WORD = 0;
const PARTIES = 4;
const LAST_BROKEN = 8;
/** Slot field: generation << 16 | parties waiting (the slot's state word, ./process_slots.ts). */
const STATE = SLOT_STATE;
const MAX_PARTIES = 0xffff;
const COUNT_MASK = 0xffff;
const GEN_MASK = 0x7fff;
const BROKEN = 0x8000_0000 | 0; // the sign bit of the i32 word
const TAGGED = 0x8000; // lastBroken: marks a recorded generation (0 = none)

const genOf = (w: number) => (w >>> 16) & GEN_MASK;
const isBroken = (w: number) => (w & BROKEN) !== 0;

/**
 * Options for creating a Barrier.
 *
 * @example
 * ```ts
 * import { Barrier, Segment, type BarrierOptions } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-bopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const options: BarrierOptions = { maxProcesses: 4 };
 * const b = Barrier.create(seg, "b", 2, options);
 * assert.equal(b.parties, 2);
 * ```
 */
export interface BarrierOptions {
  /** How many processes can wait at the barrier (liveness slots; default 64). */
  maxProcesses?: number;
}

function specFor(parties: number) {
  if (typeof parties !== "number" || !Number.isInteger(parties) || parties < 1 || parties > MAX_PARTIES) {
    throw new ShmError("INVALID_ARGUMENT", `parties must be an integer from 1 to ${MAX_PARTIES}, got ${String(parties)}`);
  }
  return { ...SPEC, init: (m: Memory, b: number) => void (m.u32[(b + S.size + PARTIES) >> 2] = parties) };
}

function slotsOf(options: BarrierOptions): number {
  return checkCapacity(options.maxProcesses ?? 64, "maxProcesses", 1 << 16);
}

function brokenError(name: string): ShmError {
  return new ShmError("BROKEN", `barrier "${name}" is broken: a waiting party died (reset() to reuse it)`);
}

/**
 * A named reusable barrier; see the module comment for the algorithm and its dead-party detection.
 *
 * @example
 * ```ts
 * import { Barrier, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-barrier-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const start = Barrier.create(seg, "start", 1); // 1 party, so this example does not block
 * assert.equal(start.wait(1000), true); // true in the party that completed the generation
 * assert.equal(start.generation, 1);
 * ```
 */
export class Barrier extends Handle {
  readonly #at: number;
  readonly #ps: ProcessSlots;
  /** Number of parties per generation. */
  readonly parties: number;
  /** Liveness slots (processes that can wait at the barrier at once). */
  readonly maxProcesses: number;
  #slot = -1;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#at = p.control;
    this.#ps = new ProcessSlots(p.data, p.capacity);
    this.maxProcesses = p.capacity;
    this.parties = this.m.u32[(p.control + PARTIES) >> 2];
    if (this.parties < 1 || this.parties > MAX_PARTIES) {
      this.close();
      throw new ShmError("CORRUPT", `barrier "${p.name}" has ${this.parties} parties`);
    }
  }

  /** Creates a barrier for `parties` parties. */
  static create(seg: Segment, name: string, parties: number, options: BarrierOptions = {}): Barrier {
    const spec = specFor(parties);
    return new Barrier(seg, seg.createEntry(name, spec, slotsOf(options)));
  }

  /** Opens an existing barrier. */
  static open(seg: Segment, name: string): Barrier {
    return new Barrier(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the barrier, or creates it for `parties` parties. */
  static openOrCreate(seg: Segment, name: string, parties: number, options: BarrierOptions = {}): Barrier {
    const spec = specFor(parties);
    return new Barrier(seg, seg.openOrCreateEntry(name, spec, slotsOf(options)));
  }

  /** Completed generations (mod 2^15). */
  get generation(): number {
    return genOf(Atomics.load(this.mem().i32, (this.#at + WORD) >> 2));
  }

  /** Parties that have arrived in the current generation. */
  get arrived(): number {
    return Atomics.load(this.mem().i32, (this.#at + WORD) >> 2) & COUNT_MASK;
  }

  /** Whether the current generation is broken (a waiting party died); `reset()` clears it. */
  get broken(): boolean {
    return isBroken(Atomics.load(this.mem().i32, (this.#at + WORD) >> 2));
  }

  // ---- liveness slots ----

  /** This process's slot, claimed (or taken over from a dead process) on first use; FULL if none. */
  #findSlot(m: Memory): number {
    // Once found, a live process's slot stays its own (only dead processes' slots are taken).
    if (this.#slot >= 0) return this.#slot;
    const self = me();
    const mine = this.#ps.findMine(m, self);
    if (mine >= 0) return this.#slot = mine;
    // Else a free slot, else (full) the slot of a dead process, breaking the generation it died waiting in.
    const i = this.#ps.claim(m, self, (j, p, s) => {
      // Before the takeover CAS, as the state word is still the dead process's (`own` clears it).
      this.#breakIfWaiting(m, Atomics.load(m.i32, (this.#ps.at(j) + STATE) >> 2));
      return this.#ps.takeDead(m, j, p, s);
    });
    if (i >= 0) return this.#slot = i;
    throw new ShmError(
      "FULL",
      `barrier "${this.name}" has no free slot: ${this.maxProcesses} live processes use it (maxProcesses)`,
    );
  }

  /** Records one more party of this process waiting in generation `gen`. */
  #record(m: Memory, slot: number, gen: number): void {
    const w = (this.#ps.at(slot) + STATE) >> 2;
    for (;;) {
      const cur = Atomics.load(m.i32, w);
      const next = (cur >>> 16) === gen ? cur + 1 : (gen << 16) | 1;
      if (Atomics.compareExchange(m.i32, w, cur, next) === cur) return;
    }
  }

  /** Takes back one waiting party of this process in generation `gen` (a withdrawn or finished wait). */
  #unrecord(m: Memory, slot: number, gen: number): void {
    const w = (this.#ps.at(slot) + STATE) >> 2;
    for (;;) {
      const cur = Atomics.load(m.i32, w);
      if ((cur >>> 16) !== gen || (cur & COUNT_MASK) === 0) return;
      if (Atomics.compareExchange(m.i32, w, cur, cur - 1) === cur) return;
    }
  }

  /** Breaks the current generation if slot state `state` (of a dead process) records parties waiting in it. */
  #breakIfWaiting(m: Memory, state: number): boolean {
    if ((state & COUNT_MASK) === 0) return false;
    const w = (this.#at + WORD) >> 2;
    for (;;) {
      const cur = Atomics.load(m.i32, w);
      if (isBroken(cur) || genOf(cur) !== state >>> 16 || (cur & COUNT_MASK) === 0) return false;
      if (Atomics.compareExchange(m.i32, w, cur, cur | BROKEN) === cur) {
        native().futexWake(m.base, this.#at + WORD, ALL);
        return true;
      }
    }
  }

  /** Breaks generation `gen` if a process recorded as waiting in it is dead; true if it did. */
  #checkDead(m: Memory, gen: number): boolean {
    for (let i = 0; i < this.maxProcesses; i++) {
      const at = this.#ps.at(i);
      const p = Atomics.load(m.i32, at >> 2);
      if (p <= 0) continue;
      const state = Atomics.load(m.i32, (at + STATE) >> 2);
      if ((state >>> 16) !== gen || (state & COUNT_MASK) === 0) continue;
      const s = m.getU64(at + SLOT_START);
      // Re-read the pid: a slot taken over meanwhile is not the dead process's any more.
      if (isAlive(p, s) || Atomics.load(m.i32, at >> 2) !== p) continue;
      if (this.#breakIfWaiting(m, state)) return true;
    }
    return false;
  }

  // ---- the barrier ----

  /** Arrives; returns true if this call completed the generation, else the generation to wait for. */
  #arrive(m: Memory): true | number {
    const w = (this.#at + WORD) >> 2;
    for (;;) {
      const cur = Atomics.load(m.i32, w);
      if (isBroken(cur)) throw brokenError(this.name);
      const gen = genOf(cur);
      if ((cur & COUNT_MASK) + 1 >= this.parties) {
        if (Atomics.compareExchange(m.i32, w, cur, ((gen + 1) & GEN_MASK) << 16) !== cur) continue;
        native().futexWake(m.base, this.#at + WORD, ALL);
        return true;
      }
      if (Atomics.compareExchange(m.i32, w, cur, cur + 1) === cur) return gen;
    }
  }

  /** Where generation `gen` stands, seen from word value `cur`. */
  #state(m: Memory, cur: number, gen: number): "waiting" | "passed" | "broken" {
    if (genOf(cur) === gen) return isBroken(cur) ? "broken" : "waiting";
    // Moved on: completed, or broken and then reset (which recorded it first).
    return Atomics.load(m.i32, (this.#at + LAST_BROKEN) >> 2) === (TAGGED | gen) ? "broken" : "passed";
  }

  *#wait(m: Memory, slot: number, gen: number, deadline: number, timeout: number | undefined): WaitAlgorithm<boolean> {
    const w = (this.#at + WORD) >> 2;
    let done = false;
    let recorded = true;
    let nextCheck = performance.now() + LIVENESS_CHECK_MS;
    try {
      for (;;) {
        const cur = Atomics.load(m.i32, w);
        const st = this.#state(m, cur, gen);
        if (st === "passed") {
          done = true;
          return false;
        }
        if (st === "broken") {
          done = true;
          throw brokenError(this.name);
        }
        const now = performance.now();
        if (now >= deadline) {
          // The slot first: dying between the two writes then hides this party, never invents a dead one.
          this.#unrecord(m, slot, gen);
          recorded = false;
          // Withdrawn: a clean timeout. Not withdrawn: the generation completed or broke just now.
          if (this.#withdraw(m, gen)) {
            done = true;
            throw timeoutError(`waiting at barrier "${this.name}"`, timeout);
          }
          if (this.#state(m, Atomics.load(m.i32, w), gen) === "waiting") {
            done = true;
            throw timeoutError(`waiting at barrier "${this.name}"`, timeout);
          }
          continue;
        }
        if (now >= nextCheck) {
          nextCheck = now + LIVENESS_CHECK_MS;
          if (this.#checkDead(m, gen)) continue;
        }
        // Slices of LIVENESS_CHECK_MS: the next turn checks the other waiters again.
        yield { at: this.#at + WORD, expected: cur, sliceMs: LIVENESS_CHECK_MS };
      }
    } finally {
      if (!m.closed) {
        if (recorded) this.#unrecord(m, slot, gen);
        if (!done) this.#withdraw(m, gen);
      }
    }
  }

  /** Takes back an arrival within generation `gen`; false if the generation completed or broke meanwhile. */
  #withdraw(m: Memory, gen: number): boolean {
    const w = (this.#at + WORD) >> 2;
    for (;;) {
      const cur = Atomics.load(m.i32, w);
      if (isBroken(cur) || genOf(cur) !== gen || (cur & COUNT_MASK) === 0) return false;
      if (Atomics.compareExchange(m.i32, w, cur, cur - 1) === cur) return true;
    }
  }

  /** Arrives and records the arrival in this process's slot; true if this call completed the generation. */
  #enter(m: Memory, slot: number): true | number {
    const r = this.#arrive(m);
    if (r !== true) this.#record(m, slot, r);
    return r;
  }

  /**
   * Arrives and blocks until all parties have arrived. Returns true in the one party
   * that completed the generation. TIMEOUT after `timeout` ms (arrival withdrawn);
   * BROKEN if a party waiting in this generation died (or the barrier was already
   * broken, or `reset()` was called while waiting); FULL if `maxProcesses` live
   * processes already use the barrier.
   */
  wait(timeout?: number): boolean {
    const m = this.mem();
    const deadline = deadlineOf(timeout);
    const slot = this.#findSlot(m);
    const r = this.#enter(m, slot);
    if (r === true) return true;
    return driveSync(m, this.#wait(m, slot, r, deadline, timeout), deadline);
  }

  /** Async `wait`: rejects with TIMEOUT or ABORTED after withdrawing its arrival, or with BROKEN. */
  async waitAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const what = `waiting at barrier "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const slot = this.#findSlot(m);
    const r = this.#enter(m, slot);
    if (r === true) return true;
    return await driveAsync(
      () => this.mem(),
      this.#wait(m, slot, r, deadline, options?.timeout),
      deadline,
      options?.signal,
      what,
    );
  }

  /**
   * Makes the barrier usable again: if the current generation is broken, or parties
   * are waiting in it (they get BROKEN, as in Java's CyclicBarrier.reset), it starts
   * the next generation with nobody arrived. Does nothing to an unbroken barrier
   * nobody waits at.
   */
  reset(): void {
    const m = this.mem();
    const w = (this.#at + WORD) >> 2;
    for (;;) {
      let cur = Atomics.load(m.i32, w);
      if (!isBroken(cur)) {
        if ((cur & COUNT_MASK) === 0) return;
        if (Atomics.compareExchange(m.i32, w, cur, cur | BROKEN) !== cur) continue;
        cur |= BROKEN;
      }
      // Recorded before the word moves on, so late waiters of this generation still see it broke.
      Atomics.store(m.i32, (this.#at + LAST_BROKEN) >> 2, TAGGED | genOf(cur));
      if (Atomics.compareExchange(m.i32, w, cur, ((genOf(cur) + 1) & GEN_MASK) << 16) === cur) break;
    }
    native().futexWake(m.base, this.#at + WORD, ALL);
  }
}
