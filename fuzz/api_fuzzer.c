/*
 * api_fuzzer.c — libFuzzer target for the public API of spangc.
 *
 * The input is a program: each operation is one byte (op) followed by the
 * bytes it consumes.  The fuzzer keeps a table of live objects (static, so
 * a root) with, for each, the requested size, its kind and a seed for its
 * contents; some objects live instead in a malloc'ed root area registered
 * with sgc_add_roots (their table entry hides the pointer).  Checked:
 *   - every allocation: NULL only with errno ENOMEM, and only for absurd or
 *     overflowing sizes or under sgc_set_max_heap; 16-byte alignment;
 *     scanned memory zeroed; sgc_size >= request;
 *   - contents of every live object (sampled pattern) after each step that
 *     may collect, and sgc_base/sgc_size on live objects;
 *   - sgc_realloc keeps the prefix, zeroes the tail of scanned objects,
 *     leaves p untouched on failure;
 *   - sgc_calloc with overflowing count*size fails with ENOMEM;
 *   - finalizers (run with sgc_run_finalizers; the finalizer thread is
 *     off) never run on an object still in the table, and see intact
 *     contents;
 *   - weak slots (malloc'ed) are never cleared while their object lives;
 *   - sgc_base of any pointer (stack, static, malloc'ed, NULL, random
 *     addresses in the arena) is NULL or the base of an object containing
 *     it; sgc_free(NULL) and sgc_size(NULL) are harmless;
 *   - sgc_heap_verify() every few steps and at the end of each input
 *     (after finishing the sweep, so that no other thread mutates).
 * Each input starts from a clean logical state: the previous input's
 * objects are dropped, roots removed, weak slots unregistered, limits
 * reset, then sgc_collect.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nopreempt.h" /* tests/: the runtime's locks taken its way */

#define NENT 32
#define NROOTAREA 8
#define NREC 4096
#define VERIFY_EVERY 8
#define ABSURD ((size_t)1 << 40) /* larger than any arena */

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf(stderr, "api_fuzzer: " __VA_ARGS__);                               \
    fputc('\n', stderr);                                                       \
    abort();                                                                   \
  } while (0)

typedef struct ent {
  uintptr_t hidden; /* object address XOR HIDE when held by the root area */
  void *p;          /* object address when held by the table */
  size_t req;
  uint64_t seed;
  bool used, noscan, in_area;
  int area_idx;
  void **slot; /* weak slot or NULL */
  int rec;     /* finalizer record or -1 */
} ent;

#define HIDE ((uintptr_t)0xA5A5A5A5A5A5A5A5ull)

typedef struct finrec {
  uintptr_t obj; /* hidden address */
  uint64_t seed;
  size_t req;
  bool noscan;
  int state; /* 0 free, 1 object in the table, 2 dropped (may run) */
} finrec;

static ent E[NENT];         /* static: a root (pointers in p) */
static void **area;         /* malloc'ed, registered with sgc_add_roots */
static bool area_registered;
static finrec R[NREC];
static size_t max_heap_set; /* limit set by this input (0: none) */
static int disabled;        /* sgc_disable nesting by this input */
static uint64_t nfinalized;

static const uint8_t *in;
static size_t inlen;

static uint8_t u8(void) {
  if (inlen == 0)
    return 0;
  inlen--;
  return *in++;
}
static uint32_t u32(void) {
  uint32_t v = u8();
  v |= (uint32_t)u8() << 8;
  v |= (uint32_t)u8() << 16;
  v |= (uint32_t)u8() << 24;
  return v;
}

static uint64_t pat(uint64_t seed, size_t i) {
  uint64_t x = seed ^ (i * 0x9e3779b97f4a7c15ull);
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 31;
  return x | (1ull << 63); /* never a heap address */
}

static void *ent_ptr(const ent *e) {
  return e->in_area ? (void *)(e->hidden ^ HIDE) : e->p;
}

/* Sampled words: all up to 64 words, then a stride, plus the last. */
static size_t stride_for(size_t words) {
  return words <= 64 ? 1 : words / 64;
}

static void fill(void *p, size_t req, uint64_t seed) {
  uint64_t *w = p;
  size_t words = req / 8;
  size_t st = stride_for(words);
  for (size_t i = 0; i < words; i += st)
    w[i] = pat(seed, i);
  if (words)
    w[words - 1] = pat(seed, words - 1);
}

static bool content_ok(const void *p, size_t req, uint64_t seed) {
  const uint64_t *w = p;
  size_t words = req / 8;
  size_t st = stride_for(words);
  for (size_t i = 0; i < words; i += st)
    if (w[i] != pat(seed, i))
      return false;
  return words == 0 || w[words - 1] == pat(seed, words - 1);
}

