/*
 * markhelpers.c — the helper markers: threads made once (as many as the
 * next mark wants, mark_markers_for_cycle) and kept, that join each mark
 * the collecting thread starts (mark_run_markers) and run mark_worker
 * (mark.c) beside it.  They are not registered threads: they run inside
 * collections only, and the world's stop never waits for them.
 *
 * Locks: helper.lock guards the helper threads' count and the start and
 * end of each mark's share-out (helper.gen, want, joined, ndone), with
 * helper.start and helper.done as its conditions.  A helper that wakes
 * after a mark took all the helpers it wanted skips that mark.  Fork:
 * gc_atfork_threads takes helper.lock around fork(); the child has no
 * helpers and forgets them (mark_atfork_helpers).
 */
#include "mark-int.h"

static struct {
  sgc_mutex lock;
  pthread_cond_t start, done;
  uint64_t gen;      /* bumped to start a mark */
  int want;          /* helpers wanted in this mark */
  int joined, ndone;
  int nthreads;
  mark_result *res;
} helper = {SGC_MUTEX_INIT(HELPER), PTHREAD_COND_INITIALIZER,
            PTHREAD_COND_INITIALIZER};

static void *helper_main(void *arg) {
  uint64_t seen = 0;
  world_in_collector = 1; /* runs inside collections: never waits for one */
  sgc_lock(&helper.lock);
  for (;;) {
    while (helper.gen == seen || helper.joined >= helper.want) {
      seen = helper.gen; /* a mark that needs no more helpers is skipped */
      sgc_cond_wait(&helper.start, &helper.lock);
    }
    seen = helper.gen;
    helper.joined++;
    mark_result *res = helper.res;
    sgc_unlock(&helper.lock);
    mark_worker(res);
    sgc_lock(&helper.lock);
    if (++helper.ndone == helper.want)
      pthread_cond_signal(&helper.done);
  }
  return NULL;
}

/* Run the mark with n markers (this thread included). */
void mark_run_markers(int n, mark_result *res) {
  sgc_lock(&helper.lock);
  SGC_ASSERT(helper.nthreads >= n - 1); /* mark_markers_for_cycle made them */
  helper.want = n - 1;
  helper.joined = 0;
  helper.ndone = 0;
  helper.res = res;
  helper.gen++;
  pthread_cond_broadcast(&helper.start);
  sgc_unlock(&helper.lock);
  if (!work.roots_only)
    test_hook_run(&sgc_test_mark_hook);
  mark_worker(res);
  sgc_lock(&helper.lock);
  while (helper.ndone < helper.want)
    sgc_cond_wait(&helper.done, &helper.lock);
  sgc_unlock(&helper.lock);
}

int mark_markers_for_cycle(int n) {
  if (n < 1)
    n = 1;
  if (n > MAX_MARKERS)
    n = MAX_MARKERS;
  /* Helpers that cannot be created shrink the count here; make
   * sure they exist first so mark_prepare gets the real number. */
  sgc_lock(&helper.lock);
  /* Helpers are not registered (they run inside collections only). */
  while (helper.nthreads < n - 1) {
    if (os_start_detached(helper_main, NULL, 0, "spangc-mark") != 0)
      break;
    helper.nthreads++;
  }
  if (n - 1 > helper.nthreads)
    n = helper.nthreads + 1;
  sgc_unlock(&helper.lock);
  return n;
}

/* The helpers' lock, for fork (gc_atfork_threads orders it); in the
 * child, where no helper exists, the helpers are forgotten. */
void mark_atfork_helpers(int phase) {
  if (phase == FORK_PREPARE) {
    sgc_lock(&helper.lock);
    return;
  }
  if (phase == FORK_CHILD) {
    helper.nthreads = 0;
    helper.joined = helper.ndone = helper.want = 0;
    pthread_cond_init(&helper.start, NULL);
    pthread_cond_init(&helper.done, NULL);
  }
  sgc_unlock(&helper.lock);
}
