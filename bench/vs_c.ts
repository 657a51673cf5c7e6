/**
 * shmkit against C, in one run: the same algorithms and workloads written in C
 * (bench/c/, built with `zig cc -O2 -DNDEBUG`) and in TypeScript on shmkit
 * (bench/vs_c_worker.ts), for Deno↔Deno, Bun↔Bun and Deno↔Bun process pairs.
 *
 *   bash scripts/bench.sh --vs-c [--quick] [--rounds N] [--only id,id] [--out file]
 *   deno task bench:c                     (the same)
 *
 * Every measurement is a fresh pair of processes (or one, for the same-thread rows).
 * Rounds interleave: each round runs every experiment once per runtime pair, its C
 * baseline right next to it (C first in even rounds, TS first in odd ones), so noise
 * from other work on the machine hits both sides of a ratio. A row's ratio is shmkit's
 * best round over C's best round (time per message, or per round trip); medians are
 * reported too. The results go to bench/results/vs-c.json (an array of rows, each
 * carrying the machine it ran on) and a table is printed; `deno run -A bench/report.ts`
 * turns that file into docs/BENCHMARKS.md's and README.md's tables and the SVG charts.
 * docs/BENCHMARKS.md explains every row.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import process from "node:process";
import { f64, Queue, RingBuffer, Segment, SpscQueue } from "../mod.ts";
import { buildC, cPath, zig } from "./c/build.ts";
import { benchSegmentName, executable, type Runtime, scriptArgv } from "./common.ts";
import { type Elem, elementType, type Kind, type RttMode } from "./vs_c_worker.ts";

// ------------------------------------------------------------------ sizes

/** Message counts and iterations of one run; both sides of a ratio use the same. */
export interface Sizes {
  /** 8-byte messages per cross-process throughput measurement. */
  n: number;
  /** 64-byte messages per measurement. */
  n64: number;
  /** push+pop pairs per same-thread measurement. */
  nSame: number;
  /** Timed round trips: spinning, parking (futex, park, async), and socket / pipe. */
  spinIters: number;
  parkIters: number;
  streamIters: number;
  rounds: number;
}
// Message counts include the untimed warm-up (`warmOf`: three quarters), so each full
// throughput row times 4M messages (1M of 64 bytes) after 12M (3M) untimed.
export const FULL: Sizes = {
  n: 16_000_000,
  n64: 4_000_000,
  nSame: 16_000_000,
  spinIters: 200_000,
  parkIters: 20_000,
  streamIters: 20_000,
  // Cross-process rows on this VM are bimodal run to run (docs/BENCHMARKS.md "Caveats"):
  // nine rounds give each side, C and TypeScript alike, more chances at its undisturbed best.
  rounds: 9,
};
export const QUICK: Sizes = {
  n: 4_000_000,
  n64: 1_000_000,
  nSame: 4_000_000,
  spinIters: 50_000,
  parkIters: 4_000,
  streamIters: 4_000,
  rounds: 2,
};
/** For tests: checks that everything runs and verifies, measures nothing. */
export const TINY: Sizes = { n: 4096, n64: 1024, nSame: 4096, spinIters: 200, parkIters: 50, streamIters: 50, rounds: 1 };

/** Capacity of every throughput structure (a power of two, so Queue's ring is exactly this). */
export const CAP = 4096;
/** Capacity of the two ping-pong queues (one message in flight). */
export const RTT_CAP = 16;
/**
 * Untimed messages before the clock starts: three quarters, a multiple of the bulk size.
 * An eighth (the first choice) left Bun's JIT tiers compiling inside the timed window on
 * this 2-core VM, where the two spinning processes leave its compiler threads no core:
 * Bun<->Bun mpmc-bulk64 was 17.6-30.2 ns/msg with it, 6.5-21.6 (median ~9) with three
 * quarters, and 6.1-14.3 with compilation moved onto the main thread
 * (BUN_JSC_useConcurrentJIT=0); docs/BENCHMARKS.md "How it is measured".
 */
