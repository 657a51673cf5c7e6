/**
 * Rates from two inspections of the same segment: per structure and counter, the
 * change per second, with wrapping counters (2^32 positions) unwrapped. A structure
 * removed and recreated between the two (another block offset), or a counter that
 * went backwards without wrapping, gives no rate.
 */
import type { SegmentReport } from "../segment/inspection.ts";

/** Per structure name, per counter: events per second between `prev` and `next`. */
export type Rates = Record<string, Record<string, number>>;

/**
 * Rates between two reports of one segment (`next` taken after `prev`).
 *
 * ```ts
 * const a = Segment.inspect("jobs");
 * // ... a second later ...
 * const b = Segment.inspect("jobs");
 * rates(a, b).queue?.pushes; // pushes per second
 * ```
 */
export function rates(prev: SegmentReport, next: SegmentReport): Rates {
  const out: Rates = {};
  const seconds = (next.time - prev.time) / 1000;
  if (!(seconds > 0)) return out;
  const before = new Map(prev.entries.map((e) => [e.name, e]));
  for (const e of next.entries) {
    const p = before.get(e.name);
    if (p === undefined || p.offset !== e.offset || p.kind !== e.kind) continue;
    const r: Record<string, number> = {};
    for (const [k, v] of Object.entries(e.counters)) {
      const old = p.counters[k];
      if (old === undefined) continue;
      const wrap = e.wraps[k];
      let d = v - old;
      if (wrap !== undefined) d = ((d % wrap) + wrap) % wrap;
      if (d >= 0) r[k] = d / seconds;
    }
    out[e.name] = r;
  }
  return out;
}
