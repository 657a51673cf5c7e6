/**
 * A table's key codec: encodes a key into a private scratch buffer (validating it),
 * hashes the encoded bytes with MurmurHash3_x86_32, compares them with a slot's key
 * and copies them into a slot — so lookups hash and compare without allocating.
 */
import type { ElementType } from "../../segment/elements.ts";
import { align, Memory } from "../../segment/memory.ts";
import { HASH_SEED } from "./layout.ts";
import { murmur3, murmur3Word, murmur3Words2 } from "./murmur3.ts";

export class KeyCodec<K> {
  readonly #key: ElementType<K>;
  readonly #size: number;
  readonly #scratch: Memory;
  readonly #s8: Uint8Array;
  readonly #s32: Uint32Array;
  readonly #words: number;
  readonly #tail: number;
  /** 1 for u32 keys, 2 for i32 keys (encoded inline), else 0. */
  readonly #intKey: number;

  constructor(key: ElementType<K>) {
    this.#key = key;
    this.#size = key.size;
    this.#scratch = new Memory(0, new ArrayBuffer(align(key.size, 8) + 8));
    this.#s8 = this.#scratch.u8;
    this.#s32 = this.#scratch.u32;
    this.#words = key.size >>> 2;
    this.#tail = key.size & 3;
    this.#intKey = key.name === "u32" && key.typedArray === Uint32Array
      ? 1
      : key.name === "i32" && key.typedArray === Int32Array
      ? 2
      : 0;
  }

  /** Encodes `k` into the scratch buffer (validating it) and returns its hash. */
  hash(k: K): number {
    const s32 = this.#s32;
    const int = this.#intKey;
    if (int !== 0 && typeof k === "number") {
      // u32 / i32 keys: validate and encode inline (their bytes are the LE word k >>> 0).
      if (int === 1 ? k >>> 0 === k : (k | 0) === k) {
        s32[0] = k;
        return murmur3Word(k | 0, HASH_SEED);
      }
    }
    this.#key.write(this.#scratch, 0, k);
    if (this.#size === 4) return murmur3Word(s32[0], HASH_SEED);
    if (this.#size === 8) return murmur3Words2(s32[0], s32[1], HASH_SEED);
    return murmur3(this.#s8, s32, this.#size, HASH_SEED);
  }

  /** True when the key bytes at byte offset `at` (4-aligned) equal the scratch key. */
  equals(m: Memory, at: number): boolean {
    const u32 = m.u32;
    const s32 = this.#s32;
    const kw = at >>> 2;
    const words = this.#words;
    for (let j = 0; j < words; j++) if (u32[kw + j] !== s32[j]) return false;
    const tail = this.#tail;
    if (tail !== 0) {
      const u8 = m.u8;
      const s8 = this.#s8;
      const kb = at + (words << 2);
      const sb = words << 2;
      for (let j = 0; j < tail; j++) if (u8[kb + j] !== s8[sb + j]) return false;
    }
    return true;
  }

  /** Copies the scratch key to byte offset `at`. */
  copyTo(m: Memory, at: number): void {
    m.u8.set(this.#s8.subarray(0, this.#size), at);
  }
}
