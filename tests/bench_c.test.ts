/**
 * The shmkit-vs-C harness (bench/vs_c.ts) works: the C baselines build with zig cc,
 * every C program and one TS workload run with tiny counts and verify what they
 * moved, and a run that loses or changes a message fails loudly (each program has a
 * `corrupt` switch that makes one message wrong). No timing is asserted: performance
 * is measured by `bash scripts/bench.sh --vs-c`, never by unit tests.
 */
import assert from "node:assert/strict";
import { buildC } from "../bench/c/build.ts";
import { runC, tsRtt, tsThroughput } from "../bench/vs_c.ts";
import { expectedSum } from "../bench/vs_c_worker.ts";
import { runtime, test } from "./harness.ts";

const N = 4096;
const WARM = 512;

function checksumHolds(r: Record<string, number>, what: string): void {
  assert.equal(typeof r.checksum, "number", `${what}: no checksum in ${JSON.stringify(r)}`);
  assert.equal(r.checksum, r.expected, `${what}: checksum`);
  assert.ok(Number.isFinite(r.nsPerMsg ?? r.p50), `${what}: no timing in ${JSON.stringify(r)}`);
}

test("bench/c: the C baselines build and every program verifies what it moved", async () => {
  buildC();
  for (const algo of ["spsc", "mpmc", "ring"]) {
    for (const batch of [1, 64]) {
      const r = await runC("throughput8", [algo, "xproc", N, 4096, WARM, batch]);
      checksumHolds(r, `${algo} xproc batch ${batch}`);
      assert.equal(r.expected, expectedSum("f64", N));
    }
    const r64 = await runC("throughput64", [algo, "xproc", N, 4096, WARM, 1]);
    checksumHolds(r64, `${algo} 64-byte`);
    assert.equal(r64.expected, expectedSum("msg64", N), "C and TS agree on the 64-byte checksum");
    checksumHolds(await runC("throughput8", [algo, "same", N, 4096, WARM, 1]), `${algo} same-thread`);
  }
  for (const mode of ["spin", "futex"]) checksumHolds(await runC("pingpong", [mode, 200, 20]), `pingpong ${mode}`);
  for (const kind of ["socket", "pipe"]) checksumHolds(await runC("stream", [kind, 200, 20]), `stream ${kind}`);
}, { timeout: 120_000 });

test("bench/c: a wrong message makes every C program fail", async () => {
  buildC();
  const runs: [string, (string | number)[], RegExp][] = [
    ["throughput8", ["spsc", "xproc", N, 4096, WARM, 1, "corrupt"], /checksum mismatch/],
    ["throughput8", ["mpmc", "xproc", N, 4096, WARM, 64, "corrupt"], /checksum mismatch/],
    ["throughput64", ["ring", "xproc", N, 4096, WARM, 1, "corrupt"], /checksum mismatch/],
    ["throughput8", ["mpmc", "same", N, 4096, WARM, 1, "corrupt"], /checksum mismatch/],
    ["pingpong", ["spin", 200, 20, "corrupt"], /echoed/],
    ["pingpong", ["futex", 200, 20, "corrupt"], /echoed/],
    ["stream", ["socket", 200, 20, "corrupt"], /echoed/],
    ["stream", ["pipe", 200, 20, "corrupt"], /echoed/],
  ];
  for (const [program, args, error] of runs) {
    await assert.rejects(runC(program, args), error, `${program} ${args.join(" ")}`);
  }
}, { timeout: 120_000 });

test("bench/vs_c: the 64-byte message checksum formula matches a direct sum", () => {
  let s = 0;
  for (let i = 0; i < 1000; i++) s += 8 * i + (i & 255) + 21;
  assert.equal(expectedSum("msg64", 1000), s);
});

test(`bench/vs_c: a TS workload (${runtime}, SpscQueue one per call, and a ping-pong) runs and verifies`, async () => {
  buildC(); // the TS side's clock is bench/c/out/libbenchclock.so
  const r = await tsThroughput(runtime, "spsc", "f64", 1, N);
  checksumHolds(r, "TS spsc-1");
  assert.equal(r.expected, expectedSum("f64", N));
  checksumHolds(await tsRtt(runtime, "spin", 200), "TS spin ping-pong");
  await assert.rejects(tsThroughput(runtime, "spsc", "f64", 1, N, true), /checksum mismatch/);
  await assert.rejects(tsRtt(runtime, "futex", 200, 100), /echoed/);
}, { timeout: 120_000 });
