/**
 * Native per-operation fast paths (zig/fastpath.zig) against the JS-Atomics algorithm
 * they replace, on the same raw segment memory, in the same run. Every iteration does
 * PAIRS push+pop pairs on one thread and sums what it pops, so nothing is optimised
 * away, and checks the sum (a benchmark that loses elements fails loudly).
 *
 * Rows (per group: SpscQueue f64, SpscQueue u32, Queue f64, Queue u32):
 *   js-atomics   the library's current algorithm, inlined on raw memory: seq_cst
 *                Atomics for the index / sequence, the eventcount waiter load, the
 *                index range checks (what SpscQueue / Queue do today, minus the handle)
 *   native       one FFI call per push and one per pop (zig/fastpath.zig), same memory,
 *                with the asymmetric handshake (release publish) and with seq_cst publish
 *   native loop  the same native code called in a native loop (no FFI crossing per
 *                operation): what a C program pays for this code, the floor
 *   library      the public SpscQueue / Queue handle (tryPush / tryPop)
 * plus the floors: two empty FFI calls per pair, and two Atomics.store per pair.
 *
 *   deno run -A bench/fastpath.bench.ts    |    bun bench/fastpath.bench.ts
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { native } from "../ffi/mod.ts";
import { FAST_OK, FAST_STATUS } from "../ffi/native.ts";
import { f64, Queue, Segment, SpscQueue, u32 } from "../mod.ts";
import { fastKind } from "../src/segment/elements.ts";
import { recordCount } from "../src/structures/claim_records.ts";
import { recordsAt } from "../src/structures/queue_layout.ts";
import { benchSegmentName, runtime } from "./common.ts";

const PAIRS = 1000;
const CAP = 1024;
const name = benchSegmentName("fastpath");
Segment.unlink(name);
const seg = Segment.create(name, { size: 8 << 20 });
const m = seg.memory;
const n = native();
const base = m.base;

// Real structures, so the layout is the library's; the fast paths run on their memory.
const spF = SpscQueue.create(seg, "spf", f64, CAP);
const spU = SpscQueue.create(seg, "spu", u32, CAP);
const qF = Queue.create(seg, "qf", f64, CAP);
const qU = Queue.create(seg, "qu", u32, CAP);
const dataOf = (h: { offset: number }) => h.offset + m.u32[(h.offset + 12) >> 2];
const ctrlOf = (h: { offset: number }) => h.offset + 64;

const EXPECT = (PAIRS * (PAIRS - 1)) / 2;
function check(sum: number): number {
  if (sum !== EXPECT) throw new Error(`lost elements: sum ${sum}, expected ${EXPECT}`);
  return sum;
}

/** SpscQueue's push/pop as the library does them today, on raw memory. */
function jsSpsc(h: { offset: number }, typed: Float64Array | Uint32Array) {
  const i32 = m.i32;
  const slots = CAP + 1;
  const wAt = ctrlOf(h) >> 2, rAt = (ctrlOf(h) + 64) >> 2;
  const neWaiters = (ctrlOf(h) + 12) >> 2, nfWaiters = (ctrlOf(h) + 76) >> 2;
  const d = dataOf(h) / typed.BYTES_PER_ELEMENT;
  let cachedRead = 0, cachedWrite = 0;
  const idx = (v: number) => {
    if (!(v >= 0 && v < slots)) throw new Error("corrupt");
    return v;
  };
  return {
    push(v: number): boolean {
      if (typeof v !== "number") throw new Error("bad");
      const w = idx(i32[wAt]);
      let next = w + 1;
      if (next === slots) next = 0;
      if (next === cachedRead) {
        cachedRead = idx(Atomics.load(i32, rAt));
        if (next === cachedRead) return false;
      }
      typed[d + w] = v;
      Atomics.store(i32, wAt, next);
      if (Atomics.load(i32, neWaiters) !== 0) throw new Error("no waiters here");
      return true;
    },
    pop(): number | undefined {
      const r = idx(i32[rAt]);
      if (r === cachedWrite) {
        cachedWrite = idx(Atomics.load(i32, wAt));
        if (r === cachedWrite) return undefined;
      }
      let next = r + 1;
      if (next === slots) next = 0;
      const v = typed[d + r];
      Atomics.store(i32, rAt, next);
      if (Atomics.load(i32, nfWaiters) !== 0) throw new Error("no waiters here");
      return v;
    },
  };
}

