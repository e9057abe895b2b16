// labels: gc threads
/* Pre-cleaning (SPANGC_CONCURRENT=1, set here; majors only) while the
 * program frees large scanned objects and allocates new ones in their
 * place: each pre-cleaning round rescans the pages written during the
 * mark while the program runs, over spans that sgc_free gives back (kept
 * in use until the final stop: rule:no-span-freed-under-markers) and the
 * heap makes again after it (mheap_alloc clearing their mark bits).
 * One thread stores fresh nodes all over an old array (8 MiB), so every
 * round has thousands of written pages; two threads each keep a ring of
 * large objects (64-192 KiB) holding nodes, and free and replace one
 * after another.  Checks: every node reachable from the array or a ring
 * carries its tag at the end (a node freed while reachable and reused
 * shows as a wrong tag).  Under ThreadSanitizer (tsanconc) nothing may
 * be reported between the markers' reads of a span and its freeing or
 * making again. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define NSLOT ((8L << 20) / (long)sizeof(void *))
#define NRING 24
#define NFREER 2

typedef blob_node node;

static node *volatile *slots; /* an old, scanned array */
static volatile int stop;
static void *sink; /* garbage goes through here (atomic) */
static long freed[NFREER];

/* A large scanned object of about n bytes whose every 512th word holds a
 * fresh node. */
static void **large_with_nodes(size_t n) {
  void **o = sgc_alloc(n);
  CHECK(o != NULL);
  for (size_t w = 0; w < n / sizeof(void *); w += 512)
    o[w] = blob_node_new(32);
  return o;
}

static void large_check(void **o, size_t n) {
  for (size_t w = 0; w < n / sizeof(void *); w += 512)
    blob_node_check(o[w]);
}

static void *writer(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
    blob_node_replace(slots, (long)(rand_r(&seed) % (unsigned)NSLOT), 4,
                      &sink);
  return NULL;
}

static void *freer(void *arg) {
  int id = (int)(uintptr_t)arg;
  uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)id;
  void **ring[NRING];
  size_t size[NRING];
  for (int i = 0; i < NRING; i++) {
    size[i] = (64u << 10) + (xorshift64(&seed) % 3) * (64u << 10);
    ring[i] = large_with_nodes(size[i]);
  }
  long n = 0;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    int i = (int)(xorshift64(&seed) % NRING);
    large_check(ring[i], size[i]);
    sgc_free(ring[i]);
    size[i] = (64u << 10) + (xorshift64(&seed) % 3) * (64u << 10);
    ring[i] = large_with_nodes(size[i]);
    n++;
  }
  sgc_collect();
  for (int i = 0; i < NRING; i++)
    large_check(ring[i], size[i]);
  freed[id] = n;
  return NULL;
}

int main(void) {
  setenv("SPANGC_GENERATIONAL", "0", 1); /* majors: they mark concurrently */
  if (!conc_init_or_skip())
    return 0;
  slots = blob_node_old_array(NSLOT);
  sgc_stats st0, st;
  sgc_read_stats(&st0);
  pthread_t w, f[NFREER];
  CHECK(sgc_pthread_create(&w, NULL, writer, NULL) == 0);
  for (int i = 0; i < NFREER; i++)
    CHECK(sgc_pthread_create(&f[i], NULL, freer, (void *)(uintptr_t)i) == 0);
  /* Concurrent collections for a while, and at least a few. */
  double end = now_seconds() + 2 * test_scale() + 0.5;
  int ncol = 0;
  while (now_seconds() < end || ncol < 4) {
    sgc_collect();
    ncol++;
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  join_blocking(w);
  for (int i = 0; i < NFREER; i++)
    join_blocking(f[i]);
  sgc_collect();
  long n = 0;
  for (long k = 0; k < NSLOT; k++)
    if (slots[k]) {
      blob_node_check(slots[k]);
      n++;
    }
  sgc_read_stats(&st);
  CHECKF(st.num_concurrent_gc > st0.num_concurrent_gc,
         "no concurrent collection ran");
  CHECKF(freed[0] > 0 && freed[1] > 0, "the freeing threads made no progress");
  printf("ok: %llu concurrent collections, %ld + %ld large objects freed and "
         "replaced, %ld nodes checked\n",
         (unsigned long long)(st.num_concurrent_gc - st0.num_concurrent_gc),
         freed[0], freed[1], n);
  return 0;
}
