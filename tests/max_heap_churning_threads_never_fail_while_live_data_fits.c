// labels: heap threads stress
/* sgc_set_max_heap promises that an allocation fails only if it "still
 * would" exceed the limit after a collection.  Four threads churn small
 * objects (each keeps a table of 2000 tagged objects, gctest.h, and
 * replaces one at random, so they live a few collections) and now and then a
 * 40-140 KB object that dies at once.  Live data is about 0.8 MB; the
 * limit is 6 MiB, more than six times it: no allocation may fail.
 * Before the fix (found by an adversarial review) 100-270 allocations a
 * run failed with generations on: minors let the spans in use reach the
 * limit, and a thread whose forced collection freed room lost that room
 * to the other threads before it took its own span. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"

#define NTHREADS 4
#define SLOTS 2000
#define LIMIT ((size_t)6 << 20)

static long iters;
static long failed[NTHREADS], bad_errno[NTHREADS], lost[NTHREADS];

static void note_failure(int t) {
  if (errno == ENOMEM)
    failed[t]++;
  else
    bad_errno[t]++;
}

static void *churn(void *arg) {
  int t = (int)(intptr_t)arg;
  uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
  uint64_t **slot = sgc_alloc(SLOTS * sizeof *slot);
  uint64_t *tags = calloc(SLOTS, sizeof *tags);
  CHECK(slot != NULL && tags != NULL);
  uint64_t next = ((uint64_t)t << 40) + 1;
  for (long it = 0; it < iters; it++) {
    uint64_t r = xorshift64(&s);
    int i = (int)(r % SLOTS);
    errno = 0;
    if ((r >> 36) % 256 == 0) {
      volatile char *big = sgc_alloc(40000 + (r >> 44) % 100000);
      if (big == NULL)
        note_failure(t);
      else
        big[0] = 1;
    } else {
      uint64_t *o = tagged_try_new(next);
      if (o == NULL) {
        note_failure(t);
        continue;
      }
      slot[i] = o;
      tags[i] = next++;
    }
    if ((it & 16383) == 0)
      for (int k = 0; k < SLOTS; k++)
        if (slot[k] != NULL && !tagged_intact(slot[k], tags[k]))
          lost[t]++;
  }
  free(tags);
  return NULL;
}

int main(void) {
  iters = (long)scaled(1500000);
  sgc_init();
  sgc_set_max_heap(LIMIT);
  pthread_t th[NTHREADS];
  for (int t = 0; t < NTHREADS; t++)
    CHECK(sgc_pthread_create(&th[t], NULL, churn, (void *)(intptr_t)t) == 0);
  for (int t = 0; t < NTHREADS; t++) {
    sgc_enter_blocking();
    pthread_join(th[t], NULL);
    sgc_exit_blocking();
  }
  sgc_stats st;
  sgc_read_stats(&st);
  long fails = 0;
  for (int t = 0; t < NTHREADS; t++) {
    fails += failed[t];
    CHECKF(bad_errno[t] == 0, "thread %d: NULL without ENOMEM", t);
    CHECKF(lost[t] == 0, "thread %d: %ld tagged objects corrupted", t, lost[t]);
  }
  printf("%ld allocations failed; %llu collections (%llu minor), peak spans "
         "%.2f MiB under a %zu MiB limit\n",
         fails, (unsigned long long)st.num_gc,
         (unsigned long long)st.num_minor_gc, st.peak_span_bytes / 1048576.0,
         LIMIT >> 20);
  CHECKF(fails == 0, "%ld allocations failed with live data a sixth of the "
                     "limit", fails);
  sgc_set_max_heap(0);
  return 0;
}
