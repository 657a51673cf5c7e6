import { native } from "../../ffi/mod.ts";

/**
 * Typed views over one mapped segment. Every structure reads and writes through
 * these views with byte offsets relative to the segment start; `closed` is checked
 * by every handle before it touches memory, so nothing reads an unmapped page.
 *
 * @example
 * ```ts
 * import { Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-memory-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const m = seg.memory; // the views every handle of `seg` reads and writes through
 * assert.equal(m.size, 1 << 20);
 * assert.equal(m.buffer, m.u32.buffer);
 * seg.close();
 * assert.equal(m.closed, true); // no handle touches the unmapped pages
 * ```
 */
export class Memory {
  /** Native address of the mapping (for futex and 64-bit native atomics). */
  readonly base: number;
  /** Bytes mapped. */
  readonly size: number;
  /** The mapped memory. */
  readonly buffer: ArrayBuffer;
  /** Unsigned bytes. */
  readonly u8: Uint8Array;
  /** Signed bytes. */
  readonly i8: Int8Array;
  /** Unsigned 16-bit words. */
  readonly u16: Uint16Array;
  /** Signed 16-bit words. */
  readonly i16: Int16Array;
  /** Unsigned 32-bit words. */
  readonly u32: Uint32Array;
  /** Signed 32-bit words (the futex and Atomics words). */
  readonly i32: Int32Array;
  /** 32-bit floats. */
  readonly f32: Float32Array;
  /** 64-bit floats. */
  readonly f64: Float64Array;
  /** Signed 64-bit integers. */
  readonly i64: BigInt64Array;
  /** Unsigned 64-bit integers. */
  readonly u64: BigUint64Array;
  /** True once the segment is closed (or for CLOSED_MEMORY). */
  closed = false;
  /** Buffers handed out by `viewBuffer`, so that unmapping can detach them first. */
  readonly #issued = new Set<WeakRef<ArrayBuffer>>();

  /** Views over `buffer`, mapped at native address `base`. */
  constructor(base: number, buffer: ArrayBuffer) {
    this.base = base;
    this.buffer = buffer;
    this.size = buffer.byteLength;
    this.u8 = new Uint8Array(buffer);
    this.i8 = new Int8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.i16 = new Int16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.u64 = new BigUint64Array(buffer);
  }

  /**
   * A new ArrayBuffer over `length` bytes at `offset` of the mapping, for the views a
   * structure hands to users (`SharedArray.view()`, `Vector.view()`). Each call makes
   * its own buffer, so transferring or `transfer()`-ing one detaches only that one,
   * never the segment's own buffer (`buffer`), which stays private to the handles.
   */
  viewBuffer(offset: number, length: number): ArrayBuffer {
    if (length === 0) return new ArrayBuffer(0);
    const b = native().view(this.base + offset, length);
    if (this.#issued.size >= 64) { for (const r of this.#issued) if (r.deref() === undefined) this.#issued.delete(r); }
    this.#issued.add(new WeakRef(b));
    return b;
  }

  /**
   * Detaches every view buffer still held here, so typed arrays over them read as
   * empty. Returns false if one had already been detached by someone else: it was
   * transferred (to a Worker, or with `transfer()`), and its new owner may still read
   * it, so the pages must stay mapped.
   */
  detachViews(): boolean {
    let safe = true;
    for (const r of this.#issued) {
      const b = r.deref() as (ArrayBuffer & { detached?: boolean; transfer?: (n: number) => ArrayBuffer }) | undefined;
      if (b === undefined) continue;
      if (b.detached ?? b.byteLength === 0) {
        safe = false;
        continue;
      }
      try {
        b.transfer?.(0);
      } catch {
        safe = false; // not detachable: someone may still read it
      }
    }
    this.#issued.clear();
    return safe;
  }

  /** Reads an unsigned 64-bit field as a number (format fields stay below 2^53). */
  getU64(offset: number): number {
    const i = offset >> 2;
    return this.u32[i] + this.u32[i + 1] * 0x1_0000_0000;
  }

  /** Writes an unsigned 64-bit field from a number below 2^53. */
  setU64(offset: number, value: number): void {
    const i = offset >> 2;
    this.u32[i] = value % 0x1_0000_0000;
    this.u32[i + 1] = Math.floor(value / 0x1_0000_0000);
  }
}

/** Stand-in views for a closed handle: `closed` is true, so nothing reaches the arrays. */
export const CLOSED_MEMORY: Memory = (() => {
  const m = new Memory(0, new ArrayBuffer(64));
  m.closed = true;
  return m;
})();

export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
