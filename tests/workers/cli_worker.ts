/**
 * Processes for tests/cli.test.ts, which then look at their segments with the CLI.
 *
 *   cli_worker.ts create  <segment>                      create the segment and its structures (below), print "ready", hold
 *   cli_worker.ts hold    <segment>                      open it, claim the ring's producer, print "ready", hold until killed
 *   cli_worker.ts threads <segment>                      open it here and in two Workers, terminate one of them (its slot
 *                                                        stays behind), print "ready", hold until killed
 *   cli_worker.ts produce <segment> <count> <perSecond>  push 0..count-1 into "jobs" (perSecond 0: as fast as it fits), then exit
 *   cli_worker.ts consume <segment> <count>              pop exactly count elements from "jobs", then exit
 *   cli_worker.ts stream  <segment> <ms> <perSecond> [free]  print "started", push 0, 1, 2... for ms milliseconds, then
 *                                                        the END marker; with "free", popping one when full (no consumer:
 *                                                        it never stalls)
 *   cli_worker.ts drain   <segment>                      pop until the END marker, checking the values come in order
 *   cli_worker.ts extras  <segment> <ring> <map> <news>  pushOverwrite `ring` values into "ticks", set `map` keys in "m",
 *                                                        publish `news` messages on "news", then exit
 * Every mode that exits prints one JSON line with what it did.
 */
import { BroadcastRing, f64, Queue, RingBuffer, Segment, SharedMap, string, u32 } from "../../mod.ts";
import { args, forever, sleep } from "../helpers/worker.ts";

const [mode, segName, a, b, c] = args;
const END = 0xffff_ffff;
const deadline = Date.now() + 60_000;

/** The segment every test uses: a queue, a ring, a map and a broadcast ring. */
function createStructures(seg: Segment): void {
  Queue.create(seg, "jobs", u32, 4096);
  RingBuffer.create(seg, "ticks", f64, 64);
  SharedMap.create(seg, "m", string(8), u32, 64);
  BroadcastRing.create(seg, "news", u32, 16);
}

function check(): void {
  if (Date.now() > deadline) throw new Error(`${mode}: timed out`);
}

if (mode === "create") {
  const seg = Segment.create(segName, { size: 1 << 20 });
  createStructures(seg);
  RingBuffer.open(seg, "ticks", f64).claimProducer();
  console.log("ready");
  forever();
} else if (mode === "hold") {
  const seg = Segment.open(segName);
  RingBuffer.open(seg, "ticks", f64).claimProducer();
  console.log("ready");
  forever();
} else if (mode === "threads") {
  Segment.open(segName);
  const attachWorker = () =>
    new Promise<Worker>((resolve) => {
      const w = new Worker(new URL("./thread_worker.ts", import.meta.url), { type: "module" });
      w.onmessage = () => resolve(w);
      w.postMessage({ op: "attach", seg: segName, then: "stay" });
    });
  await attachWorker();
  (await attachWorker()).terminate();
  sleep(200); // the terminated Worker's thread ends within ~10 ms
  console.log("ready");
  forever();
} else {
  const seg = Segment.open(segName);
  const q = Queue.open(seg, "jobs", u32);
  if (mode === "produce" || mode === "stream") {
    const count = mode === "produce" ? Number(a) : Infinity;
    const ms = mode === "stream" ? Number(a) : Infinity;
    const rate = Number(b);
    if (mode === "stream") console.log("started");
    const t0 = Date.now();
    let sent = 0;
    for (;;) {
      const elapsed = Date.now() - t0;
      if (sent >= count || elapsed >= ms) break;
      const target = rate > 0 ? Math.min(count, Math.floor((elapsed * rate) / 1000) + 1) : count;
      while (sent < target && q.tryPush(sent)) sent++;
      // "free": nobody consumes, so a full queue gets room from the stream itself and the
      // watch tests' pushes counter keeps moving however long a test took to look (a
      // queue of 4096 at 400/s is full after ~10 s).
      if (c === "free" && sent < target) q.tryPop();
      if (rate > 0 || sent < target) sleep(rate > 0 ? 2 : 0);
      check();
    }
    if (mode === "stream") { while (!q.tryPush(END)) check(); }
    console.log(JSON.stringify({ mode, pushed: sent }));
  } else if (mode === "consume" || mode === "drain") {
    const count = mode === "consume" ? Number(a) : Infinity;
    let got = 0;
    let outOfOrder = 0;
    for (;;) {
      if (got >= count) break;
      const v = q.tryPop();
      if (v === undefined) {
        sleep(1);
        check();
        continue;
      }
      if (v === END) break;
      if (mode === "drain" && v !== got) outOfOrder++;
      got++;
    }
    console.log(JSON.stringify({ mode, popped: got, outOfOrder }));
  } else if (mode === "extras") {
    const ring = RingBuffer.open(seg, "ticks", f64);
    for (let i = 0; i < Number(a); i++) ring.pushOverwrite(i);
    const m = SharedMap.open(seg, "m", string(8), u32);
    for (let i = 0; i < Number(b); i++) m.set(`k${i}`, i);
    const news = BroadcastRing.open(seg, "news", u32);
    for (let i = 0; i < Number(c); i++) news.publish(i);
    console.log(JSON.stringify({ mode, ring: Number(a), map: Number(b), news: Number(c) }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  seg.close();
}
