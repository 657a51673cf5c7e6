/**
 * Child process for tests/blocking.test.ts: blocking and async queue operations.
 * argv: mode seg ...; results as JSON on the last stdout line.
 *
 *   q-pop <seg> <async:0|1> <n> <timeoutMs>    print "ready", pop n values, report them
 *   q-push <seg> <async:0|1> <from> <count>   push from..from+count-1, blocking while full
 *   bc-read <seg> <n>                         print "ready", read n messages of broadcast "bc" with for await
 *   pool-hold <seg> <ms>                      acquire a slot of pool "pool", hold it `ms`, release
 *   spsc-pop <seg> <n>                        print "ready", popAsync n values from SpscQueue "spsc"
 */
import { BroadcastRing, ObjectPool, Queue, Segment, SpscQueue, u32 } from "../../mod.ts";
import { args as argv, exit, runtime } from "../helpers/worker.ts";

const [mode, segName, ...rest] = argv;
const seg = Segment.open(segName);
const q = seg.has("q") ? Queue.open(seg, "q", u32) : undefined!;
const useAsync = rest[0] === "1";

switch (mode) {
  case "q-pop": {
    const n = Number(rest[1]);
    const timeout = Number(rest[2]);
    console.log("ready");
    const values: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) values.push(useAsync ? await q.popAsync({ timeout }) : q.popWait(timeout));
    console.log(JSON.stringify({ runtime, values, ms: performance.now() - t0 }));
    break;
  }
  case "q-push": {
    const from = Number(rest[1]);
    const count = Number(rest[2]);
    for (let i = from; i < from + count; i++) {
      if (useAsync) await q.pushAsync(i, { timeout: 20_000 });
      else q.pushWait(i, 20_000);
    }
    console.log(JSON.stringify({ runtime, pushed: count }));
    break;
  }
  case "bc-read": {
    const n = Number(rest[0]);
    const reader = BroadcastRing.open(seg, "bc", u32).reader();
    console.log("ready");
    const values: number[] = [];
    for await (const v of reader) {
      values.push(v);
      if (values.length === n) break;
    }
    console.log(JSON.stringify({ runtime, values, missed: reader.missed }));
    break;
  }
  case "pool-hold": {
    const pool = ObjectPool.open(seg, "pool", u32);
    const h = pool.acquireWait(10_000);
    console.log("holding");
    await new Promise((r) => setTimeout(r, Number(rest[0])));
    pool.release(h);
    console.log(JSON.stringify({ runtime, released: true }));
    break;
  }
  case "spsc-pop": {
    const n = Number(rest[0]);
    const sq = SpscQueue.open(seg, "spsc", u32);
    console.log("ready");
    const values: number[] = [];
    for (let i = 0; i < n; i++) values.push(await sq.popAsync({ timeout: 20_000 }));
    console.log(JSON.stringify({ runtime, values }));
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
seg.close();
exit(0);
