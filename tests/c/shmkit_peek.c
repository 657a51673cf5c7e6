/*
 * shmkit_peek: a C11 reader/writer of shmkit segments, written only from
 * docs/FORMAT.md and docs/MAP.md (no shmkit code), to prove that a C program can
 * use the same segment as Deno and Bun. tests/c_interop.test.ts drives it.
 *
 *   cc -std=c11 -O2 -Wall -Werror -o shmkit_peek shmkit_peek.c
 *
 * Usage (SEG is the segment name, as given to Segment.create):
 *   shmkit_peek SEG list                        name table as one JSON array
 *   shmkit_peek SEG points NAME                 SharedArray of struct{x:f64,y:f64,id:u32,name:string(12)}:
 *                                               one JSON line per element
 *   shmkit_peek SEG add32 NAME DELTA TIMES [BARRIER PARTIES]
 *   shmkit_peek SEG add64 NAME DELTA TIMES [BARRIER PARTIES]
 *                                               TIMES x atomic fetch-add of DELTA on a SharedAtomic i32 / i64;
 *                                               with BARRIER (a SharedAtomic i32), first add 1 to it and wait
 *                                               until it reaches PARTIES, so that all adders overlap
 *   shmkit_peek SEG get-u32-f64 NAME KEY...     SharedMap<u32, f64> lookups: one JSON line per key
 *   shmkit_peek SEG get-str16-i32 NAME KEY...   SharedMap<string(16), i32> lookups
 *   shmkit_peek SEG watch-u32-f64 NAME LO HI READY STOP
 *                                               look keys LO..HI up again and again until the SharedAtomic
 *                                               i32 STOP is non-zero (after adding 1 to READY); every value found
 *                                               for key k must satisfy floor(v / 1000) == k. Prints counts.
 *   shmkit_peek - typehash SIGNATURE...         FNV-1a (over UTF-16 code units) of each signature
 *   shmkit_peek - murmur3 HEXBYTES SEED         MurmurHash3_x86_32 of the bytes
 *
 * Exit codes: 0 done; 1 usage or system error; 2 the segment or a structure does
 * not match the format (bad magic/version/state/size/geometry, wrong kind, element
 * size or type hash, corrupt entry); 3 no ready structure with that name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "shmkit segments are little-endian; this reader reads fields natively"
#endif

/* ------------------------------------------------------------------ errors */

static _Noreturn void die(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("shmkit_peek: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stdout);
  exit(code);
}
#define USAGE 1
#define MISMATCH 2
#define NOT_FOUND 3

/* ------------------------------------------------------------------ FORMAT.md constants */

#define MAGIC 0x4B4D4853u
#define VERSION 1u
#define HEADER_SIZE 256u
#define REGISTRY_SLOT 16u

/* header offsets */
enum {
  H_MAGIC = 0, H_VERSION = 4, H_STATE = 8, H_HEADER_SIZE = 12, H_TOTAL_SIZE = 16,
  H_MAX_ENTRIES = 24, H_MAX_NAME_LENGTH = 28, H_ENTRY_SIZE = 32, H_MAX_PROCESSES = 36,
  H_TABLE_OFFSET = 40, H_HEAP_OFFSET = 48, H_HEAP_SIZE = 56,
  H_LOCK_OWNER = 128, H_LOCK_WAITERS = 132, H_TABLE_VERSION = 136,
};
/* name table entry offsets */
enum {
  E_STATE = 0, E_GENERATION = 4, E_KIND = 8, E_ELEM_SIZE = 12, E_TYPE_HASH = 16,
  E_NAME_LENGTH = 20, E_CAPACITY = 24, E_OFFSET = 32, E_SIZE = 40, E_NAME = 64,
};
enum { ENTRY_FREE = 0, ENTRY_RESERVED = 1, ENTRY_READY = 2 };
/* structure block header offsets */
enum { S_KIND = 0, S_ELEM_SIZE = 4, S_TYPE_HASH = 8, S_DATA_OFFSET = 12, S_CAPACITY = 16, S_SIZE = 64 };
enum { KIND_ARRAY = 1, KIND_ATOMIC = 2, KIND_MAP = 10 };

/* ------------------------------------------------------------------ hashes */

/* FNV-1a 32 over the UTF-16 code units of a UTF-8 string (FORMAT.md). */
static uint32_t fnv1a(const char *utf8) {
  uint32_t h = 0x811C9DC5u;
  const unsigned char *s = (const unsigned char *)utf8;
  while (*s) {
    uint32_t cp;
    int extra;
    if (*s < 0x80) { cp = *s; extra = 0; }
    else if ((*s & 0xE0) == 0xC0) { cp = *s & 0x1F; extra = 1; }
    else if ((*s & 0xF0) == 0xE0) { cp = *s & 0x0F; extra = 2; }
    else if ((*s & 0xF8) == 0xF0) { cp = *s & 0x07; extra = 3; }
    else die(USAGE, "signature is not valid UTF-8");
    s++;
    for (int i = 0; i < extra; i++, s++) {
      if ((*s & 0xC0) != 0x80) die(USAGE, "signature is not valid UTF-8");
      cp = (cp << 6) | (*s & 0x3F);
    }
    uint32_t units[2];
    int n = 0;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units[n++] = 0xD800 + (cp >> 10);
      units[n++] = 0xDC00 + (cp & 0x3FF);
    } else {
      units[n++] = cp;
    }
    for (int i = 0; i < n; i++) {
      h ^= units[i];
      h *= 0x01000193u;
    }
  }
  return h;
}

