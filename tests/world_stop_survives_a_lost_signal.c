// labels: world
/* A stop's signal can be lost on its way to the handler: here a thread
 * holds the suspend signal back with a raw rt_sigprocmask (no interposer
 * sees it), takes the pending signal with a raw rt_sigtimedwait, so no
 * handler ever runs for it, and lets the signal in again.  The stop must
 * still end: it signals again each thread that has not answered after a
 * 20 ms slice.
 * Catches: world.c signalling each thread once per stop.  Under
 * ThreadSanitizer a thread just started lost its stop's signal (1 run in
 * 200 of conc_stop_waits_for_a_stats_reader_not_parked_holding_its_lock),
 * and the stop waited for ever; here, before the fix, the collection
 * never ended and the watchdog failed the test. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static atomic_int ready, taken, done, collected;

static void *eater(void *arg) {
  (void)arg;
  void *volatile mine = sgc_alloc(64);
  (void)mine;
  uint64_t set = (uint64_t)1 << (sgc_suspend_sig - 1), old = 0;
  CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8) == 0);
  atomic_store(&ready, 1);
  struct timespec ts = {10, 0};
  siginfo_t si;
  long r = syscall(SYS_rt_sigtimedwait, &set, &si, &ts, 8);
  atomic_store(&taken, r == sgc_suspend_sig);
  CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8) == 0);
  /* Running, outside the runtime: only a signal can stop it now. */
  while (!atomic_load(&done)) {
    struct timespec nap = {0, 1000000};
    nanosleep(&nap, NULL);
  }
  return NULL;
}

/* Not registered: never stopped. */
static void *watchdog(void *arg) {
  (void)arg;
  for (int i = 0; i < 300; i++) {
    if (atomic_load(&collected))
      return NULL;
    struct timespec nap = {0, 100000000};
    nanosleep(&nap, NULL);
  }
  fprintf(stderr, "CHECK failed: the collection has not ended after 30 s: "
                  "its stop waits for a thread whose signal was lost\n");
  _exit(1);
}

int main(void) {
  sgc_init();
  pthread_t w, t;
  CHECK(pthread_create(&w, NULL, watchdog, NULL) == 0);
  CHECK(sgc_pthread_create(&t, NULL, eater, NULL) == 0);
  while (!atomic_load(&ready))
    sched_yield();
  double t0 = now_seconds();
  sgc_collect();
  double took = now_seconds() - t0;
  atomic_store(&collected, 1);
  atomic_store(&done, 1);
  join_blocking(t);
  pthread_join(w, NULL);
  CHECKF(atomic_load(&taken), "the thread did not take the stop's signal "
                              "(the stop never sent one?)");
  printf("a stop whose first signal was lost ended after %.0f ms\n",
         took * 1e3);
  return 0;
}
