// labels: gc threads
/* With SPANGC_CONCURRENT=1 the first collection is concurrent too: no
 * mark speed is known yet, so it starts when the heap reaches half the
 * first goal, and the collector thread runs it while the program goes on
 * (before, it waited for the goal and stopped the world for the whole
 * mark: 1.5-1.9 ms on the pause test's 4 MB heap).  The program here
 * allocates 0.6 of the first goal and then allocates nothing: the
 * collection must come anyway, and be concurrent.
 * Catches: the first collection left to the goal (none came in 10 s). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  /* The collector thread is made by the scavenger once sgc_init is over;
   * a wake-up before it exists is lost (the goal's collection would then
   * stop the world).  Wait until the thread count has not changed for
   * 200 ms (at most 10 s). */
  (void)settled_thread_count();
  sgc_stats st;
  sgc_read_stats(&st);
  CHECK(st.num_gc == 0);
  uint64_t goal = st.next_gc;
  CHECK(goal > 0);

  /* Garbage: 0.6 of the goal in 64-byte objects, nothing kept. */
  volatile void *sink = NULL;
  for (uint64_t done = 0; done < goal / 10 * 6; done += 64)
    sink = sgc_alloc(64);
  (void)sink;

  /* Nothing more is allocated: only the collector thread can collect. */
  for (int i = 0; i < 1000; i++) {
    sgc_read_stats(&st);
    if (st.num_gc >= 1)
      break;
    nap_ms(10);
  }
  if (st.num_gc < 1) {
    fprintf(stderr, "no collection within 10 s at 0.6 of the first goal "
                    "(%llu bytes)\n", (unsigned long long)goal);
    return 1;
  }
  CHECK(st.num_concurrent_gc == 1);
  CHECK(st.num_gc == 1);
  printf("first collection concurrent, started below the goal of %llu "
         "bytes\n", (unsigned long long)goal);
  return 0;
}
