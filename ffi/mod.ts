/**
 * Finds and loads the native library for the runtime we are on. The only module
 * that looks at `Deno` or `Bun` globals. Where the library is looked for, in order
 * (docs/PACKAGING.md):
 *
 * 1. `SHMKIT_LIB`, when set (and, in Deno, readable: `--allow-env=SHMKIT_LIB`);
 * 2. a file that Bun embedded in a `bun build --compile` executable (npm package);
 * 3. the package's `native/libshmkit-<target>.so` next to this module (`file:` URLs:
 *    a clone, an npm install, a local copy of the JSR package);
 * 4. for a module imported over `http(s):` (JSR), the library carried in the module
 *    graph, written once into a per-user cache;
 * 5. a checkout's `zig-out/lib/libshmkit.so`.
 *
 * Whatever comes from the package is checked against native/manifest.json (sha256)
 * before dlopen; every failure is one ShmError.
 */
import { ShmError } from "../src/errors.ts";
import { type BunFfi, loadBun } from "./bun.ts";
import { type DenoFfi, loadDeno } from "./deno.ts";
import { embeddedBase64 } from "./embedded.ts";
import { installInCache, isNotCapable, type Manifest, type ManifestEntry, parseManifest, readFile, sha256 } from "./loader.ts";
import { ABI_VERSION, type Native } from "./native.ts";
import { detectPlatform, type Target, targetOf } from "./platform.ts";

export type { Native } from "./native.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const deno: (DenoFfi & { env: { get(name: string): string | undefined } }) | undefined = typeof g.Deno?.dlopen === "function"
  ? g.Deno
  : undefined;
// import.meta.require is Bun's synchronous require; Deno never evaluates this branch.
// deno-lint-ignore no-explicit-any
const bunFfi: BunFfi | undefined = !deno && typeof g.Bun !== "undefined" ? (import.meta as any).require("bun:ffi") : undefined;

const CLONE_HINT = "in a clone of shmkit, build it with `deno task build` (or `bash scripts/build.sh`)";

const MANIFEST_URL = new URL("../native/manifest.json", import.meta.url);
const remote = /^https?:$/.test(new URL(import.meta.url).protocol);

// The manifest comes from the module graph (so it is there in a JSR download and in a
// Bun executable too); its absence is reported when a library is needed, not here.
let manifest: Manifest | undefined;
let manifestError: ShmError | undefined;
try {
  manifest = parseManifest((await import("../native/manifest.json", { with: { type: "json" } })).default, MANIFEST_URL.href);
} catch (cause) {
  manifestError = cause instanceof ShmError ? cause : new ShmError(
    "LIBRARY_MISSING",
    `shmkit's native/manifest.json could not be loaded from ${MANIFEST_URL.href} (${cause}): ` +
      `an installed package ships it (reinstall it); ${CLONE_HINT}`,
    { cause },
  );
}

// Over HTTP, the library for this platform is fetched with the module graph now
// (native() is synchronous); a failure is kept for native() to report.
let embedded: { target: Target; base64: string | undefined } | ShmError | undefined;
if (remote && manifest) {
  let target: Target | undefined;
  try {
    target = targetOf(detectPlatform());
    embedded = { target, base64: await embeddedBase64(target) };
  } catch (cause) {
    embedded = cause instanceof ShmError ? cause : embeddedImportError(cause, target!);
  }
}

function embeddedImportError(cause: unknown, target: Target): ShmError {
  const url = new URL(`../native/embed-${target}.ts`, import.meta.url);
  if (isNotCapable(cause)) {
    return new ShmError("PERMISSION", `shmkit needs to import ${url.href}: run deno with --allow-import=${url.host}`, { cause });
  }
  return new ShmError(
    "LIBRARY_MISSING",
    `shmkit could not download its native library for ${target} from ${url.href} (${cause}): ` +
      `it is fetched with the module graph the first time, then cached; check the network, or cache the program while online (deno cache)`,
    { cause },
  );
}

let embeddedFiles: Partial<Record<Target, string>> = {};

/**
 * Registers library files that a bundler embedded (the npm package's Bun entry uses
 * `import path from "./x.so" with { type: "file" }`, which `bun build --compile` puts
 * into the executable). Not part of the public API.
 */
export function useEmbeddedLibraries(files: Partial<Record<Target, string>>): void {
  embeddedFiles = { ...files };
}

function env(name: string, required: boolean): string | undefined {
  if (!deno) return g.process?.env?.[name];
  // An optional variable is read only when already granted: without --allow-env
  // shmkit uses its own library rather than failing or prompting.
  if (!required && g.Deno.permissions?.querySync?.({ name: "env", variable: name })?.state !== "granted") return undefined;
  return deno.env.get(name);
}

