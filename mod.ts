/**
 * shmkit: named, lock-free data structures in POSIX shared memory for Deno and Bun.
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedArray } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.openOrCreate("doc-mod-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.openOrCreate(seg, "xs", f64, 1000);
 * xs.set(0, 3.14);
 * assert.equal(xs.get(0), 3.14);
 * ```
 * @module
 */
export { ShmError, type ShmErrorCode, type ShmErrorReason } from "./src/errors.ts";
export {
  type CreateOptions,
  type EntryInfo,
  type OpenOptions,
  type OpenOrCreateOptions,
  Segment,
  type SegmentStats,
} from "./src/segment/segment.ts";
export type {
  AttachedProcess,
  HolderRef,
  InspectOptions,
  ListOptions,
  OwnerRef,
  ProcessRef,
  SegmentListing,
  SegmentReport,
  SegmentState,
  StructureReport,
} from "./src/segment/inspection.ts";
// Also installs Segment.list() / Segment.inspect().
export {
  collectGarbage,
  type GcOptions,
  type GcResult,
  inspectSegment,
  listSegments,
  type Rates,
  rates,
  type RemoveOptions,
  type RemoveOutcome,
  type RemoveResult,
  removeSegment,
} from "./src/inspect/mod.ts";
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
  type NumericView,
  string,
  struct,
  type StructType,
  type StructValue,
  type TypedArrayCtor,
  types,
  u16,
  u32,
  u64,
  u64AsNumber,
  u8,
  type ValueOf,
} from "./src/segment/elements.ts";
export { Kind, kindName } from "./src/segment/kinds.ts";
export type { Handle, HandleOwner } from "./src/segment/handle.ts";
export type { Memory } from "./src/segment/memory.ts";
export { SharedArray, type View } from "./src/structures/array.ts";
export { SharedAtomic } from "./src/structures/atomic.ts";
export { type HashTableOptions, SharedMap, type TableStats } from "./src/structures/map.ts";
export { SharedSet } from "./src/structures/set.ts";
export { Queue, type QueueStats } from "./src/structures/queue.ts";
export { select, type Selected, type SelectSource } from "./src/wait/select.ts";
export { SpscQueue } from "./src/structures/spsc_queue.ts";
export { Stack } from "./src/structures/stack.ts";
export { ObjectPool, type PoolHandle } from "./src/structures/pool.ts";
export { libraryPath } from "./ffi/mod.ts";
export { RingBuffer, type Span } from "./src/structures/ring_buffer.ts";
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
