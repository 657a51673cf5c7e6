/**
 * Claim records: who holds which position of a Vyukov ring (Queue and the free-index
 * ring under Stack and ObjectPool), so that a survivor can tell a claim whose holder
 * died from one that is merely slow, and repair the ring (docs/RELIABILITY.md).
 *
 * Every such structure has `recordCount(maxProcesses)` records of 64 bytes (one cache
 * line each: they are written on every operation, so two processes never share one):
 *
 *   +0  i32 pos    first position of the claim
 *   +4  i32 n      0 = idle; n > 0: producing (putting) positions [pos, pos + n);
 *                  n < 0: consuming (taking) positions [pos, pos − n)
 *   +8  i32 pid    owner process, 0 = free record; −tid while the thread `tid` is taking
 *                  it (between the CAS and the store of its identity, see `claim`)
 *   +12 i32 start  owner's start time (field 22 of /proc/<pid>/stat) mod 2^32
 *   +16 i32 value  index ring only: the index a put is placing, or the index held in transit
 *   +20 i32 hold   index ring only: 0 = owns no index; > 0 = owns `value` in transit, the
 *                  number being the caller's phase (index_ring.ts: TAKEN, PUTTING, HOLD_ADOPT,
 *                  and the phases of Stack and ObjectPool); −1 = a survivor resolved a dead
 *                  owner's hold; −2 − k = the survivor owning record k took this hold over
 *   +24 i32 aux    index ring only: the phase's datum (a generation)
 *   +28 i32 won    index ring only: 1 once the put's CAS won its position
 *   +32 i32 tid    owner thread (a Worker's kernel tid), 0 = the process's main thread
 *   +36 i32 tstart that thread's start time mod 2^32
 *   +40 i32 src    index ring only, while hold = HOLD_ADOPT: the number of the dead owner's
 *                  record whose hold this record is taking over (index_ring.ts `#adopt`)
 *
 * A handle takes a record when it is made (64-bit-free: CAS on `pid` from 0, or from a
 * dead owner's pid when the record may be reused, to a marker, then its identity, see
 * `claim`) and shares it with the
 * other handles of the same structure in its Segment; the last one to close frees it.
 * The owner writes `pos` (and `value`) and then `n` with plain stores BEFORE its CAS on
 * the ring's position counter (the CAS publishes them to anyone who reads the counter
 * after it), and clears `n` with an atomic store AFTER the slot's sequence store that
 * ends the claim. So: while a claimed, unfinished position exists, its holder's record
 * names it. A survivor that reads the counter past q, then finds no record of a live
 * process naming q, knows the holder is dead (or finished: it re-checks the sequence).
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import { me } from "../segment/process.ts";
import { myTid } from "../segment/registry.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";

export const RECORD_BYTES = 64;
const W = RECORD_BYTES >> 2;
/** i32 words per record. */
export const RECORD_WORDS = W;
export const R_POS = 0;
export const R_N = 1;
export const R_PID = 2;
export const R_START = 3;
export const R_VALUE = 4;
export const R_HOLD = 5;
export const R_AUX = 6;
export const R_WON = 7;
export const R_TID = 8;
export const R_TSTART = 9;
export const R_SRC = 10;
/** `hold` of a dead owner's record whose index a survivor took over (docs/RELIABILITY.md). */
export const HOLD_DONE = -1;
/**
 * Hold phase of a survivor that announced taking over the hold of the dead owner's record
 * `src` (its `value` is that index): it owns the index iff that record's hold is now
 * `adoptedBy(its own record number)` (index_ring.ts `#adopt`).
 */
export const HOLD_ADOPT = 3;

/** The `hold` a survivor owning record number `k` leaves on the dead record whose hold it took over. */
export function adoptedBy(k: number): number {
  return -2 - k;
}

/** Records per structure: one per process the segment admits, plus room for dead claims awaiting repair. */
export function recordCount(maxProcesses: number): number {
  return maxProcesses + 16;
}

/** Bytes of the record area (a multiple of 64). */
export function recordBytes(maxProcesses: number): number {
  return recordCount(maxProcesses) * RECORD_BYTES;
}

/** How long a claim must stay unfinished before a survivor checks its holder's liveness (ms). */
export const STALL_MS = 2;

const TWO_32 = 0x1_0000_0000;

