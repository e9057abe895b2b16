// labels: gc
/* Generational policy beside concurrent majors (SPANGC_CONCURRENT=1, set
 * here): a program first builds a long-lived tree (every young object
 * survives, so the minor that runs meanwhile does not pay, nor do the
 * majors), then makes only short-lived trees.  Once the growth is over,
 * a major finds the young trees dead (its age sample, generation.c), a
 * small trial minor pays, and minors are back: of the collections in the
 * second phase, at most a few are major.  Catches: a policy that, after
 * a minor that did not pay, keeps minors off for many majors whatever
 * the majors find (binary-trees under SPANGC_CONCURRENT=1 ran 16-28
 * majors instead of 4, 1.2-1.27x the stop-the-world wall time), and an
 * age sample that misjudges young survivors.  Skipped without concurrent
 * marking or without generations. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

typedef struct tree {
  struct tree *left, *right;
} tree;

static tree *build(int depth) {
  tree *t = sgc_alloc(sizeof *t);
  CHECK(t != NULL);
  if (depth > 0) {
    t->left = build(depth - 1);
    t->right = build(depth - 1);
  }
  return t;
}

static long count(const tree *t) {
  return t->left ? 1 + count(t->left) + count(t->right) : 1;
}

static tree *volatile keep; /* the long-lived tree */
static tree *volatile sink;

int main(void) {
  if (!conc_gen_init_or_skip())
    return 0;
  sgc_stats st0;
  /* About 32 MB that stays: a major's mark takes well over the 2 ms
   * below which majors stop the world (concurrent.c), even on a fast
   * machine, so majors are concurrent and the policy above applies. */
  keep = build(20);
  sgc_read_stats(&st0);
  /* Short-lived trees of 2047 nodes, 40 collections' worth. */
  uint64_t target = st0.num_gc + 40;
  sgc_stats st;
  long made = 0;
  do {
    sink = build(10);
    made++;
    sgc_read_stats(&st);
    CHECKF(made < 10000000, "only %llu collections",
           (unsigned long long)(st.num_gc - st0.num_gc));
  } while (st.num_gc < target);
  uint64_t minors = st.num_minor_gc - st0.num_minor_gc;
  uint64_t majors = st.num_major_gc - st0.num_major_gc;
  CHECK(count(keep) == (2L << 20) - 1);
  printf("second phase: %llu minor, %llu major collections (%llu "
         "concurrent overall), %ld trees\n",
         (unsigned long long)minors, (unsigned long long)majors,
         (unsigned long long)st.num_concurrent_gc, made);
  /* The growth's last majors, the one that finds the young dead, the
   * trial, and a major now and then when the old generation filled. */
  CHECKF(majors <= 10, "%llu of %llu collections after the growth were "
         "major", (unsigned long long)majors,
         (unsigned long long)(majors + minors));
  return 0;
}
