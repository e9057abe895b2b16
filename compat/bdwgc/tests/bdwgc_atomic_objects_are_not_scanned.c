/* GC_malloc_atomic objects are not scanned: targets referenced only from a
 * reachable atomic object are collected, the same references in a GC_malloc
 * object keep them alive, and the atomic object's bytes are left untouched. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 1000
#define TSIZE 48

static void **atomic_holder;      /* GC_malloc_atomic(N pointers) */
static void **normal_holder;      /* GC_malloc(N pointers) */
GC_hidden_pointer via_atomic[N];
GC_hidden_pointer via_normal[N];
GC_hidden_pointer atomic_copy[N]; /* the atomic holder's expected contents */

static NOINLINE void build(void) {
  atomic_holder = GC_malloc_atomic(N * sizeof(void *));
  normal_holder = GC_malloc(N * sizeof(void *));
  CHECK(atomic_holder && normal_holder, "allocation failed");
  for (int i = 0; i < N; i++) {
    char *a = GC_malloc(TSIZE);
    char *b = GC_malloc(TSIZE);
    CHECK(a && b, "allocation failed");
    fill_pattern(a, TSIZE, i);
    fill_pattern(b, TSIZE, N + i);
    atomic_holder[i] = a;
    atomic_copy[i] = GC_HIDE_POINTER(a); /* not a pointer */
    normal_holder[i] = b;
    watch(&via_atomic[i], a);
    watch(&via_normal[i], b);
  }
}

int main(void) {
  GC_INIT();
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(via_normal[i] != 0,
            "object referenced from a GC_malloc'ed object was collected "
            "(index %d, collection %d)", i, round + 1);
      long bad = check_pattern(normal_holder[i], TSIZE, N + i);
      CHECK(bad < 0, "live object %d changed at byte %ld", i, bad);
      CHECK(atomic_holder[i] == GC_REVEAL_POINTER(atomic_copy[i]),
            "the collector changed word %d of an atomic object", i);
    }
  }
  long dead = count_cleared(via_atomic, N);
  CHECK(mostly(dead, N),
        "only %ld of %d objects referenced only from an atomic object were "
        "collected", dead, N);
  PASS("bdwgc_atomic_objects_are_not_scanned");
}
