/* bdwgc_stoplatency.h — for the tests of threads that fight the suspend
 * signal, through the bdwgc API only (they build against stock libgc
 * too): the main thread allocates while another thread does something
 * with signals, timing every GC_MALLOC.  A thread the stop cannot reach
 * delays the allocation that starts a collection for as long as it keeps
 * away (stock bdwgc: for ever, or until it unblocks the signal); a
 * watchdog ends a test whose stop never completes. */
#ifndef BDWGC_STOPLATENCY_H
#define BDWGC_STOPLATENCY_H
#include <signal.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define STOP_SANITIZED 1
#endif
#endif
#if !defined(STOP_SANITIZED) && \
    (defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__))
#define STOP_SANITIZED 1
#endif
#ifdef STOP_SANITIZED
#define STOP_LIMIT_MS 600.0
#define STOP_MIN_COLLECTIONS 1
#else
#define STOP_LIMIT_MS 100.0
#define STOP_MIN_COLLECTIONS 2
#endif
/* ThreadSanitizer runs a signal's handler late, at the thread's next
 * intercepted call, and a program's handler for the suspend signal
 * reaches its table before spangc's sigaction: some cases cannot pass
 * there (see each test). */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STOP_TSAN 1
#endif
#endif
#if !defined(STOP_TSAN) && defined(__SANITIZE_THREAD__)
#define STOP_TSAN 1
#endif
/* A window whose worst allocation is below this may be a loaded machine's
 * blip; the threads here keep the stop away for 1.5 s or for ever. */
#define STOP_BLIP_MS 1000.0

static inline double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Computes for secs without calling the collector or a signal call. */
static inline unsigned long spin_for(double secs) {
  volatile unsigned long x = 1;
  double end = now_s() + secs;
  while (now_s() < end)
    for (int i = 0; i < 10000; i++)
      x = x * 6364136223846793005ul + 1442695040888963407ul;
  return x;
}

static const char *watchdog_what = "";
static void watchdog_fired(int sig) {
  static const char msg[] = "FAIL watchdog: a stop never completed: ";
  ssize_t w = write(2, msg, sizeof msg - 1);
  w = write(2, watchdog_what, strlen(watchdog_what));
  w = write(2, "\n", 1);
  (void)w;
  _exit(1);
}

/* Allocate for secs, timing each allocation; the worst in ms and the
 * number of collections meanwhile. */
static inline double allocation_window(double secs, const char *what,
                                       unsigned long *collections) {
  watchdog_what = what;
  signal(SIGALRM, watchdog_fired);
  alarm(30);
  GC_word gc0 = GC_get_gc_no();
  void *volatile keep[64];
  double worst = 0, end = now_s() + secs;
  long n = 0;
  while (now_s() < end) {
    double t0 = now_s();
    void *p = GC_MALLOC(1024);
    double d = now_s() - t0;
    CHECK(p != NULL, "GC_MALLOC");
    keep[n++ % 64] = p;
    if (d > worst) worst = d;
  }
  alarm(0);
  KEEP(keep[0]);
  *collections = (unsigned long)(GC_get_gc_no() - gc0);
  printf("%s: %ld allocations, %lu collections, worst %.1f ms\n", what, n,
         *collections, worst * 1e3);
  return worst * 1e3;
}

/* No allocation waits STOP_LIMIT_MS or more while the other thread is
 * busy (*done still 0: the thread sets it before it stops fighting the
 * signal).  A window over the limit, but under STOP_BLIP_MS, while it
 * still is gets another try, twice at most: the machine may be shared.  A thread the
 * stop cannot reach fails every window (its stop waits until the thread
 * is done, which makes the window final, or for ever: the watchdog). */
static inline void check_allocations_not_held_up(double secs,
                                                 const char *what,
                                                 int *done) {
  for (int attempt = 1;; attempt++) {
    unsigned long n;
    double worst = allocation_window(secs, what, &n);
    if (worst < STOP_LIMIT_MS) {
      CHECK(n >= STOP_MIN_COLLECTIONS, "%s: only %lu collections ran", what,
            n);
      return;
    }
    CHECK(attempt < 3 && worst < STOP_BLIP_MS &&
              !__atomic_load_n(done, __ATOMIC_SEQ_CST),
          "%s: an allocation waited %.0f ms for a stop", what, worst);
    printf("%s: over the limit while the other thread was still busy; "
           "again\n", what);
  }
}
#endif
