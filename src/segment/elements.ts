/**
 * Element descriptors: how one value of a structure is laid out and read or written
 * in place. Numeric kinds and bool (numeric.ts), fixed-length UTF-8 strings,
 * fixed-length arrays and C-layout structs (composite.ts), on the descriptor
 * interface of element_type.ts. This module is the one the rest of shmkit imports.
 */
import { array, string, struct } from "./composite.ts";
import { bool, f32, f64, i16, i32, i64, i64AsNumber, i8, u16, u32, u64, u64AsNumber, u8 } from "./numeric.ts";

export {
  assertElementType,
  type ElementType,
  fnv1a,
  isIntegerType,
  type NumericView,
  type TypedArrayCtor,
  type ValueOf,
} from "./element_type.ts";
export { bool, f32, f64, fastKind, i16, i32, i64, i64AsNumber, i8, u16, u32, u64, u64AsNumber, u8 } from "./numeric.ts";
export {
  array,
  type Field,
  string,
  struct,
  structReadInto,
  structStaging,
  type StructType,
  type StructValue,
  structView,
} from "./composite.ts";

/**
 * Every predefined element type, by name.
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, types } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-types-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const t = types.u16; // look a type up by name, e.g. from a config file
 * const xs = SharedArray.create(seg, "xs", t, 4);
 * xs.set(0, 65535);
 * assert.equal(xs.get(0), 65535);
 * ```
 */
export const types = {
  i8,
  u8,
  i16,
  u16,
  i32,
  u32,
  f32,
  f64,
  i64,
  u64,
  i64AsNumber,
  u64AsNumber,
  bool,
  string,
  array,
  struct,
} as const;