/* The words of a fill(p, req, seed) that lie below byte 'keep'. */
static bool prefix_ok(const void *p, size_t req, size_t keep, uint64_t seed) {
  const uint64_t *w = p;
  size_t words = req / 8, kw = keep / 8;
  size_t st = stride_for(words);
  for (size_t i = 0; i < words && i < kw; i += st)
    if (w[i] != pat(seed, i))
      return false;
  return words == 0 || words - 1 >= kw || w[words - 1] == pat(seed, words - 1);
}

static bool is_absurd(size_t n) { return n >= ABSURD; }

/* Sizes: 0, small, medium, large (bounded), absurd. */
static size_t pick_size(void) {
  uint8_t k = u8();
  uint32_t v = u32();
  switch (k % 16) {
  case 0:
    return 0;
  case 1: case 2: case 3: case 4: case 5:
    return v % 1025;
  case 6: case 7: case 8:
    return v % (32768 + 1);
  case 9: case 10:
    return 32768 + v % (256 << 10);
  case 11:
    return (256 << 10) + v % (2 << 20);
  case 12:
    return SIZE_MAX - (v % 64);
  case 13:
    return ((size_t)1 << (40 + v % 23)) + (v >> 8) % 4096;
  case 14:
    return 16 * (size_t)(v % 2049);
  default:
    return v % 64;
  }
}

static void check_alloc_result(void *p, size_t n, const char *what) {
  if (p == NULL) {
    if (errno != ENOMEM)
      FAIL("%s(%zu) returned NULL with errno %d, not ENOMEM", what, n, errno);
    if (!is_absurd(n) && max_heap_set == 0 && n < ((size_t)64 << 20))
      FAIL("%s(%zu) failed with no limit set", what, n);
    return;
  }
  if (is_absurd(n))
    FAIL("%s(%zu) succeeded for an absurd size", what, n);
  if ((uintptr_t)p & 15)
    FAIL("%s(%zu) = %p is not 16-byte aligned", what, n, p);
  if (sgc_base(p) != p)
    FAIL("%s(%zu) = %p: sgc_base says %p", what, n, p, sgc_base(p));
  size_t sz = sgc_size(p);
  if (sz < n || (n == 0 && sz < 16))
    FAIL("%s(%zu) = %p: sgc_size %zu", what, n, p, sz);
}

static int free_ent_slot(void) {
  for (int i = 0; i < NENT; i++)
    if (!E[i].used)
      return i;
  return -1;
}

static ent *pick_ent(void) {
  int k = u8() % NENT;
  for (int i = 0; i < NENT; i++) {
    ent *e = &E[(k + i) % NENT];
    if (e->used)
      return e;
  }
  return NULL;
}

static void verify_ent(ent *e) {
  void *p = ent_ptr(e);
  if (!content_ok(p, e->req, e->seed))
    FAIL("object %p (%zu bytes, %s) lost its contents", p, e->req,
         e->noscan ? "noscan" : "scanned");
  if (sgc_base(p) != p)
    FAIL("sgc_base(%p) = %p for a live object", p, sgc_base(p));
  size_t sz = sgc_size(p);
  if (sz < e->req)
    FAIL("sgc_size(%p) = %zu < %zu", p, sz, e->req);
  if (e->req && sgc_base((char *)p + e->req - 1) != p)
    FAIL("sgc_base of the last requested byte of %p", p);
  if (sgc_base((char *)p + sz - 1) != p)
    FAIL("sgc_base of the last usable byte of %p", p);
  if (e->slot && __atomic_load_n(e->slot, __ATOMIC_ACQUIRE) != p)
    FAIL("weak slot of live object %p cleared (holds %p)", p, *e->slot);
}

static void verify_all(void) {
  for (int i = 0; i < NENT; i++)
    if (E[i].used)
      verify_ent(&E[i]);
}

/* Finish the sweep (ours and the background sweeper's span in progress)
 * so that no other thread changes the heap, then run the heap verifier. */
static void heap_verify(void) {
  if (mcache_get() == NULL)
    return;
  np_wait_swept(0);
  sgc_heap_verify();
}