export const warmOf = (n: number) => Math.max(64, Math.floor((n * 3) / 4 / 64) * 64);
/** Untimed round trips before the timed ones. */
export const rttWarmOf = (iters: number) => Math.max(10, Math.floor(iters / 10));

// ------------------------------------------------------------------ processes

/** `deno`, `bun`: both processes in that runtime; `deno-bun`: producer (or initiator) Deno, consumer (or echo) Bun. */
export type Pair = "deno" | "bun" | "deno-bun";
export const PAIRS: Record<Pair, [Runtime, Runtime]> = {
  deno: ["deno", "deno"],
  bun: ["bun", "bun"],
  "deno-bun": ["deno", "bun"],
};

const WORKER = decodeURIComponent(new URL("./vs_c_worker.ts", import.meta.url).pathname);
/** A measurement that takes longer than this is stuck: kill it and fail. */
const RUN_TIMEOUT_MS = 120_000;

interface Proc {
  what: string;
  child: ChildProcess;
  done: Promise<string>;
}

/** Starts a process; `done` resolves with its stdout if it exits 0 and rejects (with its stderr) otherwise. */
function launch(what: string, cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (s: string) => (stdout += s));
  child.stderr!.on("data", (s: string) => (stderr += s));
  const done = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("error", (e) => reject(new Error(`${what}: ${e.message}`)));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${what} failed (exit ${code ?? signal}):\n${stderr.trim() || stdout.trim()}`));
    });
  });
  return { what, child, done };
}

function worker(rt: Runtime, args: (string | number)[]): Proc {
  const exe = executable(rt);
  if (exe === undefined) throw new Error(`no ${rt} executable: set SHMKIT_${rt.toUpperCase()} or put ${rt} on PATH`);
  return launch(`${rt} vs_c_worker.ts ${args.join(" ")}`, exe, scriptArgv(rt, WORKER, args.map(String)));
}

/** Waits for all; if one fails, kills the rest (a consumer whose producer died would spin forever) and throws. */
async function all(procs: Proc[]): Promise<string[]> {
  try {
    return await Promise.all(procs.map((p) => p.done));
  } catch (e) {
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.allSettled(procs.map((p) => p.done));
    throw e;
  }
}

/** The JSON line a measuring process printed last. */
function lastJson(stdout: string): Record<string, number> {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`expected a JSON result line, got: ${stdout.trim().slice(-500)}`);
  }
}

/** Runs a C baseline (bench/c/out/<program>) and returns its result line. */
export async function runC(program: string, args: (string | number)[]): Promise<Record<string, number>> {
  const p = launch(`bench/c/out/${program} ${args.join(" ")}`, cPath(program), args.map(String));
  return lastJson((await all([p]))[0]);
}

let serial = 0;

/** A fresh segment for one measurement, removed afterwards. */
async function withSegment<T>(fn: (seg: Segment) => Promise<T>): Promise<T> {
  const name = benchSegmentName(`vsc${serial++}`);
  Segment.unlink(name);
  const seg = Segment.create(name, { size: 4 << 20 });
  try {
    return await fn(seg);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}

function createStructure(seg: Segment, kind: Kind, elem: Elem, capacity: number): { size: number } {
  const type = elementType(elem) as never;
  if (kind === "spsc") return SpscQueue.create(seg, "q", type, capacity);
  if (kind === "mpmc") return Queue.create(seg, "q", type, capacity);
  return RingBuffer.create(seg, "q", type, capacity);
}

/** Cross-process throughput in TS: producer in the pair's first runtime, consumer (which measures) in its second. */
export function tsThroughput(pair: Pair, kind: Kind, elem: Elem, batch: number, n: number, corrupt = false) {
  return withSegment(async (seg) => {
    const q = createStructure(seg, kind, elem, CAP);
    const [prodRt, consRt] = PAIRS[pair];
    const consumer = worker(consRt, ["consume", seg.name, "q", kind, elem, n, warmOf(n), batch]);
    const producer = worker(prodRt, ["produce", seg.name, "q", kind, elem, n, batch, ...(corrupt ? ["corrupt"] : [])]);
    const [out] = await all([consumer, producer]);
    if (q.size !== 0) throw new Error(`${kind} ${elem}: ${q.size} messages left over`);
    return lastJson(out);
  });
}

/** Push+pop pairs in one TS process. */
export function tsSame(rt: Runtime, kind: Kind, n: number) {
  return withSegment(async (seg) => {
    createStructure(seg, kind, "f64", CAP);
    const [out] = await all([worker(rt, ["same", seg.name, "q", kind, n, warmOf(n)])]);
    return lastJson(out);
  });
}

/** Round trips through two SpscQueue<f64>: the initiator (which measures) in the pair's first runtime, the echo in its second. */
export function tsRtt(pair: Pair, mode: RttMode, iters: number, corruptAt?: number) {
  return withSegment(async (seg) => {
    SpscQueue.create(seg, "ping", f64, RTT_CAP);
    SpscQueue.create(seg, "pong", f64, RTT_CAP);
    const [initRt, echoRt] = PAIRS[pair];
    const echo = worker(echoRt, ["echo", seg.name, "ping", "pong", mode, ...(corruptAt === undefined ? [] : [corruptAt])]);
    const ping = worker(initRt, ["ping", seg.name, "ping", "pong", mode, iters, rttWarmOf(iters)]);
    const [, out] = await all([echo, ping]);
    return lastJson(out);
  });
}

/** Round trips over a Unix socket or a pipe (node:net / child stdio) to bench/pingpong_echo.ts. */
export async function tsStream(pair: Pair, kind: "socket" | "pipe", iters: number) {
  const [initRt, echoRt] = PAIRS[pair];
  const [out] = await all([worker(initRt, ["stream", kind, echoRt, iters, rttWarmOf(iters)])]);
  return lastJson(out);
}

// ------------------------------------------------------------------ what is measured

type Metric = "nsPerMsg" | "p50" | "p99" | "p999";
type Result = Record<string, number>;

interface RowSpec {
  workload: string;
  metric: Metric;
  /** Which of the experiment's C runs this row compares against. */
  c: string;
  /** The target for the ratio (later optimisation), if it sets one. */
  bar?: number;
  what: string;
}

interface Experiment {
  id: string;
  pairs: Pair[];
  ts(pair: Pair, s: Sizes): Promise<Result>;
  /** C runs made next to every TS run of this experiment, by name. */
  c: Record<string, (s: Sizes) => Promise<Result>>;
  rows: RowSpec[];
}

const ALL_PAIRS: Pair[] = ["deno", "bun", "deno-bun"];
const ALGO: Record<Kind, string> = {
  spsc: "SpscQueue (C: Rigtorp SPSC ring)",
  mpmc: "Queue (C: Vyukov MPMC)",
  ring: "RingBuffer (C: the same CAS-commit ring)",
};
const cThroughput = (kind: Kind, bytes: 8 | 64, batch: number) => (s: Sizes) => {
  const n = bytes === 8 ? s.n : s.n64;
  return runC(`throughput${bytes}`, [kind, "xproc", n, CAP, warmOf(n), batch]);
};
const cRtt = (mode: "spin" | "futex") => (s: Sizes) => {
  const iters = mode === "spin" ? s.spinIters : s.parkIters;
  return runC("pingpong", [mode, iters, rttWarmOf(iters)]);
};
const cStream = (kind: "socket" | "pipe") => (s: Sizes) => runC("stream", [kind, s.streamIters, rttWarmOf(s.streamIters)]);

function oneByOne(kind: Kind, bar?: number): Experiment {
  return {
    id: `${kind}-1`,
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsThroughput(pair, kind, "f64", 1, s.n),
    c: { one: cThroughput(kind, 8, 1) },
    rows: [{
      workload: `${kind}-1`,
      metric: "nsPerMsg",
      c: "one",
      bar,
      what: `${ALGO[kind]}, 8-byte f64, tryPush/tryPop one per call, cross-process`,
    }],
  };
}

function bulk(kind: Kind): Experiment {
  return {
    id: `${kind}-bulk64`,
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsThroughput(pair, kind, "f64", 64, s.n),
    c: { one: cThroughput(kind, 8, 1), bulk: cThroughput(kind, 8, 64) },
    rows: [
      {
        workload: `${kind}-bulk64`,
        metric: "nsPerMsg",
        c: "one",
        bar: 1,
        what: `${ALGO[kind]}, 8-byte f64, pushBulk/popBulk 64 per call, against C one per call`,
      },
      { workload: `${kind}-bulk64-cbulk`, metric: "nsPerMsg", c: "bulk", what: `the same against C's own 64-per-call bulk` },
    ],
  };
}

