/**
 * Child process for tests/multiprocess.test.ts (and the error tests). Runs under
 * Deno and Bun alike; the first argument selects the mode, the rest are its
 * parameters. A worker reports its result as JSON on the last stdout line
 * (lastJson in tests/helpers/procs.ts); modes that wait to be killed print a
 * marker line first.
 *
 * Modes:
 *   write-structs <seg> <n> <tag>       create <seg>, fill arrays, print what was written
 *   read-structs <seg>                  open <seg>, print what the arrays hold
 *   atomic <seg> <variant> <iters> <procs>   add / cas / add64 / cas64 / addbig on one counter
 *   churn <seg> <tag> <names> <rounds> <procs>  create/open/remove many names concurrently
 *   race <base> <rounds> <startAt> <how>  create the same fresh segments at the same moment
 *   half-create <name> <stay>           create the shm object, never mark it READY
 *   open <name> <timeoutMs>             Segment.open and report the outcome
 *   hold-lock <seg> [reserve <entry>]   take the metadata lock (and reserve an entry), wait to be killed
 *   create-one <seg> <entry>            create one array; report how long it took
 *   attach <seg>                        open and wait to be killed
 *   attach-until-alone <seg>            open, wait until the only attached process, close
 *   load-library                        call into the native library; report the error code
 */
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
} from "../../mod.ts";
import { native } from "../../ffi/mod.ts";
import { H } from "../../src/segment/format.ts";
import { lockMeta } from "../../src/segment/meta_lock.ts";
import { me } from "../../src/segment/process.ts";
import * as table from "../../src/segment/table.ts";
import type { Geometry } from "../../src/segment/table.ts";
import { arriveAndWait as barrier } from "../helpers/barrier.ts";
import { args as argv, forever, runtime, sleep } from "../helpers/worker.ts";

function report(value: unknown): void {
  console.log(JSON.stringify(value));
}

/** xorshift32, seeded: reproducible pseudo-random choices. */
function rng(seed: number): () => number {
  let s = (seed | 0) || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

const Particle = struct({
  x: f64,
  y: f64,
  id: u32,
  name: string(12),
  alive: bool,
  hist: array(u16, 3),
});

function writeStructs(seg: string, n: number, tag: number): void {
  const s = Segment.create(seg, { size: 1 << 20 });
  const ps = SharedArray.create(s, "particles", Particle, n);
  const big = SharedArray.create(s, "big", i64, n);
  const written = [];
  for (let i = 0; i < n; i++) {
    const p = {
      x: tag + i / 3,
      y: -(i + 0.5) * Math.PI,
      id: (tag * 1000 + i) >>> 0,
      name: `${runtime}-é${i}`,
      alive: i % 3 === 0,
      hist: [i, tag & 0xffff, 65535 - i],
    };
    ps.set(i, p);
    const b = BigInt(tag) * 1_000_000_007n * BigInt(i + 1) - (1n << 62n);
    big.set(i, b);
    written.push({ ...p, big: b.toString() });
  }
  s.close();
  report({ runtime, written });
}

function readStructs(seg: string): void {
  const s = Segment.open(seg);
  const ps = SharedArray.open(s, "particles", Particle);
  const big = SharedArray.open(s, "big", i64);
  const read = [];
  for (let i = 0; i < ps.length; i++) read.push({ ...ps.get(i), big: big.get(i).toString() });
  s.close();
  report({ runtime, read });
}

/** Adds 1 to `c` `iters` times, with add() or (`cas`) a compare-exchange loop; returns the failed exchanges. */
function countUp(c: SharedAtomic<number>, iters: number, cas: boolean): number {
  let retries = 0;
  if (!cas) {
    for (let i = 0; i < iters; i++) c.add(1);
  } else {
    for (let i = 0; i < iters; i++) {
      let v = c.load();
      for (;;) {
        const found = c.compareExchange(v, v + 1);
        if (found === v) break;
        v = found;
        retries++;
      }
    }
  }
  return retries;
}

function atomic(seg: string, variant: string, iters: number, procs: number): void {
  const s = Segment.open(seg);
  const ready = SharedAtomic.open(s, "ready", i32);
  let retries = 0;
  let t0 = 0;
  if (variant === "add" || variant === "cas") {
    const c = SharedAtomic.open(s, "c32", i32);
    barrier(ready, procs);
    t0 = Date.now();
    retries = countUp(c, iters, variant === "cas");
  } else if (variant === "add64" || variant === "cas64") {
    const c = SharedAtomic.open(s, "c64", i64AsNumber);
    barrier(ready, procs);
    t0 = Date.now();
    retries = countUp(c, iters, variant === "cas64");
  } else if (variant === "addbig") {
    const c = SharedAtomic.open(s, "cbig", i64);
    barrier(ready, procs);
    t0 = Date.now();
    for (let i = 0; i < iters; i++) c.add(1n);
  } else {
    throw new Error(`unknown atomic variant ${variant}`);
  }
  const t1 = Date.now();
  s.close();
  report({ runtime, pid: me().pid, retries, t0, t1 });
}

interface Extentish {
  name: string;
  offset: number;
  size: number;
}

/** Throws if two listed structures overlap (or leave the segment). */
function checkNoOverlap(entries: readonly Extentish[], segSize: number): void {
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    if (e.offset + e.size > segSize) throw new Error(`"${e.name}" [${e.offset}, +${e.size}) leaves the segment`);
    const next = sorted[i + 1];
    if (next && e.offset + e.size > next.offset) {
      throw new Error(`"${e.name}" [${e.offset}, +${e.size}) overlaps "${next.name}" at ${next.offset}`);
    }
  }
}

