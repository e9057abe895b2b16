// labels: gc
// env: SPANGC_MARK_STACK_MAX=65536
/* With the mark stack capped at 64 KiB (16 work buffers), marking a wide
 * and deep structure overflows it; the collector rescans marked objects
 * until nothing is left unscanned.  Every object survives, contents
 * intact, and the overflow is counted. */
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

typedef struct node { struct node *kid[4]; uint64_t key, sum; } node;

static uint64_t mix(uint64_t k) { return k * 0x9e3779b97f4a7c15ull ^ 0x77; }

static node *build(int depth, uint64_t key, long *count) {
  node *n = sgc_alloc(sizeof *n);
  CHECK(n != NULL);
  n->key = key;
  n->sum = mix(key);
  (*count)++;
  if (depth > 0)
    for (int i = 0; i < 4; i++)
      n->kid[i] = build(depth - 1, key * 4 + (uint64_t)i, count);
  return n;
}

static long check(const node *n, uint64_t key) {
  if (n == NULL)
    return 0;
  CHECKF(n->key == key && n->sum == mix(key), "node %llx corrupted",
         (unsigned long long)key);
  long c = 1;
  for (int i = 0; i < 4; i++)
    c += check(n->kid[i], key * 4 + (uint64_t)i);
  return c;
}

int main(void) {
  sgc_init();
  /* A wide array of trees: the roots alone fill many work buffers. */
  enum { NTREES = 4096 };
  node **trees = sgc_alloc(NTREES * sizeof *trees);
  long built = 0;
  for (int i = 0; i < NTREES; i++)
    trees[i] = build(4, (uint64_t)i + 1, &built);
  for (int round = 0; round < 3; round++) {
    sgc_collect();
    /* Churn: memory of anything freed wrongly gets reused. */
    for (int k = 0; k < 200000; k++) {
      node *volatile junk = sgc_alloc(sizeof(node));
      junk->key = ~0ull;
    }
  }
  long seen = 0;
  for (int i = 0; i < NTREES; i++)
    seen += check(trees[i], (uint64_t)i + 1);
  CHECKF(seen == built, "%ld of %ld nodes found", seen, built);
  sgc_stats st;
  sgc_read_stats(&st);
  CHECKF(st.mark_overflows > 0, "the mark stack never overflowed");
  printf("%ld nodes intact after %llu mark-stack overflow rescans\n", seen,
         (unsigned long long)st.mark_overflows);
  return 0;
}
