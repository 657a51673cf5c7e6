/**
 * Regression tests for hostile bytes found in issue 10 (one test per bug): map and set
 * lock words naming a live process that is not attached (pid 1) or one that never
 * lets go, and name table entries whose blocks overlap.
 */
import assert from "node:assert/strict";
import { i32, RingBuffer, Segment, SharedArray, SharedMap, SharedSet, u32 } from "../mod.ts";
import { E, EntryState, H, S } from "../src/segment/format.ts";
import { me } from "../src/segment/process.ts";
import { setHoldLimitMs } from "../src/structures/hash/slot_lock.ts";
import { test } from "./harness.ts";
import { throwsCode } from "./helpers/errors.ts";
import { runWithSegment } from "./helpers/segments.ts";

const CONTROL = 64; // the block's control area starts after the 64-byte structure header
const DATA = 64 + 192;

/** Writes `owner` into every slot lock and the insert lock of the table named `name`. */
function poisonLocks(seg: Segment, name: string, owner: number): void {
  const e = seg.find(name)!;
  const u32v = seg.memory.u32;
  const slotSize = u32v[(e.offset + CONTROL + 28) >> 2];
  u32v[(e.offset + CONTROL + 64) >> 2] = owner; // insertLock
  for (let i = 0; i < e.capacity; i++) u32v[(e.offset + DATA + i * slotSize + 4) >> 2] = owner;
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

for (const owner of [1, 1 | 0x40000000, 0x3fffffff, 0x80000001]) {
  test(`hostile: map writes go on when every lock word names pid ${owner} (live or not, never attached)`, () => {
    runWithSegment("hostmap", 1 << 16, (seg) => {
      const m = SharedMap.create(seg, "m", u32, i32, 8);
      m.set(1, 10);
      m.set(2, 20);
      poisonLocks(seg, "m", owner);
      const [, ms] = timed(() => {
        m.set(1, 11); // slot lock of an existing key
        assert.equal(m.delete(2), true);
        m.set(3, 30); // insert lock
        assert.equal(m.update(3, (v) => (v ?? 0) + 1), 31);
        m.clear();
      });
      assert.ok(ms < 2_000, `took ${ms} ms`);
      assert.equal(m.size, 0);
    });
  });
}

test("hostile: set writes go on when every lock word names pid 1", () => {
  runWithSegment("hostset", 1 << 16, (seg) => {
    const s = SharedSet.create(seg, "s", u32, 8);
    s.add(1);
    poisonLocks(seg, "s", 1);
    const [, ms] = timed(() => {
      assert.equal(s.delete(1), true);
      assert.equal(s.add(2), true);
      assert.equal(s.add(3), true);
    });
    assert.ok(ms < 2_000, `took ${ms} ms`);
    assert.deepEqual([...s.values()].sort(), [2, 3]);
  });
});

test("hostile: a lock word naming a live attached process that never lets go → TIMEOUT, not a wait without end", () => {
  runWithSegment("hostself", 1 << 16, (seg) => {
    const m = SharedMap.create(seg, "m", u32, i32, 8);
    m.set(1, 10);
    poisonLocks(seg, "m", me().pid); // this process is alive and attached: a legitimate-looking holder
    const old = setHoldLimitMs(300);
    try {
      const [, ms] = timed(() => throwsCode("TIMEOUT", () => m.set(1, 11), /held by process/));
      assert.ok(ms >= 250 && ms < 3_000, `gave up after ${ms} ms`);
      throwsCode("TIMEOUT", () => m.set(5, 50));
    } finally {
      setHoldLimitMs(old);
    }
    poisonLocks(seg, "m", 0);
    m.set(1, 12);
    assert.equal(m.get(1), 12);
  });
});

/** Offset of the table entry named `name` in this segment. */
function entryOf(seg: Segment, name: string): number {
  const m = seg.memory;
  const tableOffset = m.getU64(H.tableOffset);
  const size = m.u32[H.entrySize >> 2];
  for (let i = 0; i < seg.maxEntries; i++) {
    const at = tableOffset + i * size;
    if (m.u32[(at + E.state) >> 2] !== EntryState.READY) continue;
    const n = m.u32[(at + E.nameLength) >> 2];
    if (new TextDecoder().decode(m.u8.slice(at + E.name, at + E.name + n)) === name) return at;
  }
  throw new Error(`no entry ${name}`);
}

test("hostile: name table entries whose blocks overlap → CORRUPT from open, list, stats and create", () => {
  runWithSegment("hostlap", 1 << 16, (seg) => {
    const a = SharedArray.create(seg, "a", u32, 64);
    SharedArray.create(seg, "b", u32, 64);
    a.fill(7);
    // b's entry now claims a block starting inside a's (its own header copied there too).
    const m = seg.memory;
    const ea = entryOf(seg, "a");
    const eb = entryOf(seg, "b");
    const aOff = m.getU64(ea + E.offset);
    m.setU64(eb + E.offset, aOff + 64);
    m.u8.copyWithin(aOff + 64, m.getU64(eb + E.offset), m.getU64(eb + E.offset) + 64);
    throwsCode("CORRUPT", () => SharedArray.open(seg, "b", u32), /overlaps/);
    throwsCode("CORRUPT", () => SharedArray.open(seg, "a", u32), /overlaps/);
    throwsCode("CORRUPT", () => seg.list(), /overlaps/);
    throwsCode("CORRUPT", () => seg.stats(), /overlaps/);
    throwsCode("CORRUPT", () => SharedArray.create(seg, "c", u32, 4), /overlaps/);
    assert.equal(a.get(0), 7, "the handle opened before the damage still reads its own block");
    // Blocks that merely touch are fine.
    m.setU64(eb + E.offset, aOff + m.getU64(ea + E.size));
    assert.equal(seg.list().length, 2);
  });
});

test("hostile: an entry overlapping the name table or the header → CORRUPT", () => {
  runWithSegment("hosthdr", 1 << 16, (seg) => {
    SharedArray.create(seg, "a", u32, 4);
    const m = seg.memory;
    const ea = entryOf(seg, "a");
    for (const off of [0, 256, m.getU64(H.tableOffset), m.getU64(H.heapOffset) - 64]) {
      m.setU64(ea + E.offset, off);
      throwsCode("CORRUPT", () => SharedArray.open(seg, "a", u32));
    }
  });
});

test("hostile: a metadata lock word naming a live process that is not attached (pid 1) → taken over, not a 10 s wait", () => {
  runWithSegment("hostmeta", 1 << 16, (seg, name) => {
    SharedArray.create(seg, "a", u32, 4);
    Atomics.store(seg.memory.i32, H.lockOwner >> 2, 1);
    const [, ms] = timed(() => {
      const other = Segment.open(name, { timeoutMs: 100 });
      assert.equal(other.list().length, 1);
      other.close();
    });
    assert.ok(ms < 2_000, `took ${ms} ms`);
    assert.equal(Atomics.load(seg.memory.i32, H.lockOwner >> 2), 0);
  });
});

for (const ctl of [0xffffffff, 0x7fffffff, 3]) {
  test(`hostile: a map slot in the invalid state 3 (ctl 0x${ctl.toString(16)}) → CORRUPT on insert, never an endless retry`, () => {
    runWithSegment("hoststate", 1 << 16, (seg) => {
      const m = SharedMap.create(seg, "m", u32, u32, 6);
      m.set(1, 10), m.set(2, 20), m.set(3, 30), m.delete(2);
      const e = seg.find("m")!;
      const slotSize = seg.memory.u32[(e.offset + CONTROL + 28) >> 2];
      for (let i = 0; i < e.capacity; i++) {
        const w = (e.offset + DATA + i * slotSize) >> 2;
        const saved = seg.memory.u32[w];
        seg.memory.u32[w] = ctl;
        const [, ms] = timed(() => {
          for (let k = 0; k < 8; k++) {
            for (const f of [() => m.get(k), () => m.set(k, k), () => m.update(k, (v) => v), () => m.delete(k)]) {
              try {
                f();
              } catch (err) {
                assert.equal((err as { code?: string }).code, "CORRUPT", String(err));
              }
            }
          }
          [...m.entries()];
        });
        assert.ok(ms < 2_000, `slot ${i}: took ${ms} ms`);
        seg.memory.u32[w] = saved;
      }
    });
  });
}

test("hostile: capacity 0 in both a structure's entry and its block header → CORRUPT on open (a ring divided by it and spun)", () => {
  runWithSegment("hostcap", 1 << 16, (seg) => {
    RingBuffer.create(seg, "r", u32, 4);
    SharedArray.create(seg, "a", u32, 4);
    for (const name of ["r", "a"]) {
      const m = seg.memory;
      const at = entryOf(seg, name);
      m.setU64(at + E.capacity, 0);
      m.setU64(m.getU64(at + E.offset) + S.capacity, 0);
    }
    throwsCode("CORRUPT", () => RingBuffer.open(seg, "r", u32), /capacity 0/);
    throwsCode("CORRUPT", () => SharedArray.open(seg, "a", u32), /capacity 0/);
  });
});
