/* gen — a large long-lived structure and a stream of short-lived garbage:
 * the program generational collection is for (issue 13).
 *
 *   gen STRUCT_MB GARBAGE_MB [mixed|writeall]
 *
 * Built once: STRUCT_MB of 32-byte nodes (one allocation each), held by
 * one pointer array, each node pointing at another node chosen at random
 * (a graph, not a list: marking it is pointer chasing).  Then GARBAGE_MB
 * iterations, each allocating about 1 MiB of short-lived garbage: linked
 * lists of 32 cells (every other cell with a 32-byte pointer-free
 * payload), built, summed and dropped.  Each iteration also rewrites a
 * small fraction of the old nodes (about 1 in 65536, at least one) to
 * point at a new young list of 4 cells: those writes are what a minor
 * collection must find (their pages are rescanned), and the lists they
 * replace become old garbage that only a major collection frees.
 *
 * writeall: besides, every 8 iterations (8 MiB of garbage, less than a
 * collection's worth at these heap sizes) a store into every 2 KiB of the
 * nodes (they are allocated in a row) and into every 4 KiB page of the pointer array, so every
 * page of the structure is written between two collections (for the cost
 * of the kernel's dirty-page tracking; gctrace's "written pages" shows it).
 *
 * Prints a "check:" line (a checksum of the structure and of the garbage
 * lists, independent of addresses, so identical for every collector) and
 * a "stats:" line (collections; minor and major ones with spangc).  On
 * stderr, "gen: structure built" separates the collections of the build
 * from those of the garbage stream (in SPANGC_DEBUG=gctrace=1 output).
 *
 * Build: gcc -O2 gen.c $(pkg-config --cflags --libs spangc)          spangc's API
 *        gcc -O2 -DUSE_BDWGC gen.c -lgc                               bdwgc (GC_MALLOC)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef USE_BDWGC
#include <gc.h>
#define INIT() GC_INIT()
#define ALLOC(n) GC_MALLOC(n)
#define ALLOC_ATOMIC(n) GC_MALLOC_ATOMIC(n)
#else
#include <spangc.h>
#define INIT() sgc_init()
#define ALLOC(n) sgc_alloc(n)
#define ALLOC_ATOMIC(n) sgc_alloc_noscan(n)
#endif

typedef struct cell {
  struct cell *next;
  uint64_t val;
  unsigned char *data; /* 32 pointer-free bytes, or NULL */
  uint64_t pad;
} cell;

typedef struct node {
  struct node *next; /* another old node */
  cell *young;       /* the last list hung here by a rewrite */
  uint64_t val;
  uint64_t id;
} node;

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void) { /* xorshift64* */
  rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
  return rng * 2685821657736338717u;
}

enum { LIST_LEN = 32, YOUNG_LEN = 4, PAYLOAD = 32, WRITEALL_EVERY = 8, WRITE_STRIDE = 2048 / sizeof(node) };

static cell *make_list(int n, int payload) {
  cell *l = NULL;
  for (int i = 0; i < n; i++) {
    cell *c = ALLOC(sizeof *c);
    c->next = l;
    c->val = rnd() >> 40;
    if (payload && (i & 1)) {
      c->data = ALLOC_ATOMIC(PAYLOAD);
      memset(c->data, (int)(c->val & 0xff), PAYLOAD);
    }
    l = c;
  }
  return l;
}

static uint64_t sum_list(const cell *l) {
  uint64_t s = 0;
  for (; l; l = l->next) s = s * 31 + l->val + (l->data ? l->data[PAYLOAD - 1] : 0);
  return s;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: gen STRUCT_MB GARBAGE_MB [mixed|writeall]\n");
    return 2;
  }
  long struct_mb = atol(argv[1]), garbage_mb = atol(argv[2]);
  int writeall = argc > 3 && strcmp(argv[3], "writeall") == 0;
  if (argc > 3 && !writeall && strcmp(argv[3], "mixed") != 0) {
    fprintf(stderr, "gen: mode must be mixed or writeall\n");
    return 2;
  }
  INIT();

  /* the long-lived structure: a pointer array and its nodes */
  size_t n = (size_t)struct_mb * 1048576 / (sizeof(node) + sizeof(node *));
  if (n < 2) n = 2;
  node **old = ALLOC(n * sizeof *old);
  for (size_t i = 0; i < n; i++) {
    node *x = ALLOC(sizeof *x);
    x->id = i;
    x->val = rnd() >> 32;
    old[i] = x;
  }
  for (size_t i = 0; i < n; i++) old[i]->next = old[rnd() % n];
  fprintf(stderr, "gen: structure built\n"); /* run.sh splits gctrace's lines here */

  /* the stream of garbage, with rewrites of old nodes */
  size_t rewrites = n / 65536 + 1;
  size_t per_iter = 1048576 / (LIST_LEN * (sizeof(cell) + PAYLOAD / 2));
  uint64_t gsum = 0;
  for (long it = 0; it < garbage_mb; it++) {
    for (size_t k = 0; k < per_iter; k++) gsum += sum_list(make_list(LIST_LEN, 1));
    for (size_t k = 0; k < rewrites; k++) {
      node *x = old[rnd() % n];
      x->young = make_list(YOUNG_LEN, 0);
      x->val += 1;
    }
    if (writeall && it % WRITEALL_EVERY == 0) {
      for (size_t i = 0; i < n; i += WRITE_STRIDE) old[i]->val += 1;
      for (size_t i = 0; i < n; i += 4096 / sizeof *old) ((node *volatile *)old)[i] = old[i];
    }
  }

  /* checksum of the structure: values, the graph's edges, the young lists */
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++) {
    const node *x = old[i];
    s = s * 1000003 + x->val + x->next->id * 7 + sum_list(x->young);
  }
  printf("check: %s, %zu nodes, %zu rewrites and %zu garbage lists per iteration, %ld iterations: structure %016llx garbage %016llx\n",
         writeall ? "writeall" : "mixed", n, rewrites, per_iter, garbage_mb,
         (unsigned long long)s, (unsigned long long)gsum);
#ifdef USE_BDWGC
  printf("stats: gcs=%lu\n", (unsigned long)GC_get_gc_no());
#else
  static sgc_stats st;
  sgc_read_stats(&st);
  printf("stats: gcs=%llu minors=%llu majors=%llu dirty_pages=%llu\n", (unsigned long long)st.num_gc,
         (unsigned long long)st.num_minor_gc, (unsigned long long)st.num_major_gc,
         (unsigned long long)st.dirty_pages_listed);
#endif
  return 0;
}
