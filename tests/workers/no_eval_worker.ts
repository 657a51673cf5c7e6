/**
 * Child process for tests/fastpath.test.ts: run by Deno with code generation from
 * strings refused (--v8-flags=--disallow-code-generation-from-strings), it checks that
 * refusal holds, then moves numbers through an SpscQueue and a Queue, whose bound
 * native calls fall back to closures over captured values there (fast_path.ts
 * `bound`). Prints one JSON line.
 */
import { f64, Queue, Segment, SpscQueue, u32 } from "../../mod.ts";

let evalRefused = false;
try {
  new Function("return 1")();
} catch {
  evalRefused = true;
}
const seg = Segment.create("noeval-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
const s = SpscQueue.create(seg, "s", f64, 8);
const q = Queue.create(seg, "q", u32, 8);
let sum = 0;
for (let i = 0; i < 100; i++) {
  s.push(i + 0.5);
  q.push(i);
  sum += s.pop() + q.pop();
}
const empty = s.tryPop() === undefined && q.tryPop() === undefined;
seg.close();
console.log(JSON.stringify({ evalRefused, sum, empty }));
