/* binary-trees (benchmarks game rules), one source, several allocators:
   -DUSE_BDWGC   : bdwgc GC_MALLOC, no frees; add -DBDWGC_MARKERS to start bdwgc's parallel
                   marker threads (GC_start_mark_threads(); a single-threaded program never
                   starts them otherwise)
   -DUSE_PROJECT : a collector under test, no frees (PROJECT_H names a header that defines
                   PROJECT_ALLOC, PROJECT_INIT; see README.md)
   -DUSE_MIMALLOC: mi_malloc/mi_free
   default       : malloc/free (manual, the "physical" reference)          */
#include <stdio.h>
#include <stdlib.h>
#ifdef USE_BDWGC
#include <gc.h>
#define ALLOC(n) GC_MALLOC(n)
#define FREE(p) ((void)0)
#ifdef BDWGC_MARKERS
#define INIT() do { GC_INIT(); GC_start_mark_threads(); } while (0)
#else
#define INIT() GC_INIT()
#endif
#elif defined(USE_PROJECT)
#include PROJECT_H
#define ALLOC(n) PROJECT_ALLOC(n)
#define FREE(p) ((void)0)
#define INIT() PROJECT_INIT()
#elif defined(USE_MIMALLOC)
#include <mimalloc.h>
#define ALLOC(n) mi_malloc(n)
#define FREE(p) mi_free(p)
#define INIT() ((void)0)
#else
#define ALLOC(n) malloc(n)
#define FREE(p) free(p)
#define INIT() ((void)0)
#endif
typedef struct node { struct node *l, *r; } node;
static node *make(int d) {
  node *n = ALLOC(sizeof *n);
  if (d > 0) { n->l = make(d - 1); n->r = make(d - 1); } else n->l = n->r = 0;
  return n;
}
static long check(node *n) { return n->l ? 1 + check(n->l) + check(n->r) : 1; }
static void drop(node *n) { if (n->l) { drop(n->l); drop(n->r); } FREE(n); }
int main(int argc, char **argv) {
  INIT();
  int n = argc > 1 ? atoi(argv[1]) : 21, min = 4, max = n < min + 2 ? min + 2 : n;
  node *s = make(max + 1);
  printf("stretch tree of depth %d\t check: %ld\n", max + 1, check(s)); drop(s);
  node *ll = make(max);
  for (int d = min; d <= max; d += 2) {
    long it = 1L << (max - d + min), c = 0;
    for (long i = 0; i < it; i++) { node *t = make(d); c += check(t); drop(t); }
    printf("%ld\t trees of depth %d\t check: %ld\n", it, d, c);
  }
  printf("long lived tree of depth %d\t check: %ld\n", max, check(ll));
  return 0;
}
