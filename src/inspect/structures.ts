/**
 * Per-kind decoding of structure blocks for inspection: what each kind's control area
 * says about fill, counters, waiters and owners. Offsets are those of docs/FORMAT.md,
 * docs/WAITING.md and docs/MAP.md (the format is the contract, as for the C reader in
 * tests/c/shmkit_peek.c); tests/inspect.test.ts checks every decoder against live
 * structures, so a layout change that forgets this file fails there.
 *
 * Adding a counter is one line in its kind's `counters`, e.g.
 *   `u32Counter("recovered", 20)`   // a u32 at control + 20, wrapping at 2^32
 * and it then shows in `shmkit inspect`, `--json`, `watch` (as a rate) and the page.
 */
import { Kind } from "../segment/kinds.ts";
import type { HolderRef, OwnerRef, ProcessRef } from "../segment/inspection.ts";
import { type Bytes, Damage } from "./bytes.ts";
import type { ProcessTable } from "./proc.ts";
import type { TypeNames } from "./types.ts";

const TWO_31 = 2 ** 31;
const TWO_32 = 2 ** 32;
/** Owner words: pid in the low 30 bits, bit 30 set while a waiter may be parked (src/sync/owner.ts). */
const PID_MASK = 0x3fff_ffff;
const WAITERS_BIT = 0x4000_0000;
/** Per-process slots (src/sync/process_slots.ts): pid i32, state i32, start u64. */
const SLOT = 16;
/** Most per-process slots / pool records read for holders (1 MiB). */
const MAX_SLOTS_READ = 1 << 16;

/** The name table entry of the structure being decoded. */
export interface EntryFields {
  readonly index: number;
  readonly name: string;
  readonly kind: number;
  readonly elemSize: number;
  readonly typeHash: number;
  readonly capacity: number;
  readonly offset: number;
  readonly size: number;
  readonly creatorPid: number;
  readonly creatorStart: number;
}

/** What a decoder reads from. */
export interface DecodeContext {
  readonly entry: EntryFields;
  /** The control area (block + 64, `control` bytes). */
  readonly ctl: Bytes;
  readonly procs: ProcessTable;
  readonly types: TypeNames;
  /** Bytes [o, o + n) of the data area, checked to lie inside the block. */
  data(o: number, n: number): Bytes;
}

/** What a decoder fills in. */
export interface Decoded {
  type: string | null;
  capacity: number;
  fill: number | null;
  counters: Record<string, number>;
  wraps: Record<string, number>;
  waiters: Record<string, number>;
  owner: OwnerRef | null;
  holders: HolderRef[];
  details: Record<string, number | string | boolean>;
}

/** A counter: how to read it, and its modulus when it wraps. */
export interface Counter {
  readonly name: string;
  read(c: DecodeContext): number;
  readonly wrap?: number;
}

/** How to read one kind. */
export interface KindLayout {
  /** Control bytes between the 64-byte header and the data (the block header's dataOffset - 64). */
  readonly control: number;
  readonly counters?: readonly Counter[];
  /** i32 waiter counts in the control area (the `waiters` half of an eventcount, at `at`). */
  readonly waiters?: readonly { readonly name: string; readonly at: number }[];
  decode?(c: DecodeContext, out: Decoded): void;
}

