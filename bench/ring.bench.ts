/**
 * RingBuffer, BroadcastRing and Vector operations, single process, each against
 * baselines doing the same work in the same run: the same algorithm on heap typed
 * arrays with the same Atomics operations (so the ratio is the cost of the mapped
 * segment and the library's checks), a plain JS ring over a heap typed array (no
 * atomics: the floor), and a JS array. Every loop consumes what it reads (sums it or
 * hands it to do_not_optimize), so no benchmark can time an empty loop.
 *
 *   deno run -A bench/ring.bench.ts    |    bun bench/ring.bench.ts
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { Segment } from "../src/segment/segment.ts";
import { f64, struct, u32 } from "../src/segment/elements.ts";
import { RingBuffer } from "../src/structures/ring_buffer.ts";
import { BroadcastRing } from "../src/structures/broadcast.ts";
import { Vector } from "../src/structures/vector.ts";
import { benchSegmentName, runtime } from "./common.ts";

const CAP = 1024;
const BULK = 256;
const name = benchSegmentName("ring");
Segment.unlink(name);
const seg = Segment.create(name, { size: 32 << 20 });

/** The baseline: the same ring algorithm over a heap Float64Array with plain head/tail numbers. */
class HeapRing {
  buf = new Float64Array(CAP);
  head = 0;
  tail = 0;
  push(v: number): boolean {
    if (this.head - this.tail === CAP) return false;
    this.buf[this.head & (CAP - 1)] = v;
    this.head++;
    return true;
  }
  pop(): number | undefined {
    if (this.head === this.tail) return undefined;
    const v = this.buf[this.tail & (CAP - 1)];
    this.tail++;
    return v;
  }
  pushBulk(src: Float64Array): number {
    const s = this.head & (CAP - 1);
    const first = Math.min(src.length, CAP - s);
    this.buf.set(src.subarray(0, first), s);
    if (first < src.length) this.buf.set(src.subarray(first), 0);
    this.head += src.length;
    return src.length;
  }
  popBulk(out: Float64Array): number {
    const k = Math.min(out.length, this.head - this.tail);
    const s = this.tail & (CAP - 1);
    const first = Math.min(k, CAP - s);
    out.set(this.buf.subarray(s, s + first), 0);
    if (first < k) out.set(this.buf.subarray(0, k - first), first);
    this.tail += k;
    return k;
  }
}

/**
 * RingBuffer's algorithm on heap typed arrays, with its atomics: the producer reads its
 * own head plainly, publishes with Atomics.store and loads a waiter count; a consumer
 * acquires head with Atomics.load (when its cached copy says empty), copies the element
 * and commits with a CAS on tail, then loads a waiter count.
 */
class HeapAtomicRing {
  ctl = new Int32Array(32);
  buf = new Float64Array(CAP);
  tailCache = 0;
  headCache = 0;
  tryPush(v: number): boolean {
    const c = this.ctl;
    const h = c[0];
    if (h - this.tailCache >= CAP) {
      this.tailCache = Atomics.load(c, 16);
      if (h - this.tailCache >= CAP) return false;
    }
    this.buf[h & (CAP - 1)] = v;
    Atomics.store(c, 0, (h + 1) & 0x3fffffff);
    if (Atomics.load(c, 3) !== 0) throw new Error("no waiters here");
    return true;
  }
  tryPop(): number | undefined {
    const c = this.ctl;
    const t = c[16];
    if (this.headCache === t) {
      this.headCache = Atomics.load(c, 0);
      if (this.headCache === t) return undefined;
    }
    const v = this.buf[t & (CAP - 1)];
    if (Atomics.compareExchange(c, 16, t, (t + 1) & 0x3fffffff) !== t) return undefined;
    if (Atomics.load(c, 19) !== 0) throw new Error("no waiters here");
    return v;
  }
}

const ring = RingBuffer.create(seg, "ring", f64, CAP);
const heapRing = new HeapRing();
const heapAtomic = new HeapAtomicRing();
const jsArr: number[] = [];
const full = RingBuffer.create(seg, "full", f64, CAP);
while (full.tryPush(1));
const src = Float64Array.from({ length: BULK }, (_, i) => i);
const out = new Float64Array(BULK);
const P = struct({ x: f64, y: f64, id: u32 });
const pring = RingBuffer.create(seg, "pring", P, CAP);
const heapObjs: { x: number; y: number; id: number }[] = [];
const pt = { x: 1, y: 2, id: 3 };

console.log(`${runtime}: ring capacity ${CAP}, bulk ${BULK} f64`);
let k = 0;
summary(() => {
  group("ring push + pop, one f64", () => {
    bench("same algorithm on heap typed arrays, Atomics (baseline)", () => {
      heapAtomic.tryPush(k++);
      return do_not_optimize(heapAtomic.tryPop());
    }).baseline(true);
    bench("plain heap ring, no atomics", () => {
      heapRing.push(k++);
      return do_not_optimize(heapRing.pop());
    });
    bench("JS array push + shift", () => {
      jsArr.push(k++);
      return do_not_optimize(jsArr.shift());
    });
    bench("RingBuffer tryPush + tryPop", () => {
      ring.tryPush(k++);
      return do_not_optimize(ring.tryPop());
    });
    bench("RingBuffer pushOverwrite on a full ring (drops oldest)", () => {
      return do_not_optimize(full.pushOverwrite(k++));
    });
  });
});
summary(() => {
  group(`ring pushBulk + popBulk, ${BULK} f64`, () => {
    bench("heap ring typed-array copies (baseline)", () => {
      heapRing.pushBulk(src);
      const n = heapRing.popBulk(out);
      return do_not_optimize(out[n - 1] + n);
    }).baseline(true);
    bench("RingBuffer pushBulk + popBulk (Float64Array)", () => {
      ring.pushBulk(src);
      const n = ring.popBulk(out);
      return do_not_optimize(out[n - 1] + n);
    });
  });
});
summary(() => {
  group("ring push + pop, one struct {x:f64,y:f64,id:u32}", () => {
    bench("JS array push + shift of an object (baseline)", () => {
      heapObjs.push({ x: pt.x, y: pt.y, id: pt.id });
      return do_not_optimize(heapObjs.shift()!.x);
    }).baseline(true);
    bench("RingBuffer<struct> tryPush + tryPop", () => {
      pring.tryPush(pt);
      return do_not_optimize(pring.tryPop()!.x);
    });
  });
});

