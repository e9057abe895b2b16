// labels: lockrank
/* The debug build checks the lock order (src/lockrank.h) on every lock
 * taken: a thread taking a lock whose rank is not above every rank it
 * holds aborts with a message naming both locks; locks of one rank nest
 * only in ascending address order; a _locked function called without its
 * lock aborts naming the lock; a registered thread taking a lock the
 * collector needs outside a no-preempt region aborts naming the lock and
 * the rule (rule:no-stop-holding-lock).  Each case runs in a child
 * process of its own (run_self); the orders the runtime uses must not
 * abort.  The release build does not check (each lock call is the bare
 * pthread call): there the wrong orders are only shown not to abort, and
 * the test says it skipped the checks. */
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

static void expect_abort(const char *self, const char *mode,
                         const char *want1, const char *want2) {
  char out[4096];
  CHECKF(aborts(self, mode, out, sizeof out), "%s did not abort: %s", mode,
         out);
  CHECKF(strstr(out, "lock order") && strstr(out, want1) &&
             (want2 == NULL || strstr(out, want2)),
         "%s: the message does not name %s and %s: %s", mode, want1,
         want2 ? want2 : "-", out);
  fprintf(stderr, "%s: %s", mode, out);
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
  char out[4096];
  CHECKF(aborts(argv[0], "heap-outside-region", out, sizeof out),
         "mheap.lock taken outside a no-preempt region did not abort: %s",
         out);
  CHECKF(strstr(out, "taking mheap.lock (rank") &&
             strstr(out, "outside a no-preempt region") &&
             strstr(out, "rule:no-stop-holding-lock"),
         "the message does not name the lock and the rule: %s", out);
  fprintf(stderr, "heap-outside-region: %s", out);
  return 0;
}
