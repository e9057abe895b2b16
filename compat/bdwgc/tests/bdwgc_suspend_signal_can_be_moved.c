/* GC_SIG_SUSPEND (GC_set_suspend_signal before GC_init) moves the
 * collector to another signal: GC_get_suspend_signal reports it, and the
 * old one, SIGPWR, is the program's: a thread blocking it (with a raw
 * system call, which nothing can see) does not hold up collections, and
 * the program's handler for it is the one installed. */
// labels: bdwgc threads
#define GC_SIG_SUSPEND SIGUSR2
#define GC_SIG_THR_RESTART SIGXCPU
#include <gc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include "bdwgc_check.h"
#include "bdwgc_stoplatency.h"

int ready, done;
static volatile sig_atomic_t pwr_seen;
static void on_pwr(int sig) { pwr_seen = 1; }

static void *raw_blocker(void *arg) {
  void *volatile mine = GC_MALLOC(64);
  KEEP(mine);
  unsigned long set = 1ul << (SIGPWR - 1), old = 0;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8);
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  spin_for(1.5);
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
  return NULL;
}

int main(void) {
  GC_INIT();
  CHECK(GC_get_suspend_signal() == SIGUSR2, "GC_get_suspend_signal() = %d",
        GC_get_suspend_signal());
  struct sigaction sa, got;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_pwr;
  CHECK(sigaction(SIGPWR, &sa, NULL) == 0, "sigaction");
  pthread_t t;
  CHECK(pthread_create(&t, NULL, raw_blocker, NULL) == 0, "pthread_create");
  while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST)) sched_yield();
  check_allocations_not_held_up(0.4, "SIGPWR blocked, SIGUSR2 in use", &done);
  CHECK(pthread_join(t, NULL) == 0, "pthread_join");
#ifndef STOP_SANITIZED /* a sanitizer puts its own wrapper there */
  CHECK(syscall(SYS_rt_sigaction, SIGPWR, NULL, &got, 8) == 0 &&
            got.sa_handler == on_pwr,
        "the program's SIGPWR handler is not the one in the kernel");
#endif
  CHECK(sigaction(SIGPWR, NULL, &got) == 0 && got.sa_handler == on_pwr,
        "sigaction does not report the program's SIGPWR handler");
  raise(SIGPWR);
  CHECK(pwr_seen, "the SIGPWR handler did not run");
  PASS("bdwgc_suspend_signal_can_be_moved");
}
