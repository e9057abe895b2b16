// labels: world gc
/* sgc_pthread_create's argument is a root from the call on: it may be the
 * only reference to a heap object.  sgc_pthread_create waits for the
 * thread list's lock in a blocking region (a collection may run
 * meanwhile); the argument must stay where the collector looks the whole
 * time, not only in the start record (malloc's memory, not scanned) until
 * that record is linked.  Here another thread holds that lock in short
 * bursts while collections run in a loop, and the main thread creates
 * 1000 threads, each with a fresh tagged object as its only reference;
 * each thread first allocates garbage (reusing any freed slot) and then
 * checks its object.  (The hole was found when lock_as_blocking was made
 * out of line while splitting world.c: the stress test lost objects at
 * every run; inlined, a callee-saved register held the argument by
 * luck.)  Not in the ThreadSanitizer runs (label threads): it checks
 * liveness, not races, and there 300 creations took 6 minutes. */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

/* Under AddressSanitizer, where collections are much slower, 200. */
#define NCREATE (TEST_ASAN ? 200 : 1000)

static int stop_holding; /* atomic */
void *volatile sink;

static void *holder(void *arg) {
  (void)arg; /* not registered: it takes the lock as the collector does */
  while (!__atomic_load_n(&stop_holding, __ATOMIC_RELAXED)) {
    sgc_lock(&threads_lock);
    for (volatile int spin = 0; spin < 2000; spin++)
      ;
    sgc_unlock(&threads_lock);
    for (volatile int spin = 0; spin < 2000; spin++)
      ;
  }
  return NULL;
}

static int bad; /* atomic */

static void *child(void *arg) {
  for (int i = 0; i < 64; i++) {
    uint64_t *g = sgc_alloc(64);
    CHECK(g != NULL);
    for (int w = 0; w < 8; w++)
      g[w] = GARBAGE_WORD;
    sink = g;
  }
  uint64_t *y = arg;
  if (!tagged_intact(y, y != NULL ? y[0] : 0))
    __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
  return NULL;
}

__attribute__((noinline)) static int create_one(pthread_t *t, uint64_t tag) {
  return sgc_pthread_create(t, NULL, child, tagged_new(tag));
}

int main(void) {
  sgc_init();
  pthread_t h;
  CHECK(pthread_create(&h, NULL, holder, NULL) == 0);
  pthread_t loop = collector_loop_start();
  for (int i = 0; i < NCREATE; i++) {
    pthread_t t;
    CHECK(create_one(&t, 0x7a67000000000000ull + (uint64_t)i) == 0);
    clear_stack();
    join_blocking(t);
  }
  collector_loop_stop(loop);
  __atomic_store_n(&stop_holding, 1, __ATOMIC_RELAXED);
  join_blocking(h);
  sgc_stats st;
  sgc_read_stats(&st);
  fprintf(stderr, "%d threads created, %llu collections, %d arguments lost\n",
          NCREATE, (unsigned long long)st.num_gc, bad);
  CHECKF(bad == 0, "%d of %d thread arguments were freed", bad, NCREATE);
  return 0;
}