static void finalizer(void *obj, void *arg) {
  uintptr_t a = (uintptr_t)arg;
  if (!(a & (1ull << 63)))
    FAIL("finalizer arg %p corrupted", arg);
  int r = (int)((a >> 1) & 0xffff);
  finrec *f = &R[r];
  if (f->state == 1)
    FAIL("finalizer ran on %p, still in the live table", obj);
  if (f->state != 2 || (f->obj ^ HIDE) != (uintptr_t)obj)
    FAIL("finalizer ran for %p with a stale record (state %d)", obj,
         f->state);
  if (!content_ok(obj, f->req, f->seed))
    FAIL("finalizer: object %p lost its contents", obj);
  f->state = 0;
  nfinalized++;
}

static void clear_specials(ent *e, bool object_survives) {
  void *p = ent_ptr(e);
  if (e->slot) {
    if (sgc_unregister_weak(e->slot) != 0)
      FAIL("sgc_unregister_weak: slot of %p not registered", p);
    free(e->slot);
    e->slot = NULL;
  }
  if (e->rec >= 0) {
    if (object_survives) {
      if (sgc_set_finalizer(p, NULL, NULL) != 0)
        FAIL("sgc_set_finalizer(%p, NULL) failed", p);
    }
    R[e->rec].state = 0;
    e->rec = -1;
  }
}

static void ent_set(ent *e, void *p, size_t req, bool noscan) {
  memset(e, 0, sizeof *e);
  e->used = true;
  e->p = p;
  e->req = req;
  e->noscan = noscan;
  e->seed = ((uint64_t)u32() << 32) ^ u32() ^ (uintptr_t)p;
  e->rec = -1;
  fill(p, req, e->seed);
}

/* Drop e: the object becomes unreachable (not freed). */
static void drop(ent *e) {
  if (e->slot) {
    /* The slot may be cleared later; keep it simple: unregister now. */
    if (sgc_unregister_weak(e->slot) != 0)
      FAIL("sgc_unregister_weak failed on a live object's slot");
    free(e->slot);
    e->slot = NULL;
  }
  if (e->rec >= 0)
    R[e->rec].state = 2; /* may run from now on */
  if (e->in_area)
    area[e->area_idx] = NULL;
  memset(e, 0, sizeof *e);
}

static void op_alloc(bool noscan) {
  size_t n = pick_size();
  errno = 0;
  void *p = noscan ? sgc_alloc_noscan(n) : sgc_alloc(n);
  check_alloc_result(p, n, noscan ? "sgc_alloc_noscan" : "sgc_alloc");
  if (p == NULL)
    return;
  if (!noscan) {
    size_t sz = n < 4096 ? n : 4096;
    for (size_t i = 0; i < sz; i++)
      if (((unsigned char *)p)[i])
        FAIL("sgc_alloc(%zu) = %p: byte %zu not zero", n, p, i);
  }
  int k = free_ent_slot();
  if (k < 0) {
    if (u8() & 1)
      sgc_free(p);
    return;
  }
  ent_set(&E[k], p, n, noscan);
}

static void op_calloc(void) {
  size_t a, b;
  switch (u8() % 4) {
  case 0:
    a = SIZE_MAX / 2 + 1 + u8(), b = 2 + u8();
    break;
  case 1:
    a = (size_t)1 << 32, b = ((size_t)1 << 32) + u8();
    break;
  case 2:
    a = u32() % 1024, b = u32() % 1024;
    break;
  default:
    a = pick_size(), b = u8();
  }
  size_t prod;
  bool ovf = __builtin_mul_overflow(a, b, &prod);
  if (!ovf && prod >= ((size_t)64 << 20) && !is_absurd(prod))
    return; /* huge but possible: too slow under ASan */
  errno = 0;
  void *p = sgc_calloc(a, b);
  if (ovf) {
    if (p != NULL || errno != ENOMEM)
      FAIL("sgc_calloc(%zu, %zu) overflows: got %p errno %d", a, b, p, errno);
    return;
  }
  check_alloc_result(p, prod, "sgc_calloc");
  if (p == NULL)
    return;
  size_t sz = prod < 65536 ? prod : 65536;
  for (size_t i = 0; i < sz; i++)
    if (((unsigned char *)p)[i])
      FAIL("sgc_calloc(%zu, %zu) = %p: byte %zu not zero", a, b, p, i);
  int k = free_ent_slot();
  if (k >= 0)
    ent_set(&E[k], p, prod, false);
}

static void op_free(void) {
  ent *e = pick_ent();
  if (!e)
    return;
  void *p = ent_ptr(e);
  clear_specials(e, false);
  if (e->in_area)
    area[e->area_idx] = NULL;
  memset(e, 0, sizeof *e);
  sgc_free(p);
}

