/* With SPANGC_DEBUG=verify=1 spangc runs the root callback a second time
 * in a minor or concurrent collection, for the verifier's full mark.  The
 * layer counts a collection and reports its events in that callback: it
 * must do so once.  Automatic collections (minors among them) of 200 MB
 * of garbage beside a kept list: GC_get_gc_no advances by as many as the
 * start callback ran, and each POST_STOP_WORLD event is one collection's.
 * Before the fix, 118 collections counted for 64 starts.  (Against the
 * stock libgc the variable means nothing, and the counts agree too.) */
// labels: bdwgc
// requires: GC_set_on_collection_event GC_EVENT_POST_STOP_WORLD
#include <gc.h>
#include <gc/gc_mark.h>
#include <stdlib.h>
#include "bdwgc_check.h"

static long starts, post_stop;
static void GC_CALLBACK on_start(void) { starts++; }
static void GC_CALLBACK on_event(GC_EventType e) {
  if (e == GC_EVENT_POST_STOP_WORLD)
    __atomic_add_fetch(&post_stop, 1, __ATOMIC_RELAXED);
}

struct node {
  struct node *next;
  long v[5];
};

int main(void) {
  setenv("SPANGC_DEBUG", "verify=1", 1); /* read at initialisation */
  GC_INIT();
  GC_set_start_callback(on_start);
  GC_set_on_collection_event(on_event);
  struct node *kept = NULL;
  for (long i = 0; i < 20000; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    CHECK(n != NULL, "allocation");
    n->next = kept;
    n->v[0] = i;
    kept = n;
  }
  GC_word gc0 = GC_get_gc_no();
  long s0 = starts, p0 = __atomic_load_n(&post_stop, __ATOMIC_RELAXED);
  for (long i = 0; i < 400000; i++) {
    void *volatile g = GC_MALLOC(512);
    CHECK(g != NULL, "allocation");
    if (i % 64 == 0) { /* young objects hung on old ones: minors work */
      struct node *n = GC_MALLOC(sizeof *n);
      CHECK(n != NULL, "allocation");
      n->next = kept->next;
      kept->next = n;
    }
  }
  long collections = (long)(GC_get_gc_no() - gc0);
  long events = __atomic_load_n(&post_stop, __ATOMIC_RELAXED) - p0;
  CHECK(collections > 0, "allocation triggered no collection");
  CHECK(starts - s0 == collections,
        "start callback called %ld times in %ld collections", starts - s0,
        collections);
  CHECK(events == collections, "%ld POST_STOP_WORLD events in %ld "
        "collections", events, collections);
  long n = 0;
  for (struct node *p = kept; p; p = p->next)
    n++;
  CHECK(n == 20000 + 400000 / 64, "the kept list has %ld nodes", n);
  PASS("bdwgc_gc_no_counts_each_collection_once_under_the_verifier");
}
