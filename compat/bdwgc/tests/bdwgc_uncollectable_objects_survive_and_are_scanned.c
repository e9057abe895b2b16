/* GC_malloc_uncollectable objects are cleared, never collected, and scanned
 * (their targets live until they are GC_free'd); GC_malloc_atomic_uncollectable
 * objects are never collected and not scanned. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 500
#define USIZE 64
#define TSIZE 40

/* Only hidden addresses in static data: nothing here keeps objects alive. */
GC_hidden_pointer unc[N], aunc[N];           /* the holders */
GC_hidden_pointer w_unc[N], w_aunc[N];       /* watches on holders */
GC_hidden_pointer w_tgt[N], w_atgt[N];       /* watches on targets */

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    void **u = GC_malloc_uncollectable(USIZE);
    void **a = GC_malloc_atomic_uncollectable(USIZE);
    CHECK(u && a, "allocation failed");
    CHECK(all_zero(u, USIZE), "GC_malloc_uncollectable result not cleared");
    CHECK(GC_size(u) >= USIZE && GC_size(a) >= USIZE, "GC_size too small");
    CHECK(GC_base(u) == u && GC_base(a) == a, "GC_base of holder");
    char *t = GC_malloc(TSIZE);
    char *at = GC_malloc(TSIZE);
    CHECK(t && at, "allocation failed");
    fill_pattern(t, TSIZE, i);
    fill_pattern(at, TSIZE, N + i);
    u[3] = t; /* any word of the uncollectable object is scanned */
    fill_pattern(&u[4], USIZE - 4 * sizeof(void *), 7 * i);
    a[3] = at;
    fill_pattern(&a[4], USIZE - 4 * sizeof(void *), 7 * i + 1);
    unc[i] = GC_HIDE_POINTER(u);
    aunc[i] = GC_HIDE_POINTER(a);
    watch(&w_unc[i], u);
    watch(&w_aunc[i], a);
    watch(&w_tgt[i], t);
    watch(&w_atgt[i], at);
  }
}

static NOINLINE void free_half(void) {
  for (int i = 0; i < N; i += 2) {
    void **u = GC_REVEAL_POINTER(unc[i]);
    GC_unregister_disappearing_link((void **)&w_unc[i]);
    GC_free(u);
    unc[i] = 0;
  }
}

int main(void) {
  GC_INIT();
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w_unc[i] != 0, "uncollectable object %d collected", i);
      CHECK(w_aunc[i] != 0, "atomic uncollectable object %d collected", i);
      CHECK(w_tgt[i] != 0,
            "object referenced from an uncollectable object collected (%d)",
            i);
      void **u = GC_REVEAL_POINTER(unc[i]);
      void **a = GC_REVEAL_POINTER(aunc[i]);
      CHECK(check_pattern(&u[4], USIZE - 4 * sizeof(void *), 7 * i) < 0,
            "uncollectable object %d changed", i);
      CHECK(check_pattern(&a[4], USIZE - 4 * sizeof(void *), 7 * i + 1) < 0,
            "atomic uncollectable object %d changed", i);
      CHECK(check_pattern(u[3], TSIZE, i) < 0, "target %d changed", i);
    }
  }
  long dead = count_cleared(w_atgt, N);
  CHECK(mostly(dead, N),
        "only %ld of %d objects referenced only from atomic uncollectable "
        "objects were collected", dead, N);

  /* GC_free an uncollectable holder: what it referenced may now go. */
  free_half();
  clear_stack();
  collect(4);
  long freed_targets = 0;
  for (int i = 0; i < N; i++) {
    if (i % 2 == 0) {
      freed_targets += w_tgt[i] == 0;
    } else {
      CHECK(w_unc[i] != 0 && w_tgt[i] != 0,
            "an uncollectable object not freed (or its target) was "
            "collected (%d)", i);
      void **u = GC_REVEAL_POINTER(unc[i]);
      CHECK(check_pattern(u[3], TSIZE, i) < 0, "target %d changed", i);
    }
  }
  CHECK(mostly(freed_targets, N / 2),
        "only %ld of %d objects referenced from GC_free'd uncollectable "
        "objects were collected", freed_targets, N / 2);
  PASS("bdwgc_uncollectable_objects_survive_and_are_scanned");
}
