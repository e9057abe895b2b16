// labels: gc
// env: SPANGC_DEBUG=nobgsweep=1 SPANGC_MEMLIMIT=4G
/* A refill that sweeps for pages (sweep_reclaim) keeps a span of its own
 * class that the sweep empties, on the class's nonempty list, instead of
 * giving it to the heap only to take the same pages back: that round trip
 * took mheap.lock twice per refill, against the background sweeper (the
 * bdwgc API's binary trees: 15000 futex waits of the allocating thread a
 * run).  Spans of other classes still go back to the heap, and so does
 * every emptied span when no class is named.  With the background sweeper
 * idle and a memory limit (no parking), nothing else sweeps or keeps
 * spans behind the test's back. */
#include "check.h"
#include "gctest.h"
#include "nopreempt.h"

#define SIZE 1024

static uint64_t span_bytes(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.heap_span_bytes;
}

static uint64_t ngc(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

/* Garbage of SIZE until an automatic collection: its sweep generation
 * then holds the emptied spans, unswept. */
static void garbage_until_gc(void) {
  uint64_t g = ngc();
  for (long i = 0; ngc() == g; i++) {
    volatile char *p = sgc_alloc(SIZE);
    CHECK(p != NULL);
    p[0] = 1;
  }
}

/* Empty spans of span class sc on its nonempty list. */
static int empty_on_nonempty(int sc) {
  mcentral *c = &sgc_heap.central[sc];
  int n = 0;
  mcache *np = np_lock(&c->lock);
  for (mspan *s = c->nonempty.first; s != NULL; s = s->next)
    n += s->nalloc == 0;
  np_unlock(&c->lock, np);
  return n;
}

int main(void) {
  sgc_init();
  int cls = size_to_class(SIZE);
  int sc = make_spanclass(cls, KIND_SCAN);
  uintptr_t npages = class_to_npages[cls];
  int kept = 0, given = 0;
  for (int round = 0; round < 4; round++) {
    garbage_until_gc();
    clear_stack();
    /* Kept: the span bytes in use stay, and the class holds an empty
     * span for the refill. */
    int before = empty_on_nonempty(sc);
    uint64_t b0 = span_bytes();
    bool swept;
    NP(swept = sweep_reclaim(npages, sc));
    CHECK(swept);
    int after = empty_on_nonempty(sc);
    uint64_t b1 = span_bytes();
    printf("round %d keep: empty spans on nonempty %d -> %d, span bytes "
           "%lu -> %lu\n",
           round, before, after, (unsigned long)b0, (unsigned long)b1);
    if (after > before) {
      kept++;
      CHECKF(b1 == b0, "a kept span left the pages in use (%lu -> %lu)",
             (unsigned long)b0, (unsigned long)b1);
    }
    /* Not kept: the emptied span goes to the heap. */
    before = empty_on_nonempty(sc);
    NP(swept = sweep_reclaim(npages, -1));
    uint64_t b2 = span_bytes();
    CHECKF(empty_on_nonempty(sc) == before,
           "a reclaim for no class kept a span with its class");
    printf("round %d no class: span bytes %lu -> %lu\n", round,
           (unsigned long)b1, (unsigned long)b2);
    given += swept && b2 < b1;
  }
  CHECKF(kept >= 3, "the refill's own class kept an emptied span in %d of 4 "
         "rounds", kept);
  CHECKF(given >= 3, "a reclaim for no class gave pages back in %d of 4 "
         "rounds", given);
  return 0;
}
