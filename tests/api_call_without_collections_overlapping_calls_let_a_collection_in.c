// labels: api threads
// timeout: 120
/* Calls of sgc_call_without_collections that overlap on several threads
 * do not keep a collection out for as long as they go on: once a
 * collection waits, new calls wait for it.  Before, the lock they share
 * preferred readers: with two threads each running fn (allocating for
 * 1 ms) back to back, a collection never started (session 23's review:
 * no collection in 3 s while the heap grew to 3.5 GiB of garbage; with
 * SPANGC_MAX_HEAP allocations failed with only garbage in the heap).
 * Here two threads call in a loop until the collection asked for by the
 * main thread has run, or 20 s passed; the test fails in the second case.
 * Nested calls on one thread still work while a collection waits. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "spangc-int.h"

static int stop;    /* atomic */
static int entered; /* atomic: calls made */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *nested(void *arg) {
  void *volatile p = sgc_alloc(64);
  (void)p;
  return arg;
}

static void *allocate_for_a_while(void *arg) {
  ATOMIC_ADD(&entered, 1);
  uint64_t end = now_ns() + 1000000; /* 1 ms */
  while (now_ns() < end) {
    void *volatile p = sgc_alloc(256);
    (void)p;
  }
  /* A nested call, possibly while a collection waits. */
  CHECK(sgc_call_without_collections(nested, arg) == arg);
  return arg;
}

static void *caller(void *arg) {
  while (!ATOMIC_LOAD(&stop))
    CHECK(sgc_call_without_collections(allocate_for_a_while, arg) == arg);
  return NULL;
}

static uint64_t deadline;
static int late; /* atomic: the watchdog stopped the callers */

/* Stops the callers at the deadline, so that a collection they kept out
 * gets in and the test ends (failing). */
static void *watchdog(void *arg) {
  while (!ATOMIC_LOAD(&stop)) {
    if (now_ns() >= deadline) {
      ATOMIC_STORE(&late, 1);
      ATOMIC_STORE(&stop, 1);
      break;
    }
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  return arg;
}

int main(void) {
  sgc_init();
  pthread_t t[2], w;
  for (int i = 0; i < 2; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, caller, NULL) == 0);
  while (ATOMIC_LOAD(&entered) < 4)
    sched_yield();
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t before = st.num_gc;
  uint64_t t0 = now_ns();
  deadline = t0 + 20ull * 1000000000u;
  CHECK(pthread_create(&w, NULL, watchdog, NULL) == 0);
  sgc_collect();
  uint64_t took = now_ns() - t0;
  int was_late = ATOMIC_LOAD(&late);
  ATOMIC_STORE(&stop, 1);
  for (int i = 0; i < 2; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
  CHECK(pthread_join(w, NULL) == 0);
  sgc_read_stats(&st);
  CHECK(st.num_gc > before);
  CHECKF(!was_late, "the collection waited %.1f s, until the overlapping "
         "calls stopped", took / 1e9);
  printf("a collection got in after %.1f ms beside %d overlapping calls\n",
         took / 1e6, ATOMIC_LOAD(&entered));
  return 0;
}