/** A start time (/proc/<pid>/stat field 22) as records keep it: mod 2^32, as an i32. */
export function startLow(start: number): number {
  return (start % TWO_32) | 0;
}

/** True while `pid` is a live, non-zombie process whose start time mod 2^32 is `start`. */
export function ownerAlive(pid: number, start: number): boolean {
  if (!(pid > 0 && pid <= 0x7fffffff)) return false;
  const t = native().processStartTime(pid);
  return t >= 0 && startLow(t) === start;
}

/**
 * True while the owner of the record at i32 index `b` lives: its process, and for a
 * record taken in a Worker, its thread (/proc/<pid>/task/<tid>, same start time). A
 * Worker terminated inside an operation leaves a claim of a dead owner.
 */
function recordAlive(i32: Int32Array, b: number): boolean {
  const pid = Atomics.load(i32, b + R_PID);
  if (!ownerAlive(pid, Atomics.load(i32, b + R_START))) return false;
  const tid = Atomics.load(i32, b + R_TID);
  if (tid === 0) return true;
  if (!(tid > 0 && tid <= 0x7fffffff)) return false;
  const t = native().threadStartTime(pid, tid);
  return t >= 0 && startLow(t) === Atomics.load(i32, b + R_TSTART);
}

/**
 * True while the thread whose record marker is `pid` (−tid, see `claim`) exists and is not
 * a zombie. Only the tid is known (its start time is not yet written), so a claimer that
 * died and whose tid the kernel gave to a live thread holds its record until that thread
 * ends: one record of the 16 spare, never a wrong owner.
 */
function claimerAlive(pid: number): boolean {
  return pid < 0 && pid >= -0x7fffffff && native().processStartTime(-pid) >= 0;
}

/** This thread's (tid, start time mod 2^32) for a record; (0, 0) on the main thread. */
function threadId(pid: number): [number, number] {
  const tid = myTid();
  if (tid === pid) return [0, 0];
  return [tid, startLow(native().threadStartTime(pid, tid))];
}

/**
 * True while the record at i32 index `b` has a hold taken over by a survivor whose own
 * record still announces it (HOLD_ADOPT naming `b`): whether that survivor owns the index
 * is read from this hold, so the record must not be reused yet.
 */
function adopting(i32: Int32Array, base: number, count: number, b: number): boolean {
  const k = adoptedBy(0) - Atomics.load(i32, b + R_HOLD); // the adopter's record number, if the hold names one
  if (!(k >= 0 && k < count)) return false;
  const a = base + k * W;
  return Atomics.load(i32, a + R_HOLD) === HOLD_ADOPT && Atomics.load(i32, a + R_SRC) === (b - base) / W;
}

interface Shared {
  recs: ClaimRecords;
  refs: number;
}
/** This process's records, per mapping and record area: handles of one structure share one. */
const byMemory = new WeakMap<Memory, Map<number, Shared>>();

/** One structure's record area, seen from the handle(s) of one Segment. */
export class ClaimRecords {
  /** i32 index of record 0. */
  readonly base: number;
  readonly count: number;
  /** i32 index of this process's record. */
  readonly own: number;
  readonly #at: number;

  private constructor(at: number, count: number, own: number) {
    this.#at = at;
    this.base = at >> 2;
    this.count = count;
    this.own = own;
  }

