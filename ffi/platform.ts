/**
 * Which packaged library fits the running process: OS, CPU architecture and C
 * library, named as build.zig names its targets.
 */
import { ShmError } from "../src/errors.ts";

/** The targets the packages ship a library for (build.zig `packaged`). */
export const TARGETS = ["x86_64-linux-gnu", "aarch64-linux-gnu", "x86_64-linux-musl", "aarch64-linux-musl"] as const;

/** One of {@linkcode TARGETS}: `<arch>-linux-<libc>`. */
export type Target = (typeof TARGETS)[number];

/** The running process, in the runtime-neutral spelling used by {@linkcode TARGETS}. */
export interface Platform {
  /** "linux", "darwin", "windows", ... */
  readonly os: string;
  /** "x86_64", "aarch64", ... */
  readonly arch: string;
  /** "gnu" (glibc) or "musl" on Linux; "" elsewhere. */
  readonly libc: string;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

const ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64", ia32: "x86", arm: "arm" };

/** Reads OS, architecture and C library from the runtime (Deno.build, or Node's process in Bun). */
export function detectPlatform(): Platform {
  if (typeof g.Deno?.build?.os === "string") {
    const b = g.Deno.build;
    return { os: b.os, arch: b.arch, libc: b.os === "linux" ? (b.env === "musl" ? "musl" : "gnu") : "" };
  }
  const p = g.process;
  const os: string = p?.platform ?? "unknown";
  const arch: string = ARCH[p?.arch] ?? p?.arch ?? "unknown";
  let libc = "";
  if (os === "linux") {
    // A glibc process reports the glibc it runs on; a musl one (Alpine) reports none.
    const header = p.report?.getReport?.()?.header;
    libc = header && header.glibcVersionRuntime === undefined ? "musl" : "gnu";
  }
  return { os, arch, libc };
}

/** The packaged target for `platform`; UNSUPPORTED, naming OS and architecture, when there is none. */
export function targetOf(platform: Platform): Target {
  const name = `${platform.arch}-${platform.os}-${platform.libc}`;
  const found = TARGETS.find((t) => t === name);
  if (found) return found;
  throw new ShmError(
    "UNSUPPORTED",
    `shmkit has no native library for ${platform.os} on ${platform.arch}${platform.libc ? ` (${platform.libc})` : ""}: ` +
      `it runs on Linux x86_64 and aarch64 (glibc or musl); elsewhere build libshmkit yourself and set SHMKIT_LIB`,
  );
}
