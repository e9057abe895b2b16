// labels: heap threads
/* Eight threads allocate objects of mixed sizes (16 B to 32 KiB, some up
 * to 1 MiB, both kinds), fill each with a pattern derived from its
 * address, size and a seed, and verify the pattern before freeing it.
 * About a third of the objects are handed to other threads through a
 * shared exchange and freed there.  No object is ever corrupted by
 * another's allocation, and the heap verifies at the end. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "nopreempt.h"

#define NTHREADS 8
#define NLIVE 256   /* objects each thread holds at a time */
#define NXCHG 1024  /* exchange slots */

typedef struct { uint64_t *p; size_t n; uint64_t seed; } obj;

/* Global, so reachable: the collector may run at any time. */
static obj live[NTHREADS][NLIVE];
static obj xchg[NXCHG];
static int nxchg;
static pthread_mutex_t xlock = PTHREAD_MUTEX_INITIALIZER;
static long iters;
static long cross_freed[NTHREADS];

static uint64_t word(const obj *o, size_t w) {
  uint64_t x = (uintptr_t)o->p ^ ((uint64_t)o->n << 40) ^ o->seed ^
               (w * 0x9e3779b97f4a7c15ull);
  x *= 0xbf58476d1ce4e5b9ull;
  return x ^ (x >> 31);
}

/* Large objects: only a sample of words, to stay fast. */
static size_t step_for(size_t words) { return words > 4096 ? 257 : 1; }

static void fill(obj *o) {
  size_t words = o->n / 8;
  for (size_t w = 0; w < words; w += step_for(words))
    o->p[w] = word(o, w);
  o->p[words - 1] = word(o, words - 1);
}

static void check_obj(const obj *o, int t) {
  size_t words = o->n / 8;
  CHECKF(sgc_size(o->p) >= o->n, "thread %d: %p of %zu bytes: usable %zu", t,
         (void *)o->p, o->n, sgc_size(o->p));
  CHECKF(sgc_base((char *)o->p + o->n - 1) == o->p, "thread %d: %p", t,
         (void *)o->p);
  for (size_t w = 0; w < words; w += step_for(words))
    CHECKF(o->p[w] == word(o, w),
           "thread %d: object %p of %zu bytes, word %zu: %llx, want %llx", t,
           (void *)o->p, o->n, w, (unsigned long long)o->p[w],
           (unsigned long long)word(o, w));
  CHECK(o->p[words - 1] == word(o, words - 1));
}

static size_t pick_size(uint64_t *s) {
  uint64_t r = xorshift64(s);
  size_t n;
  if (r % 64 == 0)
    n = 32768 + (size_t)(xorshift64(s) % (1 << 20)); /* large, up to ~1 MiB */
  else if (r % 4 == 0)
    n = 16 + (size_t)(xorshift64(s) % 32768); /* any small class */
  else
    n = 16 + (size_t)(xorshift64(s) % 512); /* mostly small */
  return (n + 7) & ~(size_t)7;
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  uint64_t s = 0x1234567ull * (uint64_t)(t + 1) + 99;
  for (long it = 0; it < iters; it++) {
    int k = (int)(xorshift64(&s) % NLIVE);
    obj *o = &live[t][k];
    if (o->p != NULL) {
      check_obj(o, t);
      if (xorshift64(&s) % 3 == 0) {
        /* Hand it over; take one another thread put there, if full. */
        obj mine = *o, theirs = {0};
        lock_blocking(&xlock);
        if (nxchg < NXCHG) {
          xchg[nxchg++] = mine;
        } else {
          int j = (int)(xorshift64(&s) % NXCHG);
          theirs = xchg[j];
          xchg[j] = mine;
        }
        pthread_mutex_unlock(&xlock);
        o->p = NULL;
        if (theirs.p) {
          check_obj(&theirs, t);
          sgc_free(theirs.p);
          cross_freed[t]++;
        }
      } else {
        sgc_free(o->p);
        o->p = NULL;
      }
    }
    size_t n = pick_size(&s);
    bool noscan = xorshift64(&s) & 1;
    uint64_t *p = noscan ? sgc_alloc_noscan(n) : sgc_alloc(n);
    CHECKF(p != NULL, "thread %d: %zu bytes", t, n);
    CHECKF(((uintptr_t)p & 15) == 0, "%p", (void *)p);
    o->seed = xorshift64(&s);
    o->n = n;
    o->p = p;
    fill(o);
  }
  return NULL;
}

int main(void) {
  sgc_init();
  iters = scaled(120000);
  pthread_t th[NTHREADS];
  for (int t = 0; t < NTHREADS; t++)
    CHECK(sgc_pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) == 0);
  for (int t = 0; t < NTHREADS; t++)
    CHECK(pthread_join(th[t], NULL) == 0);

  long cross = 0;
  for (int t = 0; t < NTHREADS; t++)
    cross += cross_freed[t];
  CHECKF(cross > 0, "no object was freed by another thread");

  /* Everything still held is intact; free half of it from main. */
  for (int t = 0; t < NTHREADS; t++)
    for (int k = 0; k < NLIVE; k++)
      if (live[t][k].p) {
        check_obj(&live[t][k], -1);
        if (k & 1) {
          sgc_free(live[t][k].p);
          live[t][k].p = NULL;
        }
      }
  for (int j = 0; j < nxchg; j++)
    check_obj(&xchg[j], -1);
  np_wait_swept(20);
  sgc_heap_verify();

  sgc_collect();
  for (int t = 0; t < NTHREADS; t++)
    for (int k = 0; k < NLIVE; k++)
      if (live[t][k].p)
        check_obj(&live[t][k], -1);
  for (int j = 0; j < nxchg; j++)
    check_obj(&xchg[j], -1);
  np_wait_swept(20);
  sgc_heap_verify();

  sgc_stats st;
  sgc_read_stats(&st);
  printf("%ld iterations x %d threads, %ld cross-thread frees, %llu "
         "collections\n", iters, NTHREADS, cross,
         (unsigned long long)st.num_gc);
  return 0;
}
