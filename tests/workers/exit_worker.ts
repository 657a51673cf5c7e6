/**
 * Child processes for tests/exits.test.ts: a program that has a segment with
 * unlinkOnLastClose open when it ends (by a signal, an uncaught error, or normally),
 * and the racers that replace a stale segment.
 *
 *   hold <name>             create it, print "ready", wait on the queue (async) until killed
 *   optout <name>           the same with { cleanupOnExit: false }
 *   open <name>             open an existing one, print "ready", wait until killed
 *   throw <name>            create it, print "ready", throw from a timer 200 ms later
 *   reject <name>           create it, print "ready", leave a promise rejected 200 ms later
 *   end <name>              create it, print "ready", and end the program without closing it
 *   own-continue <name>     its own SIGINT listener prints "handled usable=<bool>" and the program goes on
 *   own-exit <name>         its own SIGINT listener prints "handled" and exits with status 7
 *   race <name> <startAtMs> at that wall-clock time, openOrCreate with replaceStale, add 1 to
 *                           the i32 atomic "n", close; report { created, pid }
 */
import { i32, Queue, Segment, SharedAtomic, u32 } from "../../mod.ts";
import { H } from "../../src/segment/format.ts";
import { args, exit, forever, pid, runtime } from "../helpers/worker.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [mode, name, startAt] = args;
const SIZE = 1 << 16;

function onSigint(fn: () => void): void {
  if (runtime === "deno") g.Deno.addSignalListener("SIGINT", fn);
  else g.process.on("SIGINT", fn);
}

function waitOn(q: Queue<number>): void {
  forever();
  q.popAsync().catch(() => {}); // an async park, as a server waiting for work would
}

switch (mode) {
  case "hold":
  case "optout": {
    const seg = Segment.create(name, { size: SIZE, unlinkOnLastClose: true, cleanupOnExit: mode !== "optout" });
    const q = Queue.create(seg, "jobs", u32, 8);
    console.log("ready");
    waitOn(q);
    break;
  }
  case "open": {
    const seg = Segment.open(name);
    console.log("ready");
    waitOn(Queue.open(seg, "jobs", u32));
    break;
  }
  case "throw":
  case "reject": {
    // Not `using`: the block would dispose of it before the error, which is not what is tested.
    const seg = Segment.create(name, { size: SIZE, unlinkOnLastClose: true });
    Queue.create(seg, "jobs", u32, 8);
    console.log("ready");
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (mode === "throw") {
      setTimeout(() => {
        throw new Error("uncaught on purpose");
      }, 0);
    } else void Promise.reject(new Error("rejected on purpose"));
    forever();
    break;
  }
  case "end": {
    const seg = Segment.create(name, { size: SIZE, unlinkOnLastClose: true });
    Queue.create(seg, "jobs", u32, 8).push(1);
    console.log("ready");
    break;
  }
  case "own-continue":
  case "own-exit": {
    const seg = Segment.create(name, { size: SIZE, unlinkOnLastClose: true });
    const q = Queue.create(seg, "jobs", u32, 8);
    onSigint(() => {
      if (mode === "own-exit") {
        console.log("handled");
        exit(7);
      }
      let usable = false;
      try {
        q.push(5);
        usable = q.pop() === 5;
      } catch {
        // closed under the program's feet: what must not happen
      }
      console.log(`handled usable=${usable}`);
    });
    console.log("ready");
    forever();
    break;
  }
  case "race": {
    while (Date.now() < Number(startAt)) {
      // spin: every racer leaves this loop within a millisecond of the others
    }
    const seg = Segment.openOrCreate(name, { size: SIZE, replaceStale: true, timeoutMs: 10_000 });
    const created = seg.memory.u32[H.creatorPid >> 2] === pid;
    SharedAtomic.openOrCreate(seg, "n", i32).add(1);
    seg.close();
    console.log(JSON.stringify({ created, pid }));
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
