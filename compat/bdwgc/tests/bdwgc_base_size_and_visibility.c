/* GC_base maps every byte of an object (all kinds) to its start and non-heap
 * addresses to NULL; GC_size >= requested size; GC_is_heap_ptr is true only
 * for the GC heap; GC_is_visible returns its argument for scanned locations. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

void *static_slot;
static const size_t sizes[] = {1, 8, 16, 17, 40, 100, 512, 2000, 4096, 5000,
                               70000};
#define NS (sizeof sizes / sizeof sizes[0])

static void every_offset(char *p, size_t sz, const char *what) {
  CHECK(p != NULL, "%s(%zu) failed", what, sz);
  CHECK(GC_size(p) >= sz, "%s(%zu): GC_size = %zu", what, sz, GC_size(p));
  for (size_t off = 0; off < sz; off++) {
    if (GC_base(p + off) != p)
      CHECK(0, "%s(%zu): GC_base(p + %zu) = %p, p = %p", what, sz, off,
            GC_base(p + off), (void *)p);
    if (!GC_is_heap_ptr(p + off))
      CHECK(0, "%s(%zu): GC_is_heap_ptr(p + %zu) = 0", what, sz, off);
  }
}

int main(void) {
  GC_INIT();
  int local = 1;
  void *m = malloc(100);

  CHECK(GC_base(NULL) == NULL, "GC_base(NULL) != NULL");
  CHECK(GC_base(&static_slot) == NULL, "GC_base(static) != NULL");
  CHECK(GC_base(&local) == NULL, "GC_base(stack) != NULL");
  CHECK(GC_base(m) == NULL, "GC_base(malloc'ed) != NULL");
  CHECK(GC_base((void *)main) == NULL, "GC_base(code) != NULL");
  CHECK(!GC_is_heap_ptr(NULL), "GC_is_heap_ptr(NULL)");
  CHECK(!GC_is_heap_ptr(&static_slot), "GC_is_heap_ptr(static)");
  CHECK(!GC_is_heap_ptr(&local), "GC_is_heap_ptr(stack)");
  CHECK(!GC_is_heap_ptr(m), "GC_is_heap_ptr(malloc'ed)");

  for (size_t i = 0; i < NS; i++) {
    every_offset(GC_malloc(sizes[i]), sizes[i], "GC_malloc");
    every_offset(GC_malloc_atomic(sizes[i]), sizes[i], "GC_malloc_atomic");
    char *u = GC_malloc_uncollectable(sizes[i]);
    every_offset(u, sizes[i], "GC_malloc_uncollectable");
    GC_free(u);
    u = GC_malloc_atomic_uncollectable(sizes[i]);
    every_offset(u, sizes[i], "GC_malloc_atomic_uncollectable");
    GC_free(u);
  }
  /* Still true after collections, for a kept object. */
  char *kept = GC_malloc(300);
  static_slot = kept;
  for (int r = 0; r < 3; r++) GC_gcollect();
  every_offset(kept, 300, "kept GC_malloc");

  /* GC_is_visible returns its argument for scanned locations. */
  void **obj = GC_malloc(8 * sizeof(void *));
  CHECK(GC_is_visible(&static_slot) == (void *)&static_slot,
        "GC_is_visible(static)");
  void *volatile stack_slot = obj;
  CHECK(GC_is_visible((void *)&stack_slot) == (void *)&stack_slot,
        "GC_is_visible(stack)");
  CHECK(GC_is_visible(&obj[3]) == (void *)&obj[3], "GC_is_visible(heap)");
  KEEP(obj);
  free(m);
  PASS("bdwgc_base_size_and_visibility");
}
