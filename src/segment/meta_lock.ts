/**
 * The segment's metadata lock: serialises changes to the name table, the allocator
 * and the process registry (lifecycle operations, never a structure's hot path).
 *
 * The lock word holds the owner's pid (0 = free), claimed with a CAS. A waiter parks
 * on the futex for short periods and checks whether the owner is still alive; if the
 * owner died, the waiter takes the lock over with a CAS from the dead pid, and the
 * caller is told so it can repair what the dead owner left half-done. A holder that is
 * alive but has not been attached to the segment for STRANGER_MS is treated the same
 * way: the lock word is untrusted, and pid 1 must not lock a segment for good.
 *
 * The holder also writes its thread id into the next word (after the CAS; cleared
 * before the release), so a Worker terminated while it held the lock, whose process
 * lives on, is a dead owner too: a waiter whose owner pid is alive but whose owner
 * thread has ended (/proc/<pid>/task/<tid>) takes the lock over the same way. A tid
 * read as 0 (a holder between its CAS and its tid store) says nothing; a tid that
 * belongs to a later holder makes the takeover CAS from the earlier pid fail.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import { H } from "./format.ts";
import type { Memory } from "./memory.ts";
import { isAttached } from "./attached.ts";
import { isAlive, me } from "./process.ts";
import { myTid, threadAlive } from "./registry.ts";

const SPINS = 200;
const PARK_NS = 2_000_000; // re-check the owner's liveness every 2 ms
/** A live holder that is not attached for this long is taken to be no holder (a corrupt lock word). */
const STRANGER_MS = 250;

/** Returns true when the lock was taken over from a dead owner. */
export function lockMeta(m: Memory, timeoutMs: number): boolean {
  const i32 = m.i32;
  const word = H.lockOwner >> 2;
  const pid = me().pid;
  const tidWord = H.lockTid >> 2;
  const tid = myTid();
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.compareExchange(i32, word, 0, pid) === 0) {
      Atomics.store(i32, tidWord, tid);
      return false;
    }
  }
  const n = native();
  const deadline = performance.now() + timeoutMs;
  let stranger = 0;
  let strangerSince = 0;
  for (;;) {
    const owner = Atomics.compareExchange(i32, word, 0, pid);
    if (owner === 0) {
      Atomics.store(i32, tidWord, tid);
      return false;
    }
    // A live holder not in the registry is an opener about to attach or a closer that
    // just detached (microseconds) -- or a corrupt word naming some other process.
    let gone = !isAlive(owner);
    if (!gone) {
      const holder = Atomics.load(i32, tidWord);
      gone = holder !== 0 && !threadAlive(owner, holder); // its Worker ended while holding it
    }
    if (!gone && owner !== pid && !isAttached(m, owner)) {
      if (owner !== stranger) [stranger, strangerSince] = [owner, performance.now()];
      else gone = performance.now() - strangerSince > STRANGER_MS;
    } else stranger = 0;
    if (gone) {
      if (Atomics.compareExchange(i32, word, owner, pid) === owner) {
        Atomics.store(i32, tidWord, tid);
        return true;
      }
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
  Atomics.store(m.i32, H.lockTid >> 2, 0);
  Atomics.store(m.i32, H.lockOwner >> 2, 0);
  if (Atomics.load(m.i32, H.lockWaiters >> 2) > 0) native().futexWake(m.base, H.lockOwner, 1);
}