// Broadcast: one writer, one reader in the same process.
const bc = BroadcastRing.create(seg, "bc", f64, CAP);
const reader = bc.reader();
bc.claimWriter();
const bcs = BroadcastRing.create(seg, "bcs", P, CAP);
const sreader = bcs.reader();
/**
 * BroadcastRing's algorithm on heap typed arrays, with its atomics: per message a busy
 * stamp, the element, a done stamp and the position (Atomics.store each) and a waiter
 * count load; a reader loads the position words (low word and epoch) and the slot stamp
 * before and after copying the element.
 */
class HeapBroadcast {
  ctl = new Int32Array(32);
  stamps = new Int32Array(CAP * 4); // slot i: stamp at i * 4, f64 at f64 index i * 2 + 1
  vals = new Float64Array(this.stamps.buffer);
  pos = 0;
  rpos = 0;
  publish(v: number): void {
    const p = this.pos;
    const at = (p & (CAP - 1)) * 4;
    const seq = ((p + 1) | 0) << 1;
    Atomics.store(this.stamps, at, seq | 1);
    this.vals[(at >> 1) + 1] = v;
    Atomics.store(this.stamps, at, seq);
    this.pos = p + 1;
    Atomics.store(this.ctl, 0, this.pos | 0);
    if (Atomics.load(this.ctl, 3) !== 0) throw new Error("no waiters here");
  }
  tryRead(): number | undefined {
    const w = (Atomics.load(this.ctl, 0) >>> 0) + Atomics.load(this.ctl, 1) * 0;
    if (w <= this.rpos) return undefined;
    const p = this.rpos;
    const at = (p & (CAP - 1)) * 4;
    const want = ((p + 1) | 0) << 1;
    if (Atomics.load(this.stamps, at) !== want) return undefined;
    const v = this.vals[(at >> 1) + 1];
    if (Atomics.load(this.stamps, at) !== want) return undefined;
    this.rpos = p + 1;
    return v;
  }
}
const heapBc = new HeapBroadcast();
const heapLog = new Float64Array(CAP);
let hw = 0;
let hr = 0;
summary(() => {
  group("broadcast publish + read, one f64", () => {
    bench("same algorithm on heap typed arrays, Atomics (baseline)", () => {
      heapBc.publish(k++);
      return do_not_optimize(heapBc.tryRead());
    }).baseline(true);
    bench("plain heap ring write + read, no atomics", () => {
      heapLog[hw++ & (CAP - 1)] = hw;
      return do_not_optimize(heapLog[hr++ & (CAP - 1)]);
    });
    bench("BroadcastRing publish + reader.tryRead", () => {
      bc.publish(k++);
      return do_not_optimize(reader.tryRead());
    });
    bench("BroadcastRing publish only (no reader keeps up)", () => {
      bc.publish(k++);
    });
    bench("BroadcastRing<struct> publish + tryRead", () => {
      bcs.publish(pt);
      return do_not_optimize(sreader.tryRead()!.id);
    });
  });
});

// Vector: push until full, then reset (test-only: zero the counters and flags; amortised).
const VCAP = 1 << 20;
const vec = Vector.create(seg, "vec", f64, VCAP);
const control = vec.offset + 64;
const flags = (vec.offset + 64 + 128 + VCAP * 8) >> 2;
function resetVector(): void {
  seg.memory.i32.fill(0, flags, flags + VCAP);
  Atomics.store(seg.memory.i32, control >> 2, 0);
  Atomics.store(seg.memory.i32, (control + 64) >> 2, 0);
}
const heapVec: number[] = [];
const readVec = Vector.create(seg, "rvec", f64, 4096);
for (let i = 0; i < 4096; i++) readVec.push(i);
const heapRead = Array.from({ length: 4096 }, (_, i) => i);
summary(() => {
  group("vector push, one f64", () => {
    bench("JS array push (baseline, cleared every 2^20)", () => {
      if (heapVec.length === VCAP) heapVec.length = 0;
      return do_not_optimize(heapVec.push(k++));
    }).baseline(true);
    bench("Vector.push", () => {
      if (vec.reserved === VCAP) resetVector();
      return do_not_optimize(vec.push(k++));
    });
  });
});
summary(() => {
  group("vector read 4096 f64 (sum)", () => {
    bench("JS array [i] (baseline)", () => {
      let s = 0;
      for (let i = 0; i < 4096; i++) s += heapRead[i];
      return do_not_optimize(s);
    }).baseline(true);
    bench("Vector.get(i)", () => {
      let s = 0;
      for (let i = 0; i < 4096; i++) s += readVec.get(i)!;
      return do_not_optimize(s);
    });
    bench("Vector.view()[i]", () => {
      const v = readVec.view() as Float64Array;
      let s = 0;
      for (let i = 0; i < 4096; i++) s += v[i];
      return do_not_optimize(s);
    });
  });
});

try {
  await run();
} finally {
  seg.close();
  Segment.unlink(name);
}
