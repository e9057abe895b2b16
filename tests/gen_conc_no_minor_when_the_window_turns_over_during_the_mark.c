// labels: gc threads
/* The age sample (agesample.c) beside a long concurrent mark.  A thread
 * pushes pointer-free messages into a window, each alive for the next
 * WINDOW pushes, with GOGC 150: a minor collection's young room (1.5
 * windows) holds two thirds of its messages alive, so minors never pay,
 * and no minor is retried.  Right after a collection and a sixteenth of
 * a window, the main thread collects (sgc_collect, concurrent) and, its
 * marks cleared and the age sample taken, holds it before its first stop
 * (sgc_test_conc_cleared_hook) until the pusher pushed a window more: the
 * young messages the sample took are dead when the mark starts, as a
 * minor's would not be.  Catches a sample that judges the young by them
 * alone, without what was allocated after it (under ASan, a concurrent
 * major was that slow by itself: gen_conc_no_minor_retries_while_the_
 * young_survive made a minor in one run of 60, every young message
 * alive).  GOGC 150 keeps the held window well below the goal (with
 * GOGC 125, 1.25 windows up, a held phase once in 200 loaded runs never
 * saw its window pushed; with 150, ASan runs still lose one now and then:
 * 6 of 8 must see it).  Skipped without concurrent marking or without
 * generations. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define WINDOW 20000
#define MSG 512
#define ROUNDS 8

static char **win;   /* the window, a root through the global */
static long pushed;  /* atomic: messages pushed so far */
static long allowed; /* atomic: the pusher pushes up to this many */
static int stop;     /* atomic: the pusher stops */
static int held;     /* atomic: phases held until a window turned over */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_a_little(void) {
  struct timespec ts = {0, 20000};
  nanosleep(&ts, NULL);
}

/* Let the pusher push n more, and wait until it did (10 s at most: it
 * may wait at the goal); true if it did. */
static bool push_more(long n) {
  long to = __atomic_add_fetch(&allowed, n, __ATOMIC_RELAXED);
  double end = now_s() + 10.0;
  while (__atomic_load_n(&pushed, __ATOMIC_ACQUIRE) < to) {
    if (now_s() > end)
      return false;
    pause_a_little();
  }
  return true;
}

/* As a concurrent major cleared its marks, before its first stop: the
 * pusher pushes a window and a sixteenth more. */
static void hold_a_window(void) {
  if (push_more(WINDOW + WINDOW / 16))
    __atomic_fetch_add(&held, 1, __ATOMIC_RELAXED);
}

static void *pusher(void *arg) {
  (void)arg;
  for (long i = 0;; i++) {
    while (i >= __atomic_load_n(&allowed, __ATOMIC_RELAXED)) {
      if (__atomic_load_n(&stop, __ATOMIC_RELAXED))
        return NULL;
      pause_a_little();
    }
    char *m = sgc_alloc_noscan(MSG);
    CHECK(m != NULL);
    memset(m, (int)(i & 0xff), MSG);
    win[i % WINDOW] = m;
    __atomic_store_n(&pushed, i + 1, __ATOMIC_RELEASE);
  }
}

static uint64_t collections(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

int main(void) {
  if (!conc_gen_init_or_skip())
    return 0;
  sgc_set_gcpercent(150);
  win = sgc_alloc(sizeof(char *) * WINDOW);
  CHECK(win != NULL);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, pusher, NULL) == 0);
  /* The window full, and a few collections. */
  CHECK(push_more(3 * WINDOW));
  sgc_stats st;
  uint64_t minors = 0;
  for (int r = 0; r < ROUNDS; r++) {
    /* A collection, then a sixteenth of a window (the young messages
     * the sample takes), so that a window more fits below the goal. */
    sgc_collect();
    CHECK(push_more(WINDOW / 16));
    sgc_test_conc_cleared_hook = hold_a_window;
    sgc_collect();
    sgc_test_conc_cleared_hook = NULL;
    sgc_read_stats(&st);
    uint64_t m0 = st.num_minor_gc, n = st.num_gc;
    /* The next two by themselves: the policy's choice after the held
     * one, and after that. */
    while (collections() < n + 2)
      CHECKF(push_more(256), "the pusher is stuck");
    sgc_read_stats(&st);
    minors += st.num_minor_gc - m0;
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  join_blocking(t);
  long total = __atomic_load_n(&pushed, __ATOMIC_ACQUIRE);
  for (long k = 0; k < WINDOW; k++) {
    long j = total - WINDOW + k;
    CHECKF(win[j % WINDOW][MSG - 1] == (char)(j & 0xff),
           "message %ld lost its bytes", j);
  }
  int h = __atomic_load_n(&held, __ATOMIC_RELAXED);
  sgc_read_stats(&st);
  printf("%ld messages, %llu collections (%llu minor, %llu concurrent); "
         "%d of %d phases held a window, %llu minors after them\n",
         total, (unsigned long long)st.num_gc,
         (unsigned long long)st.num_minor_gc,
         (unsigned long long)st.num_concurrent_gc, h, ROUNDS,
         (unsigned long long)minors);
  /* The premise: the held phases saw a window turn over.  One may not:
   * its pusher reached the goal while the collection was held (7 of 8,
   * under ASan, in a fresh-clone CI run with nothing else running, and 1
   * loaded run in 16 before); the others still make the case. */
  CHECKF(h >= ROUNDS - 2, "only %d of %d phases saw a window pushed", h,
         ROUNDS);
  CHECKF(minors == 0, "%llu minor collections while every young message "
         "survived each", (unsigned long long)minors);
  return 0;
}
