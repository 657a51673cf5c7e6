/**
 * The one interface between shmkit and its native library. `ffi/deno.ts` and
 * `ffi/bun.ts` implement it; nothing outside `ffi/` knows which runtime it is on.
 *
 * Conventions: addresses and offsets are plain numbers (never pointer objects or
 * BigInts, which cost an allocation per call); failures come back as negative
 * errno values, which `src/errors.ts` turns into typed errors.
 */
export interface Native {
  /** Which runtime loaded the library: "deno" or "bun". */
  readonly runtime: "deno" | "bun";
  /** Absolute path of the loaded library. */
  readonly path: string;
  abiVersion(): number;

  /** how: 0 open, 1 create exclusively, 2 open or create. Returns fd or -errno. */
  shmOpen(name: string, how: number, mode: number): number;
  shmUnlink(name: string): number;
  /** An unnamed object in /dev/shm (O_TMPFILE), to be named by shmLink once complete. fd or -errno. */
  shmCreateUnnamed(mode: number): number;
  /**
   * Names unnamed object `fd`: expectFd < 0 fails with -EEXIST if the name exists; else
   * atomically replaces the name's object only if it is still expectFd's (else -ESTALE).
   */
  shmLink(fd: number, name: string, expectFd: number): number;
  /** flock(2): op LOCK_SH 1, LOCK_EX 2, LOCK_UN 8, | LOCK_NB 4. 0 or -errno. */
  flock(fd: number, op: number): number;
  close(fd: number): number;
  resize(fd: number, size: number): number;
  /** Size in bytes, or -errno. */
  size(fd: number): number;
  /** Address of a shared read-write mapping, or -errno. */
  map(fd: number, size: number): number;
  unmap(address: number, size: number): number;
  /** An ArrayBuffer over `size` bytes at `address` (the mapping stays owned by the caller). */
  view(address: number, size: number): ArrayBuffer;

  /** 0 woken, -EAGAIN value differed, -ETIMEDOUT, -EINTR. timeoutNs < 0: no limit. */
  futexWait(base: number, offset: number, expected: number, timeoutNs: number): number;
  /** Same wait on a helper thread: resolves with the same codes without blocking the event loop. */
  futexWaitAsync(base: number, offset: number, expected: number, timeoutNs: number): Promise<number>;
  /**
   * A cancellable async wait (zig/waiter.zig): `promise` resolves like futexWaitAsync,
   * or with -ECANCELED after `cancel()`, which returns the helper at once. A helper
   * thread never reports to a thread that has exited (a terminated Worker).
   */
  futexWaitCancellable(base: number, offset: number, expected: number, timeoutNs: number): CancellableWait;
  /** Wakes up to `count` waiters; returns how many woke, or -errno. */
  futexWake(base: number, offset: number, count: number): number;
  /**
   * membarrier(GLOBAL_EXPEDITED), the heavy side of the wake handshake's asymmetric
   * fence (zig/fence.zig; src/wait/wait.ts arms an eventcount with it): 0 or -errno.
   */
  heavyBarrier(): number;
  /** Whether this process's native fast paths publish with release stores (registered for the asymmetric fence). */
  lightPublish(): boolean;

  getpid(): number;
  /** The calling thread's kernel thread id (the pid on the main thread). */
  gettid(): number;
  /** Start time (clock ticks after boot) of thread `tid` of process `pid`, or -ESRCH. */
  threadStartTime(pid: number, tid: number): number;
  /** Start time (clock ticks after boot) of a live process, or -ESRCH. */
  processStartTime(pid: number): number;

  load64(base: number, offset: number): number;
  store64(base: number, offset: number, value: number): void;
  add64(base: number, offset: number, value: number): number;
  and64(base: number, offset: number, value: number): number;
  or64(base: number, offset: number, value: number): number;
  xor64(base: number, offset: number, value: number): number;
  exchange64(base: number, offset: number, value: number): number;
  /** Returns the value found; equal to `expected` when the swap happened. */
  cas64(base: number, offset: number, expected: number, desired: number): number;
  /**
   * 128-bit CAS. `args` holds [expectedLo, expectedHi, desiredLo, desiredHi]; on
   * failure the current value is written into args[0..1]. 1 success, 0 failure.
   */
  cas128(base: number, offset: number, args: BigUint64Array): number;

