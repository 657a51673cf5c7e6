/**
 * SharedEvent: a process-shared event flag, manual-reset or auto-reset (as Win32 events).
 *
 * Algorithm: the state (0 unset, 1 set) is the futex word, with a waiter count
 * beside it. `set` stores 1 and, only if someone waits, wakes everyone (manual
 * reset) or one waiter (auto reset). A manual-reset wait returns while the word is 1;
 * an auto-reset wait consumes the signal with a CAS 1 → 0, so each `set` releases
 * exactly one waiter (a woken waiter that loses the CAS parks again). The mode is
 * chosen at creation and stored in the segment.
 *
 * Every wait throws ShmError TIMEOUT when its timeout passes (async: ABORTED on the
 * signal, leaving the event unchanged).
 *
 * Layout (control area): state i32 @0, waiters i32 @4, autoReset u32 @8.
 */
import { native } from "../../ffi/mod.ts";
import { S } from "../segment/format.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import type { Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import type { Placement } from "../segment/structure.ts";
import {
  ALL,
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
import { syncSpec } from "./owner.ts";

const SPEC = syncSpec(Kind.EVENT, 64);
const STATE = 0;
const WAITERS = 4;
const MODE = 8;

/**
 * Options for creating an Event.
 *
 * @example
 * ```ts
 * import { Segment, SharedEvent, type EventOptions } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-eopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const options: EventOptions = { autoReset: true, initiallySet: true };
 * const ev = SharedEvent.create(seg, "ev", options);
 * assert.equal(ev.tryWait(), true); // releases one waiter and clears it
 * assert.equal(ev.isSet, false);
 * ```
 */
export interface EventOptions {
  /** Auto-reset: each `set` releases one waiter and clears the event (default false: manual reset). */
  autoReset?: boolean;
  /** Start in the set state (default false). */
  initiallySet?: boolean;
}

function specFor(o: EventOptions) {
  return {
    ...SPEC,
    init(m: Memory, b: number) {
      m.i32[(b + S.size + STATE) >> 2] = o.initiallySet ? 1 : 0;
      m.u32[(b + S.size + MODE) >> 2] = o.autoReset ? 1 : 0;
    },
  };
}

/**
 * A named event (called SharedEvent so it does not shadow the DOM `Event`).
 *
 * @example
 * ```ts
 * import { Segment, SharedEvent } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-event-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const ready = SharedEvent.create(seg, "ready");
 * ready.set(); // in one process
 * ready.wait(1000); // in others: returns once set
 * assert.ok(ready.isSet);
 * ready.reset();
 * assert.equal(ready.tryWait(), false);
 * ```
 */
export class SharedEvent extends Handle {
  readonly #at: number;
  /** True for an auto-reset event (fixed at creation). */
  readonly autoReset: boolean;

  private constructor(seg: Segment, p: Placement) {
    super(seg, p);
    this.#at = p.control;
    this.autoReset = this.m.u32[(p.control + MODE) >> 2] === 1;
  }

  /** Creates an event (manual reset unless `autoReset`). */
  static create(seg: Segment, name: string, options: EventOptions = {}): SharedEvent {
    return new SharedEvent(seg, seg.createEntry(name, specFor(options), 1));
  }

  /** Opens an existing event (its mode is read from the segment). */
  static open(seg: Segment, name: string): SharedEvent {
    return new SharedEvent(seg, seg.openEntry(name, SPEC));
  }

  /** Opens the event, or creates it with `options`. */
  static openOrCreate(seg: Segment, name: string, options: EventOptions = {}): SharedEvent {
    return new SharedEvent(seg, seg.openOrCreateEntry(name, specFor(options), 1));
  }

  /** True while the event is set. */
  get isSet(): boolean {
    return Atomics.load(this.mem().i32, (this.#at + STATE) >> 2) === 1;
  }

  /** Sets the event: wakes all waiters (manual reset) or one (auto reset). */
  set(): void {
    const m = this.mem();
    Atomics.store(m.i32, (this.#at + STATE) >> 2, 1);
    if (Atomics.load(m.i32, (this.#at + WAITERS) >> 2) > 0) {
      native().futexWake(m.base, this.#at + STATE, this.autoReset ? 1 : ALL);
    }
  }

  /** Clears the event. */
  reset(): void {
    Atomics.store(this.mem().i32, (this.#at + STATE) >> 2, 0);
  }

  #try(m: Memory): boolean {
    const w = (this.#at + STATE) >> 2;
    if (this.autoReset) return Atomics.compareExchange(m.i32, w, 1, 0) === 1;
    return Atomics.load(m.i32, w) === 1;
  }

  /** True if the event is set (consuming it, for auto reset), without waiting. */
  tryWait(): boolean {
    return this.#try(this.mem());
  }

  *#wait(m: Memory, deadline: number, timeout: number | undefined): WaitAlgorithm<void> {
    const waiters = (this.#at + WAITERS) >> 2;
    for (;;) {
      if (this.#try(m)) return;
      if (performance.now() >= deadline) throw timeoutError(`waiting on event "${this.name}"`, timeout);
      Atomics.add(m.i32, waiters, 1);
      try {
        if (this.#try(m)) return;
        yield { at: this.#at + STATE, expected: 0 };
      } finally {
        if (!m.closed) Atomics.sub(m.i32, waiters, 1);
      }
    }
  }

  /** Spins (bounded, see src/wait/wait.ts) before parking: `DEFAULT_SPIN` for blocking waits, `ASYNC_SPIN` for async. */
  #spin(m: Memory, polls: number): boolean {
    return spinFor(() => (this.#try(m) ? true : undefined), polls) === true;
  }

  /** Blocks until the event is set (consuming it, for auto reset); TIMEOUT after `timeout` ms. */
  wait(timeout?: number): void {
    const m = this.mem();
    if (this.#spin(m, DEFAULT_SPIN)) return;
    const deadline = deadlineOf(timeout);
    driveSync(m, this.#wait(m, deadline, timeout), deadline);
  }

  /** Async `wait`: rejects with TIMEOUT or ABORTED (nothing consumed then). */
  async waitAsync(options?: AsyncWaitOptions): Promise<void> {
    const what = `waiting on event "${this.name}"`;
    const deadline = asyncDeadline(options);
    checkAborted(what, options?.signal);
    const m = this.mem();
    if (this.#spin(m, ASYNC_SPIN)) return;
    await driveAsync(() => this.mem(), this.#wait(m, deadline, options?.timeout), deadline, options?.signal, what);
  }
}
