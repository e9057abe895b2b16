/* finalize_on_demand 0: finalizers run without GC_invoke_finalizers and the
 * notifier is never called.  1: they run only in GC_invoke_finalizers (which
 * counts them), GC_should_invoke_finalizers tells, and the notifier set with
 * GC_set_finalizer_notifier runs at most once per collection. */
// labels: bdwgc
#include <gc.h>
#include <time.h>
#include "bdwgc_check.h"

#define N 500

int fin_calls;          /* atomic: finalizers may run on another thread */
int notifier_calls;
GC_word notified_at[1000];

static void GC_CALLBACK on_fin(void *obj, void *cd) {
  __atomic_fetch_add(&fin_calls, 1, __ATOMIC_SEQ_CST);
}

static void GC_CALLBACK notifier(void) {
  int k = __atomic_fetch_add(&notifier_calls, 1, __ATOMIC_SEQ_CST);
  if (k < 1000) notified_at[k] = GC_get_gc_no();
}

static NOINLINE void make_garbage(void) {
  for (int i = 0; i < N; i++) {
    void *p = GC_malloc(40);
    CHECK(p != NULL, "allocation");
    GC_register_finalizer(p, on_fin, NULL, NULL, NULL);
  }
}

static int fins(void) { return __atomic_load_n(&fin_calls, __ATOMIC_SEQ_CST); }

int main(void) {
  GC_INIT();
  GC_set_finalizer_notifier(notifier);
  CHECK(GC_get_finalizer_notifier() == notifier,
        "GC_get_finalizer_notifier() != the notifier set");

  /* Automatic finalization. */
  GC_set_finalize_on_demand(0);
  CHECK(GC_get_finalize_on_demand() == 0, "GC_get_finalize_on_demand() != 0");
  make_garbage();
  clear_stack();
  GC_gcollect();
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (mostly(fins(), N)) break;
    clock_gettime(CLOCK_MONOTONIC, &t);
    CHECK(t.tv_sec - t0.tv_sec < 10, "without finalize-on-demand only %d of "
          "%d finalizers ran (10 s of allocation, no GC_invoke_finalizers)",
          fins(), N);
    for (int i = 0; i < 1000; i++) CHECK(GC_malloc(100) != NULL, "garbage");
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  CHECK(notifier_calls == 0, "the finalizer notifier was called %d times "
        "without finalize-on-demand", notifier_calls);

  /* Finalization on demand. */
  GC_set_finalize_on_demand(1);
  CHECK(GC_get_finalize_on_demand() == 1, "GC_get_finalize_on_demand() != 1");
  GC_gcollect();                  /* settle what is left of phase 1 */
  GC_invoke_finalizers();
  __atomic_store_n(&fin_calls, 0, __ATOMIC_SEQ_CST);
  GC_word gc0 = GC_get_gc_no();
  make_garbage();
  clear_stack();
  GC_gcollect();
  for (int i = 0; i < 200000; i++) /* garbage: automatic collections */
    CHECK(GC_malloc(100) != NULL, "garbage");
  GC_gcollect();
  struct timespec ms = {0, 50000000};
  nanosleep(&ms, NULL);
  GC_word ncoll = GC_get_gc_no() - gc0;
  CHECK(fins() == 0, "%d finalizers ran before GC_invoke_finalizers with "
        "finalize-on-demand set", fins());
  CHECK(GC_should_invoke_finalizers(), "GC_should_invoke_finalizers() is 0 "
        "with unreachable finalizable objects after collections");
  int nnotify = __atomic_load_n(&notifier_calls, __ATOMIC_SEQ_CST);
  CHECK(nnotify >= 1, "the finalizer notifier was not called");
  CHECK((GC_word)nnotify <= ncoll, "notifier called %d times in %lu "
        "collections", nnotify, (unsigned long)ncoll);
  for (int k = 1; k < nnotify && k < 1000; k++)
    CHECK(notified_at[k] != notified_at[k - 1], "notifier called twice in "
          "collection %lu", (unsigned long)notified_at[k]);
  int ran = GC_invoke_finalizers();
  CHECK(ran == fins(), "GC_invoke_finalizers returned %d, %d finalizers ran",
        ran, fins());
  CHECK(mostly(ran, N), "GC_invoke_finalizers ran only %d of %d", ran, N);
  CHECK(!GC_should_invoke_finalizers(), "GC_should_invoke_finalizers() still "
        "true after GC_invoke_finalizers");
  CHECK(GC_invoke_finalizers() == 0, "a second GC_invoke_finalizers ran "
        "finalizers");
  PASS("bdwgc_finalize_on_demand_and_notifier");
}
