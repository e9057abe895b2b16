// labels: gc heap
// env: SPANGC_SIZING=gogc
/* Idle collections (pacer.c).  A program builds a large heap, drops nine
 * tenths of it and goes on allocating slowly: far from its goal, it would
 * not collect for a whole goal's worth of allocation.  Within a few
 * seconds an idle collection runs (major, counted in idle_collections,
 * flagged in gctrace), finds a tenth live, and the free pages go back to
 * the OS.  A program that allocates fast gets no idle collection (its
 * own reach the goal soon enough), nor one with GOGC off (under a memory
 * limit only the limit collects), nor one whose heap is below the room
 * sgc_expand_heap promised.  A heap built slowly gets idle collections
 * on the way that free nothing, yet the interval does not grow while the
 * live heap does.  And with a large stable heap, an idle collection that
 * freed little of it doubles the interval before the next.  GOGC's
 * sizing: under the square-root rule the room of a program that allocates
 * slowly is small, and collections that fall due do this work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "nopreempt.h"
#include "spangc-int.h"

#define OBJ 8192

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

/* 'per' objects of short-lived garbage (8 KiB each: 256 is ~2 MB) every
 * 50 ms until 'until' idle collections were counted or ms passed; returns
 * the time in ms it took, -1 if not. */
static long trickle_by(uint64_t until, long ms, int per) {
  uint64_t t0 = os_nanotime();
  for (;;) {
    sgc_stats st;
    sgc_read_stats(&st);
    long el = (long)((os_nanotime() - t0) / 1000000);
    if (st.idle_collections >= until)
      return el;
    if (el > ms)
      return -1;
    for (int k = 0; k < per; k++) {
      unsigned char *g = sgc_alloc_noscan(OBJ);
      CHECK(g != NULL);
      g[0] = (unsigned char)k;
    }
    sleep_ms(50);
  }
}

static long trickle(uint64_t until, long ms) {
  return trickle_by(until, ms, 256);
}

