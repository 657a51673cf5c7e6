/**
 * Producer child for bench/crossprocess.bench.ts: long-lived, one per benchmark. On
 * each request k (k = 1, 2, ...) it sends one batch of `count` 8-byte messages, the
 * f64 values k*count, k*count + 1, ..., k*count + count - 1, `batch` per call
 * (1 = one per call), and then waits for the next request:
 *
 *   crossprocess_producer.ts shm  <segment> <structure> <queue|spsc|ring> <count> <batch> <request queue>
 *   crossprocess_producer.ts sock <unix socket path> <count> <batch>
 *
 * shm: requests come through a Queue<f64> (popWait); a negative request stops. The
 * batch goes out by tryPush / pushBulk into the named structure, spinning while it is
 * full.
 * sock: requests are 8-byte f64 messages from the consumer on the same socket; the
 * consumer closing its end stops. `batch` messages per write() (a fresh buffer each
 * time: a stream keeps the buffer until it is flushed), waiting for 'drain' whenever
 * write() reports back-pressure.
 * Either way the child exits on its own if its parent is gone.
 */
import { connect } from "node:net";
import process from "node:process";
import { f64, Queue, RingBuffer, Segment, ShmError, SpscQueue } from "../mod.ts";
import { exitIfOrphaned } from "./common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : process.argv.slice(2);

if (args[0] === "shm") {
  const [, segName, name, kind, countArg, batchArg, reqName] = args;
  const count = Number(countArg);
  const batch = Number(batchArg);
  const seg = Segment.open(segName);
  const req = Queue.open(seg, reqName, f64);
  const ring = kind === "ring" ? RingBuffer.open(seg, name, f64) : undefined;
  const q = kind === "ring" ? undefined : kind === "spsc" ? SpscQueue.open(seg, name, f64) : Queue.open(seg, name, f64);
  const buf = new Float64Array(batch);
  let spins = 0;
  const full = () => {
    if ((++spins & 0xfffff) === 0) exitIfOrphaned();
  };
  for (;;) {
    let k: number;
    try {
      k = req.popWait(1000);
    } catch (e) {
      if (!(e instanceof ShmError && e.code === "TIMEOUT")) throw e;
      exitIfOrphaned();
      continue;
    }
    if (k < 0) break;
    const base = k * count;
    const end = base + count;
    if (batch === 1) {
      if (ring) { for (let i = base; i < end; i++) while (!ring.tryPush(i)) full(); }
      else for (let i = base; i < end; i++) while (!q!.tryPush(i)) full();
    } else {
      for (let i = base; i < end; i += batch) {
        const n = Math.min(batch, end - i);
        for (let j = 0; j < n; j++) buf[j] = i + j;
        let done = 0;
        while (done < n) {
          const span = done === 0 && n === batch ? buf : buf.subarray(done, n);
          const pushed = ring ? ring.pushBulk(span) : q!.pushBulk(span);
          if (pushed === 0) full();
          done += pushed;
        }
      }
    }
  }
  seg.close();
  process.exit(0);
} else if (args[0] === "sock") {
  const [, path, countArg, batchArg] = args;
  const count = Number(countArg);
  const batch = Number(batchArg);
  const sock = connect(path);
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    sock.once("error", reject);
  });
  const send = async (k: number) => {
    const base = k * count;
    const end = base + count;
    for (let i = base; i < end; i += batch) {
      const n = Math.min(batch, end - i);
      const b = new Float64Array(n);
      for (let j = 0; j < n; j++) b[j] = i + j;
      if (!sock.write(new Uint8Array(b.buffer))) await new Promise((resolve) => sock.once("drain", resolve));
    }
  };
  // Requests are 8 bytes; the consumer sends the next one only after the whole batch
  // arrived, but a request may still arrive split.
  let pending = new Uint8Array(0);
  let chain = Promise.resolve();
  sock.on("data", (chunk: Uint8Array) => {
    const all = new Uint8Array(pending.length + chunk.length);
    all.set(pending);
    all.set(chunk, pending.length);
    const n = all.length >> 3;
    const ks = new Float64Array(all.slice(0, n << 3).buffer);
    pending = all.slice(n << 3);
    for (const k of ks) chain = chain.then(() => send(k));
  });
  sock.on("end", () => chain.then(() => sock.end(() => process.exit(0))));
  sock.on("error", () => process.exit(1));
  setInterval(exitIfOrphaned, 1000).unref?.();
} else {
  throw new Error(`unknown mode ${args[0]}`);
}
