// labels: gc threads
/* Mostly-concurrent marking (SPANGC_CONCURRENT=1, set here): threads with
 * default stacks are created and joined in batches while another thread
 * runs concurrent collections back to back.  glibc keeps about 40 MiB of
 * exited threads' stacks and unmaps the rest, and a thread's static TLS
 * block lives in its stack mapping.  The initial stop must read every
 * root outside the heap there and then: a TLS block pushed as work and
 * read during the concurrent phase faulted once its thread had exited
 * (SIGSEGV in scan_range; found by the adversarial review).  Objects the
 * threads leave in a shared array are checked at the end. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define BATCH 8
#define KEEP 4096

static uint64_t **keep; /* uncollectable array of kept objects */
static __thread void *volatile tls_ref; /* a root in each thread's TLS */

static void *worker(void *arg) {
  uint64_t id = (uint64_t)(uintptr_t)arg;
  for (int i = 0; i < 64; i++) {
    uint64_t *o = sgc_alloc(4 * sizeof(uint64_t));
    CHECK(o != NULL);
    o[0] = id;
    o[1] = ~id;
    tls_ref = o;
    __atomic_store_n(&keep[(id * 64 + (uint64_t)i) % KEEP], o,
                     __ATOMIC_RELEASE);
  }
  return NULL;
}

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  keep = sgc_alloc_uncollectable(KEEP * sizeof *keep);
  CHECK(keep != NULL);
  /* A heap that takes the markers a while, so that threads come and go
   * during the concurrent phase. */
  void **ballast = NULL;
  for (int i = 0; i < 200000; i++) {
    void **b = sgc_alloc(48);
    CHECK(b != NULL);
    b[0] = ballast;
    ballast = b;
  }
  pthread_t ct = collector_loop_start();
  double end = now_seconds() + 4 * test_scale() + 1;
  long rounds = 0;
  while (now_seconds() < end) {
    pthread_t t[BATCH];
    for (int i = 0; i < BATCH; i++)
      CHECK(sgc_pthread_create(&t[i], NULL, worker,
                               (void *)(uintptr_t)(rounds * BATCH + i)) == 0);
    sgc_enter_blocking();
    for (int i = 0; i < BATCH; i++)
      pthread_join(t[i], NULL);
    sgc_exit_blocking();
    rounds++;
  }
  collector_loop_stop(ct);
  sgc_collect();
  long n = 0;
  for (int i = 0; i < KEEP; i++) {
    uint64_t *o = keep[i];
    if (o == NULL)
      continue;
    CHECKF(o[1] == ~o[0], "kept object %p lost (%llx %llx)", (void *)o,
           (unsigned long long)o[0], (unsigned long long)o[1]);
    n++;
  }
  long len = 0;
  for (void **b = ballast; b; b = b[0])
    len++;
  CHECK(len == 200000);
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%ld rounds of %d threads, %llu concurrent collections, %ld kept "
         "objects intact\n", rounds, BATCH,
         (unsigned long long)st.num_concurrent_gc, n);
  CHECK(st.num_concurrent_gc > 0);
  return 0;
}
