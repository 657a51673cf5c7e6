/**
 * Cross-process ping-pong round-trip latency, on mitata. Each benchmark has its own
 * long-lived echo child (bench/pingpong_echo.ts; this runtime, then the other one when
 * its executable is found: SHMKIT_DENO / SHMKIT_BUN, else PATH), started before and
 * stopped after that benchmark. ONE iteration is ONE verified round trip: send the
 * counter n, wait until the child echoes exactly n (a loop that does not really go
 * through the other process cannot finish). Waiting by
 *   - spin:            polling the word only (burns a core on each side),
 *   - spin-then-park:  shmkit's blocking default (up to DEFAULT_SPIN polls or
 *                      SPIN_LIMIT_US = 50 µs, longer than one futex wake-up), then the futex,
 *   - short-spin-then-park: ASYNC_SPIN = 128 polls (a few µs, shorter than a wake-up), then the futex,
 *   - park-only:       registering and parking on the futex at once (spin = 0),
 *   - park-only async: the same, with this side awaiting waitForAsync,
 *   - Queue popWait / popAsync: the public API, two Queue<i32> (ping, pong); the child
 *     does ping.popWait() + pong.push(), this side ping.push() + pong.popWait() (or await
 *     pong.popAsync()); a 10 s timeout on every wait turns a dead child into an error,
 * next to a Unix domain socket round trip (the baseline of the summary) and a pipe
 * round trip (node:net and node:child_process, in both runtimes) in the same run.
 * The socket, pipe and async benchmarks are async functions (one await per round trip).
 *
 * Reading the numbers: the park/spin modes are bistable on a small VM. Once one round
 * trip takes longer than the peer's spin window (a GC pause, a preemption), the peer
 * parks, its wake-up is slower than this side's spin, so this side parks too, and the
 * pair can stay in the "both park" regime (~2 futex wake-ups per round trip) for
 * hundreds of round trips. Queue push + await popAsync against a popWait peer showed it
 * most with a fixed async spin of ASYNC_SPIN = 128 polls (0.4-1 µs in one run, ~90 µs in
 * another); the adaptive async spin (src/wait/wait.ts: doubled after each short park, up to
 * 50 µs) pulls the pair back into spinning within a few round trips.
 * Spinning modes also need a core each: other load on a 2-core machine ruins them.
 *
 *   deno run -A bench/pingpong.bench.ts        bun bench/pingpong.bench.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { bench, group, run, summary } from "mitata";
import { i32, Queue, Segment, SharedArray } from "../mod.ts";
import { notify, waitFor, waitForAsync } from "../src/wait/wait.ts";
import { benchSegmentName, executable, other, type Runtime, runtime, scriptArgv, self } from "./common.ts";
import { EC_CHILD, EC_PARENT, PING, PONG, READY, spinOf, WORDS } from "./pingpong_echo.ts";

const echoScript = decodeURIComponent(new URL("./pingpong_echo.ts", import.meta.url).pathname);
/** A round trip that takes longer than this means the child is gone: fail instead of hanging. */
const TIMEOUT_MS = 10_000;

type Mode = "spin" | "spin-then-park" | "short-spin-then-park" | "park-only" | "park-only-async";
const MODES: Mode[] = ["spin", "spin-then-park", "short-spin-then-park", "park-only", "park-only-async"];

const segName = benchSegmentName("pingpong");
Segment.unlink(segName);
const seg = Segment.create(segName, { size: 1 << 20 });
const mem = seg.memory;

// ------------------------------------------------------------------ children

const children = new Set<ChildProcess>();

