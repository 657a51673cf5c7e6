/**
 * Same-thread floors of the fast paths, for docs/BENCHMARKS.md "Fast paths": one process
 * pushes an f64 and pops it again, 1M times, through the SpscQueue / Queue handles; the
 * same through the raw native calls (no handle); the same in a native loop (no FFI
 * crossing: what C calling the library pays); and the isolating costs in this runtime
 * (an empty FFI call, one Atomics.store + Atomics.load pair). Best of 6 rounds.
 *
 *   deno run -A bench/fastpath_floor.ts [repo]     bun bench/fastpath_floor.ts [repo]
 *
 * `repo` (default: this checkout) may be another checkout of shmkit, e.g. one without
 * the fast paths (then only the handle and Atomics rows are measured), so that a before
 * and an after run under the same load. Prints one JSON line.
 */
// deno-lint-ignore-file no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const repo = argv[0] ?? decodeURIComponent(new URL("..", import.meta.url).pathname);
const lib: any = await import(`${repo}/mod.ts`);
const ffi: any = await import(`${repo}/ffi/mod.ts`);
const elements: any = await import(`${repo}/src/segment/elements.ts`);
const { Segment, SpscQueue, Queue, f64 } = lib;
const n = ffi.native();
const fast = n.spscPush !== undefined; // a function, or (ABI 6) one per kind

const seg = Segment.create("floor-" + Math.random().toString(36).slice(2, 8), { size: 1 << 20, unlinkOnLastClose: true });
const CAP = 1024, N = 1_000_000;
const sq = SpscQueue.create(seg, "s", f64, CAP);
const mq = Queue.create(seg, "m", f64, CAP);
const rows: [string, () => number][] = [
  ["SpscQueue tryPush+tryPop", () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      sq.tryPush(i);
      s += sq.tryPop();
    }
    return s;
  }],
  ["Queue tryPush+tryPop", () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      mq.tryPush(i);
      s += mq.tryPop();
    }
    return s;
  }],
  ["Atomics.store+Atomics.load", () => {
    const a = new Int32Array(new SharedArrayBuffer(256));
    let s = 0;
    for (let i = 0; i < N; i++) {
      Atomics.store(a, 0, i);
      s += Atomics.load(a, 16);
    }
    return s;
  }],
];
if (fast) {
  const base = seg.memory.base, u32 = seg.memory.u32;
  const ctrl = (h: { offset: number }) => h.offset + 64, data = (h: { offset: number }) => h.offset + u32[(h.offset + 12) >> 2];
  // Raw calls on a second queue of each kind (the handles above keep their own roles and records).
  const sq2 = SpscQueue.create(seg, "s2", f64, CAP), mq2 = Queue.create(seg, "m2", f64, CAP);
  // The blocks stay referenced (`states`): a collected ArrayBuffer would leave its address dangling.
  const kind = elements.fastKind(f64), states = [n.fastState(), n.fastState(), n.fastBuffer(512)];
  const sa = states[0].address, ma = states[1].address;
  // int32Arg (fast_path.ts before ABI 6): the offsets as the handles passed them.
  const i32a = (x: number) => (x <= 0x7fffffff ? x | 0 : x);
  const sc = i32a(ctrl(sq2)), sd = i32a(data(sq2)), slots = CAP + 1;
  const mc = i32a(ctrl(mq2)), md = i32a(data(mq2)), lay = kind | (8 << 8) | (16 << 16);
  const { recordsAt } = await import(`${repo}/src/structures/queue_layout.ts`);
  const { recordCount } = await import(`${repo}/src/structures/claim_records.ts`);
  const rec = i32a(recordsAt(md, CAP, 16) + (recordCount(seg.maxProcesses) - 1) * 64);
  const noop = n.noop;
  // ABI 6 made the numeric calls one per kind (arrays indexed by fastKind()).
  const perKind = Array.isArray(n.spscPush), at = (f: any) => perKind ? f[kind] : f;
  const push = at(n.spscPush), pop = at(n.spscPop), mpush = at(n.mpmcPush), mpop = at(n.mpmcPop);
  const bound = typeof n.spscBind === "function"; // ABI 6: a bound state block, one argument
  if (bound) {
    const values = states[2];
    if (n.spscBind(sa, base, sc, sd, slots, kind, 0, 0, 0) !== 1) throw new Error("spscBind refused");
    if (n.mpmcBind(ma, base, mc, md, CAP, CAP, lay, rec, 0, values.address, 512) !== 1) throw new Error("mpmcBind refused");
  }
  rows.push(
    [
      "raw spscPush+spscPop calls",
      bound
        ? () => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            push(sa, i);
            s += pop(sa);
          }
          return s;
        }
        : () => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            push(base, sc, sd, slots, kind, sa, i);
            s += pop(base, sc, sd, slots, kind, sa);
          }
          return s;
        },
    ],
    [
      "raw mpmcPush+mpmcPop calls",
      bound
        ? () => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            mpush(ma, i);
            s += mpop(ma);
          }
          return s;
        }
        : () => {
          let s = 0;
          for (let i = 0; i < N; i++) {
            mpush(base, mc, md, CAP, CAP, lay, rec, i);
            s += mpop(base, mc, md, CAP, lay, rec, ma);
          }
          return s;
        },
    ],
    ["native loop: SPSC pair", () => bound ? n.benchSpscPairs(sa, N) : n.benchSpscPairs(base, sc, sd, slots, kind, sa, N)],
    ["native loop: MPMC pair", () => bound ? n.benchMpmcPairs(ma, N) : n.benchMpmcPairs(base, mc, md, CAP, lay, rec, ma, N)],
    ["2 empty FFI calls", () => {
      for (let i = 0; i < N; i++) {
        noop();
        noop();
      }
      return 0;
    }],
  );
  g.keepFloorStates = states;
}
const best: Record<string, number> = {};
for (let r = 0; r < 7; r++) {
  for (const [k, f] of rows) {
    const t = performance.now();
    f();
    const ns = ((performance.now() - t) * 1e6) / N;
    if (r > 0) best[k] = Math.min(best[k] ?? Infinity, ns); // round 0: warm-up
  }
}
const load = g.Deno ? g.Deno.loadavg()[0] : (await import("node:os")).loadavg()[0];
console.log(JSON.stringify({
  runtime: g.Deno ? "deno" : "bun",
  repo,
  fastPaths: fast,
  load1: load,
  nsPerPair: Object.fromEntries(Object.entries(best).map(([k, v]) => [k, +v.toFixed(1)])),
}));
seg.close();
