/**
 * Child process for tests/fastpath.test.ts: run by Deno with code generation from
 * strings refused (--v8-flags=--disallow-code-generation-from-strings), it checks that
 * refusal holds, then moves numbers and structs through an SpscQueue and a Queue
 * (struct types fall back from their generated read/write to plain closures:
 * composite.ts, struct_view.ts), the views and the staging struct too. Prints one JSON line.
 */
import { f64, Queue, Segment, SpscQueue, struct, u32 } from "../../mod.ts";

let evalRefused = false;
try {
  new Function("return 1")();
} catch {
  evalRefused = true;
}
const seg = Segment.create("noeval-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
const s = SpscQueue.create(seg, "s", f64, 8);
const q = Queue.create(seg, "q", u32, 8);
const P = struct({ x: f64, id: u32 });
const ps = SpscQueue.create(seg, "ps", P, 8), pq = Queue.create(seg, "pq", P, 8);
let sum = 0;
for (let i = 0; i < 100; i++) {
  s.push(i + 0.5);
  q.push(i);
  ps.push({ x: i, id: i });
  pq.push({ x: i, id: i });
  sum += s.pop() + q.pop();
  const a = ps.pop(), b = pq.pop();
  if (a.x !== i || a.id !== i || b.x !== i || b.id !== i) throw new Error(`struct ${i} came back as ${JSON.stringify([a, b])}`);
}
const empty = s.tryPop() === undefined && q.tryPop() === undefined && ps.tryPop() === undefined && pq.tryPop() === undefined;
// The plain struct functions: a bad field refused with nothing queued, and tryPopInto.
let badRefused = false;
try {
  pq.push({ x: 1, id: -1 });
} catch (e) {
  badRefused = (e as { code?: string }).code === "INVALID_ARGUMENT" && pq.tryPop() === undefined;
}
pq.push({ x: 2.5, id: 9 });
const into = P.create(); // the plain read of zero bytes
const made = into.x === 0 && into.id === 0 && Object.getPrototypeOf(into) === Object.prototype;
const intoOk = made && pq.tryPopInto(into) === into && into.x === 2.5 && into.id === 9;
// The plain view (struct_view.ts): getters over the popped bytes, from both queues.
ps.push({ x: 3.5, id: 4 });
pq.push({ x: 4.5, id: 5 });
const a = ps.tryPopView(), b = pq.tryPopView();
const viewOk = a?.x === 3.5 && a.id === 4 && b?.x === 4.5 && b.id === 5 && ps.tryPopView() === undefined &&
  Object.keys(a).length === 0; // getters, not own properties, as the compiled view's
// The plain staging view: setters that check, the struct pushed by bytes from both queues.
const sa = ps.staging(), sb = pq.staging();
sa.x = 6.5, sa.id = 7, sb.x = 8.5, sb.id = 9;
let stagedBadRefused = false;
try {
  sb.id = -1;
} catch (e) {
  stagedBadRefused = (e as { code?: string }).code === "INVALID_ARGUMENT" && sb.id === 9;
}
const sp = ps.tryPushStaged() && pq.tryPushStaged() ? [ps.pop(), pq.pop()] : [];
const stagedOk = stagedBadRefused && sp[0]?.x === 6.5 && sp[0].id === 7 && sp[1]?.x === 8.5 && sp[1].id === 9 &&
  Object.keys(sa).length === 0 && !Object.isExtensible(sa);
seg.close();
console.log(JSON.stringify({ evalRefused, sum, empty, badRefused, intoOk, viewOk, stagedOk }));
