/**
 * The segment's metadata lock: serialises changes to the name table, the allocator
 * and the process registry (lifecycle operations, never a structure's hot path).
 *
 * The lock word holds the owner's pid (0 = free), claimed with a CAS. A waiter parks
 * on the futex for short periods and checks whether the owner is still alive; if the
 * owner died, the waiter takes the lock over with a CAS from the dead pid, and the
 * caller is told so it can repair what the dead owner left half-done.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import { H } from "./format.ts";
import type { Memory } from "./memory.ts";
import { isAlive, me } from "./process.ts";

const SPINS = 200;
const PARK_NS = 2_000_000; // re-check the owner's liveness every 2 ms

/** Returns true when the lock was taken over from a dead owner. */
export function lockMeta(m: Memory, timeoutMs: number): boolean {
  const i32 = m.i32;
  const word = H.lockOwner >> 2;
  const pid = me().pid;
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.compareExchange(i32, word, 0, pid) === 0) return false;
  }
  const n = native();
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const owner = Atomics.compareExchange(i32, word, 0, pid);
    if (owner === 0) return false;
    if (!isAlive(owner)) {
      if (Atomics.compareExchange(i32, word, owner, pid) === owner) return true;
      continue;
    }
    if (performance.now() > deadline) {
      throw new ShmError("TIMEOUT", `segment metadata lock is held by live process ${owner} for over ${timeoutMs} ms`);
    }
    Atomics.add(i32, H.lockWaiters >> 2, 1);
    n.futexWait(m.base, H.lockOwner, owner, PARK_NS);
    Atomics.sub(i32, H.lockWaiters >> 2, 1);
  }
}

export function unlockMeta(m: Memory): void {
  Atomics.store(m.i32, H.lockOwner >> 2, 0);
  if (Atomics.load(m.i32, H.lockWaiters >> 2) > 0) native().futexWake(m.base, H.lockOwner, 1);
}
