/**
 * The native fast paths (zig/fastpath.zig): the same format as the TypeScript
 * structures (interop both ways, every numeric kind, the same value checks), hostile
 * segments (an out-of-range index is CORRUPT, never an access), and multi-process
 * stress, Deno and Bun mixed, aimed at the weakened orderings: release publication
 * with acquire reads (exact values, counts and sums) and the asymmetric wake
 * handshake (a ping-pong in which every wait parks, and a capacity-1 stream in which
 * the producer parks on "not full" too: a lost wake-up stalls it).
 * No timing is asserted.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { native } from "../ffi/mod.ts";
import { FAST_BYTES, FAST_CORRUPT, FAST_INVALID, FAST_NONE, FAST_OK, FAST_RANGE, FAST_STATUS } from "../ffi/native.ts";
import {
  bool,
  type ElementType,
  f32,
  f64,
  i16,
  i32,
  i64AsNumber,
  i8,
  Queue,
  type Segment,
  SharedAtomic,
  SpscQueue,
  string,
  struct,
  u16,
  u32,
  u64AsNumber,
  u8,
} from "../mod.ts";
import { fastKind, structReadInto } from "../src/segment/elements.ts";
import { recordCount } from "../src/structures/claim_records.ts";
import { bindBytes, bindMpmc, bindSpsc, bindSpscBytes } from "../src/structures/fast_path.ts";
import { ShmError } from "../src/errors.ts";
import { recordsAt } from "../src/structures/queue_layout.ts";
import { lastJson, run, type Runtime } from "./helpers/procs.ts";
import { segmentTest } from "./helpers/segments.ts";
import { assertExactlyOnce } from "./helpers/tally.ts";
import { test } from "./harness.ts";

const WORKER = new URL("./workers/fastpath_worker.ts", import.meta.url);
const n = native();

function layoutOf(seg: Segment, h: { offset: number }) {
  return { control: h.offset + 64, data: h.offset + seg.memory.u32[(h.offset + 12) >> 2] };
}

/** Native SPSC ops on queue `q`: push → code, pop → [value, status]. */
function spsc<T>(seg: Segment, q: SpscQueue<T>, type: ElementType<unknown>) {
  const { control, data } = layoutOf(seg, q);
  const kind = fastKind(type)!;
  const state = n.fastState(); // one per queue: it holds this queue's cached indices
  assert.equal(n.spscBind(state.address, seg.memory.base, control, data, q.capacity + 1, kind, 0, 0, 0), FAST_OK);
  return {
    control,
    push: (v: number) => n.spscPush[kind]!(state.address, v),
    pop(): [number, number] {
      state.words[FAST_STATUS] = 99;
      const v = n.spscPop[kind]!(state.address);
      return [v, v === v ? FAST_OK : state.words[FAST_STATUS]];
    },
  };
}

function mpmc<T>(seg: Segment, q: Queue<T>, type: ElementType<unknown>) {
  const { control, data } = layoutOf(seg, q);
  let ring = 2;
  while (ring < q.capacity) ring *= 2;
  const a = Math.max(4, type.size);
  const elemOff = a, stride = Math.ceil((elemOff + type.size) / a) * a;
  const layout = fastKind(type)! | (elemOff << 8) | (stride << 16);
  const state = n.fastState(), values = n.fastBuffer(8);
  // A claim record of its own: the last of the area (the handles take the first ones).
  const rec = recordsAt(data, ring, stride) + (recordCount(seg.maxProcesses) - 1) * 64;
  assert.equal(
    n.mpmcBind(state.address, seg.memory.base, control, data, ring, q.capacity, layout, rec, 0, values.address, 8),
    FAST_OK,
  );
  return {
    control,
    data,
    ring,
    rec,
    values, // kept: the block must outlive the binding
    push: (v: number) => n.mpmcPush[fastKind(type)!]!(state.address, v),
    pop(): [number, number] {
      state.words[FAST_STATUS] = 99;
      const v = n.mpmcPop[fastKind(type)!]!(state.address);
      return [v, v === v ? FAST_OK : state.words[FAST_STATUS]];
    },
  };
}

