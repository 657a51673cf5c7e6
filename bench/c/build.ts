/**
 * Builds the C baselines of bench/vs_c.ts into bench/c/out/ (gitignored) with the
 * pinned Zig toolchain's C compiler (`zig cc`, from PATH as scripts/setup.sh sets it,
 * else .tools/zig), only when a source is newer than its output. Each output is
 * compiled to a temporary name and renamed, so a concurrent run never sees half a file.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { env } from "../common.ts";

const here = decodeURIComponent(new URL(".", import.meta.url).pathname);
export const OUT = `${here}out`;
const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** The C programs (and the clock library for the TS side), with their sources and flags. */
const TARGETS: { out: string; src: string; flags: string[] }[] = [
  { out: "throughput8", src: "throughput.c", flags: ["-DMSG_BYTES=8"] },
  { out: "throughput64", src: "throughput.c", flags: ["-DMSG_BYTES=64"] },
  { out: "pingpong", src: "pingpong.c", flags: [] },
  { out: "stream", src: "stream.c", flags: [] },
  { out: "libbenchclock.so", src: "clock.c", flags: ["-shared", "-fPIC"] },
];
const CFLAGS = ["-std=c11", "-O2", "-DNDEBUG", "-Wall", "-Wextra", "-Werror"];

/** Path of a built program or library in bench/c/out/. */
export function cPath(name: string): string {
  return `${OUT}/${name}`;
}

/** The Zig executable whose `zig cc` builds the baselines. */
export function zig(): string {
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (dir && existsSync(`${dir}/zig`)) return `${dir}/zig`;
  }
  const pinned = `${ROOT}.tools/zig/ziglang/zig`;
  if (existsSync(pinned)) return pinned;
  throw new Error("bench/c: zig not found: run `bash scripts/setup.sh` (it installs the pinned Zig into .tools/)");
}

/** Compiles every target whose output is missing or older than any C source here. */
export function buildC(): void {
  mkdirSync(OUT, { recursive: true });
  // Any header may be included by any program: the newest source dates them all.
  const newest = Math.max(
    ...readdirSync(here).filter((f) => /\.[ch]$/.test(f)).map((f) => statSync(`${here}${f}`).mtimeMs),
  );
  let compiler: string | undefined;
  for (const t of TARGETS) {
    const out = cPath(t.out);
    if (existsSync(out) && statSync(out).mtimeMs >= newest) continue;
    compiler ??= zig();
    const tmp = `${out}.tmp-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    try {
      execFileSync(compiler, ["cc", ...CFLAGS, ...t.flags, "-o", tmp, `${here}${t.src}`], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      rmSync(tmp, { force: true });
      const stderr = String((e as { stderr?: unknown }).stderr ?? e);
      throw new Error(`bench/c: compiling ${t.src} (${t.out}) failed:\n${stderr}`);
    }
    renameSync(tmp, out);
  }
}
