/**
 * The Treiber list of Stack (treiber.ts has the algorithm and the tagged head) with a
 * state word per node, so that a survivor can tell where a node held in transit by a
 * dead process is: on the list, or in no place (docs/RELIABILITY.md, "Stack transit").
 *
 * Node state (i32): `generation << 1 | LISTED`.
 * - A pusher owns its node (taken from the free ring): it stores a new generation
 *   with both bits clear, records (S_PUSH, generation) as its hold, then links the node
 *   with the head CAS.
 * - LISTED is set, for the node's current generation, by whoever moves the head away
 *   from that node (a pop of it or a push over it) BEFORE its head CAS (helping, after
 *   re-reading the head: a stale helper's CAS fails on the generation). So a node of
 *   generation g that is not the top and not LISTED was never linked in generation g.
 * - A popper records (S_POP, node, g) as its hold before each head CAS; the winner then
 *   records S_POPPED (same node, same g: one store turns the candidate into the winner,
 *   so a kill cannot leave a record half way between the two) and CASes the state from
 *   (g, LISTED) to (g + 1, 0).
 *   A node in state (g, LISTED) that is not on the list, with no record naming it
 *   S_POPPED and no live record naming it S_POP, was popped by a popper that died
 *   before recording S_POPPED: the survivor that wins that same state CAS puts it back.
 */
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import type { Cas64 } from "./treiber.ts";
import { type IndexRing, KEEP, PUT, PUT_MINE, WAIT } from "./index_ring.ts";
import { R_AUX, R_HOLD, R_VALUE } from "./claim_records.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";

export const LISTED = 1;
const GEN = 0x7fff_ffff;
/** Hold phases (index_ring.ts): a push about to link its node, a pop's candidate, a pop's won node (aux: generation). */
export const S_PUSH = 20;
export const S_POP = 21;
export const S_POPPED = 22;
const TWO_32 = 0x1_0000_0000;

function corrupt(name: string, what: string): ShmError {
  return new ShmError("CORRUPT", `"${name}": ${what}; the structure's memory is damaged`);
}

/** Marks the top node LISTED for its generation; its state, or −1 if the head moved (retry). */
function help(i32: Int32Array, h: number, states: number, tag: number, top: number): number {
  const w = states + top - 1;
  const s = Atomics.load(i32, w);
  if ((s & LISTED) !== 0) return s;
  if ((Atomics.load(i32, h) >>> 0) !== tag || Atomics.load(i32, h + 1) !== top) return -1;
  const f = Atomics.compareExchange(i32, w, s, s | LISTED);
  return f === s || f === (s | LISTED) ? s | LISTED : -1;
}

/** The stack's list: head at byte `head`, u32 links at i32 index `links`, node states at i32 index `states`. */
export class StackList {
  /** i32 index of this process's claim record in the free ring (its hold is written inline on the hot path). */
  readonly #own: number;
  constructor(
    readonly m: Memory,
    readonly cas: Cas64,
    readonly name: string,
    readonly head: number,
    readonly links: number,
    readonly states: number,
    readonly count: number,
    readonly ring: IndexRing,
  ) {
    this.#own = ring.record;
  }

  /** Starts the push of owned node `node`: a new generation, recorded as this process's hold. */
  begin(m: Memory, node: number): void {
    const i32 = m.i32;
    const g = ((Atomics.load(i32, this.states + node) >>> 1) + 1) & GEN;
    const own = this.#own;
    i32[own + R_AUX] = g;
    i32[own + R_HOLD] = S_PUSH;
    Atomics.store(i32, this.states + node, (g << 1) | 0);
  }

  /** Links owned node `node` on top (after `begin`). */
  push(m: Memory, node: number): void {
    const i32 = m.i32;
    const h = this.head >> 2;
    const desiredTop = (node + 1) * TWO_32;
    for (;;) {
      const tag = Atomics.load(i32, h) >>> 0;
      const top = Atomics.load(i32, h + 1);
      if (!(top >= 0 && top <= this.count)) throw corrupt(this.name, `list head points at node ${top - 1} of ${this.count}`);
      if (top !== 0 && (Atomics.load(i32, this.states + top - 1) & LISTED) === 0 && help(i32, h, this.states, tag, top) < 0) {
        continue;
      }
      Atomics.store(i32, this.links + node, top); // link first: the CAS publishes it with the node
      const expected = top * TWO_32 + tag;
      if (this.cas(m, this.head, expected, desiredTop + ((tag + 1) >>> 0)) === expected) return;
    }
  }

