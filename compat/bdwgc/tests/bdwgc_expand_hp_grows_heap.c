/* GC_expand_hp(n) returns 1 and grows GC_get_heap_size by >= n bytes of free
 * space (GC_get_free_bytes); the grown heap holds objects intact across
 * collections. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define NKEEP 2000
char *kept[NKEEP];

int main(void) {
  GC_INIT();
  for (int step = 0; step < 3; step++) {
    size_t n = (size_t)(8 + 8 * step) << 20;
    size_t h0 = GC_get_heap_size(), f0 = GC_get_free_bytes();
    int r = GC_expand_hp(n);
    size_t h1 = GC_get_heap_size(), f1 = GC_get_free_bytes();
    CHECK(r == 1, "GC_expand_hp(%zu) returned %d", n, r);
    CHECK(h1 >= h0 + n, "GC_expand_hp(%zu): heap size %zu -> %zu", n, h0, h1);
    CHECK(f1 >= f0 + n / 2, "GC_expand_hp(%zu): free bytes %zu -> %zu", n, f0,
          f1);
  }
  for (int i = 0; i < NKEEP; i++) {
    kept[i] = GC_malloc(1000 + i);
    CHECK(kept[i] != NULL, "allocation");
    fill_pattern(kept[i], 1000 + i, i);
  }
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 2000; g++) CHECK(GC_malloc(500) != NULL, "garbage");
    GC_gcollect();
    for (int i = 0; i < NKEEP; i++)
      CHECK(check_pattern(kept[i], 1000 + i, i) < 0, "object %d changed", i);
  }
  PASS("bdwgc_expand_hp_grows_heap");
}
