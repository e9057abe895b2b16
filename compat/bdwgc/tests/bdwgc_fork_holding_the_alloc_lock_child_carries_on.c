/* fork() by a thread that holds the allocation lock (between
 * GC_alloc_lock and GC_alloc_unlock, taken once or twice): in the child
 * the forking thread still holds the lock as deep as it did, releases it
 * as the parent does (GC_alloc_unlock), then collects and allocates.
 * Before, the child's lock was made fresh and GC_alloc_unlock aborted
 * ("does not hold the allocation lock").  The parent carries on holding
 * the lock across the fork, then collects.  Another thread allocates and
 * collects meanwhile.  Each child has 10 s, the whole test 60 s.  (A fork
 * from inside GC_call_with_alloc_lock's function is refused: see
 * world_fork_inside_call_without_collections_is_refused.) */
// labels: bdwgc
// stock-fails: bdwgc's fork handler takes the allocation lock, which the forking thread already holds: the fork never returns
#include <gc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bdwgc_check.h"

static volatile int stop;

static void *churn(void *arg) {
  (void)arg;
  long n = 0;
  while (!stop) {
    void *volatile p = GC_MALLOC(48);
    CHECK(p != NULL, "allocation");
    if (++n % 20000 == 0)
      GC_gcollect();
  }
  return NULL;
}

struct cell { struct cell *next; long v; };

struct cell *keep; /* a root: the parent's list */

static struct cell *build(long n) {
  struct cell *l = NULL;
  for (long i = 0; i < n; i++) {
    struct cell *c = GC_MALLOC(sizeof *c);
    CHECK(c != NULL, "allocation");
    c->v = i;
    c->next = l;
    l = c;
  }
  return l;
}

static int intact(const struct cell *l, long n) {
  for (long i = n - 1; i >= 0; i--, l = l->next)
    if (!l || l->v != i)
      return 0;
  return l == NULL;
}

/* The child, the allocation lock released: the heap works. */
static int child_work(void) {
  if (BDWGC_SANITIZED)
    return 0;
  GC_gcollect();
  struct cell *mine = build(20000);
  GC_gcollect();
  if (!intact(mine, 20000) || !intact(keep, 5000))
    return 3;
  GC_alloc_lock(); /* free again, and usable */
  GC_alloc_unlock();
  GC_gcollect();
  return 0;
}

static void wait_child(pid_t pid, const char *how) {
  int st = -1;
  CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
  CHECK(!(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM),
        "%s: the child hung", how);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "%s: child status %#x (signal %d)", how, st,
        WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int main(void) {
  alarm(60);
  GC_INIT();
  keep = build(5000);
  pthread_t t;
  CHECK(GC_pthread_create(&t, NULL, churn, NULL) == 0, "thread");
  for (int round = 0; round < 6; round++) {
    /* GC_alloc_lock (once, or twice on odd rounds), fork,
     * GC_alloc_unlock as often on both sides. */
    int depth = round % 2 ? 2 : 1;
    for (int i = 0; i < depth; i++)
      GC_alloc_lock();
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      alarm(10);
      for (int i = 0; i < depth; i++)
        GC_alloc_unlock();
      _exit(child_work());
    }
    for (int i = 0; i < depth; i++)
      GC_alloc_unlock();
    wait_child(pid, "GC_alloc_lock");

    GC_gcollect();
    CHECK(intact(keep, 5000), "round %d: the parent's list", round);
  }
  stop = 1;
  GC_pthread_join(t, NULL);
  PASS("bdwgc_fork_holding_the_alloc_lock_child_carries_on");
}
