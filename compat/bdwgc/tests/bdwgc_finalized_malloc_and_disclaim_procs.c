/* gc_disclaim.h: GC_finalized_malloc's closure is called once for each
 * object that became unreachable, with the pointer GC_finalized_malloc
 * returned and the closure's cd, while the object's contents and what it
 * references are still intact; never for an object that is still reachable;
 * the object then dies.  GC_register_disclaim_proc: the procedure is asked
 * about unreachable objects of its kind; one answering nonzero keeps its
 * object for another cycle (asked again later), zero lets it die. */
// labels: bdwgc
// requires: GC_finalized_malloc GC_register_disclaim_proc
#include <gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_disclaim.h>
#include "bdwgc_check.h"

#define N 500
#define MAGIC 0x5eedf00dL

struct obj {
  long magic;
  long index;
  long *child; /* must still be intact when the closure runs */
};

static volatile long calls[N], bad_calls, child_broken;
static int cd_tag;

static void GC_CALLBACK closure_proc(void *p, void *cd) {
  struct obj *o = p;
  if (cd != &cd_tag || o->magic != MAGIC || o->index < 0 || o->index >= N) {
    bad_calls++;
    return;
  }
  if (o->child == NULL || *o->child != o->index) child_broken++;
  calls[o->index]++;
}
static const struct GC_finalizer_closure fc = {closure_proc, &cd_tag};

struct obj *kept[N]; /* roots: the odd ones */
GC_hidden_pointer w_fin[N];

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    struct obj *o = GC_finalized_malloc(sizeof *o, &fc);
    CHECK(o != NULL, "GC_finalized_malloc");
    CHECK(o->magic == 0 && o->child == NULL, "not zeroed");
    o->magic = MAGIC;
    o->index = i;
    o->child = GC_malloc_atomic(sizeof(long));
    CHECK(o->child != NULL, "allocation");
    *o->child = i;
    CHECK(GC_base(o) != NULL, "GC_base of a finalized object");
    if (i & 1) kept[i] = o;
  }
}

/* Disclaim on a kind of our own. */
static unsigned dkind;
static volatile long dcalls[N];
static int GC_CALLBACK disclaim(void *p) {
  long i = ((long *)p)[1];
  /* bdwgc also asks about slots that never held an object (free ones):
   * only ours are counted. */
  if (((long *)p)[0] != MAGIC || i < 0 || i >= N) return 0;
  dcalls[i]++;
  return dcalls[i] == 1; /* keep it the first time it is asked */
}
GC_hidden_pointer w_d[N];

static NOINLINE void build_kind(void) {
  for (int i = 0; i < N; i++) {
    long *p = GC_generic_malloc(4 * sizeof(long), (int)dkind);
    CHECK(p != NULL, "GC_generic_malloc of the new kind");
    p[0] = MAGIC;
    p[1] = i;
    watch(&w_d[i], p);
  }
}

int main(void) {
  GC_INIT();
  GC_init_finalized_malloc();
  build();
  clear_stack();
  for (int r = 0; r < 6; r++) collect(1);
  long called = 0;
  for (int i = 0; i < N; i++) {
    CHECK(calls[i] <= 1, "object %d: the closure ran %ld times", i, calls[i]);
    if (i & 1)
      CHECK(calls[i] == 0, "the closure ran for a reachable object (%d)", i);
    else
      called += calls[i];
  }
  CHECK(bad_calls == 0, "%ld calls with a wrong pointer or cd", bad_calls);
  CHECK(child_broken == 0, "%ld objects' children were gone", child_broken);
  CHECK(mostly(called, N / 2), "the closure ran for %ld of %d unreachable "
        "objects", called, N / 2);
  for (int i = 1; i < N; i += 2)
    CHECK(kept[i]->magic == MAGIC && *kept[i]->child == i, "kept object %d "
          "damaged", i);

  dkind = GC_new_kind(GC_new_free_list(), 0 | GC_DS_LENGTH, 1, 1);
  GC_register_disclaim_proc((int)dkind, disclaim, 1);
  build_kind();
  clear_stack();
  for (int r = 0; r < 8; r++) collect(1);
  long twice = 0, dead = 0;
  for (int i = 0; i < N; i++) {
    twice += dcalls[i] >= 2;
    dead += w_d[i] == 0;
  }
  CHECK(mostly(twice, N), "only %ld of %d objects were asked again after "
        "being kept", twice, N);
  CHECK(mostly(dead, N), "only %ld of %d objects died once the procedure "
        "let them", dead, N);
  PASS("bdwgc_finalized_malloc_and_disclaim_procs");
}
