// labels: heap threads
/* The count of released pages is read without mheap.lock after every
 * collection (memlimit.c: what the heap holds) and by sgc_read_stats,
 * while allocating threads reuse released pages under the lock: the
 * counter is written atomically, so ThreadSanitizer sees no race (it
 * reported one after every collection). */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static atomic_int stop;

static void *collector(void *arg) {
  (void)arg;
  while (!atomic_load(&stop))
    sgc_collect();
  return NULL;
}

static void *reader(void *arg) {
  (void)arg;
  sgc_stats st;
  while (!atomic_load(&stop)) {
    sgc_read_stats(&st);
    CHECKF(st.memory_held_bytes > 0 && st.memory_held_bytes < ((uint64_t)1 << 40),
           "held %llu bytes", (unsigned long long)st.memory_held_bytes);
  }
  return NULL;
}

int main(void) {
  sgc_init();
  pthread_t c, r;
  CHECK(sgc_pthread_create(&c, NULL, collector, NULL) == 0);
  CHECK(sgc_pthread_create(&r, NULL, reader, NULL) == 0);
  long n = scaled(1500);
  for (long i = 0; i < n; i++) {
    /* Large spans: freed by the collections, released, reused. */
    void *volatile p = sgc_alloc(1 << 20);
    CHECK(p != NULL);
    if (i % 100 == 0)
      sgc_release_memory();
  }
  atomic_store(&stop, 1);
  sgc_enter_blocking();
  pthread_join(c, NULL);
  pthread_join(r, NULL);
  sgc_exit_blocking();
  printf("%ld large objects while collections and statistics ran\n", n);
  return 0;
}
