// labels: heap gc
/* Prompt release after the live heap shrank (memlimit.c) must not give
 * back pages a program whose heap swings between collections reuses at
 * once: binary trees (a long-lived tree and many short-lived ones) had
 * tens of MB released after collections and faulted back in within the
 * same cycle, which cost 40% of its time in system calls.  Over such a
 * run, what goes back promptly stays a small part of the heap: under half
 * its peak (1.7 times the peak went back before the fix; a run slowed
 * down, a Debug build on a loaded machine, may rightly return a few MB
 * that stayed free past the 500 ms rule when the trees' depth changes:
 * up to 5.7 MB of 35.9 MB seen, 0-4 MB usually). */
#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

typedef struct node { struct node *l, *r; } node;

static node *tree(int d) {
  node *n = sgc_alloc(sizeof *n);
  CHECK(n != NULL);
  if (d > 0) {
    n->l = tree(d - 1);
    n->r = tree(d - 1);
  }
  return n;
}

static long count(const node *n) {
  return n ? 1 + count(n->l) + count(n->r) : 0;
}

int main(void) {
  sgc_init();
  int max = scaled(19) < 14 ? 14 : (int)scaled(19);
  node *volatile longlived = tree(max - 1);
  long checks = 0;
  for (int d = 4; d <= max; d += 2) {
    long iters = 1L << (max - d + 4);
    for (long i = 0; i < iters; i++)
      checks += count(tree(d));
  }
  CHECK(count(longlived) == (1L << max) - 1);
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%llu collections (%llu idle), peak %.1f MB in spans, %.1f MB "
         "released promptly (%ld nodes checked)\n",
         (unsigned long long)st.num_gc,
         (unsigned long long)st.idle_collections,
         st.peak_span_bytes / 1048576.0,
         st.prompt_released_bytes / 1048576.0, checks);
  CHECKF(st.prompt_released_bytes <= st.peak_span_bytes / 2,
         "%.1f MB released promptly by a heap that swings, peak %.1f MB",
         st.prompt_released_bytes / 1048576.0,
         st.peak_span_bytes / 1048576.0);
  return 0;
}