function struct64(kind: Kind): Experiment {
  return {
    id: `${kind}-struct64`,
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsThroughput(pair, kind, "msg64", 1, s.n64),
    c: { one: cThroughput(kind, 64, 1) },
    rows: [{
      workload: `${kind}-struct64`,
      metric: "nsPerMsg",
      c: "one",
      bar: 2,
      what: `${
        ALGO[kind]
      }, 64-byte struct, one per call (tryPushStaged of the staging struct, tryPopInto one object), cross-process`,
    }],
  };
}

function same(kind: Kind): Experiment {
  return {
    id: `same-thread-${kind}`,
    pairs: ["deno", "bun"],
    ts: (pair, s) => tsSame(PAIRS[pair][0], kind, s.nSame),
    c: { same: (s) => runC("throughput8", [kind, "same", s.nSame, CAP, warmOf(s.nSame), 1]) },
    rows: [{
      workload: `same-thread-${kind}`,
      metric: "nsPerMsg",
      c: "same",
      bar: 3,
      what: `${ALGO[kind]}, push then pop of one f64 in one process`,
    }],
  };
}

export const EXPERIMENTS: Experiment[] = [
  oneByOne("spsc", 2),
  oneByOne("mpmc", 2),
  oneByOne("ring"),
  bulk("spsc"),
  bulk("mpmc"),
  bulk("ring"),
  struct64("spsc"),
  struct64("mpmc"),
  same("spsc"),
  same("mpmc"),
  {
    id: "rtt",
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsRtt(pair, "spin", s.spinIters),
    c: { spin: cRtt("spin") },
    rows: [
      {
        workload: "rtt-p50",
        metric: "p50",
        c: "spin",
        bar: 1.2,
        what: "spin ping-pong through two SpscQueue<f64> (C: two Rigtorp rings), median round trip",
      },
      { workload: "rtt-p99", metric: "p99", c: "spin", what: "the same, 99th percentile" },
      { workload: "rtt-p99.9", metric: "p999", c: "spin", bar: 1.5, what: "the same, 99.9th percentile" },
    ],
  },
  {
    id: "futex",
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsRtt(pair, "futex", s.parkIters),
    c: { futex: cRtt("futex") },
    rows: [
      {
        workload: "futex-rtt",
        metric: "p50",
        c: "futex",
        bar: 2,
        what:
          "park-every-time ping-pong: push + popWait({ spin: 0 }) on both sides (C: FUTEX_WAIT/FUTEX_WAKE every time), median",
      },
      { workload: "futex-rtt-p99.9", metric: "p999", c: "futex", what: "the same, 99.9th percentile" },
    ],
  },
  {
    id: "park",
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsRtt(pair, "park", s.parkIters),
    c: { futex: cRtt("futex") },
    rows: [
      {
        workload: "park-rtt",
        metric: "p50",
        c: "futex",
        bar: 1.5,
        what:
          "park-only with the async path: push + await popAsync({ spin: 0 }) against a popWait({ spin: 0 }) echo (C: futex ping-pong), median",
      },
    ],
  },
  {
    id: "async",
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsRtt(pair, "async", s.parkIters),
    c: { spin: cRtt("spin") },
    rows: [
      {
        workload: "async-rtt",
        metric: "p50",
        c: "spin",
        what: "push + await popAsync() (adaptive spin) against a popWait() echo, two busy processes (C: spin ping-pong), median",
      },
      { workload: "async-rtt-p99.9", metric: "p999", c: "spin", what: "the same, 99.9th percentile" },
    ],
  },
  {
    id: "socket",
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsStream(pair, "socket", s.streamIters),
    c: { socket: cStream("socket") },
    rows: [{
      workload: "socket-rtt",
      metric: "p50",
      c: "socket",
      what: "8-byte round trip over a Unix stream socket: node:net in both runtimes (C: socketpair, blocking read/write), median",
    }],
  },
  {
    id: "pipe",
    pairs: ALL_PAIRS,
    ts: (pair, s) => tsStream(pair, "pipe", s.streamIters),
    c: { pipe: cStream("pipe") },
    rows: [{
      workload: "pipe-rtt",
      metric: "p50",
      c: "pipe",
      what: "8-byte round trip through a child's stdin/stdout (C: two pipes), median",
    }],
  },
];

