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
 *   position finds it stalled with no live claim and skips it; the dead putter's index
 *   stays in its record (a hold) until `resolveDead` puts it back: no index is lost.
 * - A taker killed between its CAS and its hand-back: the putter of the next lap finds
 *   the slot stalled with no live claim and hands it back; the index the dead taker
 *   never returned stays in its record (it is held from the taker's CAS on) until
 *   `resolveDead` puts it back. `resolveDead` (on the empty path) also makes that
 *   hand-back itself, because that putter may never come: with every other index taken,
 *   nobody puts.
 * A repairing survivor never carries a dead process's index through an operation of its
 * own: the index stays named by a dead record until a survivor with no index of its own
 * takes that record's hold over (`#adopt`, announced in its own record first).
 * Indices put back are counted in the caller's `recovered` word.
 */
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import {
  adoptedBy,
  ClaimRecords,
  HOLD_ADOPT,
  HOLD_DONE,
  R_AUX,
  R_HOLD,
  R_N,
  R_POS,
  R_SRC,
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
        if (dif === -1 && this.#skipDeadPut(i32, pos, s)) {
          pos = (pos + 1) | 0; // the dead putter's index stays in its record: resolveDead returns it
          continue;
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
    let extra: number[] | undefined; // indices of dead takers that left no hold, to put after `value`
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
        const r = this.#handBackDeadTake(i32, pos, s, seq, false);
        if (r >= 0) (extra ??= []).push(r);
        if (r >= 0 || r === -2) continue;
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
   * The dead putters at the unpublished position `q`, which a taker is skipping: the
   * winner's `won` is cleared (CAS 1 → 0), so that once the skip's sequence store has
   * moved the position on, `resolveDead` judges every one of their records "put never
   * placed its index" and puts it back (their indices are in no place: the winner never
   * published, the losers never placed theirs). Done before that store: until then the
   * position reads as pending and resolvers leave the records alone.
   */
  #voidDeadWins(i32: Int32Array, q: number): void {
    for (const b of this.#recs.deadAt(i32, q, PRODUCE)) Atomics.compareExchange(i32, b + R_WON, 1, 0);
  }

  /** Taker at `pos`, slot sequence still `pos`: if a dead putter claimed it, skips the position (true). */
  #skipDeadPut(i32: Int32Array, pos: number, s: number): boolean {
    if (Atomics.load(i32, this.#enq) === pos) return false;
    if (!this.#stall.due(PRODUCE, pos)) return false;
    if (this.#recs.liveClaim(i32, pos, PRODUCE)) return false;
    if (Atomics.load(i32, s) !== pos) return false;
    const own = this.#recs.own;
    i32[own + R_POS] = pos;
    i32[own + R_N] = CONSUME;
    if (Atomics.compareExchange(i32, this.#deq, pos, (pos + 1) | 0) !== pos) {
      Atomics.store(i32, own + R_N, 0);
      return false;
    }
    this.#voidDeadWins(i32, pos);
    Atomics.store(i32, s, (pos + this.#ring) | 0);
    Atomics.store(i32, own + R_N, 0);
    return true;
  }

  /**
   * Putter at `pos` (or a resolver, `ownerDead`), slot still in last lap (`seq`): if the
   * taker that claimed it died, hands the slot back. Returns −2 when handed back with the
   * index left where it is owned (the dead taker's hold, which resolveDead puts back; or,
   * after a dead repairer's skip, the dead putters' records), the index itself when the
   * dead taker left no hold (killed between its CAS and its hold store: the slot was the
   * only place naming it, so the caller owns it now), −1 when the taker may be alive.
   */
  #handBackDeadTake(i32: Int32Array, pos: number, s: number, seq: number, ownerDead: boolean): number {
    const ring = this.#ring;
    const dif = (seq - pos) | 0;
    if (dif !== 1 - ring && dif !== -ring) return -1;
    const q = (pos - ring) | 0;
    if (((Atomics.load(i32, this.#deq) - q) | 0) <= 0) return -1;
    // The stall clock spares the liveness scan to a putter meeting a taker that is merely
    // slow; a resolver already knows this taker is dead (and one clock would flip between
    // two dead takers' positions and never come due).
    if (!ownerDead && !this.#stall.due(CONSUME, q)) return -1;
    if (this.#recs.liveClaim(i32, q, CONSUME)) return -1;
    if (dif === -ring) {
      // A taker skipped q (a dead putter's position) and died before handing it back: finish the skip.
      this.#voidDeadWins(i32, q);
      return Atomics.compareExchange(i32, s, seq, pos) === seq ? -2 : -1;
    }
    // Read before the hand-back: no survivor takes a dead taker's hold over while its slot
    // is not handed back, and the dead taker stores no hold any more.
    let held = false;
    for (const b of this.#recs.deadAt(i32, q, CONSUME)) if (Atomics.load(i32, b + R_HOLD) > 0) held = true;
    const v = i32[s + 1];
    if (Atomics.compareExchange(i32, s, seq, pos) !== seq) return -1;
    if (held) return -2;
    Atomics.add(i32, this.#recovered, 1);
    return v;
  }

  /**
   * Takes over the hold `h` of the dead owner's record `b` (index `x`, in no place):
   * true if this process now owns `x` (hold PUTTING, to be put). Announced first (HOLD_ADOPT,
   * `src` = b) and decided by the CAS that leaves `adoptedBy(our record)` on b's hold, so a
   * kill at any instruction leaves `x` named: by b while the CAS is not made, by our
   * announcement (judged by b's hold, `#adopted`) after it, by our hold after that. Only
   * one survivor wins the CAS. Only with no hold of our own.
   */
  #adopt(i32: Int32Array, b: number, h: number, x: number): boolean {
    const recs = this.#recs;
    const own = recs.own;
    i32[own + R_VALUE] = x;
    i32[own + R_SRC] = (b - recs.base) / RECORD_WORDS;
    i32[own + R_HOLD] = HOLD_ADOPT; // published by the CAS below
    if (Atomics.compareExchange(i32, b + R_HOLD, h, adoptedBy((own - recs.base) / RECORD_WORDS)) !== h) {
      i32[own + R_HOLD] = 0;
      return false;
    }
    if (PAUSE_POINT !== undefined) pauseHere("ring.adopt.won");
    i32[own + R_HOLD] = PUTTING;
    return true;
  }

  /** Verdict on a dead survivor's announcement (HOLD_ADOPT) in record `b`: PUT if it won the hold it named. */
  #adopted(i32: Int32Array, b: number): number {
    const recs = this.#recs;
    const src = Atomics.load(i32, b + R_SRC);
    if (!(src >= 0 && src < recs.count)) return KEEP; // damaged: never put anything twice
    const won = adoptedBy((b - recs.base) / RECORD_WORDS);
    return Atomics.load(i32, recs.base + src * RECORD_WORDS + R_HOLD) === won ? PUT : KEEP;
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
          // a stack pushed full) nobody puts. So hand it back here exactly as that putter
          // would (the slot CAS picks one repairer); the index stays this record's hold.
          const v = this.#handBackDeadTake(i32, (q + this.#ring) | 0, s, seq, true);
          if (v === -1) {
            held++; // another taker of q may be alive
            continue;
          }
          if (v >= 0) {
            // No dead taker of q held it (this record's hold changed since we read it): ours now.
            if (!(v < this.#capacity)) throw damaged(this.#name);
            this.put(m, v);
            put++;
            continue;
          }
        }
        verdict = PUT; // handed back (by the dead taker itself or a repairer): its hold owns the index
      } else if (n === PRODUCE) {
        const p = Atomics.load(i32, b + R_POS);
        const seq = Atomics.load(i32, (this.#slots + (p & this.#mask) * 8) >> 2);
        if (seq === p && Atomics.load(i32, this.#enq) !== p) {
          held++; // claimed, unpublished: the taker that reaches it skips it, and then it is judged here
          continue;
        }
        // Past its position: it won and published, or it lost, never made its CAS, or won
        // a position a taker then skipped (the skip cleared `won`): its index is in no place.
        verdict = Atomics.load(i32, b + R_WON) === 1 ? KEEP : PUT;
      } else if (h === HOLD_ADOPT) {
        verdict = this.#adopted(i32, b);
      } else {
        verdict = h === TAKEN || h === PUTTING ? PUT : decide(h, x, Atomics.load(i32, b + R_AUX));
      }
      if (verdict === WAIT) {
        held++;
        continue;
      }
      if (verdict === KEEP) {
        Atomics.compareExchange(i32, b + R_HOLD, h, HOLD_DONE); // resolved: the record may be reused
        continue;
      }
      if (!(x >= 0 && x < this.#capacity)) throw damaged(this.#name);
      if (verdict === PUT_MINE) {
        // `decide` won the index's own CAS (a node's state): ours already. Record it, then end the dead hold.
        const own = recs.own;
        i32[own + R_VALUE] = x;
        i32[own + R_HOLD] = PUTTING;
        Atomics.compareExchange(i32, b + R_HOLD, h, HOLD_DONE);
      } else if (!this.#adopt(i32, b, h, x)) {
        continue; // another survivor took it over
      }
      this.put(m, x);
      Atomics.add(i32, this.#recovered, 1);
      put++;
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