function startChild(rt: Runtime, args: string[], stdio: ("ignore" | "inherit" | "pipe")[]): ChildProcess {
  const child = spawn(executable(rt)!, scriptArgv(rt, echoScript, args), { stdio: stdio as never });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Resolves with the exit code; kills the child if it has not exited within `ms`. */
function exited(child: ChildProcess, ms = 5000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function stopped(child: ChildProcess, what: string): Promise<void> {
  const code = await exited(child);
  if (code !== 0) throw new Error(`${what}: echo child exited with ${code}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (without blocking the event loop) until `ready()`, failing if the child exits first. */
async function whenReady(child: ChildProcess, ready: () => boolean, what: string): Promise<void> {
  const t0 = performance.now();
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: echo child exited at start`);
    if (performance.now() - t0 > 30_000) throw new Error(`${what}: echo child did not start`);
    await sleep(2);
  }
}

const stall = (what: string, n: number) => new Error(`${what}: no echo of ${n} within ${TIMEOUT_MS} ms`);

// ------------------------------------------------------------------ benchmarks

let serial = 0;

/** The raw wait modes: words of a SharedArray and two eventcounts, as src/wait/wait.ts uses them. */
function shmBench(rt: Runtime, mode: Mode): void {
  const childMode = mode === "park-only-async" ? "park-only" : mode;
  const label = mode === "park-only-async" ? "shm park-only, async (waitForAsync)" : `shm ${mode}`;
  bench(label, async function* () {
    const arr = SharedArray.create(seg, `pp-${serial++}`, i32, WORDS);
    const v = arr.view() as Int32Array;
    const ecChild = v.byteOffset + EC_CHILD * 4;
    const ecParent = v.byteOffset + EC_PARENT * 4;
    const child = startChild(rt, ["shm", segName, arr.name, childMode], ["ignore", "inherit", "inherit"]);
    await whenReady(child, () => Atomics.load(v, READY) === 1, label);
    let n = 0;
    const echoed = () => (Atomics.load(v, PONG) === n ? true : undefined);
    const spin = spinOf(mode);
    if (mode === "spin") {
      yield () => {
        Atomics.store(v, PING, ++n);
        let k = 0;
        let t0 = 0;
        while (Atomics.load(v, PONG) !== n) {
          if ((++k & 0xfffff) === 0) {
            if (t0 === 0) t0 = performance.now();
            else if (performance.now() - t0 > TIMEOUT_MS) throw stall(label, n);
          }
        }
      };
    } else if (mode === "park-only-async") {
      yield async () => {
        Atomics.store(v, PING, ++n);
        notify(mem, ecChild, 1);
        const r = await waitForAsync(mem, ecParent, echoed, performance.now() + TIMEOUT_MS, undefined, "pong", 0);
        if (r === undefined) throw stall(label, n);
      };
    } else {
      yield () => {
        Atomics.store(v, PING, ++n);
        notify(mem, ecChild, 1);
        if (waitFor(mem, ecParent, echoed, performance.now() + TIMEOUT_MS, spin) === undefined) throw stall(label, n);
      };
    }
    Atomics.store(v, PING, -1);
    notify(mem, ecChild, 1);
    await stopped(child, label);
    arr.close();
  });
}

/** The public API: two Queues, popWait on both sides (or popAsync on this one). */
function queueBench(rt: Runtime, async: boolean): void {
  const label = async ? "Queue push + await popAsync" : "Queue push + popWait";
  bench(label, async function* () {
    const id = serial++;
    const ping = Queue.create(seg, `ping-${id}`, i32, 16);
    const pong = Queue.create(seg, `pong-${id}`, i32, 16);
    const child = startChild(rt, ["queue", segName, ping.name, pong.name], ["ignore", "inherit", "inherit"]);
    // Readiness: the child echoes a first value.
    ping.push(0);
    await whenReady(child, () => pong.tryPop() === 0, label);
    let n = 0;
    const opts = { timeout: TIMEOUT_MS };
    if (async) {
      yield async () => {
        ping.push(++n);
        const r = await pong.popAsync(opts);
        if (r !== n) throw new Error(`${label}: sent ${n}, echoed ${r}`);
      };
    } else {
      yield () => {
        ping.push(++n);
        const r = pong.popWait(TIMEOUT_MS);
        if (r !== n) throw new Error(`${label}: sent ${n}, echoed ${r}`);
      };
    }
    ping.push(-1);
    await stopped(child, label);
    ping.close();
    pong.close();
  });
}

/**
 * Reads 4-byte little-endian counters from a byte stream (which may split or join
 * writes) and hands each to the waiting round trip.
 */
class Echoes {
  #buf = new Uint8Array(64);
  #len = 0;
  #pending: ((v: number) => void) | undefined;
  #failed: ((e: Error) => void) | undefined;
  constructor(what: string, stream: NodeJS.ReadableStream, child: ChildProcess) {
    stream.on("data", (chunk: Uint8Array) => {
      if (this.#len + chunk.length > this.#buf.length) {
        const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + chunk.length));
        bigger.set(this.#buf.subarray(0, this.#len));
        this.#buf = bigger;
      }
      this.#buf.set(chunk, this.#len);
      this.#len += chunk.length;
      while (this.#len >= 4) {
        const b = this.#buf;
        const v = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
        b.copyWithin(0, 4, this.#len);
        this.#len -= 4;
        const p = this.#pending;
        this.#pending = undefined;
        if (p === undefined) this.#failed?.(new Error(`${what}: unexpected echo ${v}`));
        else p(v);
      }
    });
    child.on("exit", (code) => this.#failed?.(new Error(`${what}: echo child exited with ${code}`)));
  }
  /** Writes n and resolves with the next counter that comes back. */
  roundTrip(write: (b: Uint8Array) => void, out: Uint8Array, n: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#pending = resolve;
      this.#failed = reject;
      out[0] = n;
      out[1] = n >>> 8;
      out[2] = n >>> 16;
      out[3] = n >>> 24;
      write(out);
    });
  }
}

