/**
 * Once: run an initialiser exactly once across all processes (pthread_once /
 * std::call_once, process-shared and robust).
 *
 * Algorithm: one owner word (see ./owner.ts): 0 not started, `pid | WAITERS`
 * while process `pid` runs the initialiser, DONE (-1) afterwards. The first caller
 * claims it with a CAS 0 → pid and runs the initialiser; later callers park on the
 * word until it becomes DONE. A parked caller wakes every LIVENESS_CHECK_MS (100 ms)
 * to check the runner's liveness: if the runner died, it takes over with a CAS from
 * the dead runner's word and runs the initialiser itself (`lastRunRecovered` is then
 * true), so nobody hangs. An initialiser that throws releases the Once back to "not
 * started" (waking the others, one of which retries) and the error propagates to its
 * caller. Because a takeover re-runs it, an initialiser should tolerate finding its
 * own work half done.
 *
 * Waits throw ShmError TIMEOUT when their timeout passes (async: ABORTED on the
 * signal); the Once is left untouched by the waiter that gave up.
 *
 * Layout (control area): word i32 @0, recoveries u32 @4, owner record @16.
 */
import { native } from "../../ffi/mod.ts";
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

const SPEC = syncSpec(Kind.ONCE, 64);
const WORD = 0;
const RECOVERIES = 4;
const RECORD = 16;
const DONE = -1;
const ETIMEDOUT = -Errno.ETIMEDOUT;

/** What the claim step found. */
const enum Claim {
  DONE,
  RUN,
  RUN_RECOVERED,
}

/**
 * A named once-flag.
 *
 * @example
 * ```ts
 * import { Once, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-once-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const init = Once.openOrCreate(seg, "init");
 * let runs = 0;
 * assert.equal(init.run(() => runs++), true); // this call ran it
 * assert.equal(init.run(() => runs++), false); // done, in every process
 * assert.ok(init.done && runs === 1);
 * ```
 */
export class Once extends Handle {
  readonly #word: number;
  readonly #rec: number;
  /** Whether the last `run` through this handle took over from a runner that died. */
  lastRunRecovered = false;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#word = p.control + WORD;
    this.#rec = p.control + RECORD;
  }

  /** Creates a Once that has not run. */
  static create(seg: Segment, name: string): Once {
    return new Once(seg, seg.createEntry(name, SPEC, 1));
  }

  /** Opens an existing Once. */
  static open(seg: Segment, name: string): Once {
    return new Once(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the Once, or creates it. */
  static openOrCreate(seg: Segment, name: string): Once {
    return new Once(seg, seg.openOrCreateEntry(name, SPEC, 1));
  }

  /** True once an initialiser has completed. */
  get done(): boolean {
    return Atomics.load(this.mem().i32, this.#word >> 2) === DONE;
  }

  /** How many times, in any process, a dead runner's initialisation was taken over. */
  get recoveries(): number {
    return Atomics.load(this.mem().u32, (this.#word + RECOVERIES) >> 2);
  }

  *#claim(m: Memory, pid: number, deadline: number, timeout: number | undefined): WaitAlgorithm<Claim> {
    const i32 = m.i32;
    const w = this.#word >> 2;
    let check = false;
    for (;;) {
      const c = Atomics.compareExchange(i32, w, 0, pid);
      if (c === 0) return Claim.RUN;
      if (c === DONE) return Claim.DONE;
      if (check && !ownerAlive(m, this.#rec, c & PID_MASK)) {
        forgetOwner(m, this.#rec);
        if (Atomics.compareExchange(i32, w, c, pid | WAITERS) === c) {
          Atomics.add(m.u32, (this.#word + RECOVERIES) >> 2, 1);
          return Claim.RUN_RECOVERED;
        }
        continue;
      }
      if ((c & WAITERS) === 0 && Atomics.compareExchange(i32, w, c, c | WAITERS) !== c) continue;
      if (performance.now() >= deadline) throw timeoutError(`waiting for once "${this.name}"`, timeout);
      const rc = yield { at: this.#word, expected: c | WAITERS, sliceMs: LIVENESS_CHECK_MS };
      check = rc === ETIMEDOUT;
    }
  }

  #finish(m: Memory, value: number): void {
    clearOwner(m, this.#rec);
    const old = Atomics.exchange(m.i32, this.#word >> 2, value);
    if ((old & WAITERS) !== 0 && old !== DONE) native().futexWake(m.base, this.#word, ALL);
  }

  /**
   * Runs `init` if no process has completed it yet, else waits for the process
   * running it. Returns true if this call ran `init`. TIMEOUT after `timeout` ms of
   * waiting for another runner. Do not call it from inside `init` (self-deadlock).
   */
  run(init: () => void, timeout?: number): boolean {
    const m = this.mem();
    const pid = myPid();
    const deadline = deadlineOf(timeout);
    this.lastRunRecovered = false;
    const claim = driveSync(m, this.#claim(m, pid, deadline, timeout), deadline);
    if (claim === Claim.DONE) return false;
    this.lastRunRecovered = claim === Claim.RUN_RECOVERED;
    recordOwner(m, this.#rec);
    try {
      init();
    } catch (e) {
      this.#finish(m, 0);
      throw e;
    }
    this.#finish(m, DONE);
    return true;
  }

  /**
   * Async `run`: `init` may return a promise, which is awaited while the Once is
   * claimed. Waiting rejects with TIMEOUT or ABORTED. While an initialiser is
   * pending in this process, do not call the blocking `run` here (it would block the
   * event loop the initialiser needs).
   */
  async runAsync(init: () => unknown, options?: AsyncWaitOptions): Promise<boolean> {
    const what = `waiting for once "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    const pid = myPid();
    this.lastRunRecovered = false;
    const claim = await driveAsync(
      () => this.mem(),
      this.#claim(m, pid, deadline, options?.timeout),
      deadline,
      options?.signal,
      what,
    );
    if (claim === Claim.DONE) return false;
    this.lastRunRecovered = claim === Claim.RUN_RECOVERED;
    recordOwner(m, this.#rec);
    try {
      await init();
    } catch (e) {
      if (!m.closed) this.#finish(m, 0);
      throw e;
    }
    if (!m.closed) this.#finish(m, DONE);
    return true;
  }
}
