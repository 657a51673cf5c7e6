/** Element of the vector stress test: every field derives from (tag, i); an all-zero (unwritten) one is not whole. */
import { f64, struct, u32 } from "../../src/segment/elements.ts";

export const Rec = struct({ tag: u32, i: u32, key: f64, check: u32 });

export function rec(tag: number, i: number): { tag: number; i: number; key: number; check: number } {
  return { tag, i, key: tag * 1e7 + i + 1, check: (((tag * 31 + i) * 2654435761) | 1) >>> 0 };
}

export function whole(e: { tag: number; i: number; key: number; check: number } | undefined): boolean {
  if (e === undefined) return false;
  const w = rec(e.tag, e.i);
  return e.key === w.key && e.check === w.check;
}
