/** Shared bits for benchmarks: the runtime's name, a unique segment name, and child-process helpers. */
import { existsSync } from "node:fs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
export const runtime: string = g.Bun ? `bun ${g.Bun.version}` : `deno ${g.Deno.version.deno}`;
export function benchSegmentName(tag: string): string {
  return `shmkit-bench-${tag}-${g.Deno?.pid ?? g.process.pid}`;
}

export type Runtime = "deno" | "bun";
/** The runtime this process runs on. */
export const self: Runtime = g.Bun ? "bun" : "deno";
/** The other one (a child of it is benchmarked too when its executable is found). */
export const other: Runtime = self === "deno" ? "bun" : "deno";

/** An environment variable (undefined when absent, or when Deno lacks --allow-env). */
export function env(k: string): string | undefined {
  try {
    return g.Deno ? g.Deno.env.get(k) : g.process.env[k];
  } catch {
    return undefined;
  }
}

/** Executable of `rt`: this process's own, SHMKIT_DENO/SHMKIT_BUN (scripts/setup.sh), else a PATH lookup. */
export function executable(rt: Runtime): string | undefined {
  if (rt === self) return g.Deno ? g.Deno.execPath() : g.process.execPath;
  const fromEnv = env(rt === "deno" ? "SHMKIT_DENO" : "SHMKIT_BUN");
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (dir && existsSync(`${dir}/${rt}`)) return `${dir}/${rt}`;
  }
  return undefined;
}

/** argv (after the executable) that runs `script` with `args` under `rt`. */
export function scriptArgv(rt: Runtime, script: string, args: string[]): string[] {
  return rt === "deno" ? ["run", "-A", "--quiet", script, ...args] : [script, ...args];
}

/**
 * For child processes: exits when the parent that started us is gone (re-parented),
 * so a killed benchmark leaves no child spinning. Cheap enough to call every few ms.
 */
const parentAtStart: number = g.process?.ppid ?? g.Deno?.ppid;
export function exitIfOrphaned(): void {
  const now = g.process?.ppid ?? g.Deno?.ppid;
  if (now !== parentAtStart) g.process?.exit ? g.process.exit(3) : g.Deno.exit(3);
}
