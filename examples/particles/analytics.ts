/**
 * The analytics process: copies consistent frames (seqlock reads) and publishes
 * statistics into the shared `stats` array; prints them once a second when it owns
 * the terminal's output (headless mode).
 */
import {
  C,
  env,
  onInterrupt,
  openShared,
  PARTICLES,
  type ParticleValue,
  readFrame,
  running,
  runtimeName,
  S,
  segmentArg,
  sleep,
} from "./layout.ts";

const sh = openShared(segmentArg());
// With a terminal the renderer shows these statistics; without one, print them.
const quiet = env("SHMKIT_DEMO_TTY") === "1";
let stop = false;
onInterrupt(() => (stop = true));
const frame: ParticleValue[] = new Array(PARTICLES);
const expectedIdSum = (PARTICLES * (PARTICLES - 1)) / 2;
let lastPrint = performance.now();
let lastFrames = Atomics.load(sh.control, C.frames);
Atomics.add(sh.control, C.ready, 1);

while (running(sh) && !stop) {
  const seq = await readFrame(sh, frame);
  let speed = 0, energy = 0, cx = 0, cy = 0, ids = 0;
  for (const p of frame) {
    const v2 = p.vx * p.vx + p.vy * p.vy;
    speed += Math.sqrt(v2);
    energy += 0.5 * v2 + 0.5 * p.y; // kinetic + potential (g = 0.5)
    cx += p.x;
    cy += p.y;
    ids += p.id;
  }
  const now = performance.now();
  const frames = Atomics.load(sh.control, C.frames);
  const st = sh.stats;
  st[S.frame] = seq / 2;
  st[S.meanSpeed] = speed / PARTICLES;
  st[S.energy] = energy / PARTICLES;
  st[S.cx] = cx / PARTICLES;
  st[S.cy] = cy / PARTICLES;
  st[S.idSumOk] = ids === expectedIdSum ? 1 : 0;
  Atomics.add(sh.control, C.samples, 1);
  if (now - lastPrint >= 1000) {
    st[S.simFps] = ((frames - lastFrames) * 1000) / (now - lastPrint);
    if (!quiet) {
      console.log(
        `[analytics/${runtimeName}] frame ${st[S.frame]} | sim ${st[S.simFps].toFixed(0)} fps | mean speed ${
          st[S.meanSpeed].toFixed(3)
        } | ` +
          `energy/particle ${st[S.energy].toFixed(4)} | centre (${st[S.cx].toFixed(3)}, ${st[S.cy].toFixed(3)}) | ids ${
            ids === expectedIdSum ? "intact" : "BROKEN"
          }`,
      );
    }
    lastPrint = now;
    lastFrames = frames;
  }
  await sleep(50);
}
console.log(`[analytics/${runtimeName}] ${Atomics.load(sh.control, C.samples)} samples`);
sh.seg.close();
