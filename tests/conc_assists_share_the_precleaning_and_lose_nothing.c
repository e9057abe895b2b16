// labels: gc threads
/* Pre-cleaning with assists (SPANGC_CONCURRENT=1, set here): after the
 * concurrent drain, each pre-cleaning round rescans the pages written
 * during the mark while the program runs, and threads that allocate
 * meanwhile take slices of that rescan themselves (concurrent.c's
 * PRECLEAN_TAX, mark.c's mark_assist through markroot.c's
 * preclean_assist).  Two threads keep storing fresh nodes into a large
 * old array of pointers (8 MiB, its pages written all over) and throw
 * away garbage, so every round has thousands of written pages.  A test
 * hook holds each round's collector back until an assist took a slice
 * (or 1 s passed), so that slices are taken whatever the machine's
 * speed.  Checks: assists took slices; no node was lost (each carries a
 * pointer-free tag blob: a node freed while reachable and its slot reused
 * shows as a wrong tag).  make check also runs it with
 * SPANGC_DEBUG=verify=1, where each final stop is checked against a full
 * mark: a slice rescanned by an assist without the protection first, or
 * work an assist kept past the final stop, fails there. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define NSLOT ((8L << 20) / (long)sizeof(void *))
#define NMUT 2

typedef blob_node node;

static node *volatile *slots; /* an old, scanned array */
static volatile int stop;
static void *sink; /* garbage goes through here (atomic) */

static void hold_the_round(void) {
  uint64_t seen = ATOMIC_LOAD(&sgc_test_assisted_slices);
  double t0 = now_seconds();
  while (ATOMIC_LOAD(&sgc_test_assisted_slices) == seen &&
         now_seconds() - t0 < 1.0) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
}

static void *mutator(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
    blob_node_replace(slots, (long)(rand_r(&seed) % (unsigned)NSLOT), 8,
                      &sink);
  return NULL;
}

int main(void) {
  /* Majors only: only they mark concurrently. */
  setenv("SPANGC_GENERATIONAL", "0", 1);
  if (!conc_init_or_skip())
    return 0;
  slots = blob_node_old_array(NSLOT);
  __atomic_store_n(&sgc_test_preclean_hook, hold_the_round, __ATOMIC_SEQ_CST);
  sgc_stats st0;
  sgc_read_stats(&st0);
  pthread_t t[NMUT];
  for (int i = 0; i < NMUT; i++)
    CHECK(pthread_create(&t[i], NULL, mutator, (void *)(uintptr_t)i) == 0);
  /* Concurrent collections until assists took slices in a few rounds,
   * within a time bound; sgc_collect runs one whatever the pacing. */
  double t0 = now_seconds();
  for (;;) {
    sgc_collect();
    if (ATOMIC_LOAD(&sgc_test_assisted_slices) >= 3 ||
        now_seconds() - t0 > 60.0)
      break;
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < NMUT; i++)
    pthread_join(t[i], NULL);
  __atomic_store_n(&sgc_test_preclean_hook, NULL, __ATOMIC_SEQ_CST);
  sgc_collect();
  long n = 0;
  for (long k = 0; k < NSLOT; k++)
    if (slots[k]) {
      blob_node_check(slots[k]);
      n++;
    }
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t taken = ATOMIC_LOAD(&sgc_test_assisted_slices);
  CHECKF(st.num_concurrent_gc > st0.num_concurrent_gc,
         "no concurrent collection ran");
  CHECKF(taken >= 3, "assists took %llu slices of pre-cleaning rounds",
         (unsigned long long)taken);
  printf("ok: %llu concurrent collections, %llu slices taken by assists, "
         "%ld nodes checked\n",
         (unsigned long long)(st.num_concurrent_gc - st0.num_concurrent_gc),
         (unsigned long long)taken, n);
  return 0;
}
