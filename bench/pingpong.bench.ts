/**
 * Cross-process ping-pong round-trip latency: this process and a child of the same
 * runtime bounce a counter through shared memory, waiting by
 *   - spin:            polling the word only (burns a core on each side),
 *   - spin-then-park:  shmkit's blocking default (up to DEFAULT_SPIN polls or
 *                      SPIN_LIMIT_US = 50 µs, longer than one futex wake-up), then the futex,
 *   - short-spin-then-park: ASYNC_SPIN = 128 polls (a few µs, shorter than a wake-up), then the futex,
 *   - park-only:       registering and parking on the futex at once (spin = 0),
 *   - park-only async: the same, with this side awaiting waitForAsync,
 * next to a Unix domain socket round trip and a pipe round trip measured in the same
 * run (node:net and node:child_process, in both runtimes). The metric is the mean
 * round trip, plus the median and p99 of per-round samples.
 *
 *   deno run -A bench/pingpong.bench.ts        bun bench/pingpong.bench.ts
 *
 * Each round trip is checked: the child echoes the exact counter value it was sent,
 * so a loop that does not really go through the other process cannot finish.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import process from "node:process";
import { i32, Segment, SharedArray } from "../mod.ts";
import { ASYNC_SPIN, DEFAULT_SPIN, notify, waitFor, waitForAsync } from "../src/wait.ts";
import { benchSegmentName, runtime } from "./common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : process.argv.slice(2);
const self = decodeURIComponent(new URL(import.meta.url).pathname);
const execPath: string = g.Deno ? g.Deno.execPath() : process.execPath;
const childArgs = (role: string, ...rest: string[]) => (g.Deno ? ["run", "-A", self, role, ...rest] : [self, role, ...rest]);

// Shared words (i32 indexes into array "pp"): ping, pong, then two eventcounts.
const PING = 0;
const PONG = 1;
const EC_CHILD = 4; // eventcount (seq, waiters) the child parks on: i32 index 4..5
const EC_PARENT = 8; // the parent parks on 8..9
const MODE = 12;
const ROUNDS = Number(g.Deno?.env.get("ROUNDS") ?? process.env.ROUNDS ?? 20_000);

type Mode = "spin" | "spin-then-park" | "short-spin-then-park" | "park-only" | "park-only-async";
const MODES: Mode[] = ["spin", "spin-then-park", "short-spin-then-park", "park-only", "park-only-async"];

function spinOf(mode: Mode): number {
  return mode === "spin-then-park" ? DEFAULT_SPIN : mode === "short-spin-then-park" ? ASYNC_SPIN : 0;
}

/** Waits until v[index] === want, the way `mode` waits. */
function waitSync(seg: Segment, v: Int32Array, ec: number, index: number, want: number, mode: Mode, at0: number): void {
  if (mode === "spin") {
    while (Atomics.load(v, index) !== want);
    return;
  }
  const poll = () => (Atomics.load(v, index) === want ? true : undefined);
  waitFor(seg.memory, at0 + ec * 4, poll, Infinity, spinOf(mode));
}

function post(seg: Segment, v: Int32Array, ec: number, index: number, value: number, mode: Mode, at0: number): void {
  Atomics.store(v, index, value);
  if (mode !== "spin") notify(seg.memory, at0 + ec * 4, 1);
}

function stats(samples: Float64Array, totalNs: number, rounds: number) {
  const sorted = Float64Array.from(samples).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { mean: totalNs / rounds, p50: q(0.5), p99: q(0.99) };
}