int main(void) {
  sgc_init();
  size_t n = (size_t)256 * 1024 * 1024 / OBJ; /* 256 MB */
  void **slots = calloc(n, sizeof *slots);
  CHECK(slots != NULL);
  CHECK(sgc_add_roots(slots, slots + n) == 0);

  /* Fast allocation with collections of its own: no idle one. */
  sgc_stats a, b;
  sgc_read_stats(&a);
  uint64_t t0 = os_nanotime();
  while (os_nanotime() - t0 < (uint64_t)1500 * 1000000) {
    void *volatile list = NULL;
    for (int i = 0; i < 20000; i++) {
      void **p = sgc_alloc(48);
      CHECK(p != NULL);
      p[0] = list;
      list = p;
    }
  }
  sgc_read_stats(&b);
  CHECKF(b.num_gc > a.num_gc + 3, "only %llu collections while allocating "
         "fast", (unsigned long long)(b.num_gc - a.num_gc));
  CHECKF(b.idle_collections == a.idle_collections,
         "%llu idle collections while the program allocated fast",
         (unsigned long long)(b.idle_collections - a.idle_collections));

  /* GOGC off under a memory limit: slow allocation for longer than the
   * idle interval (from a collection) gets no idle collection. */
  sgc_set_gcpercent(-1);
  sgc_set_memory_limit((size_t)1 << 30);
  sgc_collect();
  sgc_read_stats(&a);
  long off = trickle(a.idle_collections + 1, 1600);
  CHECKF(off < 0, "an idle collection with GOGC off under a memory limit "
         "after %ld ms", off);
  sgc_set_gcpercent(100);
  sgc_set_memory_limit(0);

  /* The big heap, built slowly: a quarter at a time, each followed by a
   * collection and slow allocation until an idle collection came.  Those
   * find nothing to free, but the live heap grew by a quarter since the
   * collection before the quarter, so the interval stays at its base (it
   * used to double each time: 4 s before the fourth quarter's, 8 s after
   * the drop).  The collection after each quick quarter, and GOGC 1000,
   * keep the goal far enough that the allocation rate does not bring it
   * within an interval (that holds idle collections back, rightly; the
   * square-root rule's room is small too). */
  sgc_set_gcpercent(1000);
  for (int q = 0; q < 4; q++) {
    for (size_t i = n / 4 * (size_t)q; i < n / 4 * (size_t)(q + 1); i++) {
      slots[i] = sgc_alloc_noscan(OBJ);
      CHECK(slots[i] != NULL);
      memset(slots[i], 0x11, 64);
    }
    sgc_collect();
    if (q == 0)
      continue;
    sgc_read_stats(&a);
    long waited = trickle_by(a.idle_collections + 1, 3000, 64);
    CHECKF(waited >= 0, "no idle collection within 3 s after quarter %d "
           "of a slowly built heap", q + 1);
    printf("quarter %d of the heap: idle collection after %ld ms\n", q + 1,
           waited);
  }
  sgc_set_gcpercent(100);
  sgc_collect();
  sgc_read_stats(&a);
  uint64_t held_before = a.memory_held_bytes;
  for (size_t i = 0; i < n; i++)
    if (i % 10 != 0)
      slots[i] = NULL;
  long took = trickle(a.idle_collections + 1, 6000);
  sgc_read_stats(&b);
  CHECKF(took >= 0, "no idle collection within 6 s of the drop (%llu "
         "collections, goal %.0f MB, pressure %.0f MB)",
         (unsigned long long)(b.num_gc - a.num_gc), b.next_gc / 1048576.0,
         b.heap_live / 1048576.0);
  CHECKF(b.num_major_gc > a.num_major_gc, "the idle collection was minor");
  CHECKF(b.last_heap_after < a.last_heap_after / 3,
         "it found %.0f MB live of %.0f MB", b.last_heap_after / 1048576.0,
         a.last_heap_after / 1048576.0);
  /* The free pages go back (batches in the background). */
  uint64_t held = 0;
  for (int k = 0; k < 40; k++) {
    sgc_read_stats(&b);
    held = b.memory_held_bytes;
    if (held < held_before / 2)
      break;
    sleep_ms(50);
  }
  CHECKF(held < held_before / 2, "memory held %.0f MB, %.0f MB before the "
         "drop", held / 1048576.0, held_before / 1048576.0);
  printf("idle collection %ld ms after the drop; held %.0f -> %.0f MB\n",
         took, held_before / 1048576.0, held / 1048576.0);

  /* A large stable heap and slower garbage: each idle collection frees
   * little of the heap, so the interval doubles (the first one comes at
   * the base interval).  A quarter of the ~2 MB per 50 ms above: at that
   * rate, a loaded machine's longer intervals made an idle collection
   * free a quarter of the 256 MB heap, which is not fruitless, and the
   * interval rightly did not grow (a fresh-clone check under load:
   * 1374 ms, then 1790 ms).  The doubling is read from the backoff, not
   * from the two waits: the base is 10 times the last major stop, and
   * under load a long stop before the first idle collection and a short
   * one in it hid the doubling (2115 ms, then 2060 ms; quiet, 1089 ms
   * then 4668 ms).  The second wait is still well over the 1 s minimum:
   * at least twice it, less the loop's polling delay (1998-2832 ms
   * quiet; 1.5 s is the bound, for a loaded machine's slower polls).
   * The backoff is written while the world is stopped: read in a region,
   * no collection is between its halves. */
  for (size_t i = 0; i < n; i++)
    if (i % 10 != 0) {
      slots[i] = sgc_alloc_noscan(OBJ);
      CHECK(slots[i] != NULL);
    }
  sgc_collect();
  sgc_read_stats(&a);
  uint32_t backoff0, backoff1, backoff2;
  NP(backoff0 = gc.idle_backoff);
  long first = trickle_by(a.idle_collections + 1, 8000, 64);
  CHECKF(first >= 0, "no idle collection within 8 s");
  NP(backoff1 = gc.idle_backoff);
  long second = trickle_by(a.idle_collections + 2, 12000, 64);
  CHECKF(second >= 0, "no second idle collection within 12 s");
  NP(backoff2 = gc.idle_backoff);
  printf("with the heap full again, idle collections after %ld ms and "
         "%ld ms more; backoff %u, %u, %u\n", first, second, backoff0,
         backoff1, backoff2);
  CHECKF(backoff1 >= 2 * (backoff0 ? backoff0 : 1) && backoff2 >= 2 * backoff1,
         "the interval did not grow after a fruitless idle collection: "
         "backoff %u, then %u, then %u", backoff0, backoff1, backoff2);
  CHECKF(second * 4 >= (long)(PACER_IDLE_MIN_NS / 1000000) * 2 * 3,
         "the second idle collection came %ld ms after the first, not "
         "well over the minimum interval", second);
  for (size_t i = 0; i < n; i += 10)
    CHECK(((unsigned char *)slots[i])[0] == 0x11);

  /* Last (it cannot be undone): a heap expanded by 1 GiB, with what is in
   * use below the room that promised, gets no idle collection. */
  for (size_t i = 0; i < n; i++)
    slots[i] = NULL;
  CHECK(sgc_expand_heap((size_t)1 << 30) == 0);
  sgc_collect();
  sgc_read_stats(&a);
  long exp = trickle(a.idle_collections + 1, 1600);
  CHECKF(exp < 0, "an idle collection below the room sgc_expand_heap "
         "promised, after %ld ms", exp);
  return 0;
}