function churn(seg: string, tag: number, names: number, rounds: number, procs: number): void {
  const s = Segment.open(seg);
  const ready = SharedAtomic.open(s, "ready", i32);
  const done = SharedAtomic.open(s, "done", i32);
  const random = rng(tag * 7919 + 1);
  const live = new Map<number, number>(); // index → the value its elements hold
  const nameOf = (i: number) => `p${tag}-${i}`;
  const lengthOf = (i: number, r: number) => 1 + ((i * 7 + r * 13) % 40);
  const check = (i: number, v: number) => {
    const a = SharedArray.open(s, nameOf(i), u32);
    try {
      for (let k = 0; k < a.length; k++) {
        const got = a.get(k);
        if (got !== v) {
          throw new Error(
            `${nameOf(i)}[${k}] = 0x${got.toString(16)}, expected 0x${v.toString(16)} (another structure wrote here?)`,
          );
        }
      }
    } finally {
      a.close();
    }
  };
  let creates = 0, removes = 0, opens = 0, lists = 0;
  barrier(ready, procs);
  const t0 = Date.now();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names; i++) {
      if (live.has(i)) continue;
      const v = ((tag << 24) | (i << 12) | r) >>> 0;
      const a = SharedArray.create(s, nameOf(i), u32, lengthOf(i, r));
      a.fill(v);
      a.close();
      live.set(i, v);
      creates++;
    }
    for (const [i, v] of live) {
      check(i, v);
      opens++;
    }
    checkNoOverlap(s.list(), s.size);
    lists++;
    for (const i of [...live.keys()]) {
      if (random() < 0.5) {
        s.remove(nameOf(i));
        live.delete(i);
        removes++;
      }
    }
  }
  const t1 = Date.now();
  // Every process has stopped changing the table: check our data survived everyone's churn.
  barrier(done, procs);
  for (const [i, v] of live) check(i, v);
  const listed = s.list();
  checkNoOverlap(listed, s.size);
  const ours = listed.filter((e) => e.name.startsWith(`p${tag}-`)).map((e) => e.name).sort();
  const expected = [...live.keys()].map(nameOf).sort();
  if (JSON.stringify(ours) !== JSON.stringify(expected)) {
    throw new Error(`process ${tag}: table lists ${ours.length} of our names, we have ${expected.length} live`);
  }
  s.close();
  report({
    runtime,
    tag,
    live: Object.fromEntries([...live].map(([i, v]) => [nameOf(i), v])),
    creates,
    removes,
    opens,
    lists,
    ms: t1 - t0,
  });
}

function race(base: string, rounds: number, startAt: number, how: string): void {
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const name = `${base}-${r}`;
    const at = startAt + r * 150;
    while (Date.now() < at - 3) sleep(1);
    while (Date.now() < at) { /* spin to line up with the others */ }
    let created = false;
    let s: Segment;
    try {
      if (how === "openOrCreate") {
        // openOrCreate does not say which happened: the creator is the one whose pid is in the header.
        s = Segment.openOrCreate(name, { size: 1 << 16, maxEntries: 8 });
        created = s.memory.u32[H.creatorPid >> 2] === me().pid;
      } else {
        try {
          s = Segment.create(name, { size: 1 << 16, maxEntries: 8 });
          created = true;
        } catch (e) {
          if (!(e instanceof ShmError) || e.code !== "EXISTS") throw e;
          s = Segment.open(name);
        }
      }
    } catch (e) {
      results.push({ round: r, error: e instanceof ShmError ? e.code : String(e), message: String(e) });
      continue;
    }
    let owner = -1;
    if (created) {
      const a = SharedArray.create(s, "owner", u32, 4);
      a.set(1, r);
      a.set(2, 0xc0ffee);
      a.set(0, me().pid); // pid last: readers wait for it
      owner = me().pid;
    } else {
      const deadline = Date.now() + 10_000;
      while (!s.find("owner")) {
        if (Date.now() > deadline) throw new Error(`round ${r}: creator never wrote "owner"`);
        sleep(1);
      }
      const a = SharedArray.open(s, "owner", u32);
      while (a.get(0) === 0) {
        if (Date.now() > deadline) throw new Error(`round ${r}: creator never wrote its pid`);
        sleep(1);
      }
      if (a.get(2) !== 0xc0ffee || a.get(1) !== r) throw new Error(`round ${r}: "owner" holds ${a.toArray()}`);
      owner = a.get(0);
    }
    s.close();
    results.push({ round: r, created, owner });
  }
  report({ runtime, pid: me().pid, how, results });
}

