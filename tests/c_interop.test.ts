/**
 * The C interop promise of docs/FORMAT.md and docs/MAP.md, checked with a real C
 * program: tests/c/shmkit_peek.c, written only from those documents, is compiled
 * with `cc` and run against segments that TypeScript made. It validates the header,
 * walks the name table under the metadata lock, checks kind / element size / type
 * hash, reads a struct array, adds to atomics concurrently with TS processes, and
 * looks keys up in SharedMaps with the documented hash, probe and seqlock protocol.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { f32, f64, i32, i64AsNumber, type Segment, SharedArray, SharedAtomic, SharedMap, string, struct, u32 } from "../mod.ts";
import { fnv1a } from "../src/segment/elements.ts";
import { H } from "../src/segment/format.ts";
import { murmur3Bytes } from "../src/structures/hash/murmur3.ts";
import { lastJson, run, type Runtime } from "./helpers/procs.ts";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";

const SOURCE = decodeURIComponent(new URL("./c/shmkit_peek.c", import.meta.url).pathname);
const WORKER = new URL("./workers/c_interop_worker.ts", import.meta.url);

/** The element type of tests/c/shmkit_peek.c's `struct Point`. */
const Point = struct({ x: f64, y: f64, id: u32, name: string(12) });

// ---------------------------------------------------------------- the C program

let binary: string | undefined;

/** Compiles shmkit_peek.c into a temp dir for the duration of `fn` (the C program is what is under test). */
async function withBinary(fn: () => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "shmkit-cinterop-"));
  try {
    const exe = join(dir, "shmkit_peek");
    await new Promise<void>((resolve, reject) => {
      execFile("cc", ["-std=c11", "-O2", "-Wall", "-Werror", "-o", exe, SOURCE], (e, _stdout, stderr) => {
        if (!e) return resolve();
        if ((e as { code?: unknown }).code === "ENOENT") {
          reject(new Error("the C interop tests need a C compiler: `cc` was not found on PATH (install gcc or clang)"));
        } else {
          reject(new Error(`compiling tests/c/shmkit_peek.c failed:\n${stderr}`));
        }
      });
    });
    binary = exe;
    await fn();
  } finally {
    binary = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
}

