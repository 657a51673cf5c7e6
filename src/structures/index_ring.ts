/**
 * A ring of free slot indices for Stack and ObjectPool: Vyukov's bounded MPMC queue
 * (the algorithm of queue.ts) holding u32 indices. It is the free list of those
 * structures because it is ABA-safe with plain 32-bit atomics: every ring slot has a
 * sequence number that only moves forward, so a delayed taker cannot take an index
 * twice, unlike an untagged Treiber free list.
 *
 * It never holds more than `capacity` indices (each structure slot is either in use
 * or in the ring), so `put` always finds room; the ring has capacity rounded up to a
 * power of two slots of 8 bytes: u32 sequence, u32 index.
 *
 * Positions live in two i32 words (enqueue, dequeue) that the caller places on
 * separate cache lines.
 *
 * Crashes (docs/RELIABILITY.md): every put and take is announced in the process's
 * claim record (claim_records.ts) before its CAS, a put with the index it places.
 * - A putter killed between its CAS and its publish: the taker that reaches the
 *   position finds it stalled with no live claim, takes the position over and returns
 *   the dead putter's index from its record: no index is lost.
 * - A taker killed between its CAS and its hand-back: the putter of the next lap finds
 *   the slot stalled with no live claim, hands it back, and puts the index the dead
 *   taker never returned (still in the slot) back into the ring. A survivor resolving
 *   dead holds (`resolveDead`, on the empty path) does the same, because that putter may
 *   never come: with every other index taken, nobody puts.
 * Both are counted in the caller's `recovered` word.
 */
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import {
  ClaimRecords,
  HOLD_DONE,
  R_AUX,
  R_HOLD,
  R_N,
  R_POS,
  R_VALUE,
  R_WON,
  RECORD_WORDS,
  recordBytes,
  recordCount,
  Stall,
} from "./claim_records.ts";
import { CONSUME, PRODUCE } from "./vyukov_repair.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";

/** Ring slots for `capacity` indices: capacity rounded up to a power of two. */
export function ringSlots(capacity: number): number {
  let r = 1;
  while (r < capacity) r *= 2;
  return r;
}

/** Bytes of ring slots for `capacity` indices, followed by the claim records (64-aligned). */
export function ringBytes(capacity: number, maxProcesses: number): number {
  return Math.ceil((ringSlots(capacity) * 8) / 64) * 64 + recordBytes(maxProcesses);
}

/** Fills a fresh ring with indices 0..capacity-1 (0 taken first). Only on a block nobody else sees yet. */
export function initRingFull(m: Memory, enq: number, deq: number, slots: number, capacity: number): void {
  const i32 = m.i32;
  const r = ringSlots(capacity);
  for (let i = 0; i < r; i++) {
    const s = (slots + i * 8) >> 2;
    if (i < capacity) {
      i32[s] = i + 1; // published for position i
      i32[s + 1] = i;
    } else {
      i32[s] = i; // free for the producer of position i
    }
  }
  i32[enq] = capacity;
  i32[deq] = 0;
}

/** Hold phases of the ring itself: just taken (the caller has not touched the index's state), about to be put. */
export const TAKEN = 1;
export const PUTTING = 2;
/** Verdicts of a structure's `decide` on a dead owner's hold (see `resolveDead`). */
export const KEEP = 0;
export const PUT = 1;
export const PUT_MINE = 2;
export const WAIT = 3;
export type Decide = (phase: number, index: number, aux: number) => number;

function damaged(name: string): ShmError {
  return new ShmError(
    "CORRUPT",
    `"${name}": free-slot ring sequence ahead of its position counter; the structure's memory is damaged`,
  );
}

const nap = new Int32Array(new SharedArrayBuffer(4));
const GIVE_UP_MS = 5_000;

/** Spins, then sleeps 1 ms at a time; after GIVE_UP_MS a live holder is taken to be stuck. */
function backoff(waited: number, name: string): number {
  if (waited < 1000) return waited + 1;
  Atomics.wait(nap, 0, 0, 1);
  if (waited - 1000 > GIVE_UP_MS) {
    throw new ShmError("CORRUPT", `"${name}": a live process stopped for ${GIVE_UP_MS} ms in the middle of taking a free slot`);
  }
  return waited + 1;
}

