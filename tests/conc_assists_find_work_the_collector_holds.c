// labels: gc
/* Concurrent marking (SPANGC_CONCURRENT=1, set here): a thread that
 * reached the goal during a concurrent mark assists, and it must find
 * work even when the collector thread holds all of it.  Marking a binary
 * tree depth first, the collector's own work buffer never fills (it holds
 * about one item per level), so it shared nothing, and every assist found
 * no full buffer: the thread polled, idle, until the collector alone had
 * finished.  0-5 assists found work in 3 cycles over a 16 MB tree with
 * GOGC 25 (release, debug and TSan builds), against 28-234 once an assist
 * at the goal that finds nothing has the collector hand half of its
 * buffer over (work.hungry).  Counted by
 * sgc_stats' concurrent_assists (assists that scanned something).
 * Skipped without concurrent marking; generations off. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

typedef struct node {
  struct node *l, *r;
} node;

static node *make(int d) {
  node *n = sgc_alloc(sizeof *n);
  CHECK(n != NULL);
  if (d > 0) {
    n->l = make(d - 1);
    n->r = make(d - 1);
  }
  return n;
}

static long count(const node *n) {
  return n->l ? 1 + count(n->l) + count(n->r) : 1;
}

static node *volatile keep; /* the live tree, a root through the global */

int main(void) {
  /* Majors only: with minors, the garbage trees die young and minors
   * free them (aging: no tree is promoted half built), so no major
   * would come. */
  setenv("SPANGC_GENERATIONAL", "0", 1);
  if (!conc_init_or_skip())
    return 0;
  /* A small room: each cycle starts soon after the last and the thread
   * reaches the goal early, then waits (or assists) for most of it. */
  sgc_set_gcpercent(25);
  keep = make(19);
  sgc_stats st0, st;
  sgc_read_stats(&st0);
  long made = 0;
  /* Garbage trees until three concurrent cycles ran (and at least as
   * much as the tree's size again, to have the pacing see the rate). */
  for (long i = 0;; i++) {
    node *t = make(7);
    made += t->l != NULL;
    if ((i & 63) != 0)
      continue;
    sgc_read_stats(&st);
    if (st.num_concurrent_gc - st0.num_concurrent_gc >= 3 && i >= 10000)
      break;
    CHECKF(i < 10000000L, "only %llu concurrent collections",
           (unsigned long long)(st.num_concurrent_gc - st0.num_concurrent_gc));
  }
  CHECKF(count(keep) == (2L << 19) - 1, "the live tree lost nodes");
  uint64_t cycles = st.num_concurrent_gc - st0.num_concurrent_gc;
  uint64_t assists = st.concurrent_assists - st0.concurrent_assists;
  printf("%ld garbage trees, %llu concurrent cycles, %llu assists with "
         "work (%.2f ms)\n", made, (unsigned long long)cycles,
         (unsigned long long)assists,
         (double)(st.concurrent_assist_ns - st0.concurrent_assist_ns) / 1e6);
  CHECKF(assists >= 5 * cycles,
         "%llu assists found work in %llu concurrent cycles over a binary "
         "tree", (unsigned long long)assists, (unsigned long long)cycles);
  return 0;
}
