// labels: gc threads
/* Threads that wait for signals — the usual server design: every thread
 * blocks all signals and one waits for them with sigwait, sigwaitinfo,
 * sigtimedwait, or sigsuspend — do not hold up collections while another
 * thread allocates, are never handed the collector's signal (sigwait on a
 * full set would take it for the program's), and wake for the program's
 * own signal as before. */
#include <pthread.h>

#include "stoplatency.h"

enum { BY_SIGWAIT, BY_SIGWAITINFO, BY_SIGTIMEDWAIT, BY_SIGSUSPEND };
static const char *names[] = {"sigwait", "sigwaitinfo", "sigtimedwait",
                              "sigsuspend"};

static atomic_int ready, got, stray;
static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) { usr1_seen = 1; }

static void *waiter(void *arg) {
  int how = (int)(intptr_t)arg;
  void *volatile mine = sgc_alloc(64); /* registered now */
  (void)mine;
  sigset_t all;
  sigfillset(&all);
  CHECK(pthread_sigmask(SIG_SETMASK, &all, NULL) == 0);
  sigset_t wait_for = all; /* a full set: SIGUSR1 among everything */
  atomic_store(&ready, 1);
  for (;;) {
    int sig = 0;
    siginfo_t si;
    if (how == BY_SIGWAIT) {
      CHECK(sigwait(&wait_for, &sig) == 0);
    } else if (how == BY_SIGWAITINFO) {
      sig = sigwaitinfo(&wait_for, &si);
    } else if (how == BY_SIGTIMEDWAIT) {
      struct timespec ts = {30, 0};
      sig = sigtimedwait(&wait_for, &si, &ts);
    } else {
      sigset_t only_usr1 = all;
      sigdelset(&only_usr1, SIGUSR1);
      usr1_seen = 0;
      int r = sigsuspend(&only_usr1);
      CHECK(r == -1 && errno == EINTR);
      sig = usr1_seen ? SIGUSR1 : -2;
    }
    if (sig == SIGUSR1)
      break;
    /* Anything else is a stray wake-up: EINTR, or a signal we did not
     * send (the collector's). */
    printf("%s returned %d (errno %d)\n", names[how], sig, errno);
    atomic_fetch_add(&stray, 1);
  }
  atomic_store(&got, 1);
  return NULL;
}

static void run_case(int how) {
  atomic_store(&ready, 0);
  atomic_store(&got, 0);
  atomic_store(&stray, 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, waiter, (void *)(intptr_t)how) == 0);
  while (!atomic_load(&ready))
    sched_yield();
  check_allocations_not_held_up(0.5, names[how], &got);
  CHECK(pthread_kill(t, SIGUSR1) == 0);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  CHECK(atomic_load(&got));
  CHECKF(atomic_load(&stray) == 0, "%s woke %d times for signals the "
         "program did not send", names[how], atomic_load(&stray));
}

int main(int argc, char **argv) {
  sgc_init();
  sgc_collect();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  /* The main thread blocks SIGUSR1 so that it goes to the waiter. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  CHECK(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0);
  int only = argc > 1 ? atoi(argv[1]) : -1;
  for (int how = BY_SIGWAIT; how <= BY_SIGSUSPEND; how++)
    if (only < 0 || only == how)
      run_case(how);
  return 0;
}
