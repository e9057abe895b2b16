/* GC_enable_incremental is accepted: a program mutating linked structures
 * while allocating, with GC_collect_a_little steps, keeps them intact and its
 * garbage is reclaimed; GC_set_time_limit/GC_get_time_limit round-trip. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define NLIST 20000
#define NDROP 1000

struct node {
  struct node *next;
  struct node *other;
  uintptr_t value;
};

struct node *head;
GC_hidden_pointer w_drop[NDROP];

static NOINLINE void drop_some(void) {
  for (int i = 0; i < NDROP; i++) {
    struct node *n = GC_malloc(sizeof *n);
    CHECK(n != NULL, "allocation");
    watch(&w_drop[i], n);
  }
}

static void verify(const char *when) {
  long count = 0;
  for (struct node *n = head; n; n = n->next, count++) {
    CHECK(n->value == (uintptr_t)(NLIST - 1 - count) * 3u,
          "%s: node %ld has value %lu", when, count, (unsigned long)n->value);
    CHECK(n->other != NULL && n->other->value == n->value + 1,
          "%s: node %ld lost its side object", when, count);
  }
  CHECK(count == NLIST, "%s: list has %ld nodes, not %d", when, count, NLIST);
}

int main(void) {
  GC_INIT();
  GC_enable_incremental();
  (void)GC_is_incremental_mode();
  GC_set_time_limit(5);
  CHECK(GC_get_time_limit() == 5, "GC_get_time_limit() = %lu",
        GC_get_time_limit());

  for (int i = 0; i < NLIST; i++) {
    struct node *n = GC_malloc(sizeof *n);
    CHECK(n != NULL, "allocation");
    n->value = (uintptr_t)i * 3u;
    n->next = head;
    head = n;
    for (int g = 0; g < 5; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    n->other = GC_malloc(sizeof *n); /* stored after more allocation */
    CHECK(n->other != NULL, "allocation");
    n->other->value = n->value + 1;
  }
  verify("after building");

  /* Mutate: replace every side object, with garbage and steps between. */
  for (int round = 0; round < 4; round++) {
    for (struct node *n = head; n; n = n->next) {
      struct node *o = GC_malloc(sizeof *o);
      CHECK(o != NULL, "allocation");
      o->value = n->value + 1;
      for (int g = 0; g < 3; g++) CHECK(GC_malloc(100) != NULL, "garbage");
      n->other = o;
    }
    for (int k = 0; k < 50; k++) GC_collect_a_little();
    verify("after mutation");
  }

  GC_set_time_limit(GC_TIME_UNLIMITED);
  CHECK(GC_get_time_limit() == GC_TIME_UNLIMITED, "GC_get_time_limit()");
  drop_some();
  clear_stack();
  collect(3);
  verify("after full collections");
  long dead = count_cleared(w_drop, NDROP);
  CHECK(mostly(dead, NDROP), "incremental mode: only %ld of %d unreachable "
        "objects collected", dead, NDROP);
  PASS("bdwgc_incremental_mode_is_accepted");
}
