/**
 * The native library's C ABI, written once in a neutral notation that each adapter
 * translates to its runtime's FFI type names. Keep in step with zig/*.zig.
 */
export type CType = "i32" | "u32" | "i64" | "usize" | "f64" | "void" | "cstring" | "callback";

export interface Signature {
  readonly args: readonly CType[];
  readonly returns: CType;
}

// Hot-path calls take the base address as f64 and the offset as u32, and 64-bit
// values as f64: Deno's FFI fast path handles these (about 5 ns a call) but not
// usize/i64 arguments (about 70 ns, measured). Addresses stay below 2^48.
const AT: readonly CType[] = ["f64", "u32"]; // base address, byte offset

/**
 * The fast-path element kinds, in fastKind() order (src/segment/numeric.ts; zig/fastpath.zig
 * `Kind`): the numeric push and pop calls are exported once per kind, so that a call
 * needs no switch on it.
 */
export const FAST_KIND_NAMES = ["i8", "u8", "i16", "u16", "i32", "u32", "f32", "f64", "i64n", "u64n"] as const;
type KindName = (typeof FAST_KIND_NAMES)[number];

/** `sig` under `prefix` + each kind name. */
function perKind<P extends string, S extends Signature>(prefix: P, sig: S): { [K in KindName as `${P}${K}`]: S } {
  return Object.fromEntries(FAST_KIND_NAMES.map((k) => [prefix + k, sig])) as { [K in KindName as `${P}${K}`]: S };
}
const PUSH = { args: ["f64", "f64"], returns: "i32" } as const satisfies Signature; // state block, value
const POP = { args: ["f64"], returns: "f64" } as const satisfies Signature; // state block

export const SYMBOLS = {
  shmkit_abi_version: { args: [], returns: "i32" },
  shmkit_shm_open: { args: ["cstring", "i32", "u32"], returns: "i32" },
  shmkit_shm_unlink: { args: ["cstring"], returns: "i32" },
  shmkit_close: { args: ["i32"], returns: "i32" },
  shmkit_shm_create_unnamed: { args: ["u32"], returns: "i32" },
  shmkit_shm_link: { args: ["i32", "cstring", "i32"], returns: "i32" },
  shmkit_flock: { args: ["i32", "i32"], returns: "i32" },
  shmkit_resize: { args: ["i32", "i64"], returns: "i32" },
  shmkit_size: { args: ["i32"], returns: "i64" },
  shmkit_map: { args: ["i32", "i64"], returns: "i64" },
  shmkit_unmap: { args: ["usize", "i64"], returns: "i32" },
  shmkit_futex_wait: { args: [...AT, "i32", "f64"], returns: "i32" },
  shmkit_futex_wake: { args: [...AT, "i32"], returns: "i32" },
  shmkit_heavy_barrier: { args: [], returns: "i32" },
  shmkit_light_publish: { args: [], returns: "i32" },
  shmkit_futex_wait_thread: { args: [...AT, "i32", "f64", "callback", "u32"], returns: "i32" },
  // Cancellable waits (zig/waiter.zig): a job waits on the word and on its own cancel word.
  shmkit_wait_job_new: { args: [...AT, "i32", "f64"], returns: "f64" },
  shmkit_wait_job_run: { args: ["f64"], returns: "i32" },
  shmkit_wait_job_cancel: { args: ["f64"], returns: "void" },
  shmkit_wait_job_release: { args: ["f64"], returns: "void" },
  shmkit_wait_job_thread: { args: ["f64", "callback", "u32"], returns: "i32" },
  shmkit_wait_job_send: { args: ["f64", "i32", "u32"], returns: "i32" },
  shmkit_completion_channel: { args: [], returns: "i32" },
  shmkit_dup: { args: ["i32"], returns: "i32" },
  shmkit_gettid: { args: [], returns: "i32" },
  shmkit_thread_start_time: { args: ["i32", "i32"], returns: "f64" },
  shmkit_getpid: { args: [], returns: "i32" },
  shmkit_process_start_time: { args: ["i32"], returns: "i64" },
  shmkit_load64: { args: AT, returns: "f64" },
  shmkit_store64: { args: [...AT, "f64"], returns: "void" },
  shmkit_add64: { args: [...AT, "f64"], returns: "f64" },
  shmkit_and64: { args: [...AT, "f64"], returns: "f64" },
  shmkit_or64: { args: [...AT, "f64"], returns: "f64" },
  shmkit_xor64: { args: [...AT, "f64"], returns: "f64" },
  shmkit_exchange64: { args: [...AT, "f64"], returns: "f64" },
  shmkit_cas64: { args: [...AT, "f64", "f64"], returns: "f64" },
  shmkit_cas128: { args: [...AT, "f64"], returns: "i32" },
  // Fast paths (zig/fastpath.zig). A handle binds its state block once (ABI 6:
  // shmkit_spsc_bind / shmkit_mpmc_bind: where the queue lies); every call then takes the
  // block's address (f64) and a value or a count, so that both runtimes take their FFI
  // fast path with as few arguments as possible.
  shmkit_spsc_bind: { args: ["f64", ...AT, "u32", "u32", "u32", "u32", "f64", "u32"], returns: "i32" },
  ...perKind("shmkit_spsc_push_", PUSH),
  ...perKind("shmkit_spsc_pop_", POP),
  shmkit_spsc_push_bytes: { args: ["f64", "u32"], returns: "i32" },
  shmkit_spsc_pop_bytes: { args: ["f64"], returns: "i32" },
  shmkit_mpmc_bind: { args: ["f64", ...AT, "u32", "u32", "u32", "u32", "u32", "u32", "f64", "u32"], returns: "i32" },
  ...perKind("shmkit_mpmc_push_", PUSH),
  ...perKind("shmkit_mpmc_pop_", POP),
  shmkit_mpmc_push_bulk: { args: ["f64", "u32"], returns: "i32" },
  shmkit_mpmc_pop_bulk: { args: ["f64", "u32"], returns: "i32" },
  shmkit_mpmc_push_bytes: { args: ["f64", "u32"], returns: "i32" },
  shmkit_mpmc_pop_bytes: { args: ["f64"], returns: "i32" },
  shmkit_ring_bind: { args: ["f64", ...AT, "u32", "u32", "u32", "u32", "u32", "f64", "u32"], returns: "i32" },
  ...perKind("shmkit_ring_push_", PUSH),
  ...perKind("shmkit_ring_pop_", POP),
  shmkit_ring_push_bytes: { args: ["f64", "u32"], returns: "i32" },
  shmkit_ring_pop_bytes: { args: ["f64"], returns: "i32" },
  shmkit_noop: { args: [], returns: "void" },
  shmkit_bench_spsc_pairs: { args: ["f64", "u32"], returns: "f64" },
  shmkit_bench_mpmc_pairs: { args: ["f64", "u32"], returns: "f64" },
} as const satisfies Record<string, Signature>;

export type SymbolName = keyof typeof SYMBOLS;
// deno-lint-ignore no-explicit-any
export type RawSymbols = Record<SymbolName, (...args: any[]) => any>;
