import { type CancellableWait, FAST_STATE_BYTES, type Native } from "./native.ts";
import { FAST_KIND_NAMES, type RawSymbols } from "./symbols.ts";

/** What an adapter supplies beyond the raw symbols: the parts that differ by runtime. */
export interface RuntimeParts {
  readonly runtime: "deno" | "bun";
  readonly path: string;
  /** NUL-terminated UTF-8 bytes in the form the runtime passes as `const char*`. */
  cstring(s: string): unknown;
  view(address: number, size: number): ArrayBuffer;
  /** The address of a typed array's memory, as a number (computed once per buffer). */
  addressOf(a: BigUint64Array): number;
  futexWaitAsync(base: number, offset: number, expected: number, timeoutNs: number): Promise<number>;
  futexWaitCancellable(base: number, offset: number, expected: number, timeoutNs: number): CancellableWait;
}

const encoder = new TextEncoder();
export function nulTerminated(s: string): Uint8Array {
  return encoder.encode(s + "\0");
}

/** Builds the runtime-neutral Native from raw FFI symbols (i64 results may be bigint). */
export function bind(s: RawSymbols, parts: RuntimeParts): Native {
  const addresses = new WeakMap<BigUint64Array, number>();
  return {
    runtime: parts.runtime,
    path: parts.path,
    abiVersion: () => s.shmkit_abi_version(),
    shmOpen: (name, how, mode) => s.shmkit_shm_open(parts.cstring(name), how, mode),
    shmUnlink: (name) => s.shmkit_shm_unlink(parts.cstring(name)),
    shmCreateUnnamed: (mode) => s.shmkit_shm_create_unnamed(mode),
    shmLink: (fd, name, expectFd) => s.shmkit_shm_link(fd, parts.cstring(name), expectFd),
    flock: (fd, op) => s.shmkit_flock(fd, op),
    close: (fd) => s.shmkit_close(fd),
    resize: (fd, size) => s.shmkit_resize(fd, size),
    size: (fd) => Number(s.shmkit_size(fd)),
    map: (fd, size) => Number(s.shmkit_map(fd, size)),
    unmap: (address, size) => s.shmkit_unmap(address, size),
    view: parts.view,
    futexWait: (b, o, e, t) => s.shmkit_futex_wait(b, o, e, t),
    futexWaitAsync: parts.futexWaitAsync,
    futexWaitCancellable: parts.futexWaitCancellable,
    futexWake: (b, o, n) => s.shmkit_futex_wake(b, o, n),
    heavyBarrier: () => s.shmkit_heavy_barrier(),
    lightPublish: () => s.shmkit_light_publish() === 1,
    getpid: () => s.shmkit_getpid(),
    gettid: () => s.shmkit_gettid(),
    threadStartTime: (pid, tid) => s.shmkit_thread_start_time(pid, tid),
    processStartTime: (pid) => Number(s.shmkit_process_start_time(pid)),
    load64: (b, o) => s.shmkit_load64(b, o),
    store64: (b, o, v) => s.shmkit_store64(b, o, v),
    add64: (b, o, v) => s.shmkit_add64(b, o, v),
    and64: (b, o, v) => s.shmkit_and64(b, o, v),
    or64: (b, o, v) => s.shmkit_or64(b, o, v),
    xor64: (b, o, v) => s.shmkit_xor64(b, o, v),
    exchange64: (b, o, v) => s.shmkit_exchange64(b, o, v),
    cas64: (b, o, e, d) => s.shmkit_cas64(b, o, e, d),
    cas128(b, o, args) {
      let at = addresses.get(args);
      if (at === undefined) addresses.set(args, at = parts.addressOf(args));
      return s.shmkit_cas128(b, o, at);
    },
    // The raw symbols themselves, not wrappers: one JS frame less on the hottest calls.
    spscBind: s.shmkit_spsc_bind,
    // Indexed by fastKind(): the raw symbols themselves, as below.
    spscPush: FAST_KIND_NAMES.map((k) => s[`shmkit_spsc_push_${k}`]),
    spscPop: FAST_KIND_NAMES.map((k) => s[`shmkit_spsc_pop_${k}`]),
    mpmcBind: s.shmkit_mpmc_bind,
    mpmcPush: FAST_KIND_NAMES.map((k) => s[`shmkit_mpmc_push_${k}`]),
    mpmcPop: FAST_KIND_NAMES.map((k) => s[`shmkit_mpmc_pop_${k}`]),
    mpmcPushBulk: s.shmkit_mpmc_push_bulk,
    mpmcPopBulk: s.shmkit_mpmc_pop_bulk,
    spscPushBytes: s.shmkit_spsc_push_bytes,
    spscPopBytes: s.shmkit_spsc_pop_bytes,
    mpmcPushBytes: s.shmkit_mpmc_push_bytes,
    mpmcPopBytes: s.shmkit_mpmc_pop_bytes,
    ringBind: s.shmkit_ring_bind,
    ringPush: FAST_KIND_NAMES.map((k) => s[`shmkit_ring_push_${k}`]),
    ringPop: FAST_KIND_NAMES.map((k) => s[`shmkit_ring_pop_${k}`]),
    ringPushBytes: s.shmkit_ring_push_bytes,
    ringPopBytes: s.shmkit_ring_pop_bytes,
    noop: s.shmkit_noop,
    benchSpscPairs: s.shmkit_bench_spsc_pairs,
    benchMpmcPairs: s.shmkit_bench_mpmc_pairs,
    fastState() {
      // Its own ArrayBuffer: backing stores of ArrayBuffers do not move in V8 or JSC.
      const cells = new BigUint64Array(new ArrayBuffer(FAST_STATE_BYTES));
      return { words: new Int32Array(cells.buffer), address: parts.addressOf(cells) };
    },
    fastBuffer(length) {
      const cells = new BigUint64Array(new ArrayBuffer(length * 8)); // its own ArrayBuffer, as fastState
      return { values: new Float64Array(cells.buffer), address: parts.addressOf(cells) };
    },
  };
}
