// labels: gc fiber
/* The stacks of fibers made since the last collection count toward the
 * next one (gc_heap_pressure), as allocated bytes do.  A program that
 * makes fibers with large stacks, runs each until it suspends and drops
 * it, allocates almost nothing else: only a collection frees a dropped
 * suspended fiber's stack, and the fiber object is a few hundred bytes.
 * Counting the objects alone, collections came once per ~20000 fibers
 * (gigabytes of stacks); the stacks in use must stay within a few goals
 * of the live heap.  Run in every mode of the suite (concurrent majors
 * take assists for stacks as for objects).
 * And the stacks in use get a room of their own (GOGC% of them, as the
 * heap's goal): a program keeping every fiber it makes alive collects
 * each time its stacks grew by that much, a handful of times, not once
 * per few MiB of new stacks, each collection scanning every fiber (the
 * adversarial review: 20000 live fibers, 1250 collections, 3x the
 * time). */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define STACK ((size_t)1 << 20)

int main(void) {
  sgc_init();
  sgc_fiber *home = sgc_fiber_self();
  CHECK(home != NULL);
  long n = 400 + scaled(1600);
  uint64_t peak = 0;
  sgc_stats st, st0;
  sgc_read_stats(&st0);
  for (long i = 0; i < n; i++) {
    sgc_fiber *f = sgc_fiber_create(fiber_touch_and_park, home, STACK);
    CHECKF(f != NULL, "sgc_fiber_create failed at fiber %ld", i);
    sgc_fiber_switch(f);
    if ((i & 15) == 0 || i == n - 1) {
      sgc_read_stats(&st);
      peak = st.stack_bytes > peak ? st.stack_bytes : peak;
    }
  }
  sgc_read_stats(&st);
  printf("%ld fibers with %zu KiB stacks dropped: stacks peaked at %.0f MiB "
         "(goal %.1f MiB); %llu collections\n",
         n, STACK >> 10, peak / 1048576.0, st.next_gc / 1048576.0,
         (unsigned long long)(st.num_gc - st0.num_gc));
  /* The goal is a few MiB here; a concurrent cycle may overshoot it by
   * what the program makes while it marks, assisted. */
  const uint64_t bound = (uint64_t)64 << 20;
  CHECKF(peak <= bound, "%.0f MiB of fiber stacks (bound %.0f MiB) after "
         "%ld fibers", peak / 1048576.0, bound / 1048576.0, n);

  /* Live fibers: 256 KiB stacks, all kept. */
  long m = 500 + scaled(3500);
  sgc_fiber **keep = sgc_alloc((size_t)m * sizeof *keep);
  CHECK(keep != NULL);
  sgc_read_stats(&st0);
  for (long i = 0; i < m; i++) {
    keep[i] = sgc_fiber_create(fiber_touch_and_park, home, (size_t)256 << 10);
    CHECKF(keep[i] != NULL, "sgc_fiber_create failed at live fiber %ld", i);
    sgc_fiber_switch(keep[i]);
  }
  sgc_read_stats(&st);
  uint64_t ngc = st.num_gc - st0.num_gc;
  printf("%ld live fibers with 256 KiB stacks: %.0f MiB of stacks, %llu "
         "collections\n", m, st.stack_bytes / 1048576.0,
         (unsigned long long)ngc);
  /* Doubling from a few MiB to m/4 MiB: about log2(m) collections. */
  CHECKF(ngc <= 24, "%llu collections while %ld live fibers were made",
         (unsigned long long)ngc, m);
  CHECK(st.fibers_live >= (uint64_t)m);
  return 0;
}
