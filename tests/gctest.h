/* gctest.h — helpers shared by the collector tests. */
#ifndef SPANGC_TEST_GCTEST_H
#define SPANGC_TEST_GCTEST_H
#include <pthread.h>
#include <string.h>

#include "spangc.h"

/* Waits a registered thread does on the program's own locks go inside a
 * blocking region: a collection does not then wait for the waiter (whose
 * lock may be held by a stopped thread).  Natively the suspend signal
 * interrupts such waits anyway; ThreadSanitizer holds signals back inside
 * pthread_mutex_lock and pthread_barrier_wait, so without this a stop can
 * wait for ever.  The critical section itself runs outside the region:
 * heap pointers must not be moved inside one. */
static inline void lock_blocking(pthread_mutex_t *m) {
  sgc_enter_blocking();
  pthread_mutex_lock(m);
  sgc_exit_blocking();
}
static inline void barrier_blocking(pthread_barrier_t *b) {
  sgc_enter_blocking();
  pthread_barrier_wait(b);
  sgc_exit_blocking();
}

/* Collect until what died has been finalized: each round collects (the
 * sweep queues the finalizers of dead objects), then runs what is queued;
 * objects a finalizer kept alive one cycle go in the next round. */
static inline void settle(void) {
  for (int k = 0; k < 3; k++) {
    sgc_collect();
    sgc_collect();
    sgc_wait_finalizers();
    sgc_run_finalizers();
  }
}

/* Overwrite the dead part of the stack so that stale copies of pointers
 * made by earlier calls do not linger there (a conservative collector
 * would keep their objects). */
__attribute__((noinline, unused)) static void clear_stack(void) {
  volatile char buf[32 << 10];
  memset((char *)buf, 0, sizeof buf);
}
#endif
