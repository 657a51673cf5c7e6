/**
 * The TypeScript processes of bench/vs_c.ts: the same workloads as the C baselines in
 * bench/c/, on shmkit through mod.ts. bench/vs_c.ts creates the segment and the
 * structures, starts these roles (two processes for the cross-process workloads: one
 * per runtime of the pair) and reads the one JSON line the measuring role prints.
 *
 *   produce <seg> <name> <spsc|mpmc|ring> <f64|msg64> <n> <batch> [corrupt]
 *   consume <seg> <name> <spsc|mpmc|ring> <f64|msg64> <n> <warm> <batch>
 *   same    <seg> <name> <spsc|mpmc|ring> <n> <warm>
 *   ping    <seg> <ping> <pong> <spin|futex|park|async> <iters> <warm>
 *   echo    <seg> <ping> <pong> <spin|futex|park|async> [corruptAt]
 *   stream  <socket|pipe> <deno|bun> <iters> <warm>
 *
 * Messages and checksums are those of bench/c/common.h: message i is the f64 i, or a
 * 64-byte struct carrying i in every field; the consumer sums every field of every
 * message and exits 1 unless the sum is exact, so no loop can skip the data it claims
 * to move. Round trips check every echo. The clock (bench/clock.ts) is CLOCK_MONOTONIC,
 * read as C reads it: once around a timed stretch for throughput, once per round trip
 * for latency (t_i - t_(i-1)).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import process from "node:process";
import { f64, Queue, RingBuffer, Segment, ShmError, SpscQueue, struct, u32 } from "../mod.ts";
import { loadClock } from "./clock.ts";
import { executable, exitIfOrphaned, type Runtime, scriptArgv } from "./common.ts";

/** The 64-byte message, laid out like bench/c/common.h's msg_t (C alignment rules). */
export const Msg64 = struct({ id: u32, flags: u32, t: f64, x: f64, y: f64, z: f64, vx: f64, vy: f64, vz: f64 });
export type Msg = { id: number; flags: number; t: number; x: number; y: number; z: number; vx: number; vy: number; vz: number };
export type Elem = "f64" | "msg64";
export type Kind = "spsc" | "mpmc" | "ring";
export type RttMode = "spin" | "futex" | "park" | "async";

export function elementType(elem: Elem) {
  return elem === "f64" ? f64 : Msg64;
}

/** Sum of messages 0 .. n-1, as bench/c/common.h's msg_expected. */
export function expectedSum(elem: Elem, n: number): number {
  if (elem === "f64") return (n * (n - 1)) / 2;
  let s = 8 * ((n * (n - 1)) / 2) + 21 * n + Math.floor(n / 256) * ((255 * 256) / 2);
  for (let i = Math.floor(n / 256) * 256; i < n; i++) s += i & 255;
  return s;
}

/** Nearest-rank percentile of a sorted array: a[ceil(q n) - 1], the rule bench/c/common.h uses. */
export function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
/** Waits this long without progress before failing instead of spinning forever. */
const STALL_MS = 10_000;
const script = decodeURIComponent(new URL(import.meta.url).pathname);
const echoScript = decodeURIComponent(new URL("./pingpong_echo.ts", import.meta.url).pathname);

function fail(msg: string): never {
  console.error(`bench/vs_c_worker: ${msg}`);
  process.exit(1);
}

/**
 * Spin-wait hints after a throughput poll that found the structure empty (or full), as
 * bench/c/common.h's SPIN_WAIT_HINTS: the language's spin-wait hint (`pause` on x86,
 * ~30 ns each on the benchmark VM) on both sides. Why: a consumer that polls again at
 * once, faster than its producer pushes, pulls the producer's index line back with
 * every poll, so every push waits for a line transfer (docs/BENCHMARKS.md "How it is
 * measured"). The round-trip rows spin without it: they measure latency.
 */
const SPIN_WAIT_HINTS = 4;

/**
 * Called on every empty (or full) poll: the spin-wait (throughput sides only:
 * `spinWait`), and every 2^20 polls a check that fails after STALL_MS without progress,
 * or exits if orphaned.
 */
function idler(what: string, spinWait = what === "producer" || what === "consumer"): (progress: number) => void {
  let polls = 0;
  let last = -1;
  let since = 0;
  const hints = spinWait ? SPIN_WAIT_HINTS : 0;
  return (progress) => {
    for (let k = 0; k < hints; k++) Atomics.pause();
    if ((++polls & 0xfffff) !== 0) return;
    exitIfOrphaned();
    const t = performance.now();
    if (progress !== last) {
      last = progress;
      since = t;
    } else if (t - since > STALL_MS) {
      fail(`${what}: no progress for ${STALL_MS} ms at ${progress}`);
    }
  };
}

