/**
 * Queue, SpscQueue, Stack and ObjectPool operations, single process. Every group has
 * baselines measured in the same run: the same algorithm on a heap Int32Array (same
 * Atomics operations, including the one load of the eventcount's waiter count that
 * every push and pop makes; so the ratio is the cost of the mapped segment and the
 * library's checks) and a plain JS array. Each iteration does PAIRS operations and
 * sums what it pops, so nothing is optimised away. Cross-process throughput is in
 * bench/crossprocess.bench.ts.
 *
 *   deno run -A bench/queue.bench.ts    |    bun bench/queue.bench.ts
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { f64, ObjectPool, Queue, Segment, SpscQueue, Stack, struct, u32 } from "../mod.ts";
import { benchSegmentName, runtime } from "./common.ts";

const PAIRS = 1000;
const CAP = 1024;
const name = benchSegmentName("queue");
Segment.unlink(name);
const seg = Segment.create(name, { size: 8 << 20 });
const q = Queue.create(seg, "q", u32, CAP);
const sp = SpscQueue.create(seg, "sp", u32, CAP);
const st = Stack.create(seg, "st", u32, CAP);
const pool = ObjectPool.create(seg, "pool", f64, CAP);
const P = struct({ x: f64, y: f64, id: u32 });
const pq = Queue.create(seg, "pq", P, CAP);
const psp = SpscQueue.create(seg, "psp", P, CAP);

/**
 * Vyukov's bounded MPMC queue on a heap Int32Array, with the library's atomics: plain
 * read of the own position, atomic sequence load, CAS, plain element write, atomic
 * sequence store, atomic load of a waiter count.
 */
