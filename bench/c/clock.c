/*
 * The TS side's clock for bench/vs_c_worker.ts, loaded with FFI: CLOCK_MONOTONIC in
 * ns, the clock the C baselines read. Deno's performance.now() costs ~100 ns a call
 * here (about a third of a spin round trip); this costs ~30 ns from either runtime,
 * close to C's own clock_gettime, so per-round-trip timing charges both sides alike.
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

double bench_now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}