/* MurmurHash3_x86_32, Austin Appleby's reference algorithm (MAP.md). */
static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static uint32_t murmur3_x86_32(const void *key, size_t len, uint32_t seed) {
  const uint8_t *data = key;
  const size_t nblocks = len / 4;
  const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
  uint32_t h1 = seed;
  for (size_t i = 0; i < nblocks; i++) {
    uint32_t k1;
    memcpy(&k1, data + 4 * i, 4); /* little-endian block */
    k1 *= c1;
    k1 = rotl32(k1, 15);
    k1 *= c2;
    h1 ^= k1;
    h1 = rotl32(h1, 13);
    h1 = h1 * 5 + 0xe6546b64u;
  }
  const uint8_t *tail = data + nblocks * 4;
  uint32_t k1 = 0;
  switch (len & 3) {
    case 3: k1 ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: k1 ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1:
      k1 ^= tail[0];
      k1 *= c1;
      k1 = rotl32(k1, 15);
      k1 *= c2;
      h1 ^= k1;
  }
  h1 ^= (uint32_t)len;
  h1 ^= h1 >> 16;
  h1 *= 0x85ebca6bu;
  h1 ^= h1 >> 13;
  h1 *= 0xc2b2ae35u;
  h1 ^= h1 >> 16;
  return h1;
}

/* ------------------------------------------------------------------ the mapped segment */

typedef struct {
  uint8_t *base;
  uint64_t totalSize, tableOffset, heapOffset, heapSize;
  uint32_t maxEntries, maxNameLength, entrySize, maxProcesses;
} Segment;

static uint32_t rd32(const Segment *g, uint64_t at) { uint32_t v; memcpy(&v, g->base + at, 4); return v; }
static uint64_t rd64(const Segment *g, uint64_t at) { uint64_t v; memcpy(&v, g->base + at, 8); return v; }
static uint32_t *word(const Segment *g, uint64_t at) { return (uint32_t *)(void *)(g->base + at); }
static uint32_t load32(const Segment *g, uint64_t at) { return __atomic_load_n(word(g, at), __ATOMIC_ACQUIRE); }
static uint64_t align64(uint64_t n) { return (n + 63) & ~(uint64_t)63; }