  // Fast paths (zig/fastpath.zig; the codes are FAST_* below). `state` is the address
  // of a FastState block, bound once to one queue by spscBind / mpmcBind (which check
  // where the queue lies, as the calls trust it afterwards); `kind` a fastKind() number
  // or FAST_BYTES; all offsets bytes from `base`.
  /**
   * Binds `state` to an SpscQueue: indices at `control`, `slots` (capacity + 1) elements
   * at `data` of `kind`, or with FAST_BYTES of `size` bytes moved through the scratch
   * block at `scratch` (a FastBuffer of `scratchLength` bytes, at least `size`). FAST_OK
   * or FAST_BADARG.
   */
  spscBind(
    state: number,
    base: number,
    control: number,
    data: number,
    slots: number,
    kind: number,
    size: number,
    scratch: number,
    scratchLength: number,
  ): number;
  /**
   * SpscQueue push of one numeric element, by fastKind() (each kind its own native
   * function; the block must be bound for that kind): FAST_OK, FAST_NONE (full), or a
   * negative FAST_* code.
   */
  readonly spscPush: readonly ((state: number, value: number) => number)[];
  /** SpscQueue pop, by fastKind(): the element; NaN with the outcome in `FastState.words[FAST_STATUS]` otherwise. */
  readonly spscPop: readonly ((state: number) => number)[];
  /**
   * SpscQueue push of the element staged at byte `from` of the bound scratch block
   * (FAST_BYTES; FAST_BADARG if it would leave the block): codes as spscPush.
   */
  spscPushBytes(state: number, from: number): number;
  /** SpscQueue pop into the bound scratch block: FAST_OK, FAST_NONE (empty) or a negative code. */
  spscPopBytes(state: number): number;
  /**
   * Binds `state` to a Queue (Vyukov): positions at `control`, `ring` slots at `data`,
   * `capacity` elements; `layout` = kind | elemOffset << 8 | stride << 16 (kind
   * FAST_BYTES: elements of `size` bytes); `record` = byte offset of this process's
   * claim record (claim_records.ts), written exactly as Queue.tryPush writes it;
   * `buffer` (a FastBuffer of `bufferLength` values, or of bytes for FAST_BYTES): the
   * bulk calls' values, or the scratch block. FAST_OK or FAST_BADARG.
   */
  mpmcBind(
    state: number,
    base: number,
    control: number,
    data: number,
    ring: number,
    capacity: number,
    layout: number,
    record: number,
    size: number,
    buffer: number,
    bufferLength: number,
  ): number;
  /**
   * Queue push of one numeric element, by fastKind(). Codes as spscPush, and FAST_SLOW: a claim may be
   * unfinished, run the TypeScript path (nothing was claimed).
   */
  readonly mpmcPush: readonly ((state: number, value: number) => number)[];
  /** Queue pop, by fastKind(); as spscPop (the status may be FAST_SLOW). */
  readonly mpmcPop: readonly ((state: number) => number)[];
  /**
   * Queue bulk push of the first `count` values of the bound buffer. Returns how many
   * were pushed (all, or fewer when full), or a negative FAST_* code with how many were
   * pushed first in `state.words[FAST_DONE]`: FAST_SLOW (the next position needs the
   * TypeScript path), FAST_INVALID (nothing pushed; FAST_DONE is the index of the first
   * bad value), FAST_CORRUPT.
   */
  mpmcPushBulk(state: number, count: number): number;
  /**
   * Queue bulk pop of up to `max` elements into the bound buffer, as f64. Returns how
   * many, or a negative code as mpmcPushBulk. `state.words[FAST_RANGE_COUNT]`: how many
   * were 64-bit values beyond ±(2^53 − 1), consumed and given as NaN.
   */
  mpmcPopBulk(state: number, max: number): number;
  /** Queue push of the element staged at byte `from` of the bound scratch block (FAST_BYTES): codes as mpmcPush. */
  mpmcPushBytes(state: number, from: number): number;
  /** Queue pop into the bound scratch block: FAST_OK, FAST_NONE (empty), FAST_SLOW or a negative code. */
  mpmcPopBytes(state: number): number;
  /**
   * Binds `state` to a RingBuffer: control words at `control`, `capacity` elements of
   * `kind` (a typed-array kind, fastKind() 0-7) at `data`, or with FAST_BYTES of `size`
   * bytes moved through the scratch block at `scratch` (a FastBuffer of `scratchLength`
   * bytes, at least `size`; 0, 0, 0 for a typed-array kind), positions wrapping at
   * `modulus`. FAST_OK or FAST_BADARG.
   */
  ringBind(
    state: number,
    base: number,
    control: number,
    data: number,
    capacity: number,
    modulus: number,
    kind: number,
    size: number,
    scratch: number,
    scratchLength: number,
  ): number;
  /** RingBuffer push (the producer's; its claim is TypeScript's), by fastKind(): codes as spscPush (full before an invalid value). */
  readonly ringPush: readonly ((state: number, value: number) => number)[];
  /** RingBuffer pop (a consumer's CAS commit), by fastKind(); as spscPop. */
  readonly ringPop: readonly ((state: number) => number)[];
  /** RingBuffer push of the element at byte `from` of the bound scratch block (FAST_BYTES): codes as spscPushBytes. */
  ringPushBytes(state: number, from: number): number;
  /** RingBuffer pop into the bound scratch block (a consumer's CAS commit): FAST_OK, FAST_NONE (empty) or a negative code. */
  ringPopBytes(state: number): number;
  /** An empty native call (benchmarks: the FFI overhead alone). */
  noop(): void;
  /** A new private state block for the fast paths (cached indices and a status word). */
  fastState(): FastState;
  /** A new process-private Float64Array of `length` values for the bulk calls, and its native address. */
  fastBuffer(length: number): FastBuffer;
  /** Benchmarks: `pairs` SPSC push+pop pairs in a native loop (no FFI crossing per operation) on the queue `state` is bound to; the sum popped. */
  benchSpscPairs(state: number, pairs: number): number;
  /** Benchmarks: the same on the MPMC fast path. */
  benchMpmcPairs(state: number, pairs: number): number;
}

