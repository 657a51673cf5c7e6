/**
 * What a wait may be told and how long it may take: the wait options, the spin and
 * slice constants that bound a wait, and the checks that turn options into a
 * deadline (timeouts, abort signals, spin counts). The wait machinery is in wait.ts.
 */
import { ShmError } from "../errors.ts";

/**
 * Options every wait accepts.
 *
 * @example
 * ```ts
 * import { Queue, Segment, type WaitOptions, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-wopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "q", u32, 16);
 * const options: WaitOptions = { timeout: 10, spin: 0 };
 * assert.throws(() => q.popWait(options), { code: "TIMEOUT" });
 * q.push(1);
 * assert.equal(q.popWait(options), 1);
 * ```
 */
export interface WaitOptions {
  /** Milliseconds to wait at most (default: no limit). 0 checks once and does not park. */
  timeout?: number;
  /**
   * Polls of the condition before parking: a number >= 0 (`Infinity` allowed); `0`
   * parks at once (after one check). Whatever the number, the spin phase ends after
   * `SPIN_LIMIT_US` (50 µs), the most a wait blocks its thread or event loop before
   * parking. More spin means lower latency against a busy peer (a futex wake-up
   * costs 20-50 µs) and more CPU and event-loop blocking per wait that finds nothing.
   * Default: `DEFAULT_SPIN` for blocking waits; for async waits an adaptive count
   * between `ASYNC_SPIN` and `ASYNC_SPIN_MAX` (see docs/WAITING.md), which an
   * explicit `spin` replaces for that wait. Honoured by the structures' waits
   * (Queue, SpscQueue, Stack, ObjectPool, RingBuffer, BroadcastRing readers); the
   * synchronisation primitives validate it but keep their own spin.
   */
  spin?: number;
}

/**
 * Options every async wait accepts.
 *
 * @example
 * ```ts
 * import { Queue, Segment, type AsyncWaitOptions, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-aopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "q", u32, 16);
 * const ac = new AbortController();
 * const options: AsyncWaitOptions = { signal: ac.signal, timeout: 1000 };
 * q.push(7);
 * assert.equal(await q.popAsync(options), 7);
 * ```
 */
export interface AsyncWaitOptions extends WaitOptions {
  /** Aborting rejects the wait with ShmError `ABORTED`; the structure is left intact. */
  signal?: AbortSignal;
}

/**
 * Most polls of the condition before a blocking wait parks; the spin also stops after
 * SPIN_LIMIT_US. Long enough to outlast one futex wake-up (20-50 µs on a VM), so two
 * processes exchanging messages settle into spinning instead of waking each other.
 *
 * @example
 * ```ts
 * import { DEFAULT_SPIN, Queue, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-spin-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "q", u32, 16);
 * q.push(1);
 * assert.equal(q.popWait({ spin: DEFAULT_SPIN * 4, timeout: 100 }), 1); // spin longer against a busy peer
 * ```
 */
export const DEFAULT_SPIN = 4096;
/**
 * Time bound of the spin phase of a blocking wait, in microseconds.
 *
 * @example
 * ```ts
 * import { SPIN_LIMIT_US } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * assert.equal(SPIN_LIMIT_US, 50); // no wait spins longer than this before parking
 * ```
 */
export const SPIN_LIMIT_US = 50;
/**
 * Polls before an async wait parks, to start with and whenever its waits park for long
 * (short: spinning blocks the event loop).
 *
 * @example
 * ```ts
 * import { ASYNC_SPIN, Queue, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-aspin-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "q", u32, 16);
 * q.push(1);
 * assert.equal(await q.popAsync({ spin: ASYNC_SPIN }), 1); // fix the spin instead of adapting it
 * ```
 */
export const ASYNC_SPIN = 128;
/**
 * Most polls the adaptive async spin grows to (time-bounded by SPIN_LIMIT_US as well).
 *
 * @example
 * ```ts
 * import { ASYNC_SPIN, ASYNC_SPIN_MAX, DEFAULT_SPIN } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * assert.ok(ASYNC_SPIN <= ASYNC_SPIN_MAX && ASYNC_SPIN_MAX === DEFAULT_SPIN);
 * ```
 */
