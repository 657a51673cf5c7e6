/**
 * The options of Segment.create, open and openOrCreate, and their validation: the
 * geometry and file mode a create asks for, checked before anything is made.
 */
import { ShmError } from "../errors.ts";
import { MAX_ENTRIES, MAX_NAME_LENGTH, MAX_PROCESSES, MAX_SEGMENT_SIZE, PAGE } from "./format.ts";
import { geometry } from "./geometry.ts";
import { align } from "./memory.ts";
import { checkSegmentName } from "./names.ts";
import type { Geometry } from "./table.ts";

/**
 * Options for Segment.create and Segment.openOrCreate.
 *
 * @example
 * ```ts
 * import { type CreateOptions, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const options: CreateOptions = { size: 1 << 20, maxEntries: 16, unlinkOnLastClose: true };
 * using seg = Segment.create("doc-create-" + crypto.randomUUID().slice(0, 8), options);
 * assert.equal(seg.stats().maxEntries, 16);
 * ```
 */
export interface CreateOptions {
  /** Total bytes (rounded up to 4096). Must hold the header and table plus your structures. */
  size: number;
  /** Name table entries: how many structures the segment can hold (default 256). */
  maxEntries?: number;
  /** Longest structure name in UTF-8 bytes (default 64). */
  maxNameLength?: number;
  /** Processes that can have the segment open at once (default 64; dead ones are swept). */
  maxProcesses?: number;
  /** File mode of the shm object (default 0o600: owner only). */
  mode?: number;
  /**
   * Unlink the segment's name when the last attached process closes it (default false).
   * Such a segment is also closed if the process ends by SIGINT, SIGTERM, an uncaught
   * exception or a normal exit without closing it (see `cleanupOnExit`, docs/LIFECYCLE.md).
   */
  unlinkOnLastClose?: boolean;
  /**
   * For a segment with unlinkOnLastClose: close it when the process ends without
   * closing it (SIGINT, SIGTERM, uncaught exception, normal exit), so the last process
   * to go removes it (default true). False: nothing is installed for this segment.
   * `SHMKIT_NO_SIGNAL_HANDLERS=1` turns this off for the whole process.
   */
  cleanupOnExit?: boolean;
  /**
   * Replace a stale segment of the same name (complete, but every process attached to
   * it is dead: ShmError EXISTS with reason STALE) with a new one, atomically (default
   * false). Of several processes racing to replace it, one does; the others find its
   * segment (openOrCreate opens it, create reports EXISTS).
   */
  replaceStale?: boolean;
}

/**
 * Options only Segment.openOrCreate takes.
 *
 * @example
 * ```ts
 * import { type OpenOrCreateOptions, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const options: OpenOrCreateOptions = { replaceHalfCreated: false };
 * using seg = Segment.openOrCreate("doc-ooc-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true, ...options });
 * assert.equal(seg.closed, false);
 * ```
 */
export interface OpenOrCreateOptions {
  /**
   * Replace a half-created segment (its creator died before finishing it, and no live
   * process is attached) with a new one (default true). False: throw its CORRUPT error.
   */
  replaceHalfCreated?: boolean;
}

/**
 * Options for Segment.open.
 *
 * @example
 * ```ts
 * import { Segment, type OpenOptions } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-open-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const options: OpenOptions = { timeoutMs: 100 };
 * using again = Segment.open(seg.name, options);
 * assert.equal(again.name, seg.name);
 * assert.throws(() => Segment.open("doc-absent-" + crypto.randomUUID(), options), { code: "NOT_FOUND" });
 * ```
 */
export interface OpenOptions {
  /** How long to wait for a segment that is still being created, in ms (default 5000). */
  timeoutMs?: number;
  /** As CreateOptions.cleanupOnExit, for a segment that has unlinkOnLastClose (default true). */
  cleanupOnExit?: boolean;
}

/** An integer option from `min` to `max`, or `fallback` when absent; INVALID_ARGUMENT otherwise. */
export function intOption(v: unknown, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ShmError("INVALID_ARGUMENT", `${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

/** Checks create options; returns the geometry and file mode they describe. */
export function planCreate(name: string, options: CreateOptions): { g: Geometry; mode: number } {
  checkSegmentName(name);
  if (typeof options !== "object" || options === null) {
    throw new ShmError("INVALID_ARGUMENT", "Segment.create needs options with at least { size }");
  }
  const { size } = options;
  if (typeof size !== "number" || !Number.isInteger(size) || size <= 0 || size > MAX_SEGMENT_SIZE) {
    throw new ShmError("INVALID_ARGUMENT", `size must be an integer from 1 to ${MAX_SEGMENT_SIZE} bytes, got ${String(size)}`);
  }
  const maxEntries = intOption(options.maxEntries, "maxEntries", 1, MAX_ENTRIES, 256);
  const maxNameLength = intOption(options.maxNameLength, "maxNameLength", 1, MAX_NAME_LENGTH, 64);
  const maxProcesses = intOption(options.maxProcesses, "maxProcesses", 1, MAX_PROCESSES, 64);
  const mode = intOption(options.mode, "mode", 0, 0o777, 0o600);
  const g = geometry(align(size, PAGE), maxEntries, maxNameLength, maxProcesses);
  if (g.heapSize < 64) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `size ${size} is too small: the header and a ${maxEntries}-entry table need ${g.heapOffset} bytes before any structure`,
    );
  }
  return { g, mode };
}
