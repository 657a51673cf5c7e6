/**
 * What the demo's processes agree on: the particle struct, the names in the
 * segment, and the frame seqlock that lets readers copy a consistent frame.
 */
import { f32, f64, i32, Segment, SharedArray, struct, u32 } from "../../mod.ts";

/** Same layout as `struct { float x, y, vx, vy; uint32_t id; }` in C: 20 bytes. */
export const Particle = struct({ x: f32, y: f32, vx: f32, vy: f32, id: u32 });
export type ParticleValue = { x: number; y: number; vx: number; vy: number; id: number };
export const PARTICLES = 10_000;

/** Slots of the shared `control` array (i32, used with Atomics). */
export const C = {
  running: 0, // 1 while the demo runs; 0 tells every process to stop
  seq: 1, // frame seqlock: odd while the simulation writes a frame
  frames: 2, // frames simulated
  rendered: 3, // frames the renderer drew
  samples: 4, // statistics the analytics process computed
  retries: 5, // reads retried because the writer was mid-frame
  ready: 6, // processes that have attached
} as const;

/** Slots of the shared `stats` array (f64): written by analytics, shown by the renderer. */
export const S = { frame: 0, meanSpeed: 1, energy: 2, cx: 3, cy: 4, idSumOk: 5, simFps: 6 } as const;

export interface Shared {
  seg: Segment;
  particles: SharedArray<ParticleValue>;
  control: Int32Array;
  stats: Float64Array;
}

export function createShared(name: string): Shared {
  const seg = Segment.create(name, { size: 1 << 20, maxEntries: 8 });
  const particles = SharedArray.create(seg, "particles", Particle, PARTICLES);
  const control = SharedArray.create(seg, "control", i32, 8).view() as Int32Array;
  const stats = SharedArray.create(seg, "stats", f64, 8).view() as Float64Array;
  return { seg, particles, control, stats };
}

export function openShared(name: string): Shared {
  const seg = Segment.open(name);
  return {
    seg,
    particles: SharedArray.open(seg, "particles", Particle),
    control: SharedArray.open(seg, "control", i32).view() as Int32Array,
    stats: SharedArray.open(seg, "stats", f64).view() as Float64Array,
  };
}

/**
 * Copies a consistent frame into `out` (a seqlock read): if the simulation is writing,
 * waits a millisecond; if it wrote during the copy, copies again (counted in
 * `retries`). Returns the frame's sequence number.
 */
export async function readFrame(sh: Shared, out: ParticleValue[]): Promise<number> {
  for (;;) {
    const before = Atomics.load(sh.control, C.seq);
    if ((before & 1) === 1) {
      await sleep(1);
      continue;
    }
    for (let i = 0; i < out.length; i++) out[i] = sh.particles.get(i);
    if (Atomics.load(sh.control, C.seq) === before) return before;
    Atomics.add(sh.control, C.retries, 1);
  }
}

export function running(sh: Shared): boolean {
  return Atomics.load(sh.control, C.running) === 1;
}

/** Resolves after `ms` (a tick for the process loops). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Exits the loop on Ctrl-C in this process too (the terminal signals the whole group). */
export function onInterrupt(fn: () => void): void {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (g.Deno) g.Deno.addSignalListener("SIGINT", fn);
  else g.process.on("SIGINT", fn);
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
/** The segment name this process was started with (first command-line argument). */
export function segmentArg(): string {
  const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
  if (!args[0]) throw new Error("usage: <script> <segment-name>");
  return args[0];
}
export const runtimeName: string = g.Bun ? "bun" : "deno";
export function env(name: string): string | undefined {
  return g.Deno ? g.Deno.env.get(name) : g.process.env[name];
}
