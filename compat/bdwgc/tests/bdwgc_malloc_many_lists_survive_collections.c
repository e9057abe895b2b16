/* GC_generic_malloc_many builds its list while collections happen (here
 * forced by a second thread): the list it returns has distinct objects and
 * no cycle, for a pointer-free kind (whose links the collector never
 * scans) and a normal one, while collections go on during the walk. */
// labels: bdwgc threads
#include <gc.h>
#include <gc/gc_inline.h>
#include <pthread.h>
#include <time.h>
#include "bdwgc_check.h"

static int stop; /* atomic */

static void *collector(void *arg) {
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    for (int i = 0; i < 2000; i++) {
      void *volatile g = GC_MALLOC(64);
      (void)g;
    }
    GC_gcollect();
  }
  return NULL;
}

/* Floyd: a list with a cycle never ends; count the nodes otherwise. */
static long list_length(void *head, long limit) {
  void *slow = head, *fast = head;
  long n = 0;
  while (fast) {
    fast = GC_NEXT(fast);
    n++;
    if (!fast)
      break;
    fast = GC_NEXT(fast);
    n++;
    slow = GC_NEXT(slow);
    if (fast && fast == slow)
      return -1;
    if (n > limit)
      return -2;
  }
  return n;
}

int main(void) {
  GC_INIT();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, collector, NULL) == 0, "pthread_create");
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long calls = 0;
  for (;;) {
    for (int kind = 0; kind < 2; kind++) {
      void *list = NULL;
      GC_generic_malloc_many(16, kind == 0 ? GC_I_PTRFREE : GC_I_NORMAL,
                             &list);
      long n = list_length(list, 100000);
      CHECK(n > 0, "call %ld, %s kind: the list %s", calls,
            kind == 0 ? "pointer-free" : "normal",
            n == -1 ? "has a cycle" : n == -2 ? "is too long" : "is empty");
    }
    calls++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 > 4.0 ||
        calls >= 200000)
      break;
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  pthread_join(t, NULL);
  printf("%ld calls, %lu collections\n", calls, (unsigned long)GC_get_gc_no());
  PASS("bdwgc_malloc_many_lists_survive_collections");
}
