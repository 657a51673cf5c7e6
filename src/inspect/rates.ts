/**
 * Rates from two inspections of the same segment: per structure and counter, the
 * change per second, with wrapping counters (2^32 positions) unwrapped. A structure
 * removed and recreated between the two (another block offset), or a counter that
 * went backwards without wrapping, gives no rate.
 */
import type { SegmentReport } from "../segment/inspection.ts";

/**
 * Per structure name, per counter: events per second between `prev` and `next`.
 *
 * @example
 * ```ts
 * import { Queue, type Rates, rates, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-rates-type-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "jobs", u32, 100);
 * const a = Segment.inspect(seg.name);
 * q.push(1);
 * const r: Rates = rates(a, { ...Segment.inspect(seg.name), time: a.time + 1000 });
 * assert.equal(r.jobs.pushes, 1);
 * ```
 */
export type Rates = Record<string, Record<string, number>>;

/**
 * Rates between two reports of one segment (`next` taken after `prev`).
 *
 * @example
 * ```ts
 * import { Queue, rates, Segment, u32 } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-rates-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const q = Queue.create(seg, "jobs", u32, 100);
 * const before = Segment.inspect(seg.name);
 * for (let i = 0; i < 10; i++) q.push(i);
 * const after = { ...Segment.inspect(seg.name), time: before.time + 2000 }; // as if read 2 s later
 * assert.deepEqual(rates(before, after).jobs, { pushes: 5, pops: 0 });
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