static void open_segment(Segment *g, const char *name) {
  char path[300];
  if (strlen(name) == 0 || strlen(name) > 255 || strchr(name, '/')) die(USAGE, "bad segment name \"%s\"", name);
  snprintf(path, sizeof path, "/%s", name);
  int fd = shm_open(path, O_RDWR, 0);
  if (fd < 0) die(USAGE, "shm_open(%s): %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) die(USAGE, "fstat: %s", strerror(errno));
  if (st.st_size < (off_t)HEADER_SIZE) die(MISMATCH, "segment \"%s\" has %lld bytes, less than the 256-byte header", name, (long long)st.st_size);
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die(USAGE, "mmap: %s", strerror(errno));
  close(fd);
  g->base = p;

  if (rd32(g, H_MAGIC) != MAGIC) die(MISMATCH, "bad magic 0x%08" PRIX32 " (want 0x%08" PRIX32 ")", rd32(g, H_MAGIC), MAGIC);
  if (rd32(g, H_VERSION) != VERSION) die(MISMATCH, "format version %" PRIu32 ", this reader reads %u", rd32(g, H_VERSION), VERSION);
  uint32_t state = load32(g, H_STATE);
  if (state != 1) die(MISMATCH, "segment state %" PRIu32 " (not ready)", state);
  if (rd32(g, H_HEADER_SIZE) != HEADER_SIZE) die(MISMATCH, "header size %" PRIu32, rd32(g, H_HEADER_SIZE));
  g->totalSize = rd64(g, H_TOTAL_SIZE);
  if (g->totalSize != (uint64_t)st.st_size) die(MISMATCH, "header says %" PRIu64 " bytes, the object has %lld", g->totalSize, (long long)st.st_size);
  g->maxEntries = rd32(g, H_MAX_ENTRIES);
  g->maxNameLength = rd32(g, H_MAX_NAME_LENGTH);
  g->entrySize = rd32(g, H_ENTRY_SIZE);
  g->maxProcesses = rd32(g, H_MAX_PROCESSES);
  if (g->maxEntries < 1 || g->maxEntries > (1u << 20)) die(MISMATCH, "maxEntries %" PRIu32, g->maxEntries);
  if (g->maxNameLength < 1 || g->maxNameLength > 1024) die(MISMATCH, "maxNameLength %" PRIu32, g->maxNameLength);
  if (g->maxProcesses < 1 || g->maxProcesses > 65536) die(MISMATCH, "maxProcesses %" PRIu32, g->maxProcesses);
  uint64_t tableOffset = align64(HEADER_SIZE + (uint64_t)g->maxProcesses * REGISTRY_SLOT);
  uint64_t entrySize = 64 + align64(g->maxNameLength);
  uint64_t heapOffset = align64(tableOffset + (uint64_t)g->maxEntries * entrySize);
  g->tableOffset = rd64(g, H_TABLE_OFFSET);
  g->heapOffset = rd64(g, H_HEAP_OFFSET);
  g->heapSize = rd64(g, H_HEAP_SIZE);
  if (g->entrySize != entrySize || g->tableOffset != tableOffset || g->heapOffset != heapOffset ||
      heapOffset >= g->totalSize || g->heapSize != g->totalSize - heapOffset) {
    die(MISMATCH, "table or heap geometry does not add up");
  }
}

/* ------------------------------------------------------------------ the metadata lock */

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *timeout) {
  /* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
  return syscall(SYS_futex, addr, op, val, timeout, NULL, 0);
}

/* A live, non-zombie process (what FORMAT.md calls alive). */
static int alive(uint32_t pid) {
  if (pid == 0 || pid > INT_MAX) return 0;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%" PRIu32 "/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *close_paren = strrchr(buf, ')');
  if (!close_paren || close_paren[1] != ' ') return 1;
  char state = close_paren[2];
  return state != 'Z' && state != 'X';
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Frees the entries a dead lock holder left RESERVED (FORMAT.md, Metadata lock). */
static void reclaim_reserved(const Segment *g) {
  for (uint32_t i = 0; i < g->maxEntries; i++) {
    uint64_t at = g->tableOffset + (uint64_t)i * g->entrySize;
    if (load32(g, at + E_STATE) != ENTRY_RESERVED) continue;
    __atomic_fetch_add(word(g, at + E_GENERATION), 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(word(g, at + E_STATE), ENTRY_FREE, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(word(g, H_TABLE_VERSION), 1, __ATOMIC_SEQ_CST);
  }
}

static void meta_lock(const Segment *g) {
  uint32_t *owner_word = word(g, H_LOCK_OWNER);
  uint32_t *waiters = word(g, H_LOCK_WAITERS);
  uint32_t self = (uint32_t)getpid();
  double deadline = now_s() + 10.0;
  for (;;) {
    uint32_t owner = 0;
    if (__atomic_compare_exchange_n(owner_word, &owner, self, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return;
    if (!alive(owner)) {
      if (__atomic_compare_exchange_n(owner_word, &owner, self, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        reclaim_reserved(g);
        return;
      }
      continue;
    }
    if (now_s() > deadline) die(USAGE, "the metadata lock is held by live process %" PRIu32 " for over 10 s", owner);
    __atomic_fetch_add(waiters, 1, __ATOMIC_SEQ_CST);
    struct timespec park = {0, 2000000}; /* 2 ms, then re-check the owner */
    futex(owner_word, FUTEX_WAIT, owner, &park);
    __atomic_fetch_sub(waiters, 1, __ATOMIC_SEQ_CST);
  }
}

static void meta_unlock(const Segment *g) {
  __atomic_store_n(word(g, H_LOCK_OWNER), 0, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(word(g, H_LOCK_WAITERS), __ATOMIC_SEQ_CST) > 0) futex(word(g, H_LOCK_OWNER), FUTEX_WAKE, 1, NULL);
}

/* ------------------------------------------------------------------ the name table */

typedef struct {
  uint32_t kind, elemSize, typeHash, nameLength;
  uint64_t capacity, offset, size;
  char name[1025];
} Entry;

/*
 * Reads and validates entry i (the caller holds the metadata lock and saw it READY).
 * Returns 0, or 1 with a message in `why`: the caller releases the lock, then fails.
 */
static int read_entry(const Segment *g, uint32_t i, Entry *e, char *why, size_t whySize) {
  uint64_t at = g->tableOffset + (uint64_t)i * g->entrySize;
  e->kind = rd32(g, at + E_KIND);
  e->elemSize = rd32(g, at + E_ELEM_SIZE);
  e->typeHash = rd32(g, at + E_TYPE_HASH);
  e->nameLength = rd32(g, at + E_NAME_LENGTH);
  e->capacity = rd64(g, at + E_CAPACITY);
  e->offset = rd64(g, at + E_OFFSET);
  e->size = rd64(g, at + E_SIZE);
  if (e->nameLength < 1 || e->nameLength > g->maxNameLength) {
    snprintf(why, whySize, "name table entry %" PRIu32 ": name length %" PRIu32, i, e->nameLength);
    return 1;
  }
  memcpy(e->name, g->base + at + E_NAME, e->nameLength);
  e->name[e->nameLength] = 0;
  uint64_t heapEnd = g->heapOffset + g->heapSize;
  if (e->offset % 64 != 0 || e->offset < g->heapOffset || e->offset > heapEnd || e->size < 64 || e->size % 64 != 0 ||
      e->size > heapEnd - e->offset) {
    snprintf(why, whySize, "name table entry %" PRIu32 ": block [%" PRIu64 ", +%" PRIu64 ") is not inside the heap", i, e->offset,
             e->size);
    return 1;
  }
  return 0;
}

/* Finds the READY entry named `name`; 0 if there is none. */
static int find_entry(const Segment *g, const char *name, Entry *out) {
  size_t len = strlen(name);
  int found = 0, bad = 0;
  char why[200];
  meta_lock(g);
  for (uint32_t i = 0; i < g->maxEntries && !found && !bad; i++) {
    uint64_t at = g->tableOffset + (uint64_t)i * g->entrySize;
    if (load32(g, at + E_STATE) != ENTRY_READY) continue;
    if (rd32(g, at + E_NAME_LENGTH) != len || memcmp(g->base + at + E_NAME, name, len) != 0) continue;
    bad = read_entry(g, i, out, why, sizeof why);
    found = !bad;
  }
  meta_unlock(g);
  if (bad) die(MISMATCH, "%s", why);
  return found;
}

/*
 * Opens structure `name`: checks its entry's kind, element size and type hash, then
 * the block header against the entry. Returns the byte offset of the element data.
 */
static uint64_t open_structure(const Segment *g, const char *name, uint32_t kind, uint32_t elemSize, const char *signature,
                               uint32_t controlBytes, Entry *e) {
  if (!find_entry(g, name, e)) die(NOT_FOUND, "no structure named \"%s\"", name);
  uint32_t typeHash = fnv1a(signature);
  if (e->kind != kind) die(MISMATCH, "\"%s\" has kind %" PRIu32 ", not %" PRIu32, name, e->kind, kind);
  if (e->elemSize != elemSize || e->typeHash != typeHash) {
    die(MISMATCH, "\"%s\" holds %" PRIu32 "-byte elements with type hash 0x%08" PRIx32 ", not %s (%" PRIu32 " bytes, 0x%08" PRIx32 ")",
        name, e->elemSize, e->typeHash, signature, elemSize, typeHash);
  }
  uint64_t b = e->offset;
  uint32_t dataOffset = rd32(g, b + S_DATA_OFFSET);
  if (rd32(g, b + S_KIND) != e->kind || rd32(g, b + S_ELEM_SIZE) != e->elemSize || rd32(g, b + S_TYPE_HASH) != e->typeHash ||
      rd64(g, b + S_CAPACITY) != e->capacity || dataOffset != S_SIZE + controlBytes) {
    die(MISMATCH, "structure header of \"%s\" does not match its name table entry", name);
  }
  return b + dataOffset;
}

/* ------------------------------------------------------------------ JSON output */

static void json_string(const char *s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c); /* UTF-8 bytes pass through */
  }
  putchar('"');
}

static void json_double(double d) {
  if (d != d || d - d != 0) fputs("null", stdout); /* NaN and infinities are not JSON */
  else printf("%.17g", d);                         /* round-trips exactly */
}

/* ------------------------------------------------------------------ commands */

static void cmd_list(const Segment *g) {
  /* Copy the ready entries under the lock; print after releasing it. */
  Entry *entries = malloc(sizeof(Entry) * (g->maxEntries < 1024 ? g->maxEntries : 1024));
  size_t n = 0, room = g->maxEntries < 1024 ? g->maxEntries : 1024;
  int bad = 0;
  char why[200];
  if (!entries) die(USAGE, "out of memory");
  meta_lock(g);
  for (uint32_t i = 0; i < g->maxEntries && !bad; i++) {
    uint64_t at = g->tableOffset + (uint64_t)i * g->entrySize;
    if (load32(g, at + E_STATE) != ENTRY_READY) continue;
    if (n == room) {
      room *= 2;
      Entry *more = realloc(entries, sizeof(Entry) * room);
      if (!more) {
        meta_unlock(g);
        die(USAGE, "out of memory");
      }
      entries = more;
    }
    bad = read_entry(g, i, &entries[n++], why, sizeof why);
  }
  meta_unlock(g);
  if (bad) die(MISMATCH, "%s", why);
  putchar('[');
  for (size_t i = 0; i < n; i++) {
    const Entry *e = &entries[i];
    printf("%s{\"name\":", i ? "," : "");
    json_string(e->name, e->nameLength);
    printf(",\"kind\":%" PRIu32 ",\"elemSize\":%" PRIu32 ",\"typeHash\":%" PRIu32 ",\"capacity\":%" PRIu64
           ",\"offset\":%" PRIu64 ",\"size\":%" PRIu64 "}",
           e->kind, e->elemSize, e->typeHash, e->capacity, e->offset, e->size);
  }
  puts("]");
  free(entries);
}

/* The element type struct({ x: f64, y: f64, id: u32, name: string(12) }). */
struct Point {
  double x;
  double y;
  uint32_t id;
  char name[12];
};
#define POINT_SIGNATURE "struct{x:f64,y:f64,id:u32,name:string(12)}"
_Static_assert(sizeof(struct Point) == 32 && offsetof(struct Point, name) == 20, "C layout");

static void cmd_points(const Segment *g, const char *name) {
  Entry e;
  uint64_t data = open_structure(g, name, KIND_ARRAY, sizeof(struct Point), POINT_SIGNATURE, 0, &e);
  if (e.capacity > (e.size - S_SIZE) / sizeof(struct Point)) die(MISMATCH, "\"%s\": %" PRIu64 " elements do not fit its block", name, e.capacity);
  for (uint64_t i = 0; i < e.capacity; i++) {
    struct Point p;
    memcpy(&p, g->base + data + i * sizeof p, sizeof p);
    size_t n = 0;
    while (n < sizeof p.name && p.name[n] != 0) n++; /* NUL-padded, no terminator when full */
    printf("{\"index\":%" PRIu64 ",\"x\":", i);
    json_double(p.x);
    fputs(",\"y\":", stdout);
    json_double(p.y);
    printf(",\"id\":%" PRIu32 ",\"name\":", p.id);
    json_string(p.name, n);
    puts("}");
  }
}

/* An atomic's data word (kind 2: the value alone on a cache line at dataOffset). */
static void *atomic_word(const Segment *g, const char *name, int bits) {
  Entry e;
  uint64_t data = open_structure(g, name, KIND_ATOMIC, bits / 8, bits == 32 ? "i32" : "i64", 0, &e);
  if (e.capacity != 1 || e.size < S_SIZE + 64) die(MISMATCH, "\"%s\": atomic with capacity %" PRIu64, name, e.capacity);
  if (data % (uint64_t)(bits / 8) != 0) die(MISMATCH, "\"%s\": misaligned atomic", name);
  return g->base + data;
}

static uint64_t parse_u64(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') die(USAGE, "%s must be a non-negative integer, got \"%s\"", what, s);
  return v;
}

static int64_t parse_i64(const char *s, const char *what) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end) die(USAGE, "%s must be an integer, got \"%s\"", what, s);
  return v;
}

/* Adds 1 to the i32 atomic `barrier` and waits until it reaches `parties`. */
static void barrier_wait(const Segment *g, const char *barrier, const char *parties_s) {
  uint32_t *b = atomic_word(g, barrier, 32);
  uint32_t parties = (uint32_t)parse_u64(parties_s, "PARTIES");
  __atomic_fetch_add(b, 1, __ATOMIC_SEQ_CST);
  double deadline = now_s() + 20.0;
  while (__atomic_load_n(b, __ATOMIC_SEQ_CST) < parties) {
    if (now_s() > deadline) die(USAGE, "barrier \"%s\": only %" PRIu32 " of %" PRIu32 " arrived", barrier, __atomic_load_n(b, __ATOMIC_SEQ_CST), parties);
    struct timespec t = {0, 100000};
    nanosleep(&t, NULL);
  }
}

static void cmd_add(const Segment *g, int bits, int argc, char **argv) {
  if (argc != 3 && argc != 5) die(USAGE, "add%d NAME DELTA TIMES [BARRIER PARTIES]", bits);
  void *w = atomic_word(g, argv[0], bits);
  int64_t delta = parse_i64(argv[1], "DELTA");
  uint64_t times = parse_u64(argv[2], "TIMES");
  if (argc == 5) barrier_wait(g, argv[3], argv[4]);
  /* Unsigned arithmetic: wraps like the two's-complement C type, as SharedAtomic.add does. */
  if (bits == 32) {
    uint32_t d = (uint32_t)delta, last = 0;
    for (uint64_t i = 0; i < times; i++) last = __atomic_fetch_add((uint32_t *)w, d, __ATOMIC_SEQ_CST) + d;
    printf("{\"last\":%" PRId32 "}\n", (int32_t)last);
  } else {
    uint64_t d = (uint64_t)delta, last = 0;
    for (uint64_t i = 0; i < times; i++) last = __atomic_fetch_add((uint64_t *)w, d, __ATOMIC_SEQ_CST) + d;
    printf("{\"last\":%" PRId64 "}\n", (int64_t)last);
  }
}

/* ---- SharedMap (MAP.md) */

/* Control area offsets (from block + 64). */
enum {
  C_FORMAT = 0, C_HASH_ALGORITHM = 4, C_SEED = 8, C_KEY_SIZE = 12, C_KEY_OFFSET = 16, C_VALUE_SIZE = 20,
  C_VALUE_OFFSET = 24, C_SLOT_SIZE = 28, C_CAPACITY = 32, C_SLOTS = 36, C_KEY_TYPE_HASH = 40,
  C_VALUE_TYPE_HASH = 44, C_PROBE_LIMIT = 48, C_INSERT_LOCK = 64, C_COUNT = 128, C_SIZE = 192,
};
enum { SLOT_EMPTY = 0, SLOT_READY = 1, SLOT_DELETED = 2 };

/* The slot structs exactly as MAP.md draws them. */
struct SlotU32F64 {
  uint32_t ctl, owner, hash;
  uint32_t key;
  double value[2];
};
struct SlotStr16I32 {
  uint32_t ctl, owner, hash;
  char key[16];
  int32_t value[2];
};

typedef struct {
  const Segment *g;
  uint64_t control, data;
  uint32_t slots, keySize, keyOffset, valueSize, valueOffset, slotSize;
} Map;

static void open_map(const Segment *g, const char *name, Map *m, const char *keyType, const char *valueType, uint32_t keySize,
                     uint32_t keyOffset, uint32_t valueSize, uint32_t valueOffset, uint32_t slotSize) {
  char signature[200];
  snprintf(signature, sizeof signature, "map{key:%s,value:%s}", keyType, valueType);
  Entry e;
  m->g = g;
  m->data = open_structure(g, name, KIND_MAP, slotSize, signature, C_SIZE, &e);
  m->control = e.offset + S_SIZE;
  uint64_t c = m->control;
  uint32_t slots = rd32(g, c + C_SLOTS);
  if (rd32(g, c + C_FORMAT) != 1 || rd32(g, c + C_HASH_ALGORITHM) != 1 || rd32(g, c + C_SEED) != 0) die(MISMATCH, "\"%s\": unknown table format or hash", name);
  if (rd32(g, c + C_KEY_SIZE) != keySize || rd32(g, c + C_KEY_OFFSET) != keyOffset || rd32(g, c + C_VALUE_SIZE) != valueSize ||
      rd32(g, c + C_VALUE_OFFSET) != valueOffset || rd32(g, c + C_SLOT_SIZE) != slotSize || rd32(g, c + C_KEY_TYPE_HASH) != fnv1a(keyType) ||
      rd32(g, c + C_VALUE_TYPE_HASH) != fnv1a(valueType)) {
    die(MISMATCH, "\"%s\": slot layout differs from the C struct", name);
  }
  if (slots == 0 || (slots & (slots - 1)) != 0 || slots > (1u << 30) || slots != e.capacity) die(MISMATCH, "\"%s\": %" PRIu32 " slots", name, slots);
  uint32_t capacity = rd32(g, c + C_CAPACITY);
  if (capacity < 1 || capacity > slots) die(MISMATCH, "\"%s\": capacity %" PRIu32, name, capacity);
  if (S_SIZE + C_SIZE + (uint64_t)slots * slotSize > e.size) die(MISMATCH, "\"%s\": slots do not fit the block", name);
  m->slots = slots;
  m->keySize = keySize;
  m->keyOffset = keyOffset;
  m->valueSize = valueSize;
  m->valueOffset = valueOffset;
  m->slotSize = slotSize;
}

/* Bytes that a writer may change while we read them: relaxed atomic byte loads (no data race in C11 terms). */
static void racy_copy(void *dst, const uint8_t *src, size_t n) {
  uint8_t *d = dst;
  for (size_t i = 0; i < n; i++) d[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
}

/* The MAP.md lookup: 1 and the value bytes in `out` if `key` is present, else 0. */
static int map_get(const Map *m, const void *key, void *out) {
  const Segment *g = m->g;
  uint32_t h = murmur3_x86_32(key, m->keySize, 0);
  uint32_t limit = load32(g, m->control + C_PROBE_LIMIT);
  if (limit > m->slots) limit = m->slots;
  uint8_t keyBuf[64];
  for (uint32_t n = 0, i = h & (m->slots - 1); n < limit;) {
    uint8_t *s = g->base + m->data + (uint64_t)i * m->slotSize;
    uint32_t *ctl = (uint32_t *)(void *)s;
    uint32_t c1 = __atomic_load_n(ctl, __ATOMIC_ACQUIRE);
    uint32_t state = c1 & 3;
    if (state == SLOT_EMPTY) return 0; /* EMPTY ends every probe path */
    if (state == SLOT_READY && __atomic_load_n((uint32_t *)(void *)(s + 8), __ATOMIC_RELAXED) == h) {
      racy_copy(keyBuf, s + m->keyOffset, m->keySize);
      racy_copy(out, s + m->valueOffset + ((c1 >> 2) & 1) * m->valueSize, m->valueSize);
      /* Seqlock check: the fence keeps the reads above before the second ctl load. */
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if (__atomic_load_n(ctl, __ATOMIC_RELAXED) != c1) continue; /* changed under us: re-read this slot */
      if (memcmp(keyBuf, key, m->keySize) == 0) return 1;
    }
    i = (i + 1) & (m->slots - 1);
    n++;
  }
  return 0;
}

static void open_u32_f64(const Segment *g, const char *name, Map *m) {
  open_map(g, name, m, "u32", "f64", 4, offsetof(struct SlotU32F64, key), 8, offsetof(struct SlotU32F64, value),
           sizeof(struct SlotU32F64));
}

static void cmd_get_u32_f64(const Segment *g, int argc, char **argv) {
  if (argc < 1) die(USAGE, "get-u32-f64 NAME KEY...");
  Map m;
  open_u32_f64(g, argv[0], &m);
  for (int a = 1; a < argc; a++) {
    uint64_t k = parse_u64(argv[a], "KEY");
    if (k > UINT32_MAX) die(USAGE, "key %s is not a u32", argv[a]);
    uint32_t key = (uint32_t)k; /* little-endian bytes, as the map encodes a u32 */
    double v;
    printf("{\"key\":%" PRIu32 ",", key);
    if (map_get(&m, &key, &v)) {
      fputs("\"value\":", stdout);
      json_double(v);
      puts("}");
    } else {
      puts("\"absent\":true}");
    }
  }
}

static void cmd_get_str16_i32(const Segment *g, int argc, char **argv) {
  if (argc < 1) die(USAGE, "get-str16-i32 NAME KEY...");
  Map m;
  open_map(g, argv[0], &m, "string(16)", "i32", 16, offsetof(struct SlotStr16I32, key), 4, offsetof(struct SlotStr16I32, value),
           sizeof(struct SlotStr16I32));
  for (int a = 1; a < argc; a++) {
    size_t len = strlen(argv[a]);
    if (len > 16) die(USAGE, "key \"%s\" is %zu bytes; string(16) holds at most 16", argv[a], len);
    char key[16] = {0}; /* UTF-8, NUL-padded to 16 bytes */
    memcpy(key, argv[a], len);
    int32_t v;
    fputs("{\"key\":", stdout);
    json_string(argv[a], len);
    if (map_get(&m, key, &v)) printf(",\"value\":%" PRId32 "}\n", v);
    else puts(",\"absent\":true}");
  }
}

static void cmd_watch_u32_f64(const Segment *g, int argc, char **argv) {
  if (argc != 5) die(USAGE, "watch-u32-f64 NAME LO HI READY STOP");
  Map m;
  open_u32_f64(g, argv[0], &m);
  uint32_t lo = (uint32_t)parse_u64(argv[1], "LO"), hi = (uint32_t)parse_u64(argv[2], "HI");
  uint32_t *ready = atomic_word(g, argv[3], 32);
  uint32_t *stop = atomic_word(g, argv[4], 32);
  uint64_t lookups = 0, found = 0, bad = 0;
  __atomic_fetch_add(ready, 1, __ATOMIC_SEQ_CST);
  double deadline = now_s() + 20.0;
  while (__atomic_load_n(stop, __ATOMIC_SEQ_CST) == 0 && now_s() < deadline) {
    for (uint32_t k = lo; k <= hi; k++) {
      double v;
      lookups++;
      if (!map_get(&m, &k, &v)) continue;
      found++;
      if (!(v >= k * 1000.0 && v < (k + 1) * 1000.0)) {
        if (bad < 5) fprintf(stderr, "shmkit_peek: key %" PRIu32 " read value %.17g\n", k, v);
        bad++;
      }
    }
  }
  printf("{\"lookups\":%" PRIu64 ",\"found\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"stopped\":%s}\n", lookups, found, bad,
         __atomic_load_n(stop, __ATOMIC_SEQ_CST) ? "true" : "false");
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
  if (argc < 3) die(USAGE, "usage: shmkit_peek SEGMENT COMMAND ARGS... (see the comment at the top of shmkit_peek.c)");
  const char *cmd = argv[2];
  if (strcmp(cmd, "typehash") == 0) {
    for (int a = 3; a < argc; a++) printf("%" PRIu32 "\n", fnv1a(argv[a]));
    return 0;
  }
  if (strcmp(cmd, "murmur3") == 0) {
    if (argc != 5) die(USAGE, "murmur3 HEXBYTES SEED");
    size_t n = strlen(argv[3]) / 2;
    uint8_t buf[256];
    if (n > sizeof buf || strlen(argv[3]) % 2) die(USAGE, "bad hex");
    for (size_t i = 0; i < n; i++) {
      unsigned int b;
      if (sscanf(argv[3] + 2 * i, "%2x", &b) != 1) die(USAGE, "bad hex");
      buf[i] = (uint8_t)b;
    }
    printf("%" PRIu32 "\n", murmur3_x86_32(buf, n, (uint32_t)parse_u64(argv[4], "SEED")));
    return 0;
  }
  Segment g;
  open_segment(&g, argv[1]);
  int rest = argc - 3;
  char **args = argv + 3;
  if (strcmp(cmd, "list") == 0) cmd_list(&g);
  else if (strcmp(cmd, "points") == 0 && rest == 1) cmd_points(&g, args[0]);
  else if (strcmp(cmd, "add32") == 0) cmd_add(&g, 32, rest, args);
  else if (strcmp(cmd, "add64") == 0) cmd_add(&g, 64, rest, args);
  else if (strcmp(cmd, "get-u32-f64") == 0) cmd_get_u32_f64(&g, rest, args);
  else if (strcmp(cmd, "get-str16-i32") == 0) cmd_get_str16_i32(&g, rest, args);
  else if (strcmp(cmd, "watch-u32-f64") == 0) cmd_watch_u32_f64(&g, rest, args);
  else die(USAGE, "unknown command or wrong arguments: %s", cmd);
  fflush(stdout);
  return 0;
}
