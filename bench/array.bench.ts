/**
 * SharedArray reads and writes against a heap typed array in the same run
 * (posix_shm's "zero read overhead" claim). Every loop sums what it reads, so the
 * reads cannot be optimised away.
 *
 *   deno run -A bench/array.bench.ts    |    bun bench/array.bench.ts
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { f64, Segment, SharedArray, struct, u32 } from "../mod.ts";
import { benchSegmentName, runtime } from "./common.ts";

const N = 10_000;
const name = benchSegmentName("array");
Segment.unlink(name);
const seg = Segment.create(name, { size: 4 << 20 });
const shared = SharedArray.create(seg, "xs", f64, N);
const view = shared.view() as Float64Array;
const heap = new Float64Array(N);
for (let i = 0; i < N; i++) {
  heap[i] = i * 0.5;
  shared.set(i, i * 0.5);
}
const P = struct({ x: f64, y: f64, id: u32 });
const particles = SharedArray.create(seg, "ps", P, N);
const heapParticles = Array.from({ length: N }, (_, i) => ({ x: i, y: i, id: i }));
for (let i = 0; i < N; i++) particles.set(i, heapParticles[i]);

console.log(`${runtime}: sums over ${N} f64 elements per iteration`);
summary(() => {
  group("read 10k f64", () => {
    bench("heap Float64Array[i] (baseline)", () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += heap[i];
      return do_not_optimize(s);
    }).baseline(true);
    bench("SharedArray.view()[i] (mapped memory)", () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += view[i];
      return do_not_optimize(s);
    });
    bench("SharedArray.get(i) (bounds-checked)", () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += shared.get(i);
      return do_not_optimize(s);
    });
  });
});
summary(() => {
  group("write 10k f64", () => {
    bench("heap Float64Array[i] = v (baseline)", () => {
      for (let i = 0; i < N; i++) heap[i] = i;
      return do_not_optimize(heap[N - 1]);
    }).baseline(true);
    bench("SharedArray.set(i, v) (checked)", () => {
      for (let i = 0; i < N; i++) shared.set(i, i);
      return do_not_optimize(view[N - 1]);
    });
  });
});
summary(() => {
  group("read 10k structs {x: f64, y: f64, id: u32}", () => {
    bench("heap array of objects, .x (baseline)", () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += heapParticles[i].x;
      return do_not_optimize(s);
    }).baseline(true);
    bench("SharedArray.getField(i, 'x')", () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += particles.getField(i, "x") as number;
      return do_not_optimize(s);
    });
    bench("SharedArray.get(i).x (builds an object)", () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += particles.get(i).x;
      return do_not_optimize(s);
    });
  });
});

await run();
seg.close();
Segment.unlink(name);
