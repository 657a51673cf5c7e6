/**
 * Taking a claim record (src/structures/claim_records.ts `claim`): a record being taken
 * is never taken a second time, by a process of either runtime or by this one, and a
 * claimer killed in the middle of taking one leaves it to the next claimer.
 *
 * The window: a claimer wins the CAS on the record's pid, then writes its identity (start
 * time, thread). If the pid it wrote were its own, a second claimer reading in between
 * would see that pid beside the previous owner's start time, judge the owner dead and
 * take the record as well. So the CAS writes a marker (−tid) first; the worker here stops
 * just after that CAS (pause point `records.claim.marked`).
 *
 * The churn test runs the reuse pass under real concurrency: four processes, two per
 * runtime, open and close handles hundreds of times with no free record, each checking
 * that its record stays its own, and the pushes and pops they made add up. The window
 * itself is a few stores wide, so that test does not find the old bug (the pause point
 * does); it shows the marker costs no record and no element.
 */
import assert from "node:assert/strict";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";
import { startWorker } from "./helpers/crash.ts";
import { lastJson, runAll } from "./helpers/procs.ts";
import { native } from "../ffi/mod.ts";
import { ShmError } from "../src/errors.ts";
import { Queue, Segment, u32 } from "../mod.ts";
import { R_PID, R_START, RECORD_WORDS, recordCount, startLow } from "../src/structures/claim_records.ts";
import { recordsAt } from "../src/structures/queue_layout.ts";
import { me as me_ } from "../src/segment/process.ts";
import type { Runtime } from "./helpers/procs.ts";
import { NO_PID } from "./helpers/worker.ts";

const QUEUE_WORKER = new URL("./workers/crash_queue.ts", import.meta.url);
const CHURN_WORKER = new URL("./workers/records_worker.ts", import.meta.url);
const RUNTIMES: Runtime[] = ["deno", "bun"];
const RING = 16, STRIDE = 8, MAX_PROCESSES = 4;

/** Opens "q" from a new mapping of the segment (a new Segment: its own claim record), or returns the error. */
function openElsewhere(name: string): { seg: Segment; q: Queue<number> } | ShmError {
  const seg = Segment.open(name);
  try {
    return { seg, q: Queue.open(seg, "q", u32) };
  } catch (e) {
    seg.close();
    if (e instanceof ShmError) return e;
    throw e;
  }
}

for (const rt of RUNTIMES) {
  test(
    `claim records: a record a ${rt} process is taking is not taken again, and is free again once that process is killed`,
    segmentTest("recs", { size: 1 << 20, maxProcesses: MAX_PROCESSES }, async (seg, name) => {
      const q = Queue.create(seg, "q", u32, RING);
      const i32 = seg.memory.i32;
      const data = q.offset + seg.memory.u32[(q.offset + 12) >> 2];
      const at = recordsAt(data, RING, STRIDE) >> 2, count = recordCount(MAX_PROCESSES);
      const me = native().getpid(), myStart = startLow(me_().start);
      const pidOf = (i: number) => Atomics.load(i32, at + i * RECORD_WORDS + R_PID);
      // Every record reads as a live owner's (ours) but record `dead`, whose owner is gone:
      // the only record a claim can take (pass 2 of `claim`).
      const dead = count - 1;
      for (let i = 0; i < count; i++) {
        i32[at + i * RECORD_WORDS + R_START] = i === dead ? 12345 : myStart;
        Atomics.store(i32, at + i * RECORD_WORDS + R_PID, i === dead ? NO_PID : me);
      }
      const w = startWorker(rt, QUEUE_WORKER, [name, "pop1"], { SHMKIT_TEST_PAUSE_AT: "records.claim.marked:1" });
      try {
        await w.line("PAUSED records.claim.marked");
        // A second claimer (a new mapping in this process) finds no record to take.
        const second = openElsewhere(name);
        assert.ok(second instanceof ShmError, "the record being taken was taken again");
        assert.equal(second.code, "FULL");
        assert.equal(pidOf(dead), -w.pid, "the record is marked with the claimer's tid");
        // Killed before it wrote its identity: the record goes to the next claimer.
        w.kill();
        assert.equal((await w.exited).signal, "SIGKILL");
        const third = openElsewhere(name);
        assert.ok(!(third instanceof ShmError), `the dead claimer's record is not reused: ${third}`);
        assert.equal(pidOf(dead), me);
        assert.equal(i32[at + dead * RECORD_WORDS + R_START], myStart, "the new owner's start time");
        // The queue works through the handle that took it.
        assert.equal(third.q.tryPush(7), true);
        assert.equal(q.tryPop(), 7);
        third.q.close();
        third.seg.close();
      } finally {
        w.kill(); // a failed check must not leave the paused worker behind
      }
    }),
    { timeout: 60_000 },
  );
}

test(
  "claim records: Deno and Bun processes opening and closing handles at once, every record reused, never share one",
  segmentTest("recs-churn", { size: 1 << 20, maxProcesses: 9 }, async (seg, name) => {
    const q = Queue.create(seg, "q", u32, 1024);
    const i32 = seg.memory.i32;
    const data = q.offset + seg.memory.u32[(q.offset + 12) >> 2];
    const at = recordsAt(data, 1024, STRIDE) >> 2, count = recordCount(9);
    const me = native().getpid();
    // Every record but ours reads as a dead owner's, and the workers keep it so: no free record.
    for (let i = 0; i < count; i++) {
      if (Atomics.load(i32, at + i * RECORD_WORDS + R_PID) !== me) Atomics.store(i32, at + i * RECORD_WORDS + R_PID, NO_PID);
    }
    const ITERS = 400;
    const rts: Runtime[] = ["deno", "bun", "deno", "bun"];
    const outs = await runAll(
      rts.map((rt, id) => [rt, CHURN_WORKER, [name, String(id), String(ITERS), String(at), String(count)]]),
    );
    const rs = outs.map((o) => lastJson<{ failed: number; pushed: number; pushSum: number; popped: number; popSum: number }>(o));
    let drained = 0, drainedSum = 0;
    for (let v = q.tryPop(); v !== undefined; v = q.tryPop()) {
      drained++;
      drainedSum += v;
    }
    const sum = (f: (r: (typeof rs)[number]) => number) => rs.reduce((a, r) => a + f(r), 0);
    assert.deepEqual(rs.map((r) => r.failed), [0, 0, 0, 0], "a record held by two handles");
    assert.equal(sum((r) => r.pushed), rts.length * ITERS, "every push had room");
    assert.equal(sum((r) => r.popped) + drained, sum((r) => r.pushed), "elements lost or duplicated");
    assert.equal(sum((r) => r.popSum) + drainedSum, sum((r) => r.pushSum));
  }),
  { timeout: 120_000 },
);
