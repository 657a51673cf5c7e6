/**
 * The contract of read-only inspection (`Segment.list()`, `Segment.inspect(name)`):
 * the shapes of what they return, and the hook through which src/inspect/ provides
 * them. segment/ only defines the contract; the implementation reads /dev/shm and
 * /proc with `node:fs` from src/inspect/ (a layer above), which installs itself when
 * it is imported — mod.ts does that, so `import { Segment } from "@shmkit/shmkit"`
 * always has it. docs/CLI.md documents every field.
 */
import { ShmError } from "../errors.ts";
import type { ElementType } from "./elements.ts";

/**
 * Where a file in /dev/shm stands:
 * - `ready`: a shmkit segment, initialised and valid;
 * - `initialising`: being created right now (its creator is alive);
 * - `half-created`: its creator died before finishing initialisation (stale);
 * - `corrupt`: has the shmkit magic number but fails validation;
 * - `unsupported`: a shmkit segment of another format version;
 * - `empty`: zero bytes — a creator killed before sizing it, or another program's;
 *   nothing identifies it as shmkit, so it is never removed without `force`;
 * - `unreadable`: this user may not read it (the reason says why);
 * - `foreign`: not a shmkit segment (never touched).
 *
 * @example
 * ```ts
 * import { Segment, type SegmentState } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-state-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const state: SegmentState = Segment.inspect(seg.name).state;
 * assert.equal(state, "ready");
 * ```
 */
export type SegmentState =
  | "ready"
  | "initialising"
  | "half-created"
  | "corrupt"
  | "unsupported"
  | "empty"
  | "unreadable"
  | "foreign";

/**
 * A process named by the segment: its registry slot, or a structure's owner record.
 *
 * @example
 * ```ts
 * import { type ProcessRef, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-process-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const creator: ProcessRef | null = Segment.inspect(seg.name).creator;
 * assert.equal(creator?.alive, true);
 * ```
 */
export interface ProcessRef {
  /** The process id. */
  readonly pid: number;
  /**
   * True while a process with that pid runs (not a zombie) and, where a start time is
   * recorded, started at that time; false once it is gone; null when /proc does not
   * tell (another user's process under `hidepid`): treated as alive by `gc`.
   */
  readonly alive: boolean | null;
}

/**
 * One slot of the segment's process registry: a process, or one Worker thread of a
 * process (each Worker that opens the segment takes its own slot).
 *
 * @example
 * ```ts
 * import { type AttachedProcess, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-attached-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const [me]: readonly AttachedProcess[] = Segment.inspect(seg.name).attached;
 * assert.deepEqual([me.slot, me.alive, me.pid > 0], [0, true, true]);
 * ```
 */
export interface AttachedProcess extends ProcessRef {
  /** Registry slot index. */
  readonly slot: number;
  /** The thread that opened it: the pid for a process's main thread, else a Worker's kernel thread id. */
  readonly tid: number;
  /** True for a Worker's own attachment (alive while that thread exists, /proc/<pid>/task/<tid>). */
  readonly worker: boolean;
  /** The process's start time recorded at attach (clock ticks after boot, /proc/<pid>/stat field 22). */
  readonly startTime: number;
}

/**
 * What `Segment.list()` says about one file in /dev/shm.
 *
 * @example
 * ```ts
 * import { Segment, type SegmentListing } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-listing-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const [s]: SegmentListing[] = Segment.list({ prefix: seg.name });
 * assert.deepEqual([s.state, s.liveProcesses, s.deadProcesses, s.stale], ["ready", 1, 0, false]);
 * assert.equal(s.formatVersion, 1);
 * ```
 */
