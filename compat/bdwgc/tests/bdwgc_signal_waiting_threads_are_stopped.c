/* Threads that block every signal and wait for them — with sigwait on a
 * full set, or by reading a signalfd made for one — do not hold up the
 * collections of a thread that allocates, are never handed the
 * collector's signal, and get the program's own signal as before. */
// labels: bdwgc threads
// stock-fails: with the suspend signal blocked and waited for, bdwgc's stop never reaches the thread (sigwait takes the signal as the program's)
#define GC_NO_PTHREAD_SIGMASK 1 /* the program's own pthread_sigmask */
#include <gc.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include "bdwgc_check.h"
#include "bdwgc_stoplatency.h"

int ready, got, stray;

static void block_all_but_alarm(sigset_t *set) {
  sigfillset(set);
  sigdelset(set, SIGALRM); /* the watchdog */
  pthread_sigmask(SIG_SETMASK, set, NULL);
}

static void *sigwaiter(void *arg) {
  void *volatile mine = GC_MALLOC(64);
  KEEP(mine);
  sigset_t set;
  block_all_but_alarm(&set);
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) == 0 && sig == SIGUSR1) break;
    fprintf(stderr, "sigwait returned signal %d\n", sig);
    __atomic_fetch_add(&stray, 1, __ATOMIC_SEQ_CST);
  }
  __atomic_store_n(&got, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *fdreader(void *arg) {
  void *volatile mine = GC_MALLOC(64);
  KEEP(mine);
  sigset_t set;
  block_all_but_alarm(&set);
  int fd = signalfd(-1, &set, SFD_CLOEXEC);
  if (fd < 0) {
    __atomic_fetch_add(&stray, 1000, __ATOMIC_SEQ_CST);
    return NULL;
  }
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n == (ssize_t)sizeof si && si.ssi_signo == SIGUSR1) break;
    if (n < 0 && errno == EINTR) continue;
    fprintf(stderr, "signalfd read %zd: signal %u\n", n, si.ssi_signo);
    __atomic_fetch_add(&stray, 1, __ATOMIC_SEQ_CST);
  }
  close(fd);
  __atomic_store_n(&got, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void run_case(void *(*fn)(void *), const char *what) {
  ready = got = stray = 0;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fn, NULL) == 0, "pthread_create");
  while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST)) sched_yield();
  check_allocations_not_held_up(0.5, what, &got);
  CHECK(pthread_kill(t, SIGUSR1) == 0, "pthread_kill");
  CHECK(pthread_join(t, NULL) == 0, "pthread_join");
  CHECK(got && stray == 0, "%s: got %d, %d stray signals", what, got, stray);
}

int main(void) {
  GC_INIT();
  GC_gcollect();
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* SIGUSR1 is the waiter's */
  run_case(sigwaiter, "a sigwait thread");
#ifndef STOP_TSAN /* TSan runs the stop's handler only at the thread's
                    * next intercepted call; read blocks until then */
  run_case(fdreader, "a signalfd thread");
#endif
  PASS("bdwgc_signal_waiting_threads_are_stopped");
}
