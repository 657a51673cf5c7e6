/**
 * Child process for tests/broadcast.test.ts (Deno and Bun alike). Prints one JSON
 * line with its result.
 *
 * Modes:
 *   write <seg> <ring> <n> <readers> <burst>   wait until <readers> readers are ready, publish
 *                                       Msg(1..n) in bursts of <burst> with a 1 ms pause between
 *                                       (pacing for a 2-core machine; never waiting for readers), set "done"
 *   read <seg> <ring> <slowEvery>       join from the oldest, mark ready, read until "done" and
 *                                       caught up; sleep 1 ms every <slowEvery> reads (0 = never).
 *                                       Checks every message is whole and its seq equals its position + 1.
 *   hold <seg> <ring>                   claim the writer, print "holding", wait to be killed
 */
import { Segment } from "../../src/segment/segment.ts";
import { i32 } from "../../src/segment/elements.ts";
import { Msg, msg, whole } from "./broadcast_msg.ts";
import { SharedAtomic } from "../../src/structures/atomic.ts";
import { BroadcastRing } from "../../src/structures/broadcast.ts";
import { args as argv, sleep } from "../helpers/worker.ts";

const [mode, segName, ringName] = argv;

const seg = Segment.open(segName);
const ring = BroadcastRing.open(seg, ringName, Msg);
const deadline = performance.now() + 25_000;

if (mode === "write") {
  const n = Number(argv[3]);
  const readers = Number(argv[4]);
  const burst = Number(argv[5]);
  const ready = SharedAtomic.open(seg, "ready", i32);
  const done = SharedAtomic.open(seg, "done", i32);
  while (ready.load() < readers && performance.now() < deadline) sleep(1);
  ring.claimWriter();
  for (let s = 1; s <= n; s++) {
    ring.publish(msg(s));
    if (s % burst === 0) sleep(1);
  }
  done.store(1);
  console.log(JSON.stringify({ published: ring.published }));
} else if (mode === "read") {
  const slowEvery = Number(argv[3]);
  const ready = SharedAtomic.open(seg, "ready", i32);
  const done = SharedAtomic.open(seg, "done", i32);
  const r = ring.reader({ from: "oldest" });
  ready.add(1);
  let count = 0;
  let torn = 0;
  let outOfOrder = 0;
  let last = 0;
  let gaps = 0;
  let missedSeen = 0;
  let gapTotal = 0;
  while (performance.now() < deadline) {
    const finished = done.load() === 1;
    const v = r.tryRead();
    if (v === undefined) {
      if (finished) break;
      continue;
    }
    count++;
    if (!whole(v)) torn++;
    if (v.seq !== r.position) outOfOrder++; // message p carries seq p + 1
    if (v.seq !== last + 1) {
      gaps++;
      gapTotal += v.seq - last - 1;
    }
    if (r.missed !== missedSeen) missedSeen = r.missed;
    last = v.seq;
    if (slowEvery > 0 && count % slowEvery === 0) sleep(1);
  }
  console.log(JSON.stringify({ count, torn, outOfOrder, gaps, gapTotal, missed: r.missed, last, position: r.position }));
} else if (mode === "hold") {
  ring.claimWriter();
  ring.publish(msg(1));
  console.log("holding");
  setInterval(() => {}, 1 << 30);
}
if (mode !== "hold") seg.close();
