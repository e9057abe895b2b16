// labels: gc threads
// timeout: 120
/* A stop that waits long (100 ms) for a thread says which and why
 * (world.c report_unstopped): it reads, from the collecting thread, the
 * 'pending' flag that the waited-for thread's signal handler sets when
 * the stop signal finds it inside a no-preempt region.  A thread stays in
 * such a region for 400 ms (sleeping in 1 ms steps: natively the signal
 * interrupts the sleep, under ThreadSanitizer it is delivered there)
 * while the main thread collects.  Checks: the collection ends, after
 * the region; in the ThreadSanitizer build, no data race.  Catches:
 * suspend_handler's plain write of c->pending against report_unstopped's
 * load.  Under ThreadSanitizer it was not only a report: TSan reported it
 * from the handler in the middle of the stop, and symbolizing took the
 * loader's lock that the collector holds while it stops the world (it
 * stops inside dl_iterate_phdr), so the stop hung for ever (found by the
 * adversarial review: conc_objects_moved_during_the_mark_survive timed
 * out under TSan, the collector in world_stop, one thread in
 * suspend_handler -> ReportRace -> dl_iterate_phdr). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static int in_region, left_region; /* atomic */
static double left_at;             /* before left_region */

static void *holder(void *arg) {
  (void)arg;
  mcache *c = mcache_get();
  CHECK(c != NULL);
  nopreempt_enter(c);
  __atomic_store_n(&in_region, 1, __ATOMIC_SEQ_CST);
  double t0 = now_seconds();
  while (now_seconds() - t0 < 0.4) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  left_at = now_seconds();
  __atomic_store_n(&left_region, 1, __ATOMIC_SEQ_CST);
  nopreempt_leave(c); /* parks here for the stop */
  return NULL;
}

int main(void) {
  sgc_init();
  void *volatile keep = sgc_alloc(64);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, holder, NULL) == 0);
  while (!__atomic_load_n(&in_region, __ATOMIC_SEQ_CST)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  sgc_collect(); /* stops: waits for the holder to leave its region */
  double done = now_seconds();
  CHECK(__atomic_load_n(&left_region, __ATOMIC_SEQ_CST));
  CHECK(done >= left_at);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  CHECK(sgc_base(keep) == keep);
  printf("the stop waited for the region's end\n");
  return 0;
}
