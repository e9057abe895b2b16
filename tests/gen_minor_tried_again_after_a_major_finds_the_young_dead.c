// labels: gc
/* Generational policy with majors that stop the world (SPANGC_CONCURRENT=0,
 * set here).  Phase 1: a window of pointer-free messages, each alive for
 * the next WINDOW pushes, so every young message survives the collection
 * after it and a minor does not pay; the phase ends right after a minor
 * (the policy's retry).  Phase 2: the window stays, and the program only
 * makes garbage.  The first major of phase 2 finds the young dead (its
 * age sample) and must be followed by a minor, not by three more majors
 * before the retry every fourth major: binary-trees 21 spent 90-230 ms of
 * majors so, marking its long-lived tree after its young trees had begun
 * dying again.  Skipped without generations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define WINDOW 16384
#define MSG 512

static char **win; /* the window, a root through the global */

int main(void) {
  if (!stw_gen_init_or_skip())
    return 0;
  win = sgc_alloc(sizeof(char *) * WINDOW);
  CHECK(win != NULL);
  sgc_stats st;
  long i = 0;
  uint64_t settle = 0, minors0 = 0;
  for (;;) { /* phase 1 */
    char *m = sgc_alloc_noscan(MSG);
    CHECK(m != NULL);
    memset(m, (int)(i & 0xff), MSG);
    win[i % WINDOW] = m;
    i++;
    if ((i & 63) != 0)
      continue;
    sgc_read_stats(&st);
    if (settle == 0 && i >= WINDOW) {
      settle = st.num_gc + 3;
    } else if (settle != 0 && minors0 == 0 && st.num_gc >= settle) {
      minors0 = st.num_minor_gc + 1;
    } else if (minors0 != 0 && st.num_minor_gc >= minors0) {
      break;
    }
    CHECKF(i < 20000000L, "no minor collection in %llu collections",
           (unsigned long long)st.num_gc);
  }
  uint64_t majors0 = st.num_major_gc, minors1 = st.num_minor_gc;
  for (long g = 0;; g++) { /* phase 2 */
    char *m = sgc_alloc_noscan(MSG);
    CHECK(m != NULL);
    m[0] = (char)g;
    if ((g & 63) != 0)
      continue;
    sgc_read_stats(&st);
    if (st.num_minor_gc > minors1 || st.num_major_gc - majors0 >= 8)
      break;
  }
  for (long k = 0; k < WINDOW; k++) {
    long j = i - WINDOW + k;
    CHECKF(win[j % WINDOW][MSG - 1] == (char)(j & 0xff),
           "message %ld lost its bytes", j);
  }
  uint64_t majors = st.num_major_gc - majors0;
  printf("%ld messages, %llu collections (%llu minor); garbage only "
         "since: %llu major before a minor (%llu minor)\n",
         i, (unsigned long long)st.num_gc,
         (unsigned long long)st.num_minor_gc, (unsigned long long)majors,
         (unsigned long long)(st.num_minor_gc - minors1));
  CHECKF(majors <= 2 && st.num_minor_gc > minors1,
         "%llu major collections before a minor, with only garbage made "
         "since the last minor", (unsigned long long)majors);
  return 0;
}