export interface SegmentListing {
  /** The segment name (the file name in /dev/shm). */
  readonly name: string;
  /** `/dev/shm/<name>`. */
  readonly path: string;
  /** What the file is (see SegmentState). */
  readonly state: SegmentState;
  /** Why the state is not `ready` (empty string when it is). */
  readonly reason: string;
  /** File size in bytes. */
  readonly size: number;
  /** The header's format version, or null when there is no shmkit header. */
  readonly formatVersion: number | null;
  /** Owner user id (-1 when the file could not even be stat'ed). */
  readonly uid: number;
  /** The owner's name from /etc/passwd, or null. */
  readonly user: string | null;
  /** Owner group id. */
  readonly gid: number;
  /** Permission bits, e.g. 0o600 (JSON: 384). */
  readonly mode: number;
  /** When the file was created (its birth time, or its change time where the file system has none), ISO 8601. */
  readonly created: string;
  /** The creator recorded in the header (pid and liveness), or null. */
  readonly creator: ProcessRef | null;
  /** Unlink-on-last-close flag, or null when unknown. */
  readonly unlinkOnLastClose: boolean | null;
  /** Every occupied registry slot: the processes that have the segment open (or died with it open). */
  readonly attached: readonly AttachedProcess[];
  /** Attachments (processes and Workers) that are alive (alive !== false). */
  readonly liveProcesses: number;
  /** Attachments that are dead (alive === false): the process or Worker ended with the segment open. */
  readonly deadProcesses: number;
  /** Ready structures in the name table, or null when the table was not read. */
  readonly structures: number | null;
  /**
   * True when `gc` would remove it: a ready segment with at least one attached process
   * and every one of them dead, or a half-created one.
   */
  readonly stale: boolean;
}

/**
 * A structure's owner, writer or producer (from its claim word or owner record).
 *
 * @example
 * ```ts
 * import { f64, type OwnerRef, RingBuffer, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-owner-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * RingBuffer.create(seg, "samples", f64, 16).push(1.5); // the first push claims the producer role
 * const owner: OwnerRef | null = Segment.inspect(seg.name).entries[0].owner;
 * assert.deepEqual([owner?.role, owner?.alive], ["producer", true]);
 * ```
 */
export interface OwnerRef extends ProcessRef {
  /** "producer", "writer", "owner" (mutex), "runner" (once). */
  readonly role: string;
}

/**
 * A process holding part of a structure: semaphore permits, read locks, pool slots, barrier arrivals.
 *
 * @example
 * ```ts
 * import { type HolderRef, Segment, Semaphore } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-holder-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * using _permit = Semaphore.create(seg, "slots", 2).acquire();
 * const [h]: readonly HolderRef[] = Segment.inspect(seg.name).entries[0].holders;
 * assert.deepEqual([h.role, h.count, h.alive], ["permits", 1, true]);
 * ```
 */
export interface HolderRef extends ProcessRef {
  /** "permits", "reader", "slots", "waiting". */
  readonly role: string;
  /** How many (permits, read locks, slots, parties). */
  readonly count: number;
}

/**
 * What `Segment.inspect(name)` says about one name table entry.
 *
 * @example
 * ```ts
 * import { Queue, Segment, type StructureReport, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-structure-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "jobs", u32, 8);
 * q.push(1);
 * q.push(2);
 * q.pop();
 * const jobs: StructureReport = Segment.inspect(seg.name).entries[0];
 * assert.deepEqual([jobs.name, jobs.kindName, jobs.type, jobs.capacity, jobs.fill], ["jobs", "queue", "u32", 8, 1]);
 * assert.deepEqual(jobs.counters, { pushes: 2, pops: 1 });
 * ```
 */
export interface StructureReport {
  /** The structure's name in the segment. */
  readonly name: string;
  /** Name table index. */
  readonly index: number;
  /** `ready`, `reserved` (being created, or left by a creator that died) or `corrupt` (see `problem`). */
  readonly state: "ready" | "reserved" | "corrupt";
  /** Kind tag (docs/FORMAT.md). */
  readonly kind: number;
  /** "queue", "ring", "mutex", ... */
  readonly kindName: string;
  /**
   * The element type as written in code ("u32", "string(16)", "f64[3]"; maps and sets:
   * "map{key:K,value:V}", "set{key:K}"), found from the stored type hash; null when the
   * hash is not a type this reader can name (structs: pass them in `InspectOptions.types`).
   */
  readonly type: string | null;
  /** Bytes per element (0 for structures without elements). */
  readonly elemSize: number;
  /** FNV-1a hash of the element type's signature, as stored. */
  readonly typeHash: number;
  /** Capacity as the structure counts it (elements, permits' slots, entries for maps). */
  readonly capacity: number;
  /** Byte offset of the structure's block in the segment. */
  readonly offset: number;
  /** Bytes of the block. */
  readonly size: number;
  /** Who created it. */
  readonly creator: ProcessRef;
  /** Elements held now (queue length, ring fill, map entries, vector length...); null for kinds without one. */
  readonly fill: number | null;
  /** Counters from which rates follow: pushes, pops, published, appends, recovered... (docs/CLI.md). */
  readonly counters: Readonly<Record<string, number>>;
  /** For each counter that wraps around, its modulus (2^32 for u32 positions). */
  readonly wraps: Readonly<Record<string, number>>;
  /** Processes parked on each of its wait words ("notEmpty", "notFull", "lock"...). */
  readonly waiters: Readonly<Record<string, number>>;
  /** Producer / writer / lock owner, or null when none holds it. */
  readonly owner: OwnerRef | null;
  /** Processes holding permits, read locks, slots or waiting at a barrier. */
  readonly holders: readonly HolderRef[];
  /** Kind-specific state: `permits`, `broken`, `generation`, `set`, `done`... */
  readonly details: Readonly<Record<string, number | string | boolean>>;
  /** Why the entry or its block does not validate, or null. */
  readonly problem: string | null;
}

