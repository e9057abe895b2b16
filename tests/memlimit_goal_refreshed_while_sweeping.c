// labels: gc threads
/* sgc_set_gcpercent and sgc_set_memory_limit set the goal at once
 * (gc_refresh_goal), with the world running: memlimit_goal reads what the
 * heap holds beyond heap_live (overhead_now: mheap.pages_inuse and
 * pages_stack) without mheap.lock, while the background sweeper and the
 * allocating threads change those counts under it.  Two threads allocate
 * large objects and drop them (each one a span the sweep gives back),
 * and make and finish fibers (stack spans), while the main thread keeps
 * changing GOGC and the limit.  Checks, in the ThreadSanitizer build
 * (make check runs "threads" tests there): no data race.  Catches:
 * mheap.c's plain writes of pages_inuse/pages_stack (free_span_locked,
 * mheap_alloc, the stack spans'), raced with overhead_now's loads; and
 * gc.c's plain gc.gcpercent, written by sgc_set_gcpercent under gc_lock
 * and read by gc_maybe_collect without it (both found by the adversarial
 * review with a thread toggling the settings beside mutators). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"

static int stop; /* atomic */
static void *sink; /* atomic */

static void fiber_fn(void *arg) { (void)arg; }

static void *mutator(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg + 1;
  long n = 0;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    size_t size = (size_t)(64 + rand_r(&seed) % 192) << 10;
    void *p = sgc_alloc_noscan(size);
    CHECK(p != NULL);
    __atomic_store_n(&sink, p, __ATOMIC_RELAXED);
    if (++n % 16 == 0) {
      sgc_fiber *f = sgc_fiber_create(fiber_fn, NULL, 0);
      CHECK(f != NULL);
      sgc_fiber_switch(f); /* runs to its end and comes back */
    }
  }
  return NULL;
}

int main(void) {
  sgc_init();
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, mutator, (void *)(uintptr_t)i) ==
          0);
  double seconds = 2.0 * test_scale();
  if (seconds < 1.5) /* ThreadSanitizer needs a few goal changes */
    seconds = 1.5;
  double t0 = now_seconds();
  long n = 0;
  while (now_seconds() - t0 < seconds) {
    sgc_set_gcpercent(n % 2 ? 300 : 400);
    sgc_set_memory_limit(n % 3 ? 0 : (size_t)1 << 30);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
    n++;
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < 2; i++) {
    sgc_enter_blocking();
    pthread_join(t[i], NULL);
    sgc_exit_blocking();
  }
  sgc_set_memory_limit(0);
  printf("%ld goal changes beside the sweep\n", n);
  return 0;
}
