/**
 * Cross-process throughput: a producer child process (this runtime, then the other
 * one when it is installed) sends 8-byte messages (f64 0, 1, 2, ...) and this process
 * consumes them, through Queue, SpscQueue and RingBuffer, and through a Unix domain
 * socket (node:net, which both runtimes provide) as the baseline, in the same run and
 * with the same number of messages.
 *
 * Each structure and the socket run one message per call and 64 per call (pushBulk /
 * popBulk; 64 messages per socket write). The child sends ROUNDS x COUNT messages;
 * rates are messages per second per round (first round timed from the first message,
 * so process start-up is excluded), best and median of the rounds. Both sides spin
 * (the consumer polls tryPop, the producer retries while full), so on a 2-core machine
 * each process has a core; the socket consumer sleeps in the event loop instead.
 *
 *   deno run -A bench/crossprocess.bench.ts    |    bun bench/crossprocess.bench.ts
 *   (SHMKIT_XBENCH_COUNT / SHMKIT_XBENCH_ROUNDS override the message count / rounds.)
 */
import { spawn } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { f64, Queue, RingBuffer, Segment, SpscQueue } from "../mod.ts";
import { benchSegmentName, runtime } from "./common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const env = (k: string): string | undefined => (g.Deno ? g.Deno.env.get(k) : g.process.env[k]);
const COUNT = Number(env("SHMKIT_XBENCH_COUNT") ?? 500_000);
const ROUNDS = Number(env("SHMKIT_XBENCH_ROUNDS") ?? 3);
const TOTAL = COUNT * ROUNDS;
const CAP = 4096;
const BATCH = 64;
const CHECKSUM = (TOTAL * (TOTAL - 1)) / 2; // exact: TOTAL stays far below 2^26

const self: "deno" | "bun" = g.Bun ? "bun" : "deno";
const script = decodeURIComponent(new URL("./crossprocess_producer.ts", import.meta.url).pathname);

/** Executable of `rt`: this process's own, SHMKIT_DENO/SHMKIT_BUN (scripts/setup.sh), else a PATH lookup. */
function executable(rt: "deno" | "bun"): string | undefined {
  if (rt === self) return g.Deno ? g.Deno.execPath() : g.process.execPath;
  const fromEnv = env(rt === "deno" ? "SHMKIT_DENO" : "SHMKIT_BUN");
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (dir && existsSync(`${dir}/${rt}`)) return `${dir}/${rt}`;
  }
  return undefined;
}

function startChild(rt: "deno" | "bun", args: string[]): Promise<number | null> {
  const exe = executable(rt)!;
  const argv = rt === "deno" ? ["run", "-A", "--quiet", script, ...args] : [script, ...args];
  const child = spawn(exe, argv, { stdio: ["ignore", "inherit", "inherit"] });
  return new Promise((resolve) => child.on("close", (code: number | null) => resolve(code)));
}

/** Per-round rates (msgs/s) from the times at which messages 1, COUNT, 2 COUNT, ... arrived. */
function rates(marks: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const n = r === 0 ? COUNT - 1 : COUNT;
    out.push(n / ((marks[r + 1] - marks[r]) / 1000));
  }
  return out;
}

/** Spins until `done` or no progress for 30 s (the producer died): the event loop is blocked meanwhile. */
function stalled(last: number): boolean {
  return performance.now() - last > 30_000;
}

type Kind = "queue" | "spsc" | "ring";

/** Consumes TOTAL messages from a fresh structure fed by a child of runtime `rt`. */
async function shm(rt: "deno" | "bun", seg: Segment, segName: string, kind: Kind, batch: number): Promise<number[]> {
  const name = `${kind}-${rt}-${batch}`;
  const s = kind === "ring"
    ? RingBuffer.create(seg, name, f64, CAP)
    : kind === "spsc"
    ? SpscQueue.create(seg, name, f64, CAP)
    : Queue.create(seg, name, f64, CAP);
  const exited = startChild(rt, ["shm", segName, name, kind, String(TOTAL), String(batch)]);
  const marks: number[] = [];
  let got = 0;
  let sum = 0;
  let last = performance.now();
  let polls = 0;
  if (batch === 1) {
    const q = s as Queue<number> | SpscQueue<number> | RingBuffer<number>;
    while (got < TOTAL) {
      const v = q.tryPop();
      if (v === undefined) {
        if ((++polls & 0xfffff) === 0 && stalled(last)) throw new Error(`${name}: producer stalled at ${got}`);
        continue;
      }
      sum += v;
      got++;
      if (got === 1 || got % COUNT === 0) last = marks[marks.length] = performance.now();
    }
  } else if (kind === "ring") {
    const r = s as RingBuffer<number>;
    const out = new Float64Array(batch);
    while (got < TOTAL) {
      const n = r.popBulk(out);
      if (n === 0) {
        if ((++polls & 0xfffff) === 0 && stalled(last)) throw new Error(`${name}: producer stalled at ${got}`);
        continue;
      }
      for (let i = 0; i < n; i++) {
        sum += out[i];
        got++;
        if (got === 1 || got % COUNT === 0) last = marks[marks.length] = performance.now();
      }
    }
  } else {
    const q = s as Queue<number> | SpscQueue<number>;
    const out: number[] = [];
    while (got < TOTAL) {
      out.length = 0;
      q.popBulk(batch, out);
      const n = out.length;
      if (n === 0) {
        if ((++polls & 0xfffff) === 0 && stalled(last)) throw new Error(`${name}: producer stalled at ${got}`);
        continue;
      }
      for (let i = 0; i < n; i++) {
        sum += out[i];
        got++;
        if (got === 1 || got % COUNT === 0) last = marks[marks.length] = performance.now();
      }
    }
  }
  const code = await exited;
  if (code !== 0) throw new Error(`${name}: producer exited with ${code}`);
  if (sum !== CHECKSUM) throw new Error(`${name}: checksum ${sum}, expected ${CHECKSUM}`);
  s.close();
  return rates(marks);
}

