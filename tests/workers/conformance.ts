/**
 * One pass over the public API, printing a transcript (one JSON line per step) that
 * must not depend on how shmkit was built: run against the source (mod.ts) and the
 * compiled npm package (mod.js) under both runtimes, the transcripts must be equal.
 * Usage: <runtime> conformance.ts <module path or URL> <segment name>
 */
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const [modulePath, name] = args as [string, string];
const shm: typeof import("../../mod.ts") = await import(modulePath);
const { Segment, SharedArray, SharedAtomic, Queue, SpscQueue, Stack, ObjectPool, RingBuffer, BroadcastRing, Vector } = shm;
const { SharedMap, SharedSet, Mutex, Semaphore, Latch, Once, ShmError, struct, f64, u32, u8, u64, i64AsNumber, string } = shm;

const out: unknown[] = [];
const step = (what: string, value: unknown) => out.push([what, value]);
function code(fn: () => unknown): string {
  try {
    fn();
    return "no error";
  } catch (e) {
    return e instanceof ShmError ? e.code : `not a ShmError: ${e}`;
  }
}
const big = (v: unknown) => typeof v === "bigint" ? `${v}n` : v;

{
  using seg = Segment.create(name, { size: 1 << 20, unlinkOnLastClose: true });
  step("exists", code(() => Segment.create(name, { size: 1 << 16 })));

  const Point = struct({ x: f64, y: f64, id: u32, tag: string(8) });
  const points = SharedArray.create(seg, "points", Point, 4);
  points.set(1, { x: 1.5, y: -2, id: 7, tag: "héllo" });
  step("struct", points.get(1));
  step("field", points.getField(1, "id"));
  step("invalid", code(() => SharedArray.create(seg, "bytes", u8, 2).set(0, 300)));
  step("range", code(() => points.get(4)));
  step("mismatch", code(() => SharedArray.open(seg, "points", u32)));

  const a64 = SharedAtomic.create(seg, "a64", u64, 5n);
  step("atomic64", [a64.add(10n), a64.load(), a64.compareExchange(15n, 1n), a64.load()].map(big));
  const n64 = SharedAtomic.create(seg, "n64", i64AsNumber, 2 ** 40);
  step("atomicNumber", [n64.add(1), n64.load(), code(() => n64.store(2 ** 60))]);

  const q = Queue.create(seg, "q", u32, 3);
  step("queue", [q.tryPush(1), q.tryPush(2), q.tryPush(3), q.tryPush(4), code(() => q.push(5)), q.pop(), q.tryPop(), q.size]);
  const sq = SpscQueue.create(seg, "sq", f64, 2);
  sq.push(0.25);
  step("spsc", [sq.peek(), sq.pop(), sq.tryPop()]);
  const st = Stack.create(seg, "st", u32, 4);
  st.push(1);
  st.push(2);
  step("stack", [st.pop(), st.peek(), st.size]);

  const pool = ObjectPool.create(seg, "pool", u32, 2);
  const h = pool.acquire()!;
  pool.set(h, 99);
  step("pool", [pool.get(h), pool.available]);
  pool.release(h);
  step("pool release twice", code(() => pool.release(h)));

  const ring = RingBuffer.create(seg, "ring", u32, 8);
  step("ring push", ring.pushBulk([1, 2, 3]));
  const into = new Array<number>(4).fill(0);
  step("ring pop", [ring.popBulk(into), into]);

  const bc = BroadcastRing.create(seg, "bc", u32, 4);
  const reader = bc.reader({ from: "oldest" });
  bc.publish(10);
  bc.publish(11);
  step("broadcast", [reader.tryRead(), reader.tryRead(), reader.tryRead()]);

  const v = Vector.create(seg, "v", u32, 4);
  step("vector", [v.push(5), v.push(6), v.length, v.toArray()]);

  const map = SharedMap.create(seg, "map", string(16), u32, 16);
  map.set("a", 1);
  map.set("b", 2);
  map.update("a", (x) => (x ?? 0) + 10);
  step("map", [map.get("a"), map.has("b"), map.delete("b"), map.size, [...map].sort()]);
  const set = SharedSet.create(seg, "set", u32, 8);
  step("set", [set.add(3), set.add(3), set.has(3), set.size]);

  const m = Mutex.create(seg, "m");
  {
    using guard = m.lock();
    step("mutex", [guard.recovered, m.tryLock() === undefined]);
  }
  const sem = Semaphore.create(seg, "sem", 2);
  step("semaphore", [sem.tryAcquire(), sem.tryAcquire(), sem.tryAcquire()]);
  const latch = Latch.create(seg, "latch", 1);
  latch.countDown();
  step("latch", latch.count);
  let ran = 0;
  Once.create(seg, "once").run(() => ran++);
  step("once", ran);

  try {
    await Queue.create(seg, "empty", u32, 2).popAsync({ timeout: 5 });
    step("timeout", "no error");
  } catch (e) {
    step("timeout", (e as InstanceType<typeof ShmError>).code);
  }
  step("list", seg.list().map((e) => e.name).sort());
}
step("closed and unlinked", code(() => Segment.open(name, { timeoutMs: 0 })));
console.log(JSON.stringify(out, (_k, v) => typeof v === "bigint" ? `${v}n` : v));
