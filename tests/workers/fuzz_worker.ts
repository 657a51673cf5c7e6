/**
 * Fuzz worker (tests/fuzz.test.ts): builds the template segment, then for each case of
 * a corpus file from `start` on: copies the template into a fresh shm object, applies
 * the case's mutation behind the library's back, opens the copy with Segment.open,
 * runs every operation of the targeted structure (all of them for a segment-level
 * field) a bounded number of times, closes it, and checks that no byte of the heap
 * outside the exercised blocks changed (canaries in the gaps included). Prints one
 * line per case: `R <id> <ok|typed|raw|canary> <detail>`; the parent treats silence as
 * a hang and a signal as a crash.
 *
 *   fuzz_worker.ts <corpus.json> <start>
 */
import { readFileSync } from "node:fs";
import {
  Barrier,
  BroadcastRing,
  ConditionVariable,
  f64,
  Latch,
  Mutex,
  ObjectPool,
  Once,
  Queue,
  RingBuffer,
  RWLock,
  Segment,
  Semaphore,
  SharedArray,
  SharedAtomic,
  SharedEvent,
  SharedMap,
  SharedSet,
  ShmError,
  SpscQueue,
  Stack,
  u32,
  Vector,
} from "../../mod.ts";
import { native } from "../../ffi/mod.ts";
import { setHoldLimitMs } from "../../src/structures/hash/slot_lock.ts";
import { buildTemplate, type KindLabel, TEMPLATE_OPTIONS } from "../helpers/fuzz_layout.ts";
import { args, pid } from "../helpers/worker.ts";

/** One mutation: write `v` (width 4 or 8) at `at`, or xor `x` into the byte at `at`. */
export interface Case {
  id: number;
  target: string;
  at: number;
  width?: 4 | 8;
  v?: number;
  x?: number;
  /** Further writes of the same case (a hostile writer changing fields that are checked against each other). */
  also?: { at: number; width: 4 | 8; v: number }[];
}

export interface Corpus {
  kinds: KindLabel[];
  hash: number;
  cases: Case[];
}

const corpus = JSON.parse(readFileSync(args[0], "utf8")) as Corpus;
const start = Number(args[1] ?? 0);
setHoldLimitMs(200);

const n = native();
const tname = `shmkit-fuzz-t-${pid}`;
Segment.unlink(tname);
const tseg = Segment.create(tname, TEMPLATE_OPTIONS);
const template = buildTemplate(tseg, corpus.kinds);
if (template.hash !== corpus.hash) throw new Error(`layout hash ${template.hash} differs from the corpus's ${corpus.hash}`);
// Sync primitives record this process in their slot tables while the template is built;
// the copies must not think it holds anything, so the template stays open (we are alive).

const W = 1; // timeout (ms) of every bounded wait

