/**
 * Examining one file in /dev/shm without changing anything: classify it (ready,
 * initialising, half-created, corrupt, unsupported, empty, unreadable, foreign),
 * validate the header as `Segment.open` does, and read the process registry. The
 * file is opened read-only and copied from with read(); nothing is mapped, locked,
 * registered or written. Every value read is treated as untrusted.
 */
import {
  FLAG_UNLINK_ON_LAST_CLOSE,
  FORMAT_VERSION,
  H,
  MAGIC,
  MAX_ENTRIES,
  MAX_NAME_LENGTH,
  MAX_PROCESSES,
  PAGE,
  REGISTRY_OFFSET,
  REGISTRY_SLOT,
} from "../segment/format.ts";
import type { AttachedProcess, ProcessRef, SegmentListing, SegmentState } from "../segment/inspection.ts";
import { geometry } from "../segment/geometry.ts";
import type { Geometry } from "../segment/table.ts";
import { type Bytes, Damage, SegmentFile } from "./bytes.ts";
import { close, describeError, type FileInfo, fstat, lstat, openRead, SHM_DIR, userName } from "./host.ts";
import type { ProcessTable } from "./proc.ts";

/** A half-created segment whose creator record is unreadable counts as stale after this long. */
const CREATION_GRACE_MS = 10_000;

/** The result of examining one file: the listing, and (when it is a segment) the open file. */
export interface Examined {
  listing: SegmentListing;
  /** Open read-only while the caller needs it (close with `done()`). */
  file: SegmentFile | undefined;
  header: Bytes | undefined;
  geometry: Geometry | undefined;
  /** Identity of the file examined (device and inode), 0 when it was not opened. */
  dev: number;
  ino: number;
  done(): void;
}

/** The path of a segment name. */
export function pathOf(name: string): string {
  return `${SHM_DIR}/${name}`;
}

/**
 * Geometry from a header, validated as Segment.open validates it (src/segment/geometry.ts
 * readGeometry, which needs a mapping); a reason string when it does not add up.
 */
export function headerGeometry(h: Bytes, fileSize: number): Geometry | string {
  if (h.u32(H.headerSize) !== H.size) return `header size ${h.u32(H.headerSize)}`;
  const totalSize = h.u64(H.totalSize);
  if (totalSize !== fileSize) return `header says ${totalSize} bytes, the file has ${fileSize}`;
  const maxEntries = h.u32(H.maxEntries);
  const maxNameLength = h.u32(H.maxNameLength);
  const maxProcesses = h.u32(H.maxProcesses);
  if (maxEntries < 1 || maxEntries > MAX_ENTRIES) return `maxEntries ${maxEntries}`;
  if (maxNameLength < 1 || maxNameLength > MAX_NAME_LENGTH) return `maxNameLength ${maxNameLength}`;
  if (maxProcesses < 1 || maxProcesses > MAX_PROCESSES) return `maxProcesses ${maxProcesses}`;
  const g = geometry(totalSize, maxEntries, maxNameLength, maxProcesses);
  if (
    h.u32(H.entrySize) !== g.entrySize || h.u64(H.tableOffset) !== g.tableOffset || h.u64(H.heapOffset) !== g.heapOffset ||
    h.u64(H.heapSize) !== g.heapSize || g.heapSize <= 0
  ) {
    return "table or heap geometry does not add up";
  }
  return g;
}

/**
 * True when a header without the magic number is one that `Segment.create` is in the
 * middle of writing: the creator record (written first) is there, and every other
 * field is either still zero or already holds the value creation writes.
 */
function creationInProgress(h: Bytes, fileSize: number): boolean {
  if (fileSize % PAGE !== 0 || h.u32(H.state) !== 0 || h.u64(H.creatorStart) === 0) return false;
  const headerSize = h.u32(H.headerSize);
  const totalSize = h.u64(H.totalSize);
  const version = h.u32(H.version);
  if (headerSize !== 0 && headerSize !== H.size) return false;
  if (totalSize !== 0 && totalSize !== fileSize) return false;
  if (version !== 0 && version !== FORMAT_VERSION) return false;
  if (h.u32(H.flags) > FLAG_UNLINK_ON_LAST_CLOSE) return false;
  return h.zero(H.creatorStart + 8, H.size - (H.creatorStart + 8)); // lock, table version, reserved: untouched
}

