/**
 * ObjectPool<T>: a fixed number of element slots that processes acquire, use in
 * place, and release; lock-free.
 *
 * Algorithm: free slot indices wait in a ring that is Vyukov's bounded MPMC queue
 * (index_ring.ts). It is the pool's free list because it is ABA-safe with plain
 * 32-bit atomics: every ring slot carries a sequence number that only moves forward,
 * so a delayed acquirer cannot take an index twice (the failure of an untagged
 * Treiber free list), and no 64-bit CAS (a slow FFI call on Deno) is needed. Each
 * pool slot also has a state word, `IN_USE | generation` while held and `generation`
 * while free, changed by 32-bit CAS. That word makes release exact: the handle names
 * the generation it was acquired at, so releasing twice (or releasing a stale handle
 * after the slot was reused) fails the CAS and throws INVALID_ARGUMENT instead of
 * corrupting the free list.
 *
 * A handle is a plain number, `generation * 2^21 + slot` (a safe integer): cheap to
 * keep, and it can be sent to another process (e.g. through a Queue), which may use
 * and release it.
 *
 * The holder's pid and start time are recorded per slot, so `reclaimDead()` can give
 * back slots held by processes that died. Crashes (docs/RELIABILITY.md): a process
 * (or Worker thread) killed inside acquire or release costs no slot. Inside the free
 * ring (between its CAS and its publish or hand-back), the next acquire or release that
 * reaches that ring position repairs it (a dead taker's, also the next acquire that finds
 * no free slot: with every slot taken nobody would reach it) and the index stays in the
 * dead process's claim record, put back as below; between the ring and the slot's state
 * word (in acquire after the ring take and before the IN_USE store, in release after the
 * state CAS and before its ring put wins a position), its claim record holds the slot
 * with the state it expects, and the next acquire that finds no free slot,
 * `reclaimDead()`, or a new handle puts it back. Both are counted in `stats.recovered`.
 * An acquire racing a release may report the pool exhausted for that instant.
 *
 * Block layout (after the 64-byte structure header):
 *   control +0    i32 free ring enqueue position   own 64-byte line
 *   control +8    eventcount "slot free" (seq i32, waiters i32): acquireWait/acquireAsync park here
 *   control +64   i32 free ring dequeue position   own 64-byte line
 *   data          capacity elements, then (64-aligned) capacity 16-byte slot records
 *                 (i32 state, u32 holder pid, u32 holder start time low 32 bits, u32
 *                 reserved), then (64-aligned) the free ring's slots
 */
