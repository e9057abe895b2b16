// labels: world threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* fork() while another thread is inside sgc_init.  spangc's fork handlers
 * are installed when the library is loaded, so they run for this fork;
 * the prepare handler waits for the initialisation to end (init_lock,
 * rule:fork-waits-for-init) before it looks whether there is a runtime to
 * hold.  Without that, it found none, took nothing, and the child
 * inherited init_lock held by a thread the child does not have: the
 * child's first allocation waited for ever.
 *
 * The window is made certain: os_test_starting holds the initialising
 * thread inside sgc_init (where it starts the scavenger thread, init_lock
 * held) for 300 ms after telling main, which forks meanwhile.  The child
 * allocates and collects; one still running after 20 s is killed
 * (wait_child_within). */
#include <pthread.h>
#include <semaphore.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static sem_t in_init;
static int armed = 1; /* atomic: the first thread start only */

static void hold(int counted) {
  if (counted || !__atomic_exchange_n(&armed, 0, __ATOMIC_ACQ_REL))
    return;
  sem_post(&in_init);
  struct timespec ts = {0, 300 * 1000000L};
  nanosleep(&ts, NULL);
}

static void *initialise(void *arg) {
  (void)arg;
  sgc_init();
  return NULL;
}

int main(void) {
  CHECK(sem_init(&in_init, 0, 0) == 0);
  ATOMIC_STORE(&os_test_starting, hold);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, initialise, NULL) == 0);
  while (sem_wait(&in_init) != 0)
    ;
  pid_t pid = fork(); /* the other thread is inside sgc_init */
  CHECK(pid >= 0);
  if (pid == 0) {
    void **p = sgc_alloc(64);
    if (p == NULL)
      _exit(4);
    p[0] = sgc_alloc(128);
    sgc_collect();
    if (p[0] == NULL || sgc_size(p[0]) < 128)
      _exit(5);
    _exit(0);
  }
  int st;
  CHECKF(wait_child_within(pid, 20, &st), "the child of a fork made "
         "during sgc_init hung (killed after 20 s)");
  CHECK(pthread_join(t, NULL) == 0);
  ATOMIC_STORE(&os_test_starting, NULL);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
         "the child of a fork made during sgc_init: status %#x", st);
  void *q = sgc_alloc(32);
  CHECK(q != NULL);
  sgc_collect();
  printf("a fork made while another thread was inside sgc_init left the "
         "child a working heap\n");
  return 0;
}
