/**
 * Corrupt and hostile segments: every header field, name table entry and structure
 * header that open/list/open-entry trust is altered in turn, and the result must be a
 * ShmError (CORRUPT where the damage is detectable), never another exception, a crash
 * or a read outside the mapping. Then a seeded fuzz of random byte mutations.
 *
 * Bytes are changed through a second, raw mapping made with the native API, so the
 * library under test only ever sees the damage through its normal open path.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  f64,
  i32,
  i64AsNumber,
  Segment,
  SharedArray,
  SharedAtomic,
  ShmError,
  type ShmErrorCode,
  string,
  struct,
  u32,
  u8,
} from "../mod.ts";
import { native } from "../ffi/mod.ts";
import { E, EntryState, H, S } from "../src/segment/format.ts";
import { flag, test, uniqueName } from "./harness.ts";
import { throwsCode } from "./helpers/errors.ts";

/** A read-write mapping of a segment made behind the library's back. */
class Raw {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly size: number;
  readonly #address: number;

  constructor(name: string) {
    const n = native();
    const fd = n.shmOpen(name, 0, 0);
    assert.ok(fd >= 0, `raw open of ${name}: ${fd}`);
    this.size = n.size(fd);
    this.#address = n.map(fd, this.size);
    n.close(fd);
    assert.ok(this.#address > 0);
    const buf = n.view(this.#address, this.size);
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf);
  }

  getU64(at: number): number {
    return this.u32[at >> 2] + this.u32[(at >> 2) + 1] * 0x1_0000_0000;
  }

  setU64(at: number, v: number): void {
    this.u32[at >> 2] = v % 0x1_0000_0000;
    this.u32[(at >> 2) + 1] = Math.floor(v / 0x1_0000_0000);
  }

  get tableOffset(): number {
    return this.getU64(H.tableOffset);
  }

  get heapOffset(): number {
    return this.getU64(H.heapOffset);
  }

  entry(i: number): number {
    return this.tableOffset + i * this.u32[H.entrySize >> 2];
  }

  /** Byte offset of the entry named `name`. */
  entryNamed(name: string): number {
    const bytes = new TextEncoder().encode(name);
    for (let i = 0; i < this.u32[H.maxEntries >> 2]; i++) {
      const at = this.entry(i);
      if (this.u32[(at + E.state) >> 2] !== EntryState.READY || this.u32[(at + E.nameLength) >> 2] !== bytes.length) continue;
      if (bytes.every((b, k) => this.u8[at + E.name + k] === b)) return at;
    }
    throw new Error(`no entry ${name}`);
  }

  close(): void {
    native().unmap(this.#address, this.size);
  }
}

const Point = struct({ x: f64, y: f64, id: u32 });
const SIZE = 1 << 16;

/** A valid segment with a few structures; `fn` damages it through `raw`. */
function withDamaged(fn: (raw: Raw, name: string, seg: Segment) => void): void {
  const name = uniqueName("corrupt");
  const seg = Segment.create(name, { size: SIZE, maxEntries: 8, maxNameLength: 32, maxProcesses: 4 });
  const raw = new Raw(name);
  try {
    SharedArray.create(seg, "xs", f64, 10).fill(1.5);
    SharedArray.create(seg, "pts", Point, 4).set(3, { x: 1, y: 2, id: 3 });
    SharedArray.create(seg, "bytes", u8, 100);
    SharedAtomic.create(seg, "n", i32, 5);
    fn(raw, name, seg);
  } finally {
    raw.close();
    seg.close();
    Segment.unlink(name);
  }
}

/** Alters one header field, then checks that a fresh open refuses the segment. */
function headerCase(what: string, damage: (raw: Raw) => void, code: ShmErrorCode = "CORRUPT", message?: RegExp): void {
  test(`corrupt header: ${what} → ${code}`, () => {
    withDamaged((raw, name) => {
      damage(raw);
      throwsCode(code, () => Segment.open(name, { timeoutMs: 50 }), message);
      throwsCode(code, () => Segment.openOrCreate(name, { size: SIZE, timeoutMs: 50 }), message);
    });
  });
}

headerCase("bad magic", (r) => (r.u32[H.magic >> 2] = 0x12345678), "CORRUPT", /magic/);
headerCase("magic zeroed (not a shmkit segment)", (r) => r.u8.fill(0, 0, 4), "CORRUPT", /magic/);
headerCase("wrong format version (2)", (r) => (r.u32[H.version >> 2] = 2), "CORRUPT", /version 2/);
headerCase("wrong format version (0)", (r) => (r.u32[H.version >> 2] = 0), "CORRUPT", /version/);
headerCase("wrong header size", (r) => (r.u32[H.headerSize >> 2] = 128), "CORRUPT", /header size/);
headerCase("totalSize larger than the object", (r) => r.setU64(H.totalSize, SIZE + 4096), "CORRUPT", /bytes/);
headerCase("totalSize smaller than the object", (r) => r.setU64(H.totalSize, SIZE - 4096), "CORRUPT", /bytes/);
headerCase("totalSize 2^63", (r) => r.setU64(H.totalSize, 2 ** 63), "CORRUPT");
headerCase("maxEntries 0", (r) => (r.u32[H.maxEntries >> 2] = 0), "CORRUPT", /maxEntries/);
headerCase("maxEntries huge (2^32-1)", (r) => (r.u32[H.maxEntries >> 2] = 0xffffffff), "CORRUPT", /maxEntries/);
headerCase(
  "maxEntries within limits but not matching the geometry",
  (r) => (r.u32[H.maxEntries >> 2] = 9),
  "CORRUPT",
  /geometry/,
);
headerCase("maxEntries so large the table passes the end", (r) => (r.u32[H.maxEntries >> 2] = 1 << 20), "CORRUPT");
headerCase("maxNameLength 0", (r) => (r.u32[H.maxNameLength >> 2] = 0), "CORRUPT", /maxNameLength/);
headerCase("maxNameLength huge", (r) => (r.u32[H.maxNameLength >> 2] = 1 << 30), "CORRUPT", /maxNameLength/);
headerCase(
  "maxNameLength changed (entries would be read at the wrong stride)",
  (r) => (r.u32[H.maxNameLength >> 2] = 100),
  "CORRUPT",
);
headerCase("maxProcesses 0", (r) => (r.u32[H.maxProcesses >> 2] = 0), "CORRUPT", /maxProcesses/);
headerCase("maxProcesses huge", (r) => (r.u32[H.maxProcesses >> 2] = 0xffffffff), "CORRUPT", /maxProcesses/);
headerCase("maxProcesses changed (registry would overlap the table)", (r) => (r.u32[H.maxProcesses >> 2] = 64), "CORRUPT");
headerCase("entrySize altered", (r) => (r.u32[H.entrySize >> 2] += 64), "CORRUPT", /geometry/);
headerCase("tableOffset altered", (r) => r.setU64(H.tableOffset, r.tableOffset + 64), "CORRUPT", /geometry/);
headerCase("tableOffset pointing past the end", (r) => r.setU64(H.tableOffset, SIZE * 4), "CORRUPT", /geometry/);
headerCase("heapOffset altered", (r) => r.setU64(H.heapOffset, r.heapOffset - 64), "CORRUPT", /geometry/);
headerCase("heapOffset pointing past the end", (r) => r.setU64(H.heapOffset, SIZE + 64), "CORRUPT", /geometry/);
headerCase("heapSize larger than the mapping", (r) => r.setU64(H.heapSize, SIZE), "CORRUPT", /geometry/);
headerCase("heapSize 0", (r) => r.setU64(H.heapSize, 0), "CORRUPT", /geometry/);
headerCase("unknown state (7)", (r) => (r.u32[H.state >> 2] = 7), "CORRUPT", /state 7/);
headerCase("unknown state (0xffffffff)", (r) => (r.u32[H.state >> 2] = 0xffffffff), "CORRUPT", /state/);
headerCase(
  "state INITIALISING with no creator recorded → half-created at once",
  (r) => {
    r.u32[H.state >> 2] = 0;
    r.u32[H.creatorPid >> 2] = 0;
  },
  "CORRUPT",
  /half-created/,
);
headerCase(
  "state INITIALISING with a creator pid that does not exist",
  (r) => {
    r.u32[H.state >> 2] = 0;
    r.u32[H.creatorPid >> 2] = 0x3ffffff0;
  },
  "CORRUPT",
  /died/,
);
test("corrupt header: everything zero → CORRUPT (HALF_CREATED) at once; openOrCreate replaces it", () => {
  withDamaged((raw, name) => {
    raw.u8.fill(0);
    const t0 = performance.now();
    const e = throwsCode("CORRUPT", () => Segment.open(name, { timeoutMs: 2_000 }), /half-created/);
    assert.equal(e.reason, "HALF_CREATED");
    assert.ok(performance.now() - t0 < 1_000);
    throwsCode("CORRUPT", () => Segment.openOrCreate(name, { size: SIZE, replaceHalfCreated: false }));
    const fresh = Segment.openOrCreate(name, { size: SIZE });
    assert.deepEqual(fresh.list(), []);
    fresh.close();
    assert.equal(raw.u32[H.magic >> 2], 0, "the replaced object was not written");
  });
});
headerCase("everything 0xff", (r) => r.u8.fill(0xff), "CORRUPT");

test("corrupt header: an object truncated below the header's totalSize → CORRUPT, never SIGBUS", () => {
  withDamaged((_raw, name) => {
    const n = native();
    const fd = n.shmOpen(name, 0, 0);
    assert.equal(n.resize(fd, 8192), 0);
    n.close(fd);
    throwsCode("CORRUPT", () => Segment.open(name, { timeoutMs: 50 }), /bytes/);
  });
});

test("corrupt header: an object whose size is not a multiple of 8 → CORRUPT", () => {
  withDamaged((_raw, name) => {
    const n = native();
    const fd = n.shmOpen(name, 0, 0);
    assert.equal(n.resize(fd, 4100), 0);
    n.close(fd);
    throwsCode("CORRUPT", () => Segment.open(name, { timeoutMs: 50 }));
  });
});

test("corrupt header: an object smaller than a header → CORRUPT after the timeout", () => {
  const name = uniqueName("tiny");
  const n = native();
  const fd = n.shmOpen(name, 1, 0o600);
  assert.equal(n.resize(fd, 128), 0);
  n.close(fd);
  try {
    throwsCode("CORRUPT", () => Segment.open(name, { timeoutMs: 50 }));
  } finally {
    Segment.unlink(name);
  }
});

test("corrupt header: a foreign file of random bytes → CORRUPT", () => {
  const name = uniqueName("foreign");
  const n = native();
  const fd = n.shmOpen(name, 1, 0o600);
  assert.equal(n.resize(fd, 8192), 0);
  n.close(fd);
  try {
    const raw = new Raw(name);
    let s = 0x9e3779b9;
    for (let i = 0; i < raw.u32.length; i++) raw.u32[i] = s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) >>> 0;
    raw.close();
    throwsCode("CORRUPT", () => Segment.open(name, { timeoutMs: 50 }));
  } finally {
    Segment.unlink(name);
  }
});

// ---------------------------------------------------------------- name table entries

/** Alters the entry of "xs" through the raw mapping; list and open must refuse it. */
function entryCase(what: string, damage: (raw: Raw, at: number) => void, openCode: ShmErrorCode = "CORRUPT"): void {
  test(`corrupt entry: ${what} → CORRUPT from list, find and open`, () => {
    withDamaged((raw, name) => {
      damage(raw, raw.entryNamed("xs"));
      // Both a fresh open and the creator's handle see it (the header itself is fine).
      using seg = Segment.open(name);
      throwsCode("CORRUPT", () => seg.list(), /entry/);
      throwsCode("CORRUPT", () => seg.stats());
      // (With its name length damaged the entry no longer matches "xs" at all: NOT_FOUND.)
      throwsCode(openCode, () => SharedArray.open(seg, "xs", f64));
      // Allocation also reads every extent: it refuses rather than placing over garbage.
      throwsCode("CORRUPT", () => SharedArray.create(seg, "new", u8, 1));
      // Other entries stay reachable by name.
      assert.deepEqual(SharedArray.open(seg, "pts", Point).get(3), { x: 1, y: 2, id: 3 });
      assert.equal(SharedAtomic.open(seg, "n", i32).load(), 5);
    });
  });
}

entryCase("offset past the end of the segment", (r, at) => r.setU64(at + E.offset, SIZE));
entryCase("offset far beyond the mapping (2^40)", (r, at) => r.setU64(at + E.offset, 2 ** 40));
entryCase("offset inside the header", (r, at) => r.setU64(at + E.offset, 0));
entryCase("offset inside the name table", (r, at) => r.setU64(at + E.offset, r.tableOffset));
entryCase("offset not 64-byte aligned", (r, at) => r.setU64(at + E.offset, r.getU64(at + E.offset) + 8));
entryCase("size running past the end", (r, at) => r.setU64(at + E.size, SIZE));
entryCase("size 2^53", (r, at) => r.setU64(at + E.size, 2 ** 53));
entryCase("size 0", (r, at) => r.setU64(at + E.size, 0));
entryCase("offset + size just past the end", (r, at) => {
  r.setU64(at + E.offset, SIZE - 128);
  r.setU64(at + E.size, 192);
});
entryCase("name length 0", (r, at) => (r.u32[(at + E.nameLength) >> 2] = 0), "NOT_FOUND");
entryCase("name length larger than maxNameLength", (r, at) => (r.u32[(at + E.nameLength) >> 2] = 33), "NOT_FOUND");
entryCase("name length 2^32-1", (r, at) => (r.u32[(at + E.nameLength) >> 2] = 0xffffffff), "NOT_FOUND");

test("corrupt entry: an unknown entry state → CORRUPT from stats and create; list skips it", () => {
  withDamaged((raw, name) => {
    raw.u32[(raw.entryNamed("xs") + E.state) >> 2] = 9;
    using seg = Segment.open(name);
    throwsCode("CORRUPT", () => seg.stats(), /state 9/);
    throwsCode("CORRUPT", () => SharedArray.create(seg, "new", u8, 1));
    assert.deepEqual(seg.list().map((e) => e.name).sort(), ["bytes", "n", "pts"]);
    throwsCode("NOT_FOUND", () => SharedArray.open(seg, "xs", f64));
  });
});

test("corrupt entry: an entry capacity that does not fit its block → CORRUPT", () => {
  withDamaged((raw, name) => {
    const at = raw.entryNamed("xs");
    const block = raw.getU64(at + E.offset);
    // Entry and block header agree, but 1000 f64 do not fit a 192-byte block.
    raw.setU64(at + E.capacity, 1000);
    raw.setU64(block + S.capacity, 1000);
    using seg = Segment.open(name);
    throwsCode("CORRUPT", () => SharedArray.open(seg, "xs", f64), /does not fit/);
    raw.setU64(at + E.capacity, 2 ** 60);
    raw.setU64(block + S.capacity, 2 ** 60);
    throwsCode("CORRUPT", () => SharedArray.open(seg, "xs", f64));
  });
});

// ---------------------------------------------------------------- structure block headers

function blockCase(what: string, damage: (raw: Raw, block: number) => void): void {
  test(`corrupt structure header: ${what} → CORRUPT on open`, () => {
    withDamaged((raw, name) => {
      const block = raw.getU64(raw.entryNamed("pts") + E.offset);
      damage(raw, block);
      using seg = Segment.open(name);
      assert.ok(seg.list().some((e) => e.name === "pts")); // the entry itself is fine
      throwsCode("CORRUPT", () => SharedArray.open(seg, "pts", Point), /does not match/);
      throwsCode("CORRUPT", () => SharedArray.openOrCreate(seg, "pts", Point, 4));
    });
  });
}

blockCase("kind differs from the entry", (r, b) => (r.u32[(b + S.kind) >> 2] = 2));
blockCase("element size differs", (r, b) => (r.u32[(b + S.elemSize) >> 2] += 8));
blockCase("type hash differs", (r, b) => (r.u32[(b + S.typeHash) >> 2] ^= 1));
blockCase("data offset moved (would read outside the block)", (r, b) => (r.u32[(b + S.dataOffset) >> 2] = 1 << 20));
blockCase("data offset moved by one line", (r, b) => (r.u32[(b + S.dataOffset) >> 2] += 64));
blockCase("capacity differs", (r, b) => r.setU64(b + S.capacity, 5));
blockCase("header zeroed", (r, b) => r.u8.fill(0, b, b + 64));

test("corrupt structure header: an atomic whose block disagrees → CORRUPT", () => {
  withDamaged((raw, name) => {
    const block = raw.getU64(raw.entryNamed("n") + E.offset);
    raw.u32[(block + S.kind) >> 2] = 1;
    using seg = Segment.open(name);
    throwsCode("CORRUPT", () => SharedAtomic.open(seg, "n", i32));
  });
});

test("corrupt: a handle opened before the damage keeps working on its own block", () => {
  withDamaged((raw, _name, seg) => {
    const xs = SharedArray.open(seg, "xs", f64);
    raw.u32[H.magic >> 2] = 0;
    raw.setU64(raw.entryNamed("xs") + E.offset, SIZE * 2);
    assert.equal(xs.get(9), 1.5); // placement was validated at open; it does not re-read the table
    throwsCode("CORRUPT", () => seg.list());
  });
});

// ---------------------------------------------------------------- fuzz

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with SHMKIT_FUZZ_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function envNumber(name: string): number | undefined {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const v = g.Deno ? g.Deno.env.get(name) : g.process.env[name];
  return v ? Number(v) : undefined;
}

const FUZZ_TYPES = {
  xs: f64,
  pts: Point,
  bytes: u8,
  names: string(8),
} as const;

test(
  "corrupt: fuzz — random byte mutations of header, registry, table and structure headers give success or ShmError only",
  () => {
    const seed = envNumber("SHMKIT_FUZZ_SEED") ?? 0x5eed_2024;
    const iterations = envNumber("SHMKIT_FUZZ_ITERATIONS") ?? (flag("SHMKIT_SOAK") ? 200_000 : 3_000);
    const budgetMs = flag("SHMKIT_SOAK") ? 600_000 : 8_000;
    const random = mulberry32(seed);
    const opts = { size: SIZE, maxEntries: 8, maxNameLength: 32, maxProcesses: 4 };

    let name = uniqueName("fuzz");
    const seg = Segment.create(name, opts);
    for (const [n, t] of Object.entries(FUZZ_TYPES)) SharedArray.create(seg, n, t as typeof u8, 6);
    SharedArray.open(seg, "names", string(8)).set(5, "héllo");
    SharedAtomic.create(seg, "a32", i32, 7);
    SharedAtomic.create(seg, "a64", i64AsNumber, 2 ** 40);
    // Mutation targets: everything before the heap (header, registry, table) and every block header.
    const heapOffset = seg.stats().size - seg.stats().heapSize;
    const blocks = seg.list().map((e) => e.offset);
    const targets: number[] = [];
    for (let i = 0; i < heapOffset; i++) {
      // The lock word: a random pid there may belong to a live process, which by design makes
      // every caller wait out the 10 s lock timeout (TIMEOUT, tested elsewhere). Skip it.
      if (i >= H.lockOwner && i < H.lockOwner + 4) continue;
      targets.push(i);
    }
    for (const b of blocks) for (let i = 0; i < S.size; i++) targets.push(b + i);
    let raw = new Raw(name);
    const snapshot = raw.u8.slice();
    seg.close(); // the snapshot still records this process in the registry, as a live attacher would

    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const t0 = performance.now();
    let done = 0;
    try {
      for (; done < iterations && performance.now() - t0 < budgetMs; done++) {
        if (!existsSync(`/dev/shm/${name}`)) {
          // A mutation set the unlink-on-last-close flag and this process's close removed the
          // name: continue on a fresh object with the same bytes.
          raw.close();
          name = uniqueName("fuzz");
          const n = native();
          const fd = n.shmOpen(name, 1, 0o600);
          n.resize(fd, SIZE);
          n.close(fd);
          raw = new Raw(name);
        }
        raw.u8.set(snapshot);
        const mutations: string[] = [];
        const k = 1 + Math.floor(random() * 4);
        for (let j = 0; j < k; j++) {
          const at = targets[Math.floor(random() * targets.length)];
          const r = random();
          if (r < 0.15) {
            // A whole aligned 32-bit field: small, huge, or just past a boundary.
            const word = at & ~3;
            const choices = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, raw.u32[word >> 2] + 64, raw.u32[word >> 2] - 64];
            const value = choices[Math.floor(random() * choices.length)] >>> 0;
            raw.u32[word >> 2] = value;
            mutations.push(`u32[${word}]=${value}`);
          } else {
            const value = r < 0.5
              ? raw.u8[at] ^ (1 << Math.floor(random() * 8))
              : r < 0.65
              ? 0
              : r < 0.8
              ? 0xff
              : Math.floor(random() * 256);
            raw.u8[at] = value;
            mutations.push(`[${at}]=${value}`);
          }
        }
        const where = `seed ${seed} iteration ${done}: ${mutations.join(" ")}`;
        let s: Segment | undefined;
        try {
          s = Segment.open(name, { timeoutMs: 5 });
          const listed = s.list();
          s.stats();
          s.processes();
          for (const e of listed) {
            s.find(e.name);
            const type = (FUZZ_TYPES as unknown as Record<string, typeof u8>)[e.name];
            try {
              if (e.name === "a32") SharedAtomic.open(s, e.name, i32).load();
              else if (e.name === "a64") SharedAtomic.open(s, e.name, i64AsNumber).load();
              else if (type) {
                const a = SharedArray.open(s, e.name, type);
                a.toArray();
                if (a.length > 0) a.set(a.length - 1, a.get(0));
              } else SharedArray.open(s, e.name, u8).get(0);
            } catch (err) {
              if (!(err instanceof ShmError)) throw err;
              count(`entry ${err.code}`);
            }
          }
          // Allocation over whatever the table now says.
          SharedArray.create(s, "fuzz-new", u8, 16).fill(1);
          s.remove("fuzz-new");
          count("ok");
        } catch (err) {
          if (!(err instanceof ShmError)) {
            assert.fail(`${where}: threw ${err instanceof Error ? err.stack : String(err)} instead of a ShmError`);
          }
          count(err.code);
          if (flag("SHMKIT_FUZZ_VERBOSE")) console.log(`  ${where}: ${err.code} ${err.message}`);
        } finally {
          try {
            s?.close();
          } catch (err) {
            if (!(err instanceof ShmError)) assert.fail(`${where}: close threw ${err}`);
          }
        }
      }
    } finally {
      raw.close();
      Segment.unlink(name);
    }
    const ms = performance.now() - t0;
    console.log(
      `  fuzz: seed 0x${seed.toString(16)}, ${done} iterations in ${ms.toFixed(0)} ms: ` +
        [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", "),
    );
    assert.ok(done >= 100, `only ${done} fuzz iterations fit the time budget`);
  },
  { timeout: 60_000 },
);
