/**
 * Bounds-checked little-endian reads of a segment file. Inspection copies the parts
 * it needs (header, registry, name table, structures' control areas) with read(),
 * never maps the file and never writes it; every offset comes from untrusted bytes,
 * so every read is checked against the file size and a bad one throws `Damage`,
 * which callers turn into a "corrupt" report.
 */
import { pread } from "./host.ts";

/** A structural problem found while reading a segment (becomes a report, never escapes inspection). */
export class Damage extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Damage";
  }
}

/** Copied bytes of a file starting at file offset `at`. */
export class Bytes {
  readonly #view: DataView;

  constructor(readonly at: number, readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  #check(o: number, n: number): void {
    if (!(o >= 0 && o + n <= this.bytes.length)) {
      throw new Damage(`read of ${n} bytes at +${o} outside the ${this.bytes.length} bytes copied from offset ${this.at}`);
    }
  }

  u8(o: number): number {
    this.#check(o, 1);
    return this.bytes[o];
  }

  u32(o: number): number {
    this.#check(o, 4);
    return this.#view.getUint32(o, true);
  }

  i32(o: number): number {
    this.#check(o, 4);
    return this.#view.getInt32(o, true);
  }

  /** An unsigned 64-bit field as a number (exact below 2^53, as the format's fields are). */
  u64(o: number): number {
    this.#check(o, 8);
    return this.#view.getUint32(o, true) + this.#view.getUint32(o + 4, true) * 0x1_0000_0000;
  }

  /** A 64-bit field as a bigint (for atomics' values beyond 2^53). */
  big64(o: number, signed: boolean): bigint {
    this.#check(o, 8);
    return signed ? this.#view.getBigInt64(o, true) : this.#view.getBigUint64(o, true);
  }

  /** A sub-range (no copy). */
  slice(o: number, n: number): Bytes {
    this.#check(o, n);
    return new Bytes(this.at + o, this.bytes.subarray(o, o + n));
  }

  /** True when every byte in [o, o + n) is zero. */
  zero(o: number, n: number): boolean {
    this.#check(o, n);
    for (let i = o; i < o + n; i++) if (this.bytes[i] !== 0) return false;
    return true;
  }
}

/** An open segment file of a known size. */
export class SegmentFile {
  constructor(readonly fd: number, readonly size: number) {}

  /** Copies `length` bytes at `offset`; Damage when that is outside the file or the file shrank. */
  read(offset: number, length: number): Bytes {
    if (
      !(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 &&
        offset + length <= this.size)
    ) {
      throw new Damage(`bytes [${offset}, +${length}) lie outside the ${this.size}-byte file`);
    }
    const got = pread(this.fd, offset, length);
    if (got.length !== length) {
      throw new Damage(`the file shrank while being read (${got.length} of ${length} bytes at ${offset})`);
    }
    return new Bytes(offset, got);
  }
}
