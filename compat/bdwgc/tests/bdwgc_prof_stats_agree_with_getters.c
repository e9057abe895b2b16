/* GC_get_prof_stats fills the structure consistently with the single
 * getters (heap size plus unmapped bytes, free bytes plus unmapped, gc_no,
 * non-GC bytes, bytes allocated since the collection, explicitly freed
 * bytes); returns the size it filled; a larger caller structure gets all
 * ones past the known fields; a smaller one gets exactly its size.
 * GC_get_expl_freed_bytes_since_gc counts GC_free and restarts at a
 * collection; GC_get_obtained_from_os_bytes covers the heap;
 * GC_get_size_map_at gives sizes that fit the request, -1 past small ones. */
// labels: bdwgc
// requires: GC_get_prof_stats GC_get_expl_freed_bytes_since_gc GC_get_size_map_at
#include <gc.h>
#include "bdwgc_check.h"

int main(void) {
  GC_INIT();
  GC_disable(); /* no collection between the calls compared */
  void *keep[100];
  for (int i = 0; i < 100; i++) keep[i] = GC_malloc(1000);
  void *u = GC_malloc_uncollectable(5000);

  struct GC_prof_stats_s s;
  size_t n = GC_get_prof_stats(&s, sizeof s);
  CHECK(n == sizeof s, "filled %zu of %zu bytes", n, sizeof s);
  GC_word heap = GC_get_heap_size(), unm = GC_get_unmapped_bytes(),
          fr = GC_get_free_bytes();
  CHECK(s.heapsize_full == heap + unm, "heapsize_full %lu, heap %lu + "
        "unmapped %lu", (unsigned long)s.heapsize_full, (unsigned long)heap,
        (unsigned long)unm);
  CHECK(s.free_bytes_full == fr + unm, "free_bytes_full %lu, free %lu + "
        "unmapped %lu", (unsigned long)s.free_bytes_full, (unsigned long)fr,
        (unsigned long)unm);
  CHECK(s.unmapped_bytes == unm, "unmapped");
  CHECK(s.gc_no == GC_get_gc_no(), "gc_no");
  CHECK(s.non_gc_bytes == GC_get_non_gc_bytes(), "non_gc_bytes %lu",
        (unsigned long)s.non_gc_bytes);
  CHECK(s.bytes_allocd_since_gc == GC_get_bytes_since_gc() &&
            s.bytes_allocd_since_gc >= 100 * 1000,
        "bytes_allocd_since_gc %lu, getter %lu",
        (unsigned long)s.bytes_allocd_since_gc,
        (unsigned long)GC_get_bytes_since_gc());
  CHECK(s.allocd_bytes_before_gc + s.bytes_allocd_since_gc ==
            GC_get_total_bytes(),
        "allocd before %lu + since %lu != GC_get_total_bytes %lu",
        (unsigned long)s.allocd_bytes_before_gc,
        (unsigned long)s.bytes_allocd_since_gc,
        (unsigned long)GC_get_total_bytes());
  CHECK(s.obtained_from_os_bytes >= heap &&
            s.obtained_from_os_bytes == GC_get_obtained_from_os_bytes(),
        "obtained_from_os_bytes %lu, heap %lu",
        (unsigned long)s.obtained_from_os_bytes, (unsigned long)heap);

  /* Explicit frees. */
  size_t e0 = GC_get_expl_freed_bytes_since_gc(), freed = 0;
  for (int i = 0; i < 50; i++) {
    freed += GC_size(keep[i]);
    GC_free(keep[i]);
    keep[i] = NULL;
  }
  size_t e1 = GC_get_expl_freed_bytes_since_gc();
  CHECK(e1 - e0 >= 50 * 1000 && e1 - e0 <= freed, "GC_free of %zu bytes "
        "counted %zu", freed, e1 - e0);
  GC_get_prof_stats(&s, sizeof s);
  CHECK(s.expl_freed_bytes_since_gc == e1, "expl_freed field");
  GC_enable();
  GC_gcollect();
  CHECK(GC_get_expl_freed_bytes_since_gc() < e1, "a collection did not "
        "restart the count (%zu)", GC_get_expl_freed_bytes_since_gc());

  /* Bigger and smaller caller structures. */
  unsigned char big[sizeof s + 16];
  memset(big, 0, sizeof big);
  n = GC_get_prof_stats((struct GC_prof_stats_s *)big, sizeof big);
  CHECK(n == sizeof s, "bigger buffer: %zu filled", n);
  for (size_t i = sizeof s; i < sizeof big; i++)
    CHECK(big[i] == 0xff, "unknown field byte %zu is %u", i, big[i]);
  GC_word small[3] = {0, 0, 12345};
  n = GC_get_prof_stats((struct GC_prof_stats_s *)small, 2 * sizeof(GC_word));
  CHECK(n == 2 * sizeof(GC_word) && small[2] == 12345 && small[0] != 0,
        "smaller buffer: %zu filled", n);

  /* Size map. */
  for (int i = 1; i <= 2048; i += 7) {
    void *p = GC_malloc_atomic(i); /* bdwgc fills the map as sizes are used */
    size_t m = GC_get_size_map_at(i);
    CHECK(m != (size_t)-1 && m >= (size_t)i && m == GC_size(p),
          "size map at %d: %zu, GC_size %zu", i, m, GC_size(p));
  }
  CHECK(GC_get_size_map_at(1 << 20) == (size_t)-1, "size map past the end");
  GC_free(u);
  KEEP(keep[99]);
  PASS("bdwgc_prof_stats_agree_with_getters");
}
