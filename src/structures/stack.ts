/**
 * Stack<T>: a bounded LIFO that any number of processes push and pop at once (MPMC),
 * lock-free and safe against ABA.
 *
 * Algorithm: a Treiber stack (Treiber 1986) of nodes in one fixed array, its head
 * tagged and changed by a 64-bit CAS (see treiber.ts), so a delayed pop cannot
 * install a stale link (ABA). Unused nodes wait in a free-index ring (Vyukov's
 * bounded MPMC queue of indices, see index_ring.ts), which is ABA-safe with plain
 * 32-bit atomics. push takes a free node, writes the element into it (nobody else
 * can see it yet), then pushes it on the stack; pop takes the top node, reads its
 * element, and puts the node back in the ring.
 *
 * A push racing a pop that has taken the last element but not yet returned its node
 * may report the stack full for that instant (as Vyukov's queue does).
 *
 * Crashes (docs/RELIABILITY.md): a process (or Worker thread) killed inside push or
 * pop loses at most that element (never one a push acknowledged and no pop returned;
 * nothing is delivered twice) and never its node. Killed inside the free ring, the ring
 * is repaired and its claim record keeps the node, put back as below; killed while its
 * node is between the ring and the list (push: after the ring take, before the head
 * CAS; pop: after the head CAS, before the ring put), its claim record holds the node
 * (stack_list.ts: a hold plus a per-node state word tell whether it is on the list) and
 * the next push that finds no free node, or a new handle, puts it back. Both are counted in `stats.recovered`. pop reads the element
 * before the CAS that removes it, so a read that throws removes nothing. `size` is a
 * separate counter updated after the head CAS: a process killed between the two leaves
 * it off by one for good (`isEmpty` reads the head itself).
 *
 * Block layout (after the 64-byte structure header):
 *   control +0     8-byte tagged head of the stack (u32 tag, u32 top index + 1)
 *   control +8     eventcount "not empty" (seq i32, waiters i32): popWait/popAsync park here
 *   control +16    eventcount "not full" (seq i32, waiters i32): pushWait/pushAsync park here
 *   control +64    i32 free ring enqueue position
 *   control +128   i32 free ring dequeue position
 *   control +192   i32 element count (for `size`; updated after each push/pop)
 *   data           capacity elements, then (64-aligned) capacity u32 links, then
 *                  (64-aligned) capacity i32 node states (generation << 1 | LISTED),
 *                  then (64-aligned) the free ring's slots and claim records
 */
import { assertElementType, type ElementType } from "../segment/elements.ts";
import { ShmError } from "../errors.ts";
import { Handle } from "../segment/handle.ts";
import { Kind } from "../segment/kinds.ts";
import { Staging } from "./staging.ts";
import { align, type Memory } from "../segment/memory.ts";
import type { Segment } from "../segment/segment.ts";
import { checkCapacity, type Placement, type StructureSpec } from "../segment/structure.ts";
import { type AsyncWaitOptions, notify, type WaitOptions, waitOrThrow, waitOrThrowAsync } from "../wait/wait.ts";
import { waitStalled, waitStalledAsync } from "./stall_wait.ts";
import type { Selectable } from "../wait/select.ts";
import { IndexRing, initRingFull, ringBytes } from "./index_ring.ts";
import { PAUSE_POINT, pauseHere } from "./pause.ts";
import { cas64For, MAX_NODES, setTag } from "./treiber.ts";
import { StackList } from "./stack_list.ts";

/** Largest stack capacity (the 64-bit tagged head addresses at most 2^21 - 1 nodes). */
export const MAX_STACK_CAPACITY = MAX_NODES;

const TOP = 0;
const FREE_ENQ = 64;
const FREE_DEQ = 128;
const COUNT = 192;
/** u32: free nodes recovered from processes killed inside the free ring (docs/RELIABILITY.md). */
const RECOVERED = 196;
// Blocking forms (src/wait/wait.ts eventcounts), on the head's line that both sides write anyway.
const NOT_EMPTY = 8;
const NOT_FULL = 16;

function linksAt(data: number, size: number, capacity: number): number {
  return data + align(capacity * size, 64);
}

