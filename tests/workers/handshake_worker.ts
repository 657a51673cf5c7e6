/**
 * Worker for tests/wake_handshake.test.ts: the wake handshake's asymmetric fence
 * (zig/fence.zig) between a producer that publishes with release stores and a
 * consumer that parks on every wait (spin 0). Usage:
 *   handshake_worker.ts <segment> pingpong ping|pong <n> <kind>
 *     ping pushes i to "a" and waits for i on "b"; pong echoes "a" to "b".
 *   handshake_worker.ts <segment> fresh produce|consume <k> <kind>
 *     k never-armed queues "f<i>": the consumer's first (arming) wait on each one
 *     races the producer's publish; acknowledgements come back on "ack".
 *   handshake_worker.ts <segment> litmus produce|consume <rounds> <kind> fresh|armed
 *     The store-buffering race of the handshake itself, a million times faster than
 *     parking: each round the consumer registers (enlist), re-checks, and where it
 *     would park it does not, but waits for the producer's push to return and then
 *     checks that the push woke it (seq moved). "fresh" zeroes the eventcount before
 *     each round, so every round's registration arms it while the producer publishes.
 * <kind> is "spsc" (SpscQueue<u32>) or "mpmc" (Queue<u32>): both native fast paths.
 * A lost wake-up shows as TIMEOUT (2 s per wait). Prints one JSON line with the count
 * and the sum of what it received.
 */
import { native } from "../../ffi/mod.ts";
import { Queue, Segment, SpscQueue, u32 } from "../../mod.ts";
import { SharedArray } from "../../mod.ts";
import { delist, enlist, initEventCount } from "../../src/wait/wait.ts";
import { args } from "../helpers/worker.ts";

const [segName, mode, role, count, kind, variant] = args;
const seg = Segment.open(segName);
const open = (name: string) => (kind === "spsc" ? SpscQueue.open(seg, name, u32) : Queue.open(seg, name, u32));
const WAIT = { timeout: 2_000, spin: 0 };
const n = Number(count);
const push = (q: { tryPush(v: number): boolean }, v: number) => {
  while (!q.tryPush(v));
};
/** Busy-waits up to `us` microseconds (a random phase between the two sides). */
const jitter = (us: number) => {
  const end = performance.now() + Math.random() * us / 1000;
  while (performance.now() < end);
};
let got = 0;
let sum = 0;
if (mode === "pingpong") {
  const a = open("a");
  const b = open("b");
  for (let i = 0; i < n; i++) {
    if (role === "ping") {
      push(a, i);
      const v = b.popWait(WAIT);
      if (v !== i) throw new Error(`ping: sent ${i}, echo ${v}`);
      got++, sum += v;
    } else {
      const v = a.popWait(WAIT);
      got++, sum += v;
      jitter(5);
      push(b, v);
    }
  }
} else if (mode === "litmus") {
  const q = open("q");
  const ec = seg.find("q")!.offset + 64 + 8; // the not-empty eventcount (docs/FORMAT.md)
  const m = seg.memory;
  const ctl = SharedArray.open(seg, "ctl", u32).view() as Uint32Array; // [round, pushed]
  const limit = () => {
    const end = performance.now() + 2_000;
    return () => {
      if (performance.now() > end) throw new Error(`${role}: the other side stopped`);
    };
  };
  let lost = 0;
  let parks = 0;
  for (let r = 1; r <= n; r++) {
    if (role === "produce") {
      const check = limit();
      while (Atomics.load(ctl, 0) !== r) check();
      push(q, r);
      Atomics.store(ctl, 1, r);
    } else {
      if (variant === "fresh") initEventCount(m, ec); // never armed again (the producer is waiting for r)
      Atomics.store(ctl, 0, r);
      enlist(m, ec);
      const seq = Atomics.load(m.i32, ec >> 2);
      let v = q.tryPop();
      if (v === undefined) {
        parks++; // here a real wait parks on `seq`: the push must change it
        const check = limit();
        while (Atomics.load(ctl, 1) !== r) check();
        if (Atomics.load(m.i32, ec >> 2) === seq) lost++;
        v = q.tryPop();
      }
      delist(m, ec);
      if (v !== r) throw new Error(`consume: round ${r} popped ${v}`);
      got++, sum += v;
      const check = limit();
      while (Atomics.load(ctl, 1) !== r) check(); // the push has returned: the next round starts clean
    }
  }
  if (role === "consume") console.log(JSON.stringify({ role, got, sum, parks, lost, light: native().lightPublish() }));
} else {
  const ack = open("ack");
  for (let i = 0; i < n; i++) {
    const f = open(`f${i}`);
    if (role === "produce") {
      jitter(20);
      push(f, i);
      const v = ack.popWait(WAIT);
      if (v !== i) throw new Error(`produce: acknowledged ${v}, expected ${i}`);
    } else {
      const v = f.popWait(WAIT);
      got++, sum += v;
      push(ack, v);
    }
    f.close();
  }
}
if (mode !== "litmus" || role === "produce") console.log(JSON.stringify({ role, got, sum, light: native().lightPublish() }));
seg.close();
