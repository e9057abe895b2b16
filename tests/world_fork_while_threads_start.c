// labels: world threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* fork() while threads are being created.  Between pthread_create and its
 * start function a new thread allocates in the C library and in a
 * sanitizer's runtime (pthread_getattr_np's affinity set, the sanitizer's
 * thread record), and so does registration (pthread_getattr_np again, for
 * the stack).  An allocator that fork does not lock, as clang 14's
 * AddressSanitizer's, then gives the child a size class locked for ever,
 * and the child hung at its next allocation of that size: the runtime's
 * threads it starts again allocate there (world_fork_child_keeps_a_
 * working_heap under ASan in CI, 1 run in 10 under load).  Here one thread
 * creates threads that stay (they must not exit: a sanitizer's thread exit
 * is another such stretch, outside the runtime's reach) while the main
 * thread forks; each child allocates what a thread start allocates,
 * starts the runtime's threads by collecting, and checks its heap.  The
 * parent gives each child a deadline. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

enum { MAXTHREADS = 96 };
static int wanted; /* scaled(MAXTHREADS), at least 16 */

static int stop;    /* atomic */
static int created; /* atomic */
static int forks;   /* atomic: forks done */

static void *stay(void *arg) {
  (void)arg;
  void *volatile p = sgc_alloc(64);
  (void)p;
  sgc_enter_blocking();
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  sgc_exit_blocking();
  return NULL;
}

static void *creator(void *arg) {
  pthread_t *t = arg;
  for (int i = 0; i < wanted && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE);
       i++) {
    /* One thread per fork, created as the main thread forks again. */
    while (__atomic_load_n(&forks, __ATOMIC_ACQUIRE) < i &&
           !__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
    if (sgc_pthread_create(&t[i], NULL, stay, NULL) != 0)
      break;
    __atomic_add_fetch(&created, 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

static int child_work(void) {
  for (size_t n = 8; n <= 4096; n *= 2) { /* every small class of malloc */
    void *p = calloc(1, n);
    if (p == NULL)
      return 2;
    free(p);
  }
  void *volatile keep = sgc_alloc(1000);
  for (int i = 0; i < 20000; i++) {
    void *volatile q = sgc_alloc(32 + (size_t)(i % 200));
    (void)q;
  }
  sgc_collect(); /* starts the markers and the sweeper again */
  sgc_collect();
  sgc_heap_verify();
  return keep != NULL && sgc_base((void *)keep) == keep ? 0 : 3;
}

int main(void) {
  sgc_init();
  wanted = scaled(MAXTHREADS) < 16 ? 16 : (int)scaled(MAXTHREADS);
  static pthread_t t[MAXTHREADS];
  pthread_t cr;
  CHECK(sgc_pthread_create(&cr, NULL, creator, t) == 0);
  while (__atomic_load_n(&created, __ATOMIC_ACQUIRE) < wanted &&
         forks < 400) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
      _exit(child_work());
    int st = 0;
    CHECKF(wait_child_within(pid, 30, &st),
           "fork %d (%d threads created): the child hung for 30 s", forks,
           __atomic_load_n(&created, __ATOMIC_ACQUIRE));
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "fork %d: child status %#x", forks, st);
    __atomic_add_fetch(&forks, 1, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  sgc_enter_blocking();
  pthread_join(cr, NULL);
  int n = __atomic_load_n(&created, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++)
    pthread_join(t[i], NULL);
  sgc_exit_blocking();
  printf("%d forks while %d threads were created: every child worked\n",
         forks, n);
  return 0;
}
