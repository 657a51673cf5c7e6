/**
 * The transit windows of issue 10 (docs/RELIABILITY.md, "Transit"): a process of either
 * runtime killed while it holds a Stack node or an ObjectPool slot between the free
 * ring and the structure (and a ring putter killed after its claim record, before the
 * CAS another putter then wins) costs no capacity, and nothing is handed out twice.
 * Each kill is certain: the worker stops at a pause point (src/structures/pause.ts).
 */
import assert from "node:assert/strict";
import { test } from "./harness.ts";
import { segmentTest } from "./helpers/segments.ts";
import { killAt, startWorker } from "./helpers/crash.ts";
import { ObjectPool, SharedAtomic, Stack, u32 } from "../mod.ts";
import type { Runtime } from "./helpers/procs.ts";

const INDEX_WORKER = new URL("./workers/crash_index.ts", import.meta.url);
const RUNTIMES: Runtime[] = ["deno", "bun"];

/** Acquires until `cap` distinct slots are held (5 s bound), then checks that no further slot appears for 20 ms. */
function acquireAll(p: ObjectPool<number>, cap: number): number[] {
  const held = new Map<number, number>();
  const end = Date.now() + 5_000;
  while (held.size < cap && Date.now() < end) {
    const h = p.acquire();
    if (h === undefined) continue;
    const s = p.slotOf(h);
    assert.equal(held.has(s), false, `slot ${s} handed out twice`);
    held.set(s, h);
  }
  assert.equal(held.size, cap, "capacity lost");
  const still = Date.now() + 20;
  while (Date.now() < still) assert.equal(p.acquire(), undefined, "a slot handed out twice");
  return [...held.values()];
}

/** Pushes until `cap` values are on the stack (5 s bound), checks it stays full for 20 ms, pops them all. */
function fillAndDrain(s: Stack<number>, cap: number, base: number): number[] {
  const end = Date.now() + 5_000;
  let pushed = 0;
  while (pushed < cap && Date.now() < end) if (s.tryPush(base + pushed)) pushed++;
  assert.equal(pushed, cap, "capacity lost");
  const still = Date.now() + 20;
  while (Date.now() < still) assert.equal(s.tryPush(0), false, "a node on the list and in the free ring");
  const out: number[] = [];
  for (let v = s.tryPop(); v !== undefined; v = s.tryPop()) out.push(v);
  return out;
}