/** Runs `fn`; records the outcome class of what it threw. */
function op(out: string[], fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof ShmError) out.push(e.code);
    else out.push(`RAW ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

function exercise(seg: Segment, kind: string, out: string[]): void {
  const o = (fn: () => unknown) => op(out, fn);
  const rep = (k: number, fn: () => unknown) => {
    for (let i = 0; i < k; i++) o(fn);
  };
  switch (kind) {
    case "array": {
      let a: SharedArray<number> | undefined;
      o(() => (a = SharedArray.open(seg, kind, f64)));
      if (!a) return;
      const x = a;
      o(() => x.get(0)), o(() => x.set(0, 1)), o(() => x.get(x.length - 1)), o(() => x.fill(3)), o(() => x.toArray());
      o(() => x.view()[0]), o(() => x.get(x.length));
      return;
    }
    case "atomic": {
      let a: SharedAtomic<number> | undefined;
      o(() => (a = SharedAtomic.open(seg, kind, u32)));
      if (!a) return;
      const x = a;
      o(() => x.load()), o(() => x.store(3)), o(() => x.add(1)), o(() => x.compareExchange(4, 5)), o(() => x.exchange(1));
      return;
    }
    case "queue": {
      let q: Queue<number> | undefined;
      o(() => (q = Queue.open(seg, kind, u32)));
      if (!q) return;
      const x = q;
      rep(7, () => x.tryPush(5)), rep(8, () => x.tryPop()), o(() => x.size), o(() => x.pushBulk([1, 2, 3]));
      o(() => x.popBulk(5)), o(() => x.popWait(W)), o(() => x.pushWait(1, W)), o(() => x.pop());
      return;
    }
    case "spsc": {
      let q: SpscQueue<number> | undefined;
      o(() => (q = SpscQueue.open(seg, kind, u32)));
      if (!q) return;
      const x = q;
      rep(7, () => x.tryPush(5)), o(() => x.peek()), rep(8, () => x.tryPop()), o(() => x.size), o(() => x.pushBulk([1, 2]));
      o(() => x.popBulk(4)), o(() => x.popWait(W)), o(() => x.pushWait(1, W));
      return;
    }
    case "stack": {
      let s: Stack<number> | undefined;
      o(() => (s = Stack.open(seg, kind, u32)));
      if (!s) return;
      const x = s;
      rep(7, () => x.tryPush(5)), o(() => x.peek()), rep(8, () => x.tryPop()), o(() => x.size), o(() => x.popWait(W));
      o(() => x.pushWait(1, W));
      return;
    }
    case "pool": {
      let p: ObjectPool<number> | undefined;
      o(() => (p = ObjectPool.open(seg, kind, u32)));
      if (!p) return;
      const x = p;
      const held: unknown[] = [];
      rep(6, () => {
        const h = x.acquire();
        if (h !== undefined) held.push(h), x.set(h, 4), x.get(h), x.isHeld(h);
      });
      for (const h of held) o(() => x.release(h as never));
      o(() => x.available), o(() => x.reclaimDead()), o(() => x.release(x.acquireWait(W)));
      return;
    }
    case "ring": {
      let r: RingBuffer<number> | undefined;
      o(() => (r = RingBuffer.open(seg, kind, u32)));
      if (!r) return;
      const x = r;
      o(() => x.claimProducer()), rep(7, () => x.tryPush(5)), rep(3, () => x.pushOverwrite(6)), o(() => x.peek());
      o(() => x.read(0)), rep(8, () => x.tryPop()), o(() => x.size), o(() => x.popWait(W)), o(() => x.releaseProducer());
      return;
    }
    case "broadcast": {
      let b: BroadcastRing<number> | undefined;
      o(() => (b = BroadcastRing.open(seg, kind, u32)));
      if (!b) return;
      const x = b;
      let rd: ReturnType<BroadcastRing<number>["reader"]> | undefined;
      o(() => (rd = x.reader({ from: "oldest" } as never)));
      o(() => x.claimWriter()), rep(6, () => x.publish(7)), o(() => x.published), o(() => x.releaseWriter());
      if (rd) {
        const y = rd;
        rep(8, () => y.tryRead()), o(() => y.lag), o(() => y.readBulk(new Array(4))), o(() => y.readWait(W));
      }
      return;
    }
    case "vector": {
      let v: Vector<number> | undefined;
      o(() => (v = Vector.open(seg, kind, u32)));
      if (!v) return;
      const x = v;
      rep(7, () => x.tryPush(3)), o(() => x.get(0)), o(() => x.get(x.length - 1)), o(() => x.length), o(() => x.toArray());
      o(() => x.reserved);
      return;
    }
    case "map": {
      let mp: SharedMap<number, number> | undefined;
      o(() => (mp = SharedMap.open(seg, kind, u32, u32)));
      if (!mp) return;
      const x = mp;
      for (let k = 0; k < 8; k++) o(() => x.get(k)), o(() => x.set(k, k * 2));
      o(() => x.delete(1)), o(() => x.insert(9, 1)), o(() => x.update(3, (v) => (v ?? 0) + 1)), o(() => x.has(2));
      o(() => [...x.entries()]), o(() => x.size), o(() => x.stats()), o(() => x.clear()), o(() => x.set(4, 4));
      return;
    }
    case "set": {
      let st: SharedSet<number> | undefined;
      o(() => (st = SharedSet.open(seg, kind, u32)));
      if (!st) return;
      const x = st;
      for (let k = 0; k < 8; k++) o(() => x.has(k)), o(() => x.add(k));
      o(() => x.delete(1)), o(() => x.insert(9)), o(() => [...x.values()]), o(() => x.size), o(() => x.stats());
      o(() => x.clear()), o(() => x.add(4));
      return;
    }
    case "mutex": {
      let mx: Mutex | undefined;
      o(() => (mx = Mutex.open(seg, kind)));
      if (!mx) return;
      const x = mx;
      o(() => x.tryLock()?.unlock()), o(() => x.lock(W).unlock()), o(() => x.locked), o(() => x.owner), o(() => x.recoveries);
      return;
    }
    case "rwlock": {
      let rw: RWLock | undefined;
      o(() => (rw = RWLock.open(seg, kind)));
      if (!rw) return;
      const x = rw;
      o(() => x.tryReadLock()?.unlock()), o(() => x.tryWriteLock()?.unlock()), o(() => x.readLock(W).unlock());
      o(() => x.writeLock(W).unlock()), o(() => x.readers), o(() => x.writer), o(() => x.recoveries);
      return;
    }
    case "semaphore": {
      let sm: Semaphore | undefined;
      o(() => (sm = Semaphore.open(seg, kind)));
      if (!sm) return;
      const x = sm;
      o(() => x.tryAcquire() && x.release()), o(() => x.acquire(W).release()), o(() => x.available), o(() => x.held);
      o(() => x.addPermits(1)), o(() => x.recoveries);
      return;
    }
    case "barrier": {
      let br: Barrier | undefined;
      o(() => (br = Barrier.open(seg, kind)));
      if (!br) return;
      const x = br;
      o(() => x.generation), o(() => x.arrived), o(() => x.broken), o(() => x.wait(W)), o(() => x.reset()), o(() => x.wait(W));
      return;
    }
    case "latch": {
      let l: Latch | undefined;
      o(() => (l = Latch.open(seg, kind)));
      if (!l) return;
      const x = l;
      o(() => x.count), o(() => x.tryWait()), o(() => x.wait(W)), o(() => x.countDown()), o(() => x.arriveAndWait(W));
      o(() => x.countDown(3));
      return;
    }
    case "once": {
      let on: Once | undefined;
      o(() => (on = Once.open(seg, kind)));
      if (!on) return;
      const x = on;
      o(() => x.done), o(() => x.run(() => {}, W)), o(() => x.recoveries), o(() => x.run(() => {}, W));
      return;
    }
    case "event": {
      let ev: SharedEvent | undefined;
      o(() => (ev = SharedEvent.open(seg, kind)));
      if (!ev) return;
      const x = ev;
      o(() => x.tryWait()), o(() => x.wait(W)), o(() => x.set()), o(() => x.wait(W)), o(() => x.reset()), o(() => x.tryWait());
      return;
    }
    case "condvar": {
      let cv: ConditionVariable | undefined;
      let mx: Mutex | undefined;
      o(() => (cv = ConditionVariable.open(seg, kind)));
      o(() => (mx = Mutex.open(seg, "condvar.m")));
      if (!cv || !mx) return;
      const x = cv;
      const m = mx;
      o(() => x.waiters), o(() => x.notifyOne()), o(() => x.notifyAll());
      o(() => {
        const g = m.lock(W);
        try {
          x.wait(m, W);
        } finally {
          g.unlock();
        }
      });
      return;
    }
  }
}

const heapStart = template.heapOffset;
for (let c = start; c < corpus.cases.length; c++) {
  const k = corpus.cases[c];
  const t0 = performance.now();
  const name = `shmkit-fuzz-${pid}-${k.id}`;
  Segment.unlink(name);
  const fd = n.shmOpen(name, 1, 0o600);
  if (fd < 0 || n.resize(fd, template.bytes.length) < 0) throw new Error(`cannot make ${name}: ${fd}`);
  const address = n.map(fd, template.bytes.length);
  n.close(fd);
  const raw = new Uint8Array(n.view(address, template.bytes.length));
  raw.set(template.bytes);
  const dv = new DataView(raw.buffer);
  const write = (at: number, width: number | undefined, v: number) => {
    if (width === 8) {
      dv.setUint32(at, v % 0x1_0000_0000, true);
      dv.setUint32(at + 4, Math.floor(v / 0x1_0000_0000) % 0x1_0000_0000, true);
    } else dv.setUint32(at, v >>> 0, true);
  };
  if (k.x !== undefined) raw[k.at] ^= k.x;
  else write(k.at, k.width, k.v!);
  for (const w of k.also ?? []) write(w.at, w.width, w.v);
  const before = raw.slice(heapStart);
  const out: string[] = [];
  const targets: string[] = k.target === "segment" ? corpus.kinds : k.target.startsWith("selftest") ? [] : [k.target];
  let seg: Segment | undefined;
  op(out, () => (seg = Segment.open(name, { timeoutMs: W })));
  if (seg) {
    const s = seg;
    op(out, () => s.list());
    op(out, () => s.stats());
    for (const t of targets) exercise(s, t, out);
    // The suite's own checks, tested: a stray write must show as canary, a TypeError as raw.
    if (k.target === "selftest-canary") s.memory.u8[template.gaps[0].offset] ^= 0xff;
    if (k.target === "selftest-raw") op(out, () => (null as unknown as { x: number }).x);
    op(out, () => s.close());
  }
  // Writes outside the exercised blocks: compare the heap with what it was after the mutation.
  const allowed = template.blocks.filter((b) => targets.includes(b.label === "condvar.m" ? "condvar" : b.label));
  let outside = -1;
  for (let i = 0; i < before.length && outside < 0; i++) {
    const at = heapStart + i;
    if (raw[at] === before[i]) continue;
    if (!allowed.some((b) => at >= b.offset && at < b.offset + b.size)) outside = at;
  }
  n.unmap(address, template.bytes.length);
  Segment.unlink(name);
  const rawErr = out.find((x) => x.startsWith("RAW"));
  const cls = rawErr ? "raw" : outside >= 0 ? "canary" : out.length ? "typed" : "ok";
  const detail = rawErr ?? (outside >= 0 ? `byte ${outside} changed` : [...new Set(out)].join(","));
  const ms = Math.round(performance.now() - t0);
  console.log(`R ${k.id} ${cls} ${ms} ${detail.replace(/\s+/g, " ").slice(0, 200)}`);
}
tseg.close();
Segment.unlink(tname);
console.log("DONE");
