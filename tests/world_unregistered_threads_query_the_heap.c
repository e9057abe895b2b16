// labels: gc threads
// env: SPANGC_GOGC=1
/* Threads that never registered may ask about heap objects (sgc_size,
 * sgc_base, sgc_kind_of, sgc_is_uncollectable, sgc_realloc's lookup).
 * Such a call may sweep the object's span; a collection must not start
 * while one is under way (it would find the span half swept and abort
 * with "unswept span", or sweep it twice).  Unregistered threads query
 * rooted objects in a loop while registered threads allocate hard enough
 * for a collection every few milliseconds; every answer must be right and
 * the process must not abort. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

enum { NOBJ = 4096, NQUERY = 6 };
static void *objs[NOBJ];
static size_t sizes[NOBJ];
static atomic_int stop;
static atomic_long queries;

static void *query_main(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
  while (!atomic_load(&stop)) {
    seed = seed * 1103515245u + 12345u;
    int i = (int)(seed % NOBJ);
    char *p = objs[i];
    size_t n = sgc_size(p);
    CHECKF(n == sizes[i], "sgc_size(%p) = %zu, want %zu", (void *)p, n,
           sizes[i]);
    CHECK(sgc_base(p + n / 2) == p);
    CHECK(sgc_kind_of(p) == SGC_KIND_SCAN);
    CHECK(sgc_is_uncollectable(p) == 0);
    atomic_fetch_add(&queries, 1);
  }
  return NULL;
}

static void *alloc_main(void *arg) {
  while (!atomic_load(&stop)) {
    for (int k = 0; k < 1000; k++) {
      void *volatile junk = sgc_alloc(16 + (size_t)(k % 64) * 16);
      (void)junk;
    }
  }
  return NULL;
}

int main(void) {
  sgc_init();
  sgc_add_roots(objs, objs + NOBJ);
  for (int i = 0; i < NOBJ; i++) {
    objs[i] = sgc_alloc(16 + (size_t)(i % 128) * 16);
    CHECK(objs[i] != NULL);
    sizes[i] = sgc_size(objs[i]);
  }
  pthread_t q[NQUERY], a;
  for (int i = 0; i < NQUERY; i++)
    CHECK(pthread_create(&q[i], NULL, query_main, (void *)(uintptr_t)(i + 1)) == 0);
  CHECK(sgc_pthread_create(&a, NULL, alloc_main, NULL) == 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  double secs = 6.0 * test_scale();
  if (secs < 1.5)
    secs = 1.5;
  /* For secs, and until more than 10 collections ran (a loaded machine
   * runs fewer in the time; 120 s is the limit). */
  double elapsed;
  sgc_stats now;
  do {
    for (int k = 0; k < 1000; k++) {
      void *volatile junk = sgc_alloc(32 + (size_t)(k % 32) * 32);
      (void)junk;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    elapsed = (double)(t1.tv_sec - t0.tv_sec) +
              (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    sgc_read_stats(&now);
  } while (elapsed < secs || (now.num_gc <= 10 && elapsed < 120));
  atomic_store(&stop, 1);
  for (int i = 0; i < NQUERY; i++)
    pthread_join(q[i], NULL);
  sgc_enter_blocking();
  pthread_join(a, NULL);
  sgc_exit_blocking();
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%ld queries from unregistered threads over %llu collections\n",
         atomic_load(&queries), (unsigned long long)st.num_gc);
  CHECK(st.num_gc > 10);
  return 0;
}
