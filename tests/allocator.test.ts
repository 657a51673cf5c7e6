/**
 * The heap allocator: removed structures give their memory back (a million
 * create+remove cycles in a tiny segment never run out), fragmentation is exactly what
 * the live extents say, and unit tests of src/segment/allocator.ts (gaps, place, blockSize).
 */
import assert from "node:assert/strict";
import { f64, i32, type Segment, SharedArray, SharedAtomic, ShmError, u32, u8 } from "../mod.ts";
import { blockSize, type Extent, gaps, place } from "../src/segment/allocator.ts";
import { flag, test } from "./harness.ts";
import { type CreateOptions, runWithSegment } from "./helpers/segments.ts";

function withSegment(options: CreateOptions, fn: (seg: Segment) => void): void {
  runWithSegment("alloc", options, fn);
}

function isFull(e: unknown): boolean {
  return e instanceof ShmError && e.code === "FULL";
}

/** xorshift32, seeded. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

// ---------------------------------------------------------------- a million cycles

test("allocator: 1,000,000 create+remove cycles in a tiny segment never run out of space", () => {
  // Soak mode runs ten times as many; the default million takes ~5 s on a quiet 2-core machine.
  const cycles = flag("SHMKIT_SOAK") ? 10_000_000 : 1_000_000;
  withSegment({ size: 16 << 10, maxEntries: 4, maxNameLength: 8, maxProcesses: 2 }, (seg) => {
    const before = seg.stats();
    // A long-lived neighbour on each side of the churn, so freed space must merge back between them.
    SharedArray.create(seg, "left", u8, 1);
    const t0 = performance.now();
    for (let i = 0; i < cycles; i++) {
      // Sizes vary (64..~3.3 KiB blocks), so a leak or a failure to merge would show quickly.
      const a = SharedArray.create(seg, "a", u32, 1 + (i % 797));
      if (i % 1000 === 0) {
        a.set(a.length - 1, i);
        if (i === 0) SharedArray.create(seg, "right", u8, 1);
      }
      seg.remove("a");
    }
    const ms = performance.now() - t0;
    seg.remove("left");
    seg.remove("right");
    const after = seg.stats();
    assert.equal(after.entries, 0);
    assert.equal(after.freeBytes, before.freeBytes);
    assert.equal(after.largestFreeBlock, before.heapSize);
    console.log(`  ${cycles} create+remove cycles: ${ms.toFixed(0)} ms (${((ms * 1000) / cycles).toFixed(2)} µs per cycle)`);
  });
}, { timeout: 180_000 });

test("allocator: create/remove of mixed structures interleaved keeps the heap accounted for", () => {
  withSegment({ size: 64 << 10, maxEntries: 16 }, (seg) => {
    const heap = seg.stats().heapSize;
    const random = rng(99);
    const live = new Map<string, number>(); // name → block size
    for (let i = 0; i < 20_000; i++) {
      const name = `s${Math.floor(random() * 16)}`;
      if (live.has(name)) {
        seg.remove(name);
        live.delete(name);
      } else {
        try {
          if (random() < 0.2) SharedAtomic.create(seg, name, i32);
          else SharedArray.create(seg, name, f64, 1 + Math.floor(random() * 600));
          live.set(name, seg.find(name)!.size);
        } catch (e) {
          if (!isFull(e)) throw e;
        }
      }
      if (i % 500 === 0) {
        const st = seg.stats();
        const used = [...live.values()].reduce((s, v) => s + v, 0);
        assert.equal(st.usedBytes, used);
        assert.equal(st.freeBytes, heap - used);
      }
    }
  });
});

// ---------------------------------------------------------------- fragmentation

test("allocator: fill with mixed sizes, remove every other: freeBytes = removed sizes, the largest gap can be allocated", () => {
  withSegment({ size: 256 << 10, maxEntries: 512 }, (seg) => {
    const st0 = seg.stats();
    const heapStart = st0.size - st0.heapSize;
    const heapEnd = st0.size;
    const random = rng(1234);
    const names: string[] = [];
    for (let i = 0;; i++) {
      try {
        SharedArray.create(seg, `m${i}`, u8, 1 + Math.floor(random() * 3000));
        names.push(`m${i}`);
      } catch (e) {
        if (!isFull(e)) throw e;
        break;
      }
    }
    assert.ok(names.length > 50, `only ${names.length} structures fit`);
    const full = seg.stats();
    const leftover = full.freeBytes; // the tail too small for the request that failed
    assert.ok(leftover < 3000 + 64 + 64);
    const sizes = new Map(seg.list().map((e) => [e.name, e]));
    // First-fit on an empty heap places in creation order, back to back.
    const ordered = names.map((n) => sizes.get(n)!);
    for (let i = 1; i < ordered.length; i++) assert.equal(ordered[i].offset, ordered[i - 1].offset + ordered[i - 1].size);

    let removed = 0;
    for (let i = 0; i < names.length; i += 2) {
      removed += sizes.get(names[i])!.size;
      seg.remove(names[i]);
    }
    const st = seg.stats();
    assert.equal(st.freeBytes, leftover + removed);
    assert.equal(st.usedBytes, st.heapSize - st.freeBytes);
    assert.equal(st.entries, Math.floor(names.length / 2));

    // The largest gap, computed independently from the listed extents.
    const live = seg.list().sort((a, b) => a.offset - b.offset);
    let cursor = heapStart;
    let largest = 0;
    let largestAt = -1;
    for (const e of [...live, { offset: heapEnd, size: 0 }]) {
      if (e.offset - cursor > largest) {
        largest = e.offset - cursor;
        largestAt = cursor;
      }
      cursor = e.offset + e.size;
    }
    assert.equal(st.largestFreeBlock, largest);
    // One byte more than the largest gap does not fit anywhere...
    assert.throws(() => SharedArray.create(seg, "too-big", u8, largest - 64 + 1), isFull);
    // ...but a block exactly as large as the largest gap does, and goes there.
    const big = SharedArray.create(seg, "big", u8, largest - 64);
    assert.equal(big.offset, largestAt);
    big.fill(0xab);
    // Its neighbours are intact.
    for (const e of live) {
      const a = SharedArray.open(seg, e.name, u8);
      assert.equal(a.get(0), 0);
      a.close();
    }

    // Removing everything merges all gaps back into one heap-sized block.
    for (const e of seg.list()) seg.remove(e.name);
    const empty = seg.stats();
    assert.equal(empty.freeBytes, empty.heapSize);
    assert.equal(empty.largestFreeBlock, empty.heapSize);
    SharedArray.create(seg, "whole", u8, empty.heapSize - 64);
  });
});

test("allocator: a freed block between two live ones is reused by a structure of the same size (first fit)", () => {
  withSegment({ size: 64 << 10, maxEntries: 8 }, (seg) => {
    SharedArray.create(seg, "a", u8, 100);
    const b = SharedArray.create(seg, "b", u8, 500);
    SharedArray.create(seg, "c", u8, 100);
    const hole = b.offset;
    seg.remove("b");
    const d = SharedArray.create(seg, "d", u8, 500);
    assert.equal(d.offset, hole);
    seg.remove("d");
    const small = SharedArray.create(seg, "e", u8, 10); // first fit: the lowest gap that fits
    assert.equal(small.offset, hole);
  });
});

// ---------------------------------------------------------------- unit tests of src/segment/allocator.ts

test("allocator unit: blockSize rounds up to whole 64-byte lines", () => {
  assert.equal(blockSize(0), 0);
  assert.equal(blockSize(1), 64);
  assert.equal(blockSize(64), 64);
  assert.equal(blockSize(65), 128);
  assert.equal(blockSize(4096), 4096);
  assert.equal(blockSize(2 ** 40 + 1), 2 ** 40 + 64);
});

test("allocator unit: gaps of an empty heap is the whole heap", () => {
  assert.deepEqual(gaps([], 256, 1280), [{ offset: 256, size: 1024 }]);
  assert.deepEqual(gaps([], 256, 256), []);
});

test("allocator unit: gaps lists the holes in address order, whatever the input order", () => {
  const live: Extent[] = [
    { offset: 640, size: 128 },
    { offset: 256, size: 64 },
    { offset: 384, size: 128 },
  ];
  assert.deepEqual(gaps(live, 256, 1024), [
    { offset: 320, size: 64 },
    { offset: 512, size: 128 },
    { offset: 768, size: 256 },
  ]);
  assert.deepEqual(live[0], { offset: 640, size: 128 }); // the input is not sorted in place
});

test("allocator unit: adjacent blocks leave no zero-size gap; full heap has no gaps", () => {
  assert.deepEqual(gaps([{ offset: 0, size: 64 }, { offset: 64, size: 64 }], 0, 256), [{ offset: 128, size: 128 }]);
  assert.deepEqual(gaps([{ offset: 0, size: 128 }, { offset: 128, size: 128 }], 0, 256), []);
  assert.deepEqual(gaps([{ offset: 128, size: 128 }], 0, 256), [{ offset: 0, size: 128 }]);
});

test("allocator unit: overlapping or nested extents never produce a gap inside a block", () => {
  assert.deepEqual(gaps([{ offset: 0, size: 256 }, { offset: 64, size: 64 }], 0, 512), [{ offset: 256, size: 256 }]);
  assert.deepEqual(gaps([{ offset: 0, size: 128 }, { offset: 64, size: 128 }], 0, 512), [{ offset: 192, size: 320 }]);
});

test("allocator unit: place is first fit, exact fits count, and -1 when nothing fits", () => {
  const live: Extent[] = [{ offset: 64, size: 64 }, { offset: 256, size: 64 }];
  // gaps: [0,64) [128,256) [320,512)
  assert.equal(place(live, 0, 512, 64), 0);
  assert.equal(place(live, 0, 512, 128), 128); // exact fit in the middle gap
  assert.equal(place(live, 0, 512, 192), 320);
  assert.equal(place(live, 0, 512, 256), -1);
  assert.equal(place([], 0, 512, 512), 0);
  assert.equal(place([], 0, 512, 576), -1);
  assert.equal(place([{ offset: 0, size: 512 }], 0, 512, 64), -1);
});

test("allocator unit: random allocate/free sequences never overlap and conserve bytes", () => {
  const random = rng(7);
  const heapStart = 4096;
  const heapEnd = heapStart + 64 * 1024;
  let live: Extent[] = [];
  for (let step = 0; step < 20_000; step++) {
    if (live.length > 0 && random() < 0.45) {
      live.splice(Math.floor(random() * live.length), 1);
    } else {
      const size = blockSize(1 + Math.floor(random() * 4000));
      const at = place(live, heapStart, heapEnd, size);
      const free = gaps(live, heapStart, heapEnd);
      if (at < 0) {
        assert.ok(free.every((g) => g.size < size), "place failed although a gap fits");
        continue;
      }
      // first fit: no earlier gap would have fit
      assert.ok(free.filter((g) => g.offset < at).every((g) => g.size < size));
      live.push({ offset: at, size });
    }
    const sorted = [...live].sort((a, b) => a.offset - b.offset);
    for (let i = 0; i < sorted.length; i++) {
      assert.ok(sorted[i].offset >= heapStart && sorted[i].offset + sorted[i].size <= heapEnd);
      assert.equal(sorted[i].offset % 64, 0);
      if (i > 0) assert.ok(sorted[i - 1].offset + sorted[i - 1].size <= sorted[i].offset, "overlap");
    }
    const used = live.reduce((s, e) => s + e.size, 0);
    const free = gaps(live, heapStart, heapEnd).reduce((s, e) => s + e.size, 0);
    assert.equal(used + free, heapEnd - heapStart);
    if (step % 5000 === 4999) live = [];
  }
});
