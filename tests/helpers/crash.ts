/**
 * The crash suite's driver (tests/crash.test.ts): worker processes of both runtimes
 * run tight loops on a structure while the driver SIGKILLs them at random moments and
 * starts replacements, and targeted kills stop a worker inside a claim window
 * (src/structures/pause.ts) and kill it there.
 *
 * Workers (tests/workers/crash_*.ts) print `READY` once they are in their loop and
 * `PAUSED <point>` when they reach the pause point named by SHMKIT_TEST_PAUSE_AT.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { command, type Runtime } from "./procs.ts";
import { flag } from "../harness.ts";

/** SHMKIT_SOAK=1 runs the random-kill phases this many times longer. */
export const SOAK = flag("SHMKIT_SOAK") ? 20 : 1;

export interface Worker {
  readonly pid: number;
  readonly rt: Runtime;
  /** Resolves with the exit code or signal when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }>;
  /**
   * Resolves with the first stdout line starting with `prefix` (or with one of several
   * prefixes); rejects if the process exits first or after `ms`.
   */
  line(prefix: string | readonly string[], ms?: number): Promise<string>;
  kill(): void;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
function baseEnv(): Record<string, string> {
  return g.Deno ? g.Deno.env.toObject() : { ...g.process.env };
}

/** Starts a worker script under `rt` with extra environment variables. */
export function startWorker(rt: Runtime, script: URL, args: readonly string[], env: Record<string, string> = {}): Worker {
  const [cmd, argv] = command(rt, decodeURIComponent(script.pathname), args);
  const fullEnv = { ...baseEnv(), ...env };
  if (env.SHMKIT_TEST_PAUSE_AT === undefined) delete fullEnv.SHMKIT_TEST_PAUSE_AT;
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], env: fullEnv });
  let stdout = "";
  let stderr = "";
  const waiters: { prefixes: readonly string[]; resolve: (l: string) => void }[] = [];
  const find = (prefixes: readonly string[]) => stdout.split("\n").find((l) => prefixes.some((p) => l.startsWith(p)));
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (c: string) => {
    stdout += c;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const hit = find(waiters[i].prefixes);
      if (hit !== undefined) waiters.splice(i, 1)[0].resolve(hit);
    }
  });
  child.stderr!.on("data", (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stderr, stdout }));
    child.on("error", (e) => resolve({ code: -1, signal: null, stderr: String(e), stdout }));
  });
  return {
    pid: child.pid!,
    rt,
    exited,
    kill: () => void child.kill("SIGKILL"),
    line: (prefix, ms = 20_000) =>
      new Promise((resolve, reject) => {
        const prefixes = typeof prefix === "string" ? [prefix] : prefix;
        const hit = find(prefixes);
        if (hit !== undefined) return resolve(hit);
        const timer = setTimeout(
          () => reject(new Error(`no "${prefix}" line from ${rt} worker after ${ms} ms\nstdout: ${stdout}\nstderr: ${stderr}`)),
          ms,
        );
        waiters.push({ prefixes, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        exited.then((r) => {
          clearTimeout(timer);
          reject(
            new Error(`${rt} worker exited (${r.code ?? r.signal}) before "${prefix}"\nstdout: ${r.stdout}\nstderr: ${r.stderr}`),
          );
        });
      }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the kernel says each thread of `pid` is doing (state and wait channel), for a stuck worker's report. */
function where(pid: number): string {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, "utf8");
      return `  thread ${tid} ${stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)} ${wchan}`;
    }).join("\n");
  } catch (e) {
    return `  (no /proc entry for ${pid}: ${e})`;
  }
}

export interface ChaosSlot {
  /** Starts incarnation `n` of this slot (alternate the runtime with `n`). */
  start(n: number): Worker;
}

export interface ChaosResult {
  kills: number;
  /** Workers that exited on their own (finished their quota) and were replaced. */
  finished: number;
  /** Non-zero exits that were not our kills: worker errors, reported by the test. */
  errors: string[];
}

/**
 * Runs every slot's worker, kills it after a random 5…`maxRunMs` ms of its loop, starts
 * the next incarnation, until `durationMs` has passed; then kills what still runs.
 */
export async function chaos(slots: ChaosSlot[], durationMs: number, maxRunMs = 60): Promise<ChaosResult> {
  const end = Date.now() + durationMs * SOAK;
  const result: ChaosResult = { kills: 0, finished: 0, errors: [] };
  let incarnation = 0;
  await Promise.all(slots.map(async (slot) => {
    while (Date.now() < end) {
      const w = slot.start(incarnation++);
      let killed = false;
      try {
        // A worker told to pause may reach its pause point inside open, before READY
        // (opening a pool resolves dead holders through the free ring): either line
        // means it is where a kill is wanted.
        await w.line(["READY", "PAUSED"]);
        await Promise.race([sleep(5 + Math.random() * (maxRunMs - 5)), w.exited]);
        w.kill();
        killed = true;
      } catch (e) {
        // No READY (a worker stuck before its loop): say where it is, then kill it, or
        // the `exited` below would wait for a process that never ends.
        result.errors.push(`${String(e)}\n${where(w.pid)}`);
        w.kill();
      }
      const r = await w.exited;
      if (r.signal === "SIGKILL" && killed) result.kills++;
      else if (r.code === 0) result.finished++;
      else result.errors.push(`${w.rt} worker exited with ${r.code ?? r.signal}: ${r.stderr.slice(0, 2000)}`);
    }
  }));
  return result;
}

/** Starts a worker that stops at `point` (its `nth` pass), waits until it is there, and kills it. */
export async function killAt(rt: Runtime, script: URL, args: readonly string[], point: string, nth = 1): Promise<void> {
  const w = startWorker(rt, script, args, { SHMKIT_TEST_PAUSE_AT: `${point}:${nth}` });
  await w.line(`PAUSED ${point}`);
  w.kill();
  const r = await w.exited;
  if (r.signal !== "SIGKILL") throw new Error(`worker was not killed at ${point}: ${r.code} ${r.stderr}`);
}
