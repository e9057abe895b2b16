/* gctest.h — helpers shared by the collector tests. */
#ifndef SPANGC_TEST_GCTEST_H
#define SPANGC_TEST_GCTEST_H
#include <string.h>

#include "spangc.h"

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
