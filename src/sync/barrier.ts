/**
 * Barrier: a reusable, process-shared barrier for a fixed number of parties.
 *
 * Algorithm: a generation-counting (sense-reversing) barrier in one futex word:
 * `generation << 16 | arrived`. Each party adds 1 with an atomic add; the party
 * that completes the count stores `(generation + 1) << 16` (count back to 0, so the
 * barrier is immediately reusable) and wakes everyone; the others park until the
 * generation moves. Because arrival and generation share one word, a party whose
 * wait times out (or is aborted) can withdraw its arrival with a CAS that succeeds
 * only within its own generation, so a timeout never corrupts the next round.
 *
 * `wait` returns true in exactly one party per generation (the last to arrive, like
 * PTHREAD_BARRIER_SERIAL_THREAD) and false in the others. Waits throw ShmError
 * TIMEOUT when their timeout passes (async: ABORTED on their signal), having
 * withdrawn their arrival. A party that dies after arriving stays counted; a party
 * that never arrives leaves the others waiting until their timeouts.
 *
 * Layout (control area): word i32 @0, parties u32 @4. At most 65535 parties.
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
  ALL,
  asyncDeadline,
  type AsyncWaitOptions,
  checkAborted,
  deadlineOf,
  driveAsync,
  driveSync,
  timeoutError,
  type WaitAlgorithm,
} from "../wait.ts";
import { syncSpec } from "./owner.ts";

const SPEC = syncSpec(Kind.BARRIER, 64);
const WORD = 0;
const PARTIES = 4;
const MAX_PARTIES = 0xffff;
const COUNT_MASK = 0xffff;

function specFor(parties: number) {
  if (typeof parties !== "number" || !Number.isInteger(parties) || parties < 1 || parties > MAX_PARTIES) {
    throw new ShmError("INVALID_ARGUMENT", `parties must be an integer from 1 to ${MAX_PARTIES}, got ${String(parties)}`);
  }
  return { ...SPEC, init: (m: Memory, b: number) => void (m.u32[(b + S.size + PARTIES) >> 2] = parties) };
}

/** A named reusable barrier. */
export class Barrier extends Handle {
  readonly #at: number;
  /** Number of parties per generation. */
  readonly parties: number;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#at = p.control;
    this.parties = this.m.u32[(p.control + PARTIES) >> 2];
    if (this.parties < 1 || this.parties > MAX_PARTIES) {
      this.close();
      throw new ShmError("CORRUPT", `barrier "${p.name}" has ${this.parties} parties`);
    }
  }

  /** Creates a barrier for `parties` parties. */
  static create(seg: Segment, name: string, parties: number): Barrier {
    return new Barrier(seg, seg.createEntry(name, specFor(parties), 1));
  }

  /** Opens an existing barrier. */
  static open(seg: Segment, name: string): Barrier {
    return new Barrier(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the barrier, or creates it for `parties` parties. */
  static openOrCreate(seg: Segment, name: string, parties: number): Barrier {
    return new Barrier(seg, seg.openOrCreateEntry(name, specFor(parties), 1));
  }

  /** Completed generations (mod 2^15). */
  get generation(): number {
    return Atomics.load(this.mem().i32, (this.#at + WORD) >> 2) >>> 16;
  }

  /** Parties that have arrived in the current generation. */
  get arrived(): number {
    return Atomics.load(this.mem().i32, (this.#at + WORD) >> 2) & COUNT_MASK;
  }

  /** Arrives; returns true if this call completed the generation, else the generation to wait for. */
  #arrive(m: Memory): true | number {
    const w = (this.#at + WORD) >> 2;
    const old = Atomics.add(m.i32, w, 1);
    const gen = old >>> 16;
    if ((old & COUNT_MASK) + 1 >= this.parties) {
      Atomics.store(m.i32, w, ((gen + 1) & 0x7fff) << 16);
      native().futexWake(m.base, this.#at + WORD, ALL);
      return true;
    }
    return gen;
  }

  *#wait(m: Memory, gen: number, deadline: number, timeout: number | undefined): WaitAlgorithm<boolean> {
    const w = (this.#at + WORD) >> 2;
    let passed = false;
    try {
      for (;;) {
        const cur = Atomics.load(m.i32, w);
        if (cur >>> 16 !== gen) {
          passed = true;
          return false;
        }
        if (performance.now() >= deadline) {
          passed = true;
          // Withdrawn: a clean timeout. Not withdrawn: the generation completed just now.
          if (this.#withdraw(m, gen)) throw timeoutError(`waiting at barrier "${this.name}"`, timeout);
          return false;
        }
        yield { at: this.#at + WORD, expected: cur };
      }
    } finally {
      if (!passed && !m.closed) this.#withdraw(m, gen);
    }
  }

  /** Takes back an arrival within generation `gen`; false if the generation completed meanwhile. */
  #withdraw(m: Memory, gen: number): boolean {
    const w = (this.#at + WORD) >> 2;
    for (;;) {
      const cur = Atomics.load(m.i32, w);
      if (cur >>> 16 !== gen || (cur & COUNT_MASK) === 0) return false;
      if (Atomics.compareExchange(m.i32, w, cur, cur - 1) === cur) return true;
    }
  }

  /**
   * Arrives and blocks until all parties have arrived. Returns true in the one party
   * that completed the generation. TIMEOUT after `timeout` ms (arrival withdrawn).
   */
  wait(timeout?: number): boolean {
    const m = this.mem();
    const deadline = deadlineOf(timeout);
    const r = this.#arrive(m);
    if (r === true) return true;
    return driveSync(m, this.#wait(m, r, deadline, timeout), deadline);
  }

  /** Async `wait`: rejects with TIMEOUT or ABORTED after withdrawing its arrival. */
  async waitAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const what = `waiting at barrier "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const r = this.#arrive(m);
    if (r === true) return true;
    return await driveAsync(() => this.mem(), this.#wait(m, r, deadline, options?.timeout), deadline, options?.signal, what);
  }
}