/** The registry's occupied slots. */
export function readRegistry(file: SegmentFile, g: Geometry, procs: ProcessTable): AttachedProcess[] {
  const r = file.read(REGISTRY_OFFSET, g.maxProcesses * REGISTRY_SLOT);
  const out: AttachedProcess[] = [];
  for (let i = 0; i < g.maxProcesses; i++) {
    const pid = r.u32(i * REGISTRY_SLOT);
    if (pid === 0) continue;
    const startTime = r.u64(i * REGISTRY_SLOT + 8);
    const raw = r.u32(i * REGISTRY_SLOT + 4);
    const tid = raw === 0 ? pid : raw; // 0: the process's main thread
    out.push({ slot: i, pid, tid, worker: tid !== pid, startTime, alive: procs.attachmentAlive(pid, startTime, raw) });
  }
  return out;
}

/** Counts READY entries of the name table, reading it in chunks of at most 1 MiB. */
export function countReady(file: SegmentFile, g: Geometry): number {
  const perChunk = Math.max(1, Math.floor((1 << 20) / g.entrySize));
  let n = 0;
  for (let first = 0; first < g.maxEntries; first += perChunk) {
    const count = Math.min(perChunk, g.maxEntries - first);
    const chunk = file.read(g.tableOffset + first * g.entrySize, count * g.entrySize);
    for (let i = 0; i < count; i++) if (chunk.u32(i * g.entrySize) === 2) n++;
  }
  return n;
}

interface Draft {
  state: SegmentState;
  reason: string;
  formatVersion: number | null;
  creator: ProcessRef | null;
  unlinkOnLastClose: boolean | null;
  attached: AttachedProcess[];
  structures: number | null;
}

function finish(name: string, st: FileInfo, d: Draft): SegmentListing {
  const live = d.attached.filter((p) => p.alive !== false).length;
  const dead = d.attached.length - live;
  return {
    name,
    path: pathOf(name),
    state: d.state,
    reason: d.reason,
    size: st.size,
    formatVersion: d.formatVersion,
    uid: st.uid,
    user: userName(st.uid),
    gid: st.gid,
    mode: st.mode,
    created: new Date(st.created).toISOString(),
    creator: d.creator,
    unlinkOnLastClose: d.unlinkOnLastClose,
    attached: d.attached,
    liveProcesses: live,
    deadProcesses: dead,
    structures: d.structures,
    stale: d.state === "half-created" || (d.state === "ready" && d.attached.length > 0 && live === 0),
  };
}

function draft(state: SegmentState, reason: string): Draft {
  return { state, reason, formatVersion: null, creator: null, unlinkOnLastClose: null, attached: [], structures: null };
}

/**
 * Examines `/dev/shm/<name>`. Undefined when there is no such file. With `keepOpen`,
 * the file of a ready segment stays open for the caller (`done()` closes it).
 */
export function examine(name: string, procs: ProcessTable, keepOpen = false): Examined | undefined {
  const path = pathOf(name);
  const before = lstat(path);
  if (typeof before === "string") {
    if (before === "ENOENT") return undefined;
    const st: FileInfo = { kind: "other", size: 0, uid: -1, gid: -1, mode: 0, dev: 0, ino: 0, created: 0 };
    return closed(finish(name, st, draft("unreadable", `cannot stat it: ${describeError(before)}`)));
  }
  if (before.kind !== "file") {
    const what = before.kind === "symlink" ? "a symbolic link" : before.kind === "directory" ? "a directory" : "a special file";
    return closed(finish(name, before, draft("foreign", `${what}, not a shared memory object`)));
  }
  const fd = openRead(path);
  if (typeof fd === "string") {
    if (fd === "ENOENT") return undefined;
    const why = describeError(fd);
    const state: SegmentState = fd === "ELOOP" ? "foreign" : "unreadable";
    const reason = fd === "EACCES" || fd === "EPERM"
      ? `${why}: mode ${before.mode.toString(8).padStart(4, "0")}, owned by ${userName(before.uid) ?? `uid ${before.uid}`}`
      : why;
    return closed(finish(name, before, draft(state, reason)));
  }
  let keep = false;
  try {
    const st = fstat(fd); // the file we actually opened (it may have been replaced since the lstat)
    const file = new SegmentFile(fd, st.size);
    const { d, header, geometry } = classify(file, st, procs);
    const listing = finish(name, st, d);
    if (keepOpen && d.state === "ready") {
      keep = true;
      return { listing, file, header, geometry, dev: st.dev, ino: st.ino, done: () => close(fd) };
    }
    return { ...closed(listing), dev: st.dev, ino: st.ino };
  } finally {
    if (!keep) close(fd);
  }
}