const KINDS: [string, ElementType<number>, number[], unknown[]][] = [
  ["i8", i8, [-128, 127, 0, -0], [128, -129, 0.5, NaN, Infinity]],
  ["u8", u8, [0, 255], [256, -1, 1.5]],
  ["i16", i16, [-32768, 32767], [32768, -32769, 0.25]],
  ["u16", u16, [0, 65535], [65536, -1]],
  ["i32", i32, [-(2 ** 31), 2 ** 31 - 1, 7], [2 ** 31, -(2 ** 31) - 1, 1e-9]],
  ["u32", u32, [0, 2 ** 32 - 1], [2 ** 32, -1, 3.5]],
  ["f32", f32, [1.5, -0.25, Infinity, NaN, 3.4e38, 1e-45], []],
  ["f64", f64, [Math.PI, -0, NaN, -Infinity, 5e-324, Number.MAX_VALUE], []],
  ["i64AsNumber", i64AsNumber, [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -1], [2 ** 53, -(2 ** 53), 0.5, NaN]],
  ["u64AsNumber", u64AsNumber, [Number.MAX_SAFE_INTEGER, 0], [-1, 2 ** 53, Infinity]],
];

for (const [label, type, good, bad] of KINDS) {
  test(
    `fastpath: ${label} native push/pop interoperate with SpscQueue and Queue, and validate like accepts()`,
    segmentTest("fp", 1 << 20, (seg) => {
      // SPSC: one queue per direction, so each side keeps one consumer (the consumer's
      // cached write index is only valid while nobody else pops).
      const sq = SpscQueue.create(seg, "s", type, 8);
      const sq2 = SpscQueue.create(seg, "s2", type, 8);
      const mq = Queue.create(seg, "m", type, 8);
      const ns = spsc(seg, sq, type), ns2 = spsc(seg, sq2, type), nm = mpmc(seg, mq, type);
      const same = (a: number, b: number | undefined) => assert.ok(Object.is(a, b) || (a === 0 && b === 0), `${a} vs ${b}`);
      for (const v of good) {
        const want = type === f32 ? Math.fround(v) : v;
        // native push → library pop, library push → native pop, on both structures
        assert.equal(ns.push(v), FAST_OK);
        same(want, sq.tryPop());
        sq2.push(v);
        const [got, st] = ns2.pop();
        assert.equal(st, FAST_OK);
        same(want, got);
        assert.equal(nm.push(v), FAST_OK);
        same(want, mq.tryPop());
        mq.push(v);
        const [got2, st2] = nm.pop();
        assert.equal(st2, FAST_OK);
        same(want, got2);
      }
      for (const v of bad) {
        assert.throws(() => type.write(seg.memory, 4096, v as number), { code: "INVALID_ARGUMENT" }, `write(${v})`);
        assert.equal(ns.push(v as number), FAST_INVALID, `spsc push ${v}`);
        assert.equal(nm.push(v as number), FAST_INVALID, `mpmc push ${v}`);
      }
      assert.equal(sq.size, 0);
      assert.equal(sq2.size, 0);
      assert.equal(mq.size, 0);
      assert.deepEqual(ns2.pop()[1], FAST_NONE);
      assert.deepEqual(nm.pop()[1], FAST_NONE);
    }),
  );
}

test(
  "fastpath: full and empty, wrap-around, non-power-of-two Queue capacity",
  segmentTest("fp", 1 << 20, (seg) => {
    const sq = SpscQueue.create(seg, "s", u32, 5);
    const mq = Queue.create(seg, "m", u32, 5); // ring 8, bounded by the count
    const ns = spsc(seg, sq, u32), nm = mpmc(seg, mq, u32);
    let next = 0, expect = 0;
    for (let round = 0; round < 50; round++) {
      const k = 1 + (round % 5);
      for (let i = 0; i < k; i++) {
        assert.equal(ns.push(next), FAST_OK);
        assert.equal(nm.push(next), FAST_OK);
        next++;
      }
      if (k === 5) {
        assert.equal(ns.push(1), FAST_NONE);
        assert.equal(nm.push(1), FAST_NONE);
        assert.equal(ns.push(0.5), FAST_INVALID); // a bad value is INVALID even when full
      }
      for (let i = 0; i < k; i++) {
        assert.deepEqual(ns.pop(), [expect, FAST_OK]);
        assert.deepEqual(nm.pop(), [expect, FAST_OK]);
        expect++;
      }
      assert.equal(ns.pop()[1], FAST_NONE);
      assert.equal(nm.pop()[1], FAST_NONE);
    }
  }),
);

