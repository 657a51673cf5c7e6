/**
 * The wake handshake under its weakened ordering (zig/fence.zig, docs/WAITING.md
 * "Arming"): the native fast paths publish with a release store and pay the full fence
 * only on an armed eventcount; a waiter arms an eventcount once, with membarrier. A
 * lost wake-up would leave a waiter parked: here every wait parks (spin 0) and has a
 * 2 s bound, so one shows as a TIMEOUT failure. Deno and Bun processes, both orders,
 * SpscQueue and Queue, with counts and sums.
 */
import assert from "node:assert/strict";
import { Queue, SharedArray, SpscQueue, u32 } from "../mod.ts";
import { native } from "../ffi/mod.ts";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";
import { lastJson, runAll, type Runtime } from "./helpers/procs.ts";

const WORKER = new URL("./workers/handshake_worker.ts", import.meta.url);
const PAIRS: [Runtime, Runtime][] = [["deno", "bun"], ["bun", "deno"]];
const ROUNDS = 3_000;
const FRESH = 200;
const LITMUS = { fresh: 4_000, armed: 40_000 };

interface Report {
  got: number;
  sum: number;
  light: boolean;
  parks?: number;
  lost?: number;
}

const sumTo = (n: number) => (n * (n - 1)) / 2;

test("handshake: this process publishes lightly (registered for the asymmetric fence)", () => {
  // Where membarrier is refused (a seccomp filter), the fast paths keep the seq_cst store;
  // this machine allows it, so the tests below do exercise the release-store path.
  assert.equal(native().lightPublish(), true);
  assert.equal(native().heavyBarrier(), 0);
});

for (const kind of ["spsc", "mpmc"] as const) {
  for (const [x, y] of PAIRS) {
    test(
      `handshake ${kind}: a ${x}↔${y} ping-pong that parks on every wait loses no wake-up (${ROUNDS} rounds)`,
      segmentTest("hs-pp", 1 << 20, async (seg, name) => {
        for (const q of ["a", "b"]) {
          if (kind === "spsc") SpscQueue.create(seg, q, u32, 4);
          else Queue.create(seg, q, u32, 4);
        }
        const out = await runAll([
          [x, WORKER, [name, "pingpong", "ping", String(ROUNDS), kind]],
          [y, WORKER, [name, "pingpong", "pong", String(ROUNDS), kind]],
        ]);
        const [ping, pong] = out.map((o) => lastJson<Report>(o));
        assert.deepEqual([ping.got, ping.sum, pong.got, pong.sum], [ROUNDS, sumTo(ROUNDS), ROUNDS, sumTo(ROUNDS)]);
        assert.deepEqual([ping.light, pong.light], [true, true]);
      }),
      { timeout: 60_000 },
    );

    test(
      `handshake ${kind}: a ${y} consumer arming ${FRESH} fresh queues races a ${x} producer's light publish`,
      segmentTest("hs-fresh", 8 << 20, async (seg, name) => {
        const make = (q: string) => kind === "spsc" ? SpscQueue.create(seg, q, u32, 2) : Queue.create(seg, q, u32, 2);
        make("ack");
        for (let i = 0; i < FRESH; i++) make(`f${i}`);
        const out = await runAll([
          [x, WORKER, [name, "fresh", "produce", String(FRESH), kind]],
          [y, WORKER, [name, "fresh", "consume", String(FRESH), kind]],
        ]);
        const consumer = lastJson<Report>(out[1]);
        assert.deepEqual([consumer.got, consumer.sum], [FRESH, sumTo(FRESH)]);
      }),
      { timeout: 60_000 },
    );
  }
}

for (const kind of ["spsc", "mpmc"] as const) {
  for (const variant of ["fresh", "armed"] as const) {
    for (const [x, y] of PAIRS) {
      const rounds = LITMUS[variant];
      test(
        `handshake ${kind}: ${rounds} ${
          variant === "fresh" ? "arming" : "armed"
        } registrations by a ${y} consumer racing a ${x} producer's publish: every one that would park is woken`,
        segmentTest("hs-lit", 1 << 20, async (seg, name) => {
          if (kind === "spsc") SpscQueue.create(seg, "q", u32, 4);
          else Queue.create(seg, "q", u32, 4);
          SharedArray.create(seg, "ctl", u32, 2);
          const out = await runAll([
            [x, WORKER, [name, "litmus", "produce", String(rounds), kind, variant]],
            [y, WORKER, [name, "litmus", "consume", String(rounds), kind, variant]],
          ]);
          const c = lastJson<Report>(out[1]);
          console.log(
            `handshake ${kind} ${variant} ${x}→${y}: ${rounds} rounds, ${c.parks} would have parked, ${c.lost} not woken`,
          );
          assert.deepEqual([c.got, c.sum, c.lost], [rounds, (rounds * (rounds + 1)) / 2, 0]);
          assert.ok(c.parks! > 0, "no round raced (the consumer never found the queue empty)");
        }),
        { timeout: 60_000 },
      );
    }
  }
}