/** Receives TOTAL messages over a Unix domain socket from a child of runtime `rt`. */
async function socket(rt: "deno" | "bun", batch: number): Promise<number[]> {
  const path = `/tmp/shmkit-bench-${g.Deno?.pid ?? g.process.pid}-${rt}-${batch}.sock`;
  if (existsSync(path)) unlinkSync(path);
  const marks: number[] = [];
  let got = 0;
  let sum = 0;
  // Messages may straddle chunks: keep the partial tail and decode from an 8-aligned copy.
  let scratch = new Uint8Array(1 << 16);
  let pend = 0;
  const finished = new Promise<void>((resolve, reject) => {
    const server = createServer((conn: Socket) => {
      conn.on("data", (chunk: Uint8Array) => {
        const bytes = pend + chunk.length;
        if (bytes > scratch.length) {
          const bigger = new Uint8Array(Math.max(bytes, scratch.length * 2));
          bigger.set(scratch.subarray(0, pend));
          scratch = bigger;
        }
        scratch.set(chunk, pend);
        const n = bytes >> 3;
        const vals = new Float64Array(scratch.buffer, 0, n);
        for (let i = 0; i < n; i++) {
          sum += vals[i];
          got++;
          if (got === 1 || got % COUNT === 0) marks.push(performance.now());
        }
        pend = bytes & 7;
        scratch.copyWithin(0, n << 3, bytes);
      });
      conn.on("end", () => {
        server.close();
        resolve();
      });
      conn.on("error", reject);
    });
    server.on("error", reject);
    server.listen(path, () => {
      startChild(rt, ["sock", path, String(TOTAL), String(batch)]).then((code) => {
        if (code !== 0) reject(new Error(`socket producer exited with ${code}`));
      });
    });
  });
  await finished;
  if (existsSync(path)) unlinkSync(path);
  if (got !== TOTAL || sum !== CHECKSUM) throw new Error(`socket: got ${got} messages, checksum ${sum}, expected ${CHECKSUM}`);
  return rates(marks);
}

const fmt = (r: number) => `${(r / 1e6).toFixed(2).padStart(7)} M/s`;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

const segName = benchSegmentName("xproc");
Segment.unlink(segName);
const seg = Segment.create(segName, { size: 16 << 20 });
console.log(`${runtime}: consumer; ${ROUNDS} rounds x ${COUNT} 8-byte messages per case; capacity ${CAP}; best / median round`);
try {
  for (const rt of [self, self === "deno" ? "bun" : "deno"] as const) {
    if (executable(rt) === undefined) {
      console.log(`(no ${rt} executable found: skipping the ${rt} producer)`);
      continue;
    }
    const rows: [string, number[]][] = [];
    rows.push(["Unix socket, 1 msg per write (baseline)", await socket(rt, 1)]);
    rows.push([`Unix socket, ${BATCH} msgs per write (baseline)`, await socket(rt, BATCH)]);
    for (const [kind, label] of [["queue", "Queue (MPMC)"], ["spsc", "SpscQueue"], ["ring", "RingBuffer"]] as const) {
      rows.push([`${label} tryPush/tryPop`, await shm(rt, seg, segName, kind, 1)]);
      rows.push([`${label} pushBulk/popBulk ${BATCH}`, await shm(rt, seg, segName, kind, BATCH)]);
    }
    const sock1 = Math.max(...rows[0][1]);
    const sockB = Math.max(...rows[1][1]);
    console.log(`\nproducer: ${rt} child -> consumer: ${self} (this process)`);
    console.log(`${"".padEnd(44)} ${"best".padStart(11)} ${"median".padStart(11)}   vs socket 1/write   vs socket ${BATCH}/write`);
    for (const [label, r] of rows) {
      const best = Math.max(...r);
      console.log(
        `${label.padEnd(44)} ${fmt(best)} ${fmt(median(r))}   ${(best / sock1).toFixed(1).padStart(8)}x   ${(best / sockB).toFixed(1).padStart(14)}x`,
      );
    }
  }
} finally {
  seg.close();
  Segment.unlink(segName);
}