test(
  "fastpath: a geometry the native bind refuses is a typed CORRUPT error from every binder, never a bound handle",
  segmentTest("fp", 1 << 20, (seg) => {
    // TypeScript validates an entry's geometry before it binds, so these are what a
    // damaged entry that slipped past it (or a bug) would hand the native bind.
    const m = seg.memory, sq = SpscQueue.create(seg, "s", u32, 7), q = Queue.create(seg, "q", u32, 8);
    const s = layoutOf(seg, sq), u = mpmc(seg, q, u32);
    const place = {
      control: u.control,
      data: u.data,
      ring: u.ring,
      capacity: 8,
      layout: fastKind(u32)! | (4 << 8) | (8 << 16),
      record: u.rec,
    };
    const refused = (f: () => unknown, what: string) =>
      assert.throws(f, (e: unknown) => e instanceof ShmError && e.code === "CORRUPT" && /refused/.test(e.message), what);
    // The well-formed binds succeed: the refusals below are the one field changed.
    bindSpsc(m, s.control, s.data, 8, fastKind(u32)!);
    bindMpmc(m, place);
    refused(() => bindSpsc(m, s.control, s.data, 1, fastKind(u32)!), "SPSC ring of one slot");
    refused(() => bindSpsc(m, s.control + 2, s.data, 8, fastKind(u32)!), "SPSC control misaligned");
    refused(() => bindSpscBytes(m, s.control, s.data, 8, 0), "SPSC elements of no bytes");
    refused(() => bindSpsc(m, s.control, s.data, 8, 11), "no such kind");
    refused(() => bindMpmc(m, { ...place, layout: fastKind(u32)! | (6 << 8) | (8 << 16) }), "element past its slot");
    refused(() => bindMpmc(m, { ...place, record: u.rec + 4 }), "claim record misaligned");
    refused(() => bindMpmc(m, { ...place, ring: 12 }), "Queue ring not a power of two");
    refused(() => bindBytes(m, { ...place, layout: FAST_BYTES | (4 << 8) | (8 << 16) }, 12), "bytes element past its slot");
  }),
);

test(
  "fastpath: stored 64-bit values beyond 2^53 are RANGE (and consumed, as the JS read does)",
  segmentTest("fp", 1 << 20, (seg) => {
    const sq = SpscQueue.create(seg, "s", u64AsNumber, 4);
    const ns = spsc(seg, sq, u64AsNumber);
    const { data } = layoutOf(seg, sq);
    assert.equal(ns.push(1), FAST_OK);
    seg.memory.u32[(data >> 2) + 1] = 0x0020_0000; // 2^53 + 1 in the slot
    assert.deepEqual(ns.pop(), [NaN, FAST_RANGE]);
    assert.equal(sq.size, 0);
  }),
);