static void op_realloc(void) {
  ent *e = pick_ent();
  if (!e || e->in_area)
    return;
  size_t n = pick_size();
  void *p = e->p;
  size_t oldsz = sgc_size(p);
  clear_specials(e, true);
  errno = 0;
  void *q = sgc_realloc(p, n);
  if (n == 0) {
    if (q != NULL)
      FAIL("sgc_realloc(%p, 0) returned %p", p, q);
    memset(e, 0, sizeof *e);
    return;
  }
  if (q == NULL) {
    if (errno != ENOMEM)
      FAIL("sgc_realloc(%p, %zu) NULL with errno %d", p, n, errno);
    if (!is_absurd(n) && max_heap_set == 0 && n < ((size_t)64 << 20))
      FAIL("sgc_realloc(%p, %zu) failed with no limit", p, n);
    if (!content_ok(p, e->req, e->seed))
      FAIL("failed sgc_realloc(%p, %zu) changed the object", p, n);
    return;
  }
  check_alloc_result(q, n, "sgc_realloc");
  size_t keep = e->req < n ? e->req : n;
  if (!prefix_ok(q, e->req, keep, e->seed))
    FAIL("sgc_realloc(%p, %zu) = %p lost the prefix", p, n, q);
  if (!e->noscan && q != p && n > oldsz) {
    size_t end = n < oldsz + 4096 ? n : oldsz + 4096;
    for (size_t i = oldsz; i < end; i++)
      if (((unsigned char *)q)[i])
        FAIL("sgc_realloc(%p, %zu) = %p: byte %zu past the old size not "
             "zero", p, n, q, i);
  }
  bool noscan = e->noscan;
  ent_set(e, q, n, noscan);
}

static void op_finalizer(void) {
  ent *e = pick_ent();
  if (!e || e->rec >= 0)
    return;
  int r = -1;
  int start = (int)(u32() % NREC);
  for (int i = 0; i < NREC; i++)
    if (R[(start + i) % NREC].state == 0) {
      r = (start + i) % NREC;
      break;
    }
  if (r < 0)
    return;
  void *p = ent_ptr(e);
  R[r] = (finrec){(uintptr_t)p ^ HIDE, e->seed, e->req, e->noscan, 1};
  void *arg = (void *)(uintptr_t)((1ull << 63) | ((uint64_t)r << 1) | 1);
  int err = sgc_set_finalizer(p, finalizer, arg);
  if (err != 0) {
    R[r].state = 0;
    if (err != ENOMEM)
      FAIL("sgc_set_finalizer(%p) = %d", p, err);
    return;
  }
  e->rec = r;
}

static void op_weak(void) {
  ent *e = pick_ent();
  if (!e || e->slot)
    return;
  void **slot = malloc(sizeof *slot);
  if (!slot)
    return;
  void *p = ent_ptr(e);
  *slot = p;
  int err = sgc_register_weak(slot, p);
  if (err != 0) {
    free(slot);
    if (err != ENOMEM)
      FAIL("sgc_register_weak = %d", err);
    return;
  }
  e->slot = slot;
}

static void op_collect(void) {
  sgc_collect();
  sgc_run_finalizers();
  verify_all();
}

static void op_to_area(void) {
  ent *e = pick_ent();
  if (!e || e->in_area)
    return;
  if (!area_registered) {
    if (sgc_add_roots(area, area + NROOTAREA) != 0)
      FAIL("sgc_add_roots failed");
    area_registered = true;
  }
  for (int i = 0; i < NROOTAREA; i++)
    if (area[i] == NULL) {
      area[i] = e->p;
      e->hidden = (uintptr_t)e->p ^ HIDE;
      e->p = NULL;
      e->in_area = true;
      e->area_idx = i;
      return;
    }
}

static void op_remove_roots(void) {
  if (!area_registered)
    return;
  sgc_remove_roots(area, area + NROOTAREA);
  area_registered = false;
  for (int i = 0; i < NENT; i++)
    if (E[i].used && E[i].in_area)
      drop(&E[i]);
}

static int some_static;

