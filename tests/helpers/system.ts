/**
 * System tools that some tests drive (tmux, chromium): finding them on PATH and, when
 * missing, installing the Debian package — only as root, and only then, so a machine
 * that already has them does no network access at all.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

function env(name: string): string | undefined {
  return g.Deno ? g.Deno.env.get(name) : g.process.env[name];
}

/** The first of `names` found on PATH (or in /usr/bin, /usr/sbin), or undefined. */
export function findExecutable(names: readonly string[]): string | undefined {
  const dirs = [...(env("PATH") ?? "").split(":").filter((d) => d), "/usr/bin", "/usr/sbin", "/bin"];
  for (const n of names) for (const d of dirs) if (existsSync(`${d}/${n}`)) return `${d}/${n}`;
  return undefined;
}

/** True when this process runs as root. */
export function isRoot(): boolean {
  const uid = g.Deno ? g.Deno.uid?.() : g.process.getuid?.();
  return uid === 0;
}

/**
 * The path of one of `binaries`, installing Debian package `pkg` first when none is
 * found (apt-get as root; `apt-get update` and a retry if the first install fails).
 * Throws with the reason when it is still missing.
 */
export function ensurePackage(binaries: readonly string[], pkg: string): string {
  const found = findExecutable(binaries);
  if (found) return found;
  if (!isRoot() || !findExecutable(["apt-get"])) {
    throw new Error(`${binaries[0]} is missing; install it with: apt-get install -y ${pkg}`);
  }
  const aptEnv = { ...(g.Deno ? g.Deno.env.toObject() : g.process.env), DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=120", "install", "-y", "--no-install-recommends", pkg], {
      env: aptEnv,
      encoding: "utf8",
      timeout: 600_000,
    });
  let r = install();
  if (r.status !== 0) {
    spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=120", "update"], { env: aptEnv, encoding: "utf8", timeout: 300_000 });
    r = install();
  }
  const path = findExecutable(binaries);
  if (!path) throw new Error(`installing ${pkg} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return path;
}
