/**
 * Queue's bulk operations (queue.ts): pushBulk and popBulk claim runs of positions with
 * one CAS, announce the whole run in the claim record, and repair dead claims on their
 * full/empty paths exactly as tryPush/tryPop do (vyukov_repair.ts).
 *
 * Numeric elements take the native bulk calls first (`pushBulkFast`, `popBulkFast`:
 * zig/fastpath.zig `shmkit_mpmc_push_bulk` / `_pop_bulk`, the same record protocol run
 * for run); where those meet a position that needs a repair they stop between runs and
 * the TypeScript loops below do the rest.
 */
import { ShmError } from "../errors.ts";
import { FAST_DONE, FAST_INVALID, FAST_RANGE, FAST_RANGE_COUNT, FAST_SLOW } from "../../ffi/native.ts";
import type { Memory } from "../segment/memory.ts";
import { notify } from "../wait/wait.ts";
import { HANDED_BACK, SKIPPED } from "./queue_layout.ts";
import { type QueueCore, reload } from "./queue_core.ts";
import { handBackDeadConsumer, skipDeadProducer } from "./vyukov_repair.ts";

/** Throws the type's INVALID_ARGUMENT for the first of `values[from..]` it does not accept. */
function validateAll<T>(c: QueueCore<T>, values: ArrayLike<T>, from: number): void {
  const view = c.view;
  const accepts = c.accepts;
  for (let i = from; i < values.length; i++) {
    const v = values[i];
    if (view === undefined || !accepts!(v)) c.staging.stage(v);
  }
}

/** A Queue handle's native bulk calls (fast_path.ts bindMpmc) and how to word their errors. */
export interface FastBulk {
  readonly push: (count: number) => number;
  readonly pop: (max: number) => number;
  /** The values the calls read and fill (BULK_CHUNK of them). */
  readonly values: Float64Array;
  /** The fast-path state words (FAST_DONE, FAST_RANGE_COUNT). */
  readonly status: Int32Array;
  /** The error for a negative code, as the TypeScript path words it (queue.ts #fastError). */
  readonly error: (code: number, value: unknown) => Error;
}

