/**
 * Multi-process tests with real Deno and Bun processes (tests/workers/foundation_worker.ts):
 * cross-runtime reads, the atomics canary, concurrent create/open/remove, the segment
 * create race, dead creators, a dead metadata-lock holder and the process registry.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  array,
  bool,
  f64,
  i32,
  i64,
  i64AsNumber,
  Segment,
  SharedArray,
  SharedAtomic,
  ShmError,
  string,
  struct,
  u16,
  u32,
} from "../mod.ts";
import { native } from "../ffi/mod.ts";
import { me } from "../src/segment/process.ts";
import { lastJson, run, type Runtime, start } from "./helpers/procs.ts";
import { test, uniqueName } from "./harness.ts";

const WORKER = new URL("./workers/foundation_worker.ts", import.meta.url);
const PROCS: Runtime[] = ["deno", "deno", "bun", "bun"];

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function shmExists(name: string): boolean {
  return existsSync(`/dev/shm/${name}`);
}

function checkNoOverlap(entries: readonly { name: string; offset: number; size: number }[], segSize: number): void {
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    assert.ok(e.offset + e.size <= segSize, `"${e.name}" leaves the segment`);
    const next = sorted[i + 1];
    if (next) {
      assert.ok(
        e.offset + e.size <= next.offset,
        `"${e.name}" [${e.offset}, +${e.size}) overlaps "${next.name}" at ${next.offset}`,
      );
    }
  }
}

async function expectShmError(code: string, fn: () => unknown): Promise<ShmError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ShmError, `expected ShmError ${code}, got ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ShmError ${code}, but nothing was thrown`);
}

// ---------------------------------------------------------------- (a) cross-runtime data

const Particle = struct({ x: f64, y: f64, id: u32, name: string(12), alive: bool, hist: array(u16, 3) });

for (const [writer, reader] of [["deno", "bun"], ["bun", "deno"]] as [Runtime, Runtime][]) {
  test(
    `multiprocess: ${writer} creates and writes an array of structs, ${reader} opens it by name and reads the same`,
    async () => {
      const name = uniqueName("xrt");
      try {
        const wrote = lastJson<{ runtime: string; written: Record<string, unknown>[] }>(
          await run(writer, WORKER, ["write-structs", name, "64", writer === "deno" ? "7" : "11"]),
        );
        assert.equal(wrote.runtime, writer);
        assert.equal(wrote.written.length, 64);
        const got = lastJson<{ runtime: string; read: Record<string, unknown>[] }>(
          await run(reader, WORKER, ["read-structs", name]),
        );
        assert.equal(got.runtime, reader);
        assert.deepEqual(got.read, wrote.written);
        // And this test process (either runtime) reads the same bytes.
        using seg = Segment.open(name);
        const ps = SharedArray.open(seg, "particles", Particle);
        const big = SharedArray.open(seg, "big", i64);
        for (let i = 0; i < ps.length; i++) assert.deepEqual({ ...ps.get(i), big: big.get(i).toString() }, wrote.written[i]);
      } finally {
        Segment.unlink(name);
      }
    },
    { timeout: 60_000 },
  );
}

// ---------------------------------------------------------------- (b) atomics canary

interface AtomicOut {
  runtime: string;
  pid: number;
  retries: number;
  t0: number;
  t1: number;
}

async function atomicCanary(variant: string, iters: number, counter: "c32" | "c64" | "cbig", initial: number): Promise<void> {
  const name = uniqueName(`atomic-${variant}`);
  using seg = Segment.create(name, { size: 1 << 16, maxEntries: 8 });
  try {
    SharedAtomic.create(seg, "ready", i32);
    const c32 = SharedAtomic.create(seg, "c32", i32);
    const c64 = SharedAtomic.create(seg, "c64", i64AsNumber, counter === "c64" ? initial : 0);
    const cbig = SharedAtomic.create(seg, "cbig", i64, counter === "cbig" ? BigInt(initial) : 0n);
    const t0 = performance.now();
    const outs = await Promise.all(
      PROCS.map((rt) => run(rt, WORKER, ["atomic", name, variant, String(iters), String(PROCS.length)], 120_000)),
    );
    const ms = performance.now() - t0;
    const results = outs.map((o) => lastJson<AtomicOut>(o));
    assert.deepEqual(results.map((r) => r.runtime).sort(), ["bun", "bun", "deno", "deno"]);
    const expected = initial + PROCS.length * iters;
    if (counter === "c32") assert.equal(c32.load(), expected);
    if (counter === "c64") assert.equal(c64.load(), expected);
    if (counter === "cbig") assert.equal(cbig.load(), BigInt(expected));
    // Report how much the workers actually overlapped (the barrier lines them up).
    const overlap = Math.min(...results.map((r) => r.t1)) - Math.max(...results.map((r) => r.t0));
    const retries = results.reduce((s, r) => s + r.retries, 0);
    console.log(
      `  ${variant}: 4 × ${iters} → ${expected - initial} exact; ${
        ms.toFixed(0)
      } ms total, overlap ${overlap} ms, CAS retries ${retries}`,
    );
  } finally {
    seg.unlink();
  }
}

test("multiprocess: atomics canary, 2 deno + 2 bun each do 1,000,000 SharedAtomic(i32).add(1) → exactly 4,000,000", async () => {
  await atomicCanary("add", 1_000_000, "c32", 0);
}, { timeout: 120_000 });

test("multiprocess: atomics canary, 2 deno + 2 bun each do 1,000,000 CAS-loop increments (i32) → exact", async () => {
  await atomicCanary("cas", 1_000_000, "c32", 0);
}, { timeout: 120_000 });

// Start below 2^32 so the count carries into the high word.
test("multiprocess: atomics canary, i64AsNumber (native 64-bit add) across 2^32 → exact", async () => {
  await atomicCanary("add64", 1_000_000, "c64", 2 ** 32 - 1_500_000);
}, { timeout: 120_000 });

test("multiprocess: atomics canary, i64AsNumber CAS-loop (native cas64) across 2^32 → exact", async () => {
  await atomicCanary("cas64", 1_000_000, "c64", 2 ** 32 - 1_500_000);
}, { timeout: 120_000 });

test("multiprocess: atomics canary, i64 (BigInt Atomics) add across 2^32 → exact", async () => {
  await atomicCanary("addbig", 200_000, "cbig", 2 ** 32 - 300_000);
}, { timeout: 120_000 });

// ---------------------------------------------------------------- (c) concurrent create/open/remove

interface ChurnOut {
  runtime: string;
  tag: number;
  live: Record<string, number>;
  creates: number;
  removes: number;
  opens: number;
  ms: number;
}

test(
  "multiprocess: 4 processes (deno+bun) create, open and remove 300 names × 4 rounds in one segment: nothing lost, nothing overlaps",
  async () => {
    const names = 300;
    const rounds = 4;
    const name = uniqueName("churn");
    using seg = Segment.create(name, { size: 8 << 20, maxEntries: PROCS.length * names + 16, maxNameLength: 16 });
    try {
      SharedAtomic.create(seg, "ready", i32);
      SharedAtomic.create(seg, "done", i32);
      const t0 = performance.now();
      const outs = await Promise.all(
        PROCS.map((rt, k) =>
          run(rt, WORKER, ["churn", name, String(k + 1), String(names), String(rounds), String(PROCS.length)], 120_000)
        ),
      );
      const ms = performance.now() - t0;
      const results = outs.map((o) => lastJson<ChurnOut>(o));
      const live = new Map<string, number>();
      for (const r of results) for (const [n, v] of Object.entries(r.live)) live.set(n, v);
      // The table holds exactly the survivors of every process (plus the two barriers).
      const listed = seg.list();
      checkNoOverlap(listed, seg.size);
      assert.deepEqual(listed.map((e) => e.name).filter((n) => n.startsWith("p")).sort(), [...live.keys()].sort());
      for (const [n, v] of live) {
        const a = SharedArray.open(seg, n, u32);
        for (let k = 0; k < a.length; k++) assert.equal(a.get(k), v, `${n}[${k}]`);
        a.close();
      }
      // Removing everything gives all the memory back.
      for (const n of live.keys()) seg.remove(n);
      const st = seg.stats();
      assert.equal(st.entries, 2);
      assert.equal(st.usedBytes, 2 * 128);
      const ops = results.reduce((s, r) => s + r.creates + r.removes, 0);
      console.log(
        `  churn: ${ops} creates+removes, ${results.reduce((s, r) => s + r.opens, 0)} opens, ${live.size} survivors; ` +
          `${ms.toFixed(0)} ms wall, workers ${results.map((r) => `${r.runtime} ${r.ms} ms`).join(", ")}`,
      );
    } finally {
      seg.unlink();
    }
  },
  { timeout: 120_000 },
);

// ---------------------------------------------------------------- (d) create race

interface RaceOut {
  runtime: string;
  pid: number;
  how: string;
  results: { round: number; created?: boolean; owner?: number; error?: string; message?: string }[];
}

test(
  "multiprocess: 4 processes create / openOrCreate the same fresh segment at once: exactly one creates, all see it initialised",
  async () => {
    const base = uniqueName("race");
    const rounds = 8;
    const startAt = Date.now() + 3_000; // after every runtime has started
    const hows = ["create", "create", "openOrCreate", "openOrCreate"];
    const runtimes: Runtime[] = ["deno", "bun", "bun", "deno"];
    try {
      const outs = await Promise.all(
        runtimes.map((rt, k) => run(rt, WORKER, ["race", base, String(rounds), String(startAt), hows[k]], 60_000)),
      );
      const results = outs.map((o) => lastJson<RaceOut>(o));
      for (let r = 0; r < rounds; r++) {
        const row = results.map((p) => p.results[r]);
        for (const x of row) assert.equal(x.error, undefined, `round ${r}: ${x.message}`);
        const creators = results.filter((p) => p.results[r].created);
        assert.equal(creators.length, 1, `round ${r}: ${creators.length} processes created the segment`);
        for (const x of row) assert.equal(x.owner, creators[0].pid, `round ${r}: a process saw another creator's data`);
        // The creator's data survived everyone else's create/open.
        using seg = Segment.open(`${base}-${r}`);
        assert.deepEqual(SharedArray.open(seg, "owner", u32).toArray(), [creators[0].pid, r, 0xc0ffee, 0]);
      }
      const wins = results.map((p) => `${p.runtime}/${p.how} ${p.results.filter((x) => x.created).length}`);
      console.log(`  race: creations per process: ${wins.join(", ")}`);
    } finally {
      for (let r = 0; r < rounds; r++) Segment.unlink(`${base}-${r}`);
    }
  },
  { timeout: 60_000 },
);

// ---------------------------------------------------------------- (e) creator killed mid-initialisation

interface OpenOut {
  ok: boolean;
  code?: string;
  message?: string;
  ms: number;
}

for (const creatorRt of ["deno", "bun"] as Runtime[]) {
  test(
    `multiprocess: a ${creatorRt} creator that died before READY → open reports CORRUPT naming the dead creator, promptly`,
    async () => {
      const name = uniqueName("halfdead");
      try {
        const child = start(creatorRt, WORKER, ["half-create", name, "exit"]);
        const r = await child.done;
        assert.equal(r.code, 0, r.stderr);
        const t0 = performance.now();
        const e = await expectShmError("CORRUPT", () => Segment.open(name, { timeoutMs: 5_000 }));
        assert.ok(performance.now() - t0 < 2_000, "open waited for the timeout instead of noticing the dead creator");
        assert.match(e.message, new RegExp(`pid ${child.pid}\\b`));
        assert.match(e.message, /died/);
        assert.equal(e.reason, "HALF_CREATED");
        // openOrCreate told not to replace it neither hangs nor destroys the object.
        await expectShmError(
          "CORRUPT",
          () => Segment.openOrCreate(name, { size: 1 << 16, timeoutMs: 5_000, replaceHalfCreated: false }),
        );
        assert.ok(shmExists(name));
        // The other runtime says the same.
        const other: Runtime = creatorRt === "deno" ? "bun" : "deno";
        const out = lastJson<OpenOut>(await run(other, WORKER, ["open", name, "5000"]));
        assert.equal(out.code, "CORRUPT", out.message);
        assert.ok(out.ms < 2_000);
        // By default openOrCreate replaces it with a working segment, promptly.
        const t1 = performance.now();
        const seg = Segment.openOrCreate(name, { size: 1 << 16, timeoutMs: 5_000 });
        assert.ok(performance.now() - t1 < 2_000);
        seg.close();
        const again = Segment.open(name, { timeoutMs: 100 });
        assert.deepEqual(again.processes(), [me().pid]);
        again.close();
      } finally {
        Segment.unlink(name);
      }
    },
    { timeout: 30_000 },
  );
}

test(
  "multiprocess: a live creator that never finishes → NOT_READY after timeoutMs; a waiting opener notices when it is killed",
  async () => {
    const name = uniqueName("halflive");
    const creator = start("bun", WORKER, ["half-create", name, "stay"], 30_000);
    try {
      await creator.waitForLine((l) => l === "half-created");
      const t0 = performance.now();
      await expectShmError("NOT_READY", () => Segment.open(name, { timeoutMs: 400 }));
      const waited = performance.now() - t0;
      assert.ok(waited >= 390 && waited < 3_000, `waited ${waited} ms for a 400 ms timeout`);
      // A deno opener with a long timeout is waiting when the creator dies.
      const opener = start("deno", WORKER, ["open", name, "20000"], 30_000);
      await delay(1_000);
      creator.kill("SIGKILL");
      await creator.done;
      const r = await opener.done;
      const out = lastJson<OpenOut>(r.stdout);
      assert.equal(out.code, "CORRUPT", out.message);
      assert.ok(out.ms < 10_000, `opener took ${out.ms} ms to notice the dead creator`);
    } finally {
      creator.kill("SIGKILL");
      await creator.done.catch(() => {});
      Segment.unlink(name);
    }
  },
  { timeout: 40_000 },
);

test("multiprocess: a shm object left at size 0 by a dead creator → CORRUPT (HALF_CREATED) at once, replaced by openOrCreate", async () => {
  const name = uniqueName("empty");
  const n = native();
  const fd = n.shmOpen(name, 1, 0o600);
  assert.ok(fd >= 0);
  n.close(fd);
  try {
    const t0 = performance.now();
    const e = await expectShmError("CORRUPT", () => Segment.open(name, { timeoutMs: 3_000 }));
    assert.equal(e.reason, "HALF_CREATED");
    assert.match(e.message, /empty/);
    assert.ok(performance.now() - t0 < 1_000, `waited ${performance.now() - t0} ms`);
    await expectShmError("CORRUPT", () => Segment.open(name, { timeoutMs: 0 }));
    // create on the name still refuses: the object exists.
    await expectShmError("EXISTS", () => Segment.create(name, { size: 1 << 16 }));
    await expectShmError("CORRUPT", () => Segment.openOrCreate(name, { size: 1 << 16, replaceHalfCreated: false }));
    const seg = Segment.openOrCreate(name, { size: 1 << 16 });
    assert.equal(seg.size, 1 << 16);
    seg.close();
    Segment.open(name, { timeoutMs: 0 }).close();
  } finally {
    Segment.unlink(name);
  }
});

// ---------------------------------------------------------------- (f) metadata lock holder killed

for (const holderRt of ["deno", "bun"] as Runtime[]) {
  test(
    `multiprocess: a ${holderRt} process SIGKILLed while holding the metadata lock → waiters and later callers proceed`,
    async () => {
      const name = uniqueName("deadlock");
      using seg = Segment.create(name, { size: 1 << 18, maxEntries: 16 });
      const holder = start(holderRt, WORKER, ["hold-lock", name], 30_000);
      try {
        await holder.waitForLine((l) => l === "locked");
        // Two processes block on the lock while the holder lives.
        const waiters = (["deno", "bun"] as Runtime[]).map((rt, k) => start(rt, WORKER, ["create-one", name, `w${k}`], 30_000));
        let finished = 0;
        for (const w of waiters) w.done.then(() => finished++, () => finished++);
        await delay(1_500);
        assert.equal(finished, 0, "a waiter got past a lock held by a live process");
        holder.kill("SIGKILL");
        await holder.done;
        for (const w of waiters) {
          const r = await w.done;
          assert.equal(r.code, 0, r.stderr);
          assert.equal(lastJson<{ ok: boolean }>(r.stdout).ok, true);
        }
        // This process can create, open and remove too.
        const a = SharedArray.create(seg, "after", u32, 8);
        a.set(0, 42);
        assert.equal(SharedArray.open(seg, "after", u32).get(0), 42);
        assert.deepEqual(seg.list().map((e) => e.name).sort(), ["after", "w0", "w1"]);
        seg.remove("after");
        assert.equal(seg.find("after"), undefined);
      } finally {
        holder.kill("SIGKILL");
        await holder.done.catch(() => {});
        seg.unlink();
      }
    },
    { timeout: 40_000 },
  );
}

test("multiprocess: a creator killed with an entry RESERVED under the lock → the entry and its space are reclaimed", async () => {
  const name = uniqueName("deadreserve");
  using seg = Segment.create(name, { size: 1 << 16, maxEntries: 4 });
  const holder = start("deno", WORKER, ["hold-lock", name, "reserve", "ghost"], 30_000);
  try {
    await holder.waitForLine((l) => l === "locked");
    holder.kill("SIGKILL");
    await holder.done;
    const st = seg.stats(); // takes the lock over and reclaims
    assert.equal(st.entries, 0);
    assert.equal(st.freeBytes, st.heapSize);
    assert.equal(seg.find("ghost"), undefined);
    const a = SharedArray.create(seg, "ghost", u32, 16);
    a.fill(7);
    assert.deepEqual(seg.list().map((e) => e.name), ["ghost"]);
    // The whole heap is usable again, including the block the dead creator had claimed.
    seg.remove("ghost");
    SharedArray.create(seg, "all", u32, (st.heapSize - 64) / 4);
  } finally {
    holder.kill("SIGKILL");
    await holder.done.catch(() => {});
    seg.unlink();
  }
}, { timeout: 30_000 });

// ---------------------------------------------------------------- (g) process registry

test("multiprocess: processes killed without closing are not counted by seg.processes()", async () => {
  const name = uniqueName("registry");
  using seg = Segment.create(name, { size: 1 << 16 });
  const kids = (["deno", "bun"] as Runtime[]).map((rt) => start(rt, WORKER, ["attach", name], 30_000));
  try {
    for (const k of kids) await k.waitForLine((l) => l.startsWith("attached"));
    const self = native().getpid();
    assert.deepEqual(seg.processes().sort(), [self, ...kids.map((k) => k.pid)].sort());
    kids[0].kill("SIGKILL");
    await kids[0].done;
    assert.deepEqual(seg.processes().sort(), [self, kids[1].pid].sort());
    kids[1].kill("SIGKILL");
    await kids[1].done;
    assert.deepEqual(seg.processes(), [self]);
  } finally {
    for (const k of kids) {
      k.kill("SIGKILL");
      await k.done.catch(() => {});
    }
    seg.unlink();
  }
}, { timeout: 30_000 });

test("multiprocess: unlinkOnLastClose removes the name when the last process (another runtime) closes", async () => {
  const name = uniqueName("lastclose");
  const seg = Segment.create(name, { size: 1 << 16, unlinkOnLastClose: true });
  try {
    const kid = start("bun", WORKER, ["attach-until-alone", name], 30_000);
    await kid.waitForLine((l) => l.startsWith("attached"));
    seg.close();
    assert.ok(shmExists(name), "unlinked while another process still had it open");
    const r = await kid.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(shmExists(name), false, "the last process closed but the name is still there");
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 30_000 });

test("multiprocess: unlinkOnLastClose does not wait for a process that was killed without closing", async () => {
  const name = uniqueName("lastkilled");
  const seg = Segment.create(name, { size: 1 << 16, unlinkOnLastClose: true });
  try {
    const kid = start("deno", WORKER, ["attach", name], 30_000);
    await kid.waitForLine((l) => l.startsWith("attached"));
    kid.kill("SIGKILL");
    await kid.done;
    assert.ok(shmExists(name));
    seg.close();
    assert.equal(shmExists(name), false);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 30_000 });