/** A u32 at control + `at`, wrapping at 2^32 (free-running positions, recovery counts). */
export function u32Counter(name: string, at: number, minusCapacity = false): Counter {
  return { name, wrap: TWO_32, read: (c) => (c.ctl.u32(at) - (minusCapacity ? c.entry.capacity : 0) + TWO_32) % TWO_32 };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function ownerOf(role: string, pid: number, alive: boolean | null): OwnerRef {
  return { role, pid, alive };
}

/** A claim word (u64: pid × 2^31 + start time mod 2^31, src/structures/writer_claim.ts). */
function claim(c: DecodeContext, at: number, role: string): OwnerRef | null {
  const v = c.ctl.u64(at);
  if (v === 0) return null;
  const pid = Math.floor(v / TWO_31);
  return ownerOf(role, pid, c.procs.alive(pid, v % TWO_31, TWO_31));
}

/** An owner word at `word` with its owner record at `record` (src/sync/owner.ts). */
function lockOwner(c: DecodeContext, word: number, record: number, role: string): OwnerRef | null {
  const w = c.ctl.i32(word);
  const pid = w & PID_MASK;
  if (pid === 0) return null;
  const recorded = c.ctl.i32(record) === pid;
  return ownerOf(role, pid, recorded ? c.procs.alive(pid, c.ctl.u64(record + 8)) : c.procs.alive(pid));
}

/** Occupied per-process slots (pid > 0) of a sync primitive's data area, with their state word. */
function slots(c: DecodeContext): { pid: number; state: number; alive: boolean | null }[] {
  const n = c.entry.capacity;
  if (n > MAX_SLOTS_READ) throw new Damage(`${n} process slots (at most ${MAX_SLOTS_READ} are read)`);
  const d = c.data(0, n * SLOT);
  const out = [];
  for (let i = 0; i < n; i++) {
    const pid = d.i32(i * SLOT);
    if (pid > 0) out.push({ pid, state: d.i32(i * SLOT + 4), alive: c.procs.alive(pid, d.u64(i * SLOT + 8)) });
  }
  return out;
}

function holder(role: string, p: { pid: number; alive: boolean | null }, count: number): HolderRef {
  return { role, pid: p.pid, alive: p.alive, count };
}

const NO_CONTROL: KindLayout = { control: 0 };

/** Every kind this reader knows. Unknown kinds are reported with their entry only. */
export const LAYOUTS: ReadonlyMap<number, KindLayout> = new Map<number, KindLayout>([
  [Kind.ARRAY, NO_CONTROL],
  [Kind.ATOMIC, {
    control: 0,
    decode(c, out) {
      const size = c.entry.elemSize;
      const type = out.type;
      if (size === 4) out.details.value = type === "u32" ? c.data(0, 4).u32(0) : c.data(0, 4).i32(0);
      else if (size === 8) {
        const big = c.data(0, 8).big64(0, type !== "u64");
        out.details.value = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(big)
          : String(big);
      }
    },
  }],
  [Kind.QUEUE, {
    control: 128,
    counters: [u32Counter("pushes", 0), u32Counter("pops", 64)],
    waiters: [{ name: "notEmpty", at: 12 }, { name: "notFull", at: 76 }],
    decode(c, out) {
      out.fill = clamp((c.ctl.u32(0) - c.ctl.u32(64)) | 0, 0, c.entry.capacity);
    },
  }],
  [Kind.SPSC_QUEUE, {
    control: 128,
    waiters: [{ name: "notEmpty", at: 12 }, { name: "notFull", at: 76 }],
    decode(c, out) {
      const slotCount = c.entry.capacity + 1;
      const w = c.ctl.u32(0);
      const r = c.ctl.u32(64);
      if (w >= slotCount || r >= slotCount) throw new Damage(`index ${w >= slotCount ? w : r} outside [0, ${slotCount})`);
      out.fill = (w - r + slotCount) % slotCount;
    },
  }],
  [Kind.STACK, {
    control: 256,
    // A push takes a free node (free-ring dequeue), a pop gives it back (enqueue, which starts at capacity).
    counters: [u32Counter("pushes", 128), u32Counter("pops", 64, true)],
    waiters: [{ name: "notEmpty", at: 12 }, { name: "notFull", at: 20 }],
    decode(c, out) {
      out.fill = clamp(c.ctl.i32(192), 0, c.entry.capacity);
    },
  }],
  [Kind.POOL, {
    control: 128,
    counters: [u32Counter("acquires", 64), u32Counter("releases", 0, true)],
    waiters: [{ name: "slotFree", at: 12 }],
    decode(c, out) {
      const cap = c.entry.capacity;
      const free = clamp((c.ctl.u32(0) - c.ctl.u32(64)) | 0, 0, cap);
      out.fill = cap - free;
      out.details.available = free;
      if (cap > MAX_SLOTS_READ) return;
      // Slot records follow the elements (64-aligned): i32 state (bit 31 in use), u32 pid, u32 start time low bits.
      const records = c.data(Math.ceil((cap * c.entry.elemSize) / 64) * 64, cap * 16);
      const byPid = new Map<number, { count: number; start: number }>();
      for (let s = 0; s < cap; s++) {
        if ((records.u32(s * 16) & 0x8000_0000) === 0) continue;
        const pid = records.u32(s * 16 + 4);
        if (pid === 0) continue; // no holder recorded (a writer that skipped it): counted in fill, attributed to nobody
        const h = byPid.get(pid) ?? { count: 0, start: records.u32(s * 16 + 8) };
        h.count++;
        byPid.set(pid, h);
      }
      for (const [pid, h] of byPid) {
        out.holders.push(holder("slots", { pid, alive: c.procs.alive(pid, h.start, TWO_32) }, h.count));
      }
    },
  }],
  [Kind.RING, {
    control: 128,
    waiters: [{ name: "notEmpty", at: 12 }, { name: "notFull", at: 76 }],
    decode(c, out) {
      const cap = c.entry.capacity;
      if (cap < 1 || cap > 2 ** 30) throw new Damage(`ring capacity ${cap}`);
      const M = cap * Math.floor(TWO_31 / cap);
      const head = c.ctl.i32(0);
      const tail = c.ctl.i32(64);
      if (head < 0 || head >= M || tail < 0 || tail >= M) {
        throw new Damage(`position ${head < 0 || head >= M ? head : tail} outside [0, ${M})`);
      }
      let epoch = c.ctl.u32(4);
      if ((epoch & 1) !== (head >= Math.floor(M / 2) ? 1 : 0)) epoch = (epoch + TWO_32 - 1) % TWO_32;
      const d = head - tail;
      const fill = Math.min(d < 0 ? d + M : d, cap);
      const written = Math.floor(epoch / 2) * M + head;
      out.fill = fill;
      // Pops count what left the ring: consumed, or dropped by an overwriting push.
      out.counters.pushes = written;
      out.counters.pops = written - fill;
      out.owner = claim(c, 16, "producer");
    },
  }],
  [Kind.BROADCAST, {
    control: 128,
    waiters: [{ name: "newMessage", at: 12 }],
    decode(c, out) {
      const lo = c.ctl.u32(0);
      let ep = c.ctl.u32(4);
      if ((ep & 1) !== lo >>> 31) ep = (ep + TWO_32 - 1) % TWO_32;
      const published = Math.floor(ep / 2) * TWO_32 + lo;
      out.counters.published = published;
      out.fill = Math.min(published, c.entry.capacity); // messages retained for readers
      out.owner = claim(c, 64, "writer");
    },
  }],
  [Kind.VECTOR, {
    control: 128,
    decode(c, out) {
      const committed = clamp(c.ctl.i32(64), 0, c.entry.capacity);
      out.fill = committed;
      out.counters.appends = committed;
      out.details.reserved = clamp(c.ctl.i32(0), 0, c.entry.capacity);
    },
  }],
  [Kind.MAP, { control: 192, decode: (c, out) => hashTable(c, out, true) }],
  [Kind.SET, { control: 192, decode: (c, out) => hashTable(c, out, false) }],
  [Kind.MUTEX, {
    control: 64,
    counters: [u32Counter("recovered", 4)],
    decode(c, out) {
      const w = c.ctl.i32(0);
      out.owner = lockOwner(c, 0, 16, "owner");
      out.details.locked = (w & PID_MASK) !== 0;
      out.waiters.lock = (w & WAITERS_BIT) !== 0 ? 1 : 0; // a bit: "someone may be parked"
    },
  }],
  [Kind.RWLOCK, {
    control: 64,
    counters: [u32Counter("recovered", 12)],
    waiters: [{ name: "drain", at: 8 }],
    decode(c, out) {
      out.owner = lockOwner(c, 0, 16, "writer");
      out.waiters.lock = (c.ctl.i32(0) & WAITERS_BIT) !== 0 ? 1 : 0;
      out.details.readers = listHolders(c, out, "reader");
    },
  }],
  [Kind.SEMAPHORE, {
    control: 64,
    counters: [u32Counter("recovered", 12)],
    waiters: [{ name: "permits", at: 4 }],
    decode(c, out) {
      out.details.permits = c.ctl.i32(0);
      out.details.initial = c.ctl.u32(8);
      out.details.held = listHolders(c, out, "permits");
    },
  }],
  [Kind.BARRIER, {
    control: 64,
    decode(c, out) {
      const w = c.ctl.i32(0);
      const gen = (w >>> 16) & 0x7fff;
      out.details.parties = c.ctl.u32(4);
      out.details.arrived = w & 0xffff;
      out.details.generation = gen;
      out.details.broken = w < 0;
      for (const s of slots(c)) {
        const waiting = s.state & 0xffff;
        if (waiting > 0 && ((s.state >>> 16) & 0x7fff) === gen) out.holders.push(holder("waiting", s, waiting));
      }
    },
  }],
  [Kind.LATCH, {
    control: 64,
    waiters: [{ name: "zero", at: 4 }],
    decode(c, out) {
      out.details.count = c.ctl.i32(0);
      out.details.initial = c.ctl.u32(8);
    },
  }],
  [Kind.ONCE, {
    control: 64,
    counters: [u32Counter("recovered", 4)],
    decode(c, out) {
      const w = c.ctl.i32(0);
      out.details.state = w === -1 ? "done" : w === 0 ? "not run" : "running";
      if (w !== -1) out.owner = lockOwner(c, 0, 16, "runner");
    },
  }],
  [Kind.EVENT, {
    control: 64,
    waiters: [{ name: "set", at: 4 }],
    decode(c, out) {
      out.details.set = c.ctl.i32(0) !== 0;
      out.details.autoReset = c.ctl.i32(8) !== 0;
    },
  }],
  [Kind.CONDVAR, {
    control: 64,
    counters: [u32Counter("wakeups", 0)], // seq: bumped by a notify that finds a waiter
    waiters: [{ name: "signal", at: 4 }],
  }],
]);

/** Maps and sets (docs/MAP.md): entries, entry limit, key/value types, insert lock. */
function hashTable(c: DecodeContext, out: Decoded, isMap: boolean): void {
  const limit = c.ctl.u32(32);
  out.capacity = limit;
  out.details.slots = c.entry.capacity;
  out.fill = clamp(c.ctl.i32(128), 0, limit);
  const key = { hash: c.ctl.u32(40), size: c.ctl.u32(12) };
  const value = isMap ? { hash: c.ctl.u32(44), size: c.ctl.u32(20) } : undefined;
  out.type = c.types.tableName(c.entry.typeHash, key, value);
  const lock = c.ctl.u32(64) & PID_MASK;
  if (lock !== 0) out.owner = ownerOf("inserter", lock, c.procs.alive(lock));
}

/** Lists the registry slots holding a share of a lock or semaphore as `role` holders; returns the shares held in all. */
function listHolders(c: DecodeContext, out: Decoded, role: string): number {
  let held = 0;
  for (const s of slots(c)) {
    if (s.state > 0) {
      held += s.state;
      out.holders.push(holder(role, s, s.state));
    }
  }
  return held;
}

/** The (empty) result a decoder starts from. */
export function blank(c: DecodeContext): Decoded {
  return {
    type: c.entry.elemSize === 0 ? null : c.types.name(c.entry.typeHash, c.entry.elemSize),
    capacity: c.entry.capacity,
    fill: null,
    counters: {},
    wraps: {},
    waiters: {},
    owner: null,
    holders: [],
    details: {},
  };
}

/** Runs a kind's counters, waiters and decoder. Damage propagates (the caller reports it). */
export function decode(layout: KindLayout, c: DecodeContext): Decoded {
  const out = blank(c);
  for (const k of layout.counters ?? []) {
    out.counters[k.name] = k.read(c);
    if (k.wrap !== undefined) out.wraps[k.name] = k.wrap;
  }
  // The count is the low 30 bits: an eventcount's top two are its arming flags (docs/FORMAT.md).
  for (const w of layout.waiters ?? []) out.waiters[w.name] = c.ctl.i32(w.at) & 0x3fff_ffff;
  layout.decode?.(c, out);
  return out;
}

/** A ProcessRef for a recorded creator. */
export function creatorRef(procs: ProcessTable, pid: number, start: number): ProcessRef {
  return { pid, alive: pid === 0 ? false : procs.alive(pid, start) };
}
