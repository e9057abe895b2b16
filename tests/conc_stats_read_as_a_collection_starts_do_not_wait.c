// labels: gc threads
/* A thread that calls sgc_read_stats just as a concurrent collection
 * starts (SPANGC_CONCURRENT=1, set here) does not wait for the whole
 * collection either.  The collection takes gc_lock, then runs its start
 * hook, makes its markers and publishes its copy of the figures before it
 * counts as running; a reader that came in between found gc_lock held and
 * no concurrent collection, and waited on gc_lock until the collection's
 * end.  The start hook (sgc_set_start_hook) widens that window to 50 ms
 * and a phase hook (sgc_test_conc_phase_hook) holds the concurrent phase
 * open until the reader has read, or 10 s pass.
 * Catches: gc.c gc_read_stats blocking on gc_lock when it is held by a
 * concurrent collection that has not published yet. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static int in_start, reader_done; /* atomic */
static int held_too_long;         /* atomic */

static void start_hook(void) {
  if (__atomic_load_n(&in_start, __ATOMIC_SEQ_CST))
    return;
  __atomic_store_n(&in_start, 1, __ATOMIC_SEQ_CST);
  struct timespec ts = {0, 50000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void hold_phase(void) {
  if (!wait_flag(&reader_done, 10.0))
    set_flag(&held_too_long);
}

static sgc_stats seen;

static void *reader(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&in_start, __ATOMIC_SEQ_CST)) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  sgc_read_stats(&seen); /* in the start hook's 50 ms */
  __atomic_store_n(&reader_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

int main(void) {
  sgc_stats before;
  void **live = conc_setup_or_skip(&before);
  if (live == NULL)
    return 0;

  sgc_set_start_hook(start_hook);
  conc_collect_beside(reader, hold_phase); /* this thread runs the hooks */
  sgc_set_start_hook(NULL);

  CHECKF(!held_too_long, "sgc_read_stats, called as a concurrent "
         "collection started, did not return within 10 s of its phase (it "
         "waited for the collection)");
  CHECKF(seen.num_gc == before.num_gc, "num_gc %llu read as the collection "
         "started, after %llu", (unsigned long long)seen.num_gc,
         (unsigned long long)before.num_gc);
  sgc_stats after;
  sgc_read_stats(&after);
  CHECK(after.num_gc == before.num_gc + 1);
  CHECK(small_live_set_intact(live, 4096));
  printf("read as the collection started: num_gc %llu\n",
         (unsigned long long)seen.num_gc);
  return 0;
}
