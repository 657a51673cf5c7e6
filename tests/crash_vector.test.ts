/**
 * Vector under crashes (issue 10, docs/RELIABILITY.md "Vector holes"): an appender of
 * either runtime killed between reserving an index and publishing it leaves a hole
 * that the next appender or `length` read skips (counted in `stats.holes`), instead of
 * stopping `length` for good; random kills of Deno and Bun appenders lose nothing
 * acknowledged and duplicate nothing.
 */
import assert from "node:assert/strict";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";
import { chaos, type ChaosSlot, killAt, SOAK, startWorker } from "./helpers/crash.ts";
import { MAX_IDS, PER_ID } from "./helpers/crash_worker.ts";
import { SharedArray, u32, Vector } from "../mod.ts";
import type { Runtime } from "./helpers/procs.ts";

const WORKER = new URL("./workers/crash_vector.ts", import.meta.url);
const RUNTIMES: Runtime[] = ["deno", "bun"];

/** Reads `length` until it reaches `n` (a stalled prefix is skipped after 2 ms), or fails after 5 s. */
function lengthReaches(v: Vector<number>, n: number): void {
  const end = Date.now() + 5_000;
  while (v.length < n) if (Date.now() > end) throw new Error(`wedged: length ${v.length}, reserved ${v.reserved}`);
}

for (const rt of RUNTIMES) {
  test(
    `crash Vector: a ${rt} appender killed between reserving and publishing leaves a hole, not a stopped length`,
    segmentTest("crash-vec", 1 << 20, async (seg, name) => {
      const v = Vector.create(seg, "v", u32, 8);
      v.push(1);
      await killAt(rt, WORKER, [name, "append1", "99"], "vector.push.reserved");
      assert.equal(v.push(3), 2);
      lengthReaches(v, 3);
      assert.equal(v.get(1), undefined);
      assert.equal(v.has(1), false);
      assert.equal(v.isHole(1), true);
      assert.equal(v.stats.holes, 1);
      assert.deepEqual(v.toArray(), [1, 3]);
      assert.deepEqual([...v], [1, 3]);
      v.push(4);
      assert.equal(v.length, 4);
      assert.equal(v.stats.holes, 1);
    }),
    { timeout: 60_000 },
  );
}

test(
  "crash Vector: Deno and Bun appenders SIGKILLed at random, restarted: nothing acknowledged lost, nothing twice",
  segmentTest("crash-vecr", 16 << 20, async (seg, name) => {
    const cap = 1 << 20;
    const v = Vector.create(seg, "v", u32, cap);
    const acked = SharedArray.create(seg, "acked", u32, MAX_IDS).view() as Uint32Array;
    let nextId = 0;
    const slot = (first: Runtime): ChaosSlot => ({
      start: (n) => {
        if (nextId >= MAX_IDS) throw new Error("too many appender incarnations");
        // Every third incarnation stops inside an append (a random pass) and is killed there.
        const env: Record<string, string> = n % 3 === 2
          ? { SHMKIT_TEST_PAUSE_AT: `vector.push.reserved:${1 + Math.floor(Math.random() * 500)}` }
          : {};
        return startWorker(
          (n & 1) === 0 ? first : first === "deno" ? "bun" : "deno",
          WORKER,
          [name, "append", String(nextId++)],
          env,
        );
      },
    });
    const r = await chaos([slot("deno"), slot("bun"), slot("bun")], 4_000, 150);
    assert.deepEqual(r.errors, []);
    const reserved = v.reserved;
    lengthReaches(v, reserved);
    const seen = new Uint8Array(MAX_IDS * PER_ID);
    let published = 0;
    for (let i = 0; i < reserved; i++) {
      const x = v.get(i);
      if (x === undefined) continue;
      published++;
      seen[x]++;
    }
    let missing = 0;
    let duplicates = 0;
    for (let id = 0; id < nextId; id++) {
      for (let s = 0; s < PER_ID; s++) {
        if (seen[id * PER_ID + s] > 1) duplicates++;
        if (s < acked[id] && seen[id * PER_ID + s] === 0) missing++;
      }
    }
    const holes = v.stats.holes;
    console.log(
      `crash Vector: ${r.kills} kills, ${published} published, ${holes} holes, missing ${missing}, duplicates ${duplicates}${
        SOAK > 1 ? " (soak)" : ""
      }`,
    );
    assert.equal(duplicates, 0);
    assert.equal(missing, 0);
    assert.equal(published + holes, reserved);
    assert.ok(holes <= r.kills, `${holes} holes after ${r.kills} kills`);
    assert.ok(holes > 0, "no kill landed in an append: the hole path was not exercised");
  }),
  { timeout: 120_000 * SOAK },
);
