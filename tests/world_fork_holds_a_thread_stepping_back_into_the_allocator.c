// labels: world
/* fork() while a thread is out of the allocator's no-preempt region to
 * collect (here: inside the program's collect hook, which the allocator
 * calls with the region stepped out of).  The fork barrier's signal finds
 * the thread outside any region, so its handler answers and the thread
 * carries on; when the hook returns, the thread steps back into the
 * region, and must wait there for the fork to end, as any thread entering
 * the runtime does.
 * Catches: gc.c's collect_from_allocator and assist_from_allocator
 * restoring the region's depth without looking at the barrier.  The
 * thread then ran on into the refill during the fork; a child forked
 * while it held a span fresh from mheap_alloc, not yet on a central list,
 * inherited a span in allspans on no list, and the child's background
 * sweeper crashed unlinking it (CI: world_fork_child_keeps_a_working_heap
 * in the concurrent configuration, 1 run in 100, through an assist).
 * Here the thread is let go by this program's own prepare handler, which
 * runs after spangc's (installed by a constructor that runs before the
 * library's, which installs spangc's at load time), with every lock of
 * the runtime held: fixed, the thread waits at the barrier
 * (fork_waiting); before, it was found inside the region, blocked on a
 * central list's lock. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static mcache *volatile hooked; /* the allocating thread's cache */
static int armed, in_hook, go, stop; /* atomic flags */
static int held = -1;     /* what the prepare handler saw (below) */
static int depth_seen;    /* that thread's region depth then */

static int hook(int forced) {
  (void)forced;
  if (!__atomic_load_n(&armed, __ATOMIC_SEQ_CST) || sgc_tls_cache != hooked)
    return 0;
  __atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
  set_flag(&in_hook);
  wait_flag(&go, 60.0);
  return 1; /* skip this collection: straight back into the allocator */
}

static void *allocate(void *arg) {
  (void)arg;
  hooked = sgc_tls_cache;
  __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
    void **p = sgc_alloc(64);
    CHECK(p != NULL);
    p[0] = p;
  }
  return NULL;
}

/* Runs after spangc's prepare handlers: the barrier is up and the
 * runtime's locks are held.  Lets the hooked thread go and watches where
 * it ends up: waiting at the barrier (1), or inside the region, not
 * waiting (0). */
static void prepare_last(void) {
  if (!__atomic_load_n(&in_hook, __ATOMIC_SEQ_CST) ||
      __atomic_load_n(&go, __ATOMIC_SEQ_CST))
    return;
  if (!__atomic_load_n(&world_forking, __ATOMIC_SEQ_CST)) {
    held = -2; /* spangc's handlers did not run first */
    return;
  }
  set_flag(&go);
  mcache *c = hooked;
  double t0 = now_seconds();
  held = 0;
  while (now_seconds() - t0 < 2.0) {
    if (__atomic_load_n(&c->thr->fork_waiting, __ATOMIC_SEQ_CST)) {
      held = 1;
      break;
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  depth_seen = __atomic_load_n(&c->nopreempt, __ATOMIC_RELAXED);
}

/* Before spangc's handlers are installed (a constructor of higher
 * priority than the library's): prepare handlers run in the reverse order
 * of installation, so this one runs after spangc's. */
__attribute__((constructor(101))) static void install_handler(void) {
  CHECK(pthread_atfork(prepare_last, NULL, NULL) == 0);
}

int main(void) {
  /* The hook is called where a collection falls due on the allocating
   * thread; with concurrent marking the collector thread takes them. */
  setenv("SPANGC_CONCURRENT", "0", 1);
  setenv("SPANGC_GOGC", "20", 1);
  sgc_init();
  sgc_set_collect_hook(hook);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, allocate, NULL) == 0);
  CHECK(wait_flag(&in_hook, 60.0));
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    for (int i = 0; i < 100000; i++)
      CHECK(sgc_alloc(48) != NULL);
    sgc_collect();
    sgc_heap_verify();
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
  join_blocking(t);
  sgc_set_collect_hook(NULL);
  CHECKF(held != -2, "this program's prepare handler ran before spangc's");
  CHECKF(held == 1,
         "the thread back from the collect hook was not held at the fork "
         "barrier: inside the allocator's region (depth %d) during the fork",
         depth_seen);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d",
         status);
  printf("the thread back from the hook waited at the barrier\n");
  return 0;
}
