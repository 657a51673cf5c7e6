/**
 * Per-process slots: the data-area array that Semaphore (holders), Barrier (waiters)
 * and RWLock (readers) use to record what each process is doing, so that what a dead
 * process leaves behind can be found and undone.
 *
 * Slot layout (SLOT_BYTES = 16):
 *   pid         i32 @0   0 free, CLAIMING (-1) while being claimed or taken over
 *   state       i32 @4   the structure's own word (held permits, generation|count, read count)
 *   start time  u64 @8   the process's start time, so a recycled pid is not taken for it
 *
 * Claiming protocol: a free slot is claimed with a CAS on its pid word 0 -> CLAIMING;
 * a dead process's slot is taken over with a CAS pid -> CLAIMING followed by a
 * start-time re-check. Either way the winner holds the slot in the CLAIMING state and
 * then writes its ownership (`own`: state, start time, and the pid word last, so a
 * slot showing a pid always carries that process's start time).
 *
 * The class holds only the slots' placement; it keeps no state of its own.
 */
import type { Memory } from "../segment/memory.ts";
import { isAlive } from "../segment/process.ts";

/** Bytes per slot. */
export const SLOT_BYTES = 16;
/** Offset of the structure-specific i32 state word within a slot. */
export const SLOT_STATE = 4;
/** Offset of the u64 start time within a slot. */
export const SLOT_START = 8;
/** Pid word of a slot being claimed or taken over. */
export const CLAIMING = -1;

/** A process identity: pid plus start time. */
export interface ProcessId {
  pid: number;
  start: number;
}

/** `count` slots of SLOT_BYTES starting at byte offset `base` of the segment. */
export class ProcessSlots {
  constructor(readonly base: number, readonly count: number) {}

  /** Byte offset of slot `i`. */
  at(i: number): number {
    return this.base + i * SLOT_BYTES;
  }

  /** Whether slot `i` belongs to process `self` (pid and start time match). */
  isMine(m: Memory, i: number, self: ProcessId): boolean {
    const at = this.at(i);
    return Atomics.load(m.i32, at >> 2) === self.pid && m.getU64(at + SLOT_START) === self.start;
  }

  /** The first slot that belongs to `self`, or -1. */
  findMine(m: Memory, self: ProcessId): number {
    for (let i = 0; i < this.count; i++) if (this.isMine(m, i, self)) return i;
    return -1;
  }

  /**
   * Claims a free slot with a CAS 0 -> CLAIMING on its pid word and returns it, left
   * CLAIMING for the caller to write (`own` / `publish`); -1 if none is free.
   */
  claimFree(m: Memory): number {
    for (let i = 0; i < this.count; i++) {
      const at = this.at(i);
      if (Atomics.load(m.i32, at >> 2) === 0 && Atomics.compareExchange(m.i32, at >> 2, 0, CLAIMING) === 0) return i;
    }
    return -1;
  }

  /**
   * Takes slot `i` of dead process (`pid`, `start`) with a CAS pid -> CLAIMING on its
   * pid word, so of several callers exactly one wins, then re-checks the start time:
   * a slot freed and claimed again meanwhile by a new process that got the same pid is
   * given back (pid restored) and false returned. Returns true if this caller won; the
   * slot is then left CLAIMING for the caller to free or reuse.
   */
  takeDead(m: Memory, i: number, pid: number, start: number): boolean {
    const at = this.at(i);
    if (Atomics.compareExchange(m.i32, at >> 2, pid, CLAIMING) !== pid) return false;
    if (m.getU64(at + SLOT_START) !== start) {
      // Freed and claimed again meanwhile by a new process that got the same pid: not dead.
      Atomics.store(m.i32, at >> 2, pid);
      return false;
    }
    return true;
  }

  /**
   * The first slot whose pid word names a process that is dead (by pid and start
   * time) and that `take(i, pid, start)` manages to take over, or -1. `take` runs the
   * structure's hook and `takeDead`; it returns whether the slot is now the caller's.
   */
  takeAnyDead(m: Memory, take: (i: number, pid: number, start: number) => boolean): number {
    for (let i = 0; i < this.count; i++) {
      const at = this.at(i);
      const p = Atomics.load(m.i32, at >> 2);
      if (p <= 0) continue;
      const s = m.getU64(at + SLOT_START);
      if (!isAlive(p, s) && take(i, p, s)) return i;
    }
    return -1;
  }

  /**
   * Writes `self` into slot `i`, which the caller holds CLAIMING: the state word 0,
   * then the start time, then the pid word last. Returns `i`.
   */
  own(m: Memory, i: number, self: ProcessId): number {
    Atomics.store(m.i32, (this.at(i) + SLOT_STATE) >> 2, 0);
    return this.publish(m, i, self);
  }

  /**
   * Writes the start time, then the pid word, of slot `i` (held CLAIMING), leaving the
   * state word as it is. Returns `i`.
   */
  publish(m: Memory, i: number, self: ProcessId): number {
    const at = this.at(i);
    m.setU64(at + SLOT_START, self.start);
    Atomics.store(m.i32, at >> 2, self.pid);
    return i;
  }

  /**
   * Claims a slot for `self` (who has none: see `findMine`): a free slot, else a dead
   * process's slot taken over through `take` (see `takeAnyDead`), then owned with
   * `own`. -1 if all are used by live processes.
   */
  claim(m: Memory, self: ProcessId, take: (i: number, pid: number, start: number) => boolean): number {
    const free = this.claimFree(m);
    if (free >= 0) return this.own(m, free, self);
    const dead = this.takeAnyDead(m, take);
    return dead >= 0 ? this.own(m, dead, self) : -1;
  }
}