  /**
   * Unlinks the top node, reading its element with `read` BEFORE the CAS (a node on the
   * list is never written): a read that throws removes nothing. −1 when empty. Each
   * candidate is this process's hold (S_POP) before its CAS; the caller ends the hold.
   */
  pop<T>(m: Memory, read: (node: number) => T, box: { value: T | undefined }): number {
    const i32 = m.i32;
    const h = this.head >> 2;
    const count = this.count;
    for (;;) {
      const tag = Atomics.load(i32, h) >>> 0;
      const top = Atomics.load(i32, h + 1);
      if (top === 0) return -1;
      if (!(top > 0 && top <= count)) throw corrupt(this.name, `list head points at node ${top - 1} of ${count}`);
      let s = Atomics.load(i32, this.states + top - 1);
      if ((s & LISTED) === 0 && (s = help(i32, h, this.states, tag, top)) < 0) continue;
      const next = Atomics.load(i32, this.links + top - 1);
      if (!(next >= 0 && next <= count)) {
        if ((Atomics.load(i32, h) >>> 0) === tag && Atomics.load(i32, h + 1) === top) {
          throw corrupt(this.name, `node ${top - 1} links to ${next - 1}`);
        }
        continue;
      }
      let v: T;
      try {
        v = read(top - 1);
      } catch (e) {
        // the element itself cannot be read: nothing removed; else torn by a concurrent reuse: retry
        if ((Atomics.load(i32, h) >>> 0) === tag && Atomics.load(i32, h + 1) === top) throw e;
        continue;
      }
      const g = s >>> 1;
      const own = this.#own;
      i32[own + R_VALUE] = top - 1;
      i32[own + R_AUX] = g;
      i32[own + R_HOLD] = S_POP;
      const expected = top * TWO_32 + tag;
      if (this.cas(m, this.head, expected, next * TWO_32 + ((tag + 1) >>> 0)) === expected) {
        if (PAUSE_POINT !== undefined) pauseHere("stack.pop.cas");
        // One store: (S_POP, node, g) becomes (S_POPPED, node, g). Changing the datum too
        // would take two stores, and a kill between them would leave (S_POP, node, g + 1),
        // which a survivor judges "not its generation: keep": the node would be lost.
        i32[own + R_HOLD] = S_POPPED;
        if (PAUSE_POINT !== undefined) pauseHere("stack.pop.won");
        Atomics.compareExchange(i32, this.states + top - 1, s, (((g + 1) & GEN) << 1) | 0);
        box.value = v;
        return top - 1;
      }
    }
  }

  /** Whether `node` is on the list (a snapshot between two equal head reads), or undefined if the list kept moving. */
  #onList(i32: Int32Array, node: number): boolean | undefined {
    const h = this.head >> 2;
    for (let attempt = 0; attempt < 8; attempt++) {
      const tag = Atomics.load(i32, h);
      const top = Atomics.load(i32, h + 1);
      let n = top;
      let found = false;
      let ok = true;
      for (let steps = 0; n !== 0; steps++) {
        if (!(n > 0 && n <= this.count) || steps > this.count) {
          ok = false;
          break;
        }
        if (n - 1 === node) {
          found = true;
          break;
        }
        n = Atomics.load(i32, this.links + n - 1);
      }
      if (Atomics.load(i32, h) === tag && Atomics.load(i32, h + 1) === top) {
        if (ok) return found;
        throw corrupt(this.name, "the list does not end");
      }
    }
    return undefined;
  }

  /** The verdict on a dead process's hold of `node` (index_ring.ts `resolveDead`). */
  decide(phase: number, node: number, aux: number): number {
    const i32 = this.m.i32;
    if (!(node >= 0 && node < this.count)) return KEEP;
    const w = this.states + node;
    if (phase === S_PUSH) {
      if (Atomics.load(i32, (this.head >> 2) + 1) === node + 1) return KEEP; // on top: linked
      const s = Atomics.load(i32, w); // after the head: a node moved off the top is LISTED by then
      const g = s >>> 1;
      if (g === aux) return (s & LISTED) !== 0 ? KEEP : PUT;
      return g === ((aux - 1) & GEN) ? PUT : KEEP; // new generation not stored yet / moved on since
    }
    if (phase === S_POPPED) {
      // The dead popper won the node (generation aux). Finish its state CAS, so that no S_POP resolver takes it too.
      Atomics.compareExchange(i32, w, (aux << 1) | LISTED, (((aux + 1) & GEN) << 1) | 0);
      return PUT;
    }
    if (phase === S_POP) {
      const s = Atomics.load(i32, w);
      if (s >>> 1 !== aux || (s & LISTED) === 0) return KEEP; // not its generation any more, or never linked
      const on = this.#onList(i32, node);
      if (on === undefined) return WAIT;
      if (on) return KEEP; // the dead popper lost (or never tried) its CAS
      const g1 = (aux + 1) & GEN;
      const who = this.ring.popWinner(this.m, node, S_POP, aux, S_POPPED, aux);
      if (who !== PUT) return who; // the winner is known (KEEP) or may be alive (WAIT)
      return Atomics.compareExchange(i32, w, s, (g1 << 1) | 0) === s ? PUT_MINE : KEEP;
    }
    return KEEP;
  }
}
