/*
 * shmkit's RingBuffer algorithm (docs/FORMAT.md, kind 7), without its wait support and
 * producer claim: a Lamport ring with one producer, whose consumers copy an element
 * (or a run of them) speculatively and then commit with a CAS on tail. Positions run
 * over [0, M), M = capacity * floor(2^31 / capacity); slot = pos % capacity. The
 * producer keeps a cached tail and re-reads it only when the ring looks full; the
 * consumer keeps a cached head and re-reads it only when the ring looks empty.
 */
#ifndef BENCH_RING_H
#define BENCH_RING_H
#include "common.h"

struct ring {
  alignas(CACHE_LINE) _Atomic int32_t head;
  alignas(CACHE_LINE) _Atomic int32_t tail;
  alignas(CACHE_LINE) msg_t slots[];
};

struct ring_side {
  struct ring *r;
  int32_t capacity;
  int64_t M; /* 2^31 for a power-of-two capacity: arithmetic on positions is done in 64 bits */
  int32_t cached; /* producer: tail seen; consumer: head seen */
};

static inline size_t ring_bytes(uint32_t capacity) { return sizeof(struct ring) + (size_t)capacity * sizeof(msg_t); }

static inline struct ring_side ring_side(void *mem, uint32_t capacity) {
  return (struct ring_side){.r = mem, .capacity = (int32_t)capacity, .M = (int64_t)capacity * ((1u << 31) / capacity), .cached = 0};
}

/* (a - b) mod M, for a at or after b. */
static inline int32_t ring_dist(const struct ring_side *s, int32_t a, int32_t b) {
  int64_t d = (int64_t)a - b;
  return (int32_t)(d < 0 ? d + s->M : d);
}
static inline int32_t ring_add(const struct ring_side *s, int32_t p, int32_t k) {
  int64_t q = (int64_t)p + k;
  return (int32_t)(q >= s->M ? q - s->M : q);
}

static inline bool ring_push(struct ring_side *p, const msg_t *v) {
  struct ring *r = p->r;
  int32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
  if (ring_dist(p, h, p->cached) >= p->capacity) {
    p->cached = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (ring_dist(p, h, p->cached) >= p->capacity) return false;
  }
  r->slots[h % p->capacity] = *v;
  atomic_store_explicit(&r->head, ring_add(p, h, 1), memory_order_release);
  return true;
}

static inline bool ring_pop(struct ring_side *c, msg_t *out) {
  struct ring *r = c->r;
  int32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
  for (;;) {
    int32_t avail = ring_dist(c, c->cached, t);
    if (avail == 0 || avail > c->capacity) {
      c->cached = atomic_load_explicit(&r->head, memory_order_acquire);
      avail = ring_dist(c, c->cached, t);
      if (avail == 0) return false;
    }
    *out = r->slots[t % c->capacity];
    /* Commit the copy: fails if another consumer took it (or an overwrite dropped it). */
    if (atomic_compare_exchange_strong_explicit(&r->tail, &t, ring_add(c, t, 1), memory_order_acq_rel, memory_order_relaxed)) {
      return true;
    }
  }
}

/* Copies k elements starting at position `from` (wrapping at the end of the slots). */
static inline void ring_copy_out(const struct ring_side *c, int32_t from, int32_t k, msg_t *out) {
  int32_t s = from % c->capacity;
  int32_t first = k < c->capacity - s ? k : c->capacity - s;
  memcpy(out, &c->r->slots[s], (size_t)first * sizeof(msg_t));
  if (first < k) memcpy(out + first, &c->r->slots[0], (size_t)(k - first) * sizeof(msg_t));
}

/* As RingBuffer.pushBulk: re-reads tail, copies what fits (two memcpys at the wrap), publishes once. */
static inline int32_t ring_push_bulk(struct ring_side *p, const msg_t *v, int32_t n) {
  struct ring *r = p->r;
  int32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
  p->cached = atomic_load_explicit(&r->tail, memory_order_acquire);
  int32_t free = p->capacity - ring_dist(p, h, p->cached);
  int32_t k = n < free ? n : free;
  if (k <= 0) return 0;
  int32_t s = h % p->capacity;
  int32_t first = k < p->capacity - s ? k : p->capacity - s;
  memcpy(&r->slots[s], v, (size_t)first * sizeof(msg_t));
  if (first < k) memcpy(&r->slots[0], v + first, (size_t)(k - first) * sizeof(msg_t));
  atomic_store_explicit(&r->head, ring_add(p, h, k), memory_order_release);
  return k;
}

/* As RingBuffer.popBulk: copies up to max speculatively, commits them with one CAS on tail. */
static inline int32_t ring_pop_bulk(struct ring_side *c, msg_t *out, int32_t max) {
  struct ring *r = c->r;
  for (;;) {
    int32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    int32_t avail = ring_dist(c, atomic_load_explicit(&r->head, memory_order_acquire), t);
    int32_t k = avail < max ? avail : max;
    if (k <= 0) return 0;
    ring_copy_out(c, t, k, out);
    if (atomic_compare_exchange_strong_explicit(&r->tail, &t, ring_add(c, t, k), memory_order_acq_rel, memory_order_relaxed)) {
      return k;
    }
    if (max > 1) max >>= 1;
  }
}

#endif