/** Queue's (Vyukov) push/pop as the library does them today, on raw memory. */
function jsMpmc(h: { offset: number }, typed: Float64Array | Uint32Array, stride: number, elemOff: number) {
  const i32 = m.i32;
  const ring = CAP, mask = CAP - 1;
  const enq = ctrlOf(h) >> 2, deq = (ctrlOf(h) + 64) >> 2;
  const neWaiters = (ctrlOf(h) + 12) >> 2, nfWaiters = (ctrlOf(h) + 76) >> 2;
  const seq0 = dataOf(h) >> 2, seqStride = stride >> 2;
  const vStride = stride / typed.BYTES_PER_ELEMENT, vOff = (dataOf(h) + elemOff) / typed.BYTES_PER_ELEMENT;
  return {
    push(v: number): boolean {
      if (typeof v !== "number") throw new Error("bad");
      let pos = i32[enq];
      for (;;) {
        const s = pos & mask;
        const seqAt = seq0 + s * seqStride;
        const dif = (Atomics.load(i32, seqAt) - pos) | 0;
        if (dif === 0) {
          const found = Atomics.compareExchange(i32, enq, pos, (pos + 1) | 0);
          if (found === pos) {
            typed[vOff + s * vStride] = v;
            Atomics.store(i32, seqAt, (pos + 1) | 0);
            if (Atomics.load(i32, neWaiters) !== 0) throw new Error("no waiters here");
            return true;
          }
          pos = found;
        } else if (dif < 0) return false;
        else pos = Atomics.load(i32, enq);
      }
    },
    pop(): number | undefined {
      let pos = i32[deq];
      for (;;) {
        const s = pos & mask;
        const seqAt = seq0 + s * seqStride;
        const dif = (Atomics.load(i32, seqAt) - ((pos + 1) | 0)) | 0;
        if (dif === 0) {
          const found = Atomics.compareExchange(i32, deq, pos, (pos + 1) | 0);
          if (found === pos) {
            const v = typed[vOff + s * vStride];
            Atomics.store(i32, seqAt, (pos + ring) | 0);
            if (Atomics.load(i32, nfWaiters) !== 0) throw new Error("no waiters here");
            return v;
          }
          pos = found;
        } else if (dif < 0) return undefined;
        else pos = Atomics.load(i32, deq);
      }
    },
  };
}

function nativeSpsc(h: { offset: number }, kind: number) {
  const c = ctrlOf(h), d = dataOf(h), slots = CAP + 1;
  const state = n.fastState(), st = state.address; // per queue: it holds the cached indices
  if (n.spscBind(st, base, c, d, slots, kind, 0, 0, 0) !== FAST_OK) throw new Error("spscBind refused");
  const push = n.spscPush[kind]!, pop = n.spscPop[kind]!, words = state.words;
  return {
    loop: () => n.benchSpscPairs(st, PAIRS),
    push: (v: number) => push(st, v) === FAST_OK,
    pop(): number | undefined {
      const v = pop(st);
      if (v === v) return v;
      return words[FAST_STATUS] === FAST_OK ? v : undefined;
    },
  };
}

function nativeMpmc(h: { offset: number }, kind: number, stride: number, elemOff: number) {
  const c = ctrlOf(h), d = dataOf(h), layout = kind | (elemOff << 8) | (stride << 16);
  const state = n.fastState(), st = state.address, values = n.fastBuffer(8);
  const push = n.mpmcPush[kind]!, pop = n.mpmcPop[kind]!, words = state.words;
  // A claim record of its own (the last of the area), written as the handles write theirs.
  const rec = recordsAt(d, CAP, stride) + (recordCount(seg.maxProcesses) - 1) * 64;
  if (n.mpmcBind(st, base, c, d, CAP, CAP, layout, rec, 0, values.address, 8) !== FAST_OK) throw new Error("mpmcBind refused");
  return {
    values, // kept: the block must outlive the binding
    loop: () => n.benchMpmcPairs(st, PAIRS),
    push: (v: number) => push(st, v) === FAST_OK,
    pop(): number | undefined {
      const v = pop(st);
      if (v === v) return v;
      return words[FAST_STATUS] === FAST_OK ? v : undefined;
    },
  };
}

