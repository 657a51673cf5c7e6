/**
 * The renderer process: copies consistent frames and draws the particle density in
 * the terminal, with the statistics the analytics process publishes. Without a
 * terminal it prints one line a second instead.
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
const tty = env("SHMKIT_DEMO_TTY") === "1";
const cols = Math.max(20, Number(env("SHMKIT_DEMO_COLS") ?? 80) - 2);
const rows = Math.max(8, Number(env("SHMKIT_DEMO_ROWS") ?? 24) - 6);
const SHADES = " .:-=+*#%@";
let stop = false;
onInterrupt(() => (stop = true));
const frame: ParticleValue[] = new Array(PARTICLES);
const counts = new Uint16Array(cols * rows);
const encoder = new TextEncoder();
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const write = (s: string) => (g.Deno ? g.Deno.stdout.writeSync(encoder.encode(s)) : g.process.stdout.write(s));
let lastPrint = performance.now();
Atomics.add(sh.control, C.ready, 1);
if (tty) write("\x1b[?25l\x1b[2J");

while (running(sh) && !stop) {
  const seq = await readFrame(sh, frame);
  counts.fill(0);
  let peak = 1;
  for (const p of frame) {
    const cx = Math.min(cols - 1, Math.max(0, Math.floor(p.x * cols)));
    const cy = Math.min(rows - 1, Math.max(0, Math.floor((1 - p.y) * rows)));
    const c = ++counts[cy * cols + cx];
    if (c > peak) peak = c;
  }
  Atomics.add(sh.control, C.rendered, 1);
  const st = sh.stats;
  if (tty) {
    let out = "\x1b[H";
    out += `shmkit particles: ${PARTICLES} in shared memory | frame ${seq / 2} | sim ${st[S.simFps].toFixed(0)} fps | ` +
      `renderer ${runtimeName}\n+${"-".repeat(cols)}+\n`;
    for (let y = 0; y < rows; y++) {
      let line = "|";
      for (let x = 0; x < cols; x++) {
        const c = counts[y * cols + x];
        line += c === 0 ? " " : SHADES[Math.min(SHADES.length - 1, 1 + Math.floor((c / peak) * (SHADES.length - 2)))];
      }
      out += line + "|\n";
    }
    out += `+${"-".repeat(cols)}+\n` +
      `analytics: mean speed ${st[S.meanSpeed].toFixed(3)} | energy ${st[S.energy].toFixed(4)} | ` +
      `centre (${st[S.cx].toFixed(2)}, ${st[S.cy].toFixed(2)}) | ids ${st[S.idSumOk] ? "intact" : "?"} | Ctrl-C to stop   \n`;
    write(out);
  } else if (performance.now() - lastPrint >= 1000) {
    lastPrint = performance.now();
    const busiest = counts.reduce((a, c) => Math.max(a, c), 0);
    console.log(`[render/${runtimeName}] frame ${seq / 2} drawn: ${cols}x${rows} cells, busiest cell ${busiest} particles`);
  }
  await sleep(tty ? 33 : 100);
}
if (tty) write("\x1b[?25h\n");
console.log(`[render/${runtimeName}] ${Atomics.load(sh.control, C.rendered)} frames drawn`);
sh.seg.close();
