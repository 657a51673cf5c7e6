/**
 * The fuzz suite's template segment and its mutation targets (tests/fuzz.test.ts and
 * tests/workers/fuzz_worker.ts build it with the same code, so offsets agree; a layout
 * hash checks that). One structure of every kind, each between free gaps that hold a
 * canary pattern, and, per structure, the operations the fuzz runs on a damaged copy.
 */
import {
  Barrier,
  BroadcastRing,
  ConditionVariable,
  f64,
  Latch,
  Mutex,
  ObjectPool,
  Once,
  Queue,
  RingBuffer,
  RWLock,
  type Segment,
  Semaphore,
  SharedArray,
  SharedAtomic,
  SharedEvent,
  SharedMap,
  SharedSet,
  SpscQueue,
  Stack,
  u32,
  u8,
  Vector,
} from "../../mod.ts";
import { E, H, S } from "../../src/segment/format.ts";

/** Every structure kind the template holds, by the label used in reports. */
export const ALL_KINDS = [
  "array",
  "atomic",
  "queue",
  "spsc",
  "stack",
  "pool",
  "ring",
  "broadcast",
  "vector",
  "map",
  "set",
  "mutex",
  "rwlock",
  "semaphore",
  "barrier",
  "latch",
  "once",
  "event",
  "condvar",
] as const;
export type KindLabel = (typeof ALL_KINDS)[number];

export const TEMPLATE_OPTIONS = { size: 1 << 17, maxEntries: 48, maxNameLength: 16, maxProcesses: 8 };
export const CANARY = 0xa5;

/** Creates structure `kind` named `kind` in `seg` and puts some data in it. */
function make(seg: Segment, kind: KindLabel): void {
  switch (kind) {
    case "array":
      SharedArray.create(seg, kind, f64, 6).fill(2.5);
      return;
    case "atomic":
      SharedAtomic.create(seg, kind, u32, 7);
      return;
    case "queue": {
      const q = Queue.create(seg, kind, u32, 5);
      q.push(1), q.push(2);
      return;
    }
    case "spsc": {
      const q = SpscQueue.create(seg, kind, u32, 5);
      q.push(1), q.push(2);
      return;
    }
    case "stack": {
      const s = Stack.create(seg, kind, u32, 5);
      s.push(1), s.push(2);
      return;
    }
    case "pool": {
      const p = ObjectPool.create(seg, kind, u32, 4);
      p.set(p.acquire()!, 9);
      return;
    }
    case "ring": {
      const r = RingBuffer.create(seg, kind, u32, 5);
      r.push(1), r.push(2), r.releaseProducer();
      return;
    }
    case "broadcast": {
      const b = BroadcastRing.create(seg, kind, u32, 4);
      b.publish(1), b.publish(2), b.releaseWriter();
      return;
    }
    case "vector": {
      const v = Vector.create(seg, kind, u32, 6);
      v.push(1), v.push(2);
      return;
    }
    case "map": {
      const m = SharedMap.create(seg, kind, u32, u32, 6);
      m.set(1, 10), m.set(2, 20), m.set(3, 30), m.delete(2);
      return;
    }
    case "set": {
      const s = SharedSet.create(seg, kind, u32, 6);
      s.add(1), s.add(2), s.add(3), s.delete(2);
      return;
    }
    case "mutex":
      Mutex.create(seg, kind);
      return;
    case "rwlock":
      RWLock.create(seg, kind, { maxProcesses: 4 });
      return;
    case "semaphore":
      Semaphore.create(seg, kind, 2);
      return;
    case "barrier":
      Barrier.create(seg, kind, 2, { maxProcesses: 4 });
      return;
    case "latch":
      Latch.create(seg, kind, 2);
      return;
    case "once":
      Once.create(seg, kind);
      return;
    case "event":
      SharedEvent.create(seg, kind);
      return;
    case "condvar":
      ConditionVariable.create(seg, kind);
      Mutex.create(seg, "condvar.m");
      return;
  }
}

/** One structure's block in the template. */
export interface Block {
  readonly label: KindLabel | "condvar.m";
  readonly entry: number;
  readonly offset: number;
  readonly size: number;
  readonly data: number;
  readonly capacity: number;
}

export interface Template {
  readonly bytes: Uint8Array;
  readonly blocks: Block[];
  /** Free heap ranges holding the canary pattern. */
  readonly gaps: { offset: number; size: number }[];
  readonly heapOffset: number;
  readonly tableOffset: number;
  readonly entrySize: number;
  /** A digest of the layout, to check that parent and worker built the same one. */
  readonly hash: number;
}

/**
 * Builds the template in `seg` (fresh, TEMPLATE_OPTIONS): a 64-byte pad before every
 * structure, removed again, so every block has a free gap (canaries) on both sides.
 */