function socketBench(rt: Runtime): ReturnType<typeof bench> {
  const label = "Unix socket (node:net)";
  return bench(label, async function* () {
    const path = `/tmp/shmkit-bench-${process.pid}-${serial++}.sock`;
    if (existsSync(path)) unlinkSync(path);
    const child = startChild(rt, ["socket", path], ["ignore", "pipe", "inherit"]);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`${label}: echo child exited with ${code}`)));
    });
    const sock = net.connect(path);
    await new Promise((r) => sock.once("connect", r));
    sock.setNoDelay?.(true);
    const echoes = new Echoes(label, sock, child);
    const out = new Uint8Array(4); // reused: the previous write was echoed, so it was flushed
    const write = (b: Uint8Array) => sock.write(b);
    let n = 0;
    yield async () => {
      const r = await echoes.roundTrip(write, out, ++n);
      if (r !== n) throw new Error(`${label}: sent ${n}, echoed ${r}`);
    };
    sock.end();
    await stopped(child, label);
    if (existsSync(path)) unlinkSync(path);
  });
}

function pipeBench(rt: Runtime): void {
  const label = "pipe (child stdin/stdout)";
  bench(label, async function* () {
    const child = startChild(rt, ["pipe"], ["pipe", "pipe", "inherit"]);
    const echoes = new Echoes(label, child.stdout!, child);
    const out = new Uint8Array(4);
    const write = (b: Uint8Array) => child.stdin!.write(b);
    await echoes.roundTrip(write, out, 0); // the child is up and reading
    let n = 0;
    yield async () => {
      const r = await echoes.roundTrip(write, out, ++n);
      if (r !== n) throw new Error(`${label}: sent ${n}, echoed ${r}`);
    };
    child.stdin!.end();
    await stopped(child, label);
  });
}

// ------------------------------------------------------------------ main

console.log(`${runtime}: one iteration = one verified cross-process round trip`);
for (const rt of [self, other]) {
  if (executable(rt) === undefined) {
    console.log(`(no ${rt} executable found: skipping the ${rt} echo child; set SHMKIT_${rt.toUpperCase()} or PATH)`);
    continue;
  }
  summary(() => {
    group(`round trip: ${self} (this process) <-> ${rt} echo child`, () => {
      socketBench(rt).baseline(true);
      pipeBench(rt);
      for (const mode of MODES) shmBench(rt, mode);
      queueBench(rt, false);
      queueBench(rt, true);
    });
  });
}

let code = 0;
try {
  await run({ throw: true });
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  for (const c of children) c.kill("SIGKILL");
  seg.close();
  Segment.unlink(segName);
}
process.exit(code);
