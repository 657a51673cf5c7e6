/**
 * A named POSIX shared memory segment: header, process registry, name table and
 * heap (docs/FORMAT.md). Creation is exclusive and publishes a READY state last, so
 * an opener never sees a half-made segment; every header field is validated on open.
 */
import { type Native, native } from "../../ffi/mod.ts";
import { blockSize, gaps, place } from "./allocator.ts";
import { Errno, osError, ShmError } from "../errors.ts";
import {
  FLAG_UNLINK_ON_LAST_CLOSE,
  H,
  MAX_ENTRIES,
  MAX_NAME_LENGTH,
  MAX_PROCESSES,
  MAX_SEGMENT_SIZE,
  PAGE,
  State,
} from "./format.ts";
import { corrupt, geometry, readGeometry, writeGeometry } from "./geometry.ts";
import { mapFd, unmap } from "./mapping.ts";
import type { Handle, HandleOwner } from "./handle.ts";
import { align, type Memory } from "./memory.ts";
import { lockMeta, unlockMeta } from "./meta_lock.ts";
import { checkEntryName, checkSegmentName } from "./names.ts";
import { isAlive, me } from "./process.ts";
import { attach, attachedPids, detach } from "./registry.ts";
import { blockBytes, checkEntry, type Placement, type StructureSpec, writeHeader } from "./structure.ts";
import * as table from "./table.ts";
import type { EntryInfo, Geometry } from "./table.ts";

export type { EntryInfo } from "./table.ts";

/** Options for Segment.create and Segment.openOrCreate. */
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
  /** Unlink the segment's name when the last attached process closes it (default false). */
  unlinkOnLastClose?: boolean;
}

/** Options for Segment.open. */
export interface OpenOptions {
  /** How long to wait for a segment that is still being created, in ms (default 5000). */
  timeoutMs?: number;
}

/** Usage of a segment's heap and name table. */
export interface SegmentStats {
  readonly size: number;
  readonly heapSize: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  /** The largest structure block that can still be allocated. */
  readonly largestFreeBlock: number;
  readonly entries: number;
  readonly maxEntries: number;
  readonly maxNameLength: number;
  readonly maxProcesses: number;
}

