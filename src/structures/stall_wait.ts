/**
 * Blocking waits that notice a dead peer. A process killed inside its claim never
 * sends the notify a parked waiter expects, so while the last poll met an unfinished
 * claim (`Stall.seen`), the waiter parks at most STALL_MS at a time and polls again:
 * the poll's slow path then checks the holder's liveness and repairs the structure
 * (vyukov_repair.ts). Without such a claim, waits park exactly as before.
 */
import type { Memory } from "../segment/memory.ts";
import {
  asyncDeadline,
  type AsyncWaitOptions,
  checkAborted,
  deadlineOf,
  spinOf,
  timeoutError,
  timeoutOf,
  waitFor,
  waitForAsync,
  type WaitOptions,
} from "../wait/wait.ts";
import { type Stall, STALL_MS } from "./claim_records.ts";

const STALLED = Symbol("stalled");

function stalledPoll<T>(poll: () => T | undefined, stall: Stall): () => T | typeof STALLED | undefined {
  return () => {
    const r = poll();
    return r !== undefined ? r : stall.seen ? STALLED : undefined;
  };
}

/**
 * waitOrThrow (src/wait/wait.ts) with bounded parks while a claim is unfinished.
 * `parkPoll` (default `poll`): the poll right before each park, which must see any
 * unfinished claim (Queue's spinning polls may skip that check: zig/fastpath.zig `checkDue`).
 */
export function waitStalled<T>(
  m: Memory,
  at: number,
  poll: () => T | undefined,
  stall: Stall,
  arg: number | WaitOptions | undefined,
  what: string,
  parkPoll: () => T | undefined = poll,
): T {
  const timeout = timeoutOf(arg);
  const deadline = deadlineOf(timeout);
  const spin = spinOf(arg);
  const sp = stalledPoll(poll, stall);
  const spPark = stalledPoll(parkPoll, stall);
  for (;;) {
    stall.seen = false;
    const r = waitFor(m, at, sp, deadline, spin, spPark);
    if (r === undefined) throw timeoutError(what, timeout);
    if (r !== STALLED) return r as T;
    // The claim is usually a live peer a few instructions from publishing: spin as usual.
    const v = waitFor(m, at, poll, Math.min(deadline, performance.now() + STALL_MS), spin, parkPoll);
    if (v !== undefined) return v;
    // A stall that never resolves (a hostile position, or a live peer that stopped) must
    // not outlast the caller's timeout: the poll above returns STALLED at once, not undefined.
    if (performance.now() >= deadline) throw timeoutError(what, timeout);
  }
}

/** waitOrThrowAsync with bounded parks while a claim is unfinished; `parkPoll` as in `waitStalled`. */
export async function waitStalledAsync<T>(
  m: Memory,
  at: number,
  poll: () => T | undefined,
  stall: Stall,
  options: AsyncWaitOptions | undefined,
  what: string,
  parkPoll: () => T | undefined = poll,
): Promise<T> {
  const deadline = asyncDeadline(options);
  checkAborted(what, options?.signal);
  const sp = stalledPoll(poll, stall);
  const spPark = stalledPoll(parkPoll, stall);
  for (;;) {
    stall.seen = false;
    const r = await waitForAsync(m, at, sp, deadline, options?.signal, what, options?.spin, spPark);
    if (r === undefined) throw timeoutError(what, options?.timeout);
    if (r !== STALLED) return r as T;
    const v = await waitForAsync(
      m,
      at,
      poll,
      Math.min(deadline, performance.now() + STALL_MS),
      options?.signal,
      what,
      options?.spin,
      parkPoll,
    );
    if (v !== undefined) return v;
    if (performance.now() >= deadline) throw timeoutError(what, options?.timeout);
  }
}
