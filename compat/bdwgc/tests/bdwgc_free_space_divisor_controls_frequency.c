/* GC_set_free_space_divisor: the same workload over the same live data runs
 * more collections with divisor 12 than with divisor 1;
 * GC_get_free_space_divisor returns what was set. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define LIVE_OBJS 4000
#define LIVE_SIZE 2048  /* 8 MB of live data */


void *live[LIVE_OBJS];

static NOINLINE GC_word workload(void) {
  GC_gcollect();
  GC_word gc0 = GC_get_gc_no();
  for (int i = 0; i < 100000; i++) {
    void *p = GC_malloc(1024 + (i % 16) * 64); /* ~150 MB of garbage */
    CHECK(p != NULL, "allocation");
    if (i % 1000 == 0) { /* replace some live objects too */
      int k = (i / 1000) % LIVE_OBJS;
      live[k] = GC_malloc(LIVE_SIZE);
      CHECK(live[k] != NULL, "allocation");
    }
  }
  return GC_get_gc_no() - gc0;
}

int main(void) {
  GC_INIT();
  for (int i = 0; i < LIVE_OBJS; i++) {
    live[i] = GC_malloc(LIVE_SIZE);
    CHECK(live[i] != NULL, "allocation");
  }
  /* The large divisor first: a heap grown under a small divisor is not
   * shrunk again, and bdwgc collects only when the heap is used up. */
  GC_set_free_space_divisor(12);
  CHECK(GC_get_free_space_divisor() == 12, "GC_get_free_space_divisor() = %lu",
        (unsigned long)GC_get_free_space_divisor());
  GC_word high = workload();
  GC_set_free_space_divisor(1);
  CHECK(GC_get_free_space_divisor() == 1, "GC_get_free_space_divisor() = %lu",
        (unsigned long)GC_get_free_space_divisor());
  GC_word low = workload();
  printf("collections: divisor 1: %lu, divisor 12: %lu\n",
         (unsigned long)low, (unsigned long)high);
  CHECK(high > low, "divisor 12 ran %lu collections, divisor 1 ran %lu: the "
        "divisor has no effect", (unsigned long)high, (unsigned long)low);
  PASS("bdwgc_free_space_divisor_controls_frequency");
}