export function buildTemplate(seg: Segment, kinds: readonly KindLabel[]): Template {
  for (const k of kinds) {
    SharedArray.create(seg, `pad.${k}`, u8, 64);
    make(seg, k);
  }
  SharedArray.create(seg, "pad.end", u8, 64);
  for (const k of kinds) seg.remove(`pad.${k}`);
  seg.remove("pad.end");
  const m = seg.memory;
  const tableOffset = m.getU64(H.tableOffset);
  const entrySize = m.u32[H.entrySize >> 2];
  const heapOffset = m.getU64(H.heapOffset);
  const blocks: Block[] = [];
  for (let i = 0; i < seg.maxEntries; i++) {
    const at = tableOffset + i * entrySize;
    if (m.u32[(at + E.state) >> 2] !== 2) continue;
    const n = m.u32[(at + E.nameLength) >> 2];
    const label = new TextDecoder().decode(m.u8.slice(at + E.name, at + E.name + n)) as Block["label"];
    const offset = m.getU64(at + E.offset);
    blocks.push({
      label,
      entry: at,
      offset,
      size: m.getU64(at + E.size),
      data: offset + m.u32[(offset + S.dataOffset) >> 2],
      capacity: m.getU64(at + E.capacity),
    });
  }
  blocks.sort((a, b) => a.offset - b.offset);
  const gaps: { offset: number; size: number }[] = [];
  let cursor = heapOffset;
  for (const b of blocks) {
    if (b.offset > cursor) gaps.push({ offset: cursor, size: b.offset - cursor });
    cursor = b.offset + b.size;
  }
  if (cursor < m.size) gaps.push({ offset: cursor, size: m.size - cursor });
  for (const g of gaps) m.u8.fill(CANARY, g.offset, g.offset + g.size);
  let hash = 0x811c9dc5;
  for (const b of blocks) for (const v of [b.offset, b.size, b.data, b.entry]) hash = Math.imul(hash ^ v, 0x01000193) >>> 0;
  return { bytes: m.u8.slice(), blocks, gaps, heapOffset, tableOffset, entrySize, hash };
}

/** A field the fuzz overwrites: where, how wide, and what class of field it is. */
export interface Field {
  readonly target: string; // a kind label, or "segment"
  readonly cls: "header" | "registry" | "entry" | "struct-header" | "control" | "data";
  readonly name: string;
  readonly at: number;
  readonly width: 4 | 8;
  readonly capacity: number;
}

const HEADER_FIELDS: [string, number, 4 | 8][] = [
  ["magic", H.magic, 4],
  ["version", H.version, 4],
  ["state", H.state, 4],
  ["headerSize", H.headerSize, 4],
  ["totalSize", H.totalSize, 8],
  ["maxEntries", H.maxEntries, 4],
  ["maxNameLength", H.maxNameLength, 4],
  ["entrySize", H.entrySize, 4],
  ["maxProcesses", H.maxProcesses, 4],
  ["tableOffset", H.tableOffset, 8],
  ["heapOffset", H.heapOffset, 8],
  ["heapSize", H.heapSize, 8],
  ["creatorPid", H.creatorPid, 4],
  ["flags", H.flags, 4],
  ["creatorStart", H.creatorStart, 8],
  ["lockOwner", H.lockOwner, 4],
  ["lockWaiters", H.lockWaiters, 4],
  ["tableVersion", H.tableVersion, 4],
];

const ENTRY_FIELDS: [string, number, 4 | 8][] = [
  ["state", E.state, 4],
  ["generation", E.generation, 4],
  ["kind", E.kind, 4],
  ["elemSize", E.elemSize, 4],
  ["typeHash", E.typeHash, 4],
  ["nameLength", E.nameLength, 4],
  ["capacity", E.capacity, 8],
  ["offset", E.offset, 8],
  ["size", E.size, 8],
  ["creatorPid", E.creatorPid, 4],
  ["creatorStart", E.creatorStart, 8],
  ["name", E.name, 4],
];

const STRUCT_FIELDS: [string, number, 4 | 8][] = [
  ["kind", S.kind, 4],
  ["elemSize", S.elemSize, 4],
  ["typeHash", S.typeHash, 4],
  ["dataOffset", S.dataOffset, 4],
  ["capacity", S.capacity, 8],
];

/** Most data-area words fuzzed per structure (sequence words, links, free rings, flags). */
const MAX_DATA_WORDS = 48;

/** Every field of the template the fuzz targets. */
export function fieldsOf(t: Template): Field[] {
  const out: Field[] = [];
  for (const [name, at, width] of HEADER_FIELDS) out.push({ target: "segment", cls: "header", name, at, width, capacity: 0 });
  out.push({ target: "segment", cls: "registry", name: "slot0.pid", at: 256, width: 4, capacity: 0 });
  out.push({ target: "segment", cls: "registry", name: "slot0.start", at: 264, width: 8, capacity: 0 });
  for (const b of t.blocks) {
    const target = b.label === "condvar.m" ? "condvar" : b.label;
    for (const [name, off, width] of ENTRY_FIELDS) {
      out.push({ target, cls: "entry", name: `${b.label}.entry.${name}`, at: b.entry + off, width, capacity: b.capacity });
    }
    for (const [name, off, width] of STRUCT_FIELDS) {
      out.push({
        target,
        cls: "struct-header",
        name: `${b.label}.header.${name}`,
        at: b.offset + off,
        width,
        capacity: b.capacity,
      });
    }
    for (let at = b.offset + S.size; at < b.data; at += 4) {
      out.push({
        target,
        cls: "control",
        name: `${b.label}.control+${at - b.offset - S.size}`,
        at,
        width: 4,
        capacity: b.capacity,
      });
    }
    const words = Math.floor((b.offset + b.size - b.data) / 4);
    const step = Math.max(1, Math.ceil(words / MAX_DATA_WORDS));
    for (let k = 0; k < words; k += step) {
      const at = b.data + 4 * k;
      out.push({ target, cls: "data", name: `${b.label}.data+${4 * k}`, at, width: 4, capacity: b.capacity });
    }
  }
  return out;
}
