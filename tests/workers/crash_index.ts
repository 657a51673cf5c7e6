/**
 * Crash worker for the free-index ring under ObjectPool and Stack. Usage:
 *   crash_index.ts <segment> acquire1 | release1     ObjectPool "p" (u32): one acquire / acquire + release
 *   crash_index.ts <segment> push1 <v> | pop1        Stack "s" (u32): one push / one pop
 *   crash_index.ts <segment> pop1go                  Stack "s": opens it, then one pop once atomic "go" is set (10 s bound)
 *   crash_index.ts <segment> churn                   pool: acquire up to 3 slots, release them, forever
 *   crash_index.ts <segment> produce <id> | consume  stack: as crash_queue.ts (acked[], seen[], stop)
 * Prints READY when it is in its loop.
 */
import { ObjectPool, Segment, SharedArray, SharedAtomic, Stack, u32, u8 } from "../../mod.ts";
import { args } from "../helpers/worker.ts";
import { PER_ID, say } from "../helpers/crash_worker.ts";

const [segName, role, arg] = args;
const seg = Segment.open(segName);

if (role === "acquire1" || role === "release1" || role === "churn") {
  const p = ObjectPool.open(seg, "p", u32);
  say("READY");
  if (role === "acquire1") say(`DONE ${p.acquire()}`);
  else if (role === "release1") {
    const h = p.acquire()!;
    p.release(h);
    say("DONE");
  } else {
    const held: number[] = [];
    for (let i = 0;; i++) {
      if (held.length < 3 && (i & 1) === 0) {
        const h = p.acquire();
        if (h !== undefined) held.push(h);
      } else if (held.length > 0) p.release(held.pop()!);
    }
  }
} else {
  const s = Stack.open(seg, "s", u32);
  if (role === "push1") {
    say("READY");
    s.push(Number(arg));
    say("DONE");
  } else if (role === "pop1") {
    say("READY");
    say(`DONE ${s.tryPop()}`);
  } else if (role === "pop1go") {
    // The handle is opened (which resolves dead holds) before the test makes the state to pop in.
    const go = SharedAtomic.open(seg, "go", u32);
    const nap = new Int32Array(new SharedArrayBuffer(4));
    say("READY");
    for (const end = Date.now() + 10_000; go.load() === 0 && Date.now() < end;) Atomics.wait(nap, 0, 0, 1);
    say(`DONE ${s.tryPop()}`);
  } else {
    const acked = SharedArray.open(seg, "acked", u32).view() as Uint32Array;
    const seen = SharedArray.open(seg, "seen", u8).view() as Uint8Array;
    const stop = SharedAtomic.open(seg, "stop", u32);
    say("READY");
    if (role === "produce") {
      const id = Number(arg);
      for (let seq = 0; seq < PER_ID && stop.load() === 0;) {
        if (s.tryPush(id * PER_ID + seq)) Atomics.store(acked, id, ++seq);
      }
    } else {
      while (stop.load() === 0) {
        const v = s.tryPop();
        if (v !== undefined) Atomics.add(seen, v, 1);
      }
    }
  }
}
seg.close();
