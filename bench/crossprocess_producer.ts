/**
 * Producer child for bench/crossprocess.bench.ts. Sends `count` 8-byte messages (the
 * f64 values 0, 1, 2, ... count-1), `batch` at a time (1 = one per call):
 *
 *   crossprocess_producer.ts shm  <segment> <structure> <queue|spsc|ring> <count> <batch>
 *   crossprocess_producer.ts sock <unix socket path> <count> <batch>
 *
 * shm: tryPush / pushBulk into the named structure, spinning while it is full.
 * sock: connects to the consumer's Unix domain socket and writes `batch` messages per
 * write() (a fresh Buffer each time: a stream keeps the buffer until it is flushed),
 * waiting for 'drain' whenever write() reports back-pressure.
 */
import { connect } from "node:net";
import { f64, Queue, RingBuffer, Segment, SpscQueue } from "../mod.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);

if (args[0] === "shm") {
  const [, segName, name, kind, countArg, batchArg] = args;
  const count = Number(countArg);
  const batch = Number(batchArg);
  const seg = Segment.open(segName);
  if (kind === "ring") {
    const r = RingBuffer.open(seg, name, f64);
    if (batch === 1) {
      for (let i = 0; i < count; i++) while (!r.tryPush(i)) { /* full: spin */ }
    } else {
      const buf = new Float64Array(batch);
      for (let i = 0; i < count; i += batch) {
        const n = Math.min(batch, count - i);
        for (let j = 0; j < n; j++) buf[j] = i + j;
        let done = 0;
        while (done < n) done += r.pushBulk(done === 0 && n === batch ? buf : buf.subarray(done, n));
      }
    }
  } else {
    const q = kind === "spsc" ? SpscQueue.open(seg, name, f64) : Queue.open(seg, name, f64);
    if (batch === 1) {
      for (let i = 0; i < count; i++) while (!q.tryPush(i)) { /* full: spin */ }
    } else {
      const buf = new Float64Array(batch);
      for (let i = 0; i < count; i += batch) {
        const n = Math.min(batch, count - i);
        for (let j = 0; j < n; j++) buf[j] = i + j;
        let done = 0;
        while (done < n) done += q.pushBulk(done === 0 && n === batch ? buf : buf.subarray(done, n));
      }
    }
  }
  seg.close();
} else if (args[0] === "sock") {
  const [, path, countArg, batchArg] = args;
  const count = Number(countArg);
  const batch = Number(batchArg);
  const sock = connect(path);
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", () => resolve());
    sock.once("error", reject);
  });
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const b = new Float64Array(n);
    for (let j = 0; j < n; j++) b[j] = i + j;
    if (!sock.write(new Uint8Array(b.buffer))) await new Promise((resolve) => sock.once("drain", resolve));
  }
  await new Promise<void>((resolve) => sock.end(resolve));
} else {
  throw new Error(`unknown mode ${args[0]}`);
}