test(
  "fastpath: hostile indices and sequences are CORRUPT, never an out-of-bounds access",
  segmentTest("fp", 1 << 20, (seg) => {
    const sq = SpscQueue.create(seg, "s", f64, 4);
    const mq = Queue.create(seg, "m", f64, 4);
    const ns = spsc(seg, sq, f64), nm = mpmc(seg, mq, f64);
    const i32 = seg.memory.i32;
    const w = ns.control >> 2, r = (ns.control + 64) >> 2;
    for (const bad of [5, 6, 1 << 30, -1, 0x7fffffff]) {
      i32[w] = bad;
      assert.equal(ns.push(1), FAST_CORRUPT, `write index ${bad}`);
      i32[w] = 0;
      i32[r] = bad;
      assert.equal(ns.pop()[1], FAST_CORRUPT, `read index ${bad}`);
      i32[r] = 0;
    }
    // The read index hostile while the producer's cache says "maybe full": reloaded and refused.
    for (let i = 0; i < 4; i++) assert.equal(ns.push(i), FAST_OK);
    i32[r] = 77;
    assert.equal(ns.push(9), FAST_CORRUPT);
    // MPMC: a sequence ahead of a position that does not move (a static segment would loop forever).
    i32[nm.data >> 2] = 1000;
    assert.equal(nm.push(1), FAST_CORRUPT);
    assert.equal(nm.pop()[1], FAST_CORRUPT);
    // Positions anywhere in 2^32 stay in range (masked by the ring).
    i32[nm.data >> 2] = 0;
    i32[nm.control >> 2] = -5;
    assert.equal(nm.push(1), FAST_CORRUPT); // slot 3 (= -5 & 3) holds sequence 3, "ahead" of -5: refused, nothing touched
  }),
);

// ---------------------------------------------------------------- multi-process

const PAIRS: [Runtime, Runtime, number, number][] = [
  ["deno", "bun", 1, 1],
  ["bun", "deno", 1, 1],
  ["deno", "bun", 1, 0], // one side asymmetric, the other seq_cst: both must interoperate
  ["bun", "bun", 0, 1],
];

for (const [a, b, modeA, modeB] of PAIRS) {
  test(
    `fastpath multiprocess: ${a} (mode ${modeA}) <-> ${b} (mode ${modeB}) SPSC ping-pong, every wait parks, no lost wake-up`,
    segmentTest("fpp", 1 << 20, async (seg, name) => {
      SpscQueue.create(seg, "ping", f64, 4);
      SpscQueue.create(seg, "pong", f64, 4);
      const rounds = 3000;
      const [ra, rb] = await Promise.all([
        run(a, WORKER, ["spsc-pingpong", name, "ping", "pong", "a", String(rounds), String(modeA), "0"], 60_000),
        run(b, WORKER, ["spsc-pingpong", name, "ping", "pong", "b", String(rounds), String(modeB), "0"], 60_000),
      ]);
      const ja = lastJson<{ sum: number; stalls: number; mode: number }>(ra);
      const jb = lastJson<{ sum: number; stalls: number; mode: number }>(rb);
      const sum = (rounds * (rounds - 1)) / 2;
      assert.equal(ja.sum, sum);
      assert.equal(jb.sum, sum);
      assert.equal(ja.stalls + jb.stalls, 0, "a wait ran into its 3 s deadline: a lost wake-up");
    }),
    { timeout: 90_000 },
  );
}

for (const [a, b] of [["deno", "bun"], ["bun", "deno"], ["bun", "bun"]] as [Runtime, Runtime][]) {
  test(
    `fastpath multiprocess: SpscQueue<f64> ${a} -> ${b} streaming through 8 slots, spinning: every element once, in order`,
    segmentTest("fps", 1 << 20, async (seg, name) => {
      SpscQueue.create(seg, "q", f64, 8);
      const count = 200_000;
      const [rp, rc] = await Promise.all([
        run(a, WORKER, ["spsc-stream", name, "q", "produce", String(count)], 90_000),
        run(b, WORKER, ["spsc-stream", name, "q", "consume", String(count)], 90_000),
      ]);
      const want = (count * (count - 1)) / 2;
      assert.equal(lastJson<{ sum: number }>(rp).sum, want);
      assert.equal(lastJson<{ sum: number }>(rc).sum, want, "the consumer saw every element once, in order");
    }),
    { timeout: 120_000 },
  );
}

