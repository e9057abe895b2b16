// labels: gc threads
/* sgc_read_stats during a concurrent collection (SPANGC_CONCURRENT=1,
 * set here) reports the collector's figures as the collection found them
 * when it started (the collections finished before), but what is not a
 * collection's figure is read as it is now: a setting the program just
 * changed (sgc_set_markers), and what the heap holds (memory_held_bytes,
 * which must agree with arena_committed_bytes, read live: committed
 * arena - released pages + metadata).  A phase hook
 * (sgc_test_conc_phase_hook) holds the concurrent phase open while the
 * main thread allocates 32 MiB, sets the markers and reads.
 * Catches: gc.c gc_read_stats copying every figure read under gc_lock
 * from the copy published as the collection started (markers was the
 * old count; memory_held_bytes stayed 32 MiB under arena_committed_bytes
 * until the collection ended). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static int in_phase, main_done; /* atomic */

static void hold_phase(void) {
  set_flag(&in_phase);
  wait_flag(&main_done, 30.0);
}

static void *collector(void *arg) {
  (void)arg;
  sgc_collect();
  return NULL;
}

#define NBIG 32
static void *volatile big[NBIG];

int main(void) {
  /* GOGC 100000: the 32 MiB stay under the goal (no assist, no wait;
   * sgc_expand_heap would make room too, but with pages held already). */
  setenv("SPANGC_GOGC", "100000", 1);
  sgc_stats before;
  void **live = conc_setup_or_skip(&before);
  if (live == NULL)
    return 0;

  ATOMIC_STORE(&sgc_test_conc_phase_hook, hold_phase);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, collector, NULL) == 0);
  wait_flag(&in_phase, 1e9);
  for (int i = 0; i < NBIG; i++)
    CHECK((big[i] = sgc_alloc_noscan((size_t)1 << 20)) != NULL);
  int markers = before.markers == 1 ? 2 : before.markers - 1;
  CHECK(sgc_set_markers(markers) == 0);
  sgc_stats during;
  sgc_read_stats(&during);
  CHECK(conc_running()); /* still in the collection */
  set_flag(&main_done);
  join_blocking(t);
  ATOMIC_STORE(&sgc_test_conc_phase_hook, NULL);

  /* The collector's figures: those of the collections before. */
  CHECK(during.num_gc == before.num_gc);
  /* The rest: now. */
  CHECKF(during.markers == markers, "markers %d read after setting %d",
         during.markers, markers);
  uint64_t arena = during.arena_committed_bytes -
                   during.heap_released_bytes + during.meta_bytes;
  uint64_t held = during.memory_held_bytes;
  uint64_t diff = held > arena ? held - arena : arena - held;
  CHECKF(diff < (4u << 20), "memory_held_bytes %.1f MiB, committed arena "
         "less released plus metadata %.1f MiB",
         (double)held / 1048576.0, (double)arena / 1048576.0);
  CHECKF(held >= before.memory_held_bytes + ((uint64_t)NBIG << 20) / 2,
         "memory_held_bytes %.1f MiB after %d MiB allocated on %.1f MiB",
         (double)held / 1048576.0, NBIG,
         (double)before.memory_held_bytes / 1048576.0);
  sgc_stats after;
  sgc_read_stats(&after);
  CHECK(after.num_gc == before.num_gc + 1);
  CHECK(after.markers == markers);
  CHECK(small_live_set_intact(live, 4096));
  printf("during the phase: markers %d, held %.1f MiB, arena %.1f MiB\n",
         during.markers, (double)held / 1048576.0,
         (double)arena / 1048576.0);
  return 0;
}
