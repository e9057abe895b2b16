// labels: gc
/* Minors beside concurrent majors (SPANGC_CONCURRENT=1, set here) with a
 * small GOGC: a large structure that stays (minors during its growth do
 * not pay: majors follow), then only short-lived lists.
 * Each cycle allocates a tenth of the live heap; the young die.  After
 * the structure's growth the majors' age samples must find that, and
 * minors come back.  Catches an age sample that gives no verdict when the
 * young are few beside the old (a guard that refused below a quarter of
 * the old bytes: no minor of 530 in the adversarial review's program,
 * pauses of 2-3 s of concurrent majors, 10-15 s against 1-2 s).  Skipped
 * without concurrent marking or without generations. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

typedef struct node {
  struct node *next;
  uint64_t v, w[4];
} node;

static node **keep; /* the structure, a root through the global */

int main(void) {
  if (!conc_gen_init_or_skip())
    return 0;
  sgc_set_gcpercent(10);
  long n = (long)(1000000 * test_scale());
  if (n < 200000)
    n = 200000;
  keep = sgc_alloc(sizeof(node *) * (size_t)n);
  CHECK(keep != NULL);
  for (long i = 0; i < n; i++) {
    CHECK((keep[i] = sgc_alloc(sizeof(node))) != NULL);
    keep[i]->v = (uint64_t)i;
  }
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t gc0 = st.num_gc, minor0 = 0, counted = 0;
  /* Short-lived lists of 16 nodes, until 50 collections passed; the
   * minors of the last 30 are counted. */
  for (uint64_t k = 0;; k++) {
    node *l = NULL;
    for (int j = 0; j < 16; j++) {
      node *x = sgc_alloc(sizeof *x);
      CHECK(x != NULL);
      x->next = l;
      l = x;
    }
    if ((k & 1023) != 0)
      continue;
    keep[(k * 7919) % (uint64_t)n]->w[0] = k; /* a few old writes */
    sgc_read_stats(&st);
    if (counted == 0 && st.num_gc >= gc0 + 20) {
      counted = st.num_gc;
      minor0 = st.num_minor_gc;
    }
    if (counted != 0 && st.num_gc >= counted + 30)
      break;
    CHECKF(k < 4000000000ull, "%llu collections only",
           (unsigned long long)(st.num_gc - gc0));
  }
  for (long i = 0; i < n; i++)
    CHECKF(keep[i]->v == (uint64_t)i, "node %ld lost its value", i);
  uint64_t minors = st.num_minor_gc - minor0;
  printf("%ld nodes kept; of the last %llu collections %llu minor "
         "(%llu concurrent in all)\n", n,
         (unsigned long long)(st.num_gc - counted), (unsigned long long)minors,
         (unsigned long long)st.num_concurrent_gc);
  CHECKF(minors * 2 >= st.num_gc - counted, "%llu minors of %llu collections "
         "while every young list died", (unsigned long long)minors,
         (unsigned long long)(st.num_gc - counted));
  return 0;
}