type AnyQueue = SpscQueue<number> | Queue<number> | RingBuffer<number>;

function openStructure<T>(seg: Segment, name: string, kind: Kind, type: ReturnType<typeof elementType>) {
  const t = type as never;
  const s = kind === "spsc"
    ? SpscQueue.open(seg, name, t)
    : kind === "mpmc"
    ? Queue.open(seg, name, t)
    : RingBuffer.open(seg, name, t);
  return s as unknown as T;
}

// ------------------------------------------------------------------ throughput: producer

function produce1(q: AnyQueue, n: number, bad: number): void {
  const idle = idler("producer");
  for (let i = 0; i < n; i++) {
    const v = i === bad ? i + 1 : i;
    while (!q.tryPush(v)) idle(i);
  }
}

function produceStruct(q: SpscQueue<Msg> | Queue<Msg> | RingBuffer<Msg>, n: number, bad: number): void {
  if (!(q instanceof RingBuffer)) return produceStaged(q, n, bad);
  const idle = idler("producer");
  // One message object, refilled: what a careful user does (tryPush copies it into the slot).
  const m: Msg = Msg64.create();
  for (let i = 0; i < n; i++) {
    const d = i === bad ? i + 1 : i;
    m.id = d;
    m.flags = d & 255;
    m.t = d;
    m.x = d + 1;
    m.y = d + 2;
    m.z = d + 3;
    m.vx = d + 4;
    m.vy = d + 5;
    m.vz = d + 6;
    while (!q.tryPush(m)) idle(i);
  }
}

/**
 * The queues build each message in the handle's staging struct (setters into private
 * memory; no object per message, no boxed doubles on Deno) and push its bytes, as C
 * fills a struct and copies it into the slot. The fill is written out again rather than
 * shared with produceStruct: JavaScriptCore shares one function's inline caches between
 * all its callers' objects, and a fill that saw both a plain object and a view would be
 * polymorphic in both rows.
 */
function produceStaged(q: SpscQueue<Msg> | Queue<Msg>, n: number, bad: number): void {
  const idle = idler("producer");
  const m = q.staging();
  for (let i = 0; i < n; i++) {
    const d = i === bad ? i + 1 : i;
    m.id = d;
    m.flags = d & 255;
    m.t = d;
    m.x = d + 1;
    m.y = d + 2;
    m.z = d + 3;
    m.vx = d + 4;
    m.vy = d + 5;
    m.vz = d + 6;
    while (!q.tryPushStaged()) idle(i);
  }
}

function produceBulk(q: AnyQueue, n: number, batch: number, bad: number): void {
  const idle = idler("producer");
  const buf = new Float64Array(batch);
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    for (let j = 0; j < k; j++) buf[j] = i + j === bad ? i + j + 1 : i + j;
    for (let done = 0; done < k;) {
      const span = done === 0 && k === batch ? buf : buf.subarray(done, k);
      const pushed = q.pushBulk(span);
      if (pushed === 0) idle(i + done);
      done += pushed;
    }
  }
}

// ------------------------------------------------------------------ throughput: consumer

function consume1(q: AnyQueue, count: number, sum: number, idle: (p: number) => void): number {
  for (let got = 0; got < count;) {
    const v = q.tryPop();
    if (v === undefined) {
      idle(got);
      continue;
    }
    sum += v;
    got++;
  }
  return sum;
}

function consumeStruct(
  q: SpscQueue<Msg> | Queue<Msg> | RingBuffer<Msg>,
  count: number,
  sum: number,
  idle: (p: number) => void,
): number {
  // SpscQueue and Queue pop into one reused object, as C copies into one struct; a
  // RingBuffer (no tryPopInto) returns a new object per element. The target comes from
  // create(), not a literal, which on Deno would box every double stored into it
  // (docs/DECISIONS.md "Struct values").
  const target: Msg = Msg64.create();
  const pop = q instanceof RingBuffer ? () => q.tryPop() : () => q.tryPopInto(target);
  for (let got = 0; got < count;) {
    const m = pop();
    if (m === undefined) {
      idle(got);
      continue;
    }
    sum += m.id + m.flags + m.t + m.x + m.y + m.z + m.vx + m.vy + m.vz;
    got++;
  }
  return sum;
}

