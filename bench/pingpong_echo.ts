/**
 * Echo child for bench/pingpong.bench.ts: long-lived, one per benchmark. It echoes
 * every value it is sent, unchanged, until it is told to stop (or its parent is gone).
 *
 *   pingpong_echo.ts shm <segment> <array> <spin|spin-then-park|short-spin-then-park|park-only>
 *       i32 words of the SharedArray: PING (0) and PONG (1), READY (2), and two
 *       eventcounts: the one this child parks on (words 4-5), the parent's (8-9).
 *       Waits until PING differs from the last value echoed, copies it to PONG and
 *       notifies the parent; PING = -1 stops.
 *   pingpong_echo.ts queue <segment> <ping queue> <pong queue>
 *       The public API: ping.popWait() then pong.push(value); a negative value stops.
 *   pingpong_echo.ts socket <unix socket path>     echoes every byte; prints "ready"
 *   pingpong_echo.ts pipe                          echoes stdin to stdout
 */
import process from "node:process";
import net from "node:net";
import { i32, Queue, Segment, SharedArray, ShmError } from "../mod.ts";
import { ASYNC_SPIN, DEFAULT_SPIN, notify, waitFor } from "../src/wait/wait.ts";
import { exitIfOrphaned } from "./common.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : process.argv.slice(2);

export const PING = 0;
export const PONG = 1;
export const READY = 2;
export const EC_CHILD = 4;
export const EC_PARENT = 8;
export const WORDS = 16;

/** Polls of the condition before parking, per mode. */
export function spinOf(mode: string): number {
  return mode === "spin-then-park" ? DEFAULT_SPIN : mode === "short-spin-then-park" ? ASYNC_SPIN : 0;
}

/** How long a child waits before checking that its parent is still there. */
const CHECK_MS = 1000;

if (import.meta.main) {
  if (args[0] === "shm") {
    const [, segName, arrayName, mode] = args;
    const seg = Segment.open(segName);
    const v = SharedArray.open(seg, arrayName, i32).view() as Int32Array;
    const mem = seg.memory;
    const ecChild = v.byteOffset + EC_CHILD * 4;
    const ecParent = v.byteOffset + EC_PARENT * 4;
    const spin = spinOf(mode);
    let last = Atomics.load(v, PING);
    const changed = () => {
      const p = Atomics.load(v, PING);
      return p !== last ? p : undefined;
    };
    Atomics.store(v, READY, 1);
    for (;;) {
      let p: number | undefined;
      if (mode === "spin") {
        let k = 0;
        while ((p = Atomics.load(v, PING)) === last) if ((++k & 0xfffff) === 0) exitIfOrphaned();
      } else {
        p = waitFor(mem, ecChild, changed, performance.now() + CHECK_MS, spin);
        if (p === undefined) {
          exitIfOrphaned();
          continue;
        }
      }
      if (p === -1) break;
      last = p;
      Atomics.store(v, PONG, p);
      if (mode !== "spin") notify(mem, ecParent, 1);
    }
    seg.close();
    process.exit(0);
  } else if (args[0] === "queue") {
    const [, segName, pingName, pongName] = args;
    const seg = Segment.open(segName);
    const ping = Queue.open(seg, pingName, i32);
    const pong = Queue.open(seg, pongName, i32);
    for (;;) {
      let n: number;
      try {
        n = ping.popWait(CHECK_MS);
      } catch (e) {
        if (!(e instanceof ShmError && e.code === "TIMEOUT")) throw e;
        exitIfOrphaned();
        continue;
      }
      if (n < 0) break;
      pong.push(n);
    }
    seg.close();
    process.exit(0);
  } else if (args[0] === "socket") {
    const server = net.createServer((s) => {
      s.setNoDelay?.(true);
      s.on("data", (b) => s.write(b));
      s.on("end", () => process.exit(0));
      s.on("error", () => process.exit(1));
    });
    server.listen(args[1], () => process.stdout.write("ready\n"));
  } else if (args[0] === "pipe") {
    process.stdin.on("data", (b: Uint8Array) => process.stdout.write(b));
    process.stdin.on("end", () => process.exit(0));
  } else {
    throw new Error(`unknown role ${args[0]}`);
  }
}
