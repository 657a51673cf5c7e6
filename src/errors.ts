/**
 * Stable error codes. A code never changes meaning; messages may improve.
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedArray, type ShmErrorCode } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-code-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * const xs = SharedArray.create(seg, "xs", f64, 10);
 * const expected: ShmErrorCode = "OUT_OF_RANGE";
 * assert.throws(() => xs.get(10), { code: expected });
 * ```
 */
export type ShmErrorCode =
  | "NOT_FOUND" // no segment or entry of that name
  | "EXISTS" // a segment or entry of that name already exists
  | "TYPE_MISMATCH" // opened with a different kind or element type than it was created with
  | "FULL" // no room: name table, segment space, process registry or a bounded structure
  | "EMPTY" // nothing to take from a structure (only where the API throws rather than returns)
  | "CORRUPT" // a segment or entry failed validation
  | "CLOSED" // the handle or segment was closed
  | "PERMISSION" // the OS refused access
  | "INVALID_ARGUMENT" // bad name, size, type, value
  | "OUT_OF_RANGE" // index outside the structure, or a value that does not fit
  | "TIMEOUT" // a wait ran out of time
  | "ABORTED" // an async wait was aborted by its AbortSignal
  | "NOT_OWNER" // releasing a lock this process does not hold
  | "BROKEN" // a barrier generation was broken (a waiting party died, or reset() ran); reset() to reuse it
  | "NOT_READY" // a segment is still being initialised by its creator
  | "LIBRARY_MISSING" // the native library could not be found or loaded
  | "LIBRARY_MISMATCH" // the native library found is not the one this code expects (checksum or ABI version); it was not used
  | "UNSUPPORTED" // the platform or runtime cannot do this
  | "OS_ERROR"; // any other errno from the operating system

/**
 * Finer reasons within a code (see ShmError.reason): `"HALF_CREATED"` (code CORRUPT)
 * says a segment's creator died before finishing it; `"STALE"` (code EXISTS) says every
 * process attached to an existing segment is dead.
 *
 * @example
 * ```ts
 * import { ShmError, type ShmErrorReason } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * const e = new ShmError("CORRUPT", "segment \"x\" was never finished", { reason: "HALF_CREATED" });
 * const reason: ShmErrorReason | undefined = e.reason;
 * assert.equal(reason, "HALF_CREATED");
 * ```
 */
export type ShmErrorReason = "HALF_CREATED" | "STALE";

/**
 * The one error class shmkit throws. Check `code`, not the message.
 *
 * @example
 * ```ts
 * import { f64, Segment, SharedArray, ShmError } from "@shmkit/shmkit";
 * import assert from "node:assert/strict";
 * using seg = Segment.create("doc-error-" + crypto.randomUUID().slice(0, 8), { size: 1 << 20, unlinkOnLastClose: true });
 * SharedArray.create(seg, "xs", f64, 10);
 * try {
 *   SharedArray.create(seg, "xs", f64, 10);
 *   assert.fail("expected EXISTS");
 * } catch (e) {
 *   assert.ok(e instanceof ShmError && e.code === "EXISTS");
 * }
 * ```
 */
export class ShmError extends Error {
  /** Stable machine-readable reason. */
  readonly code: ShmErrorCode;
  /** The OS errno behind it, when there is one. */
  readonly errno: number | undefined;
  /**
   * A finer, stable reason within `code`, when there is one. `"HALF_CREATED"` (code
   * CORRUPT): the segment's creator died before finishing it (the object is empty, or
   * its header was never marked ready); `Segment.openOrCreate` replaces such a segment.
   * `"STALE"` (code EXISTS, from `Segment.create`): the segment is complete but every
   * process attached to it is dead; `replaceStale: true` replaces it.
   */
  readonly reason: ShmErrorReason | undefined;

  /** Creates an error with a stable `code`; `errno` and `cause` when an OS call failed. */
  constructor(
    code: ShmErrorCode,
    message: string,
    options?: { errno?: number; cause?: unknown; reason?: ShmErrorReason },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ShmError";
    this.code = code;
    this.errno = options?.errno;
    this.reason = options?.reason;
  }
}

/** Linux errno values shmkit reacts to. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EEXIST: 17,
  EISDIR: 21,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  ENAMETOOLONG: 36,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
  ESTALE: 116,
} as const;

/** Turns a negative errno from the native library into a ShmError about `what`. */
export function osError(rc: number, what: string): ShmError {
  const errno = -rc;
  switch (errno) {
    case Errno.ENOENT:
      return new ShmError("NOT_FOUND", `${what}: does not exist`, { errno });
    case Errno.EEXIST:
      return new ShmError("EXISTS", `${what}: already exists`, { errno });
    case Errno.EACCES:
    case Errno.EPERM:
      return new ShmError("PERMISSION", `${what}: permission denied`, { errno });
    case Errno.EINVAL:
    case Errno.ENAMETOOLONG:
      return new ShmError("INVALID_ARGUMENT", `${what}: invalid argument (errno ${errno})`, { errno });
    case Errno.ENOSPC:
    case Errno.ENOMEM:
      return new ShmError("FULL", `${what}: the system is out of shared memory (errno ${errno})`, { errno });
    default:
      return new ShmError("OS_ERROR", `${what}: failed with errno ${errno}`, { errno });
  }
}
