/**
 * console.log / Deno.inspect / Bun.inspect of a segment or a structure prints a short
 * summary (src/segment/inspect.ts), not kilobytes of mapped memory.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { Mutex, Queue, u32 } from "../mod.ts";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const show = (v: unknown): string => (g.Deno ? g.Deno.inspect(v) : g.Bun ? g.Bun.inspect(v) : inspect(v));

test(
  "inspect: a segment and its structures print one-line summaries",
  segmentTest("insp", 1 << 16, (seg, name) => {
    const q = Queue.create(seg, "jobs", u32, 1024);
    q.push(1);
    q.push(2);
    q.push(3);
    const mu = Mutex.create(seg, "mu");
    assert.equal(show(q), `Queue<u32> "jobs" { capacity: 1024, size: 3 }`);
    assert.equal(inspect(q), `Queue<u32> "jobs" { capacity: 1024, size: 3 }`);
    assert.equal(show(mu), `Mutex "mu"`);
    assert.match(show(seg), new RegExp(`^Segment "${name}" \\{ size: 65536, structures: 2, processes: \\[\\d+\\] \\}$`));
    assert.ok(show({ q, seg }).length < 300);
    q.close();
    assert.equal(show(q), `Queue<u32> "jobs" { closed }`);
  }),
);