export const ASYNC_SPIN_MAX: number = DEFAULT_SPIN;
/**
 * An async wait that parks and is satisfied within this many µs of parking doubles the
 * adaptive spin of its eventcount word: about two futex wake-ups (20-50 µs each) plus
 * the helper thread's hand-off to the event loop, i.e. a peer that is busy, not idle.
 *
 * @example
 * ```ts
 * import { ASYNC_FAST_PARK_US, ASYNC_IDLE_PARK_US } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * assert.ok(ASYNC_FAST_PARK_US < ASYNC_IDLE_PARK_US); // fast: spin more; idle: spin less
 * ```
 */
export const ASYNC_FAST_PARK_US = 200;
/**
 * An async wait satisfied between ASYNC_FAST_PARK_US and this many µs after parking
 * halves the adaptive spin (a hiccup of a busy peer: a preemption, a short GC); one
 * that parks longer (an idle peer), times out or is aborted resets it to ASYNC_SPIN.
 *
 * @example
 * ```ts
 * import { ASYNC_IDLE_PARK_US } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * assert.equal(ASYNC_IDLE_PARK_US, 1000); // parked longer than 1 ms: the peer was idle
 * ```
 */
export const ASYNC_IDLE_PARK_US = 1000;
/**
 * Longest single async futex wait; abort and deadline are re-checked between slices.
 *
 * @example
 * ```ts
 * import { ASYNC_SLICE_MS } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * assert.equal(ASYNC_SLICE_MS, 200); // an abort is noticed within this many ms at most
 * ```
 */
export const ASYNC_SLICE_MS = 200;
/** Bytes of an eventcount: seq (i32) then waiters (i32). */
export const EVENT_COUNT_BYTES = 8;
/**
 * Wake count meaning "everyone".
 *
 * @example
 * ```ts
 * import { ALL } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * assert.equal(ALL, 2 ** 31 - 1);
 * ```
 */
export const ALL = 0x7fffffff;

/** Validates a timeout option and turns it into an absolute deadline (performance.now() ms). */
export function deadlineOf(timeout: number | undefined): number {
  if (timeout === undefined || timeout === Infinity) return Infinity;
  if (typeof timeout !== "number" || !(timeout >= 0)) {
    throw new ShmError("INVALID_ARGUMENT", `timeout must be a number of milliseconds >= 0 (or Infinity), got ${String(timeout)}`);
  }
  return performance.now() + timeout;
}

/** The TIMEOUT error a wait throws when its API reports timeouts as errors. */
export function timeoutError(what: string, timeout: number | undefined): ShmError {
  return new ShmError("TIMEOUT", `${what} timed out after ${timeout} ms`);
}

/** The ABORTED error, carrying the signal's reason as `cause`. */
export function abortError(what: string, signal: AbortSignal): ShmError {
  return new ShmError("ABORTED", `${what} was aborted`, { cause: signal.reason });
}

/** Throws ABORTED if the signal has fired (call before registering as a waiter). */
export function checkAborted(what: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(what, signal);
}

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ShmError("INVALID_ARGUMENT", "signal must be an AbortSignal");
  }
}

function checkSpin(spin: unknown): void {
  if (spin !== undefined && (typeof spin !== "number" || !(spin >= 0))) {
    throw new ShmError("INVALID_ARGUMENT", `spin must be a number of polls >= 0 (or Infinity), got ${String(spin)}`);
  }
}

/** Validates async wait options (signal, spin, timeout); returns the deadline. */
export function asyncDeadline(options: AsyncWaitOptions | undefined): number {
  checkSignal(options?.signal);
  checkSpin(options?.spin);
  return deadlineOf(options?.timeout);
}

/**
 * The timeout of a blocking wait's argument: a number of milliseconds (the original
 * signature) or WaitOptions.
 */
export function timeoutOf(arg: number | WaitOptions | undefined): number | undefined {
  return typeof arg === "object" && arg !== null ? arg.timeout : arg;
}

/** The validated `spin` of a blocking wait's argument (ms or WaitOptions), else `dflt`. */
export function spinOf(arg: number | WaitOptions | undefined, dflt = DEFAULT_SPIN): number {
  if (typeof arg !== "object" || arg === null) return dflt;
  checkSpin(arg.spin);
  return arg.spin ?? dflt;
}
