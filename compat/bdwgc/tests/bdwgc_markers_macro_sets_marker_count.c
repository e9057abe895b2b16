/* GC_MARKERS defined before including gc.h makes GC_INIT call
 * GC_set_markers_count: once the marker threads are started,
 * GC_get_parallel reports GC_MARKERS - 1 helper markers, and collections
 * still work. */
// labels: bdwgc threads
// requires: GC_set_markers_count GC_INIT_CONF_MARKERS
#define GC_MARKERS 2
#include <gc.h>
#include "bdwgc_check.h"

int main(void) {
  GC_INIT();
  GC_start_mark_threads(); /* bdwgc starts them lazily */
  int p = GC_get_parallel();
  CHECK(p == GC_MARKERS - 1, "GC_get_parallel() is %d with GC_MARKERS %d", p,
        GC_MARKERS);
  void **keep = GC_malloc(64);
  for (int i = 0; i < 100000; i++) {
    void **q = GC_malloc(32);
    CHECK(q != NULL, "allocation");
    if ((i & 255) == 0) { q[0] = keep; keep = q; }
  }
  GC_gcollect();
  long n = 0;
  for (void **e = keep; e; e = e[0]) n++;
  CHECK(n == 1 + 100000 / 256 + 1, "kept chain has %ld links", n);
  PASS("bdwgc_markers_macro_sets_marker_count");
}
