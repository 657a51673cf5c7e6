/**
 * Cross-process throughput, on mitata: a producer child process (this runtime, then
 * the other one when its executable is found: SHMKIT_DENO / SHMKIT_BUN, else PATH)
 * sends 8-byte messages (f64) and this process consumes them, through Queue,
 * SpscQueue and RingBuffer, and through a Unix domain socket (node:net, which both
 * runtimes provide) as the baseline, in the same run.
 *
 * Each benchmark has its own long-lived producer child (bench/crossprocess_producer.ts),
 * started before and stopped after it. ONE iteration = ONE batch of BATCH messages:
 * this process requests batch k (through a request Queue, or on the socket), the child
 * sends k*BATCH ... k*BATCH + BATCH - 1, and the iteration ends when all BATCH have
 * arrived; it checks the count and the exact sum. So the time per iteration includes
 * one request hop, and msgs/s = BATCH / mitata's average time per iteration.
 *
 * Two summaries per producer runtime: one message per call (tryPush/tryPop, one socket
 * write per message) against the socket with 1 message per write, and PER_CALL
 * messages per call (pushBulk/popBulk) against the socket with PER_CALL per write.
 * The shm consumers spin (tryPop / popBulk in a loop) and the producer retries while
 * the structure is full, so on a 2-core machine each process has a core; the socket
 * consumer sleeps in the event loop instead.
 *
 *   deno run -A bench/crossprocess.bench.ts    |    bun bench/crossprocess.bench.ts
 *   (SHMKIT_XBENCH_BATCH overrides the messages per iteration.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import process from "node:process";
import { bench, group, run, summary } from "mitata";
import { f64, Queue, RingBuffer, Segment, SpscQueue } from "../mod.ts";
import { benchSegmentName, env, executable, other, type Runtime, runtime, scriptArgv, self } from "./common.ts";

const BATCH = Number(env("SHMKIT_XBENCH_BATCH") ?? 10_000);
const CAP = 4096;
const PER_CALL = 64;
/** No progress for this long means the producer is gone: fail instead of hanging. */
const STALL_MS = 10_000;

const script = decodeURIComponent(new URL("./crossprocess_producer.ts", import.meta.url).pathname);
/** The exact sum of batch k: BATCH * k*BATCH + BATCH (BATCH - 1) / 2 (exact in f64 far beyond any run). */
const expectedSum = (k: number) => BATCH * k * BATCH + (BATCH * (BATCH - 1)) / 2;

const segName = benchSegmentName("xproc");
Segment.unlink(segName);
const seg = Segment.create(segName, { size: 16 << 20 });

// ------------------------------------------------------------------ children

const children = new Set<ChildProcess>();

