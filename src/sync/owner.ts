/**
 * Shared pieces of the robust primitives: the owner word layout, the owner record
 * (pid + start time, so a recycled pid is not mistaken for a dead owner), and the
 * StructureSpec every primitive uses.
 *
 * Owner word (i32), the layout of Linux robust futexes adapted to 32-bit JS Atomics:
 *   0                      free
 *   pid                    held by process `pid`, nobody waiting
 *   pid | WAITERS          held, and someone may be parked on the word
 * This is Drepper's three-state mutex ("Futexes Are Tricky", mutex3: 0 / 1 / 2) where
 * the "locked" states carry the owner's pid, so a waiter can tell a dead owner.
 */
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import { isAlive, me } from "../segment/process.ts";
import type { StructureSpec } from "../segment/structure.ts";

/** Set in an owner word when a waiter may be parked on it. */
export const WAITERS = 0x4000_0000;
/** The pid part of an owner word (Linux pid_max is at most 2^22). */
export const PID_MASK = 0x3fff_ffff;
/** How often a parked waiter wakes to check whether the owner died (ms). */
export const LIVENESS_CHECK_MS = 100;
/** Bytes of an owner record: tag pid (i32), pad, start time (u64). */
export const OWNER_RECORD_BYTES = 16;

/** A spec for a primitive with `controlBytes` of control area and `dataBytes` of data. */
export function syncSpec(kind: number, controlBytes: number, dataBytes: (capacity: number) => number = () => 0): StructureSpec {
  return { kind, type: undefined, controlBytes, dataBytes };
}

/** This process's pid, checked to fit the owner word. */
export function myPid(): number {
  const pid = me().pid;
  if (pid <= 0 || pid > PID_MASK) throw new ShmError("UNSUPPORTED", `pid ${pid} does not fit a 30-bit owner word`);
  return pid;
}

/** Records this process as owner (call right after winning the owner word). */
export function recordOwner(m: Memory, rec: number): void {
  const self = me();
  m.setU64(rec + 8, self.start);
  Atomics.store(m.i32, rec >> 2, self.pid);
}

/** Clears the record (call before releasing the owner word). */
export function clearOwner(m: Memory, rec: number): void {
  Atomics.store(m.i32, rec >> 2, 0);
}

/**
 * Whether `pid`, found in an owner word, is alive. The start time in the record is
 * used only when the record is tagged with that same pid; otherwise (the owner just
 * took the word and has not written its record yet) liveness is judged by pid
 * alone, which can only err towards "alive", never towards stealing a live lock.
 */
export function ownerAlive(m: Memory, rec: number, pid: number): boolean {
  const i = rec >> 2;
  if (Atomics.load(m.i32, i) === pid) {
    const start = m.getU64(rec + 8);
    if (Atomics.load(m.i32, i) === pid) return isAlive(pid, start);
  }
  return isAlive(pid);
}

/** Before trying to take over from a dead owner: the record no longer describes anyone. */
export function forgetOwner(m: Memory, rec: number): void {
  Atomics.store(m.i32, rec >> 2, 0);
}