static void op_queries(void) {
  int local = 0;
  void *m = malloc(32);
  void *bad[] = {NULL, &local, &some_static, m, (void *)1,
                 (void *)(uintptr_t)-16, (void *)&op_queries};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (sgc_base(bad[i]) != NULL)
      FAIL("sgc_base(%p) = %p for a pointer outside the heap", bad[i],
           sgc_base(bad[i]));
  free(m);
  sgc_free(NULL);
  if (sgc_size(NULL) != 0)
    FAIL("sgc_size(NULL) != 0");
  ent *e = pick_ent();
  if (e) {
    void *p = ent_ptr(e);
    size_t sz = sgc_size(p);
    size_t off = u32() % sz;
    if (sgc_base((char *)p + off) != p)
      FAIL("sgc_base(%p + %zu) = %p, want %p", p, off,
           sgc_base((char *)p + off), p);
    /* Just past the end: NULL or the base of an object containing it. */
    char *q = (char *)p + sz;
    void *b = sgc_base(q);
    if (b && !((char *)b <= q && q < (char *)b + sgc_size(b)))
      FAIL("sgc_base(%p) = %p does not contain it", (void *)q, b);
  }
  /* Random addresses in the arena (and a little beyond). */
  mheap *h = &sgc_heap;
  uintptr_t used = ATOMIC_LOAD(&h->arena_used);
  for (int i = 0; i < 4; i++) {
    uint64_t r = ((uint64_t)u32() << 32) | u32();
    uintptr_t span = used - h->arena_start + (1 << 20);
    char *q = (char *)(h->arena_start + r % span);
    void *b = sgc_base(q);
    if (b && !(((uintptr_t)b & 15) == 0 && (char *)b <= q &&
               q < (char *)b + sgc_size(b) && sgc_base(b) == b))
      FAIL("sgc_base(%p) = %p is not the base of an object containing it",
           (void *)q, b);
  }
}

static void op_absurd(void) {
  static const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 15, (size_t)1 << 62,
                                 (size_t)1 << 48, ABSURD, ABSURD + 1};
  size_t n = sizes[u8() % (sizeof sizes / sizeof sizes[0])];
  errno = 0;
  void *p = (u8() & 1) ? sgc_alloc(n) : sgc_alloc_noscan(n);
  if (p != NULL || errno != ENOMEM)
    FAIL("allocation of %zu bytes: %p errno %d", n, p, errno);
  ent *e = pick_ent();
  if (e && !e->in_area) {
    errno = 0;
    void *q = sgc_realloc(e->p, n);
    if (q != NULL || errno != ENOMEM)
      FAIL("sgc_realloc(%p, %zu): %p errno %d", e->p, n, q, errno);
    if (!content_ok(e->p, e->req, e->seed))
      FAIL("failed sgc_realloc changed %p", e->p);
  }
}

static void op_control(void) {
  switch (u8() % 6) {
  case 0:
    max_heap_set = (size_t)(1 + u8() % 64) << 20;
    sgc_set_max_heap(max_heap_set);
    break;
  case 1:
    max_heap_set = 0;
    sgc_set_max_heap(0);
    break;
  case 2:
    sgc_set_gcpercent((int)(u8() % 200) - 1);
    break;
  case 3:
    if (disabled < 4) {
      sgc_disable();
      disabled++;
    }
    break;
  case 4:
    if (disabled > 0) {
      sgc_enable();
      disabled--;
    }
    break;
  default: {
    sgc_stats st;
    sgc_read_stats(&st);
    if (st.finalizers_run > st.finalizers_queued)
      FAIL("stats: more finalizers run than queued");
  }
  }
}

static void reset(void) {
  for (int i = 0; i < NENT; i++)
    if (E[i].used)
      drop(&E[i]);
  if (area_registered) {
    sgc_remove_roots(area, area + NROOTAREA);
    area_registered = false;
  }
  memset(area, 0, NROOTAREA * sizeof *area);
  while (disabled > 0) {
    sgc_enable();
    disabled--;
  }
  sgc_set_max_heap(0);
  max_heap_set = 0;
  sgc_set_gcpercent(100);
  sgc_collect();
  sgc_run_finalizers();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  sgc_init();
  sgc_set_finalizer_thread(0);
  area = calloc(NROOTAREA, sizeof *area);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  in = data;
  inlen = size;
  int steps = 0;
  while (inlen > 0 && steps < 256) {
    uint8_t op = u8();
    switch (op % 16) {
    case 0: op_alloc(false); break;
    case 1: op_alloc(true); break;
    case 2: op_calloc(); break;
    case 3: op_free(); break;
    case 4: op_realloc(); break;
    case 5: op_finalizer(); break;
    case 6: op_weak(); break;
    case 7: { ent *e = pick_ent(); if (e) drop(e); } break;
    case 8: op_collect(); break;
    case 9: op_to_area(); break;
    case 10: op_remove_roots(); break;
    case 11: op_queries(); break;
    case 12: op_absurd(); break;
    case 13: op_control(); break;
    case 14: verify_all(); break;
    default: sgc_run_finalizers(); break;
    }
    if (++steps % VERIFY_EVERY == 0) {
      verify_all();
      heap_verify();
    }
  }
  verify_all();
  heap_verify();
  reset();
  return 0;
}
