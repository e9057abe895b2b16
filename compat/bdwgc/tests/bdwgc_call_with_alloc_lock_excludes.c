/* GC_call_with_alloc_lock(fn, arg) returns fn(arg) and runs fn under the
 * allocation lock: calls from several threads never overlap while others
 * allocate, and fn may use the unsynchronised getters. */
// labels: bdwgc threads
#include <gc.h>
#include <sched.h>
#include "bdwgc_check.h"

#define NTHREADS 3
#define CALLS 1500

long counter;
int inside, overlap;
size_t seen_heap;

static void *GC_CALLBACK locked_increment(void *arg) {
  if (__atomic_fetch_add(&inside, 1, __ATOMIC_SEQ_CST) != 0) overlap++;
  long v = counter;
  if (((uintptr_t)arg & 7) == 0) sched_yield();
  counter = v + 1;
  seen_heap = GC_get_heap_size();
  (void)GC_get_gc_no();
  __atomic_fetch_sub(&inside, 1, __ATOMIC_SEQ_CST);
  return (void *)((uintptr_t)arg + 1);
}

static void *worker(void *arg) {
  for (uintptr_t i = 0; i < CALLS; i++) {
    void *r = GC_call_with_alloc_lock(locked_increment, (void *)i);
    CHECK(r == (void *)(i + 1), "GC_call_with_alloc_lock returned %p, fn "
          "returned %p", r, (void *)(i + 1));
    if (i % 16 == 0) CHECK(GC_malloc(100) != NULL, "allocation");
  }
  return arg;
}

int stop_alloc;
static void *allocator(void *arg) {
  long n = 0;
  while (!__atomic_load_n(&stop_alloc, __ATOMIC_ACQUIRE)) {
    CHECK(GC_malloc(64 + (size_t)(n % 50) * 16) != NULL, "allocation");
    if (++n % 20000 == 0) GC_gcollect();
  }
  return NULL;
}

int main(void) {
  GC_INIT();
  void *r = GC_call_with_alloc_lock(locked_increment, (void *)(uintptr_t)40);
  CHECK(r == (void *)(uintptr_t)41 && counter == 1, "single call");
  counter = 0;
  pthread_t t[NTHREADS], a;
  CHECK(pthread_create(&a, NULL, allocator, NULL) == 0, "pthread_create");
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0, "pthread_create");
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_join(t[i], NULL) == 0, "pthread_join");
  __atomic_store_n(&stop_alloc, 1, __ATOMIC_RELEASE);
  CHECK(pthread_join(a, NULL) == 0, "pthread_join");
  CHECK(overlap == 0, "%d calls ran while another held the lock", overlap);
  CHECK(counter == NTHREADS * CALLS, "counter %ld, expected %d: calls "
        "overlapped", counter, NTHREADS * CALLS);
  CHECK(seen_heap > 0, "GC_get_heap_size() inside the lock returned 0");
  PASS("bdwgc_call_with_alloc_lock_excludes");
}
