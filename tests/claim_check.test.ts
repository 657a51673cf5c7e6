/**
 * Queue's native polls that find nothing (an empty pop, a full push) read the other
 * side's counter for a dead claim only when this handle's last read was more than
 * ~25 µs ago, and always right before a wait parks (zig/fastpath.zig `checkDue`,
 * docs/RELIABILITY.md "No wedge"). These play the dead process by moving a counter with
 * no claim record naming the position, as a process killed between its CAS and its
 * publish leaves it, and check that every kind of poller still repairs: a spinning
 * tryPop, one polling every few ms (the second poll repairs, as before the gate),
 * popWait / popAsync / select, and pushWait / pushAsync on a full queue, arriving right
 * after a check (within the gap, where a wait that parked without checking would sleep
 * forever, since a dead holder sends no wake-up). Numeric elements and structs (the
 * byte-copy calls) alike. Cross-process kills of native claims: tests/crash.test.ts
 * "SIGKILLed at random".
 */
import assert from "node:assert/strict";
import { Queue, type Segment, select, u32 } from "../mod.ts";
import { test } from "./harness.ts";
import { Particle, particle } from "./helpers/particle.ts";
import { queueGeometry } from "./helpers/queue_geometry.ts";
import { segmentTest } from "./helpers/segments.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WAIT = { timeout: 2_000, spin: 0 };
/**
 * Runs a wait that must not hang: the repair takes the 2 ms stall clock, a wait that
 * parked without seeing the claim sleeps until its timeout (a correctness bound, 100x
 * the expected time, not a performance claim).
 */
async function prompt<T>(what: string, wait: () => T | Promise<T>, boundMs = 500): Promise<T> {
  const t0 = performance.now();
  const r = await wait();
  const ms = performance.now() - t0;
  assert.ok(ms < boundMs, `${what} took ${ms.toFixed(0)} ms: it parked without seeing the dead claim`);
  return r;
}

const VARIANTS = [
  {
    name: "u32",
    make: (seg: Segment) => Queue.create(seg, "q", u32, 4) as Queue<unknown>,
    wrap: (v: number) => v,
    id: (x: unknown) => x,
  },
  {
    name: "struct",
    make: (seg: Segment) => Queue.create(seg, "q", Particle, 4) as Queue<unknown>,
    wrap: (v: number) => particle(v),
    id: (x: unknown) => (x as { id: number }).id,
  },
];

for (const v of VARIANTS) {
  test(
    `Queue<${v.name}> native polls: a dead producer's claim with an element behind it is repaired for every kind of consumer`,
    segmentTest("cc", 1 << 20, async (seg) => {
      const q = v.make(seg);
      const i32 = seg.memory.i32, g = queueGeometry(seg, q);
      let next = 100, repaired = 0;
      /** An empty pop (it reads the counter: the handle's check is dated now), a dead claim, an element behind it. */
      const deadClaimBehindCheck = () => {
        assert.equal(q.tryPop(), undefined);
        Atomics.add(i32, g.enq, 1);
        q.push(v.wrap(next));
        return next++;
      };
      const check = (got: unknown, want: number) => {
        assert.equal(v.id(got), want);
        assert.equal(q.stats.recoveredPushes, ++repaired);
        assert.equal(q.size, 0);
      };

      // A spinning consumer.
      let want = deadClaimBehindCheck();
      const end = Date.now() + 2_000;
      let got: unknown;
      while ((got = q.tryPop()) === undefined && Date.now() < end);
      check(got, want);

      // One that polls every 5 ms: each poll checks (the last check is older than the gap),
      // so the first sees the claim and starts the 2 ms stall clock, the second repairs.
      want = deadClaimBehindCheck();
      let polls = 0;
      do {
        await sleep(5);
        polls++;
      } while ((got = q.tryPop()) === undefined && polls < 10);
      check(got, want);
      assert.equal(polls, 2, "the second poll repairs");

      // Waits that arrive within the gap of the last check: their parking poll checks. (Not
      // every arrival is within it: without that check, about one in five hangs here.)
      for (let i = 0; i < 20; i++) {
        want = deadClaimBehindCheck();
        check(await prompt("popWait", () => q.popWait(WAIT)), want);
        want = deadClaimBehindCheck();
        check(await prompt("popAsync", () => q.popAsync(WAIT)), want);
        if (i >= 3) continue; // select polls between park slices, each ASYNC_SLICE_MS long
        want = deadClaimBehindCheck();
        check((await prompt("select", () => select([q], { timeout: 5_000 }), 2_000)).value, want);
      }
    }),
  );

  test(
    `Queue<${v.name}> native polls: a dead consumer's slot on a full queue comes back to pushWait / pushAsync`,
    segmentTest("cc", 1 << 20, async (seg) => {
      const q = v.make(seg);
      const i32 = seg.memory.i32, g = queueGeometry(seg, q);
      let next = 0, oldest = 0;
      while (q.tryPush(v.wrap(next))) next++; // full (the full push read the counter)
      for (let i = 0; i < 6; i++) {
        // The consumer of the oldest position claimed it and died: its element is lost.
        Atomics.add(i32, g.deq, 1);
        oldest++;
        const x = v.wrap(next++);
        if (i % 2 === 0) await prompt("pushWait", () => q.pushWait(x, WAIT));
        else await prompt("pushAsync", () => q.pushAsync(x, WAIT));
        assert.equal(q.stats.recoveredPops, i + 1);
        assert.equal(q.tryPush(v.wrap(999)), false, "full again: one slot came back");
      }
      const left: number[] = [];
      for (let x; (x = q.tryPop()) !== undefined;) left.push(v.id(x) as number);
      assert.deepEqual(left, [oldest, oldest + 1, oldest + 2, oldest + 3]);
      assert.equal(next - oldest, 4);
    }),
  );
}
