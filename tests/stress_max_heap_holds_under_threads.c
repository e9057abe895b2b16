// labels: heap threads stress
/* sgc_set_max_heap under 8 threads (spangc.h: "a hard limit on the bytes
 * of in-use spans ... An allocation that would exceed it collects, then
 * fails with NULL and errno ENOMEM if it still would").  Each round:
 *   1. fill: 8 threads (sgc_pthread_create) allocate objects of mixed
 *      sizes (small classes and large objects) and keep them all (bss, so
 *      reachable) until an allocation fails; every failure must be NULL
 *      with errno ENOMEM;
 *   2. the main thread samples heap_span_bytes all along: it never
 *      exceeds the limit; the kept objects are intact;
 *   3. drop: the threads forget everything; then each allocates again
 *      (together half the limit), which must succeed.
 * Failures are expected in every round (the threads would keep more than
 * the limit otherwise). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define NTHREADS 8
#define LIMIT ((size_t)64 << 20)
#define MAXOBJ 16384

typedef struct { uint64_t *p; size_t n; } obj;
static obj kept[NTHREADS][MAXOBJ]; /* bss: a root */
static int nkept[NTHREADS];
static long enomem[NTHREADS], bad_errno[NTHREADS], refill_fail[NTHREADS];
static pthread_barrier_t bar;
static int rounds;
static int done; /* atomic */

static uint64_t tag(const obj *o) {
  return ((uintptr_t)o->p * 0x9e3779b97f4a7c15ull) ^ o->n ^ (1ull << 63);
}

static size_t pick(uint64_t *s) {
  uint64_t r = xorshift64(s);
  if (r % 4 == 0)
    return 32769 + xorshift64(s) % (512 << 10); /* large */
  return 16 + xorshift64(s) % 8192;
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  uint64_t s = 0x9e3779b97f4a7c15ull ^ ((uint64_t)t << 17) ^ 12345;
  for (int r = 0; r < rounds; r++) {
    /* 1. fill until the limit bites (or the table is full). */
    nkept[t] = 0;
    for (;;) {
      size_t n = pick(&s);
      errno = 0;
      uint64_t *p = (xorshift64(&s) & 1) ? sgc_alloc(n) : sgc_alloc_noscan(n);
      if (p == NULL) {
        if (errno == ENOMEM)
          enomem[t]++;
        else
          bad_errno[t]++;
        break;
      }
      obj *o = &kept[t][nkept[t]++];
      o->p = p;
      o->n = n;
      p[0] = tag(o);
      p[n / 8 - 1] = tag(o);
      if (nkept[t] == MAXOBJ)
        break;
    }
    barrier_blocking(&bar); /* main samples and checks here */
    barrier_blocking(&bar);
    for (int i = 0; i < nkept[t]; i++) {
      obj *o = &kept[t][i];
      CHECKF(o->p[0] == tag(o) && o->p[o->n / 8 - 1] == tag(o),
             "thread %d: kept object %p (%zu bytes) corrupted", t,
             (void *)o->p, o->n);
    }
    /* 3. drop everything, then allocate again: half the limit in all. */
    memset(kept[t], 0, sizeof kept[t]);
    nkept[t] = 0;
    barrier_blocking(&bar);
    size_t got = 0;
    while (got < LIMIT / 2 / NTHREADS) {
      size_t n = pick(&s);
      uint64_t *p = sgc_alloc(n);
      if (p == NULL) {
        refill_fail[t]++;
        break;
      }
      p[0] = 1;
      got += n;
      if (nkept[t] < MAXOBJ) {
        kept[t][nkept[t]].p = p; /* keep them: live while we count */
        kept[t][nkept[t]++].n = n;
      }
    }
    memset(kept[t], 0, sizeof kept[t]);
    nkept[t] = 0;
    barrier_blocking(&bar);
  }
  return NULL;
}

static size_t max_seen;

static void *sampler(void *arg) {
  (void)arg;
  sgc_stats *st = malloc(sizeof *st);
  CHECK(st != NULL);
  while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
    sgc_read_stats(st);
    if (st->heap_span_bytes > max_seen)
      max_seen = st->heap_span_bytes;
    CHECKF(st->heap_span_bytes <= LIMIT,
           "heap_span_bytes %llu over the limit %zu",
           (unsigned long long)st->heap_span_bytes, LIMIT);
    usleep(500);
  }
  free(st);
  return NULL;
}

int main(void) {
  rounds = (int)scaled(100);
  if (rounds < 2)
    rounds = 2;
  sgc_init();
  sgc_set_max_heap(LIMIT);
  CHECK(pthread_barrier_init(&bar, NULL, NTHREADS + 1) == 0);
  pthread_t samp, th[NTHREADS];
  CHECK(pthread_create(&samp, NULL, sampler, NULL) == 0);
  for (int t = 0; t < NTHREADS; t++)
    CHECK(sgc_pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) == 0);
  for (int r = 0; r < rounds; r++) {
    barrier_blocking(&bar); /* fills done */
    long fails = 0, kept_objs = 0;
    for (int t = 0; t < NTHREADS; t++) {
      fails += enomem[t];
      kept_objs += nkept[t];
      CHECKF(bad_errno[t] == 0, "thread %d: NULL without ENOMEM", t);
    }
    sgc_stats st;
    sgc_read_stats(&st);
    CHECKF(st.heap_span_bytes <= LIMIT, "round %d: %llu bytes of spans", r,
           (unsigned long long)st.heap_span_bytes);
    CHECKF(fails >= r + 1, "round %d: no allocation failed (%ld objects)", r,
           kept_objs);
    sgc_enter_blocking();
    pthread_barrier_wait(&bar); /* check kept objects, drop */
    pthread_barrier_wait(&bar); /* refill */
    pthread_barrier_wait(&bar); /* refill done */
    sgc_exit_blocking();
    for (int t = 0; t < NTHREADS; t++)
      CHECKF(refill_fail[t] == 0,
             "round %d: thread %d could not allocate after dropping", r, t);
  }
  for (int t = 0; t < NTHREADS; t++) {
    sgc_enter_blocking();
    pthread_join(th[t], NULL);
    sgc_exit_blocking();
  }
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  pthread_join(samp, NULL);
  long fails = 0;
  for (int t = 0; t < NTHREADS; t++)
    fails += enomem[t];
  printf("%d rounds, %ld ENOMEM, peak heap_span_bytes %.1f MiB (limit %zu "
         "MiB)\n", rounds, fails, max_seen / 1048576.0, LIMIT >> 20);
  sgc_set_max_heap(0);
  return 0;
}
