/**
 * Spawns real child processes of either runtime for multi-process tests.
 * Uses node:child_process, which Deno and Bun both provide.
 */
import { spawn } from "node:child_process";

export type Runtime = "deno" | "bun";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
function env(name: string): string | undefined {
  return g.Deno ? g.Deno.env.get(name) : g.process.env[name];
}

/** The command that runs a script in `rt` (SHMKIT_DENO / SHMKIT_BUN from scripts/setup.sh, else PATH). */
export function command(rt: Runtime, script: string, args: readonly string[]): [string, string[]] {
  if (rt === "deno") return [env("SHMKIT_DENO") ?? "deno", ["run", "-A", "--quiet", script, ...args]];
  return [env("SHMKIT_BUN") ?? "bun", ["run", script, ...args]];
}

export interface Result {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface Child {
  readonly pid: number;
  /** Resolves when the process exits (rejects after `timeoutMs`, killing it). */
  readonly done: Promise<Result>;
  kill(signal?: "SIGKILL" | "SIGTERM" | "SIGINT"): void;
  /** Resolves with the first stdout line that satisfies `match`. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
}

/** Starts `script` (a path or file URL) under runtime `rt`. */
export function start(rt: Runtime, script: string | URL, args: readonly string[] = [], timeoutMs = 60_000): Child {
  const path = script instanceof URL ? decodeURIComponent(script.pathname) : script;
  const [cmd, argv] = command(rt, path, args);
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const lineWaiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let partial = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const lines = partial.split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      for (let i = lineWaiters.length - 1; i >= 0; i--) {
        if (lineWaiters[i].match(line)) lineWaiters.splice(i, 1)[0].resolve(line);
      }
    }
  });
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const done = new Promise<Result>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`${rt} ${path} ${args.join(" ")} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid!,
    done,
    kill: (signal = "SIGKILL") => void child.kill(signal),
    waitForLine: (match) =>
      new Promise((resolve, reject) => {
        // The line may have arrived before anyone asked for it.
        const seen = stdout.split("\n").slice(0, -1).find(match);
        if (seen !== undefined) return resolve(seen);
        lineWaiters.push({ match, resolve });
        done.then(
          () => reject(new Error(`process exited before printing the line\nstdout: ${stdout}\nstderr: ${stderr}`)),
          reject,
        );
      }),
  };
}

/** Runs `script` to completion and returns its output; throws if it exits non-zero. */
export async function run(rt: Runtime, script: string | URL, args: readonly string[] = [], timeoutMs = 60_000): Promise<string> {
  const r = await start(rt, script, args, timeoutMs).done;
  if (r.code !== 0) {
    throw new Error(
      `${rt} ${script} ${args.join(" ")} exited with ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
  }
  return r.stdout;
}

/** Runs several children at once and returns their stdouts in order. */
export function runAll(jobs: readonly [Runtime, string | URL, readonly string[]][], timeoutMs = 60_000): Promise<string[]> {
  return Promise.all(jobs.map(([rt, s, a]) => run(rt, s, a, timeoutMs)));
}

/** Parses the last line of a child's stdout as JSON (workers report results that way). */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}
