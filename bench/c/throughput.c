/*
 * Throughput of the three ring algorithms, in C, for the baseline rows of
 * bench/vs_c.ts (built twice: MSG_BYTES=8 and MSG_BYTES=64).
 *
 *   throughput <spsc|mpmc|ring> <xproc|same> <n> <capacity> <warm> <batch> [corrupt]
 *
 * xproc: this process creates a named segment and the structure in it, forks a
 * producer that attaches to the segment by name and pushes messages 0 .. n-1, `batch`
 * per call (1 = one per call), spinning while the structure is full; this process pops
 * them (`batch` per call) spinning while it is empty. same: one process pushes one
 * message and pops it again, n times. The clock runs from the moment `warm` messages
 * were consumed to the last one, so process start-up and first-touch page faults are
 * outside it. The consumer sums every message and exits 1 unless the sum is exact;
 * `corrupt` makes the producer send one wrong message (the test checks that it fails).
 * Prints one JSON line: ns per message over the timed part, the checksum and expected.
 */
#include "common.h"
#include "mpmc.h"
#include "ring.h"
#include "spsc.h"

enum algo { SPSC, MPMC, RING };

struct run {
  enum algo algo;
  char name[64];
  void *mem;
  size_t bytes;
  uint32_t capacity, ring; /* ring: MPMC slots (capacity rounded up to a power of two) */
  uint64_t n, warm;
  uint32_t batch;
  bool corrupt;
  pid_t peer; /* the producer, as seen by the consumer */
  pid_t parent;
};

/* Both sides' per-process state: a structure handle over this process's mapping. */
struct side {
  const struct run *run;
  struct spsc_side spsc;
  struct ring_side ring;
  struct mpmc *mpmc;
  uint32_t mask;
};

static struct side side_of(const struct run *run, void *mem) {
  struct side s = {.run = run, .mpmc = mem, .mask = run->ring - 1};
  s.spsc = spsc_side(mem, run->capacity);
  s.ring = ring_side(mem, run->capacity);
  return s;
}

static inline bool push1(struct side *s, const msg_t *m) {
  switch (s->run->algo) {
  case SPSC: return spsc_push(&s->spsc, m);
  case MPMC: return mpmc_push(s->mpmc, s->mask, m);
  default: return ring_push(&s->ring, m);
  }
}

static inline bool pop1(struct side *s, msg_t *m) {
  switch (s->run->algo) {
  case SPSC: return spsc_pop(&s->spsc, m);
  case MPMC: return mpmc_pop(s->mpmc, s->mask, m);
  default: return ring_pop(&s->ring, m);
  }
}

static inline uint32_t push_n(struct side *s, const msg_t *m, uint32_t k) {
  switch (s->run->algo) {
  case SPSC: return spsc_push_bulk(&s->spsc, m, k);
  case MPMC: return mpmc_push_bulk(s->mpmc, s->mask, m, k);
  default: return (uint32_t)ring_push_bulk(&s->ring, m, (int32_t)k);
  }
}

static inline uint32_t pop_n(struct side *s, msg_t *m, uint32_t k) {
  switch (s->run->algo) {
  case SPSC: return spsc_pop_bulk(&s->spsc, m, k);
  case MPMC: return mpmc_pop_bulk(s->mpmc, s->mask, m, k);
  default: return (uint32_t)ring_pop_bulk(&s->ring, m, (int32_t)k);
  }
}

/* The spin-wait after a poll that found the structure full or empty: four of the CPU's
 * spin-wait hints, as the TypeScript side's four Atomics.pause() (bench/vs_c_worker.ts
 * `idler`; docs/BENCHMARKS.md "How it is measured" says why both sides wait). */
static inline void spin_wait(void) {
  for (int k = 0; k < SPIN_WAIT_HINTS; k++) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
  }
}

/* Called on every poll that found the structure full or empty: the spin-wait, and, since
 * a peer that is gone would leave us spinning forever, a check every 2^20 of them. */
static void check_alive(const struct run *run, uint64_t *idle, bool consumer) {
  spin_wait();
  if ((++*idle & 0xfffff) != 0) return;
  if (consumer) {
    int status;
    if (waitpid(run->peer, &status, WNOHANG) == run->peer) die("the producer exited before sending everything");
  } else if (getppid() != run->parent) {
    die("the consumer is gone");
  }
}

static void produce(void *arg) {
  const struct run *run = arg;
  struct side s = side_of(run, shm_attach(run->name, run->bytes));
  msg_t buf[64];
  uint64_t idle = 0;
  for (uint64_t i = 0; i < run->n;) {
    uint32_t k = run->n - i < run->batch ? (uint32_t)(run->n - i) : run->batch;
    for (uint32_t j = 0; j < k; j++) msg_fill(&buf[j], i + j + (run->corrupt && i + j == run->n / 2));
    if (k == 1 && run->batch == 1) {
      while (!push1(&s, &buf[0])) check_alive(run, &idle, false);
    } else {
      for (uint32_t done = 0; done < k;) {
        uint32_t pushed = push_n(&s, buf + done, k - done);
        if (pushed == 0) check_alive(run, &idle, false);
        done += pushed;
      }
    }
    i += k;
  }
}