for (const [a, b] of [["deno", "bun"], ["bun", "deno"]] as [Runtime, Runtime][]) {
  test(
    `fastpath multiprocess: SpscQueue<f64> of capacity 1 ${a} -> ${b}, both sides park on every wait (push and pop handshakes), no lost wake-up`,
    segmentTest("fpw", 1 << 20, async (seg, name) => {
      SpscQueue.create(seg, "q", f64, 1);
      const count = 3000;
      const [rp, rc] = await Promise.all([
        run(a, WORKER, ["spsc-park-stream", name, "q", "produce", String(count)], 60_000),
        run(b, WORKER, ["spsc-park-stream", name, "q", "consume", String(count)], 60_000),
      ]);
      const jp = lastJson<{ sum: number; stalls: number }>(rp), jc = lastJson<{ sum: number; stalls: number }>(rc);
      const want = (count * (count - 1)) / 2;
      assert.equal(jp.sum, want);
      assert.equal(jc.sum, want, "the consumer saw every element once, in order");
      assert.equal(jp.stalls + jc.stalls, 0, "a wait ran into its 3 s deadline: a lost wake-up");
    }),
    { timeout: 90_000 },
  );
}

test(
  "fastpath multiprocess: Queue with 2 Deno + 2 Bun producers and 2 + 2 consumers, exact count and sum",
  segmentTest("fpq", 4 << 20, async (seg, name) => {
    Queue.create(seg, "q", u32, 64);
    SharedAtomic.create(seg, "done", u32);
    const per = 20_000,
      producers: Runtime[] = ["deno", "bun", "deno", "bun"],
      consumers: Runtime[] = ["bun", "deno", "bun", "deno"];
    const total = per * producers.length;
    const results = await Promise.all([
      ...producers.map((rt, id) =>
        run(rt, WORKER, ["mpmc-produce", name, "q", String(id), String(per), String(id % 2), "64"], 90_000)
      ),
      ...consumers.map((rt, i) =>
        run(rt, WORKER, ["mpmc-consume", name, "q", String(total), "done", String(i % 2), i < 2 ? "0" : "256"], 90_000)
      ),
    ]);
    const { pushed } = assertExactlyOnce(results, producers.length, total);
    assert.equal(pushed.reduce((s, j) => s + j.stalls!, 0), 0, "a producer's wait ran into its deadline");
  }),
  { timeout: 120_000 },
);

test(
  "fastpath: with code generation from strings refused (Deno --disallow-code-generation-from-strings), queues and structs still work",
  async () => {
    const out = await runDeno(
      ["--v8-flags=--disallow-code-generation-from-strings"],
      new URL("./workers/no_eval_worker.ts", import.meta.url),
    );
    const j = lastJson<
      {
        evalRefused: boolean;
        sum: number;
        empty: boolean;
        badRefused: boolean;
        intoOk: boolean;
        viewOk: boolean;
        stagedOk: boolean;
      }
    >(out);
    assert.equal(j.evalRefused, true, "the child really runs without eval");
    assert.equal(j.sum, 2 * ((99 * 100) / 2) + 50); // i + 0.5 and i for i < 100 (structs are checked in the child)
    assert.equal(j.empty, true);
    assert.equal(j.badRefused, true, "a struct with a bad field is INVALID_ARGUMENT, nothing queued");
    assert.equal(j.intoOk, true, "create() and tryPopInto through the plain struct reader");
    assert.equal(j.viewOk, true, "tryPopView through the plain view");
    assert.equal(j.stagedOk, true, "staging() / tryPushStaged through the plain writable view");
  },
  { timeout: 60_000 },
);

