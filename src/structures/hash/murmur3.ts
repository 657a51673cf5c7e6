/**
 * MurmurHash3_x86_32 (Austin Appleby, 2011, public domain): the hash that SharedMap
 * and SharedSet apply to a key's encoded bytes (docs/MAP.md). Chosen because it is
 * published, has reference C implementations everywhere, reads 4 bytes per step (so a
 * 4-byte key costs one block and the finaliser), and its finaliser mixes every input
 * bit into the low bits that index a power-of-two table.
 *
 * Blocks are read little-endian, as the reference implementation does on x86 and
 * ARM; shmkit segments are little-endian, so a C program hashing the key bytes it
 * finds in a slot gets the same number.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** The per-block key mix. */
function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** The per-block state mix. */
function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** fmix32: the final avalanche. */
function fmix(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hash of `len` bytes starting at index 0 of a buffer seen both as bytes (`u8`) and as
 * little-endian 32-bit words (`u32`, same buffer). Returns an unsigned 32-bit number.
 */
export function murmur3(u8: Uint8Array, u32: Uint32Array, len: number, seed: number): number {
  let h = seed | 0;
  const blocks = len >>> 2;
  for (let i = 0; i < blocks; i++) h = mixH(h, u32[i]);
  const t = blocks << 2;
  let k = 0;
  switch (len & 3) {
    case 3:
      k ^= u8[t + 2] << 16;
    // falls through
    case 2:
      k ^= u8[t + 1] << 8;
    // falls through
    case 1:
      k ^= u8[t];
      h ^= mixK(k);
  }
  return fmix(h, len);
}

/** Hash of exactly 4 bytes given as their little-endian word: same result as murmur3 over them. */
export function murmur3Word(word: number, seed: number): number {
  return fmix(mixH(seed | 0, word), 4);
}

/** Hash of two words (8 bytes, little-endian): same result as murmur3 over them. */
export function murmur3Words2(lo: number, hi: number, seed: number): number {
  return fmix(mixH(mixH(seed | 0, lo), hi), 8);
}

/** Convenience for tests and tools: hash of arbitrary bytes (copies them; not for hot paths). */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  const buf = new ArrayBuffer(Math.ceil(bytes.length / 4) * 4 + 4);
  const u8 = new Uint8Array(buf);
  u8.set(bytes);
  return murmur3(u8, new Uint32Array(buf), bytes.length, seed);
}
