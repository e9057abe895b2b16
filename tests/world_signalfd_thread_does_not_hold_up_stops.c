// labels: gc threads
/* A registered thread that blocks every signal and reads them from a
 * signalfd made for the full set (but the test's watchdog) does not hold up collections while
 * another thread allocates, never reads the collector's signal, and reads
 * the program's own signal as before. */
#include <pthread.h>
#include <sys/signalfd.h>

#include "stoplatency.h"

static atomic_int ready, got, stray;

static void *reader(void *arg) {
  void *volatile mine = sgc_alloc(64); /* registered now */
  (void)mine;
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGALRM); /* the test's watchdog */
  CHECK(pthread_sigmask(SIG_SETMASK, &all, NULL) == 0);
  int fd = signalfd(-1, &all, SFD_CLOEXEC);
  CHECK(fd >= 0);
  atomic_store(&ready, 1);
  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n < 0 && errno == EINTR) {
      atomic_fetch_add(&stray, 1);
      continue;
    }
    CHECK(n == (ssize_t)sizeof si);
    if (si.ssi_signo == SIGUSR1)
      break;
    printf("signalfd read signal %u (code %d, pid %u)\n", si.ssi_signo,
           si.ssi_code, si.ssi_pid);
    atomic_fetch_add(&stray, 1);
  }
  close(fd);
  atomic_store(&got, 1);
  return NULL;
}

int main(void) {
#if TEST_TSAN
  /* ThreadSanitizer runs a signal's handler at the thread's next
   * intercepted call, or inside a call it knows to block; read is
   * neither, so the stop waits for as long as the read does. */
  puts("skipped under ThreadSanitizer");
  return 0;
#endif
  sgc_init();
  sgc_collect();
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  CHECK(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
  while (!atomic_load(&ready))
    sched_yield();
  check_allocations_not_held_up(0.6, "a signalfd reader", &got);
  CHECK(pthread_kill(t, SIGUSR1) == 0);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  CHECK(atomic_load(&got));
  CHECKF(atomic_load(&stray) == 0,
         "the signalfd reader saw %d signals the program did not send",
         atomic_load(&stray));
  return 0;
}
