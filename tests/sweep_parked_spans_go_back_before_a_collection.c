// labels: gc
// env: SPANGC_DEBUG=nobgsweep=1 SPANGC_CONCURRENT=0
/* Spans parked for their classes (rule:parked-spans-bounded) go back to
 * the heap before a collection stops the world.  One still parked when a
 * collection opens the next sweep generation is unswept, and nothing can
 * unpark an unswept span until its sweep: meanwhile other classes took
 * fresh pages beside it (from the adversarial review of parking: a class
 * that parked in one cycle, a cycle allocating into holes only, so that
 * no span was taken from the heap to unpark them, then large objects:
 * peak span bytes 8-13% over the same program without parking).
 * The sweep of the cycle after A's collection empties A's spans and
 * parks them; B never takes a span from the heap; so they are parked
 * when B's collection comes.  Checked with the background sweeper idle
 * (the test thread's proportional sweeps park and unpark, and nothing
 * sweeps behind its back): after each collection that ends B, nothing
 * is parked.  Stop-the-world majors in every configuration: a concurrent
 * major's collector thread finishes the sweep itself, without parking,
 * usually before the test thread's sweeps reach A's spans, so in the
 * concurrent mode a round parked only when it ended in a minor (about
 * one in three; without generations, one in a hundred or more), and a
 * loaded CI run saw no round park.  The concurrent cycle's give-back, in
 * its stop, has its own test: sweep_nothing_parked_when_a_collection_stops. */
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define NX (1u << 17)
static void **xs;

static uint64_t ngc(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

/* Objects of 'size' until an automatic collection ran; the most pages
 * seen parked meanwhile. */
static uint64_t until_gc(size_t size) {
  uint64_t g = ngc(), most = 0;
  for (long i = 0;; i++) {
    volatile char *p = sgc_alloc(size);
    CHECK(p != NULL);
    p[0] = 1;
    if (i % 256 == 0) {
      uint64_t pp = sweep_parked_pages();
      most = pp > most ? pp : most;
      if (ngc() != g)
        return most;
    }
  }
}

int main(void) {
  sgc_init();
  /* 64-byte spans a quarter full: room for a cycle of 64-byte garbage in
   * their holes, without a span from the heap. */
  xs = quarter_full_spans(NX, 64);
  uint64_t parked = 0; /* most, in A or B */
  for (int round = 0; round < 6; round++) {
    /* A: 1 KiB garbage, whose emptied spans the sweeps park. */
    uint64_t most = until_gc(1024);
    parked = most > parked ? most : parked;
    /* B: 64-byte garbage into the holes only; it ends with a
     * collection, before which the spans A parked must have gone back. */
    uint64_t in_b = until_gc(64);
    uint64_t left = sweep_parked_pages();
    printf("round %d: most parked %llu pages in A, %llu in B, %llu after "
           "B's collection\n",
           round, (unsigned long long)most, (unsigned long long)in_b,
           (unsigned long long)left);
    parked = in_b > parked ? in_b : parked;
    CHECKF(left == 0, "%llu pages still parked after a collection",
           (unsigned long long)left);
  }
  CHECKF(parked > 0, "nothing was parked: the test tests nothing");
  for (unsigned i = 0; i < NX; i++)
    CHECK(xs[i] != NULL && *(volatile char *)xs[i] == 0);
  return 0;
}