function halfCreate(name: string, stay: boolean): void {
  const n = native();
  const size = 1 << 16;
  const fd = n.shmOpen(name, 1, 0o600);
  if (fd < 0) throw new Error(`shmOpen failed: ${fd}`);
  if (n.resize(fd, size) < 0) throw new Error("resize failed");
  const address = n.map(fd, size);
  n.close(fd);
  if (address < 0) throw new Error("map failed");
  const u32v = new Uint32Array(n.view(address, size));
  const self = me();
  // What Segment.create writes first; then it "dies" before the header and READY.
  u32v[H.creatorStart >> 2] = self.start % 0x1_0000_0000;
  u32v[(H.creatorStart >> 2) + 1] = Math.floor(self.start / 0x1_0000_0000);
  u32v[H.creatorPid >> 2] = self.pid;
  console.log("half-created");
  if (stay) forever();
}

function openOnce(name: string, timeoutMs: number): void {
  const t0 = performance.now();
  try {
    const s = Segment.open(name, { timeoutMs });
    s.close();
    report({ ok: true, ms: performance.now() - t0 });
  } catch (e) {
    report({ ok: false, code: e instanceof ShmError ? e.code : String(e), message: String(e), ms: performance.now() - t0 });
  }
}

function holdLock(seg: string, reserveName?: string): void {
  const s = Segment.open(seg);
  const m = s.memory;
  lockMeta(m, 5_000);
  if (reserveName) {
    // Half-way through a create: an entry claimed as RESERVED, never published.
    const gm: Geometry = {
      totalSize: m.getU64(H.totalSize),
      maxEntries: m.u32[H.maxEntries >> 2],
      maxNameLength: m.u32[H.maxNameLength >> 2],
      entrySize: m.u32[H.entrySize >> 2],
      maxProcesses: m.u32[H.maxProcesses >> 2],
      tableOffset: m.getU64(H.tableOffset),
      heapOffset: m.getU64(H.heapOffset),
      heapSize: m.getU64(H.heapSize),
    };
    const index = table.freeSlot(m, gm);
    const self = me();
    table.reserve(m, gm, index, new TextEncoder().encode(reserveName), {
      kind: 1,
      elemSize: 4,
      typeHash: 0,
      capacity: 16,
      offset: gm.heapOffset + gm.heapSize - 4096,
      size: 4096,
      pid: self.pid,
      start: self.start,
    });
  }
  console.log("locked");
  forever();
}

function createOne(seg: string, entry: string): void {
  const s = Segment.open(seg);
  const t0 = performance.now();
  const a = SharedArray.create(s, entry, u32, 16);
  a.fill(me().pid);
  const ms = performance.now() - t0;
  s.close();
  report({ runtime, ok: true, ms });
}

function attachOnly(seg: string): void {
  Segment.open(seg);
  console.log(`attached ${me().pid}`);
  forever();
}

function attachUntilAlone(seg: string): void {
  const s = Segment.open(seg);
  console.log(`attached ${me().pid}`);
  const deadline = Date.now() + 20_000;
  while (s.processes().length > 1) {
    if (Date.now() > deadline) throw new Error(`still not alone: ${s.processes()}`);
    sleep(5);
  }
  s.close();
  report({ runtime, closed: true });
}

function loadLibrary(): void {
  try {
    Segment.open("shmkit-test-no-such-segment");
    report({ ok: true });
  } catch (e) {
    report({ ok: false, code: e instanceof ShmError ? e.code : String(e), message: e instanceof Error ? e.message : String(e) });
  }
}

const [mode, ...rest] = argv;
switch (mode) {
  case "write-structs":
    writeStructs(rest[0], Number(rest[1]), Number(rest[2]));
    break;
  case "read-structs":
    readStructs(rest[0]);
    break;
  case "atomic":
    atomic(rest[0], rest[1], Number(rest[2]), Number(rest[3]));
    break;
  case "churn":
    churn(rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]), Number(rest[4]));
    break;
  case "race":
    race(rest[0], Number(rest[1]), Number(rest[2]), rest[3]);
    break;
  case "half-create":
    halfCreate(rest[0], rest[1] === "stay");
    break;
  case "open":
    openOnce(rest[0], Number(rest[1]));
    break;
  case "hold-lock":
    holdLock(rest[0], rest[1] === "reserve" ? rest[2] : undefined);
    break;
  case "create-one":
    createOne(rest[0], rest[1]);
    break;
  case "attach":
    attachOnly(rest[0]);
    break;
  case "attach-until-alone":
    attachUntilAlone(rest[0]);
    break;
  case "load-library":
    loadLibrary();
    break;
  case undefined:
    break; // imported, not run
  default:
    throw new Error(`foundation_worker: unknown mode ${mode}`);
}
