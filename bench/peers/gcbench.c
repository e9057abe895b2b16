/* GCBench (after Ellis, Kovac and Boehm), one source for several allocators.
   -DUSE_BDWGC (add -DBDWGC_MARKERS to start bdwgc's parallel markers), -DUSE_PROJECT.
   bench/ addition: "check:" lines (the long-lived tree and the array must survive intact). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef USE_BDWGC
#include <gc.h>
#define ALLOC(n) GC_MALLOC(n)
#define ALLOC_ATOMIC(n) GC_MALLOC_ATOMIC(n)
#ifdef BDWGC_MARKERS
#define INIT() do { GC_INIT(); GC_start_mark_threads(); } while (0)
#else
#define INIT() GC_INIT()
#endif
#elif defined(USE_PROJECT)
#include PROJECT_H
#define ALLOC(n) PROJECT_ALLOC(n)
#define ALLOC_ATOMIC(n) PROJECT_ALLOC_ATOMIC(n)
#define INIT() PROJECT_INIT()
#endif
enum { kStretchTreeDepth = 18, kLongLivedTreeDepth = 16, kArraySize = 500000, kMinTreeDepth = 4, kMaxTreeDepth = 16 };
typedef struct Node { struct Node *left, *right; int i, j; } Node;
static Node *new_node(Node *l, Node *r) { Node *n = ALLOC(sizeof *n); n->left = l; n->right = r; n->i = n->j = 0; return n; }
static int tree_size(int i) { return (1 << (i + 1)) - 1; }
static int num_iters(int i) { return 2 * tree_size(kStretchTreeDepth) / tree_size(i); }
static void populate(int depth, Node *n) { if (depth-- <= 0) return; n->left = new_node(0, 0); n->right = new_node(0, 0); populate(depth, n->left); populate(depth, n->right); }
static Node *make_tree(int depth) { return depth <= 0 ? new_node(0, 0) : new_node(make_tree(depth - 1), make_tree(depth - 1)); }
static long count(Node *n) { return n ? 1 + count(n->left) + count(n->right) : 0; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static void time_construction(int depth) {
  int iters = num_iters(depth);
  long c1 = 0, c2 = 0;
  double t = now();
  for (int i = 0; i < iters; i++) { Node *n = new_node(0, 0); populate(depth, n); if (i == iters - 1) c1 = count(n); }
  double t2 = now();
  for (int i = 0; i < iters; i++) { Node *n = make_tree(depth); if (i == iters - 1) c2 = count(n); }
  printf("depth %2d: %6d trees, top-down %6.0f ms, bottom-up %6.0f ms\n", depth, iters, t2 - t, now() - t2);
  printf("check: depth %d, %d trees, last trees %ld %ld nodes\n", depth, iters, c1, c2);
}
int main(void) {
  INIT();
  double t0 = now();
  make_tree(kStretchTreeDepth);
  Node *ll = new_node(0, 0); populate(kLongLivedTreeDepth, ll);
  double *a = ALLOC_ATOMIC(sizeof(double) * kArraySize);
  for (int i = 0; i < kArraySize / 2; i++) a[i] = 1.0 / i;
  for (int d = kMinTreeDepth; d <= kMaxTreeDepth; d += 2) time_construction(d);
  if (!ll || a[1000] != 1.0 / 1000) puts("failed");
  printf("check: long lived tree %ld nodes, array %s\n", count(ll), a[1000] == 1.0 / 1000 ? "ok" : "CORRUPT");
  printf("total %.0f ms\n", now() - t0);
  return 0;
}
