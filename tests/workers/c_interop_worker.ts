/**
 * Child process for tests/c_interop.test.ts (runs under Deno or Bun).
 * Usage: c_interop_worker.ts add <segment> <count32> <count64> <barrier> <parties> <times>
 *   waits on the i32 atomic <barrier> with the C adders (adds 1, waits for <parties>),
 *   then adds 1 to the i32 atomic <count32> and to the i64 atomic <count64>, <times> each.
 * Prints one JSON line.
 */
import { i32, i64AsNumber, Segment, SharedAtomic } from "../../mod.ts";
import { arriveAndWait } from "../helpers/barrier.ts";
import { args, runtime } from "../helpers/worker.ts";

const [mode, segName, count32, count64, barrier, parties, times] = args;
if (mode !== "add") throw new Error(`c_interop_worker: unknown mode ${mode}`);

const seg = Segment.open(segName);
const c32 = SharedAtomic.open(seg, count32, i32);
const c64 = SharedAtomic.open(seg, count64, i64AsNumber);
const go = SharedAtomic.open(seg, barrier, i32);
arriveAndWait(go, Number(parties), 20_000, 0.1);
const t0 = performance.now();
for (let i = 0, n = Number(times); i < n; i++) {
  c32.add(1);
  c64.add(1);
}
console.log(JSON.stringify({ runtime, ms: Math.round(performance.now() - t0) }));
seg.close();
