/**
 * `Segment.inspect(name)`: the segment's listing plus its geometry, heap usage,
 * metadata lock holder and every claimed name table entry with its structure decoded
 * (src/inspect/structures.ts). Read-only, lock-free and bounded: the table is read
 * without the metadata lock (which would make a live process wait), so it is read
 * again when the header's table version moved meanwhile, and any entry that does not
 * validate is reported as corrupt instead of failing the whole report.
 */
import { gaps } from "../segment/allocator.ts";
import { E, EntryState, H, S } from "../segment/format.ts";
import type { InspectOptions, SegmentReport, StructureReport } from "../segment/inspection.ts";
import { kindName } from "../segment/kinds.ts";
import { checkSegmentName } from "../segment/names.ts";
import type { Geometry } from "../segment/table.ts";
import { ShmError } from "../errors.ts";
import { type Bytes, Damage, type SegmentFile } from "./bytes.ts";
import { examine } from "./examine.ts";
import { ProcessTable } from "./proc.ts";
import { creatorRef, decode, type DecodeContext, type EntryFields, LAYOUTS } from "./structures.ts";
import { TypeNames } from "./types.ts";

const decoder = new TextDecoder("utf-8", { fatal: false });
/** Re-reads of the table when it changed while being read. */
const TABLE_ATTEMPTS = 4;

/**
 * Inspects `/dev/shm/<name>` (also `Segment.inspect`). NOT_FOUND when there is no such
 * file; any other file (foreign, corrupt, unreadable...) gets a report whose `state`
 * and `reason` say what it is, with no entries.
 *
 * @example
 * ```ts
 * import { inspectSegment, Segment, SharedMap, string, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-inspect-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * SharedMap.create(seg, "ages", string(16), u32, 100).set("ada", 36);
 * const [ages] = inspectSegment(seg.name).entries;
 * assert.deepEqual([ages.type, ages.fill, ages.capacity], ["map{key:string(16),value:u32}", 1, 100]);
 * ```
 */
export function inspectSegment(name: string, options: InspectOptions = {}): SegmentReport {
  checkSegmentName(name);
  const procs = new ProcessTable();
  const types = new TypeNames(options.types ?? []);
  const x = examine(name, procs, true);
  if (x === undefined) throw new ShmError("NOT_FOUND", `no segment named "${name}" in /dev/shm`);
  const time = Date.now();
  try {
    const { listing, file, header, geometry: g } = x;
    if (file === undefined || header === undefined || g === undefined) {
      return { ...listing, time, geometry: null, heap: null, metaLock: null, tableVersion: null, entries: [] };
    }
    let table: Row[] = [];
    let version = 0;
    for (let attempt = 0; attempt < TABLE_ATTEMPTS; attempt++) {
      version = file.read(H.tableVersion, 4).u32(0);
      table = readTable(file, g, procs, types);
      if (file.read(H.tableVersion, 4).u32(0) === version) break;
    }
    const entries = table.map((r) => r.report);
    const lockPid = file.read(H.lockOwner, 4).u32(0);
    const live = table.filter((r) => r.inHeap).map((r) => ({ offset: r.report.offset, size: r.report.size }));
    const free = gaps(live, g.heapOffset, g.heapOffset + g.heapSize);
    const freeBytes = free.reduce((s, e) => s + e.size, 0);
    return {
      ...listing,
      structures: entries.filter((e) => e.state === "ready").length,
      time,
      geometry: {
        maxEntries: g.maxEntries,
        maxNameLength: g.maxNameLength,
        maxProcesses: g.maxProcesses,
        tableOffset: g.tableOffset,
        heapOffset: g.heapOffset,
        heapSize: g.heapSize,
      },
      heap: {
        size: g.heapSize,
        used: g.heapSize - freeBytes,
        free: freeBytes,
        largestFree: free.reduce((s, e) => Math.max(s, e.size), 0),
      },
      metaLock: lockPid === 0 ? null : { pid: lockPid, alive: procs.alive(lockPid) },
      tableVersion: version,
      entries,
    };
  } catch (e) {
    if (!(e instanceof Damage)) throw e;
    return {
      ...x.listing,
      state: "corrupt",
      reason: e.message,
      time,
      geometry: null,
      heap: null,
      metaLock: null,
      tableVersion: null,
      entries: [],
    };
  } finally {
    x.done();
  }
}

/** A claimed entry's report, and whether its block lies inside the heap (counts as used memory). */
interface Row {
  report: StructureReport;
  inHeap: boolean;
}

