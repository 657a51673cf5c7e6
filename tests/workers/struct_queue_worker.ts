/**
 * Child process for tests/struct_queue.test.ts: drives SpscQueue / Queue handles of a
 * struct element type, which take the native byte-copy calls (zig/fastpath.zig
 * `shmkit_*_bytes`), from another process. Message i is Particle(i) (helpers/particle.ts);
 * every field of every message is checked against it.
 *
 *   spsc <seg> <queue> <produce|consume> <count> [how]    0..count-1 in order, spinning on full / empty; `how`:
 *                                                         the producer builds each message in its staging struct
 *                                                         (`staged`, else pushes one object); the consumer pops
 *                                                         with tryPopInto one object (`into`), tryPopView (`view`)
 *                                                         or tryPop
 *   mpmc-produce <seg> <queue> <id> <count> [staged]       pushes Particle(id * count + i), i = 0..count-1
 *   mpmc-consume <seg> <queue> <total> <done-atomic> <into 0|1>
 *       pops (tryPop, or tryPopInto with into = 1) until `done-atomic` reaches `total`; every
 *       message must be a whole Particle; prints its count and the sum of the ids
 *
 * Prints one JSON line; a torn or wrong message exits 1 with its fields.
 */
import { Queue, Segment, SharedAtomic, SpscQueue, u32 } from "../../mod.ts";
import { args, exit } from "../helpers/worker.ts";
import { type P, Particle, particle, whole } from "../helpers/particle.ts";

function check(p: Readonly<P>, want?: number): number {
  const ok = whole(p) && (want === undefined || p.id === want);
  if (!ok) {
    console.log(JSON.stringify({ torn: p, want }));
    exit(1);
  }
  return p.id;
}

const [cmd, segName, qName] = args;
const seg = Segment.open(segName);
if (cmd === "spsc") {
  const [, , , side, countS, into] = args;
  const q = SpscQueue.open(seg, qName, Particle), count = Number(countS);
  let sum = 0;
  if (side === "produce" && into === "staged") {
    const p = q.staging();
    for (let i = 0; i < count; i++) {
      particle(i, p);
      while (!q.tryPushStaged());
      sum += i;
    }
  } else if (side === "produce") {
    const p = particle(0);
    for (let i = 0; i < count; i++) {
      particle(i, p);
      while (!q.tryPush(p));
      sum += i;
    }
  } else {
    const target = particle(0);
    // "into": tryPopInto one reused object; "view": tryPopView's getters; else tryPop.
    const pop = into === "into" ? () => q.tryPopInto(target) : into === "view" ? () => q.tryPopView() : () => q.tryPop();
    for (let i = 0; i < count; i++) {
      let v: Readonly<P> | undefined;
      while ((v = pop()) === undefined);
      sum += check(v, i);
    }
  }
  console.log(JSON.stringify({ sum }));
} else if (cmd === "mpmc-produce") {
  const [, , , idS, countS, staged] = args;
  const q = Queue.open(seg, qName, Particle), id = Number(idS), count = Number(countS);
  let sum = 0;
  const p = staged === "staged" ? q.staging() : particle(0);
  for (let i = 0; i < count; i++) {
    const v = id * count + i;
    particle(v, p);
    while (!(staged === "staged" ? q.tryPushStaged() : q.tryPush(p)));
    sum += v;
  }
  console.log(JSON.stringify({ pushed: count, sum }));
} else if (cmd === "mpmc-consume") {
  const [, , , totalS, doneName, into] = args;
  const q = Queue.open(seg, qName, Particle), total = Number(totalS);
  const done = SharedAtomic.open(seg, doneName, u32);
  let count = 0, sum = 0;
  const target = particle(0);
  while (done.load() < total) {
    const v = into === "1" ? q.tryPopInto(target) : into === "view" ? q.tryPopView() : q.tryPop();
    if (v === undefined) continue;
    sum += check(v);
    count++;
    done.add(1);
  }
  console.log(JSON.stringify({ count, sum }));
} else {
  throw new Error(`unknown command ${cmd}`);
}
