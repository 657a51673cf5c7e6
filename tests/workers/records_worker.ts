/**
 * Claim-record churn: `records_worker.ts <segment> <id> <iterations> <recordsAt> <count>`.
 * Each iteration maps the segment anew, opens Queue "q" (which takes a claim record),
 * checks that exactly one record names this process with its start time (no other
 * claimer took it too), pushes one value and pops one, checks the record again, closes,
 * and turns its freed record back into a dead owner's (pid NO_PID), so that every open
 * takes a record through the reuse pass of `claim`, where claimers race. `recordsAt` is
 * the i32 index of the record area, `count` its records. Prints one JSON line: how many
 * checks failed, and the count and sum of the values it pushed and popped.
 */
import { Queue, Segment, u32 } from "../../mod.ts";
import { args, NO_PID, pid } from "../helpers/worker.ts";
import { me } from "../../src/segment/process.ts";
import { R_PID, R_START, RECORD_WORDS, startLow } from "../../src/structures/claim_records.ts";

const [segName, idArg, itersArg, atArg, countArg] = args;
const id = Number(idArg), iters = Number(itersArg), at = Number(atArg), count = Number(countArg);
const start = startLow(me().start);
const area = Segment.open(segName); // reads the record area; opens no Queue, so holds no record
const i32 = area.memory.i32;

/** i32 indices of the records that name this process. */
function mine(): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (Atomics.load(i32, at + i * RECORD_WORDS + R_PID) === pid) out.push(at + i * RECORD_WORDS);
  return out;
}

let failed = 0, pushed = 0, pushSum = 0, popped = 0, popSum = 0;
for (let it = 0; it < iters; it++) {
  const seg = Segment.open(segName);
  const q = Queue.open(seg, "q", u32);
  const own = mine();
  if (own.length !== 1 || i32[own[0] + R_START] !== start) failed++;
  const v = id * 100_000 + it;
  if (q.tryPush(v)) {
    pushed++;
    pushSum += v;
  }
  const got = q.tryPop();
  if (got !== undefined) {
    popped++;
    popSum += got;
  }
  const again = mine();
  if (again.length !== 1 || again[0] !== own[0] || i32[own[0] + R_START] !== start) failed++;
  q.close();
  seg.close();
  if (own.length === 1) Atomics.compareExchange(i32, own[0] + R_PID, 0, NO_PID);
}
area.close();
console.log(JSON.stringify({ failed, pushed, pushSum, popped, popSum }));
