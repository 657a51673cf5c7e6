import assert from "node:assert/strict";
import fc from "fast-check";
import { f64, i32, string, struct, u32, u8 } from "../src/segment/elements.ts";
import { SharedAtomic } from "../src/structures/atomic.ts";
import { RingBuffer } from "../src/structures/ring_buffer.ts";
import { _broadcastTesting, BroadcastRing } from "../src/structures/broadcast.ts";
import type { ShmError } from "../src/errors.ts";
import { test } from "./harness.ts";
import { code } from "./helpers/errors.ts";
import { type SegmentBody, segmentTest } from "./helpers/segments.ts";
import { lastJson, run, start } from "./helpers/procs.ts";
import { Msg, msg } from "./workers/broadcast_msg.ts";

const worker = new URL("./workers/broadcast_worker.ts", import.meta.url);

const withSegment = (fn: SegmentBody, size = 1 << 20) => segmentTest("bc", size, fn);

function drain<T>(r: { tryRead(): T | undefined }): T[] {
  const out: T[] = [];
  for (let v = r.tryRead(); v !== undefined; v = r.tryRead()) out.push(v);
  return out;
}

test(
  "broadcast: every reader sees every message in order",
  withSegment((seg) => {
    const b = BroadcastRing.create(seg, "b", i32, 8);
    const early = b.reader();
    b.publish(1);
    b.publish(2);
    const late = b.reader({ from: "now" });
    const oldest = b.reader({ from: "oldest" });
    b.publish(3);
    assert.deepEqual(drain(early), [1, 2, 3]);
    assert.deepEqual(drain(late), [3]);
    assert.deepEqual(drain(oldest), [1, 2, 3]);
    assert.equal(early.tryRead(), undefined);
    assert.equal(b.published, 3);
    assert.equal(early.position, 3);
    assert.equal(early.missed + late.missed + oldest.missed, 0);
    assert.equal(b.publishBulk(Int32Array.from([4, 5, 6])), 3);
    assert.equal(late.lag, 3);
    assert.deepEqual(drain(late), [4, 5, 6]);
    assert.equal(late.lag, 0);
  }),
);

test(
  "broadcast: a reader lapped by the writer is told how many it missed",
  withSegment((seg) => {
    const b = BroadcastRing.create(seg, "b", f64, 4);
    const r = b.reader();
    const slowStart = b.reader();
    for (let i = 0; i < 10; i++) b.publish(i);
    assert.equal(r.tryRead(), 6); // 0..5 are gone, 6..9 retained
    assert.equal(r.missed, 6);
    assert.equal(r.position, 7);
    assert.deepEqual(drain(r), [7, 8, 9]);
    // Read one, then get lapped mid-way: the stale position is detected by the slot stamp.
    assert.equal(slowStart.tryRead(), 6);
    for (let i = 10; i < 13; i++) b.publish(i);
    assert.deepEqual(drain(slowStart), [9, 10, 11, 12]);
    assert.equal(slowStart.missed, 8);
    const old = b.reader({ from: "oldest" });
    assert.deepEqual(drain(old), [9, 10, 11, 12]);
    assert.equal(old.missed, 0);
  }),
);

test(
  "broadcast: capacity 1 and a capacity that is not a power of two",
  withSegment((seg) => {
    const one = BroadcastRing.create(seg, "one", u8, 1);
    const r1 = one.reader();
    one.publish(1);
    assert.equal(r1.tryRead(), 1);
    one.publish(2);
    one.publish(3);
    assert.equal(r1.tryRead(), 3);
    assert.equal(r1.missed, 1);
    const odd = BroadcastRing.create(seg, "odd", u32, 7);
    const r = odd.reader();
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 5; i++) odd.publish(round * 5 + i);
      for (let i = 0; i < 5; i++) assert.equal(r.tryRead(), next++);
    }
    assert.equal(r.missed, 0);
  }),
);

test(
  "broadcast: positions run past 2^31 and 2^32",
  withSegment((seg) => {
    for (const startAt of [2 ** 31 - 3, 2 ** 32 - 5, 3 * 2 ** 32 - 2]) {
      const b = BroadcastRing.create(seg, `w${startAt}`, f64, 4);
      _broadcastTesting.setPublished(seg, b, startAt);
      assert.equal(b.published, startAt);
      const r = b.reader();
      const lagging = b.reader();
      for (let i = 0; i < 20; i++) {
        b.publish(i);
        assert.equal(r.tryRead(), i);
      }
      assert.equal(b.published, startAt + 20);
      assert.equal(r.position, startAt + 20);
      assert.deepEqual(drain(lagging), [16, 17, 18, 19]);
      assert.equal(lagging.missed, 16);
    }
  }),
);

