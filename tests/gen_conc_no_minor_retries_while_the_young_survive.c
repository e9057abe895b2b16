// labels: gc
/* Generational policy beside concurrent majors (SPANGC_CONCURRENT=1, set
 * here), while the heap is small enough for majors to stop the world (a
 * mark under 2 ms, concurrent.c): a window of pointer-free messages, each
 * alive for the next WINDOW pushes, as the pause test keeps.  Every young
 * object survives the collection after it, so the first minor does not
 * pay; each major's age sample finds the young alive again, and no minor
 * is tried again (a retry would only promote them, with the world stopped
 * from start to end).  Catches a policy that retries minors every fourth
 * major whenever majors are not yet concurrent: the pointer-free pause
 * test made such a retry at the fourth major while its window filled, 68
 * MB of live young messages marked in 1.3-1.8 ms with the world stopped,
 * its worst push by far (the concurrent stops took 0.3 ms).  Skipped
 * without concurrent marking or without generations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define WINDOW 20000
#define MSG 512

static char **win; /* the window, a root through the global */

int main(void) {
  if (!conc_gen_init_or_skip())
    return 0;
  win = sgc_alloc(sizeof(char *) * WINDOW);
  CHECK(win != NULL);
  /* Until the window is full and a few collections ran, then 30 more. */
  long i = 0;
  uint64_t settle = 0, target = 0, minors0 = 0;
  sgc_stats st;
  for (;;) {
    char *m = sgc_alloc_noscan(MSG);
    CHECK(m != NULL);
    memset(m, (int)(i & 0xff), MSG);
    win[i % WINDOW] = m;
    i++;
    if ((i & 255) != 0)
      continue;
    sgc_read_stats(&st);
    if (settle == 0 && i >= WINDOW) {
      settle = st.num_gc + 3;
    } else if (settle != 0 && target == 0 && st.num_gc >= settle) {
      target = st.num_gc + 30;
      minors0 = st.num_minor_gc;
    } else if (target != 0 && st.num_gc >= target) {
      break;
    }
    CHECKF(i < 100000000L, "only %llu collections",
           (unsigned long long)st.num_gc);
  }
  for (long k = 0; k < WINDOW; k++) {
    long j = i - WINDOW + k;
    CHECKF(win[j % WINDOW][MSG - 1] == (char)(j & 0xff),
           "message %ld lost its bytes", j);
  }
  uint64_t minors = st.num_minor_gc - minors0;
  printf("%ld messages, %llu collections (%llu minor, %llu concurrent); "
         "in the last 30: %llu minor\n", i, (unsigned long long)st.num_gc,
         (unsigned long long)st.num_minor_gc,
         (unsigned long long)st.num_concurrent_gc,
         (unsigned long long)minors);
  CHECKF(minors == 0, "%llu minor collections of 30 while every young "
         "message survived each", (unsigned long long)minors);
  return 0;
}
