/**
 * The packaged libraries as base64 modules (native/embed-<target>.ts, written by
 * `zig build`), for a shmkit imported over HTTP (JSR), where nothing next to the
 * module is on disk. The specifiers are literal so Deno puts them in the module
 * graph: it downloads and caches them with the rest of the package, and checks them
 * against the lockfile like any module; only the one for this platform is evaluated.
 *
 * The npm package ships the files themselves and replaces this module by one that
 * returns undefined (scripts/build-npm.sh).
 */
import type { Target } from "./platform.ts";

/** The library for `target`, base64-encoded. Rejects when the module cannot be loaded (e.g. no network). */
export async function embeddedBase64(target: Target): Promise<string | undefined> {
  switch (target) {
    case "x86_64-linux-gnu":
      return (await import("../native/embed-x86_64-linux-gnu.ts")).base64;
    case "aarch64-linux-gnu":
      return (await import("../native/embed-aarch64-linux-gnu.ts")).base64;
    case "x86_64-linux-musl":
      return (await import("../native/embed-x86_64-linux-musl.ts")).base64;
    case "aarch64-linux-musl":
      return (await import("../native/embed-aarch64-linux-musl.ts")).base64;
  }
}
