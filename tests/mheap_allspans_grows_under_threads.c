// labels: heap threads
/* allspans grows (from its first 8192 entries) several times while eight
 * threads allocate objects that each take a span of their own (8 KiB
 * objects: one per one-page span; large objects) and collections run.
 * Every object is held; afterwards each still holds its own pattern, each
 * is in a distinct span, the heap verifies, and nspan counts at least as
 * many spans as were made. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "nopreempt.h"

#define NTHREADS 8
#define MAXPER 7000

static long per_thread;
/* Reachable: a global array is a root. */
static uint64_t *objs[NTHREADS][MAXPER];
static size_t sizes[NTHREADS][MAXPER];

static uint64_t pattern(int t, long i, size_t w) {
  uint64_t x = ((uint64_t)t << 56) ^ ((uint64_t)i << 20) ^ w;
  x *= 0x9e3779b97f4a7c15ull;
  return x ^ (x >> 29);
}

static void fill(int t, long i) {
  uint64_t *p = objs[t][i];
  size_t words = sizes[t][i] / 8;
  /* Only a sample of the words of large objects, to stay fast. */
  size_t step = words > 1024 ? 509 : 1;
  for (size_t w = 0; w < words; w += step)
    p[w] = pattern(t, i, w);
  p[words - 1] = pattern(t, i, words - 1);
}

static void verify(int t, long i) {
  uint64_t *p = objs[t][i];
  size_t words = sizes[t][i] / 8;
  size_t step = words > 1024 ? 509 : 1;
  for (size_t w = 0; w < words; w += step)
    CHECKF(p[w] == pattern(t, i, w), "thread %d object %ld word %zu", t, i,
           w);
  CHECK(p[words - 1] == pattern(t, i, words - 1));
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  for (long i = 0; i < per_thread; i++) {
    size_t n;
    if (i % 16 == 15)
      n = (size_t)(33 + (i * 7 + t) % 64) << 10; /* large: 33..96 KiB */
    else
      n = 8192; /* one object per one-page span */
    uint64_t *p = (i & 1) ? sgc_alloc_noscan(n) : sgc_alloc(n);
    CHECKF(p != NULL, "thread %d object %ld of %zu bytes", t, i, n);
    objs[t][i] = p;
    sizes[t][i] = n;
    fill(t, i);
    /* Now and then re-check an earlier object of this thread. */
    if (i % 64 == 0 && i > 0)
      verify(t, i / 2);
  }
  return NULL;
}

int main(void) {
  sgc_init();
  /* Even scaled down, enough spans to grow allspans past 8192 twice. */
  per_thread = scaled(MAXPER);
  if (per_thread < 2100)
    per_thread = 2100;
  /* allspans and its counts are read under mheap.lock, as the runtime
   * reads them: a growth swaps the array and retires the old one. */
  mcache *np = np_lock(&sgc_heap.lock);
  uint32_t nspan0 = sgc_heap.nspan, cap0 = sgc_heap.nspancap;
  np_unlock(&sgc_heap.lock, np);

  pthread_t th[NTHREADS];
  for (int t = 0; t < NTHREADS; t++)
    CHECK(sgc_pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) == 0);
  for (int t = 0; t < NTHREADS; t++)
    CHECK(pthread_join(th[t], NULL) == 0);

  long total = per_thread * NTHREADS;
  for (int t = 0; t < NTHREADS; t++)
    for (long i = 0; i < per_thread; i++) {
      verify(t, i);
      mspan *s = mheap_lookup((uintptr_t)objs[t][i]);
      CHECKF(s != NULL, "thread %d object %ld has no span", t, i);
      CHECKF(s->base == (uintptr_t)objs[t][i] && s->nelems == 1,
             "thread %d object %ld: span base %p, %u objects", t, i,
             (void *)s->base, s->nelems);
      CHECK(sgc_base((char *)objs[t][i] + sizes[t][i] - 1) == objs[t][i]);
    }
  np_wait_swept(20);
  sgc_heap_verify();

  /* Each object has its own span, so at least 'total' spans were made. */
  np = np_lock(&sgc_heap.lock);
  uint32_t nspan = sgc_heap.nspan, cap = sgc_heap.nspancap;
  uint32_t null_entries = 0;
  for (uint32_t k = 0; k < nspan; k++)
    null_entries += sgc_heap.allspans[k] == NULL;
  np_unlock(&sgc_heap.lock, np);
  printf("%ld objects, nspan %u -> %u, allspans capacity %u -> %u\n", total,
         nspan0, nspan, cap0, cap);
  CHECKF(nspan >= (uint64_t)total, "nspan %u < %ld spans made", nspan, total);
  CHECK(nspan <= cap);
  CHECKF(cap > 8192u * 3 / 2, "allspans grew only to %u entries", cap);
  if (test_scale() >= 1.0)
    CHECKF(cap >= 8192u * 3 / 2 * 3 / 2 * 3 / 2 * 3 / 2,
           "allspans grew only to %u entries", cap);
  sgc_stats st;
  sgc_read_stats(&st);
  CHECKF(st.spans_inuse >= (uint64_t)total, "spans in use %llu",
         (unsigned long long)st.spans_inuse);
  CHECKF(null_entries == 0, "%u empty allspans entries", null_entries);

  /* The objects are still intact after a collection. */
  sgc_collect();
  for (int t = 0; t < NTHREADS; t++)
    for (long i = 0; i < per_thread; i++)
      verify(t, i);
  np_wait_swept(20);
  sgc_heap_verify();
  return 0;
}
