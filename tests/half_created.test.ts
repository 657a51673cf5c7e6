/**
 * Half-created segments (issue 10, item 5): an object whose creator died before it
 * was complete is reported at once (CORRUPT, reason HALF_CREATED), and processes of
 * both runtimes racing `Segment.openOrCreate` on it replace it exactly once: all of
 * them end up in one segment, and a segment that replaced it is never replaced again.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { native } from "../ffi/mod.ts";
import { i32, Segment, SharedAtomic } from "../mod.ts";
import { H } from "../src/segment/format.ts";
import { test, uniqueName } from "./harness.ts";
import { throwsCode } from "./helpers/errors.ts";
import { lastJson, run, type Runtime } from "./helpers/procs.ts";

const WORKER = new URL("./workers/half_created_worker.ts", import.meta.url);

/** Leaves `name` as a dead creator would: empty, or sized with a header that names a dead creator. */
function leaveHalfCreated(name: string, how: "empty" | "dead-creator" | "no-creator"): void {
  const n = native();
  const fd = n.shmOpen(name, 1, 0o600);
  assert.ok(fd >= 0, `shmOpen ${fd}`);
  if (how !== "empty") {
    const size = 1 << 16;
    assert.equal(n.resize(fd, size), 0);
    const address = n.map(fd, size);
    const u32 = new Uint32Array(n.view(address, size));
    if (how === "dead-creator") u32[H.creatorPid >> 2] = 0x3ffffff0;
    u32[H.maxProcesses >> 2] = 64;
    n.unmap(address, size);
  }
  n.close(fd);
}

function leftovers(): string[] {
  return readdirSync("/dev/shm").filter((f) => f.startsWith(".shmkit-replace-"));
}

for (const how of ["empty", "dead-creator", "no-creator"] as const) {
  test(`half-created (${how}): open reports HALF_CREATED at once; openOrCreate replaces it`, () => {
    const name = uniqueName("half");
    leaveHalfCreated(name, how);
    try {
      const t0 = performance.now();
      const e = throwsCode("CORRUPT", () => Segment.open(name, { timeoutMs: 3_000 }), /half-created/);
      assert.equal(e.reason, "HALF_CREATED");
      assert.ok(performance.now() - t0 < 1_000, `took ${performance.now() - t0} ms`);
      const seg = Segment.openOrCreate(name, { size: 1 << 16 });
      SharedAtomic.create(seg, "x", i32, 7);
      seg.close();
      const again = Segment.openOrCreate(name, { size: 1 << 16 }); // a complete segment is opened, not replaced
      assert.equal(SharedAtomic.open(again, "x", i32).load(), 7);
      again.close();
    } finally {
      Segment.unlink(name);
    }
  });
}

test("half-created: a segment with a live attached process is reported but not replaced", () => {
  const name = uniqueName("halflive");
  const seg = Segment.create(name, { size: 1 << 16 });
  try {
    Atomics.store(seg.memory.u32, H.state >> 2, 0);
    seg.memory.u32[H.creatorPid >> 2] = 0;
    throwsCode("CORRUPT", () => Segment.openOrCreate(name, { size: 1 << 16, timeoutMs: 100 }), /half-created/);
    assert.equal(seg.memory.u32[H.state >> 2], 0, "the attached segment must still be behind the name");
    Atomics.store(seg.memory.u32, H.state >> 2, 1);
    Segment.open(name, { timeoutMs: 0 }).close();
  } finally {
    seg.close();
    Segment.unlink(name);
  }
});

interface RaceOut {
  created: boolean;
  pid: number;
}

const RACERS: Runtime[] = ["deno", "bun", "deno", "bun"];
for (const how of ["empty", "dead-creator"] as const) {
  test(
    `half-created (${how}): ${RACERS.length} processes of both runtimes race openOrCreate; one replaces it, all share it`,
    async () => {
      for (let round = 0; round < 2; round++) {
        const name = uniqueName("halfrace");
        leaveHalfCreated(name, how);
        try {
          const startAt = String(Date.now() + 2_500);
          const outs = await Promise.all(
            RACERS.map((rt) => run(rt, WORKER, ["race", name, startAt], 40_000).then((o) => lastJson<RaceOut>(o))),
          );
          const seg = Segment.open(name, { timeoutMs: 0 });
          const n = SharedAtomic.open(seg, "n", i32).load();
          seg.close();
          assert.equal(n, RACERS.length, `round ${round}: only ${n} of ${RACERS.length} racers counted in the final segment`);
          const creators = outs.filter((o) => o.created).length;
          assert.equal(creators, 1, `round ${round}: ${creators} racers think they made the segment`);
        } finally {
          Segment.unlink(name);
        }
      }
      assert.deepEqual(leftovers().filter((f) => existsSync(`/dev/shm/${f}`)), []);
    },
    { timeout: 120_000 },
  );
}

test("half-created: an empty object whose in-place creator holds its flock is waited on (NOT_READY at the deadline), not reported", () => {
  const name = uniqueName("halflock");
  const n = native();
  const fd = n.shmOpen(name, 1, 0o600);
  assert.ok(fd >= 0);
  assert.equal(n.flock(fd, 2), 0); // what a C creator working in place holds until READY
  try {
    const t0 = performance.now();
    throwsCode("NOT_READY", () => Segment.open(name, { timeoutMs: 300 }));
    assert.ok(performance.now() - t0 >= 290);
    throwsCode("NOT_READY", () => Segment.openOrCreate(name, { size: 1 << 16, timeoutMs: 100 }));
    n.flock(fd, 8);
    throwsCode("CORRUPT", () => Segment.open(name, { timeoutMs: 300 }), /half-created/);
  } finally {
    n.close(fd);
    Segment.unlink(name);
  }
});

test("half-created: without O_TMPFILE, create works in place under a flock; a half-created object is then reported, not replaced", () => {
  const n = native();
  const saved = n.shmCreateUnnamed;
  (n as { shmCreateUnnamed: (mode: number) => number }).shmCreateUnnamed = () => -95; // EOPNOTSUPP
  const name = uniqueName("halfinplace");
  try {
    const seg = Segment.create(name, { size: 1 << 16 });
    SharedAtomic.create(seg, "x", i32, 3);
    const other = Segment.open(name, { timeoutMs: 100 });
    assert.equal(SharedAtomic.open(other, "x", i32).load(), 3);
    other.close();
    seg.close();
    throwsCode("EXISTS", () => Segment.create(name, { size: 1 << 16 }));
    Segment.unlink(name);
    leaveHalfCreated(name, "empty");
    throwsCode("CORRUPT", () => Segment.openOrCreate(name, { size: 1 << 16, timeoutMs: 100 }), /half-created/);
  } finally {
    (n as { shmCreateUnnamed: (mode: number) => number }).shmCreateUnnamed = saved;
    Segment.unlink(name);
  }
});
