// labels: gc threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* fork() from inside sgc_call_without_collections(fn), once and nested
 * two deep, while other threads allocate and ask for collections.  The
 * fork handlers used to take the collections' lock for writing over the
 * caller's own read hold: the Debug build aborted ("taking hold_lock
 * again while holding it"), a Release build waited for itself for ever.
 *
 * Promises checked: fork returns in both processes; in the parent the
 * call's promise still holds after the fork (no collection starts until
 * fn returns, though the other threads keep asking); in the child the
 * call returns normally and the heap works: it allocates, collects,
 * verifies, and sgc_call_without_collections works again.  A third
 * thread spends most of its time inside calls of its own, so the forks
 * find it there (its read hold is not waited for; the Debug build's check
 * that no thread is parked holding a lock must let it be).  The parent's
 * list, held only in a global across the forks, comes through intact.
 * Options as in world_fork_from_blocking_region. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

typedef struct node { struct node *next; uint64_t v, chk; } node;

static uint64_t mix(uint64_t v) { return v * 0x9e3779b97f4a7c15ull ^ 0x5a5a; }

static int stop;    /* atomic */
static int started; /* atomic */

/* Other mutators: allocate, and ask for collections often. */
static void *churn(void *arg) {
  long n = (long)(intptr_t)arg;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    node *list = NULL;
    for (int i = 0; i < 1000; i++) {
      node *x = sgc_alloc(sizeof *x + (size_t)(n % 200));
      CHECK(x != NULL);
      x->v = (uint64_t)n++;
      x->chk = mix(x->v);
      x->next = list;
      list = x;
    }
    for (node *x = list; x; x = x->next)
      CHECK(x->chk == mix(x->v));
    if (n % 3 == 0)
      sgc_collect();
  }
  return NULL;
}

static node *keep;
static void *walk_keep(void *arg);

/* A thread that lives inside sgc_call_without_collections. */
static void *inside(void *arg) {
  (void)arg;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
    CHECK(sgc_call_without_collections(walk_keep, NULL) == NULL);
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

static long intact(const node *list, long count, uint64_t base) {
  long seen = 0;
  for (const node *x = list; x; x = x->next, seen++)
    if (seen >= count || x->v != base + (uint64_t)(count - 1 - seen) ||
        x->chk != mix(x->v))
      return -1;
  return seen;
}

enum { NKEEP = 20000 };

/* Inside a call: walks the kept list a few times (no allocation). */
static void *walk_keep(void *arg) {
  (void)arg;
  node *k = __atomic_load_n(&keep, __ATOMIC_ACQUIRE);
  for (int i = 0; k && i < 20; i++)
    CHECK(intact(k, NKEEP, 1) == NKEEP);
  return NULL;
}

static uint64_t collections(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

static void *nothing(void *arg) { return arg; }

/* The child, back out of every sgc_call_without_collections. */
static int child_work(void) {
  if (intact(keep, NKEEP, 1) != NKEEP)
    return 11;
  node *mine = build(scaled(30000), 1000000);
  uint64_t before = collections();
  sgc_collect();
  if (collections() <= before)
    return 12;
  if (intact(keep, NKEEP, 1) != NKEEP ||
      intact(mine, scaled(30000), 1000000) != scaled(30000))
    return 13;
  if (sgc_call_without_collections(nothing, (void *)&before) != &before)
    return 14;
  sgc_collect();
  sgc_heap_verify();
  return 0;
}

/* Runs inside sgc_call_without_collections: forks; the parent waits for
 * the child there, the world around it asking for collections, and
 * checks that none started. */
static void *fork_inside(void *arg) {
  (void)arg;
  uint64_t before = collections();
  pid_t pid = fork();
  if (pid == 0)
    return (void *)(intptr_t)1; /* the child: leave fn normally */
  CHECK(pid > 0);
  int status = -1;
  sgc_enter_blocking();
  pid_t w = waitpid(pid, &status, 0);
  sgc_exit_blocking();
  CHECK(w == pid);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "child status %#x (exit code %d)", status,
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  CHECKF(collections() == before,
         "%llu collections started inside sgc_call_without_collections "
         "after the fork", (unsigned long long)(collections() - before));
  return NULL;
}

static void *nested(void *arg) {
  return sgc_call_without_collections(fork_inside, arg);
}

int main(void) {
  sgc_init();
  enum { NTHREADS = 3 };
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, i < 2 ? churn : inside,
                             (void *)(intptr_t)(i * 1000003)) == 0);
  /* Forks only once the threads run their own code (see
   * world_fork_from_blocking_region). */
  while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NTHREADS)
    sched_yield();
  sgc_collect();
  __atomic_store_n(&keep, build(NKEEP, 1), __ATOMIC_RELEASE);
  long rounds = scaled(10) < 2 ? 2 : scaled(10); /* both depths */
  for (long round = 0; round < rounds; round++) {
    void *(*fn)(void *) = round % 2 ? nested : fork_inside;
    if (sgc_call_without_collections(fn, NULL) != NULL)
      _exit(child_work()); /* the child, out of the call */
    uint64_t before = collections();
    sgc_collect();
    CHECK(collections() > before);
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
  printf("%ld forks inside sgc_call_without_collections (one and two "
         "deep): the children used their heaps, no collection started "
         "inside the calls, the parent's list is intact\n", rounds);
  return 0;
}
