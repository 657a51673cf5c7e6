/**
 * Child process for tests/vector.test.ts (Deno and Bun alike). Prints one JSON line.
 *
 * Modes:
 *   append <seg> <vec> <tag> <n>     wait for "go", push Rec(tag, 0..n-1), report indexes claimed
 *   scan <seg> <vec> <total>         until length reaches <total>: check every element below
 *                                    length, and any published beyond it, is fully written
 */
import { Segment } from "../../src/segment/segment.ts";
import { i32 } from "../../src/segment/elements.ts";
import { SharedAtomic } from "../../src/structures/atomic.ts";
import { Vector } from "../../src/structures/vector.ts";
import { Rec, rec, whole } from "./vector_rec.ts";
import { args as argv } from "../helpers/worker.ts";

const [mode, segName, vecName] = argv;
const seg = Segment.open(segName);
const v = Vector.open(seg, vecName, Rec);
const go = SharedAtomic.open(seg, "go", i32);
const deadline = performance.now() + 25_000;
go.add(1);
while (go.load() < 1000 && performance.now() < deadline); // the test sets 1000 + n when all are up

if (mode === "append") {
  const tag = Number(argv[3]);
  const n = Number(argv[4]);
  let idxSum = 0;
  for (let i = 0; i < n; i++) idxSum += v.push(rec(tag, i));
  console.log(JSON.stringify({ pushed: n, idxSum }));
} else if (mode === "scan") {
  const total = Number(argv[3]);
  let scans = 0;
  let bad = 0;
  let checked = 0;
  let beyond = 0;
  let from = 0;
  while (performance.now() < deadline) {
    const len = v.length;
    for (let i = from; i < len; i++, checked++) if (!whole(v.get(i))) bad++;
    from = len;
    // Probe past the prefix: an element there is either unpublished (undefined) or whole.
    for (let i = len; i < Math.min(len + 64, v.capacity); i++) {
      const e = v.get(i);
      if (e !== undefined) {
        beyond++;
        if (!whole(e)) bad++;
      }
    }
    scans++;
    if (len >= total) break;
  }
  // And once more from the start, with toArray and the iterator.
  const all = v.toArray();
  for (const e of all) if (!whole(e)) bad++;
  let iterated = 0;
  for (const e of v) if (whole(e)) iterated++;
  console.log(JSON.stringify({ scans, bad, checked, beyond, length: all.length, iterated }));
}
seg.close();
