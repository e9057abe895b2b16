// labels: world threads
/* A stop that waits more than 100 ms names the threads not yet stopped,
 * and says whether each is inside spangc by reading its 'pending' flag,
 * which that thread's suspend handler sets with a plain store when the
 * signal finds it in a no-preempt region.  Under ThreadSanitizer the
 * read and that store were a data race, reported from inside the handler
 * when the store came second; the report walks the loaded objects
 * (dl_iterate_phdr) to symbolize, and the collector holds that lock
 * until the world restarts: the stop hung, repeating "has not stopped"
 * (gc_threads_random_graphs, stress_max_heap_holds_under_threads and
 * world_unregistered_threads_query_the_heap under TSan with a CPU hog).
 * When the store came first, the report came from the collector instead
 * and the run failed.
 *
 * Here a registered thread stays 300 ms in a no-preempt region, spinning
 * without calls (where ThreadSanitizer holds the signal back), then
 * sleeps a moment (where it delivers it) and leaves, while the main
 * thread collects: the stop waits, warns once, and must complete.
 * Natively the signal lands during the spin and the stop simply waits for
 * the region's end. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

enum { ROUNDS = 2 };
static atomic_int round_go, round_in, round_done;
static long spin_per_ms = 1;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* No call and no atomic operation: ThreadSanitizer holds signals back. */
static void __attribute__((noinline)) spin(long n) {
  volatile long k = 0;
  for (long i = 0; i < n; i++)
    k = k + 1;
}

static void *slow_to_stop(void *arg) {
  (void)arg;
  mcache *c = sgc_tls_cache; /* registered by sgc_pthread_create */
  CHECK(c != NULL && c->thr != NULL);
  for (int r = 1; r <= ROUNDS; r++) {
    while (atomic_load(&round_go) < r)
      sched_yield();
    nopreempt_enter(c);
    atomic_store(&round_in, r);
    spin(300 * spin_per_ms);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL); /* a pending signal is delivered here */
    nopreempt_leave(c);   /* parks if a stop came */
    atomic_store(&round_done, r);
  }
  return NULL;
}

int main(void) {
  alarm(120); /* a stop that never completes fails the test */
  sgc_init();
  double t0 = now_ms();
  spin(10000000);
  double ms = now_ms() - t0;
  spin_per_ms = (long)(10000000 / (ms > 0.01 ? ms : 0.01));
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, slow_to_stop, NULL) == 0);
  for (int r = 1; r <= ROUNDS; r++) {
    atomic_store(&round_go, r);
    while (atomic_load(&round_in) < r)
      sched_yield();
    double s = now_ms();
    sgc_collect(); /* waits for the region's end, warning after 100 ms */
    printf("round %d: the collection took %.0f ms\n", r, now_ms() - s);
    while (atomic_load(&round_done) < r)
      sched_yield();
  }
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  puts("stops that waited for a thread in a no-preempt region completed");
  return 0;
}