import { type Native, native } from "../../ffi/mod.ts";
import { type Decide, IndexRing, initRingFull, KEEP, PUT, ringBytes } from "./index_ring.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";
import { assertElementType, type ElementType, type StructType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import { align } from "../segment/memory.ts";
import { me } from "../segment/process.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement, type StructureSpec } from "../segment/structure.ts";
import { type AsyncWaitOptions, notify, type WaitOptions } from "../wait/wait.ts";
import { waitStalled, waitStalledAsync } from "./stall_wait.ts";
import type { Selectable } from "../wait/select.ts";

/**
 * A slot acquired from an ObjectPool: `generation * 2^21 + slot index`.
 *
 * @example
 * ```ts
 * import { ObjectPool, Segment, type PoolHandle, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-ph-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const pool = ObjectPool.create(seg, "buffers", u32, 4);
 * const h: PoolHandle = pool.acquireWait(1000); // a number: pass it to another process
 * assert.ok(pool.isHeld(h));
 * pool.release(h);
 * ```
 */
export type PoolHandle = number;

/** Largest pool capacity (handles keep the slot index in 21 bits). */
export const MAX_POOL_CAPACITY = 2 ** 21 - 1;

const ENQ = 0;
const DEQ = 64;
/** Blocking acquire's eventcount (src/wait/wait.ts), on the line releasers write anyway. */
const SLOT_FREE = 8;
/** u32: free indices recovered from processes killed inside the free ring (docs/RELIABILITY.md). */
const RECOVERED = 16;
const RECORD = 16;
const IN_USE = 1 << 31;
const GEN_MASK = 0x7fff_ffff;
const SLOT_BITS = 2 ** 21;
/** Hold phases (index_ring.ts): acquire about to mark the slot held (aux: its free state); release or reclaim that freed it (aux: generation). */
const P_MARK = 10;
const P_FREED = 11;
/** Dead holds are resolved at most this often per handle on the exhausted path (ms). */
const RESOLVE_MS = 2;

function recordsAt(data: number, size: number, capacity: number): number {
  return data + align(capacity * size, 64);
}

function ringAt(data: number, size: number, capacity: number): number {
  return recordsAt(data, size, capacity) + align(capacity * RECORD, 64);
}

function spec(type: ElementType<unknown>, maxProcesses: number): StructureSpec {
  assertElementType(type);
  return {
    kind: Kind.POOL,
    type,
    controlBytes: 128,
    dataBytes: (n) => align(n * type.size, 64) + align(n * RECORD, 64) + ringBytes(n, maxProcesses),
    init(m, block, data, capacity) {
      const control = block + 64;
      initRingFull(m, (control + ENQ) >> 2, (control + DEQ) >> 2, ringAt(data, type.size, capacity), capacity);
    },
  };
}

let rebase: (p: ObjectPool<unknown>, pos: number) => void;

/**
 * A fixed set of `capacity` element slots in shared memory that any process can
 * acquire and release (Treiber free list with a tagged head; ABA-safe). Elements are
 * read and written in place through the handle.
 *
 * @example
 * ```ts
 * import { f64, ObjectPool, Segment, struct } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-pool-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const pool = ObjectPool.create(seg, "points", struct({ x: f64, y: f64 }), 100);
 * const h = pool.acquire();
 * assert.ok(h !== undefined);
 * pool.set(h, { x: 1, y: 2 });
 * assert.equal(pool.getField(h, "y"), 2);
 * pool.release(h);
 * assert.equal(pool.available, 100);
 * ```
 */
export class ObjectPool<T> extends Handle {
  /** The element type. */
  readonly type: ElementType<T>;
  /** Number of slots. */
  readonly capacity: number;
  readonly #data: number;
  readonly #size: number;
  readonly #records: number;
  readonly #enq: number;
  readonly #free: IndexRing;
  readonly #n: Native;
  readonly #pid: number;
  readonly #start: number;
  readonly #decide: Decide;
  #resolvedAt = -Infinity;
  #transit = false;

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    if (p.capacity > MAX_POOL_CAPACITY) throw new ShmError("CORRUPT", `pool "${p.name}" claims capacity ${p.capacity}`);
    this.type = type;
    this.capacity = p.capacity;
    this.#data = p.data;
    this.#size = type.size;
    this.#records = recordsAt(p.data, type.size, p.capacity);
    this.#enq = (p.control + ENQ) >> 2;
    const ring = ringAt(p.data, type.size, p.capacity);
    this.#free = new IndexRing(
      this.m,
      this.#enq,
      (p.control + DEQ) >> 2,
      ring,
      p.capacity,
      seg.maxProcesses,
      (p.control + RECOVERED) >> 2,
      p.name,
    );
    this.#n = native();
    const self = me();
    this.#pid = self.pid;
    this.#start = self.start % 0x1_0000_0000 | 0;
    const records = this.#records;
    this.#decide = (phase, slot, aux) => {
      const state = Atomics.load(this.m.i32, (records + slot * RECORD) >> 2);
      // P_MARK: the dead acquirer had not stored IN_USE yet iff the state is the free one it read.
      if (phase === P_MARK) return state === aux ? PUT : KEEP;
      // P_FREED: its state CAS freed the slot (generation aux) and its put never began.
      if (phase === P_FREED) return state === aux ? PUT : KEEP;
      return KEEP;
    };
    this.#free.resolveDead(this.m, this.#decide);
  }

  /** Puts back the slots dead processes held in transit (acquire/release windows); rate-limited. */
  #resolve(force: boolean): number {
    const now = performance.now();
    if (!force && now - this.#resolvedAt < RESOLVE_MS) {
      if (this.#transit) this.#free.stall.seen = true; // a waiter must poll again: a dead holder never notifies
      return 0;
    }
    this.#resolvedAt = now;
    const m = this.mem();
    const r = this.#free.resolveDead(m, this.#decide);
    this.#transit = r.held > 0;
    if (this.#transit) this.#free.stall.seen = true; // a waiter must poll again: a dead holder never notifies
    if (r.put > 0) notify(m, (this.#enq << 2) + SLOT_FREE, r.put);
    return r.put;
  }

  /** Gives the free ring's claim record back when the last handle in this Segment closes. */
  override close(): void {
    if (!this.closed) this.#free.release(this.m);
    super.close();
  }

  /** Free indices the pool recovered from processes killed inside acquire or release (docs/RELIABILITY.md). */
  get stats(): { readonly available: number; readonly recovered: number } {
    const i32 = this.mem().i32;
    return { available: this.available, recovered: Atomics.load(i32, this.#enq + ((RECOVERED - ENQ) >> 2)) >>> 0 };
  }

  /** Creates a pool of `capacity` zeroed slots (1 to 2^21 - 1), all free. EXISTS if the name is taken. */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): ObjectPool<T> {
    const s = spec(type as ElementType<unknown>, seg.maxProcesses);
    checkCapacity(capacity, "pool capacity", MAX_POOL_CAPACITY);
    return new ObjectPool(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing pool; TYPE_MISMATCH if it is not an ObjectPool of `type`, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): ObjectPool<T> {
    return new ObjectPool(seg, seg.openEntry(name, spec(type as ElementType<unknown>, seg.maxProcesses)), type);
  }

  /** Opens the pool, or creates it with `capacity` slots if it does not exist (atomic across processes). */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): ObjectPool<T> {
    const s = spec(type as ElementType<unknown>, seg.maxProcesses);
    checkCapacity(capacity, "pool capacity", MAX_POOL_CAPACITY);
    return new ObjectPool(seg, seg.openOrCreateEntry(name, s, capacity), type);
  }

  /**
   * Takes a free slot and returns its handle, or undefined when every slot is held.
   * The slot keeps whatever value it had; set it before use.
   */
  acquire(): PoolHandle | undefined {
    const m = this.mem();
    let slot = this.#free.take(m);
    if (slot < 0) {
      if (this.#resolve(false) === 0) return undefined;
      slot = this.#free.take(m);
      if (slot < 0) return undefined;
    }
    if (slot >= this.capacity) {
      throw new ShmError("CORRUPT", `pool "${this.name}": free ring holds slot ${slot} of ${this.capacity}`);
    }
    const i32 = m.i32;
    const r = (this.#records + slot * RECORD) >> 2;
    const free = Atomics.load(i32, r);
    this.#free.hold(m, P_MARK, free); // the slot is ours in transit until IN_USE is stored
    if (PAUSE_POINT !== undefined) pauseHere("pool.acquire.taken");
    const gen = ((free & GEN_MASK) + 1) & GEN_MASK || 1; // generation 0 never names a held slot
    // Holder first: a reclaimer that sees the slot held must not see the previous holder's pid.
    i32[r + 1] = this.#pid;
    i32[r + 2] = this.#start;
    Atomics.store(i32, r, IN_USE | gen);
    this.#free.placed(m);
    return gen * SLOT_BITS + slot;
  }

  /**
   * Gives a slot back. INVALID_ARGUMENT if `handle` is not currently held: released
   * already (double release), or stale (the slot was released and acquired again).
   * Any process may release a handle it was given.
   */
  release(handle: PoolHandle): void {
    const m = this.mem();
    const slot = this.#slot(handle);
    const gen = (handle - slot) / SLOT_BITS;
    const r = (this.#records + slot * RECORD) >> 2;
    const held = IN_USE | gen;
    this.#free.holdIndex(m, slot, P_FREED, gen); // before the CAS: the freed slot is never in no record
    const found = Atomics.compareExchange(m.i32, r, held, gen);
    if (found !== held) {
      this.#free.placed(m);
      throw new ShmError(
        "INVALID_ARGUMENT",
        (found & IN_USE) === 0 && (found & GEN_MASK) === gen
          ? `pool "${this.name}": handle ${handle} was already released`
          : `pool "${this.name}": handle ${handle} is stale (slot ${slot} was released and acquired again)`,
      );
    }
    if (PAUSE_POINT !== undefined) pauseHere("pool.release.freed");
    this.#free.put(m, slot);
    notify(m, (this.#enq << 2) + SLOT_FREE, 1); // one load unless an acquirer is parked
  }

  /**
   * Takes a free slot, blocking while every slot is held (spins briefly, then parks
   * on the futex until a release; src/wait/wait.ts). Throws ShmError TIMEOUT after
   * `timeout` ms (default: no limit).
   */
  acquireWait(timeout?: number | WaitOptions): PoolHandle {
    const what = `acquiring from pool "${this.name}"`;
    return waitStalled(this.mem(), (this.#enq << 2) + SLOT_FREE, () => this.acquire(), this.#free.stall, timeout, what);
  }

  /** Async `acquireWait`: rejects with TIMEOUT, or ABORTED on `signal` (no slot taken then). */
  acquireAsync(options?: AsyncWaitOptions): Promise<PoolHandle> {
    const what = `acquiring from pool "${this.name}"`;
    try {
      return waitStalledAsync(this.mem(), (this.#enq << 2) + SLOT_FREE, () => this.acquire(), this.#free.stall, options, what);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** @internal For `select` (src/wait/select.ts): the "slot free" eventcount and acquire. */
  selectable(): Selectable<PoolHandle> {
    return { memory: this.mem(), at: (this.#enq << 2) + SLOT_FREE, poll: () => this.acquire() };
  }

  /** The element in a held slot. INVALID_ARGUMENT if the handle is not held. */
  get(handle: PoolHandle): T {
    const m = this.mem();
    return this.type.read(m, this.#held(m.i32, handle));
  }

  /** Writes the element of a held slot in place (a value that does not fit the type writes nothing). */
  set(handle: PoolHandle, value: T): void {
    const m = this.mem();
    this.type.write(m, this.#held(m.i32, handle), value);
  }

  /** Reads one field of a held struct slot without building the whole object. */
  getField(handle: PoolHandle, field: string): unknown {
    const m = this.mem();
    const f = this.#field(field);
    return f.type.read(m, this.#held(m.i32, handle) + f.offset);
  }

  /** Writes one field of a held struct slot in place. */
  setField(handle: PoolHandle, field: string, value: unknown): void {
    const m = this.mem();
    const f = this.#field(field);
    f.type.write(m, this.#held(m.i32, handle) + f.offset, value);
  }

  /** True if `handle` names a slot that is held right now under that handle. */
  isHeld(handle: PoolHandle): boolean {
    const m = this.mem();
    try {
      this.#held(m.i32, handle);
      return true;
    } catch {
      return false;
    }
  }

  /** The slot index (0 to capacity - 1) a handle refers to, e.g. to index a side table. */
  slotOf(handle: PoolHandle): number {
    this.mem();
    return this.#slot(handle);
  }

  /** Free slots right now (counts the slot states: O(capacity), for monitoring). */
  get available(): number {
    const i32 = this.mem().i32;
    let free = 0;
    for (let s = 0; s < this.capacity; s++) if ((Atomics.load(i32, (this.#records + s * RECORD) >> 2) & IN_USE) === 0) free++;
    return free;
  }

  /** Held slots right now (O(capacity)). */
  get inUse(): number {
    return this.capacity - this.available;
  }

  /**
   * Releases every slot whose holder process has exited (checked by pid and start
   * time, so a reused pid is not mistaken for the holder), and puts back the slots dead
   * processes held in transit; returns how many. Safe to run while others use the pool.
   * Costs a system call per held slot.
   */
  reclaimDead(): number {
    const m = this.mem();
    const i32 = m.i32;
    const alive = new Map<number, boolean>();
    let reclaimed = this.#resolve(true);
    for (let s = 0; s < this.capacity; s++) {
      const r = (this.#records + s * RECORD) >> 2;
      const state = Atomics.load(i32, r);
      if ((state & IN_USE) === 0) continue;
      const pid = i32[r + 1];
      const start = i32[r + 2];
      if (pid <= 0) continue;
      const key = pid * 0x1_0000_0000 + (start >>> 0);
      let live = alive.get(key);
      if (live === undefined) {
        const t = this.#n.processStartTime(pid);
        live = t >= 0 && (t % 0x1_0000_0000 | 0) === start;
        alive.set(key, live);
      }
      if (live) continue;
      // The generation in `state` makes this fail if the slot changed hands meanwhile.
      this.#free.holdIndex(m, s, P_FREED, state & GEN_MASK);
      if (Atomics.compareExchange(i32, r, state, state & GEN_MASK) === state) {
        this.#free.put(m, s);
        reclaimed++;
      } else this.#free.placed(m);
    }
    if (reclaimed > 0) notify(m, (this.#enq << 2) + SLOT_FREE, reclaimed);
    return reclaimed;
  }

  /** Moves the free ring's positions of an idle pool near `pos` (tests cross the 2^32 wrap with it). */
  #rebase(pos: number): void {
    this.#free.rebase(this.mem(), pos);
  }

  static {
    rebase = (p, pos) => p.#rebase(pos);
  }

  /** Slot index of a well-formed handle (INVALID_ARGUMENT otherwise). */
  #slot(handle: PoolHandle): number {
    const slot = handle & (SLOT_BITS - 1);
    const gen = (handle - slot) / SLOT_BITS;
    if (!(slot < this.capacity && gen >= 1 && gen <= GEN_MASK && (gen | 0) === gen)) {
      throw new ShmError("INVALID_ARGUMENT", `${String(handle)} is not a handle of pool "${this.name}"`);
    }
    return slot;
  }

  /** Byte offset of the element of a held slot. */
  #held(i32: Int32Array, handle: PoolHandle): number {
    const slot = this.#slot(handle);
    if (i32[(this.#records + slot * RECORD) >> 2] !== (IN_USE | ((handle - slot) / SLOT_BITS))) {
      throw new ShmError("INVALID_ARGUMENT", `pool "${this.name}": handle ${handle} is not held (released, or stale)`);
    }
    return this.#data + slot * this.#size;
  }

  #field(field: string) {
    const f = (this.type as unknown as StructType<T>).fields?.[field];
    if (!f) throw new ShmError("INVALID_ARGUMENT", `${this.type.name} has no field "${field}"`);
    return f;
  }
}

/** @internal Test hook: moves an idle pool's free-ring positions near `pos` (e.g. 2^32 - 3) to test the 32-bit wrap. */
export function _setPoolPositions<T>(p: ObjectPool<T>, pos: number): void {
  rebase(p as ObjectPool<unknown>, pos);
}
