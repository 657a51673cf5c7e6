/** The message struct of the broadcast stress test: every field derives from `seq`, so a torn copy is detectable. */
import { f64, i32, struct, u32 } from "../../src/segment/elements.ts";

export const Msg = struct({ seq: f64, a: u32, b: i32, c: f64, d: u32 });

export function msg(seq: number): { seq: number; a: number; b: number; c: number; d: number } {
  return { seq, a: (seq * 2654435761) >>> 0, b: -(seq & 0x3fffffff), c: seq * 0.25 + 1, d: (seq ^ 0x5a5a5a5a) >>> 0 };
}

export function whole(v: { seq: number; a: number; b: number; c: number; d: number }): boolean {
  const w = msg(v.seq);
  return v.a === w.a && v.b === w.b && v.c === w.c && v.d === w.d;
}
