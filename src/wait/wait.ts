/**
 * The wait/notify core every blocking and async operation is built on.
 *
 * Two layers:
 *
 * 1. `park` / `parkAsync`: sleep on a 32-bit futex word in shared memory while it
 *    holds an expected value (the Linux futex contract, process-shared). Sync parks
 *    block the calling thread inside one FFI call; async parks run the same wait on a
 *    helper thread (Deno: a `nonblocking` FFI symbol; Bun: a native thread reporting
 *    through a thread-safe JSCallback) and never block the event loop.
 *
 * 2. An *eventcount* (the futex-based condition for lock-free structures, as in
 *    Vyukov's eventcount and folly's EventCount): a `seq` word to park on plus a
 *    `waiters` count, 8 bytes in shared memory (`EVENT_COUNT_BYTES`). A waiter
 *    announces itself (waiters += 1), reads `seq`, re-checks its condition, and only
 *    then parks on `seq`. A notifier makes its change visible first and then reads
 *    `waiters`: zero means nobody can be asleep, so no syscall and not even a write
 *    to `seq` (the fast path of every push/pop). All accesses are sequentially
 *    consistent JS `Atomics` (hardware atomics on the mapped memory), which is what
 *    makes this Dekker-style handshake race-free: either the notifier sees the
 *    waiter's count, or the waiter's re-check sees the notifier's change.
 *
 * Waiting is: poll the condition a bounded number of times, then park. Blocking waits
 * spin up to `DEFAULT_SPIN` polls; async waits spin adaptively, per eventcount word in
 * this process: `ASYNC_SPIN` polls to start with, doubled (up to `ASYNC_SPIN_MAX`)
 * after every wait that had to park but was satisfied within `ASYNC_FAST_PARK_US`
 * (a busy peer that just missed the spin window), halved after one satisfied within
 * `ASYNC_IDLE_PARK_US`, and back to `ASYNC_SPIN` after any wait that parks longer
 * (an idle consumer), times out or is aborted. A `spin` option
 * overrides both. Whatever the number of polls, a spin phase ends after
 * `SPIN_LIMIT_US` µs, so an async wait never blocks the event loop longer than that.
 * Nobody sleeps in a loop: a parked waiter costs no CPU until it is woken. Async
 * parks are cut into slices of at most `ASYNC_SLICE_MS` (200 ms) so the abort signal
 * and deadline are re-checked between slices and no helper thread outlives an
 * aborted wait by more than one slice.
 *
 * Timeouts are milliseconds (`Infinity` or `undefined` = no limit, `0` = poll once).
 * What a timeout *returns* is decided by each public API (documented there); the
 * helpers here report it as `undefined` and leave the error to the caller
 * (`timeoutError`). An aborted async wait rejects with ShmError `ABORTED` and undoes
 * its waiter registration, so the structure is left exactly as it was.
 *
 * A process killed while parked leaves its `waiters` increment behind: notifiers
 * then make one unneeded wake syscall per notify, which is harmless.
 */
