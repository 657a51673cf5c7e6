/**
 * The `shmkit` command and the read-only inspection API behind it, against real
 * producer and consumer processes of both runtimes: counts, fills and rates match
 * what the processes did; a SIGKILLed process shows as dead; gc removes exactly the
 * stale and half-created segments while a live one under load keeps working; rm of a
 * live segment needs --force; damaged, empty, unreadable and foreign files get a
 * clear report and the documented exit code; `watch` under tmux redraws and restores
 * the terminal; the `--web` page in headless Chromium shows every structure live.
 *
 * The CLI runs under the runtime of the test run; workers under both.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import {
  array,
  Barrier,
  BroadcastRing,
  ConditionVariable,
  f64,
  i64,
  inspectSegment,
  Latch,
  listSegments,
  Mutex,
  ObjectPool,
  Once,
  Queue,
  RingBuffer,
  RWLock,
  Segment,
  type SegmentReport,
  Semaphore,
  SharedArray,
  SharedAtomic,
  SharedEvent,
  SharedMap,
  SharedSet,
  SpscQueue,
  Stack,
  string,
  struct,
  type StructureReport,
  u32,
  u64,
  u8,
  Vector,
} from "../mod.ts";
import { E, H, S } from "../src/segment/format.ts";
import { runtime, test, uniqueName } from "./harness.ts";
import { Browser } from "./helpers/cdp.ts";
import { command, run, type Runtime, start } from "./helpers/procs.ts";
import { ensurePackage, findExecutable, isRoot } from "./helpers/system.ts";

const CLI = new URL("../cli.ts", import.meta.url);
const WORKER = new URL("./workers/cli_worker.ts", import.meta.url);
const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const other: Runtime = runtime === "deno" ? "bun" : "deno";
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const myPid: number = g.Deno ? g.Deno.pid : g.process.pid;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI (bounded: killed after `timeoutMs`, which fails the test). */
async function cli(args: readonly string[], rt: Runtime = runtime, timeoutMs = 30_000): Promise<CliResult> {
  const r = await start(rt, CLI, args, timeoutMs).done;
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

function parsed<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

const shm = (name: string) => `/dev/shm/${name}`;

/** The segment layout every worker mode expects (tests/workers/cli_worker.ts). */
function makeSegment(name: string): Segment {
  const seg = Segment.create(name, { size: 1 << 20 });
  Queue.create(seg, "jobs", u32, 4096);
  RingBuffer.create(seg, "ticks", f64, 64);
  SharedMap.create(seg, "m", string(8), u32, 64);
  BroadcastRing.create(seg, "news", u32, 16);
  return seg;
}

function removeQuietly(...names: string[]): void {
  for (const n of names) fs.rmSync(shm(n), { force: true });
}

function byName(r: { entries: readonly StructureReport[] }): Record<string, StructureReport> {
  return Object.fromEntries(r.entries.map((e) => [e.name, e]));
}

function writeAt(name: string, offset: number, bytes: Uint8Array): void {
  const fd = fs.openSync(shm(name), "r+");
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

function u64le(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return b;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs the CLI as user nobody (root only): for files this user may not read. */
function cliAsNobody(args: readonly string[]): CliResult {
  const home = fs.mkdtempSync("/tmp/shmkit-nobody-");
  try {
    fs.chmodSync(home, 0o777);
    const [cmd, argv] = command(runtime, decodeURIComponent(CLI.pathname), args);
    const env = ["env", `HOME=${home}`, `DENO_DIR=${home}/deno`, "DENO_NO_UPDATE_CHECK=1"];
    const s = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...env, cmd, ...argv], {
      encoding: "utf8",
      timeout: 30_000,
    });
    return { code: s.status, stdout: s.stdout, stderr: s.stderr };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

test("inspect/ls --json: counts and fills match what producer and consumer processes of both runtimes did", async () => {
  const name = uniqueName("cli-counts");
  const seg = makeSegment(name);
  try {
    const outs = await Promise.all([
      run("deno", WORKER, ["produce", name, "5000", "0"]),
      run("bun", WORKER, ["consume", name, "3000"]),
      run(other, WORKER, ["extras", name, "100", "10", "7"]),
    ]);
    assert.match(outs[1], /"popped":3000/);
    const r = await cli(["inspect", name, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = parsed<{ schema: number; segment: SegmentReport }>(r);
    assert.equal(doc.schema, 1);
    const rep = doc.segment;
    assert.equal(rep.state, "ready");
    assert.equal(rep.formatVersion, 1);
    assert.equal(rep.size, 1 << 20);
    const s = byName(rep);
    assert.deepEqual(Object.keys(s).sort(), ["jobs", "m", "news", "ticks"]);
    assert.equal(s.jobs.kindName, "queue");
    assert.equal(s.jobs.type, "u32");
    assert.equal(s.jobs.capacity, 4096);
    assert.deepEqual(s.jobs.counters, { pushes: 5000, pops: 3000 });
    assert.equal(s.jobs.fill, 2000);
    assert.equal(s.jobs.wraps.pushes, 2 ** 32);
    assert.equal(s.ticks.type, "f64");
    assert.deepEqual(s.ticks.counters, { pushes: 100, pops: 36 }); // 64 retained, 36 overwritten
    assert.equal(s.ticks.fill, 64);
    assert.equal(s.ticks.owner, null, "the extras process gave the producer claim back when it closed");
    assert.equal(s.m.type, "map{key:string(8),value:u32}");
    assert.equal(s.m.fill, 10);
    assert.equal(s.m.capacity, 64);
    assert.deepEqual(s.news.counters, { published: 7 });
    assert.equal(s.news.fill, 7);
    // Workers closed their segments: only this process is attached.
    assert.deepEqual(rep.attached.map((p) => [p.pid, p.alive]), [[myPid, true]]);
    assert.equal(rep.liveProcesses, 1);
    assert.equal(rep.deadProcesses, 0);

    const l = await cli(["ls", "--json", "--prefix", name]);
    assert.equal(l.code, 0, l.stderr);
    const { segments } = parsed<{ segments: SegmentReport[] }>(l);
    assert.equal(segments.length, 1);
    assert.equal(segments[0].name, name);
    assert.equal(segments[0].state, "ready");
    assert.equal(segments[0].structures, 4);
    assert.equal(segments[0].mode, 0o600);
    assert.equal(segments[0].stale, false);

    // The library says the same, in-process.
    const lib = byName(Segment.inspect(name));
    assert.deepEqual(lib.jobs.counters, s.jobs.counters);
    assert.equal(Segment.list({ prefix: name })[0].structures, 4);

    const text = await cli(["inspect", name]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /jobs\s+queue\s+u32\s+4096\s+2000\/4096 \(49%\)\s+pushes 5\.0k\s+pops 3\.0k/);
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 60_000 });

test("watch --json: rates per second follow a producer's pace, and equal the counter deltas", async () => {
  const name = uniqueName("cli-rates");
  const seg = makeSegment(name);
  try {
    const producer = start(other, WORKER, ["stream", name, "4000", "2000"]);
    const consumer = start(runtime, WORKER, ["drain", name]);
    await producer.waitForLine((l) => l === "started");
    const w = await cli(["watch", name, "--json", "--interval", "400", "--count", "6"]);
    assert.equal(w.code, 0, w.stderr);
    const lines = w.stdout.trim().split("\n").map((l) => JSON.parse(l)) as {
      schema: number;
      time: number;
      segment: SegmentReport;
      rates: Record<string, Record<string, number>>;
    }[];
    assert.equal(lines.length, 6);
    const rates: number[] = [];
    for (let i = 1; i < lines.length; i++) {
      const [a, b] = [lines[i - 1], lines[i]];
      const pa = byName(a.segment).jobs.counters.pushes;
      const pb = byName(b.segment).jobs.counters.pushes;
      const expected = (pb - pa) / ((b.time - a.time) / 1000);
      const got = b.rates.jobs.pushes;
      assert.ok(Math.abs(got - expected) <= 1e-6 * Math.max(1, expected), `rate ${got} vs delta ${expected}`);
      rates.push(got);
    }
    rates.sort((x, y) => x - y);
    const median = rates[Math.floor(rates.length / 2)];
    assert.ok(median > 1000 && median < 3000, `median push rate ${median}/s for a 2000/s producer (${rates.join(", ")})`);
    const [p, c] = await Promise.all([producer.done, consumer.done]);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(c.code, 0, c.stderr);
    const pushed = JSON.parse(p.stdout.trim().split("\n").pop()!).pushed;
    assert.deepEqual(JSON.parse(c.stdout), { mode: "drain", popped: pushed, outOfOrder: 0 });

    // Without a terminal and without --json: one text line per sample.
    const t = await cli(["watch", name, "--interval", "100", "--count", "2"]);
    assert.equal(t.code, 0, t.stderr);
    const textLines = t.stdout.trim().split("\n");
    assert.equal(textLines.length, 2);
    for (const l of textLines) assert.match(l, new RegExp(`${name} ready, processes 1 live \\| jobs queue 0/4096 pushes`));
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 60_000 });

test(
  "a SIGKILLed process shows as dead; gc removes exactly the stale and half-created segments, a live one keeps working",
  async () => {
    const p = uniqueName("cli-gc");
    const [stale, live, halfMagic, halfBare, detached, empty, foreign] = [
      "stale",
      "live",
      "half1",
      "half2",
      "detached",
      "empty",
      "foreign",
    ]
      .map((s) => `${p}-${s}`);
    const all = [stale, live, halfMagic, halfBare, detached, empty, foreign];
    let liveSeg: Segment | undefined;
    try {
      // stale: its only process (which also claimed the ring's producer role) is SIGKILLed.
      const creator = start(other, WORKER, ["create", stale]);
      await creator.waitForLine((l) => l === "ready");
      creator.kill("SIGKILL");
      await creator.done;
      const r = await cli(["inspect", stale, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const rep = parsed<{ segment: SegmentReport }>(r).segment;
      assert.deepEqual(rep.attached.map((a) => [a.pid, a.alive]), [[creator.pid, false]]);
      assert.equal(rep.stale, true);
      assert.deepEqual(byName(rep).ticks.owner, { role: "producer", pid: creator.pid, alive: false });
      const deadPid = creator.pid;
      const deadStart = rep.attached[0].startTime;

      // half-created, with the magic (killed after writing the header, before READY) and without (before the header).
      Segment.create(halfMagic, { size: 1 << 16 }).close();
      writeAt(halfMagic, H.state, u32le(0));
      writeAt(halfMagic, H.creatorPid, u32le(deadPid));
      writeAt(halfMagic, H.creatorStart, u64le(deadStart));
      fs.writeFileSync(shm(halfBare), new Uint8Array(4 * 4096), { mode: 0o600 });
      writeAt(halfBare, H.creatorStart, u64le(deadStart));
      writeAt(halfBare, H.creatorPid, u32le(deadPid));
      // detached: ready, nobody attached (kept by default). empty and foreign: never collected.
      Segment.create(detached, { size: 1 << 16 }).close();
      fs.writeFileSync(shm(empty), new Uint8Array(0), { mode: 0o600 });
      fs.writeFileSync(
        shm(foreign),
        new TextEncoder().encode("not a segment at all, but long enough to hold a header ".repeat(8)),
        { mode: 0o600 },
      );

      // live: under load from two processes while gc runs.
      liveSeg = makeSegment(live);
      const producer = start(runtime, WORKER, ["stream", live, "3000", "3000"]);
      const consumer = start(other, WORKER, ["drain", live]);
      await producer.waitForLine((l) => l === "started");

      const ls = parsed<{ segments: SegmentReport[] }>(await cli(["ls", "--json", "--prefix", p]));
      const states = Object.fromEntries(
        ls.segments.map((s) => [s.name.slice(p.length + 1), `${s.state}${s.stale ? " stale" : ""}`]),
      );
      assert.deepEqual(states, {
        stale: "ready stale",
        live: "ready",
        half1: "half-created stale",
        half2: "half-created stale",
        detached: "ready",
        empty: "empty",
      });
      const lsAll = parsed<{ segments: SegmentReport[] }>(await cli(["ls", "--json", "--all", "--prefix", p]));
      assert.equal(lsAll.segments.find((s) => s.name === foreign)?.state, "foreign");

      const dry = await cli(["gc", "--dry-run", "--json", "--prefix", p]);
      assert.equal(dry.code, 0, dry.stderr);
      const d = parsed<{ dryRun: boolean; removed: { name: string }[] }>(dry);
      assert.equal(d.dryRun, true);
      assert.deepEqual(d.removed.map((x) => x.name).sort(), [halfMagic, halfBare, stale].sort());
      for (const n of all) assert.ok(fs.existsSync(shm(n)), `dry run left ${n}`);
      const withDetached = parsed<{ removed: { name: string }[] }>(
        await cli(["gc", "--dry-run", "--detached", "--json", "--prefix", p]),
      );
      assert.deepEqual(withDetached.removed.map((x) => x.name).sort(), [detached, halfMagic, halfBare, stale].sort());

      const gc = await cli(["gc", "--json", "--prefix", p]);
      assert.equal(gc.code, 0, gc.stderr);
      const done = parsed<{ removed: { name: string; reason: string }[]; failed: unknown[] }>(gc);
      assert.deepEqual(done.removed.map((x) => x.name).sort(), [halfMagic, halfBare, stale].sort());
      assert.deepEqual(done.failed, []);
      assert.match(
        done.removed.find((x) => x.name === stale)!.reason,
        new RegExp(`every attached process is dead \\(pid ${deadPid}\\)`),
      );
      for (const n of [stale, halfMagic, halfBare]) assert.ok(!fs.existsSync(shm(n)), `${n} removed`);
      for (const n of [live, detached, empty, foreign]) assert.ok(fs.existsSync(shm(n)), `${n} kept`);

      // The live segment kept working throughout: every element arrived, in order.
      const [pr, cr] = await Promise.all([producer.done, consumer.done]);
      assert.equal(pr.code, 0, pr.stderr);
      assert.equal(cr.code, 0, cr.stderr);
      const pushed = JSON.parse(pr.stdout.trim().split("\n").pop()!).pushed;
      assert.ok(pushed > 1000, `pushed ${pushed}`);
      assert.deepEqual(JSON.parse(cr.stdout), { mode: "drain", popped: pushed, outOfOrder: 0 });
      const text = await cli(["gc", "--dry-run", "--prefix", p]);
      assert.equal(text.stdout, "nothing to remove\n");
    } finally {
      liveSeg?.close();
      removeQuietly(...all);
    }
  },
  { timeout: 90_000 },
);

test("attachments per Worker: a live Worker and a terminated one show as such", async () => {
  const name = uniqueName("cli-threads");
  const seg = makeSegment(name);
  const child = start(other, WORKER, ["threads", name]);
  try {
    await child.waitForLine((l) => l === "ready");
    const r = await cli(["inspect", name, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const rep = parsed<{ segment: SegmentReport }>(r).segment;
    const mine = rep.attached.filter((a) => a.pid === child.pid).map((a) => [a.worker, a.alive]);
    assert.deepEqual(mine.sort(), [[false, true], [true, false], [true, true]], JSON.stringify(rep.attached));
    for (const a of rep.attached) if (a.worker) assert.notEqual(a.tid, a.pid);
    assert.equal(rep.deadProcesses, 1);
    const text = await cli(["inspect", name]);
    assert.match(text.stdout, new RegExp(`${child.pid}\\s+Worker \\d+\\s+dead`));
  } finally {
    child.kill("SIGKILL");
    await child.done.catch(() => {});
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 60_000 });

test("rm: a live segment needs --force; foreign files are never removed; exit codes as documented", async () => {
  const p = uniqueName("cli-rm");
  const [seg, foreign, empty, corrupt] = [`${p}-seg`, `${p}-foreign`, `${p}-empty`, `${p}-corrupt`];
  let holder: ReturnType<typeof start> | undefined;
  try {
    makeSegment(seg).close();
    holder = start(other, WORKER, ["hold", seg]);
    await holder.waitForLine((l) => l === "ready");
    const refused = await cli(["rm", seg, "--json"]);
    assert.equal(refused.code, 4);
    const j = parsed<{ outcome: string; reason: string }>(refused);
    assert.equal(j.outcome, "needs-force");
    assert.match(j.reason, new RegExp(`1 live process\\(es\\) attached \\(pid ${holder.pid}\\)`));
    assert.ok(fs.existsSync(shm(seg)));
    const text = await cli(["rm", seg]);
    assert.equal(text.code, 4);
    assert.match(text.stderr, /not removed: .*--force removes it/);
    const forced = await cli(["rm", seg, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, new RegExp(`removed ${seg}`));
    assert.ok(!fs.existsSync(shm(seg)));
    assert.ok(fs.existsSync(`/proc/${holder.pid}`), "the process that had it open is unaffected");

    fs.writeFileSync(shm(foreign), new Uint8Array(8192).fill(7), { mode: 0o600 });
    for (const args of [["rm", foreign], ["rm", foreign, "--force"]]) {
      const r = await cli(args);
      assert.equal(r.code, 5, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(fs.existsSync(shm(foreign)), "a foreign file is never removed");
    }
    fs.writeFileSync(shm(empty), new Uint8Array(0), { mode: 0o600 });
    assert.equal((await cli(["rm", empty])).code, 4);
    assert.equal((await cli(["rm", empty, "--force"])).code, 0);
    assert.ok(!fs.existsSync(shm(empty)));
    Segment.create(corrupt, { size: 1 << 16 }).close();
    writeAt(corrupt, H.heapOffset, u64le(12345));
    assert.equal((await cli(["rm", corrupt])).code, 4);
    assert.equal((await cli(["rm", corrupt, "--force"])).code, 0);
    assert.equal((await cli(["rm", `${p}-missing`])).code, 3);
    assert.equal((await cli(["rm", "a/b"])).code, 2);
  } finally {
    holder?.kill("SIGKILL");
    await holder?.done;
    removeQuietly(seg, foreign, empty, corrupt);
  }
}, { timeout: 60_000 });

test(
  "inspect and ls on corrupt, zero-length, permission-denied and foreign files: a clear report and the documented exit code",
  async () => {
    const p = uniqueName("cli-bad");
    const names = ["geom", "version", "state", "entry", "block", "short", "zero", "zeros", "foreign", "fifo", "link", "secret"]
      .map((s) => `${p}-${s}`);
    const [geom, version, state, entry, block, short, zero, zeros, foreign, fifo, link, secret] = names;
    try {
      for (const n of [geom, version, state, entry, block, short]) {
        const s = makeSegment(n);
        s.close();
      }
      writeAt(geom, H.heapOffset, u64le(4096));
      writeAt(version, H.version, u32le(2));
      writeAt(state, H.state, u32le(7));
      const layout = Segment.inspect(entry);
      writeAt(entry, layout.geometry!.tableOffset + E.offset, u64le(12345)); // entry 0 ("jobs"): not inside the heap
      const b0 = byName(Segment.inspect(block)).ticks.offset;
      writeAt(block, b0 + S.kind, u32le(99)); // block header no longer matches its entry
      fs.truncateSync(shm(short), 8192);
      fs.writeFileSync(shm(zero), new Uint8Array(0), { mode: 0o600 });
      fs.writeFileSync(shm(zeros), new Uint8Array(4096), { mode: 0o600 });
      fs.writeFileSync(shm(foreign), new Uint8Array(5000).map((_, i) => (i * 31 + 7) & 0xff), { mode: 0o600 });
      assert.equal(spawnSync("mkfifo", [shm(fifo)]).status, 0);
      fs.symlinkSync(shm(foreign), shm(link));

      const expect: [string, number, string, RegExp][] = [
        [geom, 6, "corrupt", /geometry does not add up/],
        [version, 6, "unsupported", /format version 2/],
        [state, 6, "corrupt", /unknown segment state 7/],
        [short, 6, "corrupt", /header says 1048576 bytes, the file has 8192/],
        [zero, 5, "empty", /zero-length/],
        [zeros, 5, "empty", /all zero bytes/],
        [foreign, 5, "foreign", /no shmkit magic number/],
        [fifo, 5, "foreign", /a special file/],
        [link, 5, "foreign", /a symbolic link/],
      ];
      for (const [n, code, st, reason] of expect) {
        const r = await cli(["inspect", n, "--json"], runtime, 20_000);
        assert.equal(r.code, code, `${n}: ${r.stdout}${r.stderr}`);
        const rep = parsed<{ segment: SegmentReport }>(r).segment;
        assert.equal(rep.state, st, n);
        assert.match(rep.reason, reason, n);
        const t = await cli(["inspect", n], runtime, 20_000);
        assert.equal(t.code, code);
        assert.match(t.stdout, new RegExp(`segment ${n}: ${st} — `));
      }
      for (const [n, problem] of [[entry, /not inside the heap/], [block, /structure header does not match/]] as const) {
        const r = await cli(["inspect", n, "--json"]);
        assert.equal(r.code, 6, `${n}: a corrupt structure makes inspect exit 6`);
        const rep = parsed<{ segment: SegmentReport }>(r).segment;
        assert.equal(rep.state, "ready");
        const bad = rep.entries.filter((e) => e.state === "corrupt");
        assert.equal(bad.length, 1, n);
        assert.match(bad[0].problem!, problem);
        assert.equal(
          rep.entries.filter((e) => e.state === "ready" && e.problem === null).length,
          3,
          "the others are still decoded",
        );
      }

      // Unreadable: a file of another user (run the CLI as nobody), or without read permission.
      fs.writeFileSync(shm(secret), new Uint8Array(4096), { mode: 0o600 });
      let r: CliResult;
      if (isRoot() && findExecutable(["setpriv"])) {
        r = cliAsNobody(["inspect", secret, "--json"]);
        const l = cliAsNobody(["ls", "--prefix", secret]);
        assert.equal(l.code, 0, l.stderr);
        assert.match(l.stdout, /unreadable .* permission denied: mode 0600, owned by root/);
      } else {
        fs.chmodSync(shm(secret), 0o000);
        r = await cli(["inspect", secret, "--json"]);
      }
      assert.equal(r.code, 7, `${r.stdout}${r.stderr}`);
      const rep = parsed<{ segment: SegmentReport }>(r).segment;
      assert.equal(rep.state, "unreadable");
      assert.match(rep.reason, /permission denied/);

      // ls lists them all without hanging; foreign ones only with --all.
      const ls = parsed<{ segments: SegmentReport[] }>(await cli(["ls", "--json", "--prefix", p]));
      const listed = new Set(ls.segments.map((s) => s.name));
      for (const n of [foreign, fifo, link]) assert.ok(!listed.has(n), `${n} hidden without --all`);
      for (const n of [geom, version, state, entry, block, short, zero, zeros]) assert.ok(listed.has(n), `${n} listed`);
      const lsAll = parsed<{ segments: SegmentReport[] }>(await cli(["ls", "--json", "--all", "--prefix", p]));
      assert.equal(lsAll.segments.length, names.length);
      assert.equal((await cli(["inspect", `${p}-missing`])).code, 3);
    } finally {
      removeQuietly(...names);
    }
  },
  { timeout: 90_000 },
);

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("inspection of randomly damaged segments always returns a report (never throws, never hangs)", () => {
  const base = uniqueName("cli-fuzz");
  const copy = `${base}-copy`;
  try {
    const seg = Segment.create(base, { size: 1 << 16, maxEntries: 32, maxProcesses: 8 });
    Queue.create(seg, "q", u32, 16).push(1);
    RingBuffer.create(seg, "r", f64, 8).pushOverwrite(2);
    SharedMap.create(seg, "m", u32, u32, 8).set(1, 2);
    ObjectPool.create(seg, "p", u32, 8).acquire();
    Semaphore.create(seg, "s", 2, { maxProcesses: 8 }).acquire();
    SpscQueue.create(seg, "sp", u32, 4).push(3);
    seg.close();
    const pristine = fs.readFileSync(shm(base));
    const heapStart = Segment.inspect(base).geometry!.heapOffset;
    const end = Math.max(...Segment.inspect(base).entries.map((e) => e.offset + 512));
    const rand = prng(1234);
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) {
      const bytes = new Uint8Array(pristine);
      const n = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < n; k++) {
        // Mostly the header, table and control areas; sometimes anywhere in the used part.
        const region = rand() < 0.3 ? H.size : rand() < 0.5 ? heapStart : end;
        bytes[Math.floor(rand() * region)] = Math.floor(rand() * 256);
      }
      const cut = rand() < 0.05 ? Math.floor(rand() * bytes.length) : bytes.length;
      fs.writeFileSync(shm(copy), bytes.subarray(0, cut), { mode: 0o600 });
      const r = inspectSegment(copy);
      assert.ok(typeof r.state === "string" && Array.isArray(r.entries));
      assert.equal(listSegments({ prefix: copy, all: true }).length, 1);
    }
    assert.ok(Date.now() - t0 < 30_000);
  } finally {
    removeQuietly(base, copy);
  }
}, { timeout: 60_000 });

test(
  "Segment.inspect decodes every kind as its live structure reports it; reading changes no byte and never waits on the metadata lock",
  async () => {
    const name = uniqueName("cli-kinds");
    const seg = Segment.create(name, { size: 1 << 20 });
    const guards: { unlock(): void }[] = [];
    try {
      const q = Queue.create(seg, "queue", u32, 10);
      for (let i = 0; i < 5; i++) q.push(i);
      q.pop();
      q.pop();
      const sp = SpscQueue.create(seg, "spsc", u32, 5);
      for (let i = 0; i < 3; i++) sp.push(i);
      sp.pop();
      const st = Stack.create(seg, "stack", u32, 8);
      for (let i = 0; i < 4; i++) st.push(i);
      st.pop();
      const pool = ObjectPool.create(seg, "pool", u32, 6);
      const h = [pool.acquire()!, pool.acquire()!, pool.acquire()!];
      pool.release(h[0]);
      const ring = RingBuffer.create(seg, "ring", f64, 8);
      for (let i = 0; i < 20; i++) ring.pushOverwrite(i);
      const br = BroadcastRing.create(seg, "broadcast", u32, 4);
      for (let i = 0; i < 5; i++) br.publish(i);
      const v = Vector.create(seg, "vector", u32, 10);
      for (let i = 0; i < 3; i++) v.push(i);
      SharedMap.create(seg, "map", u32, f64, 10).set(1, 1.5);
      SharedSet.create(seg, "set", string(4), 10).add("ab");
      SharedAtomic.create(seg, "a64", i64, -5n);
      SharedAtomic.create(seg, "u64", u64, 2n ** 60n);
      SharedAtomic.create(seg, "a32", u32, 7).add(1);
      const Point = struct({ x: f64, y: f64 });
      SharedArray.create(seg, "points", Point, 4);
      SharedArray.create(seg, "triples", array(u8, 3), 4);
      SharedArray.create(seg, "names", string(16), 4);
      guards.push(Mutex.create(seg, "mutex").lock());
      const sem = Semaphore.create(seg, "semaphore", 3);
      const permit = sem.acquire();
      guards.push(RWLock.create(seg, "rwlock").readLock());
      Barrier.create(seg, "barrier", 2);
      Latch.create(seg, "latch", 3).countDown();
      Once.create(seg, "once").run(() => {});
      SharedEvent.create(seg, "event").set();
      ConditionVariable.create(seg, "condvar");

      const before = fs.readFileSync(shm(name));
      const rep = Segment.inspect(name, { types: [Point] });
      const unnamed = Segment.inspect(name);
      const cliRep = parsed<{ segment: SegmentReport }>(await cli(["inspect", name, "--json"])).segment;
      Segment.list({ prefix: name });
      await cli(["ls", "--prefix", name]);
      assert.ok(sameBytes(fs.readFileSync(shm(name)), before), "inspection wrote nothing");
      assert.deepEqual(rep.attached.map((p) => p.pid), [myPid], "inspection registered no process");
      assert.deepEqual(cliRep.attached.map((p) => p.pid), [myPid]);

      const s = byName(rep);
      const me = { pid: myPid, alive: true };
      assert.equal(rep.entries.filter((e) => e.problem !== null).length, 0, JSON.stringify(rep.entries.filter((e) => e.problem)));
      assert.deepEqual([s.queue.fill, s.queue.counters], [3, { pushes: 5, pops: 2 }]);
      assert.equal(s.spsc.fill, 2);
      assert.deepEqual([s.stack.fill, s.stack.counters], [3, { pushes: 4, pops: 1 }]);
      assert.deepEqual([s.pool.fill, s.pool.counters, s.pool.details.available], [2, { acquires: 3, releases: 1 }, 4]);
      assert.deepEqual(s.pool.holders, [{ role: "slots", ...me, count: 2 }]);
      assert.deepEqual([s.ring.fill, s.ring.counters, s.ring.owner], [8, { pushes: 20, pops: 12 }, { role: "producer", ...me }]);
      assert.deepEqual([s.broadcast.fill, s.broadcast.counters, s.broadcast.owner], [4, { published: 5 }, {
        role: "writer",
        ...me,
      }]);
      assert.deepEqual([s.vector.fill, s.vector.counters], [3, { appends: 3 }]);
      assert.deepEqual([s.map.type, s.map.fill, s.map.capacity], ["map{key:u32,value:f64}", 1, 10]);
      assert.deepEqual([s.set.type, s.set.fill], ["set{key:string(4)}", 1]);
      assert.deepEqual([s.a64.type, s.a64.details.value], ["i64", -5]);
      assert.deepEqual([s.u64.type, s.u64.details.value], ["u64", String(2n ** 60n)]);
      assert.deepEqual([s.a32.type, s.a32.details.value], ["u32", 8]);
      assert.equal(s.points.type, "struct{x:f64,y:f64}");
      assert.equal(byName(unnamed).points.type, null, "a struct is named only when its type is passed");
      assert.equal(s.triples.type, "u8[3]");
      assert.equal(s.names.type, "string(16)");
      assert.deepEqual([s.mutex.owner, s.mutex.details.locked, s.mutex.counters.recovered], [{ role: "owner", ...me }, true, 0]);
      assert.deepEqual([s.semaphore.details.permits, s.semaphore.details.held], [2, 1]);
      assert.deepEqual(s.semaphore.holders, [{ role: "permits", ...me, count: 1 }]);
      assert.deepEqual([s.rwlock.details.readers, s.rwlock.holders], [1, [{ role: "reader", ...me, count: 1 }]]);
      assert.deepEqual(s.barrier.details, { parties: 2, arrived: 0, generation: 0, broken: false });
      assert.deepEqual(s.latch.details, { count: 2, initial: 3 });
      assert.deepEqual(s.once.details, { state: "done" });
      assert.equal(s.event.details.set, true);
      assert.deepEqual(s.condvar.waiters, { signal: 0 });
      permit.release();

      // A held metadata lock (here: this live process's pid in the lock word) does not make inspection wait.
      writeAt(name, H.lockOwner, u32le(myPid));
      try {
        const t0 = Date.now();
        const locked = Segment.inspect(name);
        const c = await cli(["inspect", name, "--json"]);
        assert.ok(Date.now() - t0 < 10_000);
        assert.deepEqual(locked.metaLock, me);
        assert.equal(c.code, 0);
        assert.deepEqual(parsed<{ segment: SegmentReport }>(c).segment.metaLock, me);
      } finally {
        writeAt(name, H.lockOwner, u32le(0));
      }
    } finally {
      for (const gd of guards) gd.unlock();
      seg.close();
      Segment.unlink(name);
    }
  },
  { timeout: 60_000 },
);

test("text output never passes control characters from a segment to the terminal", async () => {
  const name = `${uniqueName("cli-esc")}-\x1b[2J`;
  const seg = Segment.create(name, { size: 1 << 16 });
  try {
    Queue.create(seg, "evil\x1b]0;pwned\x07\x1b[31m", u32, 4);
    for (const args of [["inspect", name], ["ls", "--prefix", name], ["watch", name, "--count", "1"]]) {
      const r = await cli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        // deno-lint-ignore no-control-regex
        !/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stdout),
        `${args[0]} printed a control character: ${JSON.stringify(r.stdout)}`,
      );
      assert.match(r.stdout, /\?\[2J/);
    }
    const j = parsed<{ segment: SegmentReport }>(await cli(["inspect", name, "--json"]));
    assert.equal(j.segment.entries[0].name, "evil\x1b]0;pwned\x07\x1b[31m", "JSON keeps the name exactly");
  } finally {
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 30_000 });

test("usage: --help for every command, unknown commands and options exit 2", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Commands:[\s\S]*ls[\s\S]*inspect NAME[\s\S]*watch NAME[\s\S]*rm NAME[\s\S]*gc/);
  assert.match(help.stdout, /Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 needs --force/);
  for (const c of ["ls", "inspect", "watch", "rm", "gc"]) {
    const r = await cli([c, "--help"]);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, new RegExp(`^Usage: shmkit ${c}`), c);
  }
  assert.equal((await cli([])).code, 2);
  const bad = await cli(["frobnicate"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  const badFlag = await cli(["ls", "--bogus", "--json"]);
  assert.equal(badFlag.code, 2);
  assert.deepEqual(parsed<{ error: { code: string } }>(badFlag).error.code, "USAGE");
  assert.equal((await cli(["inspect"])).code, 2);
  assert.equal((await cli(["watch", "x", "--interval", "fast"])).code, 2);
}, { timeout: 60_000 });

function tmux(socket: string, ...args: string[]): string {
  const r = spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

async function waitForPane(
  socket: string,
  match: (screen: string) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = tmux(socket, "capture-pane", "-p", "-t", "w");
    if (match(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`tmux: ${what} did not appear; screen:\n${screen}`);
    await sleep(100);
  }
}

test("watch in a terminal (tmux): redraws the structures with changing numbers, q quits and restores the terminal", async () => {
  ensurePackage(["tmux"], "tmux");
  const name = uniqueName("cli-tmux");
  const socket = `shmkit-${runtime}-${myPid}`;
  const seg = makeSegment(name);
  const dir = fs.mkdtempSync("/tmp/shmkit-tmux-");
  const producer = start(other, WORKER, ["stream", name, "20000", "500", "free"]);
  try {
    await producer.waitForLine((l) => l === "started");
    tmux(socket, "new-session", "-d", "-s", "w", "-x", "160", "-y", "40", "bash --norc --noprofile");
    const [cmd, argv] = command(runtime, decodeURIComponent(CLI.pathname), ["watch", name, "--interval", "250"]);
    const line =
      `cd ${shellQuote(ROOT)}; echo BEFORE-MARK; stty -g > ${dir}/before; ${[cmd, ...argv].map(shellQuote).join(" ")}; ` +
      `echo "EXIT=$?"; stty -g > ${dir}/after`;
    tmux(socket, "send-keys", "-t", "w", line, "Enter");
    const first = await waitForPane(socket, (s) => s.includes("q quits") && /jobs\s+queue/.test(s), "the watch screen");
    for (const n of ["jobs", "ticks", "m", "news", "PROCESSES"]) assert.match(first, new RegExp(`(^|\\n)${n}\\s`), n);
    assert.match(first, /jobs\s+queue\s+u32\s+[█░]+ \d+\/4096/);
    assert.ok(!first.includes("BEFORE-MARK"), "watch runs on the alternate screen");
    const jobsLine = (s: string) => s.split("\n").find((l) => /^jobs\s+queue/.test(l)) ?? "";
    const second = await waitForPane(
      socket,
      (s) => s.includes("q quits") && jobsLine(s) !== jobsLine(first),
      "a changed jobs line",
      5000,
    );
    assert.notEqual(jobsLine(second), jobsLine(first));
    tmux(socket, "send-keys", "-t", "w", "q");
    const after = await waitForPane(socket, (s) => s.includes("EXIT=0"), "the exit line");
    await waitForPane(
      socket,
      () => fs.existsSync(`${dir}/after`) && fs.readFileSync(`${dir}/after`, "utf8").length > 0,
      "stty",
      5000,
    );
    assert.ok(after.includes("BEFORE-MARK"), "the main screen is back");
    assert.ok(!after.includes("q quits"), "the watch screen is gone");
    assert.equal(fs.readFileSync(`${dir}/after`, "utf8"), fs.readFileSync(`${dir}/before`, "utf8"), "terminal modes restored");
  } finally {
    try {
      tmux(socket, "kill-server");
    } catch {
      // Already gone.
    }
    producer.kill("SIGKILL");
    await producer.done.catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
    seg.close();
    Segment.unlink(name);
  }
}, { timeout: 60_000 });

/** GET with an explicit Host header (fetch would not let us set it). */
function getStatus(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on("error", reject);
    req.end();
  });
}

test(
  "watch --web: headless Chromium shows every structure and the processes, and values change while a producer runs",
  async () => {
    const chromium = ensurePackage(["chromium", "chromium-browser", "google-chrome"], "chromium");
    const name = uniqueName("cli-web");
    const seg = makeSegment(name);
    const evil = '</script><b id="pwned">x</b>'; // a name is untrusted text: never markup on the page
    Latch.create(seg, evil, 1);
    const producer = start(other, WORKER, ["stream", name, "30000", "400", "free"]);
    const server = start(runtime, CLI, ["watch", name, "--web", "--port", "0", "--interval", "250"], 60_000);
    let browser: Browser | undefined;
    try {
      await producer.waitForLine((l) => l === "started");
      const line = await server.waitForLine((l) => l.includes("http://127.0.0.1:"));
      const url = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(line)![0];
      const port = Number(/:(\d+)\//.exec(url)![1]);
      assert.equal(await getStatus(port, "/", "evil.example:80"), 403, "other Host headers are refused");
      assert.equal(await getStatus(port, "/", `127.0.0.1:${port}`), 200);
      browser = await Browser.launch(chromium);
      const page = await browser.open(url);
      // Complete at load (the server embeds the current state), before any event arrives.
      assert.equal(await page.evaluate<number>(`document.querySelectorAll("section.structure").length`), 5);
      const shown = await page.evaluate<string[]>(
        `[...document.querySelectorAll("section.structure")].map((s) => s.dataset.name).sort()`,
      );
      assert.deepEqual(shown, [evil, "jobs", "m", "news", "ticks"]);
      assert.equal(await page.evaluate<boolean>(`document.getElementById("pwned") === null`), true);
      const kinds = await page.evaluate<string[]>(
        `[...document.querySelectorAll("section.structure")].map((s) => s.dataset.kind).sort()`,
      );
      assert.deepEqual(kinds, ["broadcast", "latch", "map", "queue", "ring"]);
      await page.waitFor(`document.querySelectorAll("#processes tbody tr").length === 2`);
      const pids = await page.evaluate<string[]>(
        `[...document.querySelectorAll("#processes tbody tr")].map((r) => r.dataset.pid).sort()`,
      );
      assert.deepEqual(pids, [String(myPid), String(producer.pid)].sort());
      const read = `document.querySelector('section.structure[data-name="jobs"] [data-counter="pushes"]').textContent`;
      const v1 = await page.evaluate<string>(read);
      await page.waitFor(`${read} !== ${JSON.stringify(v1)}`, 5000);
      const fill = await page.evaluate<string>(
        `document.querySelector('section.structure[data-name="jobs"] [data-field="fill"]').textContent`,
      );
      assert.match(fill, /^\d+ \/ 4096$/);
      const rate = await page.evaluate<string>(
        `document.querySelector('section.structure[data-name="jobs"] [data-rate="pushes"]').textContent`,
      );
      assert.match(rate, /\/s$/);
      const png = await page.screenshot();
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
      assert.ok(png.length > 10_000, `screenshot of ${png.length} bytes`);
      fs.writeFileSync(`/tmp/shmkit-watch-web-${runtime}.png`, png);
    } finally {
      await browser?.close();
      server.kill("SIGINT");
      const r = await server.done.catch((e) => ({ code: -1, signal: null, stdout: "", stderr: String(e) }));
      producer.kill("SIGKILL");
      await producer.done.catch(() => {});
      seg.close();
      Segment.unlink(name);
      assert.match(r.stdout, /shmkit watch: stopped\n$/, `the server stops cleanly on SIGINT: ${JSON.stringify(r)}`);
      // Deno's node:child_process reports the signal it sent even when the child handled it and exited 0.
      assert.ok(r.code === 0 || (runtime === "deno" && r.signal === "SIGINT"), JSON.stringify(r));
    }
  },
  { timeout: 120_000 },
);
