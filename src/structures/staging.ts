/**
 * Staging: how a structure writes an element it must validate before it claims a
 * slot. The value is written (and so checked) into a private scratch buffer first;
 * after the claim, a word copy into the slot cannot fail, so a bad value never
 * leaves a claimed slot behind.
 */
import type { ElementType } from "../segment/elements.ts";
import { align, Memory } from "../segment/memory.ts";

/**
 * Copies a validated element from a private scratch buffer into the segment: a value
 * is checked (by writing it to the scratch) before a slot is claimed, so a bad value
 * throws with nothing claimed, and the copy after the claim cannot fail.
 */
export class Staging<T> {
  readonly #type: ElementType<T>;
  readonly #scratch: Memory;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #nWords: number;

  constructor(type: ElementType<T>) {
    this.#type = type;
    this.#scratch = new Memory(0, new ArrayBuffer(align(type.size, 8)));
    this.#words = this.#scratch.i32;
    this.#bytes = new Uint8Array(this.#scratch.buffer, 0, type.size);
    this.#nWords = type.size % 4 === 0 ? type.size >> 2 : -1;
  }

  /** Validates `value` (INVALID_ARGUMENT if it does not fit the type) and keeps its bytes. */
  stage(value: T): void {
    this.#type.write(this.#scratch, 0, value);
  }

  /** Writes the staged bytes at byte offset `at` (4-aligned when the size is a multiple of 4). */
  copyTo(m: Memory, at: number): void {
    const n = this.#nWords;
    if (n > 0 && n <= 16) {
      const dst = m.i32;
      const src = this.#words;
      const b = at >> 2;
      for (let i = 0; i < n; i++) dst[b + i] = src[i];
    } else {
      m.u8.set(this.#bytes, at);
    }
  }
}
