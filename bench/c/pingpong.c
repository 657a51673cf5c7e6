/*
 * Round-trip latency between two processes through shared memory, in C, for the
 * baseline rows of bench/vs_c.ts.
 *
 *   pingpong spin  <iters> <warm> [corrupt]   two SPSC rings (spsc.h, capacity 16, 8-byte
 *                                             messages); both sides spin on tryPop
 *   pingpong futex <iters> <warm> [corrupt]   two counters on separate cache lines; each side
 *                                             parks on FUTEX_WAIT every time and the other
 *                                             always FUTEX_WAKEs it (process-shared futex)
 *
 * This process creates the segment and forks the echo process, which attaches by
 * name. Round trip i sends a value the echo must return unchanged; this side checks
 * every echo (and the sum of them), so no round trip can be skipped. The clock is read
 * once per round trip (t_i - t_(i-1)), as on the TS side; the first `warm` round trips
 * are not recorded. Prints one JSON line: min, p50, p99, p99.9, max and mean in ns.
 */
#include "common.h"
#include "spsc.h"

#define RING_CAPACITY 16

struct pair {
  struct spsc *ping, *pong; /* spin mode: two rings, each on its own cache lines */
};

struct words {
  alignas(CACHE_LINE) _Atomic uint32_t ping;
  alignas(CACHE_LINE) _Atomic uint32_t pong;
};

static char name[64];
static bool spin_mode, corrupt;
static long iters, warm;
static size_t ring_bytes_each, bytes;

static void echo(void *arg) {
  (void)arg;
  uint8_t *mem = shm_attach(name, bytes);
  pid_t parent = getppid();
  uint64_t idle = 0;
  if (spin_mode) {
    struct spsc_side in = spsc_side(mem, RING_CAPACITY), out = spsc_side(mem + ring_bytes_each, RING_CAPACITY);
    for (long i = 0;; i++) {
      msg_t v;
      while (!spsc_pop(&in, &v)) {
        if ((++idle & 0xfffffff) == 0 && getppid() != parent) die("echo: the initiator is gone");
      }
      if (v < 0) return;
      if (corrupt && i == warm + iters / 2) v += 1;
      while (!spsc_push(&out, &v)) {}
    }
  } else {
    struct words *w = (struct words *)mem;
    uint32_t last = 0;
    for (long i = 0;; i++) {
      uint32_t p;
      while ((p = atomic_load_explicit(&w->ping, memory_order_acquire)) == last) futex_wait(&w->ping, last);
      if (p == UINT32_MAX) return;
      last = p;
      atomic_store_explicit(&w->pong, corrupt && i == warm + iters / 2 ? p + 1 : p, memory_order_release);
      futex_wake(&w->pong, 1);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 4) die("usage: pingpong <spin|futex> <iters> <warm> [corrupt]");
  spin_mode = !strcmp(argv[1], "spin");
  if (!spin_mode && strcmp(argv[1], "futex")) die("bad mode %s", argv[1]);
  iters = arg_long(argv[2], "iters");
  warm = arg_long(argv[3], "warm");
  corrupt = argc > 4 && !strcmp(argv[4], "corrupt");
  if (iters < 1) die("iters must be at least 1");
  ring_bytes_each = (spsc_bytes(RING_CAPACITY) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
  bytes = spin_mode ? 2 * ring_bytes_each : sizeof(struct words);
  shm_name(name, sizeof name, argv[1]);
  uint8_t *mem = shm_create(name, bytes);
  double *t = malloc((size_t)iters * sizeof *t);
  if (!t) die("out of memory");
  pid_t child = start_child(echo, NULL);

  double checksum = 0, prev = now_ns();
  long total = warm + iters;
  if (spin_mode) {
    struct spsc_side out = spsc_side(mem, RING_CAPACITY), in = spsc_side(mem + ring_bytes_each, RING_CAPACITY);
    for (long i = 0; i < total; i++) {
      msg_t v = (double)i, back;
      while (!spsc_push(&out, &v)) {}
      while (!spsc_pop(&in, &back)) {}
      if (back != v) die("round trip %ld: sent %.17g, echoed %.17g", i, v, back);
      double now = now_ns();
      if (i >= warm) t[i - warm] = now - prev, checksum += back;
      prev = now;
    }
    msg_t stop = -1;
    while (!spsc_push(&out, &stop)) {}
  } else {
    struct words *w = (struct words *)mem;
    for (long i = 0; i < total; i++) {
      uint32_t n = (uint32_t)i + 1, p; /* 0 is the initial value: never sent */
      atomic_store_explicit(&w->ping, n, memory_order_release);
      futex_wake(&w->ping, 1);
      while ((p = atomic_load_explicit(&w->pong, memory_order_acquire)) != n) {
        if (p != n - 1) die("round trip %ld: sent %u, echoed %u", i, n, p);
        futex_wait(&w->pong, p);
      }
      double now = now_ns();
      if (i >= warm) t[i - warm] = now - prev, checksum += (double)i;
      prev = now;
    }
    atomic_store_explicit(&w->ping, UINT32_MAX, memory_order_release);
    futex_wake(&w->ping, 1);
  }
  join_child(child, "echo");
  shm_unlink(name);
  /* The values of the timed round trips, warm .. total-1. */
  double expected = (double)total * (double)(total - 1) / 2 - (double)warm * (double)(warm - 1) / 2;
  if (warm == 0) expected = (double)total * (double)(total - 1) / 2;
  if (checksum != expected) die("checksum mismatch: got %.17g, expected %.17g", checksum, expected);
  print_latency(spin_mode ? "spin" : "futex", t, (size_t)iters, checksum, expected);
  return 0;
}
