/* GC_realloc: NULL acts as GC_malloc, size 0 frees and returns NULL, growing
 * keeps old bytes and clears new ones, shrinking keeps the prefix, and the
 * object keeps its kind (atomic, normal, uncollectable). */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define NT 400
#define TSIZE 32

void **atomic_big, **normal_big;
GC_hidden_pointer unc_big; /* hidden: the object must survive alone */
GC_hidden_pointer w_unc;
GC_hidden_pointer w_atomic_t[NT], w_normal_t[NT], w_unc_t[NT];

static void grow_and_shrink(size_t from, size_t to, int atomic) {
  char *p = atomic ? GC_malloc_atomic(from) : GC_malloc(from);
  CHECK(p != NULL, "allocation");
  fill_pattern(p, from, from);
  char *q = GC_realloc(p, to);
  CHECK(q != NULL, "GC_realloc(%zu -> %zu) returned NULL", from, to);
  CHECK(GC_base(q) == q, "GC_realloc result is not an object base");
  CHECK(GC_size(q) >= to, "GC_realloc(%zu -> %zu): GC_size %zu", from, to,
        GC_size(q));
  size_t keep = from < to ? from : to;
  long bad = check_pattern(q, keep, from);
  CHECK(bad < 0, "GC_realloc(%zu -> %zu) lost byte %ld", from, to, bad);
  if (!atomic && to > from)
    CHECK(all_zero(q + from, to - from),
          "GC_realloc(%zu -> %zu) of a GC_malloc object: new bytes not "
          "cleared", from, to);
}

static NOINLINE void build_kinds(void) {
  void **a = GC_malloc_atomic(64);
  void **n = GC_malloc(64);
  void **u = GC_malloc_uncollectable(64);
  CHECK(a && n && u, "allocation");
  a = GC_realloc(a, NT * sizeof(void *));
  n = GC_realloc(n, NT * sizeof(void *));
  u = GC_realloc(u, NT * sizeof(void *));
  CHECK(a && n && u, "GC_realloc returned NULL");
  for (int i = 0; i < NT; i++) {
    char *t1 = GC_malloc(TSIZE), *t2 = GC_malloc(TSIZE),
         *t3 = GC_malloc(TSIZE);
    CHECK(t1 && t2 && t3, "allocation");
    fill_pattern(t2, TSIZE, i);
    fill_pattern(t3, TSIZE, NT + i);
    a[i] = t1;
    n[i] = t2;
    u[i] = t3;
    watch(&w_atomic_t[i], t1);
    watch(&w_normal_t[i], t2);
    watch(&w_unc_t[i], t3);
  }
  atomic_big = a;
  normal_big = n;
  unc_big = GC_HIDE_POINTER(u);
  watch(&w_unc, u);
}

int main(void) {
  GC_INIT();

  /* NULL behaves as GC_malloc. */
  char *p = GC_realloc(NULL, 100);
  CHECK(p != NULL && GC_base(p) == p && GC_size(p) >= 100,
        "GC_realloc(NULL, 100) is not a fresh 100-byte object");
  CHECK(all_zero(p, 100), "GC_realloc(NULL, 100) not cleared");

  /* Size 0 frees and returns NULL. */
  CHECK(GC_realloc(p, 0) == NULL, "GC_realloc(p, 0) did not return NULL");
  char *big = GC_malloc(100000);
  CHECK(GC_realloc(big, 0) == NULL, "GC_realloc(large, 0) != NULL");

  static const size_t steps[][2] = {
      {40, 45},      {40, 4000},    {4000, 100},  {16, 17},
      {1, 1000},     {1000, 1},     {100, 100},   {3000, 70000},
      {70000, 3000}, {1 << 20, 3 << 20}, {3 << 20, 1 << 20}, {8, 1 << 20}};
  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
      grow_and_shrink(steps[i][0], steps[i][1], 0);
      grow_and_shrink(steps[i][0], steps[i][1], 1);
    }

  build_kinds();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    CHECK(w_unc != 0, "a reallocated uncollectable object was collected");
    CHECK(GC_base(atomic_big) == atomic_big, "reallocated atomic object lost");
    void **u = GC_REVEAL_POINTER(unc_big);
    for (int i = 0; i < NT; i++) {
      CHECK(w_normal_t[i] != 0, "object referenced from a reallocated "
            "GC_malloc object collected (%d)", i);
      CHECK(w_unc_t[i] != 0, "object referenced from a reallocated "
            "uncollectable object collected (%d)", i);
      CHECK(check_pattern(normal_big[i], TSIZE, i) < 0, "target changed");
      CHECK(check_pattern(u[i], TSIZE, NT + i) < 0, "target changed");
    }
  }
  long dead = count_cleared(w_atomic_t, NT);
  CHECK(mostly(dead, NT), "only %ld of %d objects referenced from a "
        "reallocated atomic object collected: GC_realloc changed its kind",
        dead, NT);
  PASS("bdwgc_realloc_semantics");
}