function consumeBulkQueue(
  q: SpscQueue<number> | Queue<number>,
  count: number,
  batch: number,
  sum: number,
  idle: (p: number) => void,
): number {
  // Pops into one reused Float64Array (popBulkInto), as C pops into one buffer; except a
  // Bun SpscQueue consumer, which pops into one reused array (popBulk): measured
  // (`deno run -A bench/vs_c.ts --rounds 5 --only spsc-bulk64`, two runs each, 2026-12-02),
  // Bun↔Bun 3.64 ns a message against 4.68-4.79 with popBulkInto, Deno→Bun 3.42-3.44
  // against 4.74-4.88, although popBulkInto is the faster call in one thread (a Bun
  // push+pop of 64: 2.3 against 3.4 ns an element). The faster consumer finds smaller
  // batches and pulls the producer's lines more often. A Deno consumer is faster with
  // popBulkInto either way (2.29-2.37 against 4.59-4.68). docs/DECISIONS.md "Bulk copies".
  const typed = !(q instanceof SpscQueue && "Bun" in globalThis);
  const into = new Float64Array(batch);
  const out: number[] = [];
  for (let got = 0; got < count;) {
    const want = Math.min(batch, count - got); // never past `count`: the clock stops exactly there
    let k: number;
    if (typed) {
      k = q.popBulkInto(want === batch ? into : into.subarray(0, want));
      for (let j = 0; j < k; j++) sum += into[j];
    } else {
      out.length = 0;
      q.popBulk(want, out);
      k = out.length;
      for (let j = 0; j < k; j++) sum += out[j];
    }
    if (k === 0) idle(got);
    got += k;
  }
  return sum;
}

function consumeBulkRing(r: RingBuffer<number>, count: number, batch: number, sum: number, idle: (p: number) => void): number {
  const out = new Float64Array(batch);
  for (let got = 0; got < count;) {
    const k = r.popBulk(count - got >= batch ? out : out.subarray(0, count - got));
    if (k === 0) idle(got);
    for (let j = 0; j < k; j++) sum += out[j];
    got += k;
  }
  return sum;
}

/** Pops `count` messages in whichever form the workload uses; returns the running sum. */
function consume(
  q: unknown,
  kind: Kind,
  elem: Elem,
  batch: number,
  count: number,
  sum: number,
  idle: (p: number) => void,
): number {
  if (elem === "msg64") return consumeStruct(q as Queue<Msg>, count, sum, idle);
  if (batch === 1) return consume1(q as AnyQueue, count, sum, idle);
  if (kind === "ring") return consumeBulkRing(q as RingBuffer<number>, count, batch, sum, idle);
  return consumeBulkQueue(q as Queue<number>, count, batch, sum, idle);
}

// ------------------------------------------------------------------ same thread

function pushPop(q: AnyQueue, from: number, count: number, sum: number): number {
  for (let i = from; i < from + count; i++) {
    if (!q.tryPush(i)) fail("same-thread push found the structure full");
    const v = q.tryPop();
    if (v === undefined) fail("same-thread pop found the structure empty");
    sum += v;
  }
  return sum;
}

// ------------------------------------------------------------------ round trips

const TIMEOUT_MS = 10_000;

function latencyResult(workload: string, t: Float64Array, checksum: number, expected: number) {
  let total = 0;
  for (let i = 0; i < t.length; i++) total += t[i];
  t.sort();
  return {
    workload,
    iters: t.length,
    min: t[0],
    p50: percentile(t, 0.5),
    p99: percentile(t, 0.99),
    p999: percentile(t, 0.999),
    max: t[t.length - 1],
    mean: total / t.length,
    checksum,
    expected,
  };
}

/** Sum of the values of the timed round trips warm .. warm+iters-1. */
function rttExpected(iters: number, warm: number): number {
  const total = warm + iters;
  return (total * (total - 1)) / 2 - (warm * (warm - 1)) / 2;
}

function pingSync(
  ping: SpscQueue<number>,
  pong: SpscQueue<number>,
  mode: RttMode,
  iters: number,
  warm: number,
  now: () => number,
) {
  const t = new Float64Array(iters);
  const idle = idler("ping");
  const opts = { timeout: TIMEOUT_MS, spin: 0 };
  let sum = 0;
  let prev = now();
  for (let i = 0; i < warm + iters; i++) {
    let v: number | undefined;
    if (mode === "spin") {
      while (!ping.tryPush(i)) idle(i);
      while ((v = pong.tryPop()) === undefined) idle(i);
    } else {
      ping.push(i);
      v = pong.popWait(opts); // park-only: one check, then the futex
    }
    if (v !== i) fail(`round trip ${i}: sent ${i}, echoed ${v}`);
    const at = now();
    if (i >= warm) {
      t[i - warm] = at - prev;
      sum += v;
    }
    prev = at;
  }
  ping.push(-1);
  return latencyResult(mode, t, sum, rttExpected(iters, warm));
}

