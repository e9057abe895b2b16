// labels: gc threads
/* Mostly-concurrent marking (SPANGC_CONCURRENT=1, set here) of a program
 * that sgc_frees objects while other objects still hold pointers to them
 * (dangling pointers it never follows, which C programs keep all the
 * time), and reuses their memory at once: holders, kept alive from a
 * root, each get a fresh large (64 KiB) and a fresh small object, the
 * program frees both and allocates garbage of the same sizes, which lands
 * in the freed memory (or, garbage, is collected and the memory reused
 * later), while another thread runs concurrent collections
 * back to back.  So a marked holder often points, stale, at an object
 * allocated during the mark and referenced by nothing else: the
 * collection may free it (the program freed what was there), and the
 * verifier (the _verified variant: every final stop compared with a full
 * mark) must forgive it, with generations or without.  Each holder also
 * keeps a tagged live object, checked at the end.
 * Catches: the record of freed memory the verifier forgives kept only
 * with generations (a nogen concurrent run aborted "left object ...
 * unmarked, which a full mark reaches"), a freed slot's new object lost
 * when it is reachable. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NHOLD 1024
#define LARGE (64 << 10)
#define SMALL 240

typedef struct holder {
  uint64_t *live;  /* tagged_new(tag) */
  uint64_t tag;
  void *stale[4];  /* freed objects (large, small), or their successors */
  void *kept;      /* a successor the program keeps, checked at the end */
  char pad[4096 - 8 * 7]; /* a page each: most are not written in a mark */
} holder;

static holder *volatile hold[NHOLD];
static void *sink; /* atomic: garbage goes through here */

/* A fresh object of n bytes filled with its own address's pattern. */
static void *fill(size_t n, int noscan) {
  uint64_t *p = noscan ? sgc_alloc_noscan(n) : sgc_alloc(n);
  CHECK(p != NULL);
  for (size_t w = 0; w < n / 8; w += 61)
    p[w] = (uint64_t)(uintptr_t)p ^ w;
  return p;
}

static int filled(const uint64_t *p, size_t n) {
  for (size_t w = 0; w < n / 8; w += 61)
    if (p[w] != ((uint64_t)(uintptr_t)p ^ w))
      return 0;
  return 1;
}

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  for (int i = 0; i < NHOLD; i++) {
    holder *h = sgc_alloc(sizeof *h);
    CHECK(h != NULL);
    h->tag = 0x5a11e000u + (uint64_t)i;
    h->live = tagged_new(h->tag);
    hold[i] = h;
  }
  /* A live structure for the marks to take time over. */
  void **ballast = sgc_alloc(20000 * sizeof(void *));
  CHECK(ballast != NULL);
  for (int i = 0; i < 20000; i++)
    ballast[i] = tagged_new((uint64_t)i);
  sgc_stats st0, st;
  sgc_read_stats(&st0);
  pthread_t col = collector_loop_start();
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  double end = now_seconds() + 3 * test_scale() + 0.5;
  long rounds = 0;
  uint64_t nconc = 0; /* looked at every 256 rounds */
  /* Until the time is up and, beside these rounds, two concurrent
   * collections ran (on a loaded machine the collector thread may be
   * slow to get going). */
  while (now_seconds() < end || rounds < 2000 || nconc < 2) {
    if ((rounds & 255) == 0) {
      sgc_read_stats(&st);
      nconc = st.num_concurrent_gc - st0.num_concurrent_gc;
    }
    holder *h = hold[xorshift64(&seed) % NHOLD];
    void *l = fill(LARGE, xorshift64(&seed) & 1);
    void *s = fill(SMALL, 0);
    h->stale[0] = l;
    h->stale[1] = s;
    h->stale[2] = (char *)l + 4096; /* interior, further in */
    h->stale[3] = (char *)s + 8;
    sgc_free(l);
    sgc_free(s);
    /* The freed memory, reused at once: garbage, or (one in eight) an
     * object the program keeps from this holder. */
    void *nl = fill(LARGE, 0), *ns = fill(SMALL, 0);
    if ((xorshift64(&seed) & 7) == 0) {
      h->kept = (xorshift64(&seed) & 1) ? nl : ns;
    } else {
      __atomic_store_n(&sink, nl, __ATOMIC_RELAXED);
      __atomic_store_n(&sink, ns, __ATOMIC_RELAXED);
    }
    rounds++;
  }
  collector_loop_stop(col);
  sgc_collect();
  sgc_read_stats(&st);
  for (int i = 0; i < NHOLD; i++) {
    holder *h = hold[i];
    CHECKF(tagged_intact(h->live, h->tag), "holder %d lost its object", i);
    if (h->kept) {
      size_t n = sgc_size(h->kept);
      CHECKF(filled(h->kept, n >= LARGE ? LARGE : SMALL),
             "holder %d's kept object %p was freed and reused", i, h->kept);
    }
  }
  for (int i = 0; i < 20000; i++)
    CHECK(tagged_intact(ballast[i], (uint64_t)i));
  printf("%ld rounds; %llu concurrent collections\n", rounds,
         (unsigned long long)(st.num_concurrent_gc - st0.num_concurrent_gc));
  CHECK(st.num_concurrent_gc - st0.num_concurrent_gc >= 2);
  return 0;
}
