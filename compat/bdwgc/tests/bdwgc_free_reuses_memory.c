/* GC_free(NULL) is a no-op; GC_free'd memory of every kind and size is
 * reused without collections (the heap stays small over 400 MB of
 * allocate/free with collection disabled); other objects stay intact. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define NKEEP 200
char *keep[NKEEP];

int main(void) {
  GC_INIT();
  GC_free(NULL);
  for (int i = 0; i < NKEEP; i++) {
    keep[i] = GC_malloc(64 + i);
    CHECK(keep[i] != NULL, "allocation");
    fill_pattern(keep[i], 64 + i, i);
  }
  GC_gcollect();
  size_t heap0 = GC_get_heap_size();

  GC_disable();
  GC_word gc0 = GC_get_gc_no();
  /* 200 MB of small objects, 200 MB of large ones, all freed at once. */
  for (int i = 0; i < 200000; i++) {
    size_t sz = 16 + (size_t)(i % 64) * 16;
    void *p;
    switch (i % 3) {
      case 0: p = GC_malloc(sz); break;
      case 1: p = GC_malloc_atomic(sz); break;
      default: p = GC_malloc_uncollectable(sz); break;
    }
    CHECK(p != NULL, "allocation %d failed", i);
    memset(p, 0x5c, sz);
    GC_free(p);
  }
  for (int i = 0; i < 200; i++) {
    size_t sz = (size_t)(1 << 20) + (size_t)i * 4096;
    void *p = i % 2 ? GC_malloc(sz) : GC_malloc_atomic(sz);
    CHECK(p != NULL, "large allocation %d failed", i);
    memset(p, 0x5c, 4096);
    GC_free(p);
  }
  size_t heap1 = GC_get_heap_size();
  CHECK(GC_get_gc_no() == gc0, "a collection ran while disabled");
  GC_enable();
  CHECK(heap1 < heap0 + (64u << 20),
        "400 MB allocated and GC_free'd grew the heap from %zu to %zu bytes: "
        "freed memory is not reused", heap0, heap1);
  for (int i = 0; i < NKEEP; i++)
    CHECK(check_pattern(keep[i], 64 + i, i) < 0, "kept object %d changed",
          i);
  PASS("bdwgc_free_reuses_memory");
}