/**
 * What `Segment.inspect(name)` returns: the listing plus geometry, heap, lock and structures.
 *
 * @example
 * ```ts
 * import { Segment, type SegmentReport } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-report-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const r: SegmentReport = Segment.inspect(seg.name);
 * assert.equal(r.metaLock, null); // nobody holds the metadata lock
 * assert.equal(r.heap!.used, 0);
 * assert.equal(r.geometry!.maxEntries, 256);
 * ```
 */
export interface SegmentReport extends SegmentListing {
  /** When it was read (ms since the epoch, with fractions): rates are counter deltas over time deltas. */
  readonly time: number;
  /** The validated header geometry, or null when the header did not validate. */
  readonly geometry: {
    readonly maxEntries: number;
    readonly maxNameLength: number;
    readonly maxProcesses: number;
    readonly tableOffset: number;
    readonly heapOffset: number;
    readonly heapSize: number;
  } | null;
  /** Heap usage (bytes), or null. */
  readonly heap: { readonly size: number; readonly used: number; readonly free: number; readonly largestFree: number } | null;
  /** The metadata lock's holder, or null when it is free (`pid` is the holding thread's id: the pid for a main thread). */
  readonly metaLock: ProcessRef | null;
  /** The header's table version (bumped on every table change), or null. */
  readonly tableVersion: number | null;
  /** Every claimed name table entry. */
  readonly entries: readonly StructureReport[];
}

/**
 * Options of `Segment.list()`.
 *
 * @example
 * ```ts
 * import { type ListOptions, Segment } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-listopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const options: ListOptions = { prefix: seg.name, all: true };
 * assert.deepEqual(Segment.list(options).map((s) => s.name), [seg.name]);
 * ```
 */
export interface ListOptions {
  /** Also list foreign files (not shmkit segments). Default false. */
  all?: boolean;
  /** Only names starting with this. */
  prefix?: string;
}

/**
 * Options of `Segment.inspect()`.
 *
 * @example
 * ```ts
 * import { f64, type InspectOptions, Segment, SharedArray, struct } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-inspectopts-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const Point = struct({ x: f64, y: f64 });
 * SharedArray.create(seg, "points", Point, 10);
 * const options: InspectOptions = { types: [Point] };
 * assert.equal(Segment.inspect(seg.name, options).entries[0].type, "struct{x:f64,y:f64}");
 * assert.equal(Segment.inspect(seg.name).entries[0].type, null); // a struct is named only when passed
 * ```
 */
export interface InspectOptions {
  /** Element types to name structures by (struct types cannot be named from their hash alone). */
  types?: readonly ElementType<unknown>[];
}

/** What src/inspect/ provides. */
export interface Inspector {
  list(options?: ListOptions): SegmentListing[];
  inspect(name: string, options?: InspectOptions): SegmentReport;
}

let installed: Inspector | undefined;

/** @internal Called by src/inspect/ when it is loaded. */
export function installInspector(i: Inspector): void {
  installed = i;
}

/** @internal The installed inspector; UNSUPPORTED if src/inspect/ was never imported. */
export function inspector(): Inspector {
  if (installed === undefined) {
    throw new ShmError(
      "UNSUPPORTED",
      "Segment.list()/inspect() need shmkit's inspection module: import Segment from mod.ts (or import src/inspect/mod.ts)",
    );
  }
  return installed;
}
