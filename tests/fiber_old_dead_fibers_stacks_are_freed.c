// labels: gc fiber
/* A program with a large live heap (a 256 MiB pointer-free object, never
 * written) makes fibers with 1 MiB stacks, keeps each in a ring of RING
 * slots for a while (collections run meanwhile: with generations the
 * fiber is then old) and drops it.  The fiber objects are small, so old
 * dead ones add little to the old objects' bytes; their stacks are what
 * piles up.  The bytes of fiber stacks (sgc_stats.stack_bytes) must stay
 * within a few times the ring's stacks, and sgc_fiber_create never
 * fails.
 * Catches: a policy that counts only old objects' bytes before going
 * major: unreachable old fibers' stacks, freed by a major collection
 * only, grow without bound while minors run. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define RING 128
#define STACK ((size_t)1 << 20)
#define BIG ((size_t)256 << 20)

sgc_fiber *volatile ring[RING];
void *volatile big;

int main(void) {
  sgc_init();
  sgc_fiber *home = sgc_fiber_self();
  CHECK(home != NULL);
  big = sgc_alloc_noscan(BIG);
  CHECK(big != NULL);
  sgc_set_gcpercent(1); /* collections come often; the live heap is big */

  /* Enough fibers that their stacks, left to pile up, pass the bound
   * several times over. */
  /* Fiber stacks count toward the trigger (gc_heap_pressure), so
   * collections come every few fibers here and the stacks stay near the
   * ring's (131 MiB in every mode, under load too); before they did,
   * 590-640 MiB were seen with concurrent majors on loaded cores, and
   * unbounded growth reaches thousands of MiB. */
  const uint64_t bound = 2 * (uint64_t)RING * STACK + (64 << 20);
  long n = 10 * RING + scaled(4000);
  uint64_t peak = 0;
  sgc_stats st, st0;
  sgc_read_stats(&st0);
  for (long i = 0; i < n; i++) {
    sgc_fiber *f = sgc_fiber_create(fiber_touch_and_park, home, STACK);
    if (f == NULL) {
      sgc_read_stats(&st);
      CHECKF(0, "sgc_fiber_create failed at fiber %ld (%s): %.0f MiB of "
             "stacks, %llu fibers live, %llu minors, %llu majors", i,
             strerror(errno), st.stack_bytes / 1048576.0,
             (unsigned long long)st.fibers_live,
             (unsigned long long)st.num_minor_gc,
             (unsigned long long)st.num_major_gc);
    }
    sgc_fiber_switch(f);
    ring[i % RING] = f;
    for (int k = 0; k < 256; k++) { /* garbage: a collection every ~64 fibers */
      uint64_t *p = sgc_alloc(256);
      CHECK(p != NULL);
      p[0] = GARBAGE_WORD;
    }
    if ((i & 63) == 0 || i == n - 1) {
      sgc_read_stats(&st);
      if (st.stack_bytes > peak)
        peak = st.stack_bytes;
      CHECKF(st.stack_bytes <= bound,
             "fiber %ld: %.0f MiB of fiber stacks, %llu fibers live (%d "
             "reachable, %.0f MiB of stacks); %llu minors, %llu majors", i,
             st.stack_bytes / 1048576.0, (unsigned long long)st.fibers_live,
             RING, RING * (double)STACK / 1048576.0,
             (unsigned long long)(st.num_minor_gc - st0.num_minor_gc),
             (unsigned long long)(st.num_major_gc - st0.num_major_gc));
    }
  }
  sgc_read_stats(&st);
  printf("%ld fibers with %zu KiB stacks, %d reachable at a time: stacks "
         "peaked at %.0f MiB (bound %.0f); %llu minors, %llu majors "
         "(generational %d)\n",
         n, STACK >> 10, RING, peak / 1048576.0, bound / 1048576.0,
         (unsigned long long)(st.num_minor_gc - st0.num_minor_gc),
         (unsigned long long)(st.num_major_gc - st0.num_major_gc),
         st.generational);
  return 0;
}
