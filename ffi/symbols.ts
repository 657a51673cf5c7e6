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
  // Fast paths (zig/fastpath.zig): one call per push/pop of a numeric element. Every
  // argument is f64/u32 so that both runtimes take their FFI fast path.
  shmkit_spsc_push: { args: [...AT, "u32", "u32", "u32", "f64", "f64"], returns: "i32" },
  shmkit_spsc_pop: { args: [...AT, "u32", "u32", "u32", "f64"], returns: "f64" },
  shmkit_mpmc_push: { args: [...AT, "u32", "u32", "u32", "u32", "u32", "f64"], returns: "i32" },
  shmkit_mpmc_pop: { args: [...AT, "u32", "u32", "u32", "u32", "f64"], returns: "f64" },
  // Queue bulk (ABI 4): ..., state, the address of a Float64Array of values, their count.
  shmkit_mpmc_push_bulk: { args: [...AT, "u32", "u32", "u32", "u32", "u32", "f64", "f64", "u32"], returns: "i32" },
  shmkit_mpmc_pop_bulk: { args: [...AT, "u32", "u32", "u32", "u32", "f64", "f64", "u32"], returns: "i32" },
  // SpscQueue of any element type (ABI 5): ..., slots, the element's size, state, the scratch block's address.
  shmkit_spsc_push_bytes: { args: [...AT, "u32", "u32", "u32", "f64", "f64"], returns: "i32" },
  shmkit_spsc_pop_bytes: { args: [...AT, "u32", "u32", "u32", "f64", "f64"], returns: "i32" },
  // Queue of any element type (ABI 5): ..., record, the element's size, the scratch block's address.
  shmkit_mpmc_push_bytes: { args: [...AT, "u32", "u32", "u32", "u32", "u32", "u32", "f64"], returns: "i32" },
  shmkit_mpmc_pop_bytes: { args: [...AT, "u32", "u32", "u32", "u32", "u32", "f64"], returns: "i32" },
  shmkit_noop: { args: [], returns: "void" },
  shmkit_bench_spsc_pairs: { args: [...AT, "u32", "u32", "u32", "f64", "u32"], returns: "f64" },
  shmkit_bench_mpmc_pairs: { args: [...AT, "u32", "u32", "u32", "u32", "f64", "u32"], returns: "f64" },
} as const satisfies Record<string, Signature>;

export type SymbolName = keyof typeof SYMBOLS;
// deno-lint-ignore no-explicit-any
export type RawSymbols = Record<SymbolName, (...args: any[]) => any>;