/** Runs `script` in Deno with extra `flags`; its stdout. */
function runDeno(flags: string[], script: URL): Promise<string> {
  const deno = process.env.SHMKIT_DENO ?? "deno"; // scripts/setup.sh's pinned Deno
  return new Promise((resolve, reject) => {
    execFile(deno, ["run", "-A", "--quiet", ...flags, script.pathname], { timeout: 50_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// ---------------------------------------------------------------- element fast paths

test(
  "fastpath: struct fields of i64AsNumber / u64AsNumber are inlined with the same values and errors",
  segmentTest("fp", 1 << 20, (seg) => {
    const S = struct({ a: u64AsNumber, b: i64AsNumber, c: u32 });
    const m = seg.memory;
    for (const [a, b] of [[0, 0], [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER], [2 ** 32 + 5, -(2 ** 32) - 7], [1, -1]]) {
      S.write(m, 4096, { a, b, c: 3 });
      assert.deepEqual(S.read(m, 4096), { a, b, c: 3 });
      assert.equal(u64AsNumber.read(m, 4096), a); // the same bytes as the scalar types
      assert.equal(i64AsNumber.read(m, 4104), b);
    }
    for (const bad of [{ a: -1, b: 0, c: 0 }, { a: 2 ** 53, b: 0, c: 0 }, { a: 0, b: 0.5, c: 0 }, { a: 0, b: 2 ** 53, c: 0 }]) {
      const scalarError = (() => {
        try {
          (bad.a !== 0 ? u64AsNumber : i64AsNumber).write(m, 8192, bad.a !== 0 ? bad.a : bad.b);
        } catch (e) {
          return (e as Error).message;
        }
      })();
      assert.throws(
        () => S.write(m, 4096, bad),
        (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT" && e.message === scalarError,
      );
    }
    m.u32[(4096 >> 2) + 1] = 0x0020_0000; // a = 2^53 + lo
    assert.throws(() => S.read(m, 4096), { code: "OUT_OF_RANGE" });
  }),
);

test(
  "fastpath: structReadInto fills and returns the same object, fields as read() gives them",
  segmentTest("fp", 1 << 20, (seg) => {
    const S = struct({ x: f64, id: u32, big: u64AsNumber, ok: bool, name: string(8) });
    const into = structReadInto(S)!;
    const m = seg.memory;
    const target = { x: 0, id: 0, big: 0, ok: false, name: "" };
    for (let i = 0; i < 5; i++) {
      const v = { x: i + 0.5, id: i, big: 2 ** 40 + i, ok: i % 2 === 0, name: `n${i}` };
      S.write(m, 4096, v);
      assert.equal(into(m, 4096, target), target);
      assert.deepEqual(target, S.read(m, 4096));
    }
    assert.equal(structReadInto(f64), undefined);
    const P = struct({ ["__proto__"]: u32, y: u32 } as Record<string, ElementType<number>>);
    P.write(m, 4096, JSON.parse('{"__proto__": 7, "y": 8}'));
    const t = structReadInto(P)!(m, 4096, {} as Record<string, number>);
    assert.equal(Object.getPrototypeOf(t), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(t, "__proto__")?.value, 7);
  }),
);

// ---------------------------------------------------------------- the wired handles

/** i32 index of this process's claim record in queue `q`'s record area. */
function ownRecord(seg: Segment, q: Queue<number>, type: ElementType<unknown>): number {
  const { data, ring } = mpmc(seg, q, type);
  const a = Math.max(4, type.size), stride = Math.ceil((a + type.size) / a) * a;
  const at = recordsAt(data, ring, stride) >> 2, pid = n.getpid();
  for (let i = 0; i < recordCount(seg.maxProcesses); i++) if (seg.memory.i32[at + i * 16 + 2] === pid) return at + i * 16;
  throw new Error("no record of ours");
}

test(
  "fastpath: Queue handles write their claim record on the native path, and repair through the TypeScript path",
  segmentTest("fp", 1 << 20, async (seg) => {
    const q = Queue.create(seg, "q", u32, 4);
    const i32 = seg.memory.i32, rec = ownRecord(seg, q, u32);
    const { control } = mpmc(seg, q, u32);
    const enq = control >> 2, deq = (control + 64) >> 2;
    i32[rec + 1] = 99;
    assert.equal(q.tryPush(7), true);
    assert.deepEqual([i32[rec], i32[rec + 1]], [0, 0], "record names position 0, cleared after the publish");
    assert.equal(q.tryPush(8), true);
    assert.deepEqual([i32[rec], i32[rec + 1]], [1, 0]);
    assert.equal(q.tryPop(), 7);
    assert.deepEqual([i32[rec], i32[rec + 1]], [0, 0]);
    assert.equal(q.tryPop(), 8);
    // A producer that claimed position 2 (no record: dead) and never published.
    Atomics.add(i32, enq, 1);
    assert.equal(q.tryPop(), undefined); // FAST_SLOW → TypeScript: the stall clock starts
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(q.tryPop(), undefined); // skipped now
    assert.equal(q.stats.recoveredPushes, 1);
    assert.equal(Atomics.load(i32, deq), 3);
    // A consumer that claimed position 3 (dead) and never handed the slot back.
    for (let i = 0; i < 4; i++) assert.equal(q.tryPush(10 + i), true);
    Atomics.add(i32, deq, 1);
    assert.equal(q.tryPush(99), false);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(q.tryPush(99), true); // handed back, then pushed
    assert.equal(q.stats.recoveredPops, 1);
    assert.deepEqual([q.tryPop(), q.tryPop(), q.tryPop(), q.tryPop()], [11, 12, 13, 99]);
    assert.equal(q.tryPop(), undefined);
    assert.equal(i32[rec + 1], 0);
    // Errors as the TypeScript path reports them.
    assert.throws(() => q.tryPush(-1), { code: "INVALID_ARGUMENT" });
    assert.throws(() => q.tryPush("x" as unknown as number), { code: "INVALID_ARGUMENT" });
    // Hostile: a slot sequence ahead of a position that does not move.
    const e = Atomics.load(i32, enq) & 3;
    i32[(mpmc(seg, q, u32).data >> 2) + e * 2] = (Atomics.load(i32, enq) + 1000) | 0;
    assert.throws(() => q.tryPush(1), { code: "CORRUPT" });
  }),
);

test(
  "fastpath: SpscQueue handles on the native path: roles, handover from shared indices, CORRUPT, NaN elements",
  segmentTest("fp", 1 << 20, (seg) => {
    const p = SpscQueue.create(seg, "q", f64, 4);
    const c = SpscQueue.open(seg, "q", f64);
    for (const v of [1, NaN, 3]) assert.equal(p.tryPush(v), true);
    assert.equal(c.tryPop(), 1);
    assert.ok(Number.isNaN(c.tryPop()!));
    assert.throws(() => SpscQueue.open(seg, "q", f64).tryPush(1), { code: "EXISTS" });
    c.close(); // the role is free; a new consumer starts at the shared read index
    const c2 = SpscQueue.open(seg, "q", f64);
    assert.equal(c2.tryPop(), 3);
    assert.equal(c2.tryPop(), undefined);
    p.close();
    const p2 = SpscQueue.open(seg, "q", f64);
    for (let i = 0; i < 4; i++) assert.equal(p2.tryPush(10 + i), true);
    assert.equal(p2.tryPush(99), false, "the new producer saw the shared read index: full");
    assert.deepEqual([c2.tryPop(), c2.tryPop(), c2.tryPop(), c2.tryPop(), c2.tryPop()], [10, 11, 12, 13, undefined]);
    const i32 = seg.memory.i32, w = (p2.offset + 64) >> 2;
    i32[w] = 77;
    assert.throws(() => p2.tryPush(1), { code: "CORRUPT" });
    assert.throws(() => c2.tryPop(), { code: "CORRUPT" });
    i32[w] = 2;
    assert.equal(c2.tryPop(), undefined); // restored: empty (the refused reload cached nothing)
    assert.equal(p2.tryPush(99), true);
    assert.equal(c2.tryPop(), 99);
  }),
);

test(
  "fastpath: SpscQueue.tryPopInto / popInto fill one reused struct object",
  segmentTest("fp", 1 << 20, (seg) => {
    const P = struct({ id: u32, x: f64, big: u64AsNumber });
    const q = SpscQueue.create(seg, "q", P, 4);
    const t = { id: 0, x: 0, big: 0 };
    q.push({ id: 1, x: 1.5, big: 2 ** 40 });
    q.push({ id: 2, x: 2.5, big: 3 });
    assert.equal(q.popInto(t), t);
    assert.deepEqual(t, { id: 1, x: 1.5, big: 2 ** 40 });
    assert.equal(q.tryPopInto(t), t);
    assert.deepEqual(t, { id: 2, x: 2.5, big: 3 });
    assert.equal(q.tryPopInto(t), undefined);
    assert.throws(() => q.popInto(t), { code: "EMPTY" });
    const nq = SpscQueue.create(seg, "n", f64, 4);
    assert.throws(() => nq.tryPopInto({} as unknown as number), { code: "INVALID_ARGUMENT" });
  }),
);
