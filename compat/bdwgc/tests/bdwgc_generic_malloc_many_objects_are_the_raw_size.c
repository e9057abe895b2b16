/* GC_generic_malloc_many(lb, k, ..) takes lb as the objects' whole size,
 * the extra byte of all-interior-pointers mode included (gc_inline.h asks
 * for GC_RAW_BYTES_FROM_INDEX(granules) bytes): its objects are the size
 * of a GC_generic_malloc(lb - 1, k), not one granule more.  spangc's once
 * added the byte again, so that a 16-byte GC_CONS cell or
 * GC_MALLOC_WORDS(2) object took 32 bytes.  GC_malloc_many(lb), like
 * GC_malloc(lb), adds the byte itself. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

static void check_kind(size_t lb, int k, const char *name) {
  void *list = NULL;
  GC_generic_malloc_many(lb, k, &list);
  CHECK(list != NULL, "GC_generic_malloc_many(%zu, %s) gave nothing", lb,
        name);
  void *one = GC_generic_malloc(lb - 1, k);
  CHECK(one != NULL, "GC_generic_malloc(%zu, %s)", lb - 1, name);
  size_t want = GC_size(one);
  for (void *p = list; p != NULL; p = GC_NEXT(p))
    CHECK(GC_size(p) == want, "GC_generic_malloc_many(%zu, %s): an object "
          "of %zu bytes; GC_generic_malloc(%zu) gives %zu", lb, name,
          GC_size(p), lb - 1, want);
}

int main(void) {
  GC_INIT();
  CHECK(GC_get_all_interior_pointers(), "interior pointers are on by "
        "default");
  for (size_t g = 1; g <= 16; g++) {
    size_t lb = GC_RAW_BYTES_FROM_INDEX(g);
    check_kind(lb, GC_I_NORMAL, "GC_I_NORMAL");
    check_kind(lb, GC_I_PTRFREE, "GC_I_PTRFREE");
    void *l = GC_malloc_many(lb);
    void *one = GC_malloc(lb);
    CHECK(l != NULL && one != NULL, "GC_malloc_many(%zu)", lb);
    CHECK(GC_size(l) == GC_size(one), "GC_malloc_many(%zu): %zu bytes, "
          "GC_malloc(%zu): %zu", lb, GC_size(l), lb, GC_size(one));
  }
  void *fl[GC_TINY_FREELISTS] = {0};
  void *cell, *w2;
  GC_CONS(cell, NULL, NULL, fl);
  GC_MALLOC_WORDS(w2, 2, fl);
  CHECK(cell != NULL && w2 != NULL, "GC_CONS, GC_MALLOC_WORDS");
  CHECK(GC_size(cell) == 2 * sizeof(void *) &&
            GC_size(w2) == 2 * sizeof(void *),
        "GC_CONS cell %zu bytes, GC_MALLOC_WORDS(2) %zu bytes, not %zu",
        GC_size(cell), GC_size(w2), 2 * sizeof(void *));
  PASS("bdwgc_generic_malloc_many_objects_are_the_raw_size");
}
