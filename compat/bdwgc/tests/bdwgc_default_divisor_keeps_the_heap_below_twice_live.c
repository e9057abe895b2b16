/* The default free-space divisor (3) keeps the heap at about 1.75x the
 * live data, as bdwgc's was on Guile's vector program (bdwgc
 * collects once the bytes allocated since the last collection reach
 * (2 x the pointer-holding bytes in use + ...) / 3, so its heap holds at
 * least 1.67x such data, and it grows in steps of a third of itself and
 * never shrinks).  Over 18 MB live (16 MB of small pointer-holding objects
 * and the 2 MB array holding them) a workload allocating 256 MB of garbage
 * must run at least 17 collections (the layer's GOGC 75: 19).  GOGC =
 * 300/d (100), the rule before, ran 15 and kept the heap at 2x live plus
 * fragmentation: Guile and ECL had 1.15-1.2x the peak RSS they have on
 * bdwgc.  GC_set_free_space_divisor(6) must then collect more often still.
 */
// stock-fails: bdwgc's heap, grown in steps of a third of itself while the live data was built, stops at 36.7 MB for 18 MB live (2.04x) and it collects 14 times
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define OBJ 56                         /* + bdwgc's extra byte: 64-byte slots */
#define NLIVE ((16u << 20) / 64)       /* 16 MB live */
#define NGARB (16u * NLIVE)            /* 16 x live in garbage */
#define GARB_PER_LIVE 2

void **live;
void *volatile sink;

static NOINLINE GC_word workload(void) {
  GC_word gc0 = GC_get_gc_no();
  for (unsigned i = 0; i < NGARB; i++) {
    void **p = GC_malloc(OBJ);
    CHECK(p != NULL, "allocation");
    p[0] = (void *)live; /* a pointer-holding object */
    sink = p;
    if (i % 64 == 0) { /* replace a live object now and then */
      unsigned k = (i / 64) % NLIVE;
      live[k] = GC_malloc(OBJ);
      CHECK(live[k] != NULL, "allocation");
    }
  }
  return GC_get_gc_no() - gc0;
}

int main(void) {
  GC_INIT();
  CHECK(GC_get_free_space_divisor() == 3, "default divisor %lu",
        (unsigned long)GC_get_free_space_divisor());
  live = GC_malloc(NLIVE * sizeof(void *));
  CHECK(live != NULL, "allocation");
  /* Live data grown among garbage, as a program grows it. */
  for (unsigned i = 0; i < NLIVE; i++) {
    live[i] = GC_malloc(OBJ);
    CHECK(live[i] != NULL, "allocation");
    for (int k = 0; k < GARB_PER_LIVE; k++)
      sink = GC_malloc(OBJ);
  }
  GC_gcollect();
  GC_word n3 = workload();
  GC_set_free_space_divisor(6);
  GC_word n6 = workload();
  printf("collections over 256 MB of garbage, 18 MB live: divisor 3: %lu, "
         "divisor 6: %lu\n", (unsigned long)n3, (unsigned long)n6);
  CHECK(n3 >= 17, "divisor 3 ran %lu collections: the heap grows to 2x "
        "live (at least 17 expected)", (unsigned long)n3);
  CHECK(n6 > n3, "divisor 6 ran %lu collections, divisor 3 %lu",
        (unsigned long)n6, (unsigned long)n3);
  for (unsigned i = 0; i < NLIVE; i++)
    CHECK(live[i] != NULL && GC_base(live[i]) == live[i], "live object %u lost", i);
  PASS("bdwgc_default_divisor_keeps_the_heap_below_twice_live");
}