/** One handle's view of a free-index ring. Indices passed in are i32 indices (byte offset >> 2). */
export class IndexRing {
  readonly #enq: number;
  readonly #deq: number;
  readonly #slots: number;
  readonly #mask: number;
  readonly #ring: number;
  readonly #name: string;
  readonly #recovered: number;
  readonly #recs: ClaimRecords;
  readonly #stall = new Stall();
  readonly #capacity: number;

  /**
   * @param enq, deq   i32 indices of the position words
   * @param slots      byte offset of the ring slots (the claim records follow, 64-aligned)
   * @param recovered  i32 index of the caller's "indices recovered" counter
   */
  constructor(
    m: Memory,
    enq: number,
    deq: number,
    slots: number,
    capacity: number,
    maxProcesses: number,
    recovered: number,
    name: string,
  ) {
    this.#enq = enq;
    this.#deq = deq;
    this.#slots = slots;
    this.#ring = ringSlots(capacity);
    this.#mask = this.#ring - 1;
    this.#name = name;
    this.#recovered = recovered;
    this.#capacity = capacity;
    const records = slots + Math.ceil((this.#ring * 8) / 64) * 64;
    // A dead putter's record is kept while its position is claimed and unpublished: the
    // taker that repairs that position needs the index in it.
    const pending = (pos: number) => {
      const seq = Atomics.load(m.i32, (slots + (pos & this.#mask) * 8) >> 2);
      return seq === pos && Atomics.load(m.i32, enq) !== pos;
    };
    this.#recs = ClaimRecords.claim(m, records, recordCount(maxProcesses), name, pending);
  }

  /** The stall clock of this handle (the wait loops read `seen`). */
  get stall(): Stall {
    return this.#stall;
  }

  /** Gives the claim record back (the owning handle closes). */
  release(m: Memory): void {
    this.#recs.release(m);
  }

  /** i32 index of this process's claim record (Pool/Stack mark an index held in transit with it). */
  get record(): number {
    return this.#recs.own;
  }

  /** Sets this process's hold on the index it owns in transit: `phase` > 0 (the caller's), `aux` its datum. */
  hold(m: Memory, phase: number, aux: number): void {
    const i32 = m.i32;
    const own = this.#recs.own;
    i32[own + R_AUX] = aux;
    i32[own + R_HOLD] = phase;
  }

  /** Sets the index this process owns in transit (a pop's candidate node) with its phase and datum. */
  holdIndex(m: Memory, index: number, phase: number, aux: number): void {
    const i32 = m.i32;
    const own = this.#recs.own;
    i32[own + R_VALUE] = index;
    i32[own + R_AUX] = aux;
    i32[own + R_HOLD] = phase;
  }

  /** The index this process held in transit is placed (in the structure): it owns none now. */
  placed(m: Memory): void {
    m.i32[this.#recs.own + R_HOLD] = 0;
  }

  /**
   * Takes the oldest index from the ring, or -1 if none is ready. The caller owns the
   * index in transit (hold phase TAKEN) until it calls `placed` or `put`. Only with no hold.
   */
  take(m: Memory): number {
    const i32 = m.i32;
    const mask = this.#mask;
    const own = this.#recs.own;
    let pos = Atomics.load(i32, this.#deq);
    for (;;) {
      const s = (this.#slots + (pos & mask) * 8) >> 2;
      const dif = (Atomics.load(i32, s) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        i32[own + R_POS] = pos; // claim record, published by the CAS
        i32[own + R_N] = CONSUME;
        const found = Atomics.compareExchange(i32, this.#deq, pos, (pos + 1) | 0);
        if (found === pos) {
          const v = i32[s + 1]; // ordered by the CAS above and the store below
          i32[own + R_VALUE] = v; // the hold starts inside the claim: the index is never in no record
          i32[own + R_HOLD] = TAKEN;
          if (PAUSE_POINT !== undefined) pauseHere("ring.take.claimed");
          Atomics.store(i32, s, (pos + mask + 1) | 0);
          Atomics.store(i32, own + R_N, 0);
          return v;
        }
        pos = found;
      } else if (dif < 0) {
        if (dif === -1) {
          const v = this.#takeDeadPut(m, pos, s);
          if (v >= 0) return v;
          if (v === -2) {
            pos = (pos + 1) | 0; // skipped, but the dead putter's index was not recorded
            continue;
          }
        }
        i32[own + R_N] = 0;
        return -1;
      } else {
        const now = Atomics.load(i32, this.#deq);
        if (now === pos) throw damaged(this.#name);
        pos = now;
      }
    }
  }

  /**
   * Puts an index into the ring. The caller owns it: held in transit (any phase, with
   * `value` recorded) or not held at all (it is then held as PUTTING). Ends the hold.
   */
  put(m: Memory, value: number): void {
    const i32 = m.i32;
    const mask = this.#mask;
    const own = this.#recs.own;
    let extra: number[] | undefined; // indices recovered from dead takers, to put after `value`
    let waited = 0;
    i32[own + R_VALUE] = value;
    if (i32[own + R_HOLD] <= 0) i32[own + R_HOLD] = PUTTING;
    let pos = Atomics.load(i32, this.#enq);
    for (;;) {
      const s = (this.#slots + (pos & mask) * 8) >> 2;
      const seq = Atomics.load(i32, s);
      const dif = (seq - pos) | 0;
      if (dif === 0) {
        i32[own + R_POS] = pos; // claim record with the index, published by the CAS
        i32[own + R_WON] = 0;
        i32[own + R_N] = PRODUCE;
        if (PAUSE_POINT !== undefined) pauseHere("ring.put.recorded");
        const found = Atomics.compareExchange(i32, this.#enq, pos, (pos + 1) | 0);
        if (found === pos) {
          i32[own + R_WON] = 1;
          if (PAUSE_POINT !== undefined) pauseHere("ring.put.claimed");
          i32[s + 1] = value;
          Atomics.store(i32, s, (pos + 1) | 0); // publish after the index is written
          i32[own + R_HOLD] = 0;
          Atomics.store(i32, own + R_N, 0);
          if (extra === undefined || extra.length === 0) return;
          value = extra.pop()!;
          i32[own + R_VALUE] = value;
          i32[own + R_HOLD] = PUTTING;
          pos = Atomics.load(i32, this.#enq);
          continue;
        }
        pos = found;
      } else if (dif < 0) {
        // Behind a putter a slot can only be in its previous lap: claimed by that lap's
        // putter (dif = -ring) or published and not yet handed back by its taker
        // (dif = -ring + 1). Any other value at an unchanged position is a damaged
        // counter or slot: report it now instead of backing off for seconds.
        if (dif !== -this.#ring && dif !== -this.#ring + 1) {
          const now = Atomics.load(i32, this.#enq);
          if (now === pos) throw damaged(this.#name);
          pos = now;
          continue;
        }
        // The taker of this slot's previous lap claimed it but has not handed it back
        // yet (it is between its CAS and its store): wait for it, or repair if it died.
        const r = this.#handBackDeadTake(i32, pos, s, seq, extra ??= []);
        if (r >= 0 || r === -2) {
          if (r >= 0) extra.push(r);
          continue;
        }
        waited = backoff(waited, this.#name);
        pos = Atomics.load(i32, this.#enq);
      } else {
        const now = Atomics.load(i32, this.#enq);
        if (now === pos) throw damaged(this.#name);
        pos = now;
      }
    }
  }

  /**
   * Dead putters' indices at the unpublished position `q`: every dead record that
   * names a put at q with a hold is taken over (hold CAS to HOLD_DONE, one winner per
   * record); their indices are in no place (a loser of q never placed its index, the
   * winner never published it). Returns the ones this process won.
   */
  #collectDeadPuts(i32: Int32Array, q: number): number[] {
    const out: number[] = [];
    for (const b of this.#recs.deadAt(i32, q, PRODUCE)) {
      const h = Atomics.load(i32, b + R_HOLD);
      if (h > 0 && Atomics.compareExchange(i32, b + R_HOLD, h, HOLD_DONE) === h) out.push(Atomics.load(i32, b + R_VALUE));
      Atomics.compareExchange(i32, b + R_N, PRODUCE, 0); // resolved: the record may be reused
    }
    return out;
  }

  /**
   * Taker at `pos`, slot sequence still `pos`: if a dead putter claimed it, take the
   * position over and return that putter's index (−2: skipped, index unknown). −1: empty.
   */
  #takeDeadPut(m: Memory, pos: number, s: number): number {
    const i32 = m.i32;
    if (Atomics.load(i32, this.#enq) === pos) return -1;
    if (!this.#stall.due(PRODUCE, pos)) return -1;
    if (this.#recs.liveClaim(i32, pos, PRODUCE)) return -1;
    if (Atomics.load(i32, s) !== pos) return -1;
    const own = this.#recs.own;
    i32[own + R_POS] = pos;
    i32[own + R_N] = CONSUME;
    if (Atomics.compareExchange(i32, this.#deq, pos, (pos + 1) | 0) !== pos) {
      Atomics.store(i32, own + R_N, 0);
      return -1;
    }
    const got = this.#collectDeadPuts(i32, pos); // before the sequence store: resolvers wait while pos is unpublished
    Atomics.store(i32, s, (pos + this.#ring) | 0);
    Atomics.store(i32, own + R_N, 0);
    if (got.length === 0) return -2;
    Atomics.add(i32, this.#recovered, got.length);
    for (let i = 1; i < got.length; i++) this.put(m, got[i]); // losers of pos: their indices were in no place
    i32[own + R_VALUE] = got[0];
    i32[own + R_HOLD] = TAKEN;
    return got[0];
  }

  /**
   * Putter at `pos`, slot still in last lap (`seq`): if the taker that claimed it died,
   * hand the slot back; returns the index it never returned (to be put again), −2 when
   * handed back without one (a survivor resolving the dead taker's hold puts it, or a
   * dead repairer's skip: its dead putters' indices go to `extra`), −1 when the taker
   * may be alive.
   */
  #handBackDeadTake(i32: Int32Array, pos: number, s: number, seq: number, extra: number[]): number {
    const ring = this.#ring;
    const dif = (seq - pos) | 0;
    if (dif !== 1 - ring && dif !== -ring) return -1;
    const q = (pos - ring) | 0;
    if (((Atomics.load(i32, this.#deq) - q) | 0) <= 0) return -1;
    if (!this.#stall.due(CONSUME, q)) return -1;
    if (this.#recs.liveClaim(i32, q, CONSUME)) return -1;
    if (dif === -ring) {
      // A taker skipped q (a dead putter's position) and died before handing it back.
      for (const v of this.#collectDeadPuts(i32, q)) {
        extra.push(v);
        Atomics.add(i32, this.#recovered, 1);
      }
      Atomics.compareExchange(i32, s, seq, pos);
      return -2;
    }
    const v = i32[s + 1];
    if (Atomics.compareExchange(i32, s, seq, pos) !== seq) return -1;
    // The dead taker's hold (set inside its claim, before its hand-back) decides who
    // returns the index: us, or a survivor resolving that hold (the one that wins its CAS).
    let held = false;
    for (const b of this.#recs.deadAt(i32, q, CONSUME)) {
      const h = Atomics.load(i32, b + R_HOLD);
      if (h === 0) continue;
      held = true;
      if (h > 0 && Atomics.compareExchange(i32, b + R_HOLD, h, HOLD_DONE) === h) {
        Atomics.add(i32, this.#recovered, 1);
        return v;
      }
    }
    if (held) return -2;
    Atomics.add(i32, this.#recovered, 1);
    return v;
  }

  /**
   * Resolves the holds of dead processes (docs/RELIABILITY.md, "Transit"): each index
   * a dead owner held in transit is put back if it is in no place, by the one survivor
   * that wins the hold's CAS. `decide(phase, index, aux)` judges the structure's own
   * phases: KEEP (it is placed), PUT (in no place), PUT_MINE (in no place, and `decide`
   * already won a per-index CAS that makes this survivor its only owner), WAIT (cannot
   * tell yet). Only with no hold of our own. Returns the indices put back; `held` counts
   * the other records still holding an index (live ones, and dead ones left for later:
   * a ring repair, or WAIT): while it is not 0, a waiter must poll (nobody may notify).
   */
  resolveDead(m: Memory, decide: Decide): { put: number; held: number } {
    const i32 = m.i32;
    const recs = this.#recs;
    let put = 0;
    let held = 0;
    for (let i = 0; i < recs.count; i++) {
      const b = recs.base + i * RECORD_WORDS;
      const h = Atomics.load(i32, b + R_HOLD);
      if (h <= 0 || b === recs.own) continue;
      if (recs.alive(i32, b)) {
        held++;
        continue;
      }
      const n = Atomics.load(i32, b + R_N);
      const x = Atomics.load(i32, b + R_VALUE);
      let verdict: number;
      if (n === CONSUME) {
        const q = Atomics.load(i32, b + R_POS);
        const s = (this.#slots + (q & this.#mask) * 8) >> 2;
        const seq = Atomics.load(i32, s);
        if (seq === ((q + 1) | 0)) {
          // Not handed back. The putter of the next lap would repair it, but that putter
          // may never come: with every other index taken (a pool acquired to exhaustion,
          // a stack pushed full) nobody puts. So repair it here exactly as that putter
          // would: the slot CAS picks one repairer, the hold CAS one owner of the index.
          const extra: number[] = [];
          const v = this.#handBackDeadTake(i32, (q + this.#ring) | 0, s, seq, extra);
          if (v === -1) {
            held++; // the taker may be alive, or the stall is not due yet
            continue;
          }
          if (v >= 0) extra.push(v);
          for (const x of extra) {
            if (!(x >= 0 && x < this.#capacity)) throw damaged(this.#name);
            this.put(m, x);
            put++;
          }
          continue;
        }
        verdict = PUT; // handed back by the dead taker itself (its hold is TAKEN)
      } else if (n === PRODUCE) {
        const p = Atomics.load(i32, b + R_POS);
        const seq = Atomics.load(i32, (this.#slots + (p & this.#mask) * 8) >> 2);
        if (seq === p && Atomics.load(i32, this.#enq) !== p) {
          held++; // claimed, unpublished: the taker that reaches it collects the dead puts
          continue;
        }
        // Past its position: it won (and published) or it lost and its index is in no place.
        verdict = Atomics.load(i32, b + R_WON) === 1 ? KEEP : PUT;
      } else {
        verdict = h === TAKEN || h === PUTTING ? PUT : decide(h, x, Atomics.load(i32, b + R_AUX));
      }
      if (verdict === WAIT) {
        held++;
        continue;
      }
      const won = Atomics.compareExchange(i32, b + R_HOLD, h, HOLD_DONE) === h;
      if (verdict === PUT_MINE || (verdict === PUT && won)) {
        if (!(x >= 0 && x < this.#capacity)) throw damaged(this.#name);
        this.put(m, x);
        Atomics.add(i32, this.#recovered, 1);
        put++;
      }
    }
    return { put, held };
  }

  /**
   * Who popped `index` (Stack): KEEP if a record holds it in phase `won` with datum
   * `wonAux` (the winner is known: its own hold returns it), WAIT if a live record holds
   * it as candidate (`cand`, `candAux`), else PUT (the winner died before recording `won`).
   */
  popWinner(m: Memory, index: number, cand: number, candAux: number, won: number, wonAux: number): number {
    const i32 = m.i32;
    const recs = this.#recs;
    let verdict = PUT;
    for (let i = 0; i < recs.count; i++) {
      const b = recs.base + i * RECORD_WORDS;
      if (Atomics.load(i32, b + R_VALUE) !== index) continue;
      const h = Atomics.load(i32, b + R_HOLD);
      const aux = Atomics.load(i32, b + R_AUX);
      if (h === won && aux === wonAux) return KEEP;
      if (h === cand && aux === candAux && recs.alive(i32, b)) verdict = WAIT;
    }
    return verdict;
  }

  /**
   * Shifts every position of an idle ring by a multiple of its size so that its dequeue
   * position lands near `target` (tests use it to cross the 32-bit wrap). Slot mapping
   * is unchanged because the shift is a multiple of the ring size.
   */
  rebase(m: Memory, target: number): void {
    const i32 = m.i32;
    const r = this.#ring;
    const d = Math.floor((((target | 0) - i32[this.#deq]) | 0) / r) * r;
    for (let i = 0; i < r; i++) i32[(this.#slots + i * 8) >> 2] = (i32[(this.#slots + i * 8) >> 2] + d) | 0;
    i32[this.#enq] = (i32[this.#enq] + d) | 0;
    i32[this.#deq] = (i32[this.#deq] + d) | 0;
  }
}
