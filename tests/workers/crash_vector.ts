/**
 * Crash worker for Vector "v" (u32). Usage:
 *   crash_vector.ts <segment> append1 <v>    one push (tests stop it at vector.push.reserved)
 *   crash_vector.ts <segment> append <id>    push id * PER_ID + seq until PER_ID or full, acked[id] = seq after each
 * Prints READY when it is in its loop.
 */
import { Segment, SharedArray, u32, Vector } from "../../mod.ts";
import { args } from "../helpers/worker.ts";
import { PER_ID, say } from "../helpers/crash_worker.ts";

const [segName, role, arg] = args;
const seg = Segment.open(segName);
const v = Vector.open(seg, "v", u32);
if (role === "append1") {
  say("READY");
  say(`DONE ${v.push(Number(arg))}`);
} else {
  const acked = SharedArray.open(seg, "acked", u32).view() as Uint32Array;
  const id = Number(arg);
  say("READY");
  for (let seq = 0; seq < PER_ID; seq++) {
    if (v.tryPush(id * PER_ID + seq) < 0) break;
    Atomics.store(acked, id, seq + 1);
    if ((seq & 63) === 63) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // leave room for more incarnations
  }
}
seg.close();
