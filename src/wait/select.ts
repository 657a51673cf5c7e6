/**
 * Waiting on several structures at once: `select` parks on the eventcounts of all of
 * them and returns which one delivered, having taken from exactly one (or none, when
 * it times out or is aborted).
 *
 * Why not `Promise.race([a.popAsync({ signal }), b.popAsync({ signal })])`: both waits
 * can be woken in the same tick and each takes its element before the loser's abort
 * runs, so the loser's element is dropped (seen in both runtimes). `select` keeps
 * taking and waiting apart: it registers as a waiter on every eventcount, re-checks,
 * parks on all of them at once (one cancellable native wait each, see
 * zig/waiter.zig), and after any wake polls the sources in order on this thread,
 * taking from the first that has something and from no other.
 *
 * ```ts ignore
 * const { index, value } = await select([jobs, urgent], { timeout: 1000 });
 * ```
 */
import { native } from "../../ffi/mod.ts";
import { ShmError } from "../errors.ts";
import type { Memory } from "../segment/memory.ts";
import {
  abortError,
  ASYNC_SLICE_MS,
  asyncDeadline,
  type AsyncWaitOptions,
  checkAborted,
  delist,
  enlist,
  parkSliceMs,
  timeoutError,
} from "./wait.ts";

/** What `select` needs from a structure: the eventcount it is notified on, and a non-blocking take. */
export interface Selectable<T> {
  readonly memory: Memory;
  /** Byte offset of the eventcount (seq i32, waiters i32) notified when `poll` may succeed. */
  readonly at: number;
  /** Takes one item and returns it, or returns undefined without side effects. */
  poll(): T | undefined;
}

/**
 * A structure that can take part in `select`: Queue, SpscQueue, RingBuffer, Stack,
 * ObjectPool (the value is the acquired handle) and BroadcastReader.
 *
 * @example
 * ```ts
 * import { Queue, RingBuffer, Segment, select, type SelectSource, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-selsrc-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const ring = RingBuffer.create(seg, "r", u32, 8);
 * const sources: SelectSource<number>[] = [Queue.create(seg, "a", u32, 8), ring];
 * ring.push(3);
 * assert.deepEqual(await select(sources, { timeout: 1000 }), { index: 1, value: 3 });
 * ```
 */
export interface SelectSource<T> {
  /** @internal */
  selectable(): Selectable<T>;
}

/**
 * The source that delivered and what it delivered.
 *
 * @example
 * ```ts
 * import { Queue, Segment, select, type Selected, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-selected-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const a = Queue.create(seg, "a", u32, 8), b = Queue.create(seg, "b", u32, 8);
 * b.push(9);
 * const got: Selected<number> = await select([a, b], { timeout: 1000 });
 * assert.deepEqual([got.index, got.value], [1, 9]);
 * ```
 */
export interface Selected<T> {
  /** Index, in the array given to `select`, of the source the value came from. */
  readonly index: number;
  /** The value taken from that source (and from no other). */
  readonly value: T;
}

function pollAll<T>(s: readonly Selectable<T>[]): Selected<T> | undefined {
  for (let i = 0; i < s.length; i++) {
    const value = s[i].poll();
    if (value !== undefined) return { index: i, value };
  }
  return undefined;
}

/**
 * Waits until one of `sources` has an item, takes it from that one only, and returns
 * `{ index, value }`. Rejects with TIMEOUT after `timeout` ms and with ABORTED when
 * `signal` fires, having taken nothing. Sources are tried in order after every wake,
 * so an earlier source wins ties.
 *
 * @example
 * ```ts
 * import { Queue, Segment, select, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-select-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const qa = Queue.create(seg, "a", u32, 8), qb = Queue.create(seg, "b", u32, 8);
 * const ac = new AbortController();
 * setTimeout(() => qa.push(5), 10);
 * const { index, value } = await select([qa, qb], { signal: ac.signal, timeout: 5000 });
 * assert.deepEqual([index, value], [0, 5]);
 * ```
 */
export async function select<T>(sources: readonly SelectSource<T>[], options?: AsyncWaitOptions): Promise<Selected<T>> {
  const what = "select";
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new ShmError("INVALID_ARGUMENT", "select needs a non-empty array of queues, rings, stacks, pools or broadcast readers");
  }
  sources.forEach((src, i) => {
    if (typeof (src as Partial<SelectSource<T>> | null)?.selectable !== "function") {
      throw new ShmError(
        "INVALID_ARGUMENT",
        `select: source ${i} is not a Queue, SpscQueue, RingBuffer, Stack, ObjectPool or BroadcastReader`,
      );
    }
  });
  const deadline = asyncDeadline(options);
  const signal = options?.signal;
  checkAborted(what, signal);
  const s: Selectable<T>[] = sources.map((src) => src.selectable() as Selectable<T>);
  const n = native();
  for (;;) {
    const first = pollAll<T>(s);
    if (first) return first;
    checkAborted(what, signal);
    const left = deadline - performance.now();
    if (left <= 0) throw timeoutError(what, options?.timeout);
    for (const x of s) enlist(x.memory, x.at);
    try {
      const seqs = s.map((x) => Atomics.load(x.memory.i32, x.at >> 2));
      const again = pollAll<T>(s);
      if (again) return again;
      const ns = Math.ceil(Math.min(left, ASYNC_SLICE_MS, parkSliceMs()) * 1e6);
      const waits = s.map((x, i) => n.futexWaitCancellable(x.memory.base, x.at, seqs[i], ns));
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<void>((resolve) => {
        if (signal) signal.addEventListener("abort", onAbort = () => resolve(), { once: true });
      });
      try {
        await Promise.race([...waits.map((w) => w.promise), aborted]);
      } finally {
        for (const w of waits) w.cancel(); // a wake-one that picked a cancelled wait is passed on natively
        if (onAbort) signal!.removeEventListener("abort", onAbort);
      }
      if (signal?.aborted) throw abortError(what, signal);
    } finally {
      for (const x of s) if (!x.memory.closed) delist(x.memory, x.at);
    }
    for (const x of s) if (x.memory.closed) throw new ShmError("CLOSED", "select: a segment was closed while waiting");
  }
}