interface PeekResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the C program (any exit code); kills it after `timeoutMs`. */
function peekRaw(args: readonly string[], timeoutMs = 20_000): Promise<PeekResult> {
  const exe = binary;
  if (exe === undefined) return Promise.reject(new Error("peek() outside withBinary()"));
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    child.stdout!.on("data", (c: Uint8Array) => out.push(c));
    child.stderr!.on("data", (c: Uint8Array) => err.push(c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`shmkit_peek ${args.join(" ")} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const text = (chunks: Uint8Array[]) => new TextDecoder().decode(Buffer.concat(chunks));
      resolve({ code, stdout: text(out), stderr: text(err) });
    });
  });
}

/** Runs the C program, which must succeed; returns its stdout. */
async function peek(args: readonly string[]): Promise<string> {
  const r = await peekRaw(args);
  if (r.code !== 0) {
    throw new Error(`shmkit_peek ${args.join(" ")} exited with ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stdout;
}

function jsonLines(text: string): unknown[] {
  return text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

function withSegment(tag: string, fn: (seg: Segment, name: string) => Promise<void>): Promise<void> {
  const options = { size: 1 << 20, maxEntries: 32, maxNameLength: 100, maxProcesses: 16 };
  return segmentTest(tag, options, (seg, name) => withBinary(() => fn(seg, name)))();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- hashes

test("c interop: C computes the same FNV-1a type hashes and MurmurHash3 values as TS", () =>
  withBinary(async () => {
    const signatures = [
      "i32",
      "i64",
      "string(16)",
      Point.name,
      "map{key:u32,value:f64}",
      "map{key:string(16),value:i32}",
      "struct{é:f64,😀:u8}", // non-ASCII field names: FNV-1a runs over UTF-16 code units, not UTF-8 bytes
    ];
    const hashes = (await peek(["-", "typehash", ...signatures])).trim().split("\n").map(Number);
    assert.deepEqual(hashes, signatures.map(fnv1a));
    assert.equal(Point.typeHash, fnv1a("struct{x:f64,y:f64,id:u32,name:string(12)}"));

    const enc = new TextEncoder();
    const vectors: [Uint8Array, number][] = [
      [new Uint8Array(0), 0],
      [new Uint8Array(0), 1],
      [enc.encode("test"), 0],
      [enc.encode("Hello, world!"), 1234],
      [enc.encode("The quick brown fox jumps over the lazy dog"), 0],
      [Uint8Array.of(0x21, 0x43, 0x65, 0x87), 0x5082edee],
      [enc.encode("ключ😀"), 0],
      [Uint8Array.of(1, 2, 3, 4, 5, 6, 7), 99],
    ];
    for (const [bytes, seed] of vectors) {
      const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
      const c = Number((await peek(["-", "murmur3", hex, String(seed)])).trim());
      assert.equal(c, murmur3Bytes(bytes, seed), `murmur3(${hex}, ${seed})`);
    }
    // The documented test vectors (MAP.md).
    assert.equal(murmur3Bytes(enc.encode("test")), 0xba6bd213);
    assert.equal(murmur3Bytes(Uint8Array.of(0x21, 0x43, 0x65, 0x87), 0x5082edee), 0x2362f9de);
  }));

// ---------------------------------------------------------------- (a) struct array, (d) name table

test("c interop: C reads a SharedArray of structs (UTF-8 names, edge doubles) exactly as TS wrote it", async () => {
  await withSegment("cpoints", async (seg, name) => {
    const values = [
      { x: 1.5, y: -2.25, id: 0, name: "plain" },
      { x: -0, y: Math.PI, id: 4294967295, name: "ñandú" }, // 7 bytes of UTF-8
      { x: 5e-324, y: -1.7976931348623157e308, id: 1, name: "日本語abc" }, // exactly 12 bytes: no NUL terminator
      { x: 0.1, y: 2 ** 53 + 2, id: 123456789, name: "" },
      { x: 1e-310, y: 12345.678, id: 42, name: 'q"b\\\t😀' }, // JSON escapes, a control char, a 4-byte char
    ];
    const arr = SharedArray.create(seg, "点の配列 🚀", Point, values.length + 1);
    values.forEach((v, i) => arr.set(i, v));
    const expected = arr.toArray().map((v, index) => ({ index, ...v }));
    assert.deepEqual(expected.slice(0, values.length), values.map((v, index) => ({ index, ...v })));
    const lines = jsonLines(await peek([name, "points", "点の配列 🚀"]));
    assert.deepEqual(lines, expected); // deepStrictEqual: -0 is not 0, every double bit-exact
    assert.deepEqual(lines[values.length], { index: values.length, x: 0, y: 0, id: 0, name: "" }); // zeroed element
  });
});

test("c interop: C lists the name table (names, kinds, sizes, type hashes, capacities) exactly as Segment.list()", async () => {
  await withSegment("clist", async (seg, name) => {
    SharedArray.create(seg, "points", Point, 3);
    SharedAtomic.create(seg, "счётчик", i32);
    SharedArray.create(seg, "temporary", f32, 10);
    SharedMap.create(seg, "prices 💶", string(16), i32, 100);
    SharedAtomic.create(seg, "big", i64AsNumber);
    SharedMap.create(seg, "m", u32, f64, 5, { slots: 8 });
    seg.remove("temporary"); // leaves a free entry (and a hole in the heap) between ready ones
    const c = JSON.parse(await peek([name, "list"]));
    const ts = seg.list().map((e) => ({
      name: e.name,
      kind: e.kind,
      elemSize: e.elemSize,
      typeHash: e.typeHash,
      capacity: e.capacity,
      offset: e.offset,
      size: e.size,
    }));
    assert.deepEqual(c, ts);
    assert.deepEqual(c.map((e: { name: string }) => e.name), ["points", "счётчик", "prices 💶", "big", "m"]);
    assert.deepEqual(c.map((e: { kind: number }) => e.kind), [1, 2, 10, 2, 10]);
    assert.equal(c[4].capacity, 8); // a map's entry capacity is its slot count
  });
});

// ---------------------------------------------------------------- (b) atomics

test(
  "c interop: 4 C adders (i32) + 4 C adders (i64) + a Deno and a Bun process, all at once: exact totals, TS sees every C add",
  async () => {
    await withSegment("cadd", async (seg, name) => {
      const start32 = 2 ** 31 - 300_000; // wraps past 2^31 - 1, like the C type
      const start64 = 2 ** 32 - 500_000; // crosses 2^32: the add must be one 8-byte atomic
      const c32 = SharedAtomic.create(seg, "count32", i32, start32);
      const c64 = SharedAtomic.create(seg, "count64", i64AsNumber, start64);
      SharedAtomic.create(seg, "go", i32);
      const TIMES = 200_000;
      const deltas32 = [3, 3, 3, -2];
      const deltas64 = [7, 1, 5, -3];
      const tsRuntimes: Runtime[] = ["deno", "bun"];
      const parties = String(deltas32.length + deltas64.length + tsRuntimes.length);
      const cJobs = [
        ...deltas32.map((d) => peek([name, "add32", "count32", String(d), String(TIMES), "go", parties])),
        ...deltas64.map((d) => peek([name, "add64", "count64", String(d), String(TIMES), "go", parties])),
      ];
      const tsJobs = tsRuntimes.map((rt) =>
        run(rt, WORKER, ["add", name, "count32", "count64", "go", parties, String(TIMES)], 30_000)
      );
      const [cOut, tsOut] = await Promise.all([Promise.all(cJobs), Promise.all(tsJobs)]);
      assert.equal(cOut.length, 8);
      console.log(`  TS adders: ${tsOut.map((o) => o.trim()).join(" ")}`);
      assert.deepEqual(tsOut.map((o) => lastJson<{ runtime: string }>(o).runtime), ["deno", "bun"]);
      const sum = (ds: number[]) => ds.reduce((s, d) => s + d * TIMES, 0);
      const want32 = (start32 + sum(deltas32) + tsRuntimes.length * TIMES) | 0;
      const want64 = start64 + sum(deltas64) + tsRuntimes.length * TIMES;
      assert.ok(start32 + sum(deltas32) > 2 ** 31 - 1, "the i32 total wraps");
      assert.equal(c32.load(), want32);
      assert.equal(c64.load(), want64);
      assert.equal(SharedAtomic.open(seg, "go", i32).load(), Number(parties));

      // And the other way round: a single C add is immediately what TS reads.
      c64.store(-(2 ** 40));
      await peek([name, "add64", "count64", String(2 ** 40 + 5), "1"]);
      assert.equal(c64.load(), 5);
      c32.store(-1);
      assert.deepEqual(JSON.parse(await peek([name, "add32", "count32", "1", "1"])), { last: 0 });
      assert.equal(c32.load(), 0);
    });
  },
  { timeout: 60_000 },
);

// ---------------------------------------------------------------- (c) maps

test("c interop: C looks keys up in SharedMap<u32, f64> and SharedMap<string(16), i32> (present, absent, deleted, full table)", async () => {
  await withSegment("cmap", async (seg, name) => {
    // u32 -> f64, default sizing.
    const m = SharedMap.create(seg, "числа→f64", u32, f64, 64);
    const entries: [number, number][] = [[0, -0], [1, Math.PI], [7, 7.5], [4294967295, 1e-310], [123456, -(2 ** 60)], [99, 0.1]];
    for (const [k, v] of entries) m.set(k, v);
    m.set(1, 2.5); // replaced: the active copy flips to value[1]
    m.set(1, 3.5); // and back to value[0]
    assert.equal(m.delete(7), true);
    const keys = [0, 1, 7, 4294967295, 123456, 99, 8, 100, 2 ** 31];
    const expect = (k: number | string, v: unknown) => (v === undefined ? { key: k, absent: true } : { key: k, value: v });
    const want = keys.map((k) => expect(k, m.get(k)));
    assert.deepEqual(want.filter((w) => "absent" in w).map((w) => w.key), [7, 8, 100, 2 ** 31]);
    assert.deepEqual(jsonLines(await peek([name, "get-u32-f64", "числа→f64", ...keys.map(String)])), want);

    // A full table (slots == capacity): no EMPTY slot ends a miss, so probeLimit must; tombstones on every path.
    const full = SharedMap.create(seg, "full", u32, f64, 16, { slots: 16 });
    for (let k = 0; k < 16; k++) full.set(k * 16, k * 1000 + 0.5); // all hash to scattered homes
    for (let k = 0; k < 16; k += 3) full.delete(k * 16);
    for (let k = 100; k < 100 + 6; k++) full.set(k, k * 1000 + 0.25); // reuse the tombstones
    assert.equal(full.size, 16);
    const fullKeys = [...Array(16).keys()].map((k) => k * 16).concat([100, 101, 102, 103, 104, 105, 999, 1000, 17]);
    const fullWant = fullKeys.map((k) => expect(k, full.get(k)));
    assert.ok(fullWant.some((w) => "absent" in w) && fullWant.some((w) => "value" in w));
    assert.deepEqual(jsonLines(await peek([name, "get-u32-f64", "full", ...fullKeys.map(String)])), fullWant);

    // string(16) -> i32: keys are NUL-padded UTF-8 bytes.
    const s = SharedMap.create(seg, "ключи", string(16), i32, 20);
    const sEntries: [string, number][] = [
      ["a", 1],
      ["ключ", -2147483648], // 8 bytes of UTF-8
      ["😀😀😀😀", 2147483647], // exactly 16 bytes: no terminator
      ["sixteen-bytes-ok", 16],
      ["日本", 0],
      ["gone", 5],
      ["", -1], // the empty key: 16 NUL bytes
    ];
    for (const [k, v] of sEntries) s.set(k, v);
    s.set("a", 11);
    assert.equal(s.delete("gone"), true);
    const sKeys = ["a", "ключ", "😀😀😀😀", "sixteen-bytes-ok", "日本", "gone", "", "nope", "ключ2", "A", "😀😀😀"];
    const sWant = sKeys.map((k) => expect(k, s.get(k)));
    assert.deepEqual(sWant.filter((w) => "absent" in w).map((w) => w.key), ["gone", "nope", "ключ2", "A", "😀😀😀"]);
    assert.deepEqual(jsonLines(await peek([name, "get-str16-i32", "ключи", ...sKeys])), sWant);
  });
});

test("c interop: C lookups stay consistent while TS churns the map (deletes, slot reuse, value flips)", async () => {
  await withSegment("cwatch", async (seg, name) => {
    // 8 slots, keys 0..23: slots are deleted and reused for other keys all the time.
    const m = SharedMap.create(seg, "churn", u32, f64, 8, { slots: 8 });
    const ready = SharedAtomic.create(seg, "ready", i32);
    const stop = SharedAtomic.create(seg, "stop", i32);
    const LO = 0, HI = 23;
    const c = peek([name, "watch-u32-f64", "churn", String(LO), String(HI), "ready", "stop"]);
    const deadline = Date.now() + 10_000;
    while (ready.load() === 0) {
      if (Date.now() > deadline) throw new Error("the C watcher never started");
      await sleep(2);
    }
    // Invariant the C reader checks: a value found for key k lies in [k * 1000, k * 1000 + 1000).
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let ops = 0;
    const until = performance.now() + 400;
    while (performance.now() < until) {
      for (let j = 0; j < 1000; j++, ops++) {
        const k = LO + rand(HI - LO + 1);
        if (m.has(k) && rand(3) === 0) m.delete(k);
        else if (!m.insert(k, k * 1000 + rand(1000))) {
          if (m.has(k)) m.set(k, k * 1000 + rand(1000) + 0.5);
        }
      }
    }
    stop.store(1);
    const r = JSON.parse(await c) as { lookups: number; found: number; bad: number; stopped: boolean };
    console.log(`  C watcher: ${r.lookups} lookups (${r.found} found) during ${ops} TS writes`);
    assert.equal(r.bad, 0);
    assert.equal(r.stopped, true);
    assert.ok(r.found > 0 && r.lookups > r.found, JSON.stringify(r));
    // Finally, with the map quiet, C sees exactly what TS sees.
    const keys = [...Array(HI - LO + 1).keys()].map((k) => k + LO);
    const want = keys.map((k) => (m.get(k) === undefined ? { key: k, absent: true } : { key: k, value: m.get(k) }));
    assert.deepEqual(jsonLines(await peek([name, "get-u32-f64", "churn", ...keys.map(String)])), want);
  });
}, { timeout: 60_000 });

// ---------------------------------------------------------------- refusals

test("c interop: C refuses a segment with a corrupt magic, version, state, size or geometry (exit 2) and wrong types (exit 2)", async () => {
  await withSegment("crefuse", async (seg, name) => {
    SharedArray.create(seg, "points", Point, 2);
    SharedArray.create(seg, "other", struct({ x: f64, y: f32, id: u32, name: string(12) }), 2);
    SharedMap.create(seg, "m", u32, f64, 4);
    SharedMap.create(seg, "m2", u32, i32, 4);
    SharedAtomic.create(seg, "a32", i32);
    const u32w = seg.memory.u32;
    const refuse = async (args: string[], code: number, message: RegExp) => {
      const r = await peekRaw([name, ...args]);
      assert.equal(r.code, code, `shmkit_peek ${args.join(" ")}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    };
    const corrupting = async (word: number, value: number, message: RegExp) => {
      const saved = u32w[word];
      u32w[word] = value;
      try {
        await refuse(["list"], 2, message);
      } finally {
        u32w[word] = saved;
      }
    };
    assert.equal(JSON.parse(await peek([name, "list"])).length, 5); // sound before corruption

    await corrupting(H.magic >> 2, 0xdeadbeef, /bad magic/);
    await corrupting(H.magic >> 2, 0x4b4d4854, /bad magic/); // one bit off
    await corrupting(H.version >> 2, 2, /format version 2/);
    await corrupting(H.state >> 2, 0, /state 0/);
    await corrupting(H.totalSize >> 2, seg.size + 4096, /bytes, the object has/);
    await corrupting(H.heapOffset >> 2, u32w[H.heapOffset >> 2] + 64, /geometry/);
    await corrupting(H.entrySize >> 2, u32w[H.entrySize >> 2] + 64, /geometry/);
    await corrupting(H.maxEntries >> 2, u32w[H.maxEntries >> 2] + 1, /geometry/);
    await corrupting(H.maxProcesses >> 2, 0, /maxProcesses 0/);
    assert.equal(JSON.parse(await peek([name, "list"])).length, 5); // restored

    await refuse(["points", "other"], 2, /type hash/); // same size, y is f32: another signature
    await refuse(["points", "m"], 2, /kind 10, not 1/);
    await refuse(["get-u32-f64", "m2", "1"], 2, /type hash/);
    await refuse(["add64", "a32", "1", "1"], 2, /4-byte elements/);
    await refuse(["points", "nothing here"], 3, /no structure named/);
    // A name table entry whose block leaves the heap, or is not 64-byte aligned, is refused.
    const points = seg.list().findIndex((e) => e.name === "points");
    const entryOffset = seg.memory.getU64(H.tableOffset) + points * u32w[H.entrySize >> 2] + 32; // the entry's `offset`
    await corrupting(entryOffset >> 2, seg.size, /not inside the heap/);
    await corrupting(entryOffset >> 2, u32w[entryOffset >> 2] + 8, /not inside the heap/);
    assert.equal(JSON.parse(await peek([name, "list"])).length, 5);
  });
});
