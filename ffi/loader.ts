/**
 * The runtime-neutral parts of loading: the manifest, checksums, and putting a
 * library into the per-user cache so that many processes doing it at once never see
 * half a file. Uses node:fs and node:crypto, which Deno and Bun both provide (Deno
 * reports a missing permission as Deno.errors.NotCapable, which callers turn into a
 * PERMISSION error naming the flag).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { ShmError } from "../src/errors.ts";

/** One library in native/manifest.json. */
export interface ManifestEntry {
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

/** native/manifest.json, written by `zig build` (zig/manifest.zig). */
export interface Manifest {
  readonly abi: number;
  readonly libraries: Readonly<Record<string, ManifestEntry | undefined>>;
}

/** Validates the manifest's shape: a malformed manifest is LIBRARY_MISMATCH. */
export function parseManifest(value: unknown, where: string): Manifest {
  const bad = (why: string) =>
    new ShmError("LIBRARY_MISMATCH", `shmkit's manifest ${where} is not valid (${why}): reinstall the package`);
  if (typeof value !== "object" || value === null) throw bad("not an object");
  const m = value as { abi?: unknown; libraries?: unknown };
  if (typeof m.abi !== "number") throw bad("no abi");
  if (typeof m.libraries !== "object" || m.libraries === null) throw bad("no libraries");
  for (const [target, e] of Object.entries(m.libraries as Record<string, unknown>)) {
    const entry = e as Partial<ManifestEntry> | null;
    if (typeof entry?.file !== "string" || typeof entry.size !== "number" || !/^[0-9a-f]{64}$/.test(entry.sha256 ?? "")) {
      throw bad(`entry ${target}`);
    }
  }
  return m as Manifest;
}

/** Hex sha256 of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** True for Deno's "permission not granted" error (NotCapable; Bun has no permissions). */
export function isNotCapable(e: unknown): boolean {
  // deno-lint-ignore no-explicit-any
  const NotCapable = (globalThis as any).Deno?.errors?.NotCapable;
  return NotCapable !== undefined && e instanceof NotCapable;
}

/** File reads, as one object so tests and callers share the same error behaviour. */
export const readFile = {
  /** True if `path` is a regular file; false if it does not exist; throws NotCapable. */
  stat(path: string): boolean {
    try {
      return statSync(path).isFile();
    } catch (e) {
      if (isNotCapable(e)) throw e;
      return false;
    }
  },
  bytes(path: string): Uint8Array {
    return new Uint8Array(readFileSync(path));
  },
};

/** Where a cached library ended up. */
export interface Installed {
  readonly path: string;
  /** True when the cache could not be written and a private temporary copy is used. */
  readonly temporary: boolean;
  /** Removes a temporary copy (a mapped library no longer needs its file). */
  readonly cleanup?: () => void;
  /** Why the cache was not used, for one warning. */
  readonly warning?: string;
}

function code(e: unknown): string {
  return String((e as { code?: unknown })?.code ?? (e as Error)?.name ?? e);
}

/**
 * Puts `bytes` (already checked against the manifest) at `<cacheDir>/<name>` unless a
 * file with the right sha256 is there already. A file that fails its checksum is
 * replaced, never returned. The copy is written under a temporary name and renamed,
 * so concurrent loaders see either no file or a whole one. If the cache folder cannot
 * be written, a private temporary folder under `tmpDir` is used instead (with a warning).
 */
export function installInCache(
  bytes: Uint8Array,
  name: string,
  expected: string,
  options: { cacheDir: string | undefined; tmpDir: string },
): Installed {
  const dir = options.cacheDir;
  let reason = "no $XDG_CACHE_HOME or $HOME";
  if (dir) {
    const path = `${dir}/${name}`;
    let existing: Uint8Array | undefined;
    try {
      existing = readFile.bytes(path);
    } catch (e) {
      if (isNotCapable(e)) {
        throw new ShmError("PERMISSION", `shmkit needs to read its cache ${dir}: run deno with --allow-read=${dir}`, {
          cause: e,
        });
      }
    }
    if (existing && sha256(existing) === expected) return { path, temporary: false };
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeAtomically(path, bytes);
      return { path, temporary: false };
    } catch (e) {
      if (isNotCapable(e)) {
        throw new ShmError("PERMISSION", `shmkit needs to write its cache ${dir}: run deno with --allow-write=${dir}`, {
          cause: e,
        });
      }
      reason = `${dir} cannot be written (${code(e)})`;
    }
  }
  // A folder of our own (mkdtemp: mode 0700, a fresh name), so no other user can swap
  // the file between the checksum and dlopen.
  let tmp: string;
  try {
    tmp = mkdtempSync(`${options.tmpDir}/shmkit-`);
    writeFileSync(`${tmp}/${name}`, bytes, { mode: 0o700 });
  } catch (e) {
    if (isNotCapable(e)) {
      throw new ShmError(
        "PERMISSION",
        `shmkit's cache ${reason}, and the fallback needs --allow-write=${options.tmpDir}: ` +
          `run deno with --allow-write=${dir ?? options.tmpDir}, or set XDG_CACHE_HOME to a writable folder`,
        { cause: e },
      );
    }
    throw new ShmError(
      "PERMISSION",
      `shmkit could not write its native library: ${reason}, and neither can ${options.tmpDir} (${code(e)}); ` +
        `set XDG_CACHE_HOME to a writable folder`,
      { cause: e },
    );
  }
  const path = `${tmp}/${name}`;
  return {
    path,
    temporary: true,
    warning:
      `the cache ${reason}; loaded the native library from a temporary copy (set XDG_CACHE_HOME to a writable folder to cache it)`,
    cleanup: () => {
      try {
        rmSync(tmp, { recursive: true, force: true });
      } catch {
        // best effort: a leftover temporary copy is harmless
      }
    },
  };
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, bytes, { mode: 0o755 });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // it may never have been created
    }
    throw e;
  }
}
