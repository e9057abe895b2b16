/* GC_malloc_kind(n, GC_I_NORMAL) objects are scanned (their pointers keep
 * targets alive), GC_malloc_kind(n, GC_I_PTRFREE) objects are not;
 * GC_get_kind_and_size reports the kind and a size >= n of those and of a
 * kind made with GC_new_kind, and GC_generic_or_special_malloc with the kind
 * it reported gives an object of the same kind; uncollectable objects are
 * of another kind than collectable ones. */
// labels: bdwgc
// requires: GC_malloc_kind GC_get_kind_and_size GC_generic_or_special_malloc
#include <gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_inline.h>
#include "bdwgc_check.h"

#define N 300
void **scanned[N], **ptrfree[N];
GC_hidden_pointer w_s[N], w_p[N];

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    scanned[i] = GC_malloc_kind(4 * sizeof(void *), GC_I_NORMAL);
    ptrfree[i] = GC_malloc_kind(4 * sizeof(void *), GC_I_PTRFREE);
    CHECK(scanned[i] && ptrfree[i], "GC_malloc_kind");
    CHECK(all_zero(scanned[i], 4 * sizeof(void *)), "normal kind not zeroed");
    void *a = GC_malloc_atomic(16), *b = GC_malloc_atomic(16);
    scanned[i][2] = a;
    ptrfree[i][2] = b;
    watch(&w_s[i], a);
    watch(&w_p[i], b);
  }
}

int main(void) {
  GC_INIT();
  build();
  clear_stack();
  collect(3);
  CHECK(count_cleared(w_s, N) == 0, "%ld targets of GC_I_NORMAL objects died",
        count_cleared(w_s, N));
  CHECK(mostly(count_cleared(w_p, N), N), "only %ld of %d targets of "
        "GC_I_PTRFREE objects died", count_cleared(w_p, N), N);

  size_t sz = 0;
  CHECK(GC_get_kind_and_size(scanned[0], &sz) == GC_I_NORMAL &&
            sz >= 4 * sizeof(void *),
        "kind/size of a GC_I_NORMAL object: %zu", sz);
  CHECK(GC_get_kind_and_size(ptrfree[0], &sz) == GC_I_PTRFREE &&
            sz >= 4 * sizeof(void *),
        "kind/size of a GC_I_PTRFREE object");
  CHECK(GC_get_kind_and_size(GC_malloc(10), NULL) == GC_I_NORMAL,
        "GC_malloc's kind");
  int uk = GC_get_kind_and_size(GC_malloc_uncollectable(10), NULL);
  CHECK(uk != GC_I_NORMAL && uk != GC_I_PTRFREE, "uncollectable kind %d", uk);
  void *u2 = GC_generic_or_special_malloc(10, uk);
  CHECK(u2 && GC_get_kind_and_size(u2, NULL) == uk, "same uncollectable kind");
  GC_free(u2);

  int k = (int)GC_new_kind(GC_new_free_list(), 0 | GC_DS_LENGTH, 1, 1);
  void *p = GC_malloc_kind(100, k);
  CHECK(p != NULL, "GC_malloc_kind of a new kind");
  CHECK(GC_get_kind_and_size(p, &sz) == k && sz >= 100, "new kind %d: "
        "reported %d", k, GC_get_kind_and_size(p, NULL));
  void *q = GC_generic_or_special_malloc(50, GC_get_kind_and_size(p, NULL));
  CHECK(q && GC_get_kind_and_size(q, NULL) == k, "generic_or_special kind");
  void *g = GC_malloc_kind_global(30, GC_I_PTRFREE);
  CHECK(g && GC_get_kind_and_size(g, NULL) == GC_I_PTRFREE, "global");
  KEEP(p);
  KEEP(q);
  PASS("bdwgc_malloc_kind_matches_kinds");
}
