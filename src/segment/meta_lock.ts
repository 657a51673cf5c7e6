/**
 * The segment's metadata lock: serialises changes to the name table, the allocator
 * and the process registry (lifecycle operations, never a structure's hot path).
 *
 * The lock word holds the owner's kernel thread id (0 = free), claimed with a CAS: the
 * pid for a process's main thread, the thread's own id for a Worker (Linux thread ids
 * share the pid space, and /proc/<tid> names the thread). A waiter parks on the futex
 * for short periods and checks whether the owner is still alive; if it is gone — its
 * process died, or it was a Worker that was terminated while holding the lock while its
 * process lives on — the waiter takes the lock over with a CAS from the dead id, and the
 * caller is told so it can repair what the dead owner left half-done. One word, written
 * by the CAS itself, so there is no moment at which the lock is held by an unnamed
 * thread. A holder that is alive but has not been attached to the segment (as a process
 * or a thread) for STRANGER_MS is treated the same way: the lock word is untrusted, and
 * pid 1 must not lock a segment for good.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import { H } from "./format.ts";
import type { Memory } from "./memory.ts";
import { isAttached } from "./attached.ts";
import { isAlive } from "./process.ts";
import { myTid } from "./registry.ts";

const SPINS = 200;
const PARK_NS = 2_000_000; // re-check the owner's liveness every 2 ms
/** A live holder that is not attached for this long is taken to be no holder (a corrupt lock word). */
const STRANGER_MS = 250;

/** Returns true when the lock was taken over from a dead owner. */
export function lockMeta(m: Memory, timeoutMs: number): boolean {
  const i32 = m.i32;
  const word = H.lockOwner >> 2;
  const id = myTid(); // this thread (a process's main thread: the pid itself)
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.compareExchange(i32, word, 0, id) === 0) return false;
  }
  const n = native();
  const deadline = performance.now() + timeoutMs;
  let stranger = 0;
  let strangerSince = 0;
  for (;;) {
    const owner = Atomics.compareExchange(i32, word, 0, id);
    if (owner === 0) return false;
    // A live holder not in the registry is an opener about to attach or a closer that
    // just detached (microseconds) -- or a corrupt word naming some other process.
    // /proc/<id> of a thread id: gone when its Worker ended or its process died.
    let gone = !isAlive(owner);
    if (!gone && owner !== id && !isAttached(m, owner)) {
      if (owner !== stranger) [stranger, strangerSince] = [owner, performance.now()];
      else gone = performance.now() - strangerSince > STRANGER_MS;
    } else stranger = 0;
    if (gone) {
      if (Atomics.compareExchange(i32, word, owner, id) === owner) return true;
      continue;
    }
    if (performance.now() > deadline) {
      throw new ShmError(
        "TIMEOUT",
        `segment metadata lock is held by live thread ${owner} (a pid, or a Worker's thread id) for over ${timeoutMs} ms`,
      );
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