for (const rt of RUNTIMES) {
  test(
    `crash ObjectPool transit: a ${rt} process killed between the ring and the slot state costs no slot`,
    segmentTest("crash-pt", 1 << 20, async (seg, name) => {
      const p = ObjectPool.create(seg, "p", u32, 4);
      const cases: [string, string, boolean][] = [
        ["pool.acquire.taken", "acquire1", true], // after the ring take, before IN_USE: put back
        ["pool.release.freed", "release1", true], // after the state CAS, before the ring put: put back
        ["ring.put.recorded", "release1", true], // put recorded, CAS never made (and won by another putter below)
        ["ring.put.claimed", "release1", false], // a dead putter: the ring repair returns it (not a transit)
      ];
      let transit = 0;
      for (const [point, role, counted] of cases) {
        await killAt(rt, INDEX_WORKER, [name, role], point);
        if (point === "ring.put.recorded") p.release(p.acquire()!); // this put wins the dead putter's position
        for (const h of acquireAll(p, 4)) p.release(h);
        if (counted) transit++;
        assert.equal(p.available, 4);
      }
      assert.equal(p.stats.recovered, transit + 1);
    }),
    { timeout: 60_000 },
  );

  test(
    `crash Stack transit: a ${rt} process killed between the ring and the list costs no node, duplicates none`,
    segmentTest("crash-st", 1 << 20, async (seg, name) => {
      const s = Stack.create(seg, "s", u32, 4);
      // Not linked yet: the node goes back to the ring, the element is lost (its push never returned).
      await killAt(rt, INDEX_WORKER, [name, "push1", "7"], "stack.push.taken");
      assert.deepEqual(fillAndDrain(s, 4, 10).sort(), [10, 11, 12, 13]);
      assert.equal(s.stats.recovered, 1);
      // Linked, hold not yet cleared: the node is on the list, nothing is put back.
      await killAt(rt, INDEX_WORKER, [name, "push1", "8"], "stack.push.linked");
      assert.deepEqual(fillAndDrain(s, 3, 20).sort(), [20, 21, 22, 8].sort());
      assert.equal(s.stats.recovered, 1);
      // Popped (head CAS won), before it recorded its win / before its state CAS / before its ring put.
      let recovered = 1;
      for (const point of ["stack.pop.cas", "stack.pop.won", "stack.pop.unlinked", "ring.put.recorded"]) {
        s.push(1);
        s.push(2);
        await killAt(rt, INDEX_WORKER, [name, "pop1"], point); // pops 2 and dies holding its node
        if (point === "ring.put.recorded") {
          s.push(3); // this put (of the pop below) wins the position the dead popper recorded
          assert.equal(s.pop(), 3);
        }
        assert.deepEqual(fillAndDrain(s, 3, 30).sort(), [1, 30, 31, 32].sort());
        assert.equal(s.stats.recovered, ++recovered, point);
      }
    }),
    { timeout: 60_000 },
  );

  test(
    `crash Stack transit: a ${rt} popper killed in its ring put after handing back a dead taker's slot costs no node`,
    segmentTest("crash-sh", 1 << 20, async (seg, name) => {
      const s = Stack.create(seg, "s", u32, 4);
      const go = SharedAtomic.create(seg, "go", u32);
      // The popper opens its handle first: opening resolves dead holds, which would repair the slot before its pop does.
      const popper = startWorker(rt, INDEX_WORKER, [name, "pop1go"], { SHMKIT_TEST_PAUSE_AT: "ring.put.recorded:1" });
      await popper.line("READY");
      await killAt(rt, INDEX_WORKER, [name, "push1", "7"], "ring.take.claimed"); // took node 0 at ring position 0, slot not handed back
      for (let i = 0; i < 3; i++) s.push(10 + i); // positions 1..3: the ring is empty, its next put is at 4 (slot 0 again)
      go.store(1); // pops 12; its put at 4 finds slot 0 stalled, hands it back, then records its own put and stops
      await popper.line("PAUSED ring.put.recorded");
      popper.kill();
      assert.equal((await popper.exited).signal, "SIGKILL");
      // The dead taker's node stays in the dead taker's record (it was only in the popper's
      // local variables, and lost, before); the popper's node in the popper's record.
      assert.deepEqual(fillAndDrain(s, 2, 20).sort(), [10, 11, 20, 21]);
      assert.equal(s.stats.recovered, 2);
      assert.deepEqual(fillAndDrain(s, 4, 30).sort(), [30, 31, 32, 33]);
    }),
    { timeout: 60_000 },
  );

  test(
    `crash Stack transit: a ${rt} survivor killed just after taking a dead taker's node over costs no node`,
    segmentTest("crash-sa", 1 << 20, async (seg, name) => {
      const s = Stack.create(seg, "s", u32, 4);
      await killAt(rt, INDEX_WORKER, [name, "push1", "7"], "ring.take.claimed"); // took node 0, slot not handed back
      for (let i = 0; i < 3; i++) s.push(10 + i); // the free ring is empty
      // Opening the stack resolves the dead hold: hands slot 0 back, wins the hold's CAS,
      // and is killed before its own hold names the node (only its announcement does).
      await killAt(rt, INDEX_WORKER, [name, "push1", "8"], "ring.adopt.won");
      assert.deepEqual([s.pop(), s.pop(), s.pop()], [12, 11, 10]);
      assert.deepEqual(fillAndDrain(s, 4, 20).sort(), [20, 21, 22, 23]);
      assert.equal(s.stats.recovered, 1);
    }),
    { timeout: 60_000 },
  );
}
