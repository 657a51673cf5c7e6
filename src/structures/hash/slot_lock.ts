/**
 * The hash table's writer locks: a slot's `owner` word and the table's insert lock
 * are the same robust three-state futex lock (Drepper, "Futexes Are Tricky"), made
 * robust by storing the holder's pid: a waiter whose park times out checks that the
 * holder is alive and attached to this segment (its pid is in the process registry)
 * and takes over the lock of a holder that is not with a CAS from its pid. No repair
 * is needed after a takeover, since every change of a slot is one ctl store.
 *
 * The lock word is untrusted input: one naming a live process that never opened the
 * segment (pid 1, say) is taken over like a dead one, and a wait for the same owner
 * that lasts longer than `holdLimitMs` (a live, attached holder that never lets go:
 * stopped, or a corrupt word naming a live attached process) ends with TIMEOUT.
 */
import { native } from "../../../ffi/mod.ts";
import { ShmError } from "../../errors.ts";
import { isAttached } from "../../segment/attached.ts";
import type { Memory } from "../../segment/memory.ts";
import { isAlive, me } from "../../segment/process.ts";

/** Longest wait for one holder of a slot or insert lock before TIMEOUT (slot locks are held for microseconds). */
let holdLimitMs = 5_000;

/** @internal For tests: sets the hold limit (ms); returns the previous one. */
export function setHoldLimitMs(ms: number): number {
  const old = holdLimitMs;
  holdLimitMs = ms;
  return old;
}

/** A lock holder that can still release: alive and attached to this segment. */
function holderLive(m: Memory, owner: number): boolean {
  const p = owner & PID_MASK;
  return isAlive(p) && isAttached(m, p);
}

const SPIN = 64;
/** A parked waiter re-checks its lock's owner for liveness this often. */
const PARK_NS = 2_000_000;
const ETIMEDOUT = 110;
/** Lock words hold the owner's pid (Linux pids are < 2^22) and this bit when someone is parked. */
const WAITING = 0x40000000;
const PID_MASK = 0x3fffffff;

let myPid = 0;
function pid(): number {
  return myPid || (myPid = me().pid);
}

/** Takes the lock at i32 index `w`: 0 -> pid by CAS, else the contended path. */
export function lockWord(m: Memory, w: number): void {
  const self = pid();
  if (Atomics.compareExchange(m.i32, w, 0, self) === 0) return;
  lockSlow(m, w, self);
}

/** Takes the lock at `w` only if it is free. */
export function tryLockWord(m: Memory, w: number): boolean {
  return Atomics.compareExchange(m.i32, w, 0, pid()) === 0;
}

/** Releases the lock at `w`, waking one parked waiter if any marked itself. */
export function unlockWord(m: Memory, w: number): void {
  if ((Atomics.exchange(m.i32, w, 0) & WAITING) !== 0) native().futexWake(m.base, w << 2, 1);
}

/**
 * Contended: spin a little, then set the WAITING bit and park on the word (so unlock
 * knows to wake); after a park that timed out, check whether the owner is alive.
 */
function lockSlow(m: Memory, w: number, self: number): void {
  const i32 = m.i32;
  let spins = 0;
  // After we have parked once, others may be parked too: acquire with WAITING set.
  let mine = self;
  let holder = 0;
  let since = 0;
  for (;;) {
    const o = Atomics.load(i32, w);
    if (o === 0) {
      if (Atomics.compareExchange(i32, w, 0, mine) === 0) return;
      continue;
    }
    if (++spins < SPIN) continue;
    if ((o & PID_MASK) !== holder) {
      holder = o & PID_MASK;
      since = performance.now();
    } else if (performance.now() - since > holdLimitMs) {
      throw new ShmError(
        "TIMEOUT",
        `a hash table lock has been held by process ${holder} for over ${holdLimitMs} ms (stopped, or the lock word is corrupt)`,
      );
    }
    if ((o & WAITING) === 0 && Atomics.compareExchange(i32, w, o, o | WAITING) !== o) continue;
    mine = self | WAITING;
    const rc = native().futexWait(m.base, w << 2, o | WAITING, PARK_NS);
    if (rc === -ETIMEDOUT) {
      const owner = Atomics.load(i32, w);
      if (owner !== 0 && !holderLive(m, owner)) {
        // Its holder died (or never had the segment open): the slot is consistent (every change is one ctl store).
        if (Atomics.compareExchange(i32, w, owner, self | WAITING) === owner) return;
      }
    }
  }
}
