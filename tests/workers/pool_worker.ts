/**
 * Multi-process pool worker: `pool_worker.ts <segment> <pool> <workerId> <iterations>`
 * or `pool_worker.ts <segment> <pool> hold <n>` (acquires n slots and exits holding them).
 * Each iteration acquires a slot, claims it in an independent "holders" array with a
 * CAS (a failed CAS means another process holds the same slot), writes its tag into the
 * slot, spins re-checking it, then unclaims and releases. Prints one JSON line.
 */
import { f64, i32, ObjectPool, Segment, SharedArray } from "../../mod.ts";
import { args, exit } from "../helpers/worker.ts";

const [segName, pName, idArg, nArg] = args;
const seg = Segment.open(segName);
const pool = ObjectPool.open(seg, pName, f64);

if (idArg === "hold") {
  const held = [];
  for (let i = 0; i < Number(nArg); i++) held.push(pool.acquire());
  console.log(JSON.stringify({ held }));
  // Exit without releasing: the test reclaims these slots from the dead process.
  exit(0);
}

const id = Number(idArg);
const iterations = Number(nArg);
const holders = SharedArray.open(seg, `${pName}.holders`, i32).view() as Int32Array;
let acquired = 0;
let exhausted = 0;
let violations = 0;
const deadline = Date.now() + 30_000;
for (let it = 0; it < iterations; it++) {
  const h = pool.acquire();
  if (h === undefined) {
    exhausted++;
    it--;
    if ((exhausted & 0xffff) === 0 && Date.now() > deadline) throw new Error("pool worker timed out");
    continue;
  }
  acquired++;
  const slot = pool.slotOf(h);
  if (Atomics.compareExchange(holders, slot, 0, id) !== 0) violations++;
  const tag = id * 1e7 + it;
  pool.set(h, tag);
  for (let k = 0; k < 20; k++) if (pool.get(h) !== tag) violations++;
  if (Atomics.compareExchange(holders, slot, id, 0) !== id) violations++;
  pool.release(h);
}
console.log(JSON.stringify({ id, acquired, exhausted, violations }));
seg.close();
