/**
 * Child process for tests/fastpath.test.ts: drives SpscQueue / Queue handles, whose
 * numeric elements take the native fast paths (zig/fastpath.zig), from another process.
 *
 *   spsc-pingpong <seg> <ping> <pong> <role a|b> <rounds> <mode 0|1> <spin>
 *       a pushes i on ping and waits for i back on pong; b echoes. Every wait goes
 *       through the library's eventcount wait (src/wait/wait.ts) with the native pop
 *       as its poll, so with spin 0 every round parks: a lost wake-up of the
 *       handshake stalls the pair until the wait's deadline (counted as `stalls`).
 *   spsc-stream <seg> <queue> <produce|consume> <count>        0..count-1, spinning, checked in order
 *   spsc-park-stream <seg> <queue> <produce|consume> <count>
 *       0..count-1 through the library's wait with spin 0 on both sides: on a queue of
 *       capacity 1 the producer parks on "not full" and the consumer on "not empty", so
 *       both publishing stores' wake handshakes (push and pop) are exercised; a lost
 *       wake-up stalls a side until the wait's deadline (counted as `stalls`).
 *   mpmc-produce <seg> <queue> <id> <count> <mode> <spin>      pushes id*count + i
 *   mpmc-consume <seg> <queue> <total> <done-atomic> <mode> <spin>
 *       pops until `done-atomic` reaches `total`; prints its count and sum
 *
 * mode: kept in the command line (the asymmetric handshake was removed; one seq_cst
 * publish now). Prints one JSON line.
 */
import { f64, Queue, Segment, SharedAtomic, SpscQueue, u32 } from "../../mod.ts";
import { waitFor } from "../../src/wait/wait.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const runtime = g.Deno ? "deno" : "bun";
const STALL_MS = 3000;

// Through the public handles: SpscQueue and Queue take the native fast path for f64 /
// u32 (one FFI call per push or pop, wake included; the Queue writes its claim record).
function spscOps(_seg: Segment, q: SpscQueue<number>) {
  const control = q.offset + 64;
  return {
    push: (v: number): true | undefined => (q.tryPush(v) ? true : undefined),
    pop: (): number | undefined => q.tryPop(),
    notEmpty: control + 8,
    notFull: control + 72,
  };
}

function mpmcOps(_seg: Segment, q: Queue<number>) {
  const control = q.offset + 64;
  return {
    push: (v: number): true | undefined => (q.tryPush(v) ? true : undefined),
    pop: (): number | undefined => q.tryPop(),
    notEmpty: control + 8,
    notFull: control + 72,
  };
}

/** Waits until `poll` gives a value; a wait that reaches STALL_MS counts a stall and goes on. */
function until<T>(seg: Segment, at: number, poll: () => T | undefined, spin: number, stalls: { n: number }): T {
  for (;;) {
    const v = waitFor(seg.memory, at, poll, performance.now() + STALL_MS, spin);
    if (v !== undefined) return v;
    stalls.n++;
    if (stalls.n > 3) throw new Error("stalled: more than 3 waits ran into their deadline");
  }
}

const [cmd, segName] = args;
const seg = Segment.open(segName);
const mode = Number(args[cmd === "spsc-pingpong" ? 6 : 5]); // kept in the command line; one (seq_cst) mode now
const stalls = { n: 0 };
if (cmd === "spsc-pingpong") {
  const [, , pingName, pongName, role, roundsArg, , spinArg] = args;
  const rounds = Number(roundsArg), spin = Number(spinArg);
  const ping = spscOps(seg, SpscQueue.open(seg, pingName, f64));
  const pong = spscOps(seg, SpscQueue.open(seg, pongName, f64));
  let sum = 0;
  for (let i = 0; i < rounds; i++) {
    if (role === "a") {
      until(seg, ping.notFull, () => ping.push(i), spin, stalls);
      const back = until(seg, pong.notEmpty, () => pong.pop(), spin, stalls);
      if (back !== i) throw new Error(`round ${i}: got ${back} back`);
      sum += back;
    } else {
      const v = until(seg, ping.notEmpty, () => ping.pop(), spin, stalls);
      if (v !== i) throw new Error(`round ${i}: got ${v}`);
      sum += v;
      until(seg, pong.notFull, () => pong.push(v), spin, stalls);
    }
  }
  console.log(JSON.stringify({ runtime, mode, rounds, sum, stalls: stalls.n }));
} else if (cmd === "spsc-stream") {
  // spsc-stream <seg> <queue> <produce|consume> <count>: spins on full / empty (no
  // parking), so the index stores and loads race as hard as they can; the consumer
  // checks order and the exact sum.
  const [, , qName, role, countArg] = args;
  const count = Number(countArg);
  const q = SpscQueue.open(seg, qName, f64);
  let sum = 0, spins = 0;
  for (let i = 0; i < count; i++) {
    if (role === "produce") {
      while (!q.tryPush(i)) spins++;
      sum += i;
    } else {
      let v: number | undefined;
      while ((v = q.tryPop()) === undefined) spins++;
      if (v !== i) throw new Error(`element ${i}: got ${v}`);
      sum += v;
    }
  }
  q.releaseRoles();
  console.log(JSON.stringify({ runtime, role, count, sum, spins }));
} else if (cmd === "spsc-park-stream") {
  const [, , qName, role, countArg] = args;
  const count = Number(countArg);
  const q = spscOps(seg, SpscQueue.open(seg, qName, f64));
  let sum = 0;
  for (let i = 0; i < count; i++) {
    if (role === "produce") {
      until(seg, q.notFull, () => q.push(i), 0, stalls);
      sum += i;
    } else {
      const v = until(seg, q.notEmpty, () => q.pop(), 0, stalls);
      if (v !== i) throw new Error(`element ${i}: got ${v}`);
      sum += v;
    }
  }
  console.log(JSON.stringify({ runtime, role, count, sum, stalls: stalls.n }));
} else if (cmd === "mpmc-produce") {
  const [, , qName, idArg, countArg, , spinArg] = args;
  const id = Number(idArg), count = Number(countArg), spin = Number(spinArg);
  const q = mpmcOps(seg, Queue.open(seg, qName, u32));
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const v = id * count + i;
    until(seg, q.notFull, () => q.push(v), spin, stalls);
    sum += v;
  }
  console.log(JSON.stringify({ runtime, mode, pushed: count, sum, stalls: stalls.n }));
} else if (cmd === "mpmc-consume") {
  const [, , qName, totalArg, doneName, , spinArg] = args;
  const total = Number(totalArg), spin = Number(spinArg);
  const q = mpmcOps(seg, Queue.open(seg, qName, u32));
  const done = SharedAtomic.open(seg, doneName, u32);
  let count = 0, sum = 0;
  // Short waits: when the others take the last elements this consumer must notice the end.
  while (done.load() < total) {
    const v = waitFor(seg.memory, q.notEmpty, () => q.pop(), performance.now() + 20, spin);
    if (v === undefined) continue;
    count++;
    sum += v;
    done.add(1);
  }
  console.log(JSON.stringify({ runtime, mode, count, sum }));
} else {
  throw new Error(`unknown command ${cmd}`);
}
seg.close();
