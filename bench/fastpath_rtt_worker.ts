/**
 * Child of bench/fastpath_rtt.bench.ts: one side of a park-only ping-pong between two
 * processes over two SpscQueue<f64> ("ping", "pong").
 *
 *   <seg> native <mode 0|1> <role a|b> <rounds> <spin>   the native fast path (zig/fastpath.zig)
 *                                                        in handshake mode 0 (seq_cst) or 1 (asymmetric)
 *   <seg> lib - <role a|b> <rounds> <spin>               the SpscQueue handle (push / popWait)
 *
 * Waits go through the library's eventcount wait (src/wait/wait.ts) with `spin` polls
 * before parking (0: park at once). Role a prints {"p50_ns", "mean_ns"} of its round trips.
 */
import { native } from "../ffi/mod.ts";
import { FAST_OK, FAST_STATUS } from "../ffi/native.ts";
import { f64, Segment, SpscQueue } from "../mod.ts";
import { fastKind } from "../src/segment/elements.ts";
import { waitFor } from "../src/wait/wait.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [segName, how, modeArg, role, roundsArg, spinArg] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const rounds = Number(roundsArg), spin = Number(spinArg), warm = Math.floor(rounds / 10);
const seg = Segment.open(segName);
const n = native();
const ping = SpscQueue.open(seg, "ping", f64), pong = SpscQueue.open(seg, "pong", f64);

type Side = { push(v: number): void; pop(): number };
function nativeSide(q: SpscQueue<number>, out: boolean): Side {
  const m = seg.memory, control = q.offset + 64, data = q.offset + m.u32[(q.offset + 12) >> 2];
  const st = n.fastState(), slots = q.capacity + 1, kind = fastKind(f64)!;
  if (n.spscBind(st.address, m.base, control, data, slots, kind, 0, 0, 0) !== FAST_OK) throw new Error("spscBind refused");
  const poll = () => {
    const v = n.spscPop[kind]!(st.address);
    return v === v || st.words[FAST_STATUS] === FAST_OK ? v : undefined;
  };
  return {
    push(v) {
      if (!out || n.spscPush[kind]!(st.address, v) !== FAST_OK) throw new Error("push failed");
    },
    pop() {
      const v = waitFor(m, control + 8, poll, Infinity, spin);
      if (v === undefined) throw new Error("no value");
      return v;
    },
  };
}
function libSide(q: SpscQueue<number>): Side {
  return { push: (v) => q.push(v), pop: () => q.popWait({ spin }) };
}

let send: Side, recv: Side;
if (how === "native") {
  void modeArg;
  send = nativeSide(role === "a" ? ping : pong, true);
  recv = nativeSide(role === "a" ? pong : ping, false);
} else {
  send = libSide(role === "a" ? ping : pong);
  recv = libSide(role === "a" ? pong : ping);
}
const samples = new Float64Array(rounds);
for (let i = 0; i < rounds + warm; i++) {
  if (role === "a") {
    const t = performance.now();
    send.push(i);
    if (recv.pop() !== i) throw new Error(`round ${i}: wrong echo`);
    if (i >= warm) samples[i - warm] = performance.now() - t;
  } else {
    const v = recv.pop();
    if (v !== i) throw new Error(`round ${i}: got ${v}`);
    send.push(v);
  }
}
if (role === "a") {
  samples.sort();
  const mean = samples.reduce((s, x) => s + x, 0) / rounds;
  console.log(JSON.stringify({ p50_ns: Math.round(samples[rounds >> 1] * 1e6), mean_ns: Math.round(mean * 1e6), rounds }));
}
seg.close();