function statesAt(data: number, size: number, capacity: number): number {
  return linksAt(data, size, capacity) + align(capacity * 4, 64);
}

function ringAt(data: number, size: number, capacity: number): number {
  return statesAt(data, size, capacity) + align(capacity * 4, 64);
}

/** Dead holds are resolved at most this often per handle on the full path (ms). */
const RESOLVE_MS = 2;

function spec(type: ElementType<unknown>, maxProcesses: number): StructureSpec {
  assertElementType(type);
  return {
    kind: Kind.STACK,
    type,
    controlBytes: 256,
    dataBytes: (n) => align(n * type.size, 64) + 2 * align(n * 4, 64) + ringBytes(n, maxProcesses),
    init(m, block, data, capacity) {
      const control = block + 64;
      initRingFull(m, (control + FREE_ENQ) >> 2, (control + FREE_DEQ) >> 2, ringAt(data, type.size, capacity), capacity);
    },
  };
}

let retag: (s: Stack<unknown>, tag: number, ringPos: number) => void;

/**
 * A bounded multi-producer multi-consumer LIFO stack in shared memory (Treiber stack
 * with tagged heads; ABA-safe). Capacity 1 to 2^21 - 1.
 *
 * `push` throws FULL and `pop` throws EMPTY; `tryPush` returns false and `tryPop` /
 * `peek` return undefined instead.
 *
 * @example
 * ```ts
 * import { Segment, Stack, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-stack-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const free = Stack.create(seg, "free", u32, 64);
 * free.push(1);
 * free.push(2);
 * assert.equal(free.pop(), 2); // last in, first out
 * assert.equal(free.size, 1);
 * ```
 */
export class Stack<T> extends Handle {
  /** The element type. */
  readonly type: ElementType<T>;
  /** Most elements the stack holds. */
  readonly capacity: number;
  readonly #data: number;
  readonly #size: number;
  readonly #top: number;
  readonly #free: IndexRing;
  readonly #list: StackList;
  readonly #count: number;
  #resolvedAt = -Infinity;
  #transit = false;
  readonly #box: { value: T | undefined } = { value: undefined };
  readonly #read: (node: number) => T;
  readonly #staging: Staging<T>;

  static {
    retag = (s, tag, ringPos) => {
      const m = s.mem();
      setTag(m, s.#top, tag);
      s.#free.rebase(m, ringPos);
    };
  }

  private constructor(seg: Segment, p: Placement, type: ElementType<T>) {
    super(seg, p);
    if (p.capacity > MAX_STACK_CAPACITY) throw new ShmError("CORRUPT", `stack "${p.name}" claims capacity ${p.capacity}`);
    this.type = type;
    this.capacity = p.capacity;
    this.#data = p.data;
    this.#size = type.size;
    this.#top = p.control + TOP;
    const ring = ringAt(p.data, type.size, p.capacity);
    this.#free = new IndexRing(
      this.m,
      (p.control + FREE_ENQ) >> 2,
      (p.control + FREE_DEQ) >> 2,
      ring,
      p.capacity,
      seg.maxProcesses,
      (p.control + RECOVERED) >> 2,
      p.name,
    );
    this.#count = (p.control + COUNT) >> 2;
    const links = linksAt(p.data, type.size, p.capacity) >> 2;
    const states = statesAt(p.data, type.size, p.capacity) >> 2;
    this.#list = new StackList(this.m, cas64For(), p.name, this.#top, links, states, p.capacity, this.#free);
    this.#free.resolveDead(this.m, (ph, node, aux) => this.#list.decide(ph, node, aux));
    this.#read = (node) => this.type.read(this.m, this.#data + node * this.#size);
    this.#staging = new Staging(type);
  }

  /** Creates a stack of `capacity` elements (1 to 2^21 - 1). EXISTS if the name is taken. */
  static create<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Stack<T> {
    const s = spec(type as ElementType<unknown>, seg.maxProcesses);
    checkCapacity(capacity, "stack capacity", MAX_STACK_CAPACITY);
    return new Stack(seg, seg.createEntry(name, s, capacity), type);
  }

