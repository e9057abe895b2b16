// labels: gc threads
/* sgc_disable during a concurrent collection (SPANGC_CONCURRENT=1, set
 * here), whose phase runs beside the program: it returns only once that
 * collection has ended, so no stop of it lands in the program's disabled
 * section (bdwgc's GC_disable waits for its lock the same way).  A phase
 * hook (sgc_test_conc_phase_hook) holds the phase open until the
 * disabling thread has returned, or 0.5 s.  After sgc_disable returns,
 * num_gc counts the collection, and allocating a lot starts no other.
 * Catches: sgc_disable returning while a collection was under way (seen
 * as num_gc moving after it in gc_disable_enable_and_stats), a thread
 * that passed the allocator's test before sgc_disable collecting after. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static int in_phase, disabled; /* atomic */
static uint64_t gc_at_return;  /* num_gc read as sgc_disable returned */

static void hold_phase(void) {
  set_flag(&in_phase);
  wait_flag(&disabled, 0.5);
}

static void *disabler(void *arg) {
  (void)arg;
  wait_flag(&in_phase, 1e9);
  sgc_disable();
  sgc_stats st;
  sgc_read_stats(&st);
  gc_at_return = st.num_gc;
  set_flag(&disabled);
  return NULL;
}

int main(void) {
  sgc_stats before;
  void **live = conc_setup_or_skip(&before);
  if (live == NULL)
    return 0;

  conc_collect_beside(disabler, hold_phase);
  CHECKF(gc_at_return == before.num_gc + 1,
         "sgc_disable returned with num_gc %llu, the collection under way "
         "being number %llu", (unsigned long long)gc_at_return,
         (unsigned long long)before.num_gc + 1);

  /* Disabled: no collection however much is allocated. */
  for (long i = 0; i < scaled(64L << 20) / 256; i++) {
    char *volatile p = sgc_alloc(256);
    CHECK(p != NULL);
  }
  sgc_stats st;
  sgc_read_stats(&st);
  CHECKF(st.num_gc == gc_at_return, "%llu collections while disabled",
         (unsigned long long)(st.num_gc - gc_at_return));
  sgc_enable();
  CHECK(small_live_set_intact(live, 4096));
  printf("sgc_disable returned after collection %llu\n",
         (unsigned long long)gc_at_return);
  return 0;
}