function closed(listing: SegmentListing): Examined {
  return { listing, file: undefined, header: undefined, geometry: undefined, dev: 0, ino: 0, done: () => {} };
}

function classify(file: SegmentFile, st: FileInfo, procs: ProcessTable): { d: Draft; header?: Bytes; geometry?: Geometry } {
  if (st.size === 0) {
    return {
      d: draft(
        "empty",
        "zero-length file: a segment whose creator died before sizing it, or another program's object; nothing marks it as shmkit's",
      ),
    };
  }
  if (st.size < H.size) return { d: draft("foreign", `${st.size} bytes: smaller than a shmkit header (${H.size})`) };
  let h: Bytes;
  try {
    h = file.read(0, H.size);
  } catch (e) {
    return { d: draft("unreadable", e instanceof Damage ? e.message : `reading the header failed: ${e}`) };
  }
  const magic = h.u32(H.magic);
  const creatorPid = h.u32(H.creatorPid);
  const creatorStart = h.u64(H.creatorStart);
  const d = draft("ready", "");
  if (magic !== MAGIC) {
    if (magic === 0 && h.zero(0, H.size)) {
      return {
        d: draft("empty", "its header is all zero bytes: a segment whose creator died before writing it, or another program's"),
      };
    }
    if (magic !== 0 || !creationInProgress(h, st.size)) return { d: draft("foreign", "no shmkit magic number") };
    d.creator = { pid: creatorPid, alive: creatorPid === 0 ? null : procs.alive(creatorPid, creatorStart) };
    return { d: creation(d, st), header: h };
  }
  d.formatVersion = h.u32(H.version);
  d.unlinkOnLastClose = (h.u32(H.flags) & FLAG_UNLINK_ON_LAST_CLOSE) !== 0;
  d.creator = { pid: creatorPid, alive: creatorPid === 0 ? null : procs.alive(creatorPid, creatorStart) };
  if (d.formatVersion !== FORMAT_VERSION) {
    d.state = "unsupported";
    d.reason = `format version ${d.formatVersion}; this reader knows version ${FORMAT_VERSION}`;
    return { d, header: h };
  }
  const state = h.u32(H.state);
  if (state === 0) return { d: creation(d, st), header: h };
  if (state !== 1) return { d: { ...d, state: "corrupt", reason: `unknown segment state ${state}` }, header: h };
  const g = headerGeometry(h, st.size);
  if (typeof g === "string") return { d: { ...d, state: "corrupt", reason: g }, header: h };
  try {
    d.attached = readRegistry(file, g, procs);
    d.structures = countReady(file, g);
  } catch (e) {
    return { d: { ...d, state: "corrupt", reason: e instanceof Damage ? e.message : String(e) }, header: h };
  }
  return { d, header: h, geometry: g };
}

/** A segment whose creation has not finished: still going (creator alive) or abandoned (creator dead). */
function creation(d: Draft, st: FileInfo): Draft {
  const c = d.creator;
  if (c !== null && c.pid !== 0) {
    if (c.alive === false) {
      return { ...d, state: "half-created", reason: `its creator (pid ${c.pid}) died before finishing initialisation` };
    }
    return { ...d, state: "initialising", reason: `being created by pid ${c.pid}` };
  }
  // Killed between writing its start time and its pid (nanoseconds), or not yet written: judge by age.
  const age = Date.now() - st.created;
  if (age > CREATION_GRACE_MS) {
    return { ...d, state: "half-created", reason: "initialisation never finished (no creator recorded)" };
  }
  return { ...d, state: "initialising", reason: "being created (no creator recorded yet)" };
}
