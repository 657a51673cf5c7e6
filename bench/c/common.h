/*
 * Shared helpers of the C baselines (the programs in bench/c/): a named POSIX shared memory
 * segment, process-shared futex wait/wake, the clock, the message types and their
 * checksums, percentiles, and the one-line JSON result every program prints.
 *
 * The message types and checksums must stay identical to bench/vs_c_worker.ts: a
 * ratio only means something when both sides move the same bytes and prove it.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CACHE_LINE 64
/* Spin-wait hints after a throughput poll that found nothing to do (throughput.c
 * `spin_wait`); bench/vs_c_worker.ts SPIN_WAIT_HINTS must say the same. */
#define SPIN_WAIT_HINTS 4

static inline void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("bench/c: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* CLOCK_MONOTONIC in ns, as a double (exact for 104 days of uptime). The TS side reads the same clock. */
static inline double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline long arg_long(const char *s, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0) die("bad %s: %s", what, s);
  return v;
}

/* ------------------------------------------------------------ shared memory */

/* Creates the named segment (exclusively, 0600) and maps it: the creator's view. */
static inline void *shm_create(const char *name, size_t size) {
  shm_unlink(name); /* a segment left by a killed earlier run */
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) die("shm_open(%s): %s", name, strerror(errno));
  if (ftruncate(fd, (off_t)size) != 0) die("ftruncate: %s", strerror(errno));
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap: %s", strerror(errno));
  close(fd);
  return p;
}

/* Maps an existing segment by name: what the second process does (it does not reuse the creator's mapping). */
static inline void *shm_attach(const char *name, size_t size) {
  int fd = shm_open(name, O_RDWR, 0);
  if (fd < 0) die("shm_open(%s): %s", name, strerror(errno));
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap: %s", strerror(errno));
  close(fd);
  return p;
}

/* A segment name unique to this process. */
static inline void shm_name(char *out, size_t n, const char *tag) {
  snprintf(out, n, "/shmkit-bench-c-%s-%d", tag, (int)getpid());
}

/* ------------------------------------------------------------ futex (process-shared: no FUTEX_PRIVATE_FLAG) */

static inline void futex_wait(_Atomic uint32_t *addr, uint32_t expected) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static inline void futex_wake(_Atomic uint32_t *addr, int n) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* ------------------------------------------------------------ two processes */

/*
 * Forks a child that runs fn(arg) and exits 0 (die() in it exits 1). The child is
 * killed when this process exits, so a failed run never leaves it parked or spinning
 * (and holding the output pipes the caller waits on).
 */
static inline pid_t start_child(void (*fn)(void *), void *arg) {
  fflush(stdout);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
    fn(arg);
    _exit(0);
  }
  return pid;
}

static inline void join_child(pid_t pid, const char *what) {
  int status;
  if (waitpid(pid, &status, 0) != pid) die("waitpid: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("%s process failed (status %d)", what, status);
}

/* ------------------------------------------------------------ messages */

/*
 * MSG_BYTES (8 or 64, set by the build) picks the element: an 8-byte double (what a
 * TS user sends as f64), or a 64-byte struct laid out like
 * struct({ id: u32, flags: u32, t: f64, x: f64, y: f64, z: f64, vx: f64, vy: f64, vz: f64 }).
 * Message i carries i in every field (flags: i & 255, the others offset by a constant),
 * and the consumer sums every field, so a lost, duplicated or torn message changes the sum.
 */
#ifndef MSG_BYTES
#define MSG_BYTES 8
#endif
#if MSG_BYTES == 8
typedef double msg_t;
static inline void msg_fill(msg_t *m, uint64_t i) { *m = (double)i; }
static inline double msg_sum(const msg_t *m) { return *m; }
/* Sum of messages 0 .. n-1. */
static inline double msg_expected(uint64_t n) { return (double)n * (double)(n - 1) / 2; }
#elif MSG_BYTES == 64
typedef struct {
  uint32_t id, flags;
  double t, x, y, z, vx, vy, vz;
} msg_t;
_Static_assert(sizeof(msg_t) == 64, "msg_t must be 64 bytes");
static inline void msg_fill(msg_t *m, uint64_t i) {
  double d = (double)i;
  m->id = (uint32_t)i;
  m->flags = (uint32_t)(i & 255);
  m->t = d, m->x = d + 1, m->y = d + 2, m->z = d + 3, m->vx = d + 4, m->vy = d + 5, m->vz = d + 6;
}
static inline double msg_sum(const msg_t *m) {
  return (double)m->id + (double)m->flags + m->t + m->x + m->y + m->z + m->vx + m->vy + m->vz;
}
/* Sum over i < n of 8i + (i & 255) + 21. */
static inline double msg_expected(uint64_t n) {
  double s = 8.0 * (double)n * (double)(n - 1) / 2 + 21.0 * (double)n;
  s += (double)(n / 256) * (255.0 * 256 / 2);
  for (uint64_t i = n / 256 * 256; i < n; i++) s += (double)(i & 255);
  return s;
}
#else
#error "MSG_BYTES must be 8 or 64"
#endif

/* ------------------------------------------------------------ results */

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted a[0..n): a[ceil(q n) - 1] (bench/vs_c_worker.ts uses the same rule). */
static inline double percentile(const double *a, size_t n, double q) {
  double x = q * (double)n;
  size_t k = (size_t)x;
  if ((double)k < x) k++; /* ceil without libm */
  return a[k == 0 ? 0 : k - 1];
}

/*
 * Prints the latency result line for the per-round-trip times t[0..n) (ns; sorted in
 * place) and the checksum of the values echoed back.
 */
static inline void print_latency(const char *workload, double *t, size_t n, double checksum, double expected) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += t[i];
  qsort(t, n, sizeof t[0], cmp_double);
  printf("{\"workload\":\"%s\",\"iters\":%zu,\"min\":%.1f,\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
         "\"max\":%.1f,\"mean\":%.1f,\"checksum\":%.17g,\"expected\":%.17g}\n",
         workload, n, t[0], percentile(t, n, 0.5), percentile(t, n, 0.99), percentile(t, n, 0.999), t[n - 1],
         sum / (double)n, checksum, expected);
}

#endif