/** True for a typed array of numbers (not bigints), whose values `Float64Array.set` copies exactly. */
function numberArray(v: ArrayLike<unknown>): v is ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> } {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

// Copies between the f64 buffer and a typed array of another type are element loops:
// TypedArray.prototype.set converting between element types took 130-180 ns per 64
// (Float64Array into a Uint32Array; Deno, Bun) against 40-68 ns for the loop, the same
// conversion (docs/DECISIONS.md "Fast paths").

/** `n` values of `src` from `at` into `buf[0, n)`. */
function copyFrom(buf: Float64Array, src: ArrayLike<number>, at: number, n: number): void {
  for (let j = 0; j < n; j++) buf[j] = src[at + j]!;
}

/**
 * pushBulk for a numeric element type with a native fast path: the values go to the
 * native call through `f.values` (a plain array copied in, every value checked to be a
 * number; a typed array copied with one `set`), BULK_CHUNK per call; the call checks
 * them as tryPush does before claiming anything. More than one chunk: all are checked
 * here first, so one bad value still means nothing pushed. Where the native call stops
 * at a position that may need a repair (FAST_SLOW) having pushed nothing, the TypeScript
 * loop does the rest; having pushed some, it returns them (see there).
 */
export function pushBulkFast(c: QueueCore<number>, m: Memory, f: FastBulk, values: ArrayLike<unknown>): number {
  const count = values.length;
  const buf = f.values, chunk = buf.length;
  const typed = numberArray(values);
  if (count > chunk) validateAll(c as QueueCore<unknown>, values, 0);
  let done = 0;
  while (done < count) {
    const n = Math.min(count - done, chunk);
    if (values instanceof Float64Array) buf.set(n === count ? values : values.subarray(done, done + n));
    else if (typed) copyFrom(buf, values, done, n);
    else {
      for (let j = 0; j < n; j++) {
        const v = values[done + j];
        if (typeof v !== "number") throw f.error(FAST_INVALID, v); // not a number: the type's INVALID_ARGUMENT (nothing pushed yet)
        buf[j] = v;
      }
    }
    const rc = f.push(n);
    if (rc >= 0) {
      done += rc;
      if (rc < n) break; // full
      continue;
    }
    if (rc === FAST_INVALID) throw f.error(rc, values[done + f.status[FAST_DONE]]); // nothing of this call pushed
    done += f.status[FAST_DONE];
    if (rc !== FAST_SLOW) throw f.error(rc, undefined);
    // The next position's slot is claimed by a consumer that has not handed it back: almost
    // always a live one mid-read. With something pushed, return that (full, for now): the
    // next call starts at that position and, pushing nothing natively, runs the TypeScript
    // path, whose stall clock decides on a repair. Running it now would cost every call
    // that races a consumer a liveness check (measured: mpmc-bulk64).
    if (done > 0) return done;
    return pushBulk(c, m, values as ArrayLike<number>, 0);
  }
  return done;
}

/** Where popBulkFast puts what it pops: an array it appends to, or a typed array it fills from index 0. */
export type BulkOut = number[] | { [i: number]: number; readonly length: number };

/** `b[0, k)` to `out` (appended to an array; into a typed array from index `from`). */
function deliver(out: BulkOut, b: Float64Array, k: number, from: number): void {
  if (Array.isArray(out)) { for (let j = 0; j < k; j++) out.push(b[j]!); }
  // One memcpy when the whole buffer goes to a Float64Array; else a loop, which allocates
  // no subarray view per call (see copyFrom).
  else if (k === b.length && out instanceof Float64Array) out.set(b, from);
  else for (let j = 0; j < k; j++) out[from + j] = b[j]!;
}

/**
 * popBulk for a numeric element type with a native fast path: elements come back
 * through `f.values`, BULK_CHUNK per call, and go to `out` (no closure or view is
 * allocated per call: JavaScriptCore's collector runs beside the other process on two
 * cores). Where the native call stops at a position that may need a repair (FAST_SLOW)
 * before anything was popped, the TypeScript loop pops the rest (delivered through
 * `f.values` too); after some were popped, it returns them.
 * A 64-bit element beyond ±(2^53 − 1) is consumed and dropped, and OUT_OF_RANGE thrown
 * at the end, as the TypeScript path does. Returns how many went to `out`.
 */
export function popBulkFast(c: QueueCore<number>, m: Memory, f: FastBulk, max: number, out: BulkOut): number {
  const buf = f.values, chunk = buf.length, status = f.status;
  let got = 0;
  let failure: unknown;
  while (got < max) {
    const want = Math.min(max - got, chunk);
    const rc = f.pop(want);
    let k = rc >= 0 ? rc : status[FAST_DONE];
    if (status[FAST_RANGE_COUNT] !== 0) {
      // Only the 64-bit kinds get here, where NaN is never an element: drop the NaNs.
      let w = 0;
      for (let j = 0; j < k; j++) if (buf[j] === buf[j]) buf[w++] = buf[j];
      k = w;
      failure ??= f.error(FAST_RANGE, undefined);
    }
    if (k > 0) deliver(out, buf, k, got);
    got += k;
    if (rc >= 0) {
      if (rc < want) break; // empty
      continue;
    }
    if (rc !== FAST_SLOW) throw f.error(rc, undefined);
    // A producer has claimed the next position and not published it (almost always a live
    // one mid-write): with something popped, return that (as pushBulkFast); the next call
    // starts there and runs the TypeScript path with its stall clock.
    if (got > 0) break;
    let rest: number[] = [];
    try {
      rest = popBulk(c, m, max - got, rest);
    } catch (e) {
      failure ??= e;
    }
    // The TypeScript loop's elements through the same buffer, in chunks of it.
    for (let at = 0; at < rest.length; at += chunk) {
      const n = Math.min(chunk, rest.length - at);
      for (let j = 0; j < n; j++) buf[j] = rest[at + j];
      deliver(out, buf, n, got);
      got += n;
    }
    break;
  }
  if (failure !== undefined) throw failure;
  return got;
}

/**
 * Appends as many of `values` as fit, in order, claiming runs of slots with one CAS;
 * returns how many were pushed (fewer than values.length when the queue fills up).
 * Every value is validated first: one bad value throws INVALID_ARGUMENT with nothing pushed.
 */
export function pushBulk<T>(c: QueueCore<T>, m: Memory, values: ArrayLike<T>, from = 0): number {
  validateAll(c, values, from);
  const count = values.length - from;
  const view = c.view;
  const accepts = c.accepts;
  const i32 = m.i32;
  let done = 0;
  let failure: unknown;
  let pos = Atomics.load(i32, c.enq);
  while (done < count) {
    const want = Math.min(count - done, c.ring);
    let k = 0;
    let dif = 0;
    while (k < want) {
      const slot = c.data + (((pos + k) | 0) & c.mask) * c.stride;
      dif = (Atomics.load(i32, slot >> 2) - ((pos + k) | 0)) | 0;
      if (dif !== 0) break;
      k++;
    }
    if (k === 0) {
      if (dif < 0) {
        const seqAt = (c.data + (pos & c.mask) * c.stride) >> 2;
        const ring = c.ring;
        if (
          (dif === -ring || dif === 1 - ring) &&
          handBackDeadConsumer(i32, c.recs, c.stall, c.deq, seqAt, pos, (dif + pos) | 0, ring)
        ) {
          Atomics.add(i32, c.enq + (HANDED_BACK >> 2), 1);
          continue;
        }
        break; // full
      }
      pos = reload(i32, c.enq, pos, c.name);
      continue;
    }
    if (c.bounded) {
      k = Math.min(k, c.capacity - ((pos - Atomics.load(i32, c.deq)) | 0));
      if (k <= 0) break;
    }
    i32[c.rp] = pos; // claim record for [pos, pos + k), published by the CAS
    i32[c.rn] = k;
    const found = Atomics.compareExchange(i32, c.enq, pos, (pos + k) | 0);
    if (found !== pos) {
      pos = found;
      continue;
    }
    for (let j = 0; j < k; j++) {
      const p = (pos + j) | 0;
      const slot = c.data + (p & c.mask) * c.stride;
      const v = values[from + done + j];
      if (view !== undefined && accepts!(v)) {
        view[(p & c.mask) * c.vStride + c.vOff] = v; // unpublished until the store below
        Atomics.store(i32, slot >> 2, (p + 1) | 0);
        continue;
      }
      try {
        c.type.write(m, slot + c.elemOffset, v);
      } catch (e) {
        // Only a value that changed since it was validated (a getter) gets here: keep the queue consistent.
        m.u8.fill(0, slot + c.elemOffset, slot + c.elemOffset + c.type.size);
        failure ??= e;
      }
      Atomics.store(i32, slot >> 2, (p + 1) | 0);
    }
    Atomics.store(i32, c.rn, 0);
    done += k;
    pos = (pos + k) | 0;
  }
  i32[c.rn] = 0; // a failed CAS may have left a record naming someone else's claim
  if (done > 0) notify(m, c.notEmpty, done);
  if (failure !== undefined) throw failure;
  return done;
}

/**
 * Removes up to `max` elements (oldest first), claiming runs of slots with one CAS,
 * and appends them to `out` (a new array by default), which it returns.
 */
export function popBulk<T>(c: QueueCore<T>, m: Memory, max: number, out: T[]): T[] {
  if (!(Number.isInteger(max) && max >= 0)) {
    throw new ShmError("INVALID_ARGUMENT", `popBulk max must be a non-negative integer, got ${max}`);
  }
  const i32 = m.i32;
  const view = c.view;
  let got = 0;
  let failure: unknown;
  let pos = Atomics.load(i32, c.deq);
  while (got < max) {
    const want = Math.min(max - got, c.ring);
    let k = 0;
    let dif = 0;
    while (k < want) {
      const slot = c.data + (((pos + k) | 0) & c.mask) * c.stride;
      dif = (Atomics.load(i32, slot >> 2) - ((pos + k + 1) | 0)) | 0;
      if (dif !== 0) break;
      k++;
    }
    if (k === 0) {
      if (dif < 0) {
        const seqAt = (c.data + (pos & c.mask) * c.stride) >> 2;
        if (dif === -1 && skipDeadProducer(i32, c.recs, c.stall, c.enq, c.deq, seqAt, pos, c.ring)) {
          Atomics.add(i32, c.enq + (SKIPPED >> 2), 1);
          notify(m, c.notFull, 1);
          pos = (pos + 1) | 0;
          continue;
        }
        break; // empty
      }
      pos = reload(i32, c.deq, pos, c.name);
      continue;
    }
    i32[c.rp] = pos; // claim record for [pos, pos + k), published by the CAS
    i32[c.rn] = -k;
    const found = Atomics.compareExchange(i32, c.deq, pos, (pos + k) | 0);
    if (found !== pos) {
      pos = found;
      continue;
    }
    for (let j = 0; j < k; j++) {
      const p = (pos + j) | 0;
      const slot = c.data + (p & c.mask) * c.stride;
      try {
        const v = view !== undefined ? view[(p & c.mask) * c.vStride + c.vOff] : c.type.read(m, slot + c.elemOffset);
        out.push(v);
      } catch (e) {
        failure ??= e; // an element this type cannot read (written by a foreign program)
      }
      Atomics.store(i32, slot >> 2, (p + c.ring) | 0);
    }
    Atomics.store(i32, c.rn, 0);
    got += k;
    pos = (pos + k) | 0;
  }
  i32[c.rn] = 0;
  if (got > 0) notify(m, c.notFull, got);
  if (failure !== undefined) throw failure;
  return out;
}
