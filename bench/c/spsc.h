/*
 * Rigtorp's SPSC ring (github.com/rigtorp/SPSCQueue, written from its description):
 * capacity + 1 slots, a write index owned by the producer and a read index owned by
 * the consumer on separate cache lines, and on each side a private cached copy of the
 * other side's index, re-read only when the cache says full (producer) or empty
 * (consumer). The same layout and index rule as shmkit's SpscQueue (docs/FORMAT.md),
 * without its wait support.
 */
#ifndef BENCH_SPSC_H
#define BENCH_SPSC_H
#include "common.h"

struct spsc {
  alignas(CACHE_LINE) _Atomic uint32_t write;
  alignas(CACHE_LINE) _Atomic uint32_t read;
  alignas(CACHE_LINE) msg_t slots[]; /* capacity + 1 */
};

/* One side's handle: lives in that process's own memory, not in the segment. */
struct spsc_side {
  struct spsc *q;
  uint32_t slots;
  uint32_t cached; /* producer: last read index seen; consumer: last write index seen */
};

static inline size_t spsc_bytes(uint32_t capacity) { return sizeof(struct spsc) + ((size_t)capacity + 1) * sizeof(msg_t); }

static inline struct spsc_side spsc_side(void *mem, uint32_t capacity) {
  return (struct spsc_side){.q = mem, .slots = capacity + 1, .cached = 0};
}

static inline bool spsc_push(struct spsc_side *p, const msg_t *v) {
  struct spsc *q = p->q;
  uint32_t w = atomic_load_explicit(&q->write, memory_order_relaxed);
  uint32_t next = w + 1 == p->slots ? 0 : w + 1;
  if (next == p->cached) {
    p->cached = atomic_load_explicit(&q->read, memory_order_acquire);
    if (next == p->cached) return false;
  }
  q->slots[w] = *v;
  atomic_store_explicit(&q->write, next, memory_order_release);
  return true;
}

static inline bool spsc_pop(struct spsc_side *c, msg_t *out) {
  struct spsc *q = c->q;
  uint32_t r = atomic_load_explicit(&q->read, memory_order_relaxed);
  if (r == c->cached) {
    c->cached = atomic_load_explicit(&q->write, memory_order_acquire);
    if (r == c->cached) return false;
  }
  *out = q->slots[r];
  atomic_store_explicit(&q->read, r + 1 == c->slots ? 0 : r + 1, memory_order_release);
  return true;
}

/* Pushes up to n of v[], publishing them with one store (as SpscQueue.pushBulk: it re-reads the read index). */
static inline uint32_t spsc_push_bulk(struct spsc_side *p, const msg_t *v, uint32_t n) {
  struct spsc *q = p->q;
  uint32_t slots = p->slots;
  uint32_t w = atomic_load_explicit(&q->write, memory_order_relaxed);
  uint32_t r = p->cached = atomic_load_explicit(&q->read, memory_order_acquire);
  uint32_t free = (r + slots - w - 1) % slots;
  uint32_t k = n < free ? n : free;
  for (uint32_t i = 0; i < k; i++) {
    q->slots[w] = v[i];
    if (++w == slots) w = 0;
  }
  atomic_store_explicit(&q->write, w, memory_order_release);
  return k;
}

/* Pops up to max into out[], releasing them with one store. */
static inline uint32_t spsc_pop_bulk(struct spsc_side *c, msg_t *out, uint32_t max) {
  struct spsc *q = c->q;
  uint32_t slots = c->slots;
  uint32_t r = atomic_load_explicit(&q->read, memory_order_relaxed);
  uint32_t w = c->cached = atomic_load_explicit(&q->write, memory_order_acquire);
  uint32_t avail = (w + slots - r) % slots;
  uint32_t k = max < avail ? max : avail;
  for (uint32_t i = 0; i < k; i++) {
    out[i] = q->slots[r];
    if (++r == slots) r = 0;
  }
  atomic_store_explicit(&q->read, r, memory_order_release);
  return k;
}

#endif
