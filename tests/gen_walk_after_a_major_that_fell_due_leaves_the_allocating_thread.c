// labels: gc threads
/* After a major collection, the pages it found old objects dead on are
 * given back (unprotected) by a walk over the protected pages.  A
 * collection that fell due runs on the thread whose allocation reached the
 * goal (or, for an idle collection, the one whose allocation found it
 * due); that walk, made there, was a pause of that thread as long as the
 * stop itself (27 ms on the scanned pause test).  So the walk of such a
 * collection is left to the background sweeper
 * (rule:unprotect-walk-off-the-allocator).  Checked with the test hook
 * that runs at the start of each walk: over automatic majors (no
 * sgc_collect here), none runs on the allocating thread, and at least one
 * runs.  The thread pauses after each major until its walk is made, so a
 * loaded machine, where the sweeper may not run before the next
 * collection (whose entry then makes the walk), cannot fail the test.
 * Without generations or write tracking there is no walk: only the
 * contents are checked. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

typedef struct node {
  struct node *next;
  uint64_t val;
  uint64_t pad[2];
} node;

static pthread_t main_thread;
static int walks, walks_on_main; /* atomic */

static void on_walk(void) {
  if (pthread_equal(pthread_self(), main_thread))
    __atomic_add_fetch(&walks_on_main, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&walks, 1, __ATOMIC_SEQ_CST);
}

node *volatile kept; /* root: a list that grows, so majors come */

int main(void) {
  sgc_init();
  main_thread = pthread_self();
  sgc_stats st;
  sgc_read_stats(&st);
  bool walks_expected = st.generational && st.dirty_tracking != SGC_DIRTY_OFF;
  ATOMIC_STORE(&sgc_test_unprotect_walk_hook, on_walk);

  long want_majors = scaled(6) < 3 ? 3 : scaled(6);
  long majors = 0, nkept = 0;
  uint64_t seen = st.num_major_gc;
  double deadline = now_seconds() + 120;
  for (long i = 0; majors < want_majors && now_seconds() < deadline; i++) {
    node *n = sgc_alloc(sizeof(node));
    CHECK(n != NULL);
    n->val = (uint64_t)i;
    if (i % 4 == 0) { /* one in four lives on: the old generation grows */
      n->next = kept;
      kept = n;
      nkept++;
    }
    if ((i & 1023) != 0)
      continue;
    sgc_read_stats(&st);
    if (st.num_major_gc == seen)
      continue;
    majors += (long)(st.num_major_gc - seen);
    seen = st.num_major_gc;
    /* Give the sweeper the time to make the walks (one a major) before
     * more allocation falls due. */
    for (double t = now_seconds(); walks_expected && now_seconds() - t < 10;) {
      if (__atomic_load_n(&walks, __ATOMIC_SEQ_CST) >= majors)
        break;
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  CHECKF(majors >= want_majors, "only %ld automatic majors in 120 s",
         majors);

  long count = 0;
  for (node *n = kept; n != NULL; n = n->next) {
    CHECKF(n->val % 4 == 0, "node %ld of the kept list holds %llu", count,
           (unsigned long long)n->val);
    count++;
  }
  CHECKF(count == nkept, "kept list: %ld nodes, %ld made", count, nkept);

  int w = __atomic_load_n(&walks, __ATOMIC_SEQ_CST);
  int on_main = __atomic_load_n(&walks_on_main, __ATOMIC_SEQ_CST);
  printf("%ld automatic majors, %d unprotect walks, %d on the allocating "
         "thread%s\n", majors, w, on_main,
         walks_expected ? "" : " (no walks in this mode)");
  CHECKF(on_main == 0,
         "%d of %d unprotect walks ran on the allocating thread", on_main, w);
  if (walks_expected)
    CHECKF(w >= 1, "no unprotect walk ran over %ld majors", majors);
  return 0;
}
