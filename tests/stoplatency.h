/* stoplatency.h — for the tests of threads that fight the suspend signal:
 * one thread does something with signals while this one allocates,
 * timing every allocation.  A thread the stop cannot reach delays the
 * allocations that start a collection for as long as it keeps away (old
 * code: for ever), so the tests assert the worst allocation stays under
 * STOP_LIMIT_MS; a watchdog ends a test whose stop never completes. */
#ifndef SPANGC_TEST_STOPLATENCY_H
#define SPANGC_TEST_STOPLATENCY_H
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

/* 100 ms natively; sanitizers slow every collection down. */
#define STOP_LIMIT_MS (TEST_TSAN || TEST_ASAN ? 600.0 : 100.0)
/* A window whose worst allocation is below this may be a loaded machine's
 * blip; the threads here keep the stop away for 1.5 s or for ever. */
#define STOP_BLIP_MS 1000.0

static inline double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Computes for secs without calling into the runtime or the C library's
 * signal calls (clock_gettime is a vDSO call). */
static inline uint64_t spin_for(double secs) {
  volatile uint64_t x = 1;
  double end = now_s() + secs;
  while (now_s() < end)
    for (int i = 0; i < 10000; i++)
      x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

static const char *watchdog_what = "";
static void watchdog_fired(int sig) {
  static const char msg[] = "watchdog: a stop never completed: ";
  ssize_t w = write(2, msg, sizeof msg - 1);
  w = write(2, watchdog_what, strlen(watchdog_what));
  w = write(2, "\n", 1);
  (void)w;
  _exit(1);
}

/* The process fails after secs unless watchdog_off comes first. */
static inline void watchdog_on(int secs, const char *what) {
  watchdog_what = what;
  signal(SIGALRM, watchdog_fired);
  alarm((unsigned)secs);
}
static inline void watchdog_off(void) { alarm(0); }

/* Allocate garbage (and keep a little) on the calling thread for secs,
 * timing each allocation; the worst in ms, and how many collections ran
 * meanwhile. */
static inline double allocation_window(double secs, const char *what,
                                       uint64_t *collections) {
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t gc0 = st.num_gc;
  void *volatile keep[64];
  double worst = 0, end = now_s() + secs;
  long n = 0;
  watchdog_on(30, what);
  while (now_s() < end) {
    double t0 = now_s();
    void *p = sgc_alloc(1024);
    double d = now_s() - t0;
    CHECK(p != NULL);
    keep[n++ % 64] = p;
    if (d > worst)
      worst = d;
  }
  watchdog_off();
  CHECK(keep[0] != NULL);
  sgc_read_stats(&st);
  printf("%s: %ld allocations, %llu collections, worst %.1f ms\n", what, n,
         (unsigned long long)(st.num_gc - gc0), worst * 1e3);
  *collections = st.num_gc - gc0;
  return worst * 1e3;
}

/* No allocation waits STOP_LIMIT_MS or more while the other thread does
 * what it does (it sets *done before it stops fighting the signal).  This
 * machine may be shared: a window whose worst allocation was over the
 * limit but under STOP_BLIP_MS while the other thread was still at it is
 * tried again, twice at most.  A thread the
 * stop cannot reach fails every window: the stop waits until the thread
 * is done (so that window is final), or for ever (the watchdog). */
static inline void check_allocations_not_held_up(double secs,
                                                 const char *what,
                                                 atomic_int *done) {
  for (int attempt = 1;; attempt++) {
    uint64_t n;
    double worst = allocation_window(secs, what, &n);
    if (worst < STOP_LIMIT_MS) {
      CHECKF(n >= (TEST_TSAN || TEST_ASAN ? 1 : 2),
             "%s: only %llu collections ran", what,
             (unsigned long long)n);
      return;
    }
    CHECKF(attempt < 3 && worst < STOP_BLIP_MS && !atomic_load(done),
           "%s: an allocation waited %.0f ms for a stop", what, worst);
    printf("%s: over %.0f ms while the other thread was still busy; "
           "again (a loaded machine?)\n", what, STOP_LIMIT_MS);
  }
}
#endif
