/* Heap statistics agree with each other and with the program: heap/free/
 * unmapped sizes, bytes since GC and total bytes (counting allocation),
 * GC_get_heap_usage_safe (NULLs allowed), GC_get_memory_use >= live data. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define NLIVE 4000
#define LSIZE 4096   /* 16 MB live */

void *live[NLIVE];

static size_t absdiff(size_t a, size_t b) { return a > b ? a - b : b - a; }

int main(void) {
  GC_INIT();
  for (int i = 0; i < NLIVE; i++) {
    live[i] = GC_malloc(LSIZE);
    CHECK(live[i] != NULL, "allocation");
  }
  const size_t live_bytes = (size_t)NLIVE * LSIZE;
  GC_gcollect();

  size_t heap = GC_get_heap_size(), fr = GC_get_free_bytes(),
         unm = GC_get_unmapped_bytes(), since = GC_get_bytes_since_gc(),
         total = GC_get_total_bytes();
  CHECK(heap >= live_bytes, "heap size %zu < %zu live bytes", heap,
        live_bytes);
  CHECK(fr <= heap, "free bytes %zu > heap size %zu", fr, heap);
  CHECK(heap - fr >= live_bytes / 2, "heap %zu - free %zu leaves less than "
        "the live data %zu", heap, fr, live_bytes);
  CHECK(total >= live_bytes, "total bytes %zu < allocated %zu", total,
        live_bytes);
  CHECK(since < live_bytes, "bytes since gc %zu right after a collection",
        since);
  (void)unm;

  GC_word h, f, u, s, t;
  GC_get_heap_usage_safe(&h, &f, &u, &s, &t);
  CHECK(h == GC_get_heap_size(), "heap_usage_safe heap %lu vs %zu",
        (unsigned long)h, GC_get_heap_size());
  CHECK(absdiff(f, GC_get_free_bytes()) <= heap / 10,
        "heap_usage_safe free %lu vs %zu", (unsigned long)f,
        GC_get_free_bytes());
  CHECK(absdiff(u, GC_get_unmapped_bytes()) <= heap / 10,
        "heap_usage_safe unmapped %lu vs %zu", (unsigned long)u,
        GC_get_unmapped_bytes());
  CHECK(s == GC_get_bytes_since_gc(), "heap_usage_safe bytes_since_gc");
  CHECK(t == GC_get_total_bytes(), "heap_usage_safe total");
  GC_get_heap_usage_safe(NULL, NULL, NULL, NULL, NULL);
  GC_get_heap_usage_safe(&h, NULL, NULL, NULL, NULL);
  CHECK(h == GC_get_heap_size(), "heap_usage_safe with NULLs");

  size_t use = GC_get_memory_use();
  CHECK(use >= live_bytes, "GC_get_memory_use %zu < %zu live bytes", use,
        live_bytes);
  /* (No upper bound: stock bdwgc 8.2.2 reports several times the heap
   * size here.) */

  /* Allocation is counted. */
  GC_disable();
  size_t since0 = GC_get_bytes_since_gc(), total0 = GC_get_total_bytes();
  for (int i = 0; i < 10000; i++) CHECK(GC_malloc(1000) != NULL, "alloc");
  size_t since1 = GC_get_bytes_since_gc(), total1 = GC_get_total_bytes();
  GC_enable();
  CHECK(since1 >= since0 + 10000 * 1000, "bytes_since_gc grew by %zu for "
        "10 MB allocated", since1 - since0);
  CHECK(total1 >= total0 + 10000 * 1000, "total bytes grew by %zu for 10 MB "
        "allocated", total1 - total0);
  GC_gcollect();
  CHECK(GC_get_bytes_since_gc() < since1, "bytes_since_gc did not restart "
        "after a collection");
  CHECK(GC_get_total_bytes() >= total1, "total bytes decreased");
  CHECK(GC_get_heap_size() >= live_bytes, "heap shrank below live data");
  KEEP(live);
  PASS("bdwgc_heap_statistics_consistent");
}
