// labels: gc heap
/* Live data (96 MB) above the soft limit (48 MiB, sgc_set_memory_limit)
 * with GOGC off, so that every collection is one the limit asks for:
 * collections run (GOGC off plus a limit collects near the limit), every
 * allocation succeeds, the heap goes over the limit, the CPU cap puts
 * collections off (limit_collections_put_off), and the collector's share
 * of wall time (stop-the-world time over the 4 s run) stays within what
 * the cap allows: half of the time plus half its 500 ms burst and of the
 * longest collection over the run (~57-60%), plus 5 points.  (With GOGC on, the collections GOGC would
 * run anyway are not held back, and GOGC's own share varies from 40% to
 * 70% on this machine: no bound to check there.) */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "gctest.h"

/* 64 KiB objects: a collection marks 96 MB while the allocation between
 * two collections sweeps few spans (with 1 KiB objects the allocating
 * thread's share of the sweep, 12,000 spans a cycle, took as long as the
 * collection, and the share stayed under half without the cap). */
#define OBJ 65536
#define NSLOT 1500

void *slots[NSLOT]; /* not static: the stores must stay */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Churn for dur ns: allocate OBJ-byte objects, replacing one live object
 * in eight.  Returns the collector's share of the wall time. */
static uint64_t i_total;
static double churn(uint64_t dur, uint64_t *ngc) {
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t pause0 = st.total_pause_ns, gc0 = st.num_gc;
  uint64_t t0 = now_ns();
  uint64_t i = i_total;
  while (now_ns() - t0 < dur) {
    for (int k = 0; k < 64; k++, i++) {
      void *p = sgc_alloc(OBJ);
      CHECK(p != NULL);
      if (i % 8 == 0)
        slots[(i / 8) % NSLOT] = p; /* churn the live data slowly */
    }
  }
  uint64_t wall = now_ns() - t0;
  i_total = i;
  sgc_read_stats(&st);
  *ngc = st.num_gc - gc0;
  return (double)(st.total_pause_ns - pause0) / (double)wall;
}

int main(void) {
  sgc_init();
  for (size_t i = 0; i < NSLOT; i++) {
    slots[i] = sgc_alloc(OBJ);
    CHECK(slots[i] != NULL);
  }
  /* GOGC off: every collection is one the limit makes due, so the cap
   * alone decides when they run. */
  CHECK(sgc_set_gcpercent(-1) == 100);
  CHECK(sgc_set_memory_limit((size_t)48 << 20) == 0);
  uint64_t ngc;
  double share = churn(4000000000u, &ngc);
  sgc_stats st;
  sgc_read_stats(&st);
  fprintf(stderr,
          "GOGC off, limit 48 MiB: %llu collections in 4 s, share %.0f%%, "
          "held %.1f MiB, %llu put off by the cap, %.0f MB allocated\n",
          (unsigned long long)ngc, share * 100,
          st.memory_held_bytes / 1048576.0,
          (unsigned long long)st.limit_collections_put_off,
          (double)i_total * OBJ / 1e6);
  /* The cap's guarantee over the run: half, plus half of its burst and of
   * the longest collection over the 4 s, plus 5 points of slack. */
  double bound = 0.5 + (0.5e9 + (double)st.max_pause_ns) / (2 * 4e9) + 0.05;
  CHECKF(share <= bound, "collector share %.0f%% > %.0f%% (longest pause "
         "%.0f ms)", share * 100, bound * 100, st.max_pause_ns / 1e6);
  /* The limit collects with GOGC off (with no limit: none at all).  Not
   * more than two: on a loaded machine a collection of the 96 MB takes
   * 0.5 s and more, and the cap then allows 3 in the 4 s (seen with two
   * busy loops beside the test: 3 collections, share 47%). */
  CHECK(ngc >= 2);
  CHECK(st.limit_collections_put_off > 0);
  CHECK(st.memory_held_bytes > ((uint64_t)48 << 20));
  CHECK(sgc_set_memory_limit(0) == ((size_t)48 << 20));
  return 0;
}