/** An environment variable if it can be read without a prompt or an error (else undefined). */
export function optionalEnv(name: string): string | undefined {
  return env(name, false);
}

function isFile(path: string, denyHint: string): boolean {
  try {
    return readFile.stat(path);
  } catch (cause) {
    if (isNotCapable(cause)) {
      throw new ShmError("PERMISSION", `shmkit needs to read ${path}: run deno with --allow-read=${denyHint}`, { cause });
    }
    return false;
  }
}

function fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** Where a library was found, and what to clean up once it is loaded. */
interface Found {
  readonly path: string;
  readonly origin: "SHMKIT_LIB" | "embedded" | "package" | "cache" | "zig-out";
  readonly hint: string;
  readonly cleanup?: () => void;
}

function verifyPackaged(path: string, entry: ManifestEntry): void {
  const bytes = readPermitted(path);
  const sum = sha256(bytes);
  if (sum !== entry.sha256) {
    throw new ShmError(
      "LIBRARY_MISMATCH",
      `shmkit's native library ${path} does not match native/manifest.json (sha256 ${sum}, expected ${entry.sha256}); ` +
        `it was not loaded: reinstall the package, or ${CLONE_HINT}`,
    );
  }
}

function readPermitted(path: string): Uint8Array {
  try {
    return readFile.bytes(path);
  } catch (cause) {
    if (isNotCapable(cause)) {
      throw new ShmError("PERMISSION", `shmkit needs to read ${path}: run deno with --allow-read=${path}`, { cause });
    }
    throw new ShmError("LIBRARY_MISSING", `shmkit could not read its native library ${path} (${cause})`, { cause });
  }
}

function packagedEntry(target: Target): ManifestEntry {
  if (!manifest) throw manifestError!;
  if (manifest.abi !== ABI_VERSION) {
    throw new ShmError(
      "LIBRARY_MISMATCH",
      `shmkit's native/manifest.json is for native ABI ${manifest.abi}, this code expects ${ABI_VERSION}: reinstall the package, or ${CLONE_HINT}`,
    );
  }
  const entry = manifest.libraries[target];
  if (!entry) throw new ShmError("LIBRARY_MISSING", `shmkit's native/manifest.json lists no library for ${target}`);
  return entry;
}

function cacheOptions(): { cacheDir: string | undefined; tmpDir: string; envHint: string } {
  const xdg = env("XDG_CACHE_HOME", true);
  const home = xdg ? undefined : env("HOME", true);
  const base = xdg && xdg.startsWith("/") ? xdg : home ? `${home}/.cache` : undefined;
  const tmp = env("TMPDIR", false);
  return {
    cacheDir: base && `${base}/shmkit`,
    tmpDir: tmp && tmp.startsWith("/") ? tmp : "/tmp",
    envHint: "XDG_CACHE_HOME,HOME",
  };
}

