/**
 * The simulation process: moves 10,000 particles under gravity in a unit box with
 * elastic walls, writing each frame in place inside a seqlock.
 */
import { C, onInterrupt, openShared, PARTICLES, running, runtimeName, segmentArg, sleep } from "./layout.ts";

const sh = openShared(segmentArg());
let stop = false;
onInterrupt(() => (stop = true));
const { particles, control } = sh;
const G = -0.5;
const DT = 1 / 60;

// Initial state: deterministic pseudo-random positions and velocities.
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
Atomics.add(control, C.seq, 1);
for (let i = 0; i < PARTICLES; i++) {
  particles.set(i, { x: rand(), y: rand(), vx: rand() - 0.5, vy: rand() - 0.5, id: i });
}
Atomics.add(control, C.seq, 1);
Atomics.add(control, C.ready, 1);

const started = performance.now();
while (running(sh) && !stop) {
  Atomics.add(control, C.seq, 1); // odd: frame in progress
  for (let i = 0; i < PARTICLES; i++) {
    let x = particles.getField(i, "x") as number;
    let y = particles.getField(i, "y") as number;
    let vx = particles.getField(i, "vx") as number;
    let vy = (particles.getField(i, "vy") as number) + G * DT;
    x += vx * DT;
    y += vy * DT;
    if (x < 0) (x = -x), (vx = -vx);
    if (x > 1) (x = 2 - x), (vx = -vx);
    if (y < 0) (y = -y), (vy = -vy);
    if (y > 1) (y = 2 - y), (vy = -vy);
    particles.setField(i, "x", x);
    particles.setField(i, "y", y);
    particles.setField(i, "vx", vx);
    particles.setField(i, "vy", vy);
  }
  Atomics.add(control, C.seq, 1); // even: frame complete
  Atomics.add(control, C.frames, 1);
  await sleep(1000 / 60);
}
const frames = Atomics.load(control, C.frames);
console.log(`[simulate/${runtimeName}] ${frames} frames in ${((performance.now() - started) / 1000).toFixed(1)} s`);
sh.seg.close();
