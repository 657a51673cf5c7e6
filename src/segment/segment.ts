/**
 * A named POSIX shared memory segment: header, process registry, name table and
 * heap (docs/FORMAT.md). Creation builds the segment unnamed and names it only when
 * complete (lifecycle.ts), so an opener never sees a half-made one; a half-created
 * object left by a dead creator of another kind is reported at once and replaced by
 * openOrCreate; every header field is validated on open.
 */
import { type Native, native } from "../../ffi/mod.ts";
import { Errno, osError, ShmError } from "../errors.ts";
import { FLAG_UNLINK_ON_LAST_CLOSE, H, MAX_SEGMENT_SIZE, State } from "./format.ts";
import { corrupt, readGeometry, writeGeometry } from "./geometry.ts";
import { closeOnExit, forgetOnExit } from "./exits.ts";
import {
  createObject,
  halfCreated,
  isHalfCreated,
  lockedByOther,
  lockStale,
  publish,
  staleError,
  staleness,
  unlockStale,
} from "./lifecycle.ts";
import { unmap } from "./mapping.ts";
import type { Handle, HandleOwner } from "./handle.ts";
import { INSPECT_DENO, INSPECT_NODE } from "./inspect.ts";
import { Memory } from "./memory.ts";
import { lockMeta, unlockMeta } from "./meta_lock.ts";
import { type InspectOptions, inspector, type ListOptions, type SegmentListing, type SegmentReport } from "./inspection.ts";
import { checkEntryName, checkSegmentName } from "./names.ts";
import { type CreateOptions, intOption, type OpenOptions, type OpenOrCreateOptions, planCreate } from "./options.ts";
import { isAlive, me } from "./process.ts";
import { attach, attachedPids, detach } from "./registry.ts";
import { checkEntry, type Placement, type StructureSpec } from "./structure.ts";
import { createEntryLocked } from "./entries.ts";
import { type SegmentStats, segmentStats } from "./stats.ts";
import * as table from "./table.ts";
import type { EntryInfo, Geometry } from "./table.ts";

export type { EntryInfo } from "./table.ts";
export type { CreateOptions, OpenOptions, OpenOrCreateOptions } from "./options.ts";
export type { SegmentStats } from "./stats.ts";

const HOW_OPEN = 0;
const LOCK_TIMEOUT_MS = 10_000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Closes a handle for the segment; an error from one handle must not stop the others or the unmap. */
function closeQuietly(h: Handle): void {
  try {
    h.close();
  } catch {
    // The handle is closed as far as it can be; the segment's close goes on.
  }
}

/**
 * A named shared memory segment holding named structures.
 *
 * @example
 * ```ts
 * import { Segment, SharedArray, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-segment-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const counts = SharedArray.create(seg, "counts", u32, 100);
 * counts.set(7, 1);
 * using other = Segment.open(seg.name); // what another process does
 * assert.equal(SharedArray.open(other, "counts", u32).get(7), 1);
 * assert.deepEqual(seg.list().map((e) => e.name), ["counts"]);
 * ```
 */
export class Segment implements HandleOwner {
  /** The segment's name (without the /dev/shm/ prefix). */
  readonly name: string;
  /** Total mapped bytes. */
  readonly size: number;
  /** @internal The segment's typed views; structures use these. */
  readonly memory: Memory;
  readonly #g: Geometry;
  readonly #slot: number;
  readonly #handles = new Set<Handle>();

  private constructor(name: string, memory: Memory, g: Geometry, slot: number, options: { cleanupOnExit?: boolean }) {
    this.name = name;
    this.size = memory.size;
    this.memory = memory;
    this.#g = g;
    this.#slot = slot;
    // The header's flag, not the option: an opener of an unlinkOnLastClose segment cleans up too.
    if (options.cleanupOnExit !== false && (memory.u32[H.flags >> 2] & FLAG_UNLINK_ON_LAST_CLOSE) !== 0) closeOnExit(this);
  }

