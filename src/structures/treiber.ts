/**
 * Treiber stack of node indices with a tagged head (R. K. Treiber, "Systems
 * Programming: Coping with Parallelism", IBM RJ 5118, 1986): the list of Stack's elements.
 *
 * Nodes live in a fixed array; each has a 32-bit link word holding the next node as
 * index + 1 (0 = end of list). The head is one 8-byte word, 8-byte aligned:
 *
 *   bytes 0..3  tag   u32, incremented by every successful change of the head
 *   bytes 4..7  top   u32, index + 1 of the first node (0 = empty list)
 *
 * The head is changed only with a 64-bit compare-and-swap of both words, so a
 * pop that read (top, tag) and was delayed while the same node was popped and pushed
 * back (the ABA problem) fails instead of installing a stale link: the tag moved on.
 * The tag wraps after 2^32 changes, which one stalled reader would have to sleep
 * through exactly. The two words are read with two 32-bit atomic loads, which is
 * safe because the tag only ever grows: a torn read never equals a live head value.
 *
 * JavaScript has no 64-bit CAS on numbers, so the head is changed with the native
 * cas64 (one `lock cmpxchg`), called with (f64 base, u32 offset, f64 values): both
 * runtimes take their FFI fast path for those argument types (ABI 2; with usize/i64
 * arguments Deno's call cost 150-180 ns, and BigInt64Array Atomics 75-90 ns plus two
 * BigInt allocations).
 *
 * The CAS passes its operands as JS numbers (top * 2^32 + tag), which are exact only
 * below 2^53, so `top` must stay below 2^21: at most MAX_NODES nodes per list.
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";

/** Most nodes a tagged list can address (top must stay below 2^21, see above). */
export const MAX_NODES = 2 ** 21 - 1;

const TWO_32 = 0x1_0000_0000;

function corrupt(name: string, what: string): ShmError {
  return new ShmError("CORRUPT", `"${name}": ${what}; the structure's memory is damaged`);
}

/** 64-bit CAS of the 8-byte word at byte `offset`; values below 2^53; returns the value found. */
export type Cas64 = (m: Memory, offset: number, expected: number, desired: number) => number;

/** The native 64-bit CAS (see above). */
export function cas64For(): Cas64 {
  const n = native();
  return (m, offset, expected, desired) => n.cas64(m.base, offset, expected, desired);
}

/**
 * Takes the first node off the list at `head`; returns its index, or -1 when the list
 * is empty. `links + i * stride` is the byte offset of node i's link word. Reads the
 * top node's element with `read(node)` BEFORE the CAS that removes it (a node on the
 * list is never written, so the value is the node's if the CAS succeeds): a read that
 * throws removes nothing. The value goes to `box.value`. A link read while its node
 * was being reused is garbage but the CAS would fail; if the head did not move, the
 * link itself is damaged (CORRUPT).
 */
export function popNodeRead<T>(
  m: Memory,
  cas: Cas64,
  name: string,
  head: number,
  links: number,
  stride: number,
  count: number,
  read: (node: number) => T,
  box: { value: T | undefined },
): number {
  const i32 = m.i32;
  const h = head >> 2;
  for (;;) {
    const tag = Atomics.load(i32, h) >>> 0;
    const top = Atomics.load(i32, h + 1);
    if (top === 0) return -1;
    if (!(top > 0 && top <= count)) throw corrupt(name, `list head points at node ${top - 1} of ${count}`);
    const next = Atomics.load(i32, (links + (top - 1) * stride) >> 2);
    const still = () => (Atomics.load(i32, h) >>> 0) === tag && Atomics.load(i32, h + 1) === top;
    if (!(next >= 0 && next <= count)) {
      if (still()) throw corrupt(name, `node ${top - 1} links to ${next - 1}`);
      continue;
    }
    let v: T;
    try {
      v = read(top - 1);
    } catch (e) {
      if (still()) throw e; // the element itself cannot be read: nothing removed
      continue; // torn by a concurrent reuse of the node: retry
    }
    const expected = top * TWO_32 + tag;
    if (cas(m, head, expected, next * TWO_32 + ((tag + 1) >>> 0)) === expected) {
      box.value = v;
      return top - 1;
    }
  }
}

/** Puts node `node` (owned by the caller) on top of the list at `head`. */
export function pushNode(
  m: Memory,
  cas: Cas64,
  name: string,
  head: number,
  links: number,
  stride: number,
  count: number,
  node: number,
): void {
  const i32 = m.i32;
  const h = head >> 2;
  const link = (links + node * stride) >> 2;
  const desiredTop = (node + 1) * TWO_32;
  for (;;) {
    const tag = Atomics.load(i32, h) >>> 0;
    const top = Atomics.load(i32, h + 1);
    if (!(top >= 0 && top <= count)) throw corrupt(name, `list head points at node ${top - 1} of ${count}`);
    // Link first: the CAS publishes it together with the node.
    Atomics.store(i32, link, top);
    const expected = top * TWO_32 + tag;
    if (cas(m, head, expected, desiredTop + ((tag + 1) >>> 0)) === expected) return;
  }
}

/** Overwrites a list head's tag (tests drive it across its 2^32 wrap). Not for concurrent use. */
export function setTag(m: Memory, head: number, tag: number): void {
  m.u32[head >> 2] = tag >>> 0;
}
