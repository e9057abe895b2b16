// labels: lockrank
/* The debug build checks the lock order (src/lockrank.h) on every lock
 * taken: a thread taking a lock whose rank is not above every rank it holds
 * aborts with a message naming both locks; locks of one rank nest only in
 * ascending address order; a _locked function called without its lock aborts
 * naming the lock; a registered thread taking a lock the collector needs
 * outside a no-preempt region, or leaving a blocking region still holding
 * one taken there, aborts naming the lock and the rule
 * (rule:no-stop-holding-lock); so does a sweep outside a region.  Each case
 * runs in a child process of its own (run_self); the orders the runtime uses
 * must not abort.  The release build does not check (each lock call is the
 * bare pthread call): there the wrong orders are only shown not to abort,
 * and the test says it skipped the checks. */
#include <signal.h>
#include <string.h>

#include "check.h"
#include "nopreempt.h"

static int child(const char *mode) {
  sgc_init();
  mheap *h = &sgc_heap;
  if (strcmp(mode, "heap-outside-region") == 0) {
    lockrank_test_take_in_order(&h->lock, &h->central[3].lock);
    return 0;
  }
  if (strcmp(mode, "held-leaving-blocking") == 0) {
    /* Taken while blocking (allowed: no stop parks a blocking thread),
     * still held where a stop may park it.  A lock ranked above
     * world.mutex breaks the order in sgc_exit_blocking already; one
     * between gc_lock and world.mutex (kind_lock's rank) does not. */
    static sgc_mutex m;
    sgc_mutex_init(&m, LOCKRANK_KIND);
    sgc_enter_blocking();
    sgc_lock(&m);
    sgc_exit_blocking();
    sgc_unlock(&m);
    return 0;
  }
  if (strcmp(mode, "sweep-outside-region") == 0) {
    sweepone(false);
    return 0;
  }
  /* The other cases take the locks as the runtime does, in a region. */
  mcache *np = np_enter();
  int r = 0;
  if (strcmp(mode, "heap-then-central") == 0)
    lockrank_test_take_in_order(&h->lock, &h->central[3].lock);
  else if (strcmp(mode, "fixalloc-then-heap") == 0)
    lockrank_test_take_in_order(&h->spanalloc.lock, &h->lock);
  else if (strcmp(mode, "centrals-descending") == 0)
    lockrank_test_take_in_order(&h->central[5].lock, &h->central[2].lock);
  else if (strcmp(mode, "free-locked-unlocked") == 0)
    mheap_free_locked(NULL, false); /* the lock check comes first */
  else if (strcmp(mode, "central-then-heap") == 0)
    lockrank_test_take_in_order(&h->central[3].lock, &h->lock);
  else if (strcmp(mode, "centrals-ascending") == 0)
    lockrank_test_take_in_order(&h->central[2].lock, &h->central[5].lock);
  else
    r = 2;
  np_leave(np);
  return r;
}

/* Runs mode in a child; returns its stderr in out and whether it aborted. */
static int aborts(const char *self, const char *mode, char *out, size_t n) {
  int st = run_self(self, mode, out, n);
  if (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)
    return 1;
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
         "%s: status %d; stderr: %s", mode, st, out);
  return 0;
}

/* mode aborts, its message saying a, b and c (NULL: nothing more). */
static void expect_abort_saying(const char *self, const char *mode,
                                const char *a, const char *b,
                                const char *c) {
  char out[4096];
  CHECKF(aborts(self, mode, out, sizeof out), "%s did not abort: %s", mode,
         out);
  CHECKF(strstr(out, a) && (b == NULL || strstr(out, b)) &&
             (c == NULL || strstr(out, c)),
         "%s: the message does not say %s, %s and %s: %s", mode, a,
         b ? b : "-", c ? c : "-", out);
  fprintf(stderr, "%s: %s", mode, out);
}

/* A lock order broken: the message names both locks. */
static void expect_abort(const char *self, const char *mode,
                         const char *want1, const char *want2) {
  expect_abort_saying(self, mode, "lock order", want1, want2);
}

static void expect_no_abort(const char *self, const char *mode) {
  char out[4096];
  CHECKF(!aborts(self, mode, out, sizeof out), "%s aborted: %s", mode, out);
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child(argv[1]);
  expect_no_abort(argv[0], "central-then-heap");
  expect_no_abort(argv[0], "centrals-ascending");
  if (!sgc_debug_build) {
    expect_no_abort(argv[0], "heap-then-central");
    expect_no_abort(argv[0], "centrals-descending");
    expect_no_abort(argv[0], "heap-outside-region");
    expect_no_abort(argv[0], "held-leaving-blocking");
    expect_no_abort(argv[0], "sweep-outside-region");
    printf("lockrank_inversion_aborts_naming_both_locks: skipped: the "
           "release build does not check the lock order (only the debug "
           "build, SPANGC_DEBUG=1, does)\n");
    return 0;
  }
  expect_abort(argv[0], "heap-then-central",
               "taking mcentral.lock (rank", "while holding mheap.lock (rank");
  expect_abort(argv[0], "fixalloc-then-heap",
               "taking mheap.lock (rank", "while holding fixalloc.lock (rank");
  expect_abort(argv[0], "centrals-descending",
               "taking mcentral.lock (rank", "address order");
  expect_abort(argv[0], "free-locked-unlocked",
               "mheap.lock (rank", "is not held");
  expect_abort_saying(argv[0], "heap-outside-region",
                      "taking mheap.lock (rank", "outside a no-preempt region",
                      "rule:no-stop-holding-lock");
  expect_abort_saying(argv[0], "held-leaving-blocking",
                      "leaving a blocking region holding kind_lock",
                      "rule:no-stop-holding-lock", NULL);
  expect_abort_saying(argv[0], "sweep-outside-region",
                      "sweeping outside a no-preempt region",
                      "sweep snapshot", NULL);
  return 0;
}