/** Every claimed entry, in table order. */
function readTable(file: SegmentFile, g: Geometry, procs: ProcessTable, types: TypeNames): Row[] {
  const out: Row[] = [];
  const perChunk = Math.max(1, Math.floor((1 << 20) / g.entrySize));
  for (let first = 0; first < g.maxEntries; first += perChunk) {
    const count = Math.min(perChunk, g.maxEntries - first);
    const chunk = file.read(g.tableOffset + first * g.entrySize, count * g.entrySize);
    for (let i = 0; i < count; i++) {
      const at = i * g.entrySize;
      if (chunk.u32(at + E.state) === EntryState.FREE) continue;
      out.push(entry(file, g, chunk.slice(at, g.entrySize), first + i, procs, types));
    }
  }
  return out;
}

/** One claimed entry: validated as Segment's table.read does, then its block decoded. */
function entry(file: SegmentFile, g: Geometry, b: Bytes, index: number, procs: ProcessTable, types: TypeNames): Row {
  const state = b.u32(E.state);
  const nameLength = b.u32(E.nameLength);
  const nameOk = nameLength >= 1 && nameLength <= g.maxNameLength;
  const e: EntryFields = {
    index,
    name: nameOk ? decoder.decode(b.bytes.subarray(E.name, E.name + nameLength)) : "",
    kind: b.u32(E.kind),
    elemSize: b.u32(E.elemSize),
    typeHash: b.u32(E.typeHash),
    capacity: b.u64(E.capacity),
    offset: b.u64(E.offset),
    size: b.u64(E.size),
    creatorPid: b.u32(E.creatorPid),
    creatorStart: b.u64(E.creatorStart),
  };
  const base = (problem: string | null, st: StructureReport["state"]): StructureReport => ({
    name: e.name,
    index,
    state: st,
    kind: e.kind,
    kindName: kindName(e.kind),
    type: e.elemSize === 0 ? null : types.name(e.typeHash, e.elemSize),
    elemSize: e.elemSize,
    typeHash: e.typeHash,
    capacity: e.capacity,
    offset: e.offset,
    size: e.size,
    creator: creatorRef(procs, e.creatorPid, e.creatorStart),
    fill: null,
    counters: {},
    wraps: {},
    waiters: {},
    owner: null,
    holders: [],
    details: {},
    problem,
  });
  const bad = (problem: string): Row => ({ report: base(problem, "corrupt"), inHeap: false });
  if (state !== EntryState.RESERVED && state !== EntryState.READY) return bad(`entry state ${state}`);
  if (!nameOk) return bad(`name length ${nameLength}`);
  const heapEnd = g.heapOffset + g.heapSize;
  if (e.offset % 64 !== 0 || e.offset < g.heapOffset || e.size < 64 || e.size > heapEnd - e.offset) {
    return bad(`block [${e.offset}, +${e.size}) is not inside the heap [${g.heapOffset}, ${heapEnd})`);
  }
  // A reserved entry's block is being initialised (or was abandoned by a dead creator): do not decode it.
  if (state === EntryState.RESERVED) return { report: base(null, "reserved"), inHeap: true };
  const layout = LAYOUTS.get(e.kind);
  if (layout === undefined) return { report: base(`kind ${e.kind} is unknown to this reader`, "ready"), inHeap: true };
  try {
    if (S.size + layout.control > e.size) throw new Damage(`a ${e.size}-byte block cannot hold a ${kindName(e.kind)}`);
    const block = file.read(e.offset, S.size + layout.control);
    const dataOffset = block.u32(S.dataOffset);
    if (
      block.u32(S.kind) !== e.kind || block.u32(S.elemSize) !== e.elemSize || block.u32(S.typeHash) !== e.typeHash ||
      block.u64(S.capacity) !== e.capacity || dataOffset !== S.size + layout.control
    ) {
      throw new Damage("structure header does not match its name table entry");
    }
    if (!Number.isSafeInteger(e.capacity)) throw new Damage(`capacity ${e.capacity}`);
    const dataStart = e.offset + dataOffset;
    const dataEnd = e.offset + e.size;
    const ctx: DecodeContext = {
      entry: e,
      ctl: block.slice(S.size, layout.control),
      procs,
      types,
      data(o, n) {
        if (!(o >= 0 && n >= 0 && dataStart + o + n <= dataEnd)) throw new Damage(`data [+${o}, +${n}) outside the block`);
        return file.read(dataStart + o, n);
      },
    };
    return { report: { ...base(null, "ready"), ...decode(layout, ctx) }, inHeap: true };
  } catch (err) {
    if (!(err instanceof Damage)) throw err;
    return { report: base(err.message, "corrupt"), inHeap: true };
  }
}
