// labels: gc
/* Before its mark, every concurrent cycle write-protects the pages of the
 * scanned spans.  Most of them are still protected from the cycle before:
 * only the pages written since lost their protection, and only those may
 * the kernel be asked to change (dirty.c's protect_written; each changed
 * entry costs the program a trap to the host and a TLB flush on these
 * virtual machines).  A 40 MB structure of scanned objects is kept; after
 * a cycle in which the program wrote nothing, the next one protects next
 * to nothing anew; after one in which it wrote a word on every fourth of
 * the structure's pages, it protects about those.  Every object keeps its
 * contents throughout.
 * Catches: UFFDIO_WRITEPROTECT over the whole heap at every cycle (the
 * kernel rewrote every entry: a quiet cycle "protected" all 10000 pages
 * of the structure again). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"

#define N 40000
#define SIZE 1024 /* 4 to a kernel page */

typedef struct node {
  struct node *next;
  uint64_t val[SIZE / 8 - 1];
} node;

node **volatile nodes; /* root */

static uint64_t protected_pages(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.dirty_pages_protected;
}

static void check_contents(void) {
  for (int i = 0; i < N; i++) {
    CHECKF(nodes[i]->val[0] == (uint64_t)i, "node %d holds %llu", i,
           (unsigned long long)nodes[i]->val[0]);
    CHECK(nodes[i]->next == nodes[(i + 1) % N]);
  }
}

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  nodes = sgc_alloc(N * sizeof(node *));
  CHECK(nodes != NULL);
  for (int i = 0; i < N; i++) {
    nodes[i] = sgc_alloc(sizeof(node));
    CHECK(nodes[i] != NULL);
    nodes[i]->val[0] = (uint64_t)i;
  }
  for (int i = 0; i < N; i++)
    nodes[i]->next = nodes[(i + 1) % N];
  clear_stack();
  for (int k = 0; k < 3; k++) /* settled: the structure's pages protected */
    sgc_collect();
  uint64_t structure_pages = (uint64_t)N * SIZE / 4096;

  uint64_t p0 = protected_pages();
  sgc_collect(); /* the program wrote nothing since the last cycle */
  uint64_t quiet = protected_pages() - p0;

  /* A word on every fourth kernel page of the structure: nodes 4 apart
   * share no page, 16 apart are a page in four. */
  uint64_t written = 0;
  for (int i = 0; i < N; i += 16) {
    nodes[i]->val[1]++;
    written++;
  }
  p0 = protected_pages();
  sgc_collect();
  uint64_t after_writes = protected_pages() - p0;
  fprintf(stderr,
          "structure %llu pages; protected anew: %llu after a quiet cycle, "
          "%llu after writing %llu pages\n",
          (unsigned long long)structure_pages, (unsigned long long)quiet,
          (unsigned long long)after_writes, (unsigned long long)written);
  check_contents();
  if (!generational()) {
    /* By design: with generations off a concurrent major unprotects the
     * heap after its mark (generation.c, gen_end), so that allocating
     * into freed slots costs no fault between cycles, and every cycle
     * protects it all anew. */
    CHECKF(quiet >= structure_pages, "generations off: %llu protected",
           (unsigned long long)quiet);
    printf("ok (generations off)\n");
    return 0;
  }
  /* Room for the collector's own writes and the root array's pages. */
  CHECKF(quiet < structure_pages / 20,
         "a quiet cycle protected %llu pages anew (structure: %llu)",
         (unsigned long long)quiet, (unsigned long long)structure_pages);
  CHECKF(after_writes >= written,
         "%llu pages written, only %llu protected again",
         (unsigned long long)written, (unsigned long long)after_writes);
  CHECKF(after_writes < written + structure_pages / 20,
         "%llu pages written, %llu protected anew",
         (unsigned long long)written, (unsigned long long)after_writes);
  check_contents();
  printf("ok\n");
  return 0;
}
