/**
 * Queue, SpscQueue, Stack and ObjectPool: one push+pop (or acquire+release) pair,
 * 1000 pairs per iteration, against in-process baselines in the same run: a plain JS
 * array used as queue / stack / free list, and Vyukov's algorithm on a heap
 * ArrayBuffer (the same code path without mapped memory). Every loop sums the values
 * it pops, so nothing is optimised away. Then a cross-process measurement: a child
 * process of the same runtime produces 2M messages, this process consumes (msgs/s).
 *
 *   deno run -A bench/queue.bench.ts    |    bun bench/queue.bench.ts
 */
import { spawn } from "node:child_process";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { f64, ObjectPool, Queue, Segment, SpscQueue, Stack, u32 } from "../mod.ts";
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

/** Vyukov's bounded MPMC queue on a heap Int32Array: the baseline for memory cost. */
class HeapVyukov {
  readonly #a: Int32Array;
  readonly #mask: number;
  constructor(cap: number) {
    this.#a = new Int32Array(32 + cap * 2);
    this.#mask = cap - 1;
    for (let i = 0; i < cap; i++) this.#a[32 + i * 2] = i;
  }
  tryPush(v: number): boolean {
    const a = this.#a;
    let pos = Atomics.load(a, 0);
    for (;;) {
      const s = 32 + (pos & this.#mask) * 2;
      const dif = (Atomics.load(a, s) - pos) | 0;
      if (dif === 0) {
        const f = Atomics.compareExchange(a, 0, pos, (pos + 1) | 0);
        if (f === pos) {
          a[s + 1] = v;
          Atomics.store(a, s, (pos + 1) | 0);
          return true;
        }
        pos = f;
      } else if (dif < 0) return false;
      else pos = Atomics.load(a, 0);
    }
  }
  tryPop(): number | undefined {
    const a = this.#a;
    let pos = Atomics.load(a, 16);
    for (;;) {
      const s = 32 + (pos & this.#mask) * 2;
      const dif = (Atomics.load(a, s) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        const f = Atomics.compareExchange(a, 16, pos, (pos + 1) | 0);
        if (f === pos) {
          const v = a[s + 1];
          Atomics.store(a, s, (pos + this.#mask + 1) | 0);
          return v;
        }
        pos = f;
      } else if (dif < 0) return undefined;
      else pos = Atomics.load(a, 16);
    }
  }
}
const heapQ = new HeapVyukov(CAP);
const jsQueue: number[] = [];
const jsStack: number[] = [];
const jsFree: number[] = Array.from({ length: CAP }, (_, i) => i);

console.log(`${runtime}: ${PAIRS} pairs per iteration (divide by ${PAIRS} for ns per pair)`);
summary(() => {
  group("queue push+pop", () => {
    bench("JS array push/shift (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        jsQueue.push(i);
        s += jsQueue.shift()!;
      }
      return do_not_optimize(s);
    }).baseline(true);
    bench("Vyukov on heap Int32Array (baseline)", () => {
      let s = 0;
      for (let i = 0; i < PAIRS; i++) {
        heapQ.tryPush(i);
        s += heapQ.tryPop()!;
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
  group("bulk: push 64 + pop 64", () => {
    const vs = Array.from({ length: 64 }, (_, i) => i);
    const out: number[] = [];
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
await run();

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
function childCommand(script: string, args: string[]): [string, string[]] {
  if (g.Deno) return [g.Deno.execPath(), ["run", "-A", script, ...args]];
  return [g.process.execPath, [script, ...args]];
}

/** A child produces `count` values; this process consumes them; returns msgs/s from first to last message. */
async function crossProcess(kind: "mpmc" | "spsc", count: number): Promise<number> {
  const qName = `x-${kind}`;
  const cq = kind === "spsc" ? SpscQueue.create(seg, qName, u32, 4096) : Queue.create(seg, qName, u32, 4096);
  const script = decodeURIComponent(new URL("./queue_producer.ts", import.meta.url).pathname);
  const [cmd, argv] = childCommand(script, [name, qName, kind, String(count)]);
  const child = spawn(cmd, argv, { stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise((resolve) => child.on("close", resolve));
  let v = cq.tryPop();
  while (v === undefined) v = cq.tryPop();
  const t0 = performance.now();
  let got = 1;
  let sum = v;
  while (got < count) {
    const x = cq.tryPop();
    if (x !== undefined) {
      got++;
      sum += x;
    }
  }
  const ms = performance.now() - t0;
  if (sum !== (count * (count - 1)) / 2) throw new Error(`cross-process ${kind}: checksum mismatch`);
  await exited;
  return (count - 1) / (ms / 1000);
}

const M = 2_000_000;
for (const kind of ["mpmc", "spsc"] as const) {
  const rate = await crossProcess(kind, M);
  console.log(`cross-process ${kind === "spsc" ? "SpscQueue" : "Queue"} (child producer -> this consumer, u32): ${(rate / 1e6).toFixed(2)} M msgs/s`);
}
seg.close();
Segment.unlink(name);
