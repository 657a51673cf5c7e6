/**
 * The few file-system calls inspection needs, through `node:fs` (which Deno and Bun
 * both implement), so that src/inspect/ never touches `Deno` or `bun:*` and needs no
 * native library: `shmkit ls` works without FFI permission. Errors come back as
 * their errno code ("ENOENT", "EACCES", ...) instead of exceptions where a caller
 * reports them.
 */
import * as fs from "node:fs";

/** Where POSIX shared memory objects live on Linux (zig/shm.zig uses the same directory). */
export const SHM_DIR = "/dev/shm";

/** Deno's refusal of a path it was not given (it grants /dev and /proc only with --allow-all). */
export const RUNTIME_DENIED = "ENOTCAPABLE";

/** The errno code of a failed call ("ENOENT", "EACCES", ...), or "EIO" when there is none. */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string") return code;
  const name = (e as { name?: unknown })?.name;
  return name === "NotCapable" || name === "PermissionDenied" ? RUNTIME_DENIED : "EIO";
}

/** A short human phrase for an errno code. */
export function describeError(code: string): string {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOENT":
      return "does not exist";
    case "ELOOP":
      return "is a symbolic link";
    case "EISDIR":
      return "is a directory";
    case "ENXIO":
      return "is a special file with nothing behind it";
    case RUNTIME_DENIED:
      return "the runtime denied access (Deno reads /dev/shm and /proc only with --allow-all: run it with -A)";
    default:
      return `error ${code}`;
  }
}

/** What lstat/fstat say about a file. */
export interface FileInfo {
  readonly kind: "file" | "directory" | "symlink" | "other";
  readonly size: number;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly dev: number;
  readonly ino: number;
  /** Birth time in ms since the epoch, or the change time where there is none. */
  readonly created: number;
}

function info(st: fs.Stats): FileInfo {
  const kind = st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : st.isDirectory() ? "directory" : "other";
  const birth = Number(st.birthtimeMs);
  return {
    kind,
    size: Number(st.size),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mode: Number(st.mode) & 0o7777,
    dev: Number(st.dev),
    ino: Number(st.ino),
    created: birth > 0 ? birth : Number(st.ctimeMs),
  };
}

/** lstat (does not follow a symbolic link); an errno code on failure. */
export function lstat(path: string): FileInfo | string {
  try {
    return info(fs.lstatSync(path));
  } catch (e) {
    return errorCode(e);
  }
}

/** File names in a directory (sorted); an errno code on failure. */
export function listDir(path: string): string[] | string {
  try {
    return fs.readdirSync(path).map(String).sort();
  } catch (e) {
    return errorCode(e);
  }
}

/**
 * Opens a file read-only without following a symbolic link and without blocking (a
 * FIFO placed in /dev/shm must not hang us); an errno code on failure.
 */
export function openRead(path: string): number | string {
  const c = fs.constants;
  try {
    return fs.openSync(path, c.O_RDONLY | (c.O_NOFOLLOW ?? 0) | (c.O_NONBLOCK ?? 0));
  } catch (e) {
    return errorCode(e);
  }
}

export function fstat(fd: number): FileInfo {
  return info(fs.fstatSync(fd));
}

/** Reads up to `length` bytes at `position`; returns the bytes read (fewer at the end of the file). */
export function pread(fd: number, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

export function close(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to do: the descriptor is gone either way.
  }
}

/** Removes a name; an errno code on failure, undefined on success. */
export function unlink(path: string): string | undefined {
  try {
    fs.unlinkSync(path);
    return undefined;
  } catch (e) {
    return errorCode(e);
  }
}

/** A small text file's content (e.g. /proc/<pid>/stat), or `{ error }` with the errno code. */
export function readText(path: string, maxBytes = 4096): { text: string } | { error: string } {
  const fd = openRead(path);
  if (typeof fd === "string") return { error: fd };
  try {
    return { text: new TextDecoder().decode(pread(fd, 0, maxBytes)) };
  } catch (e) {
    return { error: errorCode(e) };
  } finally {
    close(fd);
  }
}

let users: Map<number, string> | undefined;

/** The user name of `uid` from /etc/passwd, or null. */
export function userName(uid: number): string | null {
  if (users === undefined) {
    users = new Map();
    const r = readText("/etc/passwd", 1 << 20);
    if ("text" in r) {
      for (const line of r.text.split("\n")) {
        const f = line.split(":");
        if (f.length >= 3 && /^\d+$/.test(f[2]) && !users.has(Number(f[2]))) users.set(Number(f[2]), f[0]);
      }
    }
  }
  return users.get(uid) ?? null;
}