  /**
   * This Segment's record in the area at byte `at` (`count` records), taken on first
   * use. `putPending(pos)`: for the index ring, whether a dead owner's put at `pos` may
   * still need the record's value (its position claimed and unpublished); such a
   * record is not reused. FULL if every record is held.
   */
  static claim(m: Memory, at: number, count: number, name: string, putPending?: (pos: number) => boolean): ClaimRecords {
    let map = byMemory.get(m);
    if (map === undefined) byMemory.set(m, map = new Map());
    const shared = map.get(at);
    if (shared !== undefined) {
      shared.refs++;
      return shared.recs;
    }
    const i32 = m.i32;
    const self = me();
    const start = startLow(self.start);
    const [tid, tstart] = threadId(self.pid);
    // While we take a record its pid reads −(our kernel tid): a claimer is known by that
    // alone. Taking it straight to our pid would leave the previous owner's start time
    // beside our pid until we store ours, and a second claimer reading the pair in that
    // window would judge the record a dead owner's and take it too (tests/records.test.ts).
    const marker = -myTid();
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < count; i++) {
        const b = (at >> 2) + i * W;
        const pid = Atomics.load(i32, b + R_PID);
        if (pid !== 0) {
          if (pass === 0) continue; // free records first: liveness checks cost a system call
          if (putPending !== undefined && Atomics.load(i32, b + R_N) > 0 && putPending(Atomics.load(i32, b + R_POS))) continue;
          // A dead owner's index in transit is evidence until a survivor resolves it, and
          // so is a hold taken over by a survivor still announcing it (see `adopting`).
          if (Atomics.load(i32, b + R_HOLD) > 0 || adopting(i32, at >> 2, count, b)) continue;
          if (pid < 0 ? claimerAlive(pid) : recordAlive(i32, b)) continue;
        }
        if (Atomics.compareExchange(i32, b + R_PID, pid, marker) !== pid) continue;
        if (PAUSE_POINT !== undefined) pauseHere("records.claim.marked");
        // n first: a marked record reads as a dead owner's to the repairs (recordAlive), never as a live claim.
        Atomics.store(i32, b + R_N, 0);
        Atomics.store(i32, b + R_HOLD, 0);
        Atomics.store(i32, b + R_WON, 0);
        Atomics.store(i32, b + R_TID, tid);
        Atomics.store(i32, b + R_TSTART, tstart);
        Atomics.store(i32, b + R_START, start);
        Atomics.store(i32, b + R_PID, self.pid);
        const recs = new ClaimRecords(at, count, b);
        map.set(at, { recs, refs: 1 });
        return recs;
      }
    }
    throw new ShmError("FULL", `"${name}": all ${count} claim records are held by live processes or by unrepaired dead claims`);
  }

  /** Drops one handle's use; the last one frees the record (if the memory is still mapped). */
  release(m: Memory): void {
    const map = byMemory.get(m);
    const shared = map?.get(this.#at);
    if (shared === undefined || shared.recs !== this || --shared.refs > 0) return;
    map!.delete(this.#at);
    if (m.closed) return;
    const i32 = m.i32;
    if (Atomics.load(i32, this.own + R_N) === 0 && Atomics.load(i32, this.own + R_HOLD) <= 0) {
      Atomics.compareExchange(i32, this.own + R_PID, me().pid, 0);
    }
  }

  /**
   * True if a record of a live process claims position `q` in `role` (1 producing, −1
   * consuming). Our own record counts as live.
   */
  liveClaim(i32: Int32Array, q: number, role: 1 | -1): boolean {
    for (let i = 0; i < this.count; i++) {
      const b = this.base + i * W;
      const n = Atomics.load(i32, b + R_N);
      if (n === 0 || (n > 0 ? role < 0 : role > 0)) continue;
      const p = Atomics.load(i32, b + R_POS);
      if (((q - p) >>> 0) >= (n > 0 ? n : -n)) continue;
      if (b === this.own) return true;
      if (recordAlive(i32, b)) return true;
    }
    return false;
  }

  /**
   * i32 indices of the records of dead owners whose `n` has `role`'s sign and names
   * position `q` (index ring repairs). Never our own.
   */
  deadAt(i32: Int32Array, q: number, role: 1 | -1): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const b = this.base + i * W;
      const n = Atomics.load(i32, b + R_N);
      if (b === this.own || n === 0 || (n > 0 ? role < 0 : role > 0) || Atomics.load(i32, b + R_POS) !== q) continue;
      if (!recordAlive(i32, b)) out.push(b);
    }
    return out;
  }

  /** True if the owner of the record at i32 index `b` is alive (our own record counts as alive). */
  alive(i32: Int32Array, b: number): boolean {
    return b === this.own || recordAlive(i32, b);
  }
}

/**
 * Per-handle stall clock: how long this handle has seen the same unfinished claim, so
 * the liveness scan runs only on the slow path and at most once per STALL_MS.
 */
export class Stall {
  #kind = 0;
  #pos = 0;
  #since = 0;
  /** Set whenever the last operation met an unfinished claim (the wait loops read and reset it). */
  seen = false;

  /** True when (kind, pos) has been stalled for STALL_MS since the last check. */
  due(kind: number, pos: number): boolean {
    this.seen = true;
    const now = performance.now();
    if (kind !== this.#kind || pos !== this.#pos) {
      this.#kind = kind;
      this.#pos = pos;
      this.#since = now;
      return false;
    }
    if (now - this.#since < STALL_MS) return false;
    this.#since = now;
    return true;
  }
}
