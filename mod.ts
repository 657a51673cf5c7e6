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
export { ShmError, type ShmErrorCode, type ShmErrorReason } from "./src/errors.ts";
export { Segment, type CreateOptions, type EntryInfo, type OpenOptions, type OpenOrCreateOptions, type SegmentStats } from "./src/segment/segment.ts";
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
} from "./src/segment/elements.ts";
export { Kind, kindName } from "./src/segment/kinds.ts";
export { SharedArray } from "./src/structures/array.ts";
export { SharedAtomic } from "./src/structures/atomic.ts";
export { type HashTableOptions, SharedMap, type TableStats } from "./src/structures/map.ts";
export { SharedSet } from "./src/structures/set.ts";
export { Queue } from "./src/structures/queue.ts";
export { SpscQueue } from "./src/structures/spsc_queue.ts";
export { Stack } from "./src/structures/stack.ts";
export { ObjectPool, type PoolHandle } from "./src/structures/pool.ts";
export { libraryPath } from "./ffi/mod.ts";
export { RingBuffer } from "./src/structures/ring_buffer.ts";
export { BroadcastReader, BroadcastRing, type ReaderOptions } from "./src/structures/broadcast.ts";
export { Vector } from "./src/structures/vector.ts";
export {
  ALL,
  ASYNC_FAST_PARK_US,
  ASYNC_IDLE_PARK_US,
  ASYNC_SLICE_MS,
  ASYNC_SPIN,
  ASYNC_SPIN_MAX,
  type AsyncWaitOptions,
  DEFAULT_SPIN,
  SPIN_LIMIT_US,
  type WaitOptions,
} from "./src/wait/wait.ts";
export { type LockGuard, Mutex } from "./src/sync/mutex.ts";
export { RWLock, type RWLockOptions } from "./src/sync/rwlock.ts";
export { Semaphore, type SemaphoreOptions, type SemaphorePermit } from "./src/sync/semaphore.ts";
export { Barrier, type BarrierOptions } from "./src/sync/barrier.ts";
export { Latch } from "./src/sync/latch.ts";
export { Once } from "./src/sync/once.ts";
export { type EventOptions, SharedEvent } from "./src/sync/event.ts";
export { ConditionVariable } from "./src/sync/condvar.ts";
