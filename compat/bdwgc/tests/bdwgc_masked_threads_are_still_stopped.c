/* A registered thread that blocks every signal — with pthread_sigmask
 * (the C library's, not GC_pthread_sigmask), with sigprocmask, or by
 * running a handler whose sa_mask holds every signal — and then computes
 * without calling the collector does not hold up the collections of a
 * thread that allocates; its mask still blocks every other signal. */
// labels: bdwgc threads
// stock-fails: bdwgc cannot stop a thread that blocks its suspend signal without GC_pthread_sigmask: each collection waits until the thread unblocks it (1.5 s)
#define GC_NO_PTHREAD_SIGMASK 1 /* the program's own pthread_sigmask */
#include <gc.h>
#include <pthread.h>
#include <signal.h>
#include "bdwgc_check.h"
#include "bdwgc_stoplatency.h"

#define SPIN 1.5

int ready, done;
const char *mask_wrong;

static void check_mask(void) {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, NULL, &now);
  if (!sigismember(&now, SIGUSR1) || !sigismember(&now, SIGTERM))
    mask_wrong = "did not block the other signals";
  if (sigismember(&now, GC_get_suspend_signal()))
    mask_wrong = "blocked the suspend signal";
}

static void *with_pthread_sigmask(void *arg) {
  void *volatile mine = GC_MALLOC(64);
  KEEP(mine);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  check_mask();
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  spin_for(SPIN);
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return NULL;
}

static void *with_sigprocmask(void *arg) {
  void *volatile mine = GC_MALLOC(64);
  KEEP(mine);
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  check_mask();
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  spin_for(SPIN);
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return NULL;
}

static void spinning_handler(int sig) {
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  spin_for(SPIN);
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
}

static void *in_masking_handler(void *arg) {
  void *volatile mine = GC_MALLOC(64);
  KEEP(mine);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = spinning_handler;
  sigfillset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, &old);
  pthread_kill(pthread_self(), SIGUSR1);
  sigaction(SIGUSR1, &old, NULL);
  return NULL;
}

static void run_case(void *(*fn)(void *), const char *what) {
  ready = done = 0;
  mask_wrong = NULL;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fn, NULL) == 0, "pthread_create");
  while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST)) sched_yield();
  check_allocations_not_held_up(0.4, what, &done);
  CHECK(pthread_join(t, NULL) == 0, "pthread_join");
  CHECK(mask_wrong == NULL, "%s %s", what, mask_wrong);
}

int main(void) {
  GC_INIT();
  GC_gcollect();
  run_case(with_pthread_sigmask, "pthread_sigmask(SIG_SETMASK, all)");
  run_case(with_sigprocmask, "sigprocmask(SIG_BLOCK, all)");
#ifndef STOP_TSAN /* TSan runs the stop's handler only after this one */
  run_case(in_masking_handler, "a handler with a full sa_mask");
#endif
  PASS("bdwgc_masked_threads_are_still_stopped");
}
