import { f64, Segment, SharedArray, SharedAtomic, struct, u32 } from "../mod.ts";

// One process creates a segment and named structures in it...
const Point = struct({ x: f64, y: f64, id: u32 }); // same layout as the C struct
using seg = Segment.create("quickstart", { size: 1 << 20, unlinkOnLastClose: true });
const points = SharedArray.create(seg, "points", Point, 1_000);
const hits = SharedAtomic.create(seg, "hits", u32);
points.set(0, { x: 1.5, y: -2, id: 7 });
hits.add(1);

// ...and any other process (Deno or Bun) opens them by name, type-checked.
using other = Segment.open("quickstart");
const samePoints = SharedArray.open(other, "points", Point);
console.log(samePoints.get(0), SharedAtomic.open(other, "hits", u32).load()); // { x: 1.5, y: -2, id: 7 } 1
