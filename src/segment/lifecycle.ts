/**
 * How a segment's object comes into being and how a half-created one is told apart
 * and replaced (docs/FORMAT.md "Creation", docs/RELIABILITY.md "Segments and the name
 * table").
 *
 * A creator makes the object unnamed (O_TMPFILE in /dev/shm), sizes, maps and fully
 * initialises it, and only then gives it its name with an exclusive link: a name made
 * by this library never refers to an empty or half-initialised segment. A creator that
 * dies leaves an unnamed object, which the kernel frees with its last reference.
 * Where O_TMPFILE is missing, the creator creates in place and holds flock(LOCK_EX) on
 * the object until it is ready; a C creator that creates in place must do the same.
 *
 * So an object behind a name that is empty, or whose header is not ready and names no
 * live creator, while no process holds a flock on it, is half-created: its creator
 * died. Replacing one is serialised by flock(LOCK_EX) on the stale object itself, and
 * the new object is renamed over the name only if the name still refers to the stale
 * object (`shmLink` with an expected fd), so two processes racing to replace it end up
 * with one segment, and a segment that replaced it is never replaced in turn.
 *
 * A stale segment (issue 11) is complete but left behind: ready, with at least one
 * process in its registry and none of them alive (every process that had it open died
 * without closing it, as after a SIGKILL). `Segment.create` reports it (EXISTS, reason
 * STALE) and, with `replaceStale`, replaces it by the same flock + rename-over-inode.
 */
import type { Native } from "../../ffi/mod.ts";
import { Errno, osError, ShmError } from "../errors.ts";
import { H, MAGIC, MAX_PROCESSES, MAX_SEGMENT_SIZE, REGISTRY_OFFSET, REGISTRY_SLOT, State } from "./format.ts";
import { Memory } from "./memory.ts";
import { isAlive } from "./process.ts";
import { slotAlive } from "./registry.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const HOW_CREATE = 1;

/** A new object, sized and mapped, not yet named unless `inPlace`. */
export interface NewObject {
  readonly fd: number;
  readonly memory: Memory;
  /** Created under its name (no O_TMPFILE): flock-held until `publish`. */
  readonly inPlace: boolean;
}

/** The CORRUPT error for a half-created segment (reason HALF_CREATED). */
export function halfCreated(name: string, why: string): ShmError {
  return new ShmError(
    "CORRUPT",
    `segment "${name}" was left half-created: ${why}; Segment.openOrCreate replaces it, or unlink it and create it again`,
    { reason: "HALF_CREATED" },
  );
}

/** The EXISTS error for a stale segment (reason STALE), naming its dead processes and the fixes. */
export function staleError(name: string, dead: readonly number[]): ShmError {
  const who = dead.length === 1
    ? `the one process attached to it (pid ${dead[0]}) is dead`
    : `every process attached to it (pids ${dead.join(", ")}) is dead`;
  return new ShmError(
    "EXISTS",
    `segment "${name}" already exists, but ${who}: it was left behind by processes that ended without closing it. ` +
      `Pass { replaceStale: true } to Segment.create or Segment.openOrCreate to replace it atomically, ` +
      `or remove it first with Segment.unlink("${name}") or \`shmkit gc\``,
    { reason: "STALE" },
  );
}

/** True while another open file description holds an exclusive flock on `fd` (a creator at work). */
export function lockedByOther(n: Native, fd: number): boolean {
  const rc = n.flock(fd, LOCK_SH | LOCK_NB);
  if (rc === 0) {
    n.flock(fd, LOCK_UN);
    return false;
  }
  return rc === -Errno.EAGAIN;
}

function mapped(n: Native, fd: number, size: number, what: string): Memory {
  const address = n.map(fd, size);
  if (address < 0) throw osError(address, what);
  return new Memory(address, n.view(address, size));
}

/**
 * Creates, sizes and maps a new object for `name`: unnamed where the system allows,
 * else (unless `unnamedOnly`, then undefined) in place under the name.
 */