const HOW_OPEN = 0;
const HOW_CREATE = 1;
const LOCK_TIMEOUT_MS = 10_000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function intOption(v: unknown, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ShmError("INVALID_ARGUMENT", `${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
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
 * ```ts
 * using seg = Segment.create("demo", { size: 1 << 20 });
 * const counts = SharedArray.create(seg, "counts", u32, 100);
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

  private constructor(name: string, memory: Memory, g: Geometry, slot: number) {
    this.name = name;
    this.size = memory.size;
    this.memory = memory;
    this.#g = g;
    this.#slot = slot;
  }

  /** Creates a new segment; fails with EXISTS if the name is taken (the existing one is untouched). */
  static create(name: string, options: CreateOptions): Segment {
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
    const n = native();
    const fd = n.shmOpen(name, HOW_CREATE, mode);
    if (fd < 0) throw osError(fd, `creating segment "${name}"`);
    let m: Memory;
    try {
      const rc = n.resize(fd, g.totalSize);
      if (rc < 0) {
        n.close(fd);
        throw osError(rc, `sizing segment "${name}" to ${g.totalSize} bytes`);
      }
      m = mapFd(n, fd, g.totalSize, name);
    } catch (e) {
      n.shmUnlink(name);
      throw e;
    }
    // Creator identity first: an opener that finds it dead knows init will never finish.
    const self = me();
    m.setU64(H.creatorStart, self.start);
    m.u32[H.creatorPid >> 2] = self.pid;
    writeGeometry(m, g, options.unlinkOnLastClose ? FLAG_UNLINK_ON_LAST_CLOSE : 0);
    const slot = attach(m, g.maxProcesses);
    Atomics.store(m.u32, H.state >> 2, State.READY);
    n.futexWake(m.base, H.state, 0x7fffffff);
    return new Segment(name, m, g, slot);
  }

  /** Opens an existing segment, waiting (up to timeoutMs) for one still being created. */
  static open(name: string, options: OpenOptions = {}): Segment {
    checkSegmentName(name);
    const timeoutMs = intOption(options.timeoutMs, "timeoutMs", 0, 3_600_000, 5_000);
    const n = native();
    const fd = n.shmOpen(name, HOW_OPEN, 0);
    if (fd < 0) throw osError(fd, `opening segment "${name}"`);
    const deadline = performance.now() + timeoutMs;
    // The creator sizes the object right after creating it; wait out that window.
    let size = n.size(fd);
    while (size >= 0 && size < H.size && performance.now() < deadline) {
      sleep(1);
      size = n.size(fd);
    }
    if (size < 0) {
      n.close(fd);
      throw osError(size, `reading the size of segment "${name}"`);
    }
    if (size > MAX_SEGMENT_SIZE) {
      n.close(fd);
      throw new ShmError(
        "UNSUPPORTED",
        `segment "${name}" has ${size} bytes; this implementation maps at most ${MAX_SEGMENT_SIZE}`,
      );
    }
    if (size < H.size || size % 8 !== 0) {
      n.close(fd);
      if (size === 0) {
        throw new ShmError("NOT_READY", `segment "${name}" is still empty after ${timeoutMs} ms: its creator has not sized it`);
      }
      throw corrupt(name, `${size} bytes is not a valid segment size`);
    }
    const m = mapFd(n, fd, size, name);
    try {
      Segment.#awaitReady(n, m, name, deadline, timeoutMs);
      const g = readGeometry(m, name);
      const slot = Segment.#locked(m, g, () => attach(m, g.maxProcesses));
      return new Segment(name, m, g, slot);
    } catch (e) {
      unmap(n, m);
      throw e;
    }
  }

  /** Opens the segment if it exists, else creates it. Safe when several processes race. */
  static openOrCreate(name: string, options: CreateOptions & OpenOptions): Segment {
    for (let attempt = 0;; attempt++) {
      try {
        return Segment.create(name, options);
      } catch (e) {
        if (!(e instanceof ShmError) || e.code !== "EXISTS") throw e;
      }
      try {
        return Segment.open(name, options);
      } catch (e) {
        // Removed between our create and open attempts: try again, a few times.
        if (!(e instanceof ShmError) || e.code !== "NOT_FOUND" || attempt >= 10) throw e;
      }
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

  static #awaitReady(n: Native, m: Memory, name: string, deadline: number, timeoutMs: number): void {
    for (;;) {
      const state = Atomics.load(m.u32, H.state >> 2);
      if (state === State.READY) return;
      if (state !== State.INITIALISING) throw corrupt(name, `unknown state ${state}`);
      const creator = m.u32[H.creatorPid >> 2];
      if (creator !== 0 && !isAlive(creator, m.getU64(H.creatorStart))) {
        throw corrupt(name, `its creator (pid ${creator}) died before finishing initialisation; unlink it and create it again`);
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
    return this.#lock((m) => {
      const g = this.#g;
      const live = table.liveExtents(m, g);
      const free = gaps(live, g.heapOffset, g.heapOffset + g.heapSize);
      const freeBytes = free.reduce((s, e) => s + e.size, 0);
      return {
        size: g.totalSize,
        heapSize: g.heapSize,
        usedBytes: g.heapSize - freeBytes,
        freeBytes,
        largestFreeBlock: free.reduce((s, e) => Math.max(s, e.size), 0),
        entries: live.length,
        maxEntries: g.maxEntries,
        maxNameLength: g.maxNameLength,
        maxProcesses: g.maxProcesses,
      };
    });
  }

  /** Pids of the live processes that have this segment open (dead ones are swept). */
  processes(): number[] {
    return this.#lock((m) => attachedPids(m, this.#g.maxProcesses));
  }

  /** @internal Creates a structure entry and initialises its block. */
  createEntry(name: string, spec: StructureSpec, capacity: number): Placement {
    const bytes = checkEntryName(name, this.#g.maxNameLength);
    return this.#lock((m) => this.#create(m, name, bytes, spec, capacity));
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
      return this.#create(m, name, bytes, spec, capacity);
    });
  }

  #create(m: Memory, name: string, bytes: Uint8Array, spec: StructureSpec, capacity: number): Placement {
    const g = this.#g;
    const size = blockSize(blockBytes(spec, capacity));
    if (table.find(m, g, bytes) >= 0) {
      throw new ShmError("EXISTS", `a structure named "${name}" already exists in segment "${this.name}"`);
    }
    const index = table.freeSlot(m, g);
    if (index < 0) throw new ShmError("FULL", `segment "${this.name}" has no free name table entry (maxEntries ${g.maxEntries})`);
    const offset = size > g.heapSize ? -1 : place(table.liveExtents(m, g), g.heapOffset, g.heapOffset + g.heapSize, size);
    if (offset < 0) {
      throw new ShmError(
        "FULL",
        `segment "${this.name}" has no free block of ${size} bytes for "${name}" (heap ${g.heapSize} bytes)`,
      );
    }
    const self = me();
    const entry = {
      kind: spec.kind,
      elemSize: spec.type?.size ?? 0,
      typeHash: spec.type?.typeHash ?? 0,
      capacity,
      offset,
      size,
      pid: self.pid,
      start: self.start,
    };
    table.reserve(m, g, index, bytes, entry);
    m.u8.fill(0, offset, offset + size);
    writeHeader(m, offset, spec, capacity);
    const placement = checkEntry(m, table.read(m, g, index), spec);
    spec.init?.(m, offset, placement.data, capacity);
    table.publish(m, g, index);
    return placement;
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
   * With `unlinkOnLastClose`, the last live process to close also removes the name.
   * Idempotent.
   */
  close(): void {
    const m = this.memory;
    if (m.closed) return;
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

  [Symbol.dispose](): void {
    this.close();
  }
}