import { native } from "../../ffi/mod.ts";
import { Errno, ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";

export * from "./options.ts";
import {
  abortError,
  ALL,
  ASYNC_FAST_PARK_US,
  ASYNC_IDLE_PARK_US,
  ASYNC_SLICE_MS,
  ASYNC_SPIN,
  ASYNC_SPIN_MAX,
  asyncDeadline,
  type AsyncWaitOptions,
  checkAborted,
  deadlineOf,
  DEFAULT_SPIN,
  SPIN_LIMIT_US,
  spinOf,
  timeoutError,
  timeoutOf,
  type WaitOptions,
} from "./options.ts";

/** Native futex results (negative errno) that mean "we were not woken". */
const ETIMEDOUT = -Errno.ETIMEDOUT;

function sliceNs(deadline: number, sliceMs: number): number {
  const left = Math.min(deadline - performance.now(), sliceMs);
  if (left === Infinity) return -1;
  return Math.max(0, Math.ceil(left * 1e6));
}

/**
 * Longest single blocking park on a Worker's thread. A runtime terminates a Worker by
 * interrupting its JavaScript, which cannot happen while the thread sits in a futex
 * syscall: a Worker blocked in `popWait()` without a timeout kept its process from
 * exiting. Parks in Workers therefore return to JavaScript at least this often, where
 * the termination takes effect (docs/WAITING.md, "Workers").
 */
export const WORKER_SLICE_MS = 50;

let workerThread: boolean | undefined;
/** True when this module runs on a Worker's thread (its kernel tid is not the pid). */
export function onWorkerThread(): boolean {
  if (workerThread === undefined) {
    const n = native();
    workerThread = n.gettid() !== n.getpid();
  }
  return workerThread;
}

/**
 * Blocks the calling thread while the i32 at byte offset `at` equals `expected`,
 * until woken, the deadline, or `sliceMs` (for callers that re-check something
 * periodically, like a lock owner's liveness). May return spuriously; callers loop.
 * Returns the native result: 0 woken, -EAGAIN value differed, -ETIMEDOUT.
 */
export function park(m: Memory, at: number, expected: number, deadline: number, sliceMs = Infinity): number {
  const worker = onWorkerThread();
  const cap = Math.min(sliceMs, parkSliceMs());
  const ns = sliceNs(deadline, worker ? Math.min(cap, WORKER_SLICE_MS) : cap);
  if (ns === 0) return ETIMEDOUT;
  return native().futexWait(m.base, at, expected, ns);
}

/**
 * Async `park`: one slice of at most `sliceMs` (≤ ASYNC_SLICE_MS), without blocking
 * the event loop. Rejects with ABORTED as soon as `signal` fires, and cancels the
 * native wait (futex_waitv on the word and a cancel word), so no helper thread
 * outlives the abort and none reports to a terminated Worker. After
 * it settles, check `m.closed` before touching memory: the segment may have been
 * closed meanwhile.
 */
export function parkAsync(
  m: Memory,
  at: number,
  expected: number,
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
  sliceMs = ASYNC_SLICE_MS,
): Promise<number> {
  if (signal?.aborted) return Promise.reject(abortError(what, signal));
  const ns = sliceNs(deadline, Math.min(sliceMs, ASYNC_SLICE_MS, parkSliceMs()));
  if (ns === 0) return Promise.resolve(ETIMEDOUT);
  const n = native();
  if (!signal) return n.futexWaitCancellable(m.base, at, expected, ns).promise;
  const wait = n.futexWaitCancellable(m.base, at, expected, ns);
  return new Promise<number>((resolve, reject) => {
    const onAbort = () => {
      // The native wait returns at once (its cancel word is set); a wake-one that had
      // already picked it is passed on to the next waiter natively (zig/waiter.zig).
      wait.cancel();
      reject(abortError(what, signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    wait.promise.then((rc) => {
      signal.removeEventListener("abort", onAbort);
      resolve(rc);
    }, (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}

/** Byte offset helpers for an eventcount at `at`. */
const SEQ = 0;
const WAITERS = 4;
/**
 * Flags above the count in `waiters` (docs/WAITING.md "Arming"; zig/fence.zig): set,
 * for good, by the first waiter that parks, around one membarrier. Until then the
 * native fast paths publish without a full fence.
 */
export const ARMING = 0x4000_0000;
export const ARMED = 0x8000_0000 | 0;
const COUNT = 0x3fff_ffff;

/** Set when this process's membarrier failed: its parks then last at most FALLBACK_SLICE_MS. */
let heavyFailed = false;
/**
 * Longest park of a process that could not arm an eventcount (membarrier refused, e.g.
 * by a seccomp filter): a light publish it raced with may not wake it, so it re-checks.
 */
export const FALLBACK_SLICE_MS = 1;

/**
 * Registers the caller as a waiter of the eventcount at `at` (waiters += 1), arming
 * it first if nobody has: ARMING, then the heavy barrier (membarrier), then ARMED. A
 * second waiter that sees ARMING without ARMED issues its own barrier (the first may
 * still be inside its call, or dead). The barrier is paid once per eventcount.
 */
export function enlist(m: Memory, at: number): void {
  const i32 = m.i32;
  const w = (at + WAITERS) >> 2;
  if ((Atomics.load(i32, w) & ARMED) === 0) {
    Atomics.or(i32, w, ARMING);
    if (native().heavyBarrier() < 0) heavyFailed = true;
    else Atomics.or(i32, w, ARMED);
  }
  Atomics.add(i32, w, 1);
}

/** The longest park this process may make on an eventcount (Infinity unless arming failed). */
export function parkSliceMs(): number {
  return heavyFailed ? FALLBACK_SLICE_MS : Infinity;
}

/** Undoes `enlist` (waiters −= 1; the flags stay). */
export function delist(m: Memory, at: number): void {
  Atomics.sub(m.i32, (at + WAITERS) >> 2, 1);
}

/** Zeroes an eventcount (a freshly created block is already zero). */
export function initEventCount(m: Memory, at: number): void {
  Atomics.store(m.i32, (at + SEQ) >> 2, 0);
  Atomics.store(m.i32, (at + WAITERS) >> 2, 0);
}

/**
 * Wakes up to `count` waiters of the eventcount at `at`, after the caller made its
 * change visible. Costs one atomic load when nobody waits (no write, no syscall).
 * Returns true when a wake was issued.
 */
export function notify(m: Memory, at: number, count = ALL): boolean {
  if ((Atomics.load(m.i32, (at + WAITERS) >> 2) & COUNT) === 0) return false;
  Atomics.add(m.i32, (at + SEQ) >> 2, 1);
  native().futexWake(m.base, at + SEQ, count);
  return true;
}

/** How many processes/threads are registered as waiting on the eventcount (diagnostics, tests). */
export function waiterCount(m: Memory, at: number): number {
  return Atomics.load(m.i32, (at + WAITERS) >> 2) & COUNT;
}

// The adaptive async spin: polls per eventcount word (byte offset) of each mapping, in this
// process. Only words whose waits have parked get an entry (one Map entry per word, no
// allocation per wait).
const asyncSpins = new WeakMap<Memory, Map<number, number>>();

/** The adaptive spin the next async wait on the eventcount at `at` uses (diagnostics, tests). */
export function asyncSpinOf(m: Memory, at: number): number {
  return asyncSpins.get(m)?.get(at) ?? ASYNC_SPIN;
}

function setAsyncSpin(m: Memory, at: number, polls: number): void {
  let words = asyncSpins.get(m);
  if (words === undefined) {
    if (polls === ASYNC_SPIN) return;
    asyncSpins.set(m, words = new Map());
  }
  words.set(at, polls);
}

/** Polls up to `spin` times, giving up after SPIN_LIMIT_US (the clock is read every 64 polls). */
export function spinFor<T>(poll: () => T | undefined, spin: number): T | undefined {
  // Short spins (≤ 64 polls) never read the clock.
  const t0 = spin > 64 ? performance.now() : 0;
  for (let i = 1; i <= spin; i++) {
    const r = poll();
    if (r !== undefined) return r;
    if ((i & 63) === 0 && (performance.now() - t0) * 1000 > SPIN_LIMIT_US) return undefined;
  }
  return undefined;
}

/**
 * Waits (blocking the thread) until `poll()` returns something other than
 * `undefined`, and returns it; returns `undefined` when the deadline passes first.
 * `poll` must read shared state with Atomics (it runs many times and must be
 * side-effect free unless it succeeds, e.g. a try-pop). Spins `spin` polls, then
 * parks on the eventcount at `at` until a `notify`. `parkPoll` (default `poll`) is
 * the poll made after registering as a waiter, right before each park: one that must
 * not miss anything a cheaper spinning poll may skip (Queue: a dead claim).
 */
export function waitFor<T>(
  m: Memory,
  at: number,
  poll: () => T | undefined,
  deadline: number,
  spin = DEFAULT_SPIN,
  parkPoll: () => T | undefined = poll,
): T | undefined {
  let r = poll();
  if (r !== undefined) return r;
  r = spinFor(poll, spin);
  if (r !== undefined) return r;
  const i32 = m.i32;
  const seqIndex = (at + SEQ) >> 2;
  for (;;) {
    if (performance.now() >= deadline) return poll();
    enlist(m, at);
    const seq = Atomics.load(i32, seqIndex);
    r = parkPoll();
    if (r === undefined) park(m, at + SEQ, seq, deadline);
    delist(m, at);
    if (r !== undefined) return r;
    r = poll();
    if (r !== undefined) return r;
  }
}

/**
 * The async form of `waitFor`: resolves with the first non-undefined `poll()` result,
 * or `undefined` at the deadline; rejects with ABORTED when `signal` fires (the
 * waiter registration is undone first) and with CLOSED if the memory is unmapped
 * while waiting. Never blocks the event loop beyond the bounded spin (SPIN_LIMIT_US).
 *
 * `spin` polls before parking; `undefined` (the default) is the adaptive spin of the
 * eventcount word `at` in this process (`asyncSpinOf`): a wait that parks first
 * resets it to ASYNC_SPIN; if it is satisfied within ASYNC_FAST_PARK_US of parking
 * it sets it to twice the spin it used (at most ASYNC_SPIN_MAX), within
 * ASYNC_IDLE_PARK_US to half of it (at least ASYNC_SPIN). So a pair of busy
 * processes grows this side's spin past the peer's wake-up time within five round
 * trips, a hiccup costs one halving, and one long park (idle peer, timeout, abort)
 * shrinks it back at once. `parkPoll` as in `waitFor`.
 */
export async function waitForAsync<T>(
  m: Memory,
  at: number,
  poll: () => T | undefined,
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
  spin?: number,
  parkPoll: () => T | undefined = poll,
): Promise<T | undefined> {
  let r = poll();
  if (r !== undefined) return r;
  const polls = spin ?? asyncSpinOf(m, at);
  r = spinFor(poll, polls);
  if (r !== undefined) return r;
  // Parking: assume a long park (back to the shortest spin) until shown otherwise.
  const parkedAt = spin === undefined ? performance.now() : 0;
  if (spin === undefined) setAsyncSpin(m, at, ASYNC_SPIN);
  const seqIndex = (at + SEQ) >> 2;
  for (;;) {
    checkAborted(what, signal);
    if (performance.now() >= deadline) return poll();
    enlist(m, at);
    const seq = Atomics.load(m.i32, seqIndex);
    try {
      r = parkPoll();
      if (r === undefined) await parkAsync(m, at + SEQ, seq, deadline, signal, what);
    } finally {
      // The helper thread may still be parked after an abort; it only reads the word.
      if (!m.closed) delist(m, at);
    }
    if (r === undefined) {
      if (m.closed) throw new ShmError("CLOSED", `${what}: the segment was closed while waiting`);
      r = poll();
    }
    if (r !== undefined) {
      if (spin === undefined) {
        const us = (performance.now() - parkedAt) * 1000;
        if (us <= ASYNC_FAST_PARK_US) setAsyncSpin(m, at, Math.min(Math.max(polls, ASYNC_SPIN) * 2, ASYNC_SPIN_MAX));
        else if (us <= ASYNC_IDLE_PARK_US) setAsyncSpin(m, at, Math.max(polls >> 1, ASYNC_SPIN));
      }
      return r;
    }
  }
}

/**
 * One park a wait algorithm asks for: sleep while the i32 at byte offset `at` equals
 * `expected`, for at most `sliceMs` (and never past the wait's deadline).
 */
export interface Park {
  readonly at: number;
  readonly expected: number;
  readonly sliceMs?: number;
}

/**
 * A wait algorithm written once as a generator and run either blocking (`driveSync`)
 * or async (`driveAsync`): it yields the parks it needs and receives each park's
 * native result (0 woken, -EAGAIN, -ETIMEDOUT). When an async wait is aborted, or
 * its handle is closed, the error is thrown *into* the generator at its `yield`, so
 * its `finally` blocks undo whatever it registered (waiter counts, arrivals) before
 * the error propagates. Generators check their own deadline and throw TIMEOUT or
 * return a value, as their public API documents.
 */
export type WaitAlgorithm<T> = Generator<Park, T, number>;

/** Runs a wait algorithm on this thread, parking with blocking futex waits. */
export function driveSync<T>(m: Memory, alg: WaitAlgorithm<T>, deadline: number): T {
  let r = alg.next(0);
  while (!r.done) {
    const p = r.value;
    r = alg.next(park(m, p.at, p.expected, deadline, p.sliceMs));
  }
  return r.value;
}

/**
 * Runs a wait algorithm without blocking the event loop. `mem` returns the handle's
 * memory or throws CLOSED; it is called after every park.
 */
export async function driveAsync<T>(
  mem: () => Memory,
  alg: WaitAlgorithm<T>,
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  let r = alg.next(0);
  while (!r.done) {
    const p = r.value;
    let rc: number;
    try {
      rc = await parkAsync(mem(), p.at, p.expected, deadline, signal, what, p.sliceMs);
      mem();
    } catch (e) {
      r = alg.throw(e);
      continue;
    }
    r = alg.next(rc);
  }
  return r.value;
}

/**
 * The structures' blocking form: `waitFor` that throws ShmError TIMEOUT (naming
 * `what`) instead of returning undefined when the timeout passes. `arg` is the
 * timeout in ms or WaitOptions (`timeout`, `spin`).
 */
export function waitOrThrow<T>(
  m: Memory,
  at: number,
  poll: () => T | undefined,
  arg: number | WaitOptions | undefined,
  what: string,
): T {
  const timeout = timeoutOf(arg);
  const deadline = deadlineOf(timeout);
  const v = waitFor(m, at, poll, deadline, spinOf(arg));
  if (v === undefined) throw timeoutError(what, timeout);
  return v;
}

/** The structures' async form: `waitForAsync` that rejects with TIMEOUT or ABORTED. */
export async function waitOrThrowAsync<T>(
  m: Memory,
  at: number,
  poll: () => T | undefined,
  options: AsyncWaitOptions | undefined,
  what: string,
): Promise<T> {
  const deadline = asyncDeadline(options);
  checkAborted(what, options?.signal);
  const v = await waitForAsync(m, at, poll, deadline, options?.signal, what, options?.spin);
  if (v === undefined) throw timeoutError(what, options?.timeout);
  return v;
}