type Ops = { push(v: number): boolean; pop(): number | undefined; loop?: () => number };
function pairs(o: Ops): number {
  let sum = 0;
  for (let i = 0; i < PAIRS; i++) {
    if (!o.push(i)) throw new Error("full");
    sum += o.pop()!;
  }
  return check(sum);
}

const lib = (q: { tryPush(v: number): boolean; tryPop(): number | undefined }): Ops => ({
  push: (v) => q.tryPush(v),
  pop: () => q.tryPop(),
});

const rows: [string, Ops, Ops, Ops][] = [
  ["SpscQueue<f64>", jsSpsc(spF, m.f64), nativeSpsc(spF, fastKind(f64)!), lib(spF)],
  ["SpscQueue<u32>", jsSpsc(spU, m.u32), nativeSpsc(spU, fastKind(u32)!), lib(spU)],
  ["Queue<f64>", jsMpmc(qF, m.f64, 16, 8), nativeMpmc(qF, fastKind(f64)!, 16, 8), lib(qF)],
  ["Queue<u32>", jsMpmc(qU, m.u32, 8, 4), nativeMpmc(qU, fastKind(u32)!, 8, 4), lib(qU)],
];

// Interop check before timing: what the native path pushes the library pops, and back.
for (const [label, , nat, libOps] of rows) {
  for (let i = 0; i < 10; i++) {
    nat.push(i);
    if (libOps.pop() !== i) throw new Error(`${label}: native push, library pop disagree`);
    libOps.push(i);
    if (nat.pop() !== i) throw new Error(`${label}: library push, native pop disagree`);
  }
}

const ASYM = 0;
console.log(
  `${runtime}: ${PAIRS} push+pop pairs per iteration, capacity ${CAP}, one thread; asymmetric handshake ${
    ASYM ? "on" : "unavailable"
  }`,
);
for (const [label, js, nat, libOps] of rows) {
  group(`${label}: ${PAIRS} push+pop pairs`, () => {
    summary(() => {
      bench("js-atomics (the library's algorithm, raw memory)", () => do_not_optimize(pairs(js)));
      bench("native, asymmetric handshake (release publish)", function* () {
        yield {
          bench: () => do_not_optimize(pairs(nat)),
        };
      });
      bench("native, seq_cst publish (xchg)", () => do_not_optimize(pairs(nat)));
      bench("library handle (tryPush/tryPop)", () => do_not_optimize(pairs(libOps)));
      bench("floor: native loop, no FFI per op (asymmetric)", () => do_not_optimize(check(nat.loop!())));
    });
  });
}
group(`floors: ${PAIRS} x`, () => {
  const noop = n.noop;
  bench("2 empty FFI calls", () => {
    for (let i = 0; i < PAIRS; i++) {
      noop();
      noop();
    }
  });
  const i32 = m.i32;
  const at = ctrlOf(spU) >> 2;
  bench("2 Atomics.store", () => {
    for (let i = 0; i < PAIRS; i++) {
      Atomics.store(i32, at, i);
      Atomics.store(i32, at, 0);
    }
  });
});

// mitata's own report for the full distribution, then one table of medians per pair
// (means on this shared 2-core VM are dominated by preemptions).
const quiet = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.FASTPATH_TABLE_ONLY;
try {
  const { benchmarks } = await run(quiet ? { format: "quiet" } : {});
  // Benchmarks come back in registration order: 5 per row group, then the 2 floors.
  const per = (x: (typeof benchmarks)[number]) => (x.runs[0]?.stats?.p50 ?? NaN) / PAIRS;
  const out: string[] = [];
  rows.forEach(([label], g) => {
    const five = benchmarks.slice(g * 5, g * 5 + 5);
    out.push(`${label}`);
    for (const x of five) {
      const ns = per(x);
      out.push(
        `  ${x.alias.padEnd(50)} ${ns.toFixed(2).padStart(7)} ns/pair   x${(ns / per(five[0])).toFixed(2)} js-atomics   x${
          (ns / per(five[4])).toFixed(2)
        } native loop`,
      );
    }
  });
  for (const x of benchmarks.slice(rows.length * 5)) {
    out.push(`floor: ${x.alias.padEnd(43)} ${per(x).toFixed(2).padStart(7)} ns per 2 ops`);
  }
  console.log(`\nmedians (p50 / ${PAIRS} pairs), ${runtime}:\n${out.join("\n")}`);
} finally {
  seg.close();
  Segment.unlink(name);
}