function fmt(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

function line(name: string, s: { mean: number; p50: number; p99: number }, base?: number): void {
  const ratio = base ? `  ${(s.mean / base).toFixed(2)}x socket` : "";
  console.log(
    `${name.padEnd(28)} mean ${fmt(s.mean).padStart(9)}  p50 ${fmt(s.p50).padStart(9)}  p99 ${fmt(s.p99).padStart(9)}${ratio}`,
  );
}

// ------------------------------------------------------------------ child roles

if (argv[0] === "shm-child") {
  const seg = Segment.open(argv[1]);
  const pp = SharedArray.open(seg, "pp", i32);
  const v = pp.view() as Int32Array;
  const at0 = pp.offset + 64;
  for (const mode of MODES) {
    // Wait for the parent to announce the mode (spinning with a park fallback).
    waitFor(
      seg.memory,
      at0 + EC_CHILD * 4,
      () => (Atomics.load(v, MODE) === MODES.indexOf(mode) + 1 ? true : undefined),
      Infinity,
    );
    const m = mode === "park-only-async" ? "park-only" : mode;
    for (let i = 1; i <= ROUNDS; i++) {
      waitSync(seg, v, EC_CHILD, PING, i, m, at0);
      post(seg, v, EC_PARENT, PONG, i, m, at0);
    }
  }
  seg.close();
  process.exit(0);
} else if (argv[0] === "pipe-child") {
  process.stdin.on("data", (b: Uint8Array) => process.stdout.write(b));
} else if (argv[0] === "socket-child") {
  const server = net.createServer((s) => s.on("data", (b) => s.write(b)));
  server.listen(argv[1], () => console.log("listening"));
} else {
  await main();
}

// ------------------------------------------------------------------ parent

async function shmModes(): Promise<Map<Mode, ReturnType<typeof stats>>> {
  const name = benchSegmentName("pingpong");
  try {
    Segment.unlink(name);
  } catch { /* not there */ }
  const seg = Segment.create(name, { size: 1 << 16 });
  const pp = SharedArray.create(seg, "pp", i32, 16);
  const v = pp.view() as Int32Array;
  const at0 = pp.offset + 64;
  const child = spawn(execPath, childArgs("shm-child", name), { stdio: ["ignore", "inherit", "inherit"] });
  const out = new Map<Mode, ReturnType<typeof stats>>();
  const samples = new Float64Array(ROUNDS);
  for (const mode of MODES) {
    Atomics.store(v, PING, 0);
    Atomics.store(v, PONG, 0);
    Atomics.store(v, MODE, MODES.indexOf(mode) + 1);
    notify(seg.memory, at0 + EC_CHILD * 4);
    const t0 = performance.now();
    if (mode === "park-only-async") {
      for (let i = 1; i <= ROUNDS; i++) {
        const s = performance.now();
        post(seg, v, EC_CHILD, PING, i, "park-only", at0);
        const poll = () => (Atomics.load(v, PONG) === i ? true : undefined);
        await waitForAsync(seg.memory, at0 + EC_PARENT * 4, poll, Infinity, undefined, "pong", 0);
        samples[i - 1] = (performance.now() - s) * 1e6;
      }
    } else {
      for (let i = 1; i <= ROUNDS; i++) {
        const s = performance.now();
        post(seg, v, EC_CHILD, PING, i, mode, at0);
        waitSync(seg, v, EC_PARENT, PONG, i, mode, at0);
        samples[i - 1] = (performance.now() - s) * 1e6;
      }
    }
    const total = (performance.now() - t0) * 1e6;
    if (Atomics.load(v, PONG) !== ROUNDS) throw new Error(`${mode}: child echoed ${Atomics.load(v, PONG)}, expected ${ROUNDS}`);
    out.set(mode, stats(samples, total, ROUNDS));
  }
  await new Promise((r) => child.on("exit", r));
  seg.unlink();
  seg.close();
  return out;
}

async function socketRoundTrip(rounds: number): Promise<ReturnType<typeof stats>> {
  const path = `/tmp/shmkit-bench-${process.pid}.sock`;
  try {
    (await import("node:fs")).unlinkSync(path);
  } catch { /* not there */ }
  const child = spawn(execPath, childArgs("socket-child", path), { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  const sock = net.connect(path);
  await new Promise((r) => sock.once("connect", r));
  sock.setNoDelay?.(true);
  const samples = new Float64Array(rounds);
  const buf = new Uint8Array(1);
  let pending: (() => void) | undefined;
  sock.on("data", () => pending?.());
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    buf[0] = i & 0xff;
    await new Promise<void>((resolve) => {
      pending = resolve;
      sock.write(buf);
    });
    samples[i] = (performance.now() - s) * 1e6;
  }
  const total = (performance.now() - t0) * 1e6;
  sock.destroy();
  child.kill();
  return stats(samples, total, rounds);
}

async function pipeRoundTrip(rounds: number): Promise<ReturnType<typeof stats>> {
  const child = spawn(execPath, childArgs("pipe-child"), { stdio: ["pipe", "pipe", "inherit"] });
  const samples = new Float64Array(rounds);
  const buf = new Uint8Array(1);
  let pending: (() => void) | undefined;
  child.stdout!.on("data", () => pending?.());
  // Warm up: the child needs a moment to start reading.
  await new Promise<void>((resolve) => {
    pending = resolve;
    child.stdin!.write(buf);
  });
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    await new Promise<void>((resolve) => {
      pending = resolve;
      child.stdin!.write(buf);
    });
    samples[i] = (performance.now() - s) * 1e6;
  }
  const total = (performance.now() - t0) * 1e6;
  child.kill();
  return stats(samples, total, rounds);
}

async function main(): Promise<void> {
  console.log(`ping-pong round trips between two ${runtime} processes (${ROUNDS} rounds each)`);
  const shm = await shmModes();
  const ioRounds = Math.min(ROUNDS, 5000);
  const sock = await socketRoundTrip(ioRounds);
  const pipe = await pipeRoundTrip(ioRounds);
  for (const [mode, s] of shm) line(`shm ${mode}`, s, sock.mean);
  line("unix socket (node:net)", sock, sock.mean);
  line("pipe (child stdio)", pipe, sock.mean);
  process.exit(0);
}