function startChild(rt: Runtime, args: string[]): ChildProcess {
  const child = spawn(executable(rt)!, scriptArgv(rt, script, args), { stdio: ["ignore", "inherit", "inherit"] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Waits for the child's exit (SIGKILL after 5 s) and fails unless it exited with 0. */
async function stopped(child: ChildProcess, what: string): Promise<void> {
  let code = child.exitCode;
  if (code === null && child.signalCode === null) {
    code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }
  if (code !== 0) throw new Error(`${what}: producer exited with ${code}`);
}

function check(what: string, k: number, got: number, sum: number): void {
  if (got !== BATCH || sum !== expectedSum(k)) {
    throw new Error(`${what}: batch ${k}: got ${got} messages summing to ${sum}, expected ${BATCH} summing to ${expectedSum(k)}`);
  }
}

// ------------------------------------------------------------------ benchmarks

type Kind = "queue" | "spsc" | "ring";
const LABELS: Record<Kind, string> = { queue: "Queue (MPMC)", spsc: "SpscQueue", ring: "RingBuffer" };
let serial = 0;

/** Consumes batches from a fresh structure fed by a child of runtime `rt`, `perCall` messages per call. */
function shmBench(rt: Runtime, kind: Kind, perCall: number): string {
  const label = perCall === 1 ? `${LABELS[kind]} tryPush/tryPop` : `${LABELS[kind]} pushBulk/popBulk ${perCall}`;
  bench(label, async function* () {
    const id = serial++;
    const name = `${kind}-${id}`;
    const req = Queue.create(seg, `req-${id}`, f64, 4);
    const s = kind === "ring"
      ? RingBuffer.create(seg, name, f64, CAP)
      : kind === "spsc"
      ? SpscQueue.create(seg, name, f64, CAP)
      : Queue.create(seg, name, f64, CAP);
    const child = startChild(rt, ["shm", segName, name, kind, String(BATCH), String(perCall), req.name]);
    let k = 0;
    let t0 = 0;
    let polls = 0;
    /** Called on an empty poll: fails after STALL_MS without the batch completing (the event loop is blocked meanwhile). */
    const empty = (got: number) => {
      if ((++polls & 0xfffff) === 0 && performance.now() - t0 > STALL_MS) {
        throw new Error(
          `${label}: batch ${k} stalled at ${got} of ${BATCH} (producer ${child.exitCode === null ? "running" : "gone"})`,
        );
      }
    };
    if (perCall === 1) {
      const q = s as Queue<number> | SpscQueue<number> | RingBuffer<number>;
      yield () => {
        req.push(++k);
        t0 = performance.now();
        let got = 0;
        let sum = 0;
        while (got < BATCH) {
          const v = q.tryPop();
          if (v === undefined) {
            empty(got);
            continue;
          }
          sum += v;
          got++;
        }
        check(label, k, got, sum);
      };
    } else if (kind === "ring") {
      const r = s as RingBuffer<number>;
      const out = new Float64Array(perCall);
      yield () => {
        req.push(++k);
        t0 = performance.now();
        let got = 0;
        let sum = 0;
        while (got < BATCH) {
          // Never ask for more than the batch holds: a pop past it would wait for batch k + 1.
          const n = r.popBulk(BATCH - got >= perCall ? out : out.subarray(0, BATCH - got));
          if (n === 0) {
            empty(got);
            continue;
          }
          for (let i = 0; i < n; i++) sum += out[i];
          got += n;
        }
        check(label, k, got, sum);
      };
    } else {
      const q = s as Queue<number> | SpscQueue<number>;
      const out: number[] = [];
      yield () => {
        req.push(++k);
        t0 = performance.now();
        let got = 0;
        let sum = 0;
        while (got < BATCH) {
          out.length = 0;
          q.popBulk(Math.min(perCall, BATCH - got), out);
          const n = out.length;
          if (n === 0) {
            empty(got);
            continue;
          }
          for (let i = 0; i < n; i++) sum += out[i];
          got += n;
        }
        check(label, k, got, sum);
      };
    }
    req.push(-1);
    await stopped(child, label);
    if (s.size !== 0) throw new Error(`${label}: ${s.size} messages left over`);
    req.close();
    s.close();
  });
  return label;
}

/** Receives batches over a Unix domain socket from a child of runtime `rt`, `perCall` messages per write. */
function socketBench(rt: Runtime, perCall: number): string {
  const label = `Unix socket, ${perCall} msg${perCall === 1 ? "" : "s"} per write`;
  bench(label, async function* () {
    const path = `/tmp/shmkit-bench-${process.pid}-${serial++}.sock`;
    if (existsSync(path)) unlinkSync(path);
    let got = 0;
    let sum = 0;
    let k = 0;
    let done: (() => void) | undefined;
    let failed: ((e: Error) => void) | undefined;
    const fail = (e: Error) => (failed ? failed(e) : console.error(e));
    // Messages may straddle chunks: keep the partial tail and decode from an 8-aligned copy.
    let scratch = new Uint8Array(1 << 16);
    let pend = 0;
    const onData = (chunk: Uint8Array) => {
      const bytes = pend + chunk.length;
      if (bytes > scratch.length) {
        const bigger = new Uint8Array(Math.max(bytes, scratch.length * 2));
        bigger.set(scratch.subarray(0, pend));
        scratch = bigger;
      }
      scratch.set(chunk, pend);
      const n = bytes >> 3;
      const vals = new Float64Array(scratch.buffer, 0, n);
      for (let i = 0; i < n; i++) sum += vals[i];
      got += n;
      pend = bytes & 7;
      scratch.copyWithin(0, n << 3, bytes);
      if (got > BATCH) fail(new Error(`${label}: batch ${k}: ${got} messages, more than ${BATCH}`));
      else if (got === BATCH && pend === 0) done?.();
    };
    const server = createServer();
    let child!: ChildProcess;
    const conn = await new Promise<Socket>((resolve, reject) => {
      server.on("connection", (c: Socket) => resolve(c));
      server.on("error", reject);
      server.listen(path, () => {
        child = startChild(rt, ["sock", path, String(BATCH), String(perCall)]);
        child.on("exit", (code) => {
          reject(new Error(`${label}: producer exited with ${code} before connecting`));
          if (code !== 0) fail(new Error(`${label}: producer exited with ${code}`));
        });
      });
    });
    server.close(); // no more connections; `conn` stays open
    conn.on("data", onData);
    conn.on("error", (e: Error) => fail(e));
    const request = new Float64Array(1);
    const requestBytes = new Uint8Array(request.buffer); // reused: the previous request was answered, so it was flushed
    yield async () => {
      got = 0;
      sum = 0;
      request[0] = ++k;
      await new Promise<void>((resolve, reject) => {
        done = resolve;
        failed = reject;
        conn.write(requestBytes);
      });
      done = failed = undefined;
      check(label, k, got, sum);
    };
    conn.end();
    await stopped(child, label);
    if (existsSync(path)) unlinkSync(path);
  }).baseline(true);
  return label;
}

// ------------------------------------------------------------------ main

console.log(`${runtime}: consumer; one iteration = one batch of ${BATCH} 8-byte messages from a producer child, capacity ${CAP}`);
/** Per summary: its baseline's label, then the other labels, in the order mitata runs them. */
const layout: { title: string; labels: string[] }[] = [];
for (const rt of [self, other]) {
  if (executable(rt) === undefined) {
    console.log(`(no ${rt} executable found: skipping the ${rt} producer; set SHMKIT_${rt.toUpperCase()} or PATH)`);
    continue;
  }
  for (const perCall of [1, PER_CALL]) {
    const per = perCall === 1 ? "1 message" : `${perCall} messages`;
    const title = `producer: ${rt} child -> consumer: ${self} (this process), ${per} per call`;
    const labels: string[] = [];
    summary(() => {
      group(title, () => {
        labels.push(socketBench(rt, perCall)); // the baseline
        for (const kind of ["queue", "spsc", "ring"] as const) labels.push(shmBench(rt, kind, perCall));
      });
    });
    layout.push({ title, labels });
  }
}

let code = 0;
try {
  const { benchmarks } = await run({ throw: true });
  // mitata reports time per iteration; turn its average into messages per second.
  console.log(`\nthroughput = ${BATCH} messages / mitata's avg time per iteration (request hop included)`);
  let i = 0;
  for (const { title, labels } of layout) {
    const rate = labels.map((label) => {
      const b = benchmarks[i++];
      if (b.alias !== label) throw new Error(`results out of order: ${b.alias} where ${label} was expected`);
      return BATCH / (b.runs[0].stats!.avg / 1e9);
    });
    console.log(`\n${title}`);
    labels.forEach((label, j) => {
      const ratio = j === 0 ? "baseline" : `${(rate[j] / rate[0]).toFixed(1)}x socket`;
      console.log(`  ${label.padEnd(36)} ${(rate[j] / 1e6).toFixed(2).padStart(8)} M msgs/s   ${ratio}`);
    });
  }
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  for (const c of children) c.kill("SIGKILL");
  seg.close();
  Segment.unlink(segName);
}
process.exit(code);
