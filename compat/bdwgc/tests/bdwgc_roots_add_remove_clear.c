/* GC_add_roots makes malloc'ed memory (also with unaligned bounds) a root
 * whose objects survive intact; GC_remove_roots over it and GC_clear_roots
 * remove it and its objects are collected; unregistered memory is not
 * scanned. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 600
#define TSIZE 40

enum { R_ALIGNED, R_UNALIGNED, R_NEVER, R_REMOVED, R_REMOVED_WIDE, R_CLEARED,
       NR };
static const char *const names[NR] = {
    "added", "added with unaligned bounds", "never added", "removed",
    "removed by a wider range", "cleared"};
void **region[NR];            /* malloc'ed: invisible to the collector */
GC_hidden_pointer w[NR][N];

static NOINLINE void fill(int r) {
  region[r] = malloc((N + 2) * sizeof(void *));
  CHECK(region[r] != NULL, "malloc");
  memset(region[r], 0, (N + 2) * sizeof(void *));
  for (int i = 0; i < N; i++) {
    char *t = GC_malloc(TSIZE);
    CHECK(t != NULL, "allocation");
    fill_pattern(t, TSIZE, r * N + i);
    region[r][i + 1] = t;
    watch(&w[r][i], t);
  }
}

static void add(int r) {
  if (r == R_UNALIGNED)
    GC_add_roots((char *)region[r] + 3,
                 (char *)&region[r][N + 1] + 5);
  else
    GC_add_roots(&region[r][1], &region[r][N + 1]);
}

static void expect_alive(int r, const char *when) {
  for (int i = 0; i < N; i++) {
    CHECK(w[r][i] != 0, "%s: object %d of the %s range collected", when, i,
          names[r]);
    CHECK(check_pattern(region[r][i + 1], TSIZE, r * N + i) < 0,
          "%s: object %d of the %s range changed", when, i, names[r]);
  }
}

static void expect_dead(int r, const char *when) {
  long dead = count_cleared(w[r], N);
  CHECK(mostly(dead, N), "%s: only %ld of %d objects of the %s range "
        "collected", when, dead, N, names[r]);
}

int main(void) {
  GC_INIT();
  for (int r = 0; r < NR; r++) {
    fill(r);
    if (r != R_NEVER) add(r);
  }
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int r = 0; r < NR; r++)
      if (r != R_NEVER) expect_alive(r, "while added");
  }
  expect_dead(R_NEVER, "unregistered malloc memory");

  GC_remove_roots(&region[R_REMOVED][1], &region[R_REMOVED][N + 1]);
  GC_remove_roots((char *)region[R_REMOVED_WIDE] - 4096,
                  (char *)&region[R_REMOVED_WIDE][N + 2] + 4096);
  collect(3);
  expect_dead(R_REMOVED, "GC_remove_roots");
  expect_dead(R_REMOVED_WIDE, "GC_remove_roots");
  for (int round = 0; round < 5; round++) {
    collect(1);
    expect_alive(R_ALIGNED, "after removing other ranges");
    expect_alive(R_UNALIGNED, "after removing other ranges");
    expect_alive(R_CLEARED, "after removing other ranges");
  }

  GC_clear_roots();
  collect(3);
  expect_dead(R_CLEARED, "GC_clear_roots");
  expect_dead(R_ALIGNED, "GC_clear_roots");

  /* The collector still works: objects on the stack survive. */
  char *local[64];
  for (int i = 0; i < 64; i++) {
    local[i] = GC_malloc(100);
    CHECK(local[i] != NULL, "allocation after GC_clear_roots");
    fill_pattern(local[i], 100, i);
  }
  collect(3);
  for (int i = 0; i < 64; i++)
    CHECK(check_pattern(local[i], 100, i) < 0,
          "stack-held object changed after GC_clear_roots");
  PASS("bdwgc_roots_add_remove_clear");
}