// ------------------------------------------------------------------ statistics and the result file

export interface Machine {
  cpu: string;
  cores: number;
  kernel: string;
  deno: string;
  bun: string;
  zig: string;
  date: string;
  mode: string;
  rounds: number;
  /** 1-minute load average at the start of every round and at the end (it counts the benchmark's own processes: ~1-2 while it runs). */
  load: number[];
}

export interface Row {
  workload: string;
  runtime: Pair;
  shmkit: number;
  c: number;
  unit: string;
  ratio: number;
  median: { shmkit: number; c: number; ratio: number };
  /**
   * Paired ratios: shmkit / C within each round (the two ran back to back, so under the
   * same machine state), and their median. On this VM the cross-process rows are bimodal
   * for both sides (docs/BENCHMARKS.md "Caveats"): `ratio` compares each side's luckiest
   * round, which may come from different regimes; `paired.median` compares like with like.
   */
  paired: { median: number; rounds: number[] };
  /** Throughput rows: messages per second of the best rounds. */
  msgsPerSec?: { shmkit: number; c: number };
  /** Round-trip rows: the best round's percentiles on each side (ns). */
  percentiles?: { shmkit: Record<string, number>; c: Record<string, number> };
  rounds: { shmkit: number[]; c: number[] };
  bar?: number;
  what: string;
  machine: Machine;
}

