/* GC_remove_roots removes the ranges wholly inside [lo, hi) and leaves
 * the others alone: an object held only by a range A that stays stays
 * alive while a range B overlapping A is added and removed again and
 * again, with another thread collecting all the while.  (The ranges are
 * in malloc'ed memory, which is not scanned otherwise.) */
// labels: bdwgc threads
#include <gc.h>
#include <pthread.h>
#include <time.h>
#include "bdwgc_check.h"

#define WORDS 128
#define SIZE 96
static int stop; /* atomic */

static void *collector(void *arg) {
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    void *volatile g = GC_MALLOC(SIZE); /* something to free */
    (void)g;
    GC_gcollect();
  }
  return NULL;
}

GC_hidden_pointer link_slot;

static NOINLINE void put_object(void **buf) {
  void *p = GC_MALLOC(SIZE);
  CHECK(p != NULL, "allocation");
  fill_pattern(p, SIZE, 7);
  buf[WORDS / 4 + 1] = p; /* only range A holds it, where B overlaps */
  watch(&link_slot, p);
}

int main(void) {
  GC_INIT();
  void **buf = calloc(WORDS, sizeof(void *));
  CHECK(buf != NULL, "calloc");
  GC_add_roots(buf, buf + WORDS / 2);              /* A */
  put_object(buf);
  clear_stack();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, collector, NULL) == 0, "pthread_create");
  time_t end = time(NULL) + 3;
  for (long i = 0; time(NULL) < end; i++) {
    GC_add_roots(buf + WORDS / 4, buf + WORDS);    /* B, overlapping A */
    GC_remove_roots(buf + WORDS / 4, buf + WORDS); /* B only */
    CHECK(link_slot != 0 && check_pattern(buf[WORDS / 4 + 1], SIZE, 7) < 0,
          "iteration %ld: the object held by the remaining range was "
          "collected", i);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  pthread_join(t, NULL);
  GC_gcollect();
  CHECK(link_slot != 0 && check_pattern(buf[WORDS / 4 + 1], SIZE, 7) < 0,
        "the object held by the remaining range was collected");
  PASS("bdwgc_remove_roots_keeps_overlapping_ranges");
}
