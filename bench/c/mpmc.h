/*
 * Vyukov's bounded MPMC queue (1024cores.net, "Bounded MPMC queue", written from its
 * description): a power-of-two ring of slots, each a sequence number and an element.
 * A producer at position pos may fill slot pos & mask when its sequence is pos; it
 * claims the position by CAS on the enqueue counter, writes the element and stores
 * sequence pos + 1. A consumer at pos takes the slot when its sequence is pos + 1,
 * claims by CAS on the dequeue counter, copies the element and stores pos + ring.
 * 32-bit positions compared as (int32_t)(a - b), and the slot layout (u32 sequence,
 * element at max(4, alignment), stride rounded to that alignment) are shmkit's Queue
 * (docs/FORMAT.md), without its wait support.
 */
#ifndef BENCH_MPMC_H
#define BENCH_MPMC_H
#include "common.h"

struct mpmc_slot {
  _Atomic uint32_t seq;
  msg_t v; /* at offset 8 for both message types: alignof(msg_t) == 8 */
};
_Static_assert(offsetof(struct mpmc_slot, v) == 8, "element offset must match shmkit's Queue");

struct mpmc {
  alignas(CACHE_LINE) _Atomic uint32_t enq;
  alignas(CACHE_LINE) _Atomic uint32_t deq;
  alignas(CACHE_LINE) struct mpmc_slot slots[];
};

static inline size_t mpmc_bytes(uint32_t ring) { return sizeof(struct mpmc) + (size_t)ring * sizeof(struct mpmc_slot); }

/* ring must be a power of two. */
static inline void mpmc_init(struct mpmc *q, uint32_t ring) {
  for (uint32_t i = 0; i < ring; i++) atomic_store_explicit(&q->slots[i].seq, i, memory_order_relaxed);
  atomic_store_explicit(&q->enq, 0, memory_order_relaxed);
  atomic_store_explicit(&q->deq, 0, memory_order_release);
}

static inline bool mpmc_push(struct mpmc *q, uint32_t mask, const msg_t *v) {
  uint32_t pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
  struct mpmc_slot *s;
  for (;;) {
    s = &q->slots[pos & mask];
    int32_t dif = (int32_t)(atomic_load_explicit(&s->seq, memory_order_acquire) - pos);
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&q->enq, &pos, pos + 1, memory_order_relaxed, memory_order_relaxed)) break;
    } else if (dif < 0) {
      return false; /* full */
    } else {
      pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
    }
  }
  s->v = *v;
  atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
  return true;
}

static inline bool mpmc_pop(struct mpmc *q, uint32_t mask, msg_t *out) {
  uint32_t pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
  struct mpmc_slot *s;
  for (;;) {
    s = &q->slots[pos & mask];
    int32_t dif = (int32_t)(atomic_load_explicit(&s->seq, memory_order_acquire) - (pos + 1));
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&q->deq, &pos, pos + 1, memory_order_relaxed, memory_order_relaxed)) break;
    } else if (dif < 0) {
      return false; /* empty */
    } else {
      pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
    }
  }
  *out = s->v;
  atomic_store_explicit(&s->seq, pos + mask + 1, memory_order_release);
  return true;
}

/*
 * Bulk forms, as Queue.pushBulk / popBulk do it: count the run of ready slots from the
 * current position (up to n), claim the whole run with one CAS, then fill (or copy)
 * and publish each slot. Returns how many moved.
 */
static inline uint32_t mpmc_push_bulk(struct mpmc *q, uint32_t mask, const msg_t *v, uint32_t n) {
  uint32_t pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
  uint32_t k;
  for (;;) {
    int32_t dif = 0;
    for (k = 0; k < n; k++) {
      dif = (int32_t)(atomic_load_explicit(&q->slots[(pos + k) & mask].seq, memory_order_acquire) - (pos + k));
      if (dif != 0) break;
    }
    if (k == 0) {
      if (dif < 0) return 0; /* full */
      pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
      continue;
    }
    if (atomic_compare_exchange_weak_explicit(&q->enq, &pos, pos + k, memory_order_relaxed, memory_order_relaxed)) break;
  }
  for (uint32_t j = 0; j < k; j++) {
    struct mpmc_slot *s = &q->slots[(pos + j) & mask];
    s->v = v[j];
    atomic_store_explicit(&s->seq, pos + j + 1, memory_order_release);
  }
  return k;
}

static inline uint32_t mpmc_pop_bulk(struct mpmc *q, uint32_t mask, msg_t *out, uint32_t max) {
  uint32_t pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
  uint32_t k;
  for (;;) {
    int32_t dif = 0;
    for (k = 0; k < max; k++) {
      dif = (int32_t)(atomic_load_explicit(&q->slots[(pos + k) & mask].seq, memory_order_acquire) - (pos + k + 1));
      if (dif != 0) break;
    }
    if (k == 0) {
      if (dif < 0) return 0; /* empty */
      pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
      continue;
    }
    if (atomic_compare_exchange_weak_explicit(&q->deq, &pos, pos + k, memory_order_relaxed, memory_order_relaxed)) break;
  }
  for (uint32_t j = 0; j < k; j++) {
    struct mpmc_slot *s = &q->slots[(pos + j) & mask];
    out[j] = s->v;
    atomic_store_explicit(&s->seq, pos + j + mask + 1, memory_order_release);
  }
  return k;
}

#endif
