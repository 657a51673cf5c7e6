/**
 * What every child process in tests/workers/ needs, under Deno and Bun alike: its
 * arguments, which runtime it is, its pid, a blocking sleep, and a way to stay alive
 * until the test kills it.
 */

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The script's arguments (without the runtime and script path). */
export const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);

/** The runtime this worker runs under. */
export const runtime: "deno" | "bun" = g.Deno ? "deno" : "bun";

/** This process's id. */
export const pid: number = g.Deno ? g.Deno.pid : g.process.pid;

/** A pid no process has (above the kernel's pid_max ceiling of 2^22): an owner that reads as dead. */
export const NO_PID = 0x3ffffff0;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds (Atomics.wait on a private cell). */
export function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Keeps the event loop alive forever: for modes that wait to be killed. */
export function forever(): void {
  setInterval(() => {}, 1 << 30);
}

/** Exits the process with `code` at once. */
export function exit(code = 0): void {
  if (g.Deno) g.Deno.exit(code);
  else g.process.exit(code);
}
