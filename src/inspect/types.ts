/**
 * Naming element types from what the segment stores: a 32-bit FNV-1a hash of the
 * type's signature and its size (docs/FORMAT.md, "Element types and type hashes").
 * A hash cannot be inverted, but the element size narrows the candidates to a handful
 * (each primitive, `string(size)`, `T[size / sizeof T]`), which are hashed and
 * compared. Struct signatures cannot be guessed: callers pass the struct types they
 * know, and anything else stays unnamed (null).
 */
import { type ElementType, fnv1a } from "../segment/elements.ts";

const PRIMITIVES: readonly (readonly [string, number])[] = [
  ["i8", 1],
  ["u8", 1],
  ["bool", 1],
  ["i16", 2],
  ["u16", 2],
  ["i32", 4],
  ["u32", 4],
  ["f32", 4],
  ["f64", 8],
  ["i64", 8],
  ["u64", 8],
];

/** Names element types by (hash, size). */
export class TypeNames {
  readonly #known = new Map<number, string>();

  /** `extra`: types to recognise beyond the built-in candidates (struct types, nested arrays). */
  constructor(extra: readonly ElementType<unknown>[] = []) {
    for (const t of extra) {
      if (t && typeof t.name === "string" && typeof t.typeHash === "number") this.#known.set(t.typeHash >>> 0, t.name);
    }
  }

  /** The signature of an element type with this hash and size, or null. */
  name(hash: number, size: number): string | null {
    const known = this.#known.get(hash >>> 0);
    if (known !== undefined) return known;
    for (const candidate of candidates(size)) if (fnv1a(candidate) === hash >>> 0) return candidate;
    return null;
  }

  /**
   * The signature of a map (`value` given) or set from its key and value type hashes,
   * checked against the entry's own type hash; null when a part cannot be named.
   */
  tableName(
    entryHash: number,
    key: { hash: number; size: number },
    value: { hash: number; size: number } | undefined,
  ): string | null {
    const k = this.name(key.hash, key.size);
    if (k === null) return null;
    let sig: string;
    if (value === undefined) {
      sig = `set{key:${k}}`;
    } else {
      const v = this.name(value.hash, value.size);
      if (v === null) return null;
      sig = `map{key:${k},value:${v}}`;
    }
    return fnv1a(sig) === entryHash >>> 0 ? sig : null;
  }
}

function* candidates(size: number): Generator<string> {
  if (!(Number.isInteger(size) && size > 0)) return;
  for (const [p, s] of PRIMITIVES) if (s === size) yield p;
  yield `string(${size})`;
  for (const [p, s] of PRIMITIVES) if (size % s === 0 && size / s >= 1) yield `${p}[${size / s}]`;
}
