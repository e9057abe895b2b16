/* GC_malloc / GC_malloc_atomic for sizes 0 .. 3 MiB: distinct,
 * non-overlapping objects of >= the size asked, found by GC_base and
 * GC_is_heap_ptr, GC_malloc's cleared even in reused memory, intact across
 * collections; GC_init is idempotent. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

static const size_t sizes[] = {
    0,     1,     7,     8,     15,     16,     17,      24,     31,
    32,    33,    48,    63,    64,     65,     100,     127,    128,
    129,   255,   256,   257,   500,    1000,   1024,    2047,   2048,
    2049,  4000,  4096,  4097,  8000,   8192,   8193,    12345,  32768,
    65536, 100000, 262144, 1 << 20, (1 << 20) + 1, 3 << 20};
#define NS (sizeof sizes / sizeof sizes[0])
#define MAXCOPIES 6

static size_t copies(size_t sz) { return sz > 100000 ? 2 : MAXCOPIES; }

struct rec {
  char *p;
  size_t size;
  size_t id;
};
struct rec recs[NS * MAXCOPIES * 2]; /* a root: static data */
size_t nrecs;
int global_int;

static int by_addr(const void *a, const void *b) {
  const struct rec *x = a, *y = b;
  return x->p < y->p ? -1 : x->p > y->p;
}

static void check_object(char *p, size_t sz, int atomic) {
  CHECK(p != NULL, "%s(%zu) returned NULL",
        atomic ? "GC_malloc_atomic" : "GC_malloc", sz);
  CHECK(GC_size(p) >= sz, "GC_size(%p) = %zu < requested %zu", (void *)p,
        GC_size(p), sz);
  CHECK(GC_base(p) == p, "GC_base(%p) = %p", (void *)p, GC_base(p));
  CHECK(GC_is_heap_ptr(p), "GC_is_heap_ptr(%p) is 0", (void *)p);
  if (sz > 1) {
    CHECK(GC_base(p + sz / 2) == p, "GC_base(middle of %zu-byte object) = %p",
          sz, GC_base(p + sz / 2));
    CHECK(GC_base(p + sz - 1) == p, "GC_base(last byte of %zu-byte object)",
          sz);
    CHECK(GC_is_heap_ptr(p + sz - 1), "GC_is_heap_ptr(last byte)");
  }
  if (!atomic)
    CHECK(all_zero(p, sz), "GC_malloc(%zu) returned an object not cleared",
          sz);
}

/* Garbage of every size, filled with non-zero bytes, so that reused memory
 * is dirty when it is handed out again. */
static NOINLINE void make_dirty_garbage(void) {
  for (int r = 0; r < 3; r++)
    for (size_t i = 0; i < NS; i++) {
      size_t sz = sizes[i] ? sizes[i] : 1;
      if (sz > 300000) continue;
      char *p = GC_malloc(sz);
      CHECK(p != NULL, "GC_malloc(%zu)", sz);
      memset(p, 0xa5, sz);
      char *q = GC_malloc_atomic(sz);
      CHECK(q != NULL, "GC_malloc_atomic(%zu)", sz);
      memset(q, 0xa5, sz);
    }
}

int main(void) {
  GC_INIT();
  GC_init(); /* a second initialisation is harmless */
  GC_INIT();
  CHECK(GC_is_init_called(), "GC_is_init_called() is 0 after GC_INIT");

  CHECK(!GC_is_heap_ptr(&global_int), "static data counted as heap");
  int local = 0;
  CHECK(!GC_is_heap_ptr(&local), "a stack address counted as heap");
  void *m = malloc(64);
  CHECK(!GC_is_heap_ptr(m), "a malloc() block counted as GC heap");
  CHECK(GC_base(&global_int) == NULL, "GC_base(static) is not NULL");
  CHECK(GC_base(&local) == NULL, "GC_base(stack) is not NULL");
  CHECK(GC_base(m) == NULL, "GC_base(malloc block) is not NULL");
  free(m);

  /* Fresh objects, then objects carved from memory reused after a
   * collection of dirty garbage: all cleared. */
  for (int round = 0; round < 4; round++) {
    make_dirty_garbage();
    clear_stack();
    GC_gcollect();
    for (size_t i = 0; i < NS; i++) {
      for (int k = 0; k < 4; k++) {
        char *p = GC_malloc(sizes[i]);
        check_object(p, sizes[i], 0);
        char *q = GC_malloc_atomic(sizes[i]);
        check_object(q, sizes[i], 1);
      }
    }
  }

  /* Keep a set of objects and fill them with a pattern. */
  for (size_t i = 0; i < NS; i++)
    for (size_t c = 0; c < copies(sizes[i]); c++)
      for (int atomic = 0; atomic < 2; atomic++) {
        size_t sz = sizes[i];
        char *p = atomic ? GC_malloc_atomic(sz) : GC_malloc(sz);
        check_object(p, sz, atomic);
        recs[nrecs].p = p;
        recs[nrecs].size = sz;
        recs[nrecs].id = nrecs;
        fill_pattern(p, sz, nrecs);
        nrecs++;
      }

  /* No two objects overlap. */
  struct rec *sorted = malloc(nrecs * sizeof *sorted);
  memcpy(sorted, recs, nrecs * sizeof *sorted);
  qsort(sorted, nrecs, sizeof *sorted, by_addr);
  for (size_t i = 1; i < nrecs; i++)
    CHECK(sorted[i - 1].p + sorted[i - 1].size <= sorted[i].p,
          "objects %p (%zu bytes) and %p overlap", (void *)sorted[i - 1].p,
          sorted[i - 1].size, (void *)sorted[i].p);
  free(sorted);

  /* Collections, with garbage churn in between: every kept object is
   * intact. */
  for (int round = 0; round < 20; round++) {
    make_dirty_garbage();
    clear_stack();
    GC_gcollect();
    for (size_t i = 0; i < nrecs; i++) {
      long bad = check_pattern(recs[i].p, recs[i].size, recs[i].id);
      CHECK(bad < 0, "object %zu (%zu bytes) changed at byte %ld after %d "
            "collections", i, recs[i].size, bad, round + 1);
      CHECK(GC_base(recs[i].p) == recs[i].p, "GC_base changed");
      CHECK(GC_size(recs[i].p) >= recs[i].size, "GC_size shrank");
    }
  }
  PASS("bdwgc_malloc_sizes_and_zeroing");
}
