// labels: world
/* A thread forks in a loop while the main thread runs sgc_init.  The fork
 * handlers read whether the runtime is initialised: prepare before taking
 * its locks, the parent's and child's before releasing them.  When the
 * flag changed between the two, they released locks prepare never took
 * (hold_lock's rwlock unlocked by a thread that did not hold it) and a
 * later collection or fork hung (helper-60: 9 of 200 trials).  Now
 * prepare takes init_lock while the runtime is not initialised, so the
 * flag cannot change under a fork (rule:fork-waits-for-init).
 *
 * Each trial is a process of its own (sgc_init runs once per process),
 * this program run again with a delay before sgc_init; after it, the
 * trial collects and forks, and its children allocate and collect, all
 * under an alarm.  The alarm is 120 s: a hang of this kind lasts for
 * ever, and under heavy load a trial that hangs nowhere took more than
 * 30 s (CI once; here 13 of 300 trials with three CPU hogs beside two
 * copies of this test on 2 CPUs, their stacks in the kernel: wait4
 * reaping a child, invalidating its /proc entries, and sgc_init's fcntl
 * moving the tracking's descriptors up, which grows the descriptor table
 * of a process with two threads and waits for an RCU grace period). */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"

static int stop;   /* atomic */
static long forks; /* atomic */

static void *forker(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    pid_t p = fork();
    if (p == 0)
      _exit(0);
    if (p > 0)
      waitpid(p, NULL, 0);
    __atomic_add_fetch(&forks, 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

static int trial(long delay_us) {
  alarm(120);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, forker, NULL) == 0);
  while (__atomic_load_n(&forks, __ATOMIC_ACQUIRE) < 2)
    ;
  struct timespec ts = {0, delay_us * 1000};
  nanosleep(&ts, NULL);
  sgc_init(); /* the forker goes on forking meanwhile */
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  CHECK(pthread_join(t, NULL) == 0);
  void **keep = sgc_alloc(64 * sizeof(void *));
  CHECK(keep != NULL);
  for (int i = 0; i < 100; i++) {
    keep[i % 64] = sgc_alloc(1000);
    if (i % 20 == 0) {
      sgc_collect();
      pid_t p = fork();
      CHECK(p >= 0);
      if (p == 0) {
        void *q = sgc_alloc(100);
        sgc_collect();
        _exit(q != NULL ? 0 : 4);
      }
      int st;
      CHECK(waitpid(p, &st, 0) == p);
      CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1)
    return trial(atol(argv[1]));
  long n = scaled(100), bad = 0;
  for (long i = 0; i < n; i++) {
    char arg[32];
    snprintf(arg, sizeof arg, "%ld", (i * 37) % 400);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
      execl("/proc/self/exe", argv[0], arg, (char *)NULL);
      _exit(127);
    }
    int st;
    CHECK(waitpid(p, &st, 0) == p);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "trial %ld (delay %s us): status %#x\n", i, arg, st);
      bad++;
    }
  }
  CHECKF(bad == 0, "%ld of %ld trials of a fork racing sgc_init failed", bad,
         n);
  printf("%ld trials of forks racing sgc_init: all collected and forked "
         "again\n", n);
  return 0;
}
