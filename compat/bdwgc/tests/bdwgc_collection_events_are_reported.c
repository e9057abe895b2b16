/* GC_set_on_collection_event: every collection reports START,
 * PRE_STOP_WORLD, POST_STOP_WORLD, MARK_START, MARK_END, PRE_START_WORLD,
 * POST_START_WORLD, RECLAIM_START, RECLAIM_END, END in that order; all of an
 * explicit collection's events are reported before GC_gcollect returns;
 * collections started by allocation report them too, each START followed by
 * its END before the next START, also with several threads allocating at
 * once; the getter returns the callback; with the
 * callback removed nothing more is reported.  GC_set_start_callback still
 * runs once per collection alongside. */
// labels: bdwgc
// requires: GC_set_on_collection_event GC_EVENT_POST_START_WORLD
#include <gc.h>
#include <gc/gc_mark.h>
#include <pthread.h>
#include "bdwgc_check.h"

#define MAXEV 200000
static GC_EventType log_[MAXEV];
static long nlog;
static volatile long starts_cb;

static void GC_CALLBACK on_event(GC_EventType e) {
  long i = __atomic_fetch_add(&nlog, 1, __ATOMIC_RELAXED);
  if (i < MAXEV) log_[i] = e;
}
static void GC_CALLBACK on_start(void) { starts_cb++; }

static const GC_EventType order[] = {
    GC_EVENT_START,           GC_EVENT_PRE_STOP_WORLD,
    GC_EVENT_POST_STOP_WORLD, GC_EVENT_MARK_START,
    GC_EVENT_MARK_END,        GC_EVENT_PRE_START_WORLD,
    GC_EVENT_POST_START_WORLD, GC_EVENT_RECLAIM_START,
    GC_EVENT_RECLAIM_END,     GC_EVENT_END};
#define NORDER (sizeof order / sizeof order[0])

/* The log from 'from' is whole collections in order; returns how many. */
static long check_sequences(long from, long to) {
  long n = 0, k = 0;
  for (long i = from; i < to; i++) {
    GC_EventType e = log_[i];
    if (e == GC_EVENT_THREAD_SUSPENDED || e == GC_EVENT_THREAD_UNSUSPENDED)
      continue;
    CHECK(e == order[k], "event %ld is %d, expected %d (step %ld of a "
          "collection)", i, (int)e, (int)order[k], k);
    if (++k == NORDER) {
      k = 0;
      n++;
    }
  }
  CHECK(k == 0, "the log ends inside a collection (after step %ld)", k);
  return n;
}

static void *churn(void *arg) {
  void *keep = NULL;
  for (long i = 0; i < 400000; i++) {
    void **p = GC_malloc(48);
    CHECK(p != NULL, "allocation");
    if ((i & 1023) == 0) { *p = keep; keep = p; }
  }
  KEEP(keep);
  return arg;
}

int main(void) {
  GC_INIT();
  GC_set_on_collection_event(on_event);
  CHECK(GC_get_on_collection_event() == on_event, "getter returned another "
        "callback");
  GC_set_start_callback(on_start);

  /* Explicit collections: all ten events, before GC_gcollect returns. */
  for (int r = 0; r < 3; r++) {
    long before = nlog, s0 = starts_cb;
    GC_gcollect();
    long got = nlog - before;
    CHECK(got >= (long)NORDER, "GC_gcollect reported %ld events before "
          "returning", got);
    CHECK(check_sequences(before, nlog) >= 1, "no whole collection");
    CHECK(starts_cb > s0, "the start callback did not run");
  }

  /* Collections started by allocation (no explicit one). */
  long before = nlog, gc0 = (long)GC_get_gc_no();
  void *keep = NULL;
  for (long i = 0; i < 2000000 && (long)GC_get_gc_no() < gc0 + 5; i++) {
    void **p = GC_malloc(64);
    CHECK(p != NULL, "allocation");
    if ((i & 1023) == 0) { *p = keep; keep = p; }
  }
  KEEP(keep);
  long auto_gcs = (long)GC_get_gc_no() - gc0;
  CHECK(auto_gcs >= 2, "allocation started only %ld collections", auto_gcs);
  GC_gcollect(); /* reports whatever an automatic one still owes, then its own */
  long seen = check_sequences(before, nlog);
  CHECK(seen == auto_gcs + 1, "%ld collections (GC_gc_no), %ld reported",
        auto_gcs + 1, seen);
  CHECK(nlog < MAXEV, "log overflow");

  /* Several threads allocating: the collections' events never interleave
   * (whichever thread reports the end of one, it comes before the next
   * START). */
  before = nlog;
  gc0 = (long)GC_get_gc_no();
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    CHECK(GC_pthread_create(&t[i], NULL, churn, NULL) == 0, "create");
  for (int i = 0; i < 3; i++) CHECK(GC_pthread_join(t[i], NULL) == 0, "join");
  GC_gcollect();
  seen = check_sequences(before, nlog);
  CHECK(seen == (long)GC_get_gc_no() - gc0, "threads: %ld collections "
        "(GC_gc_no), %ld reported", (long)GC_get_gc_no() - gc0, seen);
  CHECK(seen >= 3, "threads: only %ld collections", seen);

  /* Removed: nothing more. */
  GC_set_on_collection_event(0);
  CHECK(GC_get_on_collection_event() == 0, "getter after removal");
  long n = nlog;
  GC_gcollect();
  GC_malloc(16);
  CHECK(nlog == n, "%ld events after the callback was removed", nlog - n);
  PASS("bdwgc_collection_events_are_reported");
}