const sig = (x: number) => Number(x.toPrecision(4));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Rows of one experiment and runtime pair from its TS and C results (one per round). */
function rowsOf(exp: Experiment, pair: Pair, ts: Result[], c: Record<string, Result[]>, machine: Machine): Row[] {
  return exp.rows.map((spec) => {
    const a = ts.map((r) => r[spec.metric]);
    const b = c[spec.c].map((r) => r[spec.metric]);
    const best = (xs: number[]) => Math.min(...xs);
    const row: Row = {
      workload: spec.workload,
      runtime: pair,
      shmkit: sig(best(a)),
      c: sig(best(b)),
      unit: spec.metric === "nsPerMsg" ? "ns/msg" : "ns",
      ratio: sig(best(a) / best(b)),
      median: { shmkit: sig(median(a)), c: sig(median(b)), ratio: sig(median(a) / median(b)) },
      paired: { median: sig(median(a.map((x, i) => x / b[i]))), rounds: a.map((x, i) => sig(x / b[i])) },
      rounds: { shmkit: a.map(sig), c: b.map(sig) },
      what: spec.what,
      machine,
    };
    if (spec.metric === "nsPerMsg") row.msgsPerSec = { shmkit: sig(1e9 / best(a)), c: sig(1e9 / best(b)) };
    else {
      const pick = (rs: Result[]) => {
        const r = rs.reduce((x, y) => (y[spec.metric] < x[spec.metric] ? y : x));
        return { p50: sig(r.p50), p99: sig(r.p99), p999: sig(r.p999) };
      };
      row.percentiles = { shmkit: pick(ts), c: pick(c[spec.c]) };
    }
    if (spec.bar !== undefined) row.bar = spec.bar;
    return row;
  });
}

