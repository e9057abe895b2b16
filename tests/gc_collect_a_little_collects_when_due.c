// labels: gc
/* sgc_collect_a_little sweeps what the last collection left; once nothing
 * is left and the heap has reached its goal, it runs the collection the
 * next allocation would have started (as bdwgc's GC_collect_a_little
 * may).  Below the goal it never collects. */
#include "check.h"
#include "spangc.h"

static void *little(void *arg) {
  while (sgc_collect_a_little())
    ;
  return NULL;
}

int main(void) {
  sgc_init();
  sgc_collect();
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t before = st.num_gc;
  while (sgc_collect_a_little())
    ;
  sgc_read_stats(&st);
  CHECKF(st.num_gc == before, "collected below the goal (%llu < %llu)",
         (unsigned long long)st.heap_live, (unsigned long long)st.next_gc);
  /* Fill up to the goal with large objects (an allocation that finds the
   * heap at its goal collects by itself and moves the goal: the loop goes
   * on until an allocation leaves the heap at or past it). */
  int tries = 0;
  while (tries++ < 1000) {
    sgc_read_stats(&st);
    if (st.heap_live >= st.next_gc)
      break;
    void *volatile g = sgc_alloc_noscan(st.next_gc - st.heap_live > (64 << 10)
                                            ? 64 << 10
                                            : st.next_gc - st.heap_live + 1);
    (void)g;
  }
  sgc_read_stats(&st);
  CHECK(st.heap_live >= st.next_gc);
  before = st.num_gc;
  /* Inside sgc_call_without_collections it only sweeps (collecting there
   * would wait for the caller's own hold). */
  sgc_call_without_collections(little, NULL);
  sgc_read_stats(&st);
  CHECK(st.num_gc == before);
  while (sgc_collect_a_little())
    ;
  sgc_read_stats(&st);
  CHECKF(st.num_gc == before + 1, "%llu collections at the goal",
         (unsigned long long)(st.num_gc - before));
  return 0;
}