  /** Opens an existing stack; TYPE_MISMATCH if it is not a Stack of `type`, NOT_FOUND if absent. */
  static open<T>(seg: Segment, name: string, type: ElementType<T>): Stack<T> {
    return new Stack(seg, seg.openEntry(name, spec(type as ElementType<unknown>, seg.maxProcesses)), type);
  }

  /** Opens the stack, or creates it with `capacity` if it does not exist (atomic across processes). */
  static openOrCreate<T>(seg: Segment, name: string, type: ElementType<T>, capacity: number): Stack<T> {
    const s = spec(type as ElementType<unknown>, seg.maxProcesses);
    checkCapacity(capacity, "stack capacity", MAX_STACK_CAPACITY);
    return new Stack(seg, seg.openOrCreateEntry(name, s, capacity), type);
  }

  /** Pushes `value`; false if the stack is full. A value that does not fit the type throws INVALID_ARGUMENT and nothing changes. */
  tryPush(value: T): boolean {
    const m = this.mem();
    let node = this.#take(m);
    if (node < 0 && this.#resolve() > 0) node = this.#take(m);
    if (node < 0) {
      this.#staging.stage(value); // a bad value is INVALID_ARGUMENT even when full
      return false;
    }
    try {
      this.type.write(m, this.#data + node * this.#size, value); // the node is private until pushed
    } catch (e) {
      this.#free.put(m, node);
      throw e;
    }
    const list = this.#list;
    list.begin(m, node);
    if (PAUSE_POINT !== undefined) pauseHere("stack.push.taken");
    list.push(m, node);
    if (PAUSE_POINT !== undefined) pauseHere("stack.push.linked");
    this.#free.placed(m);
    Atomics.add(m.i32, this.#count, 1);
    notify(m, this.#top + NOT_EMPTY, 1); // one load unless a popper is parked
    return true;
  }

  /** Gives the free ring's claim record back when the last handle in this Segment closes. */
  override close(): void {
    if (!this.closed) this.#free.release(this.m);
    super.close();
  }

  /** Elements, and free nodes recovered from processes killed inside the free ring (docs/RELIABILITY.md). */
  get stats(): { readonly size: number; readonly recovered: number } {
    const i32 = this.mem().i32;
    return { size: this.size, recovered: Atomics.load(i32, this.#count + ((RECOVERED - COUNT) >> 2)) >>> 0 };
  }

  /** Pushes `value`; throws FULL if the stack is full. */
  push(value: T): void {
    if (!this.tryPush(value)) throw new ShmError("FULL", `stack "${this.name}" is full (capacity ${this.capacity})`);
  }

  /** Removes and returns the top element, or undefined if the stack is empty. */
  tryPop(): T | undefined {
    const m = this.mem();
    // The element is read before the CAS that removes it: a read that throws removes nothing.
    const box = this.#box;
    let node: number;
    try {
      node = this.#list.pop(m, this.#read, box);
    } catch (e) {
      this.#free.placed(m); // a candidate's hold: nothing was removed
      throw e;
    }
    if (node < 0) {
      this.#free.placed(m); // the last candidate's hold
      return undefined;
    }
    const v = box.value as T;
    box.value = undefined;
    Atomics.sub(m.i32, this.#count, 1);
    if (PAUSE_POINT !== undefined) pauseHere("stack.pop.unlinked");
    this.#free.put(m, node);
    notify(m, this.#top + NOT_FULL, 1);
    return v;
  }

  /** Removes and returns the top element; throws EMPTY if the stack is empty. */
  pop(): T {
    const v = this.tryPop();
    if (v === undefined) throw new ShmError("EMPTY", `stack "${this.name}" is empty`);
    return v;
  }

  /**
   * The top element without removing it, or undefined if empty. Consistent under
   * concurrency: the element is read between two identical reads of the tagged head,
   * so it was on top, unchanged, for the whole read.
   */
  peek(): T | undefined {
    const m = this.mem();
    const i32 = m.i32;
    const h = this.#top >> 2;
    for (;;) {
      const tag = Atomics.load(i32, h);
      const top = Atomics.load(i32, h + 1);
      if (top === 0) return undefined;
      if (!(top > 0 && top <= this.capacity)) {
        throw new ShmError("CORRUPT", `stack "${this.name}": head points outside the stack`);
      }
      let v: T | undefined;
      try {
        v = this.type.read(m, this.#data + (top - 1) * this.#size);
      } catch (e) {
        v = undefined;
        if (Atomics.load(i32, h) === tag && Atomics.load(i32, h + 1) === top) throw e; // not a torn read
      }
      if (Atomics.load(i32, h) === tag && Atomics.load(i32, h + 1) === top) return v;
    }
  }

  /**
   * Removes and returns the top element, blocking while the stack is empty (spins
   * briefly, then parks on the futex until a push; src/wait/wait.ts). Throws ShmError
   * TIMEOUT after `timeout` ms (default: no limit).
   */
  popWait(timeout?: number | WaitOptions): T {
    return waitOrThrow(this.mem(), this.#top + NOT_EMPTY, () => this.tryPop(), timeout, `popping from stack "${this.name}"`);
  }

  /** Async `popWait`: rejects with TIMEOUT, or ABORTED on `signal` (nothing popped then). */
  popAsync(options?: AsyncWaitOptions): Promise<T> {
    return waitOrThrowAsync(this.mem(), this.#top + NOT_EMPTY, () => this.tryPop(), options, `popping from stack "${this.name}"`);
  }

  /** @internal For `select` (src/wait/select.ts): the "not empty" eventcount and tryPop. */
  selectable(): Selectable<T> {
    return { memory: this.mem(), at: this.#top + NOT_EMPTY, poll: () => this.tryPop() };
  }

  /** Pushes `value`, blocking while the stack is full. TIMEOUT after `timeout` ms (nothing pushed). */
  pushWait(value: T, timeout?: number | WaitOptions): void {
    const poll = () => (this.tryPush(value) ? true : undefined);
    waitStalled(this.mem(), this.#top + NOT_FULL, poll, this.#free.stall, timeout, `pushing to stack "${this.name}"`);
  }

  /** Async `pushWait`: rejects with TIMEOUT or ABORTED (nothing pushed then). */
  async pushAsync(value: T, options?: AsyncWaitOptions): Promise<void> {
    const poll = () => (this.tryPush(value) ? true : undefined);
    await waitStalledAsync(this.mem(), this.#top + NOT_FULL, poll, this.#free.stall, options, `pushing to stack "${this.name}"`);
  }

  /** Elements on the stack (a snapshot: others may change it at once). */
  get size(): number {
    const n = Atomics.load(this.mem().i32, this.#count);
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
  }

  /** True if the stack was empty at the moment of the check. */
  get isEmpty(): boolean {
    return Atomics.load(this.mem().i32, (this.#top >> 2) + 1) === 0;
  }

  /** True if the stack was full at the moment of the check. */
  get isFull(): boolean {
    return this.size >= this.capacity;
  }

  /** Puts back the nodes dead processes held in transit (push/pop windows); rate-limited. */
  #resolve(): number {
    const now = performance.now();
    if (now - this.#resolvedAt < RESOLVE_MS) {
      if (this.#transit) this.#free.stall.seen = true; // a waiter must poll again: a dead holder never notifies
      return 0;
    }
    this.#resolvedAt = now;
    const m = this.mem();
    const r = this.#free.resolveDead(m, (ph, node, aux) => this.#list.decide(ph, node, aux));
    this.#transit = r.held > 0;
    if (this.#transit) this.#free.stall.seen = true; // a waiter must poll again: a dead holder never notifies
    return r.put;
  }

  /** A free node's index, or -1 when none is free. */
  #take(m: Memory): number {
    const node = this.#free.take(m);
    if (node >= this.capacity) {
      throw new ShmError("CORRUPT", `stack "${this.name}": free ring holds node ${node} of ${this.capacity}`);
    }
    return node;
  }
}

/**
 * @internal Test hook: on an idle stack, sets the head's tag to `tag` and moves the
 * free ring's positions near `ringPos`, so a test can run both across the 2^32 wrap.
 */
export function _setStackCounters<T>(s: Stack<T>, tag: number, ringPos: number): void {
  retag(s as Stack<unknown>, tag, ringPos);
}
