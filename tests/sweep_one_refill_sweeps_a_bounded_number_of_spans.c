// labels: gc
// env: SPANGC_DEBUG=nobgsweep=1
/* One allocation never pays for a whole class's sweep.  Right after a
 * collection, a size class whose spans are all full of live objects gives
 * the next refill nothing but unswept full spans: it sweeps a bounded
 * number of them (mcentral_cache_span, then sweep_reclaim) and takes
 * fresh pages.  Unbounded, one refill swept every one of them (on the
 * pause test, 2-3 ms for a single push, the worst push of the run).
 * Checked: after an automatic collection (lazy sweep, background sweeper
 * idle), the refills of a class holding 3000 full spans sweep at most
 * 120 spans each; every object stays intact; and the sweeps they did are
 * counted (sweeps_on_demand counts a refill's sweeps too). */
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define SIZE 1024
#define FULL_SPANS 3000
#define REFILLS 3
#define BOUND_PER_REFILL 120

static uint64_t swept(const sgc_stats *s) {
  return s->sweeps_on_demand + s->sweeps_proportional + s->sweeps_in_pause +
         s->sweeps_background;
}

int main(void) {
  sgc_init();
  int cls = size_to_class(SIZE);
  long per_span = (long)class_to_npages[cls] * PAGE_SIZE / class_to_size[cls];
  long n = per_span * FULL_SPANS;
  /* Outside the heap, registered: the objects stay live whatever a
   * collection's kind (their spans are old after a minor, marked after a
   * major: full either way). */
  unsigned char **live = calloc((size_t)n, sizeof *live);
  CHECK(live != NULL);
  CHECK(sgc_add_roots(live, live + n) == 0);
  for (long i = 0; i < n; i++) {
    live[i] = sgc_alloc_noscan(SIZE);
    CHECK(live[i] != NULL);
    memset(live[i], (int)(i & 0xff), SIZE);
  }
  /* An automatic collection, triggered by garbage of another class: the
   * SIZE spans are left unswept, and every one is full (a multiple of the
   * span's slots was allocated, so the cached span is full too). */
  sgc_stats a, b;
  sgc_read_stats(&a);
  for (long i = 0;; i++) {
    void *volatile g = sgc_alloc(48);
    CHECK(g != NULL);
    if ((i & 1023) == 0) {
      sgc_read_stats(&b);
      if (b.num_gc > a.num_gc)
        break;
    }
  }
  /* A concurrent collection counts itself done at its final stop; the
   * collector thread leaves its lock after: wait for it (a new
   * collection would sweep everything in its stop). */
  sgc_disable();
  sgc_read_stats(&a);
  for (int r = 0; r < REFILLS; r++) {
    uint64_t before = swept(&a);
    for (long k = 0; k < per_span; k++) {
      void *p = sgc_alloc_noscan(SIZE);
      CHECK(p != NULL);
      memset(p, 0xee, SIZE);
    }
    sgc_read_stats(&b);
    uint64_t did = swept(&b) - before;
    printf("refill %d: %llu spans swept (%llu on demand, %llu paying their "
           "share)\n",
           r, (unsigned long long)did,
           (unsigned long long)(b.sweeps_on_demand - a.sweeps_on_demand),
           (unsigned long long)(b.sweeps_proportional - a.sweeps_proportional));
    CHECKF(did <= BOUND_PER_REFILL,
           "one span's worth of allocations swept %llu spans (of %d full ones)",
           (unsigned long long)did, FULL_SPANS);
    a = b;
  }
  CHECKF(b.sweeps_on_demand > 0, "the refills' sweeps were not counted");
  sgc_enable();
  for (long i = 0; i < n; i++)
    for (int j = 0; j < SIZE; j += 64)
      CHECKF(live[i][j] == (unsigned char)(i & 0xff), "object %ld damaged", i);
  sgc_remove_roots(live, live + n);
  free(live);
  return 0;
}
