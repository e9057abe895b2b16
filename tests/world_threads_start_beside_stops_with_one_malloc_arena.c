// labels: world threads
/* spangc's threads start beside stops without waiting for a stopped
 * thread's C library locks.  With one malloc arena (M_ARENA_MAX=1) and
 * threads that call calloc and free all along, while another thread
 * collects in a loop, a fork child registers its first finalizer (which
 * starts the finalizer thread) and its first collections start the
 * marker helpers.  Two hangs, from the adversarial review of session 51:
 * a creator that blocked the suspend signal across pthread_create, which
 * waited for the arena a stopped thread held (5 runs in 250); and a new
 * helper whose first free() waited for that arena while the collection
 * waited for the helper (1 run in 40).  Each child has 5 s. */
#include <malloc.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define CHILDREN 40

static volatile int stop; /* atomic */

static void *mallocer(void *p) {
  (void)p;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    void *v[8];
    for (int i = 0; i < 8; i++)
      v[i] = calloc(1, 200 + (size_t)i * 64);
    for (int i = 0; i < 8; i++)
      free(v[i]);
  }
  return NULL;
}

static void *collector(void *p) {
  (void)p;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
    sgc_collect();
  return NULL;
}

static void nothing(void *o, void *a) {
  (void)o;
  (void)a;
}

static void child(void) {
  pthread_t t[4];
  for (int i = 0; i < 3; i++)
    if (sgc_pthread_create(&t[i], NULL, mallocer, NULL) != 0)
      _exit(3);
  if (sgc_pthread_create(&t[3], NULL, collector, NULL) != 0)
    _exit(3);
  usleep(20000);
  void *o = sgc_alloc(32);
  if (o == NULL)
    _exit(4);
  sgc_set_finalizer(o, nothing, NULL);
  usleep(20000);
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < 4; i++)
    join_blocking(t[i]);
  _exit(0);
}

int main(void) {
#if TEST_TSAN
  /* Threads started in a fork child of a threaded process: not under
   * ThreadSanitizer (the run took its 300 s). */
  printf("skipped: threads in fork children (ThreadSanitizer)\n");
  return 0;
#endif
  mallopt(M_ARENA_MAX, 1);
  sgc_init();
  int hung = 0, failed = 0;
  for (int k = 0; k < CHILDREN; k++) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
      child();
    int status = 0;
    pid_t got = 0;
    for (int ms = 0; ms < 5000 && got == 0; ms += 5) {
      got = waitpid(pid, &status, WNOHANG);
      if (got == 0)
        usleep(5000);
    }
    if (got == 0) {
      hung++;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failed++;
    }
  }
  printf("%d children: %d hung, %d failed\n", CHILDREN, hung, failed);
  CHECKF(hung == 0, "%d of %d children hung", hung, CHILDREN);
  CHECKF(failed == 0, "%d of %d children failed", failed, CHILDREN);
  return 0;
}
