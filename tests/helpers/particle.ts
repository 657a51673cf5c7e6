/**
 * The 64-byte struct the struct-queue tests send (tests/struct_queue.test.ts and its
 * worker): Particle(i) has every field a different function of i, so a torn copy shows.
 */
import { f64, struct, u32 } from "../../mod.ts";

export const Particle = struct({ id: u32, flags: u32, t: f64, x: f64, y: f64, z: f64, vx: f64, vy: f64, vz: f64 });
export type P = { id: number; flags: number; t: number; x: number; y: number; z: number; vx: number; vy: number; vz: number };

/** Particle i, written into `p` (a new object by default). */
export function particle(i: number, p: P = { id: 0, flags: 0, t: 0, x: 0, y: 0, z: 0, vx: 0, vy: 0, vz: 0 }): P {
  p.id = i;
  p.flags = (i * 7) >>> 0;
  p.t = i + 0.25;
  p.x = -i;
  p.y = i * 2;
  p.z = i / 8;
  p.vx = i + 1;
  p.vy = i - 1;
  p.vz = i * 3;
  return p;
}

/** Whether `p` is a whole Particle (every field agrees with its id). */
export function whole(p: Readonly<P>): boolean {
  const i = p.id;
  return p.flags === ((i * 7) >>> 0) && p.t === i + 0.25 && p.x === -i && p.y === i * 2 && p.z === i / 8 &&
    p.vx === i + 1 && p.vy === i - 1 && p.vz === i * 3;
}
