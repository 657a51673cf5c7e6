/**
 * BroadcastRing's block layout and the pure functions its writer and readers share:
 * control-word offsets, slot stride and element offset, the typed-array view over the
 * elements, the spec, and reading the published count (docs/FORMAT.md).
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Kind } from "../segment/kinds.ts";
import type { StructureSpec } from "../segment/structure.ts";

/**
 * What a reader needs of its ring: BroadcastRing has these members. An interface here,
 * so that broadcast_reader.ts depends on the layout alone and not on the ring, which
 * imports the reader to make one.
 */
export interface ReaderSource<T> {
  readonly type: ElementType<T>;
  readonly capacity: number;
  /** @internal The data offset, slot stride, element offset and the two position words. */
  _geometry(): [number, number, number, number, number];
  /** @internal Drops a closed reader from the ring's list. */
  _forget(reader: object): void;
}

/** Largest capacity (keeps a reader's lag test far from the 2^31 period of slot stamps). */
export const BROADCAST_MAX_CAPACITY = 2 ** 30;

export const POS_LO = 0;
export const POS_EP = 4;
export const CLAIM = 64;
/** Blocking readers' eventcount (src/wait/wait.ts), on the writer's line: one load per publish when nobody waits. */
export const NEW_MESSAGE = 8;
export const TWO_31 = 2 ** 31;
export const TWO_32 = 2 ** 32;

export function layout(type: ElementType<unknown>): { hdr: number; stride: number } {
  const hdr = type.align > 4 ? type.align : 4;
  const a = hdr;
  return { hdr, stride: Math.ceil((hdr + type.size) / a) * a };
}

/**
 * Numeric kinds: a typed array over the data region and where slot s's element sits
 * in it (s * stride + off), so publish/tryRead move an element with one indexed access
 * instead of the type's generic read/write closures. Undefined for other kinds.
 */
export function elementView<T>(
  type: ElementType<T>,
  buffer: ArrayBuffer,
  data: number,
  capacity: number,
): { view: { [i: number]: T }; stride: number; off: number } | undefined {
  const ctor = type.typedArray;
  const size = type.size;
  const { hdr, stride } = layout(type as ElementType<unknown>);
  if (ctor === undefined || stride % size !== 0 || hdr % size !== 0 || data % size !== 0) return undefined;
  const view = new ctor(buffer, data, (capacity * stride) / size) as unknown as { [i: number]: T };
  return { view, stride: stride / size, off: hdr / size };
}

export function spec<T>(type: ElementType<T>): StructureSpec {
  assertElementType(type);
  const { stride } = layout(type);
  return { kind: Kind.BROADCAST, type, controlBytes: 128, dataBytes: (n) => n * stride };
}

/** Stamp of a slot holding message p: 2(p+1) mod 2^32, as an int32. */
export function done(p: number): number {
  return ((p + 1) | 0) << 1;
}

/** Most messages a ring may report published: positions and position + capacity stay exact JS integers. */
export const MAX_PUBLISHED = 2 ** 53 - 2 ** 33;

/**
 * Messages published so far, rebuilt from the low word and the half-epoch (stored first
 * by the writer). A count past MAX_PUBLISHED comes only from a damaged epoch word: CORRUPT,
 * or a reader's `position + 1` would stop moving and its loop never end (issue 10).
 */
export function published(i32: Int32Array, lo: number, ep: number): number {
  const l = Atomics.load(i32, lo) >>> 0;
  let e = Atomics.load(i32, ep) >>> 0;
  if ((e & 1) !== l >>> 31) e -= 1; // the epoch already moved past the low word we read
  const n = Math.floor(e / 2) * TWO_32 + l;
  if (n > MAX_PUBLISHED) {
    throw new ShmError(
      "CORRUPT",
      `broadcast ring: published count ${n} (epoch word ${e}) is past 2^53; the ring's memory is damaged`,
    );
  }
  return n;
}

/**
 * Where a reader starts: at the next message to be published, or at the oldest one still retained.
 *
 * @example
 * ```ts
 * import { BroadcastRing, Segment, type ReaderOptions, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-ropts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const ring = BroadcastRing.create(seg, "log", u32, 8);
 * ring.publish(1);
 * const options: ReaderOptions = { from: "oldest" };
 * assert.equal(ring.reader(options).tryRead(), 1);
 * assert.equal(ring.reader().tryRead(), undefined); // from: "now"
 * ```
 */
export interface ReaderOptions {
  /** "now" (default): only messages published from now on; "oldest": the oldest one still retained. */
  from?: "now" | "oldest";
}