async function pingAsync(
  ping: SpscQueue<number>,
  pong: SpscQueue<number>,
  mode: RttMode,
  iters: number,
  warm: number,
  now: () => number,
) {
  const t = new Float64Array(iters);
  // park: the async park path every time (spin 0); async: the default adaptive spin.
  const opts = mode === "park" ? { timeout: TIMEOUT_MS, spin: 0 } : { timeout: TIMEOUT_MS };
  let sum = 0;
  let prev = now();
  for (let i = 0; i < warm + iters; i++) {
    ping.push(i);
    const v = await pong.popAsync(opts);
    if (v !== i) fail(`round trip ${i}: sent ${i}, echoed ${v}`);
    const at = now();
    if (i >= warm) {
      t[i - warm] = at - prev;
      sum += v;
    }
    prev = at;
  }
  ping.push(-1);
  return latencyResult(mode, t, sum, rttExpected(iters, warm));
}

function echo(ping: SpscQueue<number>, pong: SpscQueue<number>, mode: RttMode, corruptAt: number): void {
  const idle = idler("echo");
  // futex and park: park at once, like the C futex echo; async: a blocking wait's default spin (a busy peer).
  const opts = mode === "async" ? { timeout: 1000 } : { timeout: 1000, spin: 0 };
  for (let i = 0;; i++) {
    let v: number | undefined;
    if (mode === "spin") {
      while ((v = ping.tryPop()) === undefined) idle(i);
    } else {
      for (;;) {
        try {
          v = ping.popWait(opts);
          break;
        } catch (e) {
          if (!(e instanceof ShmError && e.code === "TIMEOUT")) throw e;
          exitIfOrphaned();
        }
      }
    }
    if (v < 0) return;
    if (i === corruptAt) v += 1;
    if (mode === "spin") { while (!pong.tryPush(v)) idle(i); }
    else pong.push(v);
  }
}

/** Round trips of 8-byte messages over a Unix socket or a pipe to bench/pingpong_echo.ts in runtime `rt`. */
async function stream(kind: "socket" | "pipe", rt: Runtime, iters: number, warm: number, now: () => number) {
  const exe = executable(rt);
  if (exe === undefined) fail(`no ${rt} executable (set SHMKIT_${rt.toUpperCase()})`);
  const path = `/tmp/shmkit-vsc-${process.pid}.sock`;
  if (existsSync(path)) unlinkSync(path);
  const child: ChildProcess = spawn(exe, scriptArgv(rt, echoScript, kind === "socket" ? ["socket", path] : ["pipe"]), {
    stdio: [kind === "pipe" ? "pipe" : "ignore", "pipe", "inherit"],
  });
  child.on("exit", (code) => {
    if (code !== 0) fail(`${kind} echo child exited with ${code}`);
  });
  let input: NodeJS.ReadableStream;
  let write: (b: Uint8Array) => void;
  let finish: () => void;
  if (kind === "socket") {
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve())); // "ready": listening
    const sock = connect(path);
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", () => resolve());
      sock.once("error", reject);
    });
    input = sock;
    write = (b) => sock.write(b);
    finish = () => sock.end();
  } else {
    input = child.stdout!;
    write = (b) => child.stdin!.write(b);
    finish = () => child.stdin!.end();
  }
  // The stream may split or join writes: collect bytes until a whole 8-byte echo is in.
  const buf = new Uint8Array(64);
  const view = new DataView(buf.buffer);
  let len = 0;
  let pending: ((v: number) => void) | undefined;
  input.on("data", (chunk: Uint8Array) => {
    if (len + chunk.length > buf.length) fail(`${kind}: ${len + chunk.length} bytes pending, more than one echo`);
    buf.set(chunk, len);
    len += chunk.length;
    if (len >= 8) {
      const v = view.getFloat64(0, true);
      buf.copyWithin(0, 8, len);
      len -= 8;
      const p = pending;
      pending = undefined;
      if (p === undefined) fail(`${kind}: an echo nobody waited for`);
      p(v);
    }
  });
  const out = new Uint8Array(8); // reused: the previous message was echoed, so it was flushed
  const outView = new DataView(out.buffer);
  const roundTrip = (i: number) =>
    new Promise<number>((resolve) => {
      pending = resolve;
      outView.setFloat64(0, i, true);
      write(out);
    });
  const t = new Float64Array(iters);
  let sum = 0;
  let prev = now();
  for (let i = 0; i < warm + iters; i++) {
    const v = await roundTrip(i);
    if (v !== i) fail(`${kind} round trip ${i}: sent ${i}, echoed ${v}`);
    const at = now();
    if (i >= warm) {
      t[i - warm] = at - prev;
      sum += v;
    }
    prev = at;
  }
  child.removeAllListeners("exit");
  const exited = new Promise((resolve) => child.once("exit", resolve));
  finish();
  await exited;
  if (existsSync(path)) unlinkSync(path);
  return latencyResult(kind, t, sum, rttExpected(iters, warm));
}