class HeapVyukov {
  readonly #a: Int32Array;
  readonly #mask: number;
  constructor(cap: number) {
    this.#a = new Int32Array(64 + cap * 2);
    this.#mask = cap - 1;
    for (let i = 0; i < cap; i++) this.#a[64 + i * 2] = i;
  }
  tryPush(v: number): boolean {
    const a = this.#a;
    let pos = a[0];
    for (;;) {
      const s = 64 + (pos & this.#mask) * 2;
      const dif = (Atomics.load(a, s) - pos) | 0;
      if (dif === 0) {
        const f = Atomics.compareExchange(a, 0, pos, (pos + 1) | 0);
        if (f === pos) {
          a[s + 1] = v;
          Atomics.store(a, s, (pos + 1) | 0);
          if (Atomics.load(a, 3) !== 0) throw new Error("no waiters here");
          return true;
        }
        pos = f;
      } else if (dif < 0) return false;
      else pos = Atomics.load(a, 0);
    }
  }
  tryPop(): number | undefined {
    const a = this.#a;
    let pos = a[16];
    for (;;) {
      const s = 64 + (pos & this.#mask) * 2;
      const dif = (Atomics.load(a, s) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        const f = Atomics.compareExchange(a, 16, pos, (pos + 1) | 0);
        if (f === pos) {
          const v = a[s + 1];
          Atomics.store(a, s, (pos + this.#mask + 1) | 0);
          if (Atomics.load(a, 19) !== 0) throw new Error("no waiters here");
          return v;
        }
        pos = f;
      } else if (dif < 0) return undefined;
      else pos = Atomics.load(a, 16);
    }
  }
}

/** Rigtorp's SPSC ring on a heap Int32Array, with the library's atomics (cached opposite index). */
class HeapSpsc {
  readonly #a: Int32Array;
  readonly #slots: number;
  #cachedRead = 0;
  #cachedWrite = 0;
  constructor(cap: number) {
    this.#a = new Int32Array(64 + cap + 1);
    this.#slots = cap + 1;
  }
  tryPush(v: number): boolean {
    const a = this.#a;
    const w = a[0];
    let next = w + 1;
    if (next === this.#slots) next = 0;
    if (next === this.#cachedRead) {
      this.#cachedRead = Atomics.load(a, 16);
      if (next === this.#cachedRead) return false;
    }
    a[64 + w] = v;
    Atomics.store(a, 0, next);
    if (Atomics.load(a, 3) !== 0) throw new Error("no waiters here");
    return true;
  }
  tryPop(): number | undefined {
    const a = this.#a;
    const r = a[16];
    if (r === this.#cachedWrite) {
      this.#cachedWrite = Atomics.load(a, 0);
      if (r === this.#cachedWrite) return undefined;
    }
    let next = r + 1;
    if (next === this.#slots) next = 0;
    const v = a[64 + r];
    Atomics.store(a, 16, next);
    if (Atomics.load(a, 19) !== 0) throw new Error("no waiters here");
    return v;
  }
}

const heapQ = new HeapVyukov(CAP);
const heapS = new HeapSpsc(CAP);
const jsQueue: number[] = [];
const jsStack: number[] = [];
const jsFree: number[] = Array.from({ length: CAP }, (_, i) => i);
const jsObjs: { x: number; y: number; id: number }[] = [];
const pt = { x: 1, y: 2, id: 3 };

console.log(`${runtime}: ${PAIRS} pairs per iteration (divide by ${PAIRS} for ns per pair)`);
summary(() => {
  group("Queue (MPMC) push+pop, u32", () => {
    bench("Vyukov on heap Int32Array (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        heapQ.tryPush(i);
        s += heapQ.tryPop()!;
      }
      return do_not_optimize(s);
    }).baseline(true);
    bench("JS array push/shift", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        jsQueue.push(i);
        s += jsQueue.shift()!;
      }
      return do_not_optimize(s);
    });
    bench("Queue (MPMC, shared memory)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        q.tryPush(i);
        s += q.tryPop()!;
      }
      return do_not_optimize(s);
    });
  });
});
summary(() => {
  group("SpscQueue push+pop, u32", () => {
    bench("Rigtorp SPSC on heap Int32Array (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        heapS.tryPush(i);
        s += heapS.tryPop()!;
      }
      return do_not_optimize(s);
    }).baseline(true);
    bench("JS array push/shift", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        jsQueue.push(i);
        s += jsQueue.shift()!;
      }
      return do_not_optimize(s);
    });
    bench("SpscQueue (shared memory)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        sp.tryPush(i);
        s += sp.tryPop()!;
      }
      return do_not_optimize(s);
    });
  });
});
summary(() => {
  group("bulk: push 64 + pop 64, u32", () => {
    const vs = Array.from({ length: 64 }, (_, i) => i);
    const out: number[] = [];
    bench("JS array push 64 + shift 64 (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS / 64; i++) {
        for (let j = 0; j < 64; j++) jsQueue.push(vs[j]);
        for (let j = 0; j < 64; j++) s += jsQueue.shift()!;
      }
      return do_not_optimize(s);
    }).baseline(true);
    bench("Vyukov on heap Int32Array, 64 x tryPush + 64 x tryPop", () => {
      let s = 0;
      for (let i = 0; i < PAIRS / 64; i++) {
        for (let j = 0; j < 64; j++) heapQ.tryPush(vs[j]);
        for (let j = 0; j < 64; j++) s += heapQ.tryPop()!;
      }
      return do_not_optimize(s);
    });
    bench("Queue pushBulk/popBulk", () => {
      let s = 0;
      for (let i = 0; i < PAIRS / 64; i++) {
        q.pushBulk(vs);
        out.length = 0;
        q.popBulk(64, out);
        for (const v of out) s += v;
      }
      return do_not_optimize(s);
    });
    bench("SpscQueue pushBulk/popBulk", () => {
      let s = 0;
      for (let i = 0; i < PAIRS / 64; i++) {
        sp.pushBulk(vs);
        out.length = 0;
        sp.popBulk(64, out);
        for (const v of out) s += v;
      }
      return do_not_optimize(s);
    });
  });
});
summary(() => {
  group("push+pop, struct {x:f64,y:f64,id:u32}", () => {
    bench("JS array push/shift of a copied object (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        jsObjs.push({ x: pt.x, y: pt.y, id: pt.id });
        s += jsObjs.shift()!.id;
      }
      return do_not_optimize(s);
    }).baseline(true);
    bench("Queue<struct>", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        pq.tryPush(pt);
        s += pq.tryPop()!.id;
      }
      return do_not_optimize(s);
    });
    bench("SpscQueue<struct>", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        psp.tryPush(pt);
        s += psp.tryPop()!.id;
      }
      return do_not_optimize(s);
    });
  });
});
summary(() => {
  group("stack push+pop", () => {
    bench("JS array push/pop (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        jsStack.push(i);
        s += jsStack.pop()!;
      }
      return do_not_optimize(s);
    }).baseline(true);
    bench("Stack (Treiber, shared memory)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        st.tryPush(i);
        s += st.tryPop()!;
      }
      return do_not_optimize(s);
    });
  });
});
summary(() => {
  group("pool acquire+set+release", () => {
    const heapSlots = new Float64Array(CAP);
    bench("JS array free list + Float64Array (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        const h = jsFree.pop()!;
        heapSlots[h] = i;
        s += heapSlots[h];
        jsFree.push(h);
      }
      return do_not_optimize(s);
    }).baseline(true);
    bench("ObjectPool (shared memory)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        const h = pool.acquire()!;
        pool.set(h, i);
        s += pool.get(h);
        pool.release(h);
      }
      return do_not_optimize(s);
    });
  });
});
try {
  await run();
} finally {
  seg.close();
  Segment.unlink(name);
}
