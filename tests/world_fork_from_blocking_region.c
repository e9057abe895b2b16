// labels: gc threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* fork() from inside a blocking region (sgc_enter_blocking ...
 * sgc_exit_blocking), while other registered threads allocate and
 * collect: a program that waits for child processes naturally does that
 * there.  The fork handlers must not enter a blocking region a second
 * time (that aborted with "sgc_enter_blocking: thread ... is already in a
 * blocking region").  The child starts inside the region it inherited: it
 * may leave at once with _exit, or exit the region and use the heap
 * (allocate, collect, verify).  The parent keeps a list, held only in a
 * local across each fork, that must come through intact while the other
 * threads churn and collect.  popen and system from inside a region must
 * work too (glibc runs them with posix_spawn, which skips the fork
 * handlers, so for them this is only a check that nothing else is in
 * the way).
 *
 * ThreadSanitizer options: the fork handler takes threads_lock holding
 * helper.lock, a collection the other way round, both under gc_lock
 * (TSan's lock-order check does not see that gate and reports a cycle);
 * and the child's fork handler starts the scavenger thread again, which
 * TSan refuses by default after a multi-threaded fork. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

typedef struct node { struct node *next; uint64_t v, chk; } node;

static uint64_t mix(uint64_t v) { return v * 0x9e3779b97f4a7c15ull ^ 0xf0f0; }

static int stop;    /* atomic */
static int started; /* atomic: churn threads past their start */

/* Background mutators: allocate, and now and then collect. */
static void *churn(void *arg) {
  long n = (long)(intptr_t)arg;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    node *list = NULL;
    for (int i = 0; i < 2000; i++) {
      node *x = sgc_alloc(sizeof *x + (size_t)(n % 300));
      CHECK(x != NULL);
      x->v = (uint64_t)n++;
      x->chk = mix(x->v);
      x->next = list;
      list = x;
    }
    for (node *x = list; x; x = x->next)
      CHECK(x->chk == mix(x->v));
    if (n % 7 == 0)
      sgc_collect();
  }
  return NULL;
}

static node *build(long count, uint64_t base) {
  node *list = NULL;
  for (long i = 0; i < count; i++) {
    node *x = sgc_alloc(sizeof *x);
    CHECK(x != NULL);
    x->v = base + (uint64_t)i;
    x->chk = mix(x->v);
    x->next = list;
    list = x;
  }
  return list;
}

/* Number of intact nodes, counting down from base + count - 1; -1 at the
 * first bad one. */
static long intact(const node *list, long count, uint64_t base) {
  long seen = 0;
  for (const node *x = list; x; x = x->next, seen++)
    if (seen >= count || x->v != base + (uint64_t)(count - 1 - seen) ||
        x->chk != mix(x->v))
      return -1;
  return seen;
}

enum { NKEEP = 20000 };

/* In the child: it starts inside the blocking region of the parent's
 * thread; the other threads are gone. */
static int child_work(const node *keep) {
  if (!sgc_in_blocking())
    return 10;
  sgc_exit_blocking();
  if (intact(keep, NKEEP, 1) != NKEEP)
    return 11;
  node *mine = build(scaled(50000), 1000000);
  sgc_collect();
  if (intact(keep, NKEEP, 1) != NKEEP)
    return 12;
  if (intact(mine, scaled(50000), 1000000) != scaled(50000))
    return 13;
  /* Regions still nest properly in the child. */
  sgc_enter_blocking();
  sgc_exit_blocking();
  sgc_collect();
  sgc_heap_verify();
  return 0;
}

int main(void) {
  sgc_init();
  enum { NTHREADS = 2 };
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, churn, (void *)(intptr_t)(i * 1000003)) == 0);

  /* No fork until the churn threads are running their own code and the
   * collector's helpers exist: a thread still starting (sgc_pthread_create
   * frees its start record; a sanitizer's thread set-up calls malloc) may
   * hold a lock of the sanitizer's allocator, which is not fork-safe, and
   * the child's own thread creation then hangs on it (1 ASan run in 15
   * under load hung in the child's first collection). */
  while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NTHREADS)
    sched_yield();
  sgc_collect();
  node *keep = build(NKEEP, 1);
  long rounds = scaled(20);
  for (long round = 0; round < rounds; round++) {
    /* fork; the child leaves at once, still inside the region. */
    sgc_enter_blocking();
    pid_t pid = fork();
    if (pid == 0)
      _exit(42);
    int status = -1;
    pid_t w = pid > 0 ? waitpid(pid, &status, 0) : -1;
    sgc_exit_blocking();
    CHECK(pid > 0 && w == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 42,
           "round %ld: quick child status %#x", round, status);

    /* fork; the child exits the region and uses the heap. */
    sgc_enter_blocking();
    pid = fork();
    if (pid == 0)
      _exit(child_work(keep));
    status = -1;
    w = pid > 0 ? waitpid(pid, &status, 0) : -1;
    sgc_exit_blocking();
    CHECK(pid > 0 && w == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "round %ld: child status %#x (exit code %d)", round, status,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    /* popen and system. */
    char line[64] = "";
    sgc_enter_blocking();
    FILE *f = popen("echo spangc", "r");
    int got = f != NULL && fgets(line, sizeof line, f) != NULL;
    int pst = f ? pclose(f) : -1;
    int sst = system("exit 3");
    sgc_exit_blocking();
    CHECKF(got && strcmp(line, "spangc\n") == 0 && pst == 0,
           "round %ld: popen read \"%s\", status %#x", round, line, pst);
    CHECKF(WIFEXITED(sst) && WEXITSTATUS(sst) == 3,
           "round %ld: system status %#x", round, sst);

    /* The parent's heap goes on: collect, churn, and the list held only
     * in a local is intact. */
    sgc_collect();
    node *junk = build(5000, 7);
    CHECK(intact(junk, 5000, 7) == 5000);
    junk = NULL;
    long n = intact(keep, NKEEP, 1);
    CHECKF(n == NKEEP, "round %ld: %ld of %d nodes intact", round, n, NKEEP);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
  clear_stack();
  sgc_collect();
  CHECK(intact(keep, NKEEP, 1) == NKEEP);
  sgc_heap_verify();
  printf("%ld rounds of fork, popen and system from blocking regions; "
         "children used their heaps, the parent's list is intact\n", rounds);
  return 0;
}