/* Pops `count` messages, adding them to *sum. */
static void consume(const struct run *run, struct side *s, uint64_t count, double *sum) {
  msg_t buf[64];
  uint64_t idle = 0;
  double acc = *sum;
  if (run->batch == 1) {
    for (uint64_t got = 0; got < count;) {
      if (pop1(s, &buf[0])) {
        acc += msg_sum(&buf[0]);
        got++;
      } else {
        check_alive(run, &idle, true);
      }
    }
  } else {
    for (uint64_t got = 0; got < count;) {
      uint32_t want = count - got < run->batch ? (uint32_t)(count - got) : run->batch;
      uint32_t k = pop_n(s, buf, want);
      if (k == 0) check_alive(run, &idle, true);
      for (uint32_t j = 0; j < k; j++) acc += msg_sum(&buf[j]);
      got += k;
    }
  }
  *sum = acc;
}

/* One process: push then pop, `count` times (batch messages at a time). */
static void push_pop(const struct run *run, struct side *s, uint64_t from, uint64_t count, double *sum) {
  msg_t buf[64], out[64];
  double acc = *sum;
  for (uint64_t i = from; i < from + count; i += run->batch) {
    uint32_t k = from + count - i < run->batch ? (uint32_t)(from + count - i) : run->batch;
    if (k == 1) {
      msg_fill(&buf[0], i + (run->corrupt && i == run->n / 2));
      if (!push1(s, &buf[0]) || !pop1(s, &out[0])) die("same-thread push/pop failed");
      acc += msg_sum(&out[0]);
    } else {
      for (uint32_t j = 0; j < k; j++) msg_fill(&buf[j], i + j + (run->corrupt && i + j == run->n / 2));
      if (push_n(s, buf, k) != k || pop_n(s, out, k) != k) die("same-thread bulk push/pop failed");
      for (uint32_t j = 0; j < k; j++) acc += msg_sum(&out[j]);
    }
  }
  *sum = acc;
}

int main(int argc, char **argv) {
  if (argc < 7) die("usage: throughput <spsc|mpmc|ring> <xproc|same> <n> <capacity> <warm> <batch> [corrupt]");
  struct run run = {0};
  run.algo = !strcmp(argv[1], "spsc") ? SPSC : !strcmp(argv[1], "mpmc") ? MPMC : !strcmp(argv[1], "ring") ? RING : (die("bad algorithm %s", argv[1]), 0);
  bool xproc = !strcmp(argv[2], "xproc");
  if (!xproc && strcmp(argv[2], "same")) die("bad mode %s", argv[2]);
  run.n = (uint64_t)arg_long(argv[3], "n");
  run.capacity = (uint32_t)arg_long(argv[4], "capacity");
  run.warm = (uint64_t)arg_long(argv[5], "warm");
  run.batch = (uint32_t)arg_long(argv[6], "batch");
  run.corrupt = argc > 7 && !strcmp(argv[7], "corrupt");
  if (run.capacity < 1 || run.capacity > (1u << 30)) die("capacity out of range");
  if (run.batch < 1 || run.batch > 64) die("batch must be 1 to 64");
  if (run.warm >= run.n || (run.batch > 1 && run.warm % run.batch != 0)) die("warm must be below n (and a multiple of batch)");
  for (run.ring = 2; run.ring < run.capacity; run.ring <<= 1) {}
  run.bytes = run.algo == SPSC ? spsc_bytes(run.capacity) : run.algo == MPMC ? mpmc_bytes(run.ring) : ring_bytes(run.capacity);
  shm_name(run.name, sizeof run.name, argv[1]);
  run.mem = shm_create(run.name, run.bytes);
  if (run.algo == MPMC) mpmc_init(run.mem, run.ring);
  run.parent = getpid();

  struct side s = side_of(&run, run.mem);
  double sum = 0, t0, t1;
  if (xproc) {
    run.peer = start_child(produce, &run);
    consume(&run, &s, run.warm, &sum);
    t0 = now_ns();
    consume(&run, &s, run.n - run.warm, &sum);
    t1 = now_ns();
    join_child(run.peer, "producer");
  } else {
    push_pop(&run, &s, 0, run.warm, &sum);
    t0 = now_ns();
    push_pop(&run, &s, run.warm, run.n - run.warm, &sum);
    t1 = now_ns();
  }
  shm_unlink(run.name);
  double expected = msg_expected(run.n);
  if (sum != expected) die("checksum mismatch: got %.17g, expected %.17g", sum, expected);
  printf("{\"workload\":\"%s-%s\",\"bytes\":%d,\"batch\":%u,\"msgs\":%llu,\"timed\":%llu,\"ns\":%.1f,\"nsPerMsg\":%.4f,"
         "\"checksum\":%.17g,\"expected\":%.17g}\n",
         argv[1], argv[2], MSG_BYTES, run.batch, (unsigned long long)run.n, (unsigned long long)(run.n - run.warm), t1 - t0,
         (t1 - t0) / (double)(run.n - run.warm), sum, expected);
  return 0;
}
