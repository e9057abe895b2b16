// labels: gc threads
/* sgc_read_stats during a concurrent collection copies the figures the
 * collection published, under stats_lock.  A thread must not be parked by
 * a stop while it holds that lock (rule:no-stop-holding-lock): another
 * reader then waits for it in pthread_mutex_lock, and under
 * ThreadSanitizer, which holds signals back until that call returns, the
 * waiting reader never answers the stop, which waits for ever (CI, in
 * conc_assists_bound_the_heap_and_lose_nothing under TSan: both of its
 * threads read the figures).
 *
 * Here the stop is made to come while a reader holds the lock: a hook
 * (sgc_test_stats_hook) keeps the first reader 300 ms inside it; the
 * concurrent phase (sgc_test_conc_phase_hook, on the collecting main
 * thread) opens only once that reader is inside and a second reader
 * waits for the lock, then the mark ends and the final stop comes.  A
 * watchdog fails the test if the collection has not ended after 60 s.
 * Catches: gc.c gc_read_stats taking stats_lock outside a no-preempt
 * region (the Debug build's parking check names the lock: world.c
 * ack_and_wait; the TSan build hangs; the Release build parks the reader
 * inside the lock and, in two runs of three, the waiting reader reads the
 * figures the final stop published). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static int reader_go, reader_inside, waiter_go, waiter_reading; /* atomic */
static int collected;                                            /* atomic */
static int hook_entered;                                         /* atomic */
static sgc_stats read_by[2];

/* The first reader only: inside stats_lock for 300 ms, the whole time
 * (nap_ms: the stop's signal interrupts the sleep, and the reader must
 * still be inside the lock when the stop waits for it). */
static void stats_hook(void) {
  if (__atomic_exchange_n(&hook_entered, 1, __ATOMIC_SEQ_CST))
    return;
  set_flag(&reader_inside);
  nap_ms(300);
}

static void *reader(void *arg) {
  (void)arg;
  CHECK(wait_flag(&reader_go, 60.0));
  sgc_read_stats(&read_by[0]);
  return NULL;
}

static void *waiter(void *arg) {
  (void)arg;
  CHECK(wait_flag(&waiter_go, 60.0));
  set_flag(&waiter_reading);
  sgc_read_stats(&read_by[1]);
  return NULL;
}

/* On the collecting thread, the program running: the first reader into
 * the lock, the second one waiting for it, then on to the final stop. */
static void phase_hook(void) {
  static int phases;
  if (phases++ > 0)
    return;
  set_flag(&reader_go);
  CHECK(wait_flag(&reader_inside, 30.0));
  set_flag(&waiter_go);
  CHECK(wait_flag(&waiter_reading, 30.0));
  nap_ms(50); /* into pthread_mutex_lock */
}

/* Not registered (plain pthread_create): never stopped. */
static void *watchdog(void *arg) {
  (void)arg;
  for (int s = 0; s < 60; s++) {
    if (__atomic_load_n(&collected, __ATOMIC_SEQ_CST))
      return NULL;
    sleep(1);
  }
  fprintf(stderr, "CHECK failed: the collection has not ended after 60 s: "
                  "its stop waits for a thread held up by a reader parked "
                  "with stats_lock\n");
  _exit(1);
}

int main(void) {
  sgc_stats before;
  void **live = conc_setup_or_skip(&before);
  if (live == NULL)
    return 0;
  pthread_t w;
  CHECK(pthread_create(&w, NULL, watchdog, NULL) == 0);
  pthread_t t[2];
  CHECK(sgc_pthread_create(&t[0], NULL, reader, NULL) == 0);
  CHECK(sgc_pthread_create(&t[1], NULL, waiter, NULL) == 0);
  ATOMIC_STORE(&sgc_test_stats_hook, stats_hook);
  ATOMIC_STORE(&sgc_test_conc_phase_hook, phase_hook);
  double t0 = now_seconds();
  sgc_collect();
  double took = now_seconds() - t0;
  set_flag(&collected);
  ATOMIC_STORE(&sgc_test_conc_phase_hook, NULL);
  join_blocking(t[0]);
  join_blocking(t[1]);
  ATOMIC_STORE(&sgc_test_stats_hook, NULL);
  pthread_join(w, NULL);

  CHECKF(__atomic_load_n(&hook_entered, __ATOMIC_SEQ_CST),
         "no reader read the published figures (no concurrent phase?)");
  /* Both read the figures the collection published as it started. */
  for (int i = 0; i < 2; i++)
    CHECKF(read_by[i].num_gc == before.num_gc, "reader %d read num_gc "
           "%llu, the collection published %llu", i,
           (unsigned long long)read_by[i].num_gc,
           (unsigned long long)before.num_gc);
  /* The final stop came while the first reader was inside the lock: it
   * waited for the reader to leave its region (300 ms from its entry). */
  CHECKF(took >= 0.25, "the collection took %.0f ms: its final stop did "
         "not wait for the reader inside stats_lock (parked it there)",
         took * 1e3);
  sgc_stats after;
  sgc_read_stats(&after);
  CHECK(after.num_gc == before.num_gc + 1);
  CHECK(small_live_set_intact(live, 4096));
  printf("collection with readers across its final stop: %.0f ms\n",
         took * 1e3);
  return 0;
}