/** A pending cancellable wait. */
export interface CancellableWait {
  readonly promise: Promise<number>;
  /** Ends the wait now; its promise resolves with -ECANCELED unless it already settled. */
  cancel(): void;
}

/**
 * Process-private memory the fast paths keep per handle (FAST_STATE_BYTES): words[0]
 * producer's cached read index, [1] consumer's cached write index, [2] status of the
 * last pop that returned NaN, [3] and [4] the bulk calls' FAST_DONE and
 * FAST_RANGE_COUNT, Queue's FAST_POP_CHECKED ([0], [1]) and FAST_PUSH_CHECKED ([6], [7]);
 * from byte 32 the descriptor that spscBind / mpmcBind write (never written from TypeScript).
 */
export interface FastState {
  readonly words: Int32Array;
  /** Native address of `words`, passed to the fast-path calls. */
  readonly address: number;
}

/** Process-private values the bulk fast paths read or fill (its memory never moves). */
export interface FastBuffer {
  readonly values: Float64Array;
  /** Native address of `values`. */
  readonly address: number;
}

/** Fast-path result codes (zig/fastpath.zig). */
export const FAST_OK = 1;
export const FAST_NONE = 0;
export const FAST_INVALID = -22; // -EINVAL: the value does not fit the element type
export const FAST_RANGE = -34; // -ERANGE: a stored 64-bit value is not a safe JS integer
export const FAST_CORRUPT = -117; // -EUCLEAN: an index or sequence in the segment is out of range
export const FAST_BADARG = -14; // -EFAULT: a bad address, kind or layout (a bug in shmkit)
export const FAST_SLOW = -11; // -EAGAIN (Queue): a claim may be unfinished; take the TypeScript path
/** fastKind() of f64, the last typed-array kind (i8 … f64 are 0-7; the 64-bit "as number" kinds follow). */
export const FAST_F64 = 7;
/** The element kind of the byte-copy calls (zig/fastpath.zig `BYTES`): any element type, moved as bytes. */
export const FAST_BYTES = 10;
/** Bytes of a FastState block (zig/fastpath.zig `STATE_BYTES`). */
export const FAST_STATE_BYTES = 128;
/** Index of the status word in FastState.words. */
export const FAST_STATUS = 2;
/** Index of the word in which a bulk call that returned a negative code says how many it moved first. */
export const FAST_DONE = 3;
/** Index of the word in which mpmcPopBulk counts the 64-bit elements it gave as NaN (OUT_OF_RANGE). */
export const FAST_RANGE_COUNT = 4;
/**
 * Queue: index of the u64 (two words) holding when the native empty pops (FAST_POP_CHECKED)
 * or full pushes (FAST_PUSH_CHECKED) last read the other side's counter for a dead claim
 * (zig/fastpath.zig `checkDue`); writing 0 to both words makes the next one read it.
 */
export const FAST_POP_CHECKED = 0;
export const FAST_PUSH_CHECKED = 6;

/** The ABI version this TypeScript was written for (zig/root.zig `shmkit_abi_version`). */
export const ABI_VERSION = 8;