function version(cmd: string | undefined, args: string[], pattern: RegExp): string {
  if (cmd === undefined) return "missing";
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).match(pattern)?.[1] ?? "unknown";
  } catch {
    return "missing";
  }
}

function machineInfo(mode: string, rounds: number): Machine {
  let cpu = "unknown";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    cpu = info.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpu;
    // A VM's model name can stay "AMD EPYC" across CPU generations (Zen 4 was family 25, Zen 5 is 26): say which.
    const family = info.match(/^cpu family\s*:\s*(\d+)$/m)?.[1], model = info.match(/^model\s*:\s*(\d+)$/m)?.[1];
    if (family !== undefined && model !== undefined) cpu += ` (family ${family}, model ${model})`;
  } catch { /* not Linux */ }
  return {
    cpu,
    cores: cpus().length,
    kernel: release(),
    deno: version(executable("deno"), ["--version"], /deno (\S+)/),
    bun: version(executable("bun"), ["--version"], /(\S+)/),
    zig: version(zig(), ["version"], /(\S+)/),
    date: new Date().toISOString(),
    mode,
    rounds,
    load: [],
  };
}

// ------------------------------------------------------------------ the run

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Runs `experiments` for `s.rounds` interleaved rounds and returns the rows. */
export async function runAll(experiments: Experiment[], s: Sizes, machine: Machine, log = console.log): Promise<Row[]> {
  const ts = new Map<string, Result[]>();
  const c = new Map<string, Record<string, Result[]>>();
  const t0 = performance.now();
  for (let round = 0; round < s.rounds; round++) {
    machine.load.push(sig(loadavg()[0]));
    log(
      `-- round ${round + 1}/${s.rounds} at ${((performance.now() - t0) / 1000).toFixed(0)} s (load average ${
        loadavg()[0].toFixed(2)
      })`,
    );
    for (const exp of experiments) {
      for (const pair of exp.pairs) {
        const key = `${exp.id}/${pair}`;
        const runTs = async () => {
          const r = await exp.ts(pair, s);
          ts.set(key, [...(ts.get(key) ?? []), r]);
          return r;
        };
        const runCs = async () => {
          const got: Record<string, Result> = {};
          for (const [name, fn] of Object.entries(exp.c)) {
            got[name] = await fn(s);
            const all = c.get(key) ?? {};
            all[name] = [...(all[name] ?? []), got[name]];
            c.set(key, all);
          }
          return got;
        };
        // Alternate which side goes first, so neither always runs on a machine the other just warmed.
        let tr: Result, cr: Record<string, Result>;
        if (round % 2 === 0) {
          cr = await runCs();
          tr = await runTs();
        } else {
          tr = await runTs();
          cr = await runCs();
        }
        const spec = exp.rows[0];
        log(`   ${key.padEnd(24)} shmkit ${fmt(tr[spec.metric])} ns   C ${fmt(cr[spec.c][spec.metric])} ns`);
      }
    }
  }
  machine.load.push(sig(loadavg()[0]));
  const rows: Row[] = [];
  for (const exp of experiments) {
    for (const pair of exp.pairs) {
      rows.push(...rowsOf(exp, pair, ts.get(`${exp.id}/${pair}`)!, c.get(`${exp.id}/${pair}`)!, machine));
    }
  }
  return rows;
}

