// labels: world threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* A program installs its pthread_atfork handlers first thing in main,
 * before sgc_init, and they use spangc: each allocates, and starts and
 * joins a registered thread (sgc_pthread_create) that allocates too.
 * spangc's own handlers are installed when the library is loaded, so the
 * program's prepare handler runs before spangc's takes its locks and
 * raises its bar on thread starts, and its parent and child handlers
 * after spangc's released them (rule:fork-handlers-installed-first).
 * Installed by sgc_init, spangc's handlers ran inside the program's, and
 * the prepare handler's thread start waited for ever on the bar.  Every
 * handler must run to completion, in parent and child, twice (the child
 * forks again); an alarm turns a hang into a failure. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

static int ran_prepare, ran_parent, ran_child;
static int armed; /* the handlers act only around the test's own forks */

static void *worker(void *arg) {
  uint64_t *p = sgc_alloc(48);
  CHECK(p != NULL);
  p[0] = (uint64_t)(uintptr_t)arg;
  return p;
}

/* What each handler does: allocate, start a thread, join it. */
static void use_spangc(uintptr_t tag) {
  uint64_t *mine = sgc_alloc(64);
  CHECK(mine != NULL);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, worker, (void *)tag) == 0);
  void *ret = NULL;
  CHECK(pthread_join(t, &ret) == 0);
  CHECK(ret != NULL && ((uint64_t *)ret)[0] == tag);
}

static void prepare(void) {
  if (!armed)
    return;
  use_spangc(1);
  ran_prepare++;
}
static void parent(void) {
  if (!armed)
    return;
  use_spangc(2);
  ran_parent++;
}
static void child(void) {
  if (!armed)
    return;
  use_spangc(3);
  ran_child++;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "a fork with handlers that call spangc hung\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(3);
}

/* Forks once; the child (which forks again while depth > 0) checks that
 * its handler ran and that it can collect. */
static void fork_and_check(int depth) {
  int p0 = ran_prepare, a0 = ran_parent, c0 = ran_child;
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    CHECKF(ran_child == c0 + 1, "the child handler ran %d times",
           ran_child - c0);
    sgc_collect();
    if (depth > 0)
      fork_and_check(depth - 1);
    _exit(0);
  }
  CHECKF(ran_prepare == p0 + 1 && ran_parent == a0 + 1,
         "prepare ran %d and parent %d times", ran_prepare - p0,
         ran_parent - a0);
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

int main(void) {
  CHECK(pthread_atfork(prepare, parent, child) == 0);
  signal(SIGALRM, on_alarm);
  alarm(60);
  sgc_init();
  armed = 1;
  for (int i = 0; i < 3; i++)
    fork_and_check(1);
  armed = 0;
  alarm(0);
  printf("fork handlers installed before sgc_init allocated and started "
         "threads in prepare, parent and child\n");
  return 0;
}