export function createObject(n: Native, name: string, mode: number, size: number, unnamedOnly: true): NewObject | undefined;
export function createObject(n: Native, name: string, mode: number, size: number): NewObject;
export function createObject(n: Native, name: string, mode: number, size: number, unnamedOnly = false): NewObject | undefined {
  let fd = n.shmCreateUnnamed(mode);
  let inPlace = false;
  if (fd === -Errno.EOPNOTSUPP || fd === -Errno.EISDIR || fd === -Errno.EINVAL) {
    if (unnamedOnly) return undefined;
    fd = n.shmOpen(name, HOW_CREATE, mode);
    if (fd < 0) throw osError(fd, `creating segment "${name}"`);
    inPlace = true;
    n.flock(fd, LOCK_EX); // an opener's probe holds LOCK_SH only for a moment
  } else if (fd < 0) {
    throw osError(fd, `creating segment "${name}"`);
  }
  try {
    const rc = n.resize(fd, size);
    if (rc < 0) throw osError(rc, `sizing segment "${name}" to ${size} bytes`);
    return { fd, memory: mapped(n, fd, size, `mapping segment "${name}" (${size} bytes)`), inPlace };
  } catch (e) {
    if (inPlace) n.shmUnlink(name);
    n.close(fd);
    throw e;
  }
}

/**
 * Gives a fully initialised object its name: exclusively (`expectFd` < 0; EXISTS if
 * the name is taken), or in place of the object open as `expectFd`. Returns false when
 * the name no longer refers to that object. Closes the object's fd either way.
 */
export function publish(n: Native, o: NewObject, name: string, expectFd = -1): boolean {
  try {
    if (o.inPlace) {
      n.flock(o.fd, LOCK_UN);
      return true;
    }
    const rc = n.shmLink(o.fd, name, expectFd);
    if (rc === -Errno.ESTALE) return false;
    if (rc < 0) throw osError(rc, `naming segment "${name}"`);
    return true;
  } finally {
    n.close(o.fd);
  }
}

/**
 * Whether the object open as `fd` is half-created: empty, or with a header never
 * marked ready whose creator is absent or dead and whose registry names no live
 * process. Call it holding lockStale(fd): that no other process holds a flock on it
 * is what taking that lock showed (probing with lockedByOther on the same fd would
 * convert and then drop our own lock). Reads the object through a private mapping.
 */
export function isHalfCreated(n: Native, fd: number): boolean {
  const size = n.size(fd);
  if (size === 0) return true;
  if (size < H.size || size > MAX_SEGMENT_SIZE || size % 8 !== 0) return false;
  const address = n.map(fd, size);
  if (address < 0) return false;
  try {
    const m = new Memory(address, n.view(address, size));
    if (Atomics.load(m.u32, H.state >> 2) !== State.INITIALISING) return false;
    const creator = m.u32[H.creatorPid >> 2];
    if (creator !== 0 && isAlive(creator, m.getU64(H.creatorStart))) return false;
    const slots = Math.min(m.u32[H.maxProcesses >> 2], Math.floor((size - REGISTRY_OFFSET) / REGISTRY_SLOT));
    for (let i = 0; i < slots; i++) {
      const at = REGISTRY_OFFSET + i * REGISTRY_SLOT;
      const pid = m.u32[at >> 2];
      if (pid !== 0 && isAlive(pid, m.getU64(at + 8))) return false;
    }
    return true;
  } finally {
    n.unmap(address, size);
  }
}

/**
 * Takes the replacer's lock on the stale object `fd` (exclusive, not waiting): false
 * if another process holds it (replacing it, or creating it in place).
 */
export function lockStale(n: Native, fd: number): boolean {
  return n.flock(fd, LOCK_EX | LOCK_NB) === 0;
}

export function unlockStale(n: Native, fd: number): void {
  n.flock(fd, LOCK_UN);
}

/**
 * The pids of a stale segment's dead processes when the object open as `fd` is a
 * complete shmkit segment (magic, ready) with at least one registered process and no
 * live one; undefined otherwise. Reads the object through a private mapping, without
 * the metadata lock (each slot's pid is one aligned word).
 */
export function staleness(n: Native, fd: number): number[] | undefined {
  const size = n.size(fd);
  if (size < H.size || size > MAX_SEGMENT_SIZE || size % 8 !== 0) return undefined;
  const address = n.map(fd, size);
  if (address < 0) return undefined;
  try {
    const m = new Memory(address, n.view(address, size));
    if (m.u32[H.magic >> 2] !== MAGIC || Atomics.load(m.u32, H.state >> 2) !== State.READY) return undefined;
    const slots = Math.min(m.u32[H.maxProcesses >> 2], MAX_PROCESSES, Math.floor((size - REGISTRY_OFFSET) / REGISTRY_SLOT));
    const dead: number[] = [];
    for (let i = 0; i < slots; i++) {
      const at = REGISTRY_OFFSET + i * REGISTRY_SLOT;
      const pid = m.u32[at >> 2];
      if (pid === 0) continue;
      if (slotAlive(m, at)) return undefined;
      if (!dead.includes(pid)) dead.push(pid);
    }
    return dead.length > 0 ? dead : undefined;
  } finally {
    n.unmap(address, size);
  }
}
