/* A GC_set_push_other_roots procedure (GC_get_push_other_roots returns it),
 * chaining to the previous one and GC_push_all-ing a malloc'ed range, keeps
 * that range's objects alive every collection; restored, they are collected. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

#define N 1000
#define TSIZE 48

GC_push_other_roots_proc previous;
void **range;          /* malloc'ed: the collector does not see it */
GC_hidden_pointer w[N];
long calls;

static void GC_CALLBACK push_range(void) {
  if (previous) previous();
  calls++;
  GC_push_all(range, range + N);
}

static NOINLINE void build(void) {
  range = malloc(N * sizeof(void *));
  CHECK(range != NULL, "malloc");
  for (int i = 0; i < N; i++) {
    char *t = GC_malloc(TSIZE);
    CHECK(t != NULL, "allocation");
    fill_pattern(t, TSIZE, i);
    range[i] = t;
    watch(&w[i], t);
  }
}

int main(void) {
  GC_INIT();
  previous = GC_get_push_other_roots();
  GC_set_push_other_roots(push_range);
  CHECK(GC_get_push_other_roots() == push_range,
        "GC_get_push_other_roots() != the procedure set");
  build();
  clear_stack();
  GC_word gc0 = GC_get_gc_no();
  long calls0 = calls;
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 2000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w[i] != 0, "object referenced only from the pushed range "
            "collected (%d, collection %d)", i, round + 1);
      CHECK(check_pattern(range[i], TSIZE, i) < 0, "object %d changed", i);
    }
  }
  GC_word ncoll = GC_get_gc_no() - gc0;
  CHECK((GC_word)(calls - calls0) >= ncoll, "push procedure called %ld times "
        "in %lu collections", calls - calls0, (unsigned long)ncoll);
  GC_set_push_other_roots(previous);
  collect(3);
  long dead = count_cleared(w, N);
  CHECK(mostly(dead, N), "after restoring the previous procedure only %ld of "
        "%d objects of the range were collected", dead, N);
  free(range);
  PASS("bdwgc_push_other_roots_chain");
}