  /**
   * Creates a new segment; fails with EXISTS if the name is taken (the existing one is
   * untouched). The segment is built unnamed and named only once it is complete, so no
   * other process ever sees it half-made. When every process attached to the existing
   * segment is dead, the EXISTS error says so (reason STALE) and how to fix it;
   * `replaceStale: true` replaces such a segment atomically instead.
   */
  static create(name: string, options: CreateOptions): Segment {
    const deadline = performance.now() + 5_000;
    for (;;) {
      try {
        return Segment.#createNew(name, options);
      } catch (e) {
        if (!(e instanceof ShmError) || e.code !== "EXISTS") throw e;
        const dead = Segment.#stale(name);
        if (!dead) throw e;
        if (!options.replaceStale) throw staleError(name, dead);
        const s = Segment.#replace(name, options, "stale");
        if (s) return s;
        if (performance.now() > deadline) throw staleError(name, dead);
        sleep(1); // another process is replacing it, or it changed: look again
      }
    }
  }

  static #createNew(name: string, options: CreateOptions): Segment {
    const { g, mode } = planCreate(name, options);
    const n = native();
    const o = createObject(n, name, mode, g.totalSize);
    const slot = Segment.#init(n, o.memory, g, options);
    try {
      publish(n, o, name);
    } catch (e) {
      unmap(n, o.memory);
      throw e;
    }
    return new Segment(name, o.memory, g, slot, options);
  }

  /** The dead pids of the stale segment behind `name`, or undefined if it is not stale (or gone). */
  static #stale(name: string): number[] | undefined {
    const n = native();
    const fd = n.shmOpen(name, HOW_OPEN, 0);
    if (fd < 0) return undefined;
    try {
      return staleness(n, fd);
    } finally {
      n.close(fd);
    }
  }

  /** Writes a new object's header, registers this process, and marks it READY. */
  static #init(n: Native, m: Memory, g: Geometry, options: CreateOptions): number {
    // Creator identity first: an opener that finds it dead knows init will never finish.
    const self = me();
    m.setU64(H.creatorStart, self.start);
    m.u32[H.creatorPid >> 2] = self.pid;
    writeGeometry(m, g, options.unlinkOnLastClose ? FLAG_UNLINK_ON_LAST_CLOSE : 0);
    const slot = attach(m, g.maxProcesses);
    Atomics.store(m.u32, H.state >> 2, State.READY);
    n.futexWake(m.base, H.state, 0x7fffffff);
    return slot;
  }

  /** Opens an existing segment, waiting (up to timeoutMs) for one still being created. */
  static open(name: string, options: OpenOptions = {}): Segment {
    checkSegmentName(name);
    const timeoutMs = intOption(options.timeoutMs, "timeoutMs", 0, 3_600_000, 5_000);
    const n = native();
    const fd = n.shmOpen(name, HOW_OPEN, 0);
    if (fd < 0) throw osError(fd, `opening segment "${name}"`);
    const deadline = performance.now() + timeoutMs;
    let m: Memory | undefined;
    try {
      // Only a creator working in place (holding a flock) leaves an object short: wait for it.
      let size = n.size(fd);
      while (size >= 0 && size < H.size && lockedByOther(n, fd) && performance.now() < deadline) {
        sleep(1);
        size = n.size(fd);
      }
      if (size < 0) throw osError(size, `reading the size of segment "${name}"`);
      if (size > MAX_SEGMENT_SIZE) {
        throw new ShmError(
          "UNSUPPORTED",
          `segment "${name}" has ${size} bytes; this implementation maps at most ${MAX_SEGMENT_SIZE}`,
        );
      }
      if (size === 0) {
        if (lockedByOther(n, fd)) {
          throw new ShmError("NOT_READY", `segment "${name}" is still empty after ${timeoutMs} ms: its creator has not sized it`);
        }
        throw halfCreated(name, "the object is empty and no process is creating it");
      }
      if (size < H.size || size % 8 !== 0) throw corrupt(name, `${size} bytes is not a valid segment size`);
      const address = n.map(fd, size);
      if (address < 0) throw osError(address, `mapping segment "${name}" (${size} bytes)`);
      m = new Memory(address, n.view(address, size));
      Segment.#awaitReady(n, m, fd, name, deadline, timeoutMs);
      const g = readGeometry(m, name);
      const mm = m;
      const slot = Segment.#locked(mm, g, () => attach(mm, g.maxProcesses));
      return new Segment(name, m, g, slot, options);
    } catch (e) {
      if (m) unmap(n, m);
      throw e;
    } finally {
      n.close(fd);
    }
  }

  /**
   * Opens the segment if it exists, else creates it. Safe when several processes race.
   * A half-created segment (its creator died before finishing it: ShmError CORRUPT with
   * reason HALF_CREATED) is replaced by a new one unless `replaceHalfCreated` is false;
   * of several processes racing to replace it, one does and the others open its segment.
   * A stale segment (complete, every attached process dead) is opened as it is, or
   * replaced by a new one with `replaceStale: true` (the same way, one replacer wins).
   */
  static openOrCreate(name: string, options: CreateOptions & OpenOptions & OpenOrCreateOptions): Segment {
    const deadline = performance.now() + (options.timeoutMs ?? 5_000);
    for (let attempt = 0;; attempt++) {
      try {
        // Without replaceStale a stale segment is simply opened: no need to look at it first.
        return options.replaceStale ? Segment.create(name, options) : Segment.#createNew(name, options);
      } catch (e) {
        if (!(e instanceof ShmError) || e.code !== "EXISTS") throw e;
      }
      try {
        return Segment.open(name, options);
      } catch (e) {
        if (!(e instanceof ShmError)) throw e;
        if (e.reason === "HALF_CREATED" && options.replaceHalfCreated !== false) {
          const s = Segment.#replace(name, options, "half-created");
          if (s) return s;
          if (performance.now() > deadline) throw e;
          sleep(1); // another process is replacing it, or it changed: look again
          continue;
        }
        // Removed between our create and open attempts: try again, a few times.
        if (e.code !== "NOT_FOUND" || attempt >= 10) throw e;
      }
    }
  }

  /**
   * Replaces the half-created or stale object behind `name` with a new segment;
   * undefined when it is not (or no longer) so or another process holds it.
   */
  static #replace(name: string, options: CreateOptions, what: "half-created" | "stale"): Segment | undefined {
    const { g, mode } = planCreate(name, options);
    const n = native();
    const stale = n.shmOpen(name, HOW_OPEN, 0);
    if (stale < 0) return undefined;
    try {
      if (!lockStale(n, stale)) return undefined;
      try {
        if (what === "half-created" ? !isHalfCreated(n, stale) : !staleness(n, stale)) return undefined;
        const o = createObject(n, name, mode, g.totalSize, true);
        if (!o) return undefined; // no unnamed objects here: cannot replace atomically
        const slot = Segment.#init(n, o.memory, g, options);
        let named = false;
        try {
          named = publish(n, o, name, stale);
        } finally {
          if (!named) unmap(n, o.memory);
        }
        return named ? new Segment(name, o.memory, g, slot, options) : undefined;
      } finally {
        unlockStale(n, stale);
      }
    } finally {
      n.close(stale);
    }
  }

  /** Removes a segment's name. Processes that have it open keep using it. False if it did not exist. */
  static unlink(name: string): boolean {
    checkSegmentName(name);
    const rc = native().shmUnlink(name);
    if (rc === -Errno.ENOENT) return false;
    if (rc < 0) throw osError(rc, `unlinking segment "${name}"`);
    return true;
  }

  /**
   * Every shmkit segment in /dev/shm (foreign files too with `{ all: true }`): name,
   * size, format version, owner, mode, creation time, attached processes with their
   * liveness, state (ready, half-created, corrupt, ...). Read-only: nothing is mapped,
   * locked, registered or written, and no native library is needed (src/inspect/).
   *
   * @example
   * ```ts
   * import { Segment } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-seg-list-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const [s] = Segment.list({ prefix: seg.name });
   * assert.deepEqual([s.name, s.state, s.liveProcesses, s.structures], [seg.name, "ready", 1, 0]);
   * ```
   */
  static list(options?: ListOptions): SegmentListing[] {
    return inspector().list(options);
  }

  /**
   * One segment's listing plus its name table and, per structure, kind, element type,
   * capacity, fill, counters, waiters and owner (docs/CLI.md). Read-only, like
   * `Segment.list()`; a damaged segment is reported (`state`, `problem`), never
   * thrown. NOT_FOUND if there is no such file.
   *
   * @example
   * ```ts
   * import { Queue, Segment, u32 } from "@shmkit/shmkit";
   * import assert from "node:assert/strict";
   * using seg = Segment.create("doc-seg-inspect-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
   * const q = Queue.create(seg, "jobs", u32, 8);
   * q.push(7);
   * const [jobs] = Segment.inspect(seg.name).entries;
   * assert.deepEqual([jobs.name, jobs.kindName, jobs.type, jobs.fill], ["jobs", "queue", "u32", 1]);
   * assert.deepEqual(jobs.counters, { pushes: 1, pops: 0 });
   * ```
   */
  static inspect(name: string, options?: InspectOptions): SegmentReport {
    return inspector().inspect(name, options);
  }

  static #awaitReady(n: Native, m: Memory, fd: number, name: string, deadline: number, timeoutMs: number): void {
    for (;;) {
      const state = Atomics.load(m.u32, H.state >> 2);
      if (state === State.READY) return;
      if (state !== State.INITIALISING) throw corrupt(name, `unknown state ${state}`);
      const creator = m.u32[H.creatorPid >> 2];
      if (creator !== 0 && !isAlive(creator, m.getU64(H.creatorStart))) {
        throw halfCreated(name, `its creator (pid ${creator}) died before finishing initialisation`);
      }
      if (creator === 0 && !lockedByOther(n, fd)) {
        throw halfCreated(name, "its header was never marked ready and names no creator");
      }
      if (performance.now() >= deadline) {
        throw new ShmError("NOT_READY", `segment "${name}" is still being initialised after ${timeoutMs} ms`);
      }
      n.futexWait(m.base, H.state, State.INITIALISING, 1_000_000);
    }
  }

  /** Runs `fn` under the metadata lock, repairing first if a dead holder left work half-done. */
  static #locked<T>(m: Memory, g: Geometry, fn: () => T): T {
    if (lockMeta(m, LOCK_TIMEOUT_MS)) table.reclaimReserved(m, g);
    try {
      return fn();
    } finally {
      unlockMeta(m);
    }
  }

  #open(): Memory {
    const m = this.memory;
    if (m.closed) throw new ShmError("CLOSED", `segment "${this.name}" is closed`);
    return m;
  }

  #lock<T>(fn: (m: Memory) => T): T {
    const m = this.#open();
    return Segment.#locked(m, this.#g, () => fn(m));
  }

  /** True after close(). */
  get closed(): boolean {
    return this.memory.closed;
  }

  /** Name table capacity. */
  get maxEntries(): number {
    return this.#g.maxEntries;
  }

  /** Longest structure name, in UTF-8 bytes. */
  get maxNameLength(): number {
    return this.#g.maxNameLength;
  }

  /** Registry capacity: processes that can have this segment open at once. */
  get maxProcesses(): number {
    return this.#g.maxProcesses;
  }

  /** Every structure in the segment. */
  list(): EntryInfo[] {
    return this.#lock((m) => table.list(m, this.#g));
  }

  /** The entry named `name`, or undefined. */
  find(name: string): EntryInfo | undefined {
    const bytes = checkEntryName(name, this.#g.maxNameLength);
    return this.#lock((m) => {
      const i = table.find(m, this.#g, bytes);
      return i < 0 ? undefined : table.read(m, this.#g, i);
    });
  }

  /** True if a structure of that name exists in the segment. */
  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /**
   * Removes a structure and gives its memory back. Handles to it in this process are
   * closed; other processes must stop using it first (their handles are not told).
   */
  remove(name: string): void {
    const bytes = checkEntryName(name, this.#g.maxNameLength);
    this.#lock((m) => {
      const i = table.find(m, this.#g, bytes);
      if (i < 0) throw new ShmError("NOT_FOUND", `no structure named "${name}" in segment "${this.name}"`);
      const e = table.read(m, this.#g, i);
      // Close our handles before the block is freed: one holding a writer claim clears it
      // with a CAS, which must not land in a structure created in its place.
      for (const h of [...this.#handles]) if (h.offset === e.offset) closeQuietly(h);
      table.release(m, this.#g, i);
    });
  }

  /** Heap and table usage. */
  stats(): SegmentStats {
    return this.#lock((m) => segmentStats(m, this.#g));
  }

  /** Pids of the live processes that have this segment open (dead ones are swept). */
  processes(): number[] {
    return this.#lock((m) => attachedPids(m, this.#g.maxProcesses));
  }

  /** @internal Creates a structure entry and initialises its block. */
  createEntry(name: string, spec: StructureSpec, capacity: number): Placement {
    const bytes = checkEntryName(name, this.#g.maxNameLength);
    return this.#lock((m) => createEntryLocked(m, this.#g, this.name, name, bytes, spec, capacity));
  }

  /** @internal Opens a structure entry, checking its kind and element type. */
  openEntry(name: string, spec: StructureSpec): Placement {
    const bytes = checkEntryName(name, this.#g.maxNameLength);
    return this.#lock((m) => {
      const i = table.find(m, this.#g, bytes);
      if (i < 0) throw new ShmError("NOT_FOUND", `no structure named "${name}" in segment "${this.name}"`);
      return checkEntry(m, table.read(m, this.#g, i), spec);
    });
  }

  /** @internal Opens the entry if it exists (type-checked), else creates it; atomic across processes. */
  openOrCreateEntry(name: string, spec: StructureSpec, capacity: number): Placement {
    const bytes = checkEntryName(name, this.#g.maxNameLength);
    return this.#lock((m) => {
      const i = table.find(m, this.#g, bytes);
      if (i >= 0) return checkEntry(m, table.read(m, this.#g, i), spec);
      return createEntryLocked(m, this.#g, this.name, name, bytes, spec, capacity);
    });
  }

  /** @internal */
  track(h: Handle): void {
    this.#handles.add(h);
  }

  /** @internal */
  untrack(h: Handle): void {
    this.#handles.delete(h);
  }

  /**
   * Closes every handle from it (a RingBuffer producer or BroadcastRing writer gives its
   * claim back), then detaches and unmaps; every handle from it then throws CLOSED.
   * With `unlinkOnLastClose`, the last live process to close also removes the name
   * (and a process that ends without closing closes it then: docs/LIFECYCLE.md).
   * Idempotent.
   */
  close(): void {
    const m = this.memory;
    if (m.closed) return;
    forgetOnExit(this);
    const n = native();
    for (const h of [...this.#handles]) closeQuietly(h); // while the memory is still mapped
    try {
      Segment.#locked(m, this.#g, () => {
        detach(m, this.#slot);
        if ((m.u32[H.flags >> 2] & FLAG_UNLINK_ON_LAST_CLOSE) !== 0 && attachedPids(m, this.#g.maxProcesses).length === 0) {
          n.shmUnlink(this.name);
        }
      });
    } finally {
      this.#handles.clear();
      unmap(n, m);
    }
  }

  /** Removes the segment's name now (this handle stays usable until close). */
  unlink(): void {
    this.#open();
    Segment.unlink(this.name);
  }

  /** Closes the segment when a `using` block ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `Segment "demo" { size: 1048576, structures: 2, processes: [4242] }` (or `{ closed }`). */
  toString(): string {
    if (this.closed) return `Segment ${JSON.stringify(this.name)} { closed }`;
    try {
      return `Segment ${JSON.stringify(this.name)} { size: ${this.size}, structures: ${this.list().length}, ` +
        `processes: [${this.processes().join(", ")}] }`;
    } catch {
      return `Segment ${JSON.stringify(this.name)} { size: ${this.size} }`;
    }
  }

  /** What `Deno.inspect` / `console.log` prints in Deno: the summary, not the mapped memory. */
  [INSPECT_DENO](): string {
    return this.toString();
  }

  /** What `Bun.inspect` / `console.log` prints in Bun: the summary. */
  [INSPECT_NODE](): string {
    return this.toString();
  }
}