const Tick = struct({ price: f64, qty: u32, sym: string(8) });

test(
  "broadcast: struct elements; bulk larger than the capacity",
  withSegment((seg) => {
    const b = BroadcastRing.create(seg, "ticks", Tick, 3);
    const r = b.reader();
    const ticks = Array.from({ length: 10 }, (_, i) => ({ price: i + 0.5, qty: i, sym: `S${i}` }));
    assert.equal(b.publishBulk(ticks), 10);
    assert.deepEqual(drain(r), ticks.slice(7));
    assert.equal(r.missed, 7);
    assert.equal(b.published, 10);
    b.publish(ticks[0]);
    assert.deepEqual(r.tryRead(), ticks[0]);
  }),
);

test(
  "broadcast: invalid values throw INVALID_ARGUMENT and publish nothing",
  withSegment((seg) => {
    const b = BroadcastRing.create(seg, "b", u8, 4);
    const r = b.reader();
    b.publish(1);
    assert.equal(code(() => b.publish(300)), "INVALID_ARGUMENT");
    assert.equal(code(() => b.publishBulk([2, 3, -1])), "INVALID_ARGUMENT");
    assert.equal(b.published, 1);
    assert.deepEqual(drain(r), [1]);
    const t = BroadcastRing.create(seg, "t", Tick, 1);
    const rt = t.reader({ from: "oldest" });
    t.publish({ price: 1, qty: 1, sym: "A" });
    assert.equal(code(() => t.publish({ price: 2, qty: 2, sym: "far too long" })), "INVALID_ARGUMENT");
    assert.deepEqual(drain(rt), [{ price: 1, qty: 1, sym: "A" }]);
    assert.equal(code(() => b.reader({ from: "later" as "now" })), "INVALID_ARGUMENT");
  }),
);

test(
  "broadcast: one writer at a time in a process; release hands it over",
  withSegment((seg) => {
    const a = BroadcastRing.create(seg, "b", i32, 4);
    const b = BroadcastRing.open(seg, "b", i32);
    const r = b.reader();
    a.publish(1);
    assert.equal(a.isWriter, true);
    assert.equal(code(() => b.publish(2)), "EXISTS");
    a.releaseWriter();
    b.publish(2); // continues from the published position
    assert.equal(code(() => a.publish(3)), "EXISTS");
    b.close();
    a.publish(3);
    assert.deepEqual(drain(a.reader({ from: "oldest" })), [1, 2, 3]);
    assert.equal(code(() => r.tryRead()), "CLOSED"); // readers close with the handle that made them
  }),
);

test(
  "broadcast: a live writer in another process is refused; a dead one is taken over",
  withSegment(async (seg, name) => {
    for (const rt of ["deno", "bun"] as const) {
      const ring = `b-${rt}`;
      const b = BroadcastRing.create(seg, ring, Msg, 4);
      b.close();
      const child = start(rt, worker, ["hold", name, ring], 20_000);
      try {
        await child.waitForLine((l) => l === "holding");
        const mine = BroadcastRing.open(seg, ring, Msg);
        const e = (() => {
          try {
            mine.claimWriter();
          } catch (err) {
            return err as ShmError;
          }
        })();
        assert.equal(e?.code, "EXISTS");
        assert.match(e!.message, new RegExp(`pid ${child.pid}`));
        child.kill("SIGKILL");
        await child.done;
        mine.claimWriter(); // the dead writer's claim is taken over
        const r = mine.reader({ from: "oldest" });
        mine.publish(msg(2));
        assert.deepEqual(drain(r).map((m) => m.seq), [1, 2]);
        mine.close();
      } finally {
        child.kill("SIGKILL");
      }
    }
  }),
  { timeout: 30_000 },
);