/** The table printed at the end of a run (and used by bench/report.ts). */
export function table(rows: Row[]): string {
  const head = ["workload", "runtime", "shmkit best", "C best", "ratio", "shmkit median", "C median", "ratio", "paired", "bar"];
  const lines = rows.map((r) => {
    const rate = r.msgsPerSec ? ` (${fmt(r.msgsPerSec.shmkit / 1e6)} M/s)` : "";
    const crate = r.msgsPerSec ? ` (${fmt(r.msgsPerSec.c / 1e6)} M/s)` : "";
    return [
      r.workload,
      r.runtime,
      `${fmt(r.shmkit)} ${r.unit}${rate}`,
      `${fmt(r.c)} ${r.unit}${crate}`,
      `${fmt(r.ratio)}x`,
      `${fmt(r.median.shmkit)}`,
      `${fmt(r.median.c)}`,
      `${fmt(r.median.ratio)}x`,
      `${fmt(r.paired.median)}x`,
      r.bar === undefined ? "" : `≤ ${r.bar}${r.ratio <= r.bar ? " ok" : ""}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const show = (l: string[]) => l.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd();
  const async = (rt: Pair) => rows.find((r) => r.workload === "async-rtt" && r.runtime === rt);
  const d = async("deno");
  const b = async("bun");
  const extra = d && b ? `\nasync-rtt, Bun over Deno (best p50): ${fmt(b.shmkit / d.shmkit)}x (target ≤ 2)` : "";
  return [show(head), ...lines.map(show)].join("\n") + extra;
}

function parseArgs(argv: string[]) {
  const opts = { sizes: { ...FULL }, mode: "full", only: undefined as string[] | undefined, out: "bench/results/vs-c.json" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") {
      opts.sizes = { ...QUICK };
      opts.mode = "quick";
    } else if (a === "--rounds") opts.sizes.rounds = Number(argv[++i]);
    else if (a === "--only") opts.only = argv[++i].split(",");
    else if (a === "--out") opts.out = argv[++i];
    else throw new Error(`unknown option ${a} (--quick, --rounds N, --only id,id, --out file)`);
  }
  if (!(opts.sizes.rounds >= 1)) throw new Error("--rounds needs a number >= 1");
  return opts;
}

async function main(): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const opts = parseArgs(g.Deno ? g.Deno.args : process.argv.slice(2));
  buildC();
  for (const rt of ["deno", "bun"] as const) {
    if (executable(rt) === undefined) {
      throw new Error(`no ${rt} executable: run through scripts/bench.sh (it sets SHMKIT_${rt.toUpperCase()})`);
    }
  }
  const experiments = opts.only
    ? EXPERIMENTS.filter((e) => opts.only!.some((o) => e.id === o || e.rows.some((r) => r.workload === o)))
    : EXPERIMENTS;
  if (experiments.length === 0) {
    throw new Error(`--only ${opts.only} matches no experiment (${EXPERIMENTS.map((e) => e.id).join(", ")})`);
  }
  const machine = machineInfo(opts.mode, opts.sizes.rounds);
  console.log(
    `shmkit vs C: ${machine.cpu}, ${machine.cores} cores, deno ${machine.deno}, bun ${machine.bun}, zig ${machine.zig}; ${opts.mode} run, ${opts.sizes.rounds} rounds`,
  );
  const t0 = performance.now();
  const rows = await runAll(experiments, opts.sizes, machine);
  mkdirSync(opts.out.replace(/\/[^/]*$/, "") || ".", { recursive: true });
  writeFileSync(opts.out, JSON.stringify(rows, null, 1) + "\n");
  console.log(`\n${table(rows)}\n`);
  console.log(
    `ratio = shmkit / C, time per message or per round trip, best round of each (median of rounds next to it);` +
      ` paired = median over rounds of shmkit / C within the round.`,
  );
  console.log(
    `load average (1 min) per round: ${machine.load.join(", ")}; ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s; wrote ${opts.out}`,
  );
}

if (import.meta.main) {
  try {
    await main();
    process.exit(0);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