// ------------------------------------------------------------------ main

function num(s: string | undefined, what: string): number {
  const v = Number(s);
  if (!Number.isSafeInteger(v) || v < 0) fail(`bad ${what}: ${s}`);
  return v;
}

async function main(args: string[]): Promise<void> {
  const role = args[0];
  let result: unknown;
  if (role === "produce" || role === "consume" || role === "same") {
    const [, segName, name, kind] = args as [string, string, string, Kind];
    const seg = Segment.open(segName);
    if (role === "same") {
      const n = num(args[4], "n");
      const warm = num(args[5], "warm");
      const now = await loadClock();
      const q = openStructure<AnyQueue>(seg, name, kind, f64);
      let sum = pushPop(q, 0, warm, 0);
      const t0 = now();
      sum = pushPop(q, warm, n - warm, sum);
      const t1 = now();
      result = {
        workload: `${kind}-same`,
        msgs: n,
        timed: n - warm,
        ns: t1 - t0,
        nsPerMsg: (t1 - t0) / (n - warm),
        checksum: sum,
        expected: expectedSum("f64", n),
      };
      if (sum !== expectedSum("f64", n)) fail(`checksum mismatch: got ${sum}, expected ${expectedSum("f64", n)}`);
    } else {
      const elem = args[4] as Elem;
      const q = openStructure<unknown>(seg, name, kind, elementType(elem));
      const n = num(args[5], "n");
      if (role === "produce") {
        const batch = num(args[6], "batch");
        const bad = args[7] === "corrupt" ? Math.floor(n / 2) : -1;
        if (elem === "msg64") produceStruct(q as Queue<Msg>, n, bad);
        else if (batch === 1) produce1(q as AnyQueue, n, bad);
        else produceBulk(q as AnyQueue, n, batch, bad);
      } else {
        const warm = num(args[6], "warm");
        const batch = num(args[7], "batch");
        const now = await loadClock();
        const idle = idler("consumer");
        // Two calls of the same loop: the first (warm-up, untimed) gets it optimised.
        let sum = consume(q, kind, elem, batch, warm, 0, idle);
        const t0 = now();
        sum = consume(q, kind, elem, batch, n - warm, sum, idle);
        const t1 = now();
        const expected = expectedSum(elem, n);
        if (sum !== expected) fail(`checksum mismatch: got ${sum}, expected ${expected}`);
        result = {
          workload: `${kind}-xproc`,
          msgs: n,
          timed: n - warm,
          ns: t1 - t0,
          nsPerMsg: (t1 - t0) / (n - warm),
          checksum: sum,
          expected,
        };
      }
    }
    seg.close();
  } else if (role === "ping" || role === "echo") {
    const [, segName, pingName, pongName, mode] = args as [string, string, string, string, RttMode];
    const seg = Segment.open(segName);
    const ping = SpscQueue.open(seg, pingName, f64);
    const pong = SpscQueue.open(seg, pongName, f64);
    if (role === "echo") {
      echo(ping, pong, mode, args[5] === undefined ? -1 : num(args[5], "corruptAt"));
    } else {
      const iters = num(args[5], "iters");
      const warm = num(args[6], "warm");
      const now = await loadClock();
      result = mode === "spin" || mode === "futex"
        ? pingSync(ping, pong, mode, iters, warm, now)
        : await pingAsync(ping, pong, mode, iters, warm, now);
    }
    seg.close();
  } else if (role === "stream") {
    const now = await loadClock();
    result = await stream(args[1] as "socket" | "pipe", args[2] as Runtime, num(args[3], "iters"), num(args[4], "warm"), now);
  } else {
    fail(`unknown role ${role} (run by bench/vs_c.ts: ${script})`);
  }
  if (result !== undefined) console.log(JSON.stringify(result));
  process.exit(0);
}

if (import.meta.main) await main(g.Deno ? g.Deno.args : process.argv.slice(2));