test(
  "broadcast: wrong type, CLOSED after close",
  withSegment((seg) => {
    const b = BroadcastRing.create(seg, "b", f64, 4);
    assert.equal(code(() => BroadcastRing.open(seg, "b", i32)), "TYPE_MISMATCH");
    RingBuffer.create(seg, "ring", f64, 4);
    assert.equal(code(() => BroadcastRing.open(seg, "ring", f64)), "TYPE_MISMATCH");
    assert.equal(code(() => BroadcastRing.create(seg, "z", f64, 0)), "INVALID_ARGUMENT");
    const r = b.reader();
    b.close();
    assert.equal(code(() => b.publish(1)), "CLOSED");
    assert.equal(code(() => b.reader()), "CLOSED");
    assert.equal(code(() => r.tryRead()), "CLOSED");
    const again = BroadcastRing.open(seg, "b", f64);
    again.publish(1); // close released the writer claim
    const r2 = again.reader({ from: "oldest" });
    seg.close();
    assert.equal(code(() => r2.tryRead()), "CLOSED");
  }),
);

test(
  "broadcast: matches a model of the log and per-reader cursors (fast-check)",
  withSegment((seg) => {
    let id = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("pub" as const), v: fc.integer({ min: -1e6, max: 1e6 }) }),
            fc.record({ op: fc.constant("bulk" as const), vs: fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 9 }) }),
            fc.record({ op: fc.constant("read" as const), who: fc.nat(3) }),
            fc.record({ op: fc.constant("join" as const), oldest: fc.boolean() }),
          ),
          { maxLength: 80 },
        ),
        (cap, ops) => {
          const b = BroadcastRing.create(seg, `m${id++}`, i32, cap);
          try {
            const log: number[] = [];
            const readers = [{ r: b.reader(), pos: 0, missed: 0 }];
            for (const o of ops) {
              if (o.op === "pub") {
                b.publish(o.v);
                log.push(o.v);
              } else if (o.op === "bulk") {
                b.publishBulk(o.vs);
                log.push(...o.vs);
              } else if (o.op === "join") {
                const pos = o.oldest ? Math.max(0, log.length - cap) : log.length;
                readers.push({ r: b.reader({ from: o.oldest ? "oldest" : "now" }), pos, missed: 0 });
              } else {
                const m = readers[o.who % readers.length];
                const oldest = Math.max(0, log.length - cap);
                if (m.pos < oldest && m.pos < log.length) {
                  m.missed += oldest - m.pos;
                  m.pos = oldest;
                }
                const want = m.pos < log.length ? log[m.pos++] : undefined;
                assert.equal(m.r.tryRead(), want);
                assert.equal(m.r.missed, m.missed);
                assert.equal(m.r.position, m.pos);
              }
              assert.equal(b.published, log.length);
            }
          } finally {
            b.close();
            seg.remove(b.name);
          }
        },
      ),
      { numRuns: 150 },
    );
  }),
);

interface ReadReport {
  count: number;
  torn: number;
  outOfOrder: number;
  gaps: number;
  gapTotal: number;
  missed: number;
  last: number;
  position: number;
}

for (const writer of ["deno", "bun"] as const) {
  test(
    `broadcast: ${writer} writer, readers in both runtimes and a slow one: exact sequence or reported gap, never torn`,
    withSegment(async (seg, name) => {
      const n = 100_000;
      BroadcastRing.create(seg, "bc", Msg, 256);
      SharedAtomic.create(seg, "ready", i32);
      SharedAtomic.create(seg, "done", i32);
      const readers = [["deno", "0"], ["bun", "0"], [writer === "deno" ? "bun" : "deno", "50"]] as const;
      const [w, ...outs] = await Promise.all([
        run(writer, worker, ["write", name, "bc", String(n), String(readers.length), "128"], 40_000),
        ...readers.map(([rt, slow]) => run(rt, worker, ["read", name, "bc", slow], 40_000)),
      ]);
      assert.equal(lastJson<{ published: number }>(w).published, n);
      const reports = outs.map((o) => lastJson<ReadReport>(o));
      for (const r of reports) {
        assert.equal(r.torn, 0, JSON.stringify(r));
        assert.equal(r.outOfOrder, 0, JSON.stringify(r));
        assert.equal(r.last, n, "every reader reaches the last message");
        assert.equal(r.position, n);
        // Everything was either read or reported missed, and the gaps seen are exactly those reported.
        assert.equal(r.count + r.missed, n, JSON.stringify(r));
        assert.equal(r.gapTotal, r.missed);
      }
      console.log(
        `  readers (deno, bun, slow): read ${reports.map((r) => r.count).join(", ")}; missed ${
          reports.map((r) => r.missed).join(", ")
        }`,
      );
      assert.ok(reports[2].missed > 0, `the slow reader was overrun: ${JSON.stringify(reports[2])}`);
    }),
    { timeout: 60_000 },
  );
}
