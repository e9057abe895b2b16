// labels: gc threads
// env: SPANGC_SUSPEND_SIGNAL=SIGUSR2 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* SPANGC_SUSPEND_SIGNAL moves the collector to another signal, and the
 * old one is the program's again:
 *   - with SIGUSR2 chosen, a registered thread that blocks SIGPWR (even
 *     with a raw system call) does not hold up collections while another
 *     thread allocates, and the program's SIGPWR handler is installed as
 *     is;
 *   - the unstoppable-thread warning names the signal in use;
 *   - sgc_get_suspend_signal reports it; sgc_set_suspend_signal refuses
 *     signals that cannot stop threads (EINVAL) and changes after start
 *     (EBUSY);
 *   - a bad SPANGC_SUSPEND_SIGNAL stops the program at start, saying why;
 *     names, numbers and SIGRTMIN+n are understood. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "stoplatency.h"

static atomic_int ready, done;

static void *raw_blocker(void *arg) {
  int sig = (int)(intptr_t)arg;
  void *volatile mine = sgc_alloc(64); /* registered now */
  (void)mine;
  uint64_t set = (uint64_t)1 << (sig - 1), oldset = 0;
  CHECK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oldset, 8) == 0);
  atomic_store(&ready, 1);
  spin_for(sig == SIGPWR ? 1.5 : 0.5);
  atomic_store(&done, 1);
  CHECK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &oldset, NULL, 8) == 0);
  return NULL;
}

static volatile sig_atomic_t pwr_seen;
static void on_pwr(int sig) { pwr_seen = 1; }

/* Child: a thread blocks the suspend signal with a raw system call. */
static int unstoppable_child(void) {
  sgc_init();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, raw_blocker,
                       (void *)(intptr_t)sgc_get_suspend_signal()) == 0);
  while (!atomic_load(&ready))
    sched_yield();
  sgc_collect();
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  return 0;
}

/* Child: prints the signal spangc picked from the environment. */
static int report_child(void) {
  sgc_init();
  fprintf(stderr, "suspend signal %d\n", sgc_get_suspend_signal());
  return 0;
}

static void env_case(const char *value, const char *expect) {
  char out[4096];
  setenv("SPANGC_SUSPEND_SIGNAL", value, 1);
  int st = run_self("self", "report", out, sizeof out);
  CHECKF(strstr(out, expect) != NULL,
         "SPANGC_SUSPEND_SIGNAL=%s: status %d, stderr: %s (expected '%s')",
         value, st, out, expect);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "unstoppable") == 0)
    return unstoppable_child();
  if (argc > 1)
    return report_child();
  sgc_init();
  sgc_collect();
  CHECKF(sgc_get_suspend_signal() == SIGUSR2, "suspend signal %d",
         sgc_get_suspend_signal());

  /* SIGPWR is the program's: its handler is installed, and blocking it
   * does not keep the thread from stopping. */
  struct sigaction sa, got;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_pwr;
  CHECK(sigaction(SIGPWR, &sa, NULL) == 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, raw_blocker, (void *)(intptr_t)SIGPWR) == 0);
  while (!atomic_load(&ready))
    sched_yield();
  check_allocations_not_held_up(0.4, "SIGPWR blocked, SIGUSR2 in use",
                                &done);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  if (!TEST_TSAN) { /* TSan installs its own wrapper in the kernel */
    CHECK(syscall(SYS_rt_sigaction, SIGPWR, NULL, &got, 8) == 0);
    CHECKF(got.sa_handler == on_pwr, "the program's SIGPWR handler is not "
           "the one installed in the kernel");
  }
  CHECK(sigaction(SIGPWR, NULL, &got) == 0 && got.sa_handler == on_pwr);
  raise(SIGPWR);
  CHECK(pwr_seen);

  CHECK(sgc_set_suspend_signal(SIGUSR2) == 0);
  CHECK(sgc_set_suspend_signal(SIGUSR1) == EBUSY);
  int bad[] = {0, -1, 65, 1000, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE,
               SIGILL, SIGABRT, 32, 33};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECKF(sgc_set_suspend_signal(bad[i]) == EINVAL,
           "sgc_set_suspend_signal(%d) accepted", bad[i]);
  CHECK(sgc_get_suspend_signal() == SIGUSR2);

  char expect[64];
#if !TEST_TSAN /* the raw mask holds the signal back for ever there */
  char out[4096];
  int st = run_self(argv[0], "unstoppable", out, sizeof out);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d: %s", st,
         out);
  CHECKF(strstr(out, "has not stopped after 100 ms") != NULL &&
             strstr(out, "blocks the suspend signal (SIGUSR2)") != NULL,
         "no warning naming the thread and SIGUSR2; stderr: %s", out);
#endif
  env_case("SIGKILL", "SPANGC_SUSPEND_SIGNAL=SIGKILL: signal 9 cannot stop "
                      "threads: it cannot be caught");
  env_case("SEGV", "it reports faults");
  env_case("33", "the C library keeps it for itself");
  env_case("SIGBOGUS", "SPANGC_SUSPEND_SIGNAL=SIGBOGUS: not a signal");
  env_case("12x", "not a signal");
  env_case("99", "not a signal number");
  snprintf(expect, sizeof expect, "suspend signal %d", SIGRTMIN + 3);
  env_case("SIGRTMIN+3", expect);
  snprintf(expect, sizeof expect, "suspend signal %d", SIGRTMAX - 1);
  env_case("RTMAX-1", expect);
  env_case("10", "suspend signal 10");
  env_case("XCPU", "suspend signal 24");
  return 0;
}
