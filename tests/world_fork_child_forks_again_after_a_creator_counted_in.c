// labels: world threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* A fork waits for the threads being created (os.c), counted without a
 * lock: a creator counts itself in, then looks for a fork, and counts
 * itself out again if one is under way.  A creator that counted itself
 * in after the fork had found no start under way, forked before it
 * counted itself out, left the child a count of one that no thread there
 * would ever take back: the child's own next fork waited for ever
 * (helper-58 held a creator there with gdb).  Here the window is made
 * certain: os_test_starting holds the creator before it counts itself
 * in until the fork's prepare handlers ran (a handler of the test's,
 * installed by a constructor that runs before spangc's, runs after
 * them), then holds it counted in until the fork is done.  The child
 * forks again under an alarm. */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

static sem_t ready, go, added, forked;
static int armed;   /* atomic: 1 hold before the count, 2 after, 0 done */
static int forking; /* atomic: the test's fork is under way */

static void hold(int counted) {
  if (!counted && __atomic_load_n(&armed, __ATOMIC_ACQUIRE) == 1) {
    __atomic_store_n(&armed, 2, __ATOMIC_RELEASE);
    sem_post(&ready);
    while (sem_wait(&go) != 0)
      ;
  } else if (counted && __atomic_load_n(&armed, __ATOMIC_ACQUIRE) == 2) {
    __atomic_store_n(&armed, 0, __ATOMIC_RELEASE);
    sem_post(&added);
    while (sem_wait(&forked) != 0)
      ;
  }
}

/* Installed before spangc's handlers (install_handlers, a constructor of
 * higher priority than the library's, which installs them at load time):
 * prepare handlers run in the reverse order of installation, so this one
 * runs after spangc's (the bar raised, no start under way); the parent's
 * run in order, so this one first. */
static void late_prepare(void) {
  if (!__atomic_load_n(&forking, __ATOMIC_ACQUIRE))
    return;
  sem_post(&go);
  while (sem_wait(&added) != 0)
    ;
}
static void early_parent(void) {
  if (__atomic_load_n(&forking, __ATOMIC_ACQUIRE))
    sem_post(&forked);
}

static void *nothing(void *arg) { return arg; }

static void *creator(void *arg) {
  (void)arg;
  pthread_t t;
  __atomic_store_n(&armed, 1, __ATOMIC_RELEASE); /* this create is held */
  CHECK(sgc_pthread_create(&t, NULL, nothing, NULL) == 0);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  return NULL;
}

__attribute__((constructor(101))) static void install_handlers(void) {
  CHECK(pthread_atfork(late_prepare, early_parent, NULL) == 0);
}

int main(void) {
  sem_init(&ready, 0, 0);
  sem_init(&go, 0, 0);
  sem_init(&added, 0, 0);
  sem_init(&forked, 0, 0);
  sgc_init();
  /* The collector's threads made now, by this thread (the scavenger's
   * own call, before or after this one, then makes none): the hook must
   * hold the creator's start, not one of theirs (it held the scavenger's
   * once, under gc_lock, and the fork below waited for ever). */
  gc_start_background();
  pthread_t c;
  ATOMIC_STORE(&os_test_starting, hold);
  CHECK(sgc_pthread_create(&c, NULL, creator, NULL) == 0);
  /* Until the creator is held before counting itself in. */
  sgc_enter_blocking();
  while (sem_wait(&ready) != 0)
    ;
  sgc_exit_blocking();
  __atomic_store_n(&forking, 1, __ATOMIC_RELEASE);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    alarm(20); /* a fork waiting for ever dies of SIGALRM */
    __atomic_store_n(&forking, 0, __ATOMIC_RELEASE); /* the test's handlers */
    pid_t g = fork();
    if (g < 0)
      _exit(2);
    if (g == 0)
      _exit(0);
    int st;
    _exit(waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0
              ? 0 : 3);
  }
  __atomic_store_n(&forking, 0, __ATOMIC_RELEASE);
  int st = 0;
  sgc_enter_blocking();
  CHECK(waitpid(pid, &st, 0) == pid);
  pthread_join(c, NULL);
  sgc_exit_blocking();
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
         "the child's own fork failed: status %#x (signal %d: %s)", st,
         WIFSIGNALED(st) ? WTERMSIG(st) : 0,
         WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? "it waited for ever"
                                                     : "-");
  printf("a child forked with a creator counted in forks again\n");
  return 0;
}