function fromCache(bytes: Uint8Array, target: Target, entry: ManifestEntry, source: string): Found {
  const sum = sha256(bytes);
  if (sum !== entry.sha256) {
    throw new ShmError(
      "LIBRARY_MISMATCH",
      `shmkit's native library for ${target} from ${source} does not match native/manifest.json ` +
        `(sha256 ${sum}, expected ${entry.sha256}); it was not loaded`,
    );
  }
  let options;
  try {
    options = cacheOptions();
  } catch (cause) {
    if (!isNotCapable(cause)) throw cause;
    throw new ShmError(
      "PERMISSION",
      `shmkit needs to know its cache folder ($XDG_CACHE_HOME or $HOME/.cache): run deno with --allow-env=XDG_CACHE_HOME,HOME`,
      { cause },
    );
  }
  const installed = installInCache(bytes, `libshmkit-${target}-${entry.sha256.slice(0, 16)}.so`, entry.sha256, options);
  if (installed.warning) console.warn(`shmkit: ${installed.warning}`);
  return {
    path: installed.path,
    origin: "cache",
    hint: installed.temporary ? "a temporary copy" : `the cache ${options.cacheDir}`,
    cleanup: installed.cleanup,
  };
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function locate(): Found {
  const fromEnv = env("SHMKIT_LIB", false);
  if (fromEnv) {
    if (!isFile(fromEnv, fromEnv)) {
      throw new ShmError(
        "LIBRARY_MISSING",
        `SHMKIT_LIB is ${fromEnv}, which does not exist: unset it to use the library shipped with shmkit, ` +
          `or point it at a libshmkit.so (${CLONE_HINT})`,
      );
    }
    return { path: fromEnv, origin: "SHMKIT_LIB", hint: `SHMKIT_LIB=${fromEnv}` };
  }

  let target: Target | undefined;
  let unsupported: ShmError | undefined;
  try {
    target = targetOf(detectPlatform());
  } catch (e) {
    unsupported = e as ShmError;
  }

  if (target) {
    const file = embeddedFiles[target];
    if (file?.startsWith("/$bunfs/")) {
      const entry = packagedEntry(target);
      return fromCache(readPermitted(file), target, entry, "this executable");
    }
    if (remote) {
      if (embedded instanceof ShmError) throw embedded;
      const entry = packagedEntry(target);
      if (!embedded?.base64) throw new ShmError("LIBRARY_MISSING", `shmkit's package carries no library for ${target}`);
      return fromCache(
        decodeBase64(embedded.base64),
        target,
        entry,
        new URL(`../native/embed-${target}.ts`, import.meta.url).href,
      );
    }
    const shipped = file ?? fromFileUrl(new URL(`../native/libshmkit-${target}.so`, import.meta.url));
    if (isFile(shipped, fromFileUrl(new URL("../native", import.meta.url)))) {
      verifyPackaged(shipped, packagedEntry(target));
      return { path: shipped, origin: "package", hint: "the package's native/ folder" };
    }
  }

  if (!remote) {
    const built = fromFileUrl(new URL("../zig-out/lib/libshmkit.so", import.meta.url));
    if (isFile(built, built)) return { path: built, origin: "zig-out", hint: "this checkout's zig-out" };
  }
  if (unsupported) throw unsupported;
  throw new ShmError(
    "LIBRARY_MISSING",
    `shmkit's native library for ${target} was not found: an installed package ships it in native/ (reinstall it); ` +
      `${CLONE_HINT}, or set SHMKIT_LIB to its path`,
  );
}

/**
 * The ABI version of the library at `path`, read through a dlopen of that one symbol:
 * a library of another ABI may lack symbols this code binds, and the full dlopen would
 * then fail with a message about a symbol instead of the version.
 */
function probeAbi(path: string): number {
  const lib = deno
    ? deno.dlopen(path, { shmkit_abi_version: { parameters: [], result: "i32" } })
    : bunFfi!.dlopen(path, { shmkit_abi_version: { args: [], returns: "i32" } });
  try {
    return (lib.symbols as unknown as { shmkit_abi_version(): number }).shmkit_abi_version();
  } finally {
    lib.close();
  }
}

function open(found: Found): Native {
  try {
    const abi = probeAbi(found.path);
    if (abi !== ABI_VERSION) {
      throw new ShmError(
        "LIBRARY_MISMATCH",
        `shmkit's native library at ${found.path} (${found.hint}) has ABI ${abi}, this code expects ${ABI_VERSION}: ` +
          (found.origin === "SHMKIT_LIB" || found.origin === "zig-out" ? `rebuild it (${CLONE_HINT})` : "reinstall the package"),
      );
    }
    return deno ? loadDeno(deno, found.path) : loadBun(bunFfi!, found.path);
  } catch (cause) {
    if (cause instanceof ShmError) throw cause;
    if (isNotCapable(cause)) {
      // Not --allow-ffi=<path>: shmkit also needs Deno.UnsafePointer, which only full --allow-ffi grants.
      throw new ShmError("PERMISSION", `shmkit needs to load ${found.path}: run deno with --allow-ffi`, { cause });
    }
    const fix = found.origin === "SHMKIT_LIB" || found.origin === "zig-out" ? CLONE_HINT : "reinstall the package";
    throw new ShmError("LIBRARY_MISSING", `shmkit's native library at ${found.path} could not be loaded (${cause}): ${fix}`, {
      cause,
    });
  }
}

let loaded: Native | undefined;

/** The loaded native library (loaded on first use). Every failure is one ShmError. */
export function native(): Native {
  if (loaded) return loaded;
  if (!deno && !bunFfi) {
    throw new ShmError("UNSUPPORTED", "shmkit runs on Deno (with --allow-ffi) or Bun; this runtime has neither");
  }
  const found = locate();
  let lib: Native;
  try {
    lib = open(found);
  } finally {
    found.cleanup?.(); // a temporary copy can go once mapped
  }
  return loaded = lib;
}

/**
 * The path of the native library shmkit uses, loading it first if needed: `SHMKIT_LIB`,
 * the file shipped in the package, its copy in the per-user cache (for a package
 * imported over HTTP, such as JSR, or a Bun executable), or a checkout's build.
 * Throws the same {@linkcode ShmError} as the first shmkit call would.
 *
 * @example Where the library was loaded from
 * ```ts
 * import { libraryPath } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * // e.g. /home/me/.cache/shmkit/libshmkit-x86_64-linux-gnu-6102b6af2417ae50.so for a JSR import
 * assert.match(libraryPath(), /libshmkit[\w.-]*\.so$/);
 * ```
 */
export function libraryPath(): string {
  return native().path;
}
