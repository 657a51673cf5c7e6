/**
 * `await loadClock()` gives a function returning CLOCK_MONOTONIC in nanoseconds, through FFI from bench/c/out/libbenchclock.so
 * (bench/c/clock.c, built by bench/c/build.ts), the clock the C baselines read. Used
 * for per-round-trip timings: Deno's performance.now() costs ~100 ns per call on these
 * machines (Bun's ~12 ns, C's clock_gettime ~24 ns), which would charge a third of a
 * spin round trip to the clock; this one costs ~30 ns on both runtimes.
 */
import { cPath } from "./c/build.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const path = cPath("libbenchclock.so");
const bunFfi = "bun:ffi"; // a variable, so Deno never tries to resolve it

/** Loads the clock (throws if the C baselines were not built: bench/c/build.ts). */
export async function loadClock(): Promise<() => number> {
  if (g.Bun) {
    const { dlopen } = await import(bunFfi);
    return dlopen(path, { bench_now_ns: { args: [], returns: "f64" } }).symbols.bench_now_ns;
  }
  return g.Deno.dlopen(path, { bench_now_ns: { parameters: [], result: "f64" } }).symbols.bench_now_ns;
}
