/**
 * shmkit: named, lock-free data structures in POSIX shared memory for Deno and Bun.
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, f64 } from "@shmkit/shmkit";
 * using seg = Segment.openOrCreate("demo", { size: 1 << 20 });
 * const xs = SharedArray.openOrCreate(seg, "xs", f64, 1000);
 * xs.set(0, 3.14);
 * ```
 * @module
 */
export { ShmError, type ShmErrorCode } from "./src/errors.ts";
export { Segment, type CreateOptions, type EntryInfo, type OpenOptions, type SegmentStats } from "./src/segment.ts";
export {
  array,
  bool,
  type ElementType,
  f32,
  f64,
  type Field,
  i16,
  i32,
  i64,
  i64AsNumber,
  i8,
  string,
  struct,
  type StructType,
  types,
  u16,
  u32,
  u64,
  u64AsNumber,
  u8,
  type ValueOf,
} from "./src/elements.ts";
export { Kind, kindName } from "./src/kinds.ts";
export { SharedArray } from "./src/array.ts";
export { SharedAtomic } from "./src/atomic.ts";
export { libraryPath } from "./ffi/mod.ts";
