/**
 * Finds and loads the native library for the runtime we are on. The only module
 * that looks at `Deno` or `Bun` globals.
 */
import { ShmError } from "../src/errors.ts";
import type { BunFfi } from "./bun.ts";
import { loadBun } from "./bun.ts";
import { loadDeno } from "./deno.ts";
import { ABI_VERSION, type Native } from "./native.ts";

export type { Native } from "./native.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isDeno = typeof g.Deno?.dlopen === "function";
const isBun = typeof g.Bun !== "undefined";
// A non-literal specifier keeps Deno from trying to resolve "bun:ffi".
const bunSpecifier = "bun:ffi";
const bunFfi: BunFfi | undefined = isBun ? await import(bunSpecifier) : undefined;

const BUILD_HINT = "build it with `deno task build` (or `bash scripts/build.sh`), or set SHMKIT_LIB to its path";

/** An environment variable, or undefined (also when Deno has no --allow-env). */
export function env(name: string): string | undefined {
  try {
    return isDeno ? g.Deno.env.get(name) : g.process?.env?.[name];
  } catch {
    return undefined; // Deno without --allow-env: fall back to the default path
  }
}

/** Where the library is looked for: SHMKIT_LIB, else the `zig build` output of this checkout. */
export function libraryPath(): string {
  const fromEnv = env("SHMKIT_LIB");
  if (fromEnv) return fromEnv;
  return decodeURIComponent(new URL("../zig-out/lib/libshmkit.so", import.meta.url).pathname);
}

function exists(path: string): boolean {
  try {
    if (isDeno) return g.Deno.statSync(path).isFile;
    return g.Bun.file(path).size > 0;
  } catch {
    return false;
  }
}

let loaded: Native | undefined;

/** The loaded native library (loaded on first use). Throws LIBRARY_MISSING with a fix. */
export function native(): Native {
  if (loaded) return loaded;
  if (!isDeno && !bunFfi) {
    throw new ShmError("UNSUPPORTED", "shmkit runs on Deno (with --allow-ffi) or Bun; this runtime has neither");
  }
  const path = libraryPath();
  if (!exists(path)) {
    throw new ShmError("LIBRARY_MISSING", `shmkit's native library was not found at ${path}: ${BUILD_HINT}`);
  }
  let lib: Native;
  try {
    lib = isDeno ? loadDeno(path) : loadBun(bunFfi!, path);
  } catch (cause) {
    throw new ShmError("LIBRARY_MISSING", `shmkit's native library at ${path} could not be loaded (${cause}): ${BUILD_HINT}`, { cause });
  }
  if (lib.abiVersion() !== ABI_VERSION) {
    throw new ShmError("LIBRARY_MISSING", `shmkit's native library at ${path} has ABI ${lib.abiVersion()}, expected ${ABI_VERSION}: rebuild it`);
  }
  return loaded = lib;
}
