// labels: gc threads
/* During a concurrent collection (SPANGC_CONCURRENT=1, set here) the
 * program runs, and a thread that asks for the collector's figures
 * (sgc_read_stats; the bdwgc layer's GC_get_heap_size, GC_get_gc_no and
 * friends call it) gets them at once: those of the collections finished
 * before, with the heap's figures of the moment.  A mark hook
 * (sgc_test_conc_phase_hook) holds the concurrent phase open until a
 * reader thread has read the figures, or 10 s pass.
 * Catches: sgc_read_stats waiting on gc_lock, which a concurrent
 * collection holds from its start to its end (an allocating thread that
 * sampled the figures stalled for every concurrent phase). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static int in_phase, reader_done; /* atomic */
static int held_too_long;         /* atomic: the hook gave up waiting */
static sgc_stats seen;            /* the reader's, before reader_done */

static void hold_phase(void) {
  set_flag(&in_phase);
  if (!wait_flag(&reader_done, 10.0))
    set_flag(&held_too_long);
}

static void *reader(void *arg) {
  (void)arg;
  wait_flag(&in_phase, 1e9);
  sgc_read_stats(&seen);
  set_flag(&reader_done);
  return NULL;
}

int main(void) {
  sgc_stats before;
  void **live = conc_setup_or_skip(&before);
  if (live == NULL)
    return 0;

  /* Concurrent: this thread runs the phase, and the hook. */
  conc_collect_beside(reader, hold_phase);

  CHECKF(!held_too_long, "sgc_read_stats did not return within 10 s of "
         "a concurrent phase (it waited for the collection)");
  /* The figures of the collections finished before this one. */
  CHECKF(seen.num_gc == before.num_gc, "num_gc %llu read during the "
         "collection after %llu", (unsigned long long)seen.num_gc,
         (unsigned long long)before.num_gc);
  CHECK(seen.num_concurrent_gc == before.num_concurrent_gc);
  CHECK(seen.last_pause_ns == before.last_pause_ns);
  CHECK(seen.concurrent == 1);
  CHECK(seen.gcpercent == before.gcpercent);
  CHECK(seen.heap_inuse_bytes >= 4096 * 64);
  sgc_stats after;
  sgc_read_stats(&after);
  CHECK(after.num_gc == before.num_gc + 1);
  CHECK(after.num_concurrent_gc == before.num_concurrent_gc + 1);
  CHECK(small_live_set_intact(live, 4096));
  printf("read during the phase: num_gc %llu, heap in use %llu bytes\n",
         (unsigned long long)seen.num_gc,
         (unsigned long long)seen.heap_inuse_bytes);
  return 0;
}
