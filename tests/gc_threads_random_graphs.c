// labels: gc threads
/* 8 mutator threads build and drop random graphs of objects of random
 * sizes (some large), while the main thread forces collections in a loop
 * (1000, scaled).  Every object carries a checksum of its contents and its
 * edges, verified whenever a thread visits it: a live object freed, reused
 * or scribbled on by the collector shows up as a bad checksum. */
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#ifndef NCOLLECTIONS
#define NCOLLECTIONS 1000
#endif
#define NTHREADS 8
#define NROOTS 64
#define MAXEDGES 6
#define WALK 12

typedef struct node {
  uint64_t sum;
  uint64_t id;
  uint32_t nedges, nwords; /* payload words after the edges */
  uint32_t depth, pad;     /* longest path of edges below this node */
  struct node *edge[];     /* then the payload */
} node;

static int stop;        /* atomic */
static long corrupt;    /* atomic */
static long nvisited;   /* atomic */
static long ncreated;   /* atomic */

static uint64_t *payload(node *n) { return (uint64_t *)&n->edge[n->nedges]; }

static uint64_t checksum(node *n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n->id;
  h = (h ^ ((uint64_t)n->nedges << 32 | n->nwords)) * 0x100000001b3ull;
  for (uint32_t i = 0; i < n->nedges; i++)
    h = (h ^ (uint64_t)(uintptr_t)n->edge[i]) * 0x100000001b3ull;
  uint64_t *p = payload(n);
  for (uint32_t i = 0; i < n->nwords; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void verify(node *n, const char *where) {
  if (n->sum != checksum(n)) {
    ATOMIC_ADD(&corrupt, 1);
    fprintf(stderr, "corrupted node %p (id %llu, %u edges, %u words) %s\n",
            (void *)n, (unsigned long long)n->id, n->nedges, n->nwords,
            where);
    exit(1);
  }
  ATOMIC_ADD(&nvisited, 1);
}

/* Edges go only to nodes less than MAXDEPTH deep, so what a root reaches
 * stays bounded (without it every new node keeps the whole history alive
 * and each collection marks more than the last). */
#define MAXDEPTH 3
static node *shallow(node *t, uint32_t below) {
  return t && t->depth < below ? t : NULL;
}

static node *new_node(uint64_t *rs, uint64_t id, node **roots) {
  uint32_t nedges = (uint32_t)(xorshift64(rs) % (MAXEDGES + 1));
  uint64_t r = xorshift64(rs) % 100;
  uint32_t nwords;
  if (r < 2)
    nwords = (uint32_t)(4096 + xorshift64(rs) % 16384); /* large: 32..160 KiB */
  else if (r < 20)
    nwords = (uint32_t)(xorshift64(rs) % 600);
  else
    nwords = (uint32_t)(xorshift64(rs) % 12);
  size_t sz = sizeof(node) + nedges * sizeof(node *) + nwords * 8u;
  node *n = sgc_alloc(sz);
  CHECK(n != NULL);
  n->id = id;
  n->nedges = nedges;
  n->nwords = nwords;
  n->depth = 0;
  for (uint32_t i = 0; i < nedges; i++) {
    /* An edge to something reachable: a root or one of its neighbours. */
    node *t = roots[xorshift64(rs) % NROOTS];
    if (t && t->nedges && (xorshift64(rs) & 1))
      t = t->edge[xorshift64(rs) % t->nedges];
    n->edge[i] = shallow(t, MAXDEPTH);
    if (n->edge[i] && n->edge[i]->depth + 1 > n->depth)
      n->depth = n->edge[i]->depth + 1;
  }
  uint64_t *p = payload(n);
  for (uint32_t i = 0; i < nwords; i++)
    p[i] = xorshift64(rs) | 0x8000000000000000ull; /* never a heap address */
  n->sum = checksum(n);
  ATOMIC_ADD(&ncreated, 1);
  return n;
}

static void walk(node *n, uint64_t *rs) {
  for (int k = 0; k < WALK && n; k++) {
    verify(n, "on a walk");
    if (n->nedges == 0)
      return;
    n = n->edge[xorshift64(rs) % n->nedges];
  }
}

static void *mutator(void *arg) {
  uint64_t rs = 0x1234567ull * (uint64_t)(uintptr_t)arg + 99;
  node *roots[NROOTS];
  memset(roots, 0, sizeof roots);
  uint64_t id = (uint64_t)(uintptr_t)arg << 40;
  while (!ATOMIC_LOAD(&stop)) {
    uint64_t op = xorshift64(&rs) % 100;
    int i = (int)(xorshift64(&rs) % NROOTS);
    if (op < 50) {
      roots[i] = new_node(&rs, ++id, roots); /* the old root may die */
    } else if (op < 60) {
      roots[i] = NULL; /* drop a whole graph */
    } else if (op < 75 && roots[i] && roots[i]->nedges) {
      /* Re-point an edge. */
      node *n = roots[i];
      verify(n, "before an edge change");
      /* Only to something shallower: n's depth stays true. */
      n->edge[xorshift64(&rs) % n->nedges] =
          shallow(roots[xorshift64(&rs) % NROOTS], n->depth);
      n->sum = checksum(n);
    } else {
      walk(roots[i], &rs);
    }
  }
  for (int i = 0; i < NROOTS; i++)
    walk(roots[i], &rs);
  return NULL;
}

int main(void) {
  sgc_init();
  pthread_t t[NTHREADS];
  for (long i = 0; i < NTHREADS; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, mutator, (void *)(i + 1)) == 0);
  sgc_stats st0, st;
  sgc_read_stats(&st0);
  long n = scaled(NCOLLECTIONS);
  for (long k = 0; k < n; k++) {
    sgc_collect();
    if (k % 4 == 0)
      sched_yield(); /* let the mutators build something between stops */
  }
  ATOMIC_STORE(&stop, 1);
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
  sgc_read_stats(&st);
  printf("%llu collections, %ld nodes created, %ld visits, heap spans "
         "%.1f MB\n", (unsigned long long)(st.num_gc - st0.num_gc),
         ATOMIC_LOAD(&ncreated), ATOMIC_LOAD(&nvisited),
         st.heap_span_bytes / 1048576.0);
  CHECK(ATOMIC_LOAD(&corrupt) == 0);
  CHECK(st.num_gc - st0.num_gc >= (uint64_t)n);
  CHECK(ATOMIC_LOAD(&nvisited) > 0);
  return 0;
}
