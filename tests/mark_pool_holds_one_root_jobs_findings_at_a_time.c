// labels: gc
// env: SPANGC_MARKERS=1
/* The mark's work pool stays small when the roots find much.  Old holders
 * (made old by a collection) each get pointers to fresh young objects
 * stored in all their slots, with collections held off meanwhile; the
 * holders are reached only through one large array, and the young objects
 * only through the holders.  In the minor collection that follows, the
 * holders' pages are written, so their rescan is the minor's roots: 1.6
 * million young pointers, a work item each.  A marker that ran every root
 * job before draining (it did: mark_worker) kept all of them in work
 * buffers at once, 25 MB here (a minor of binary-trees 21 filled the pool's
 * 64 MiB cap, 30-80 MB of the run's peak RSS); draining once a marker's
 * jobs shared 1 MiB of full buffers keeps the pool near that.  Work
 * buffers come from the OS and are counted in meta_bytes, so the growth of
 * meta_bytes across the collection bounds the pool.  One marker: a second
 * one draining beside the first would hide the difference.  Every young
 * object must survive intact.  Without minors (SPANGC_GENERATIONAL=0,
 * SPANGC_DIRTY=off) the collections are major, their roots the one array:
 * the same bound and checks hold.  Catches: mark_worker running all jobs
 * before draining (mark.c). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NHOLD 200000
#define NSLOT 8

typedef struct holder {
  uint64_t *slot[NSLOT];
} holder;

static holder **volatile g_holders; /* the one root */

static uint64_t meta_bytes(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.meta_bytes;
}

__attribute__((noinline)) static void make_holders(void) {
  holder **h = sgc_alloc(NHOLD * sizeof *h);
  CHECK(h != NULL);
  for (long i = 0; i < NHOLD; i++) {
    h[i] = sgc_alloc(sizeof(holder));
    CHECK(h[i] != NULL);
  }
  g_holders = h;
}

/* Young objects: 16 bytes, scanned (so each is a work item), holding
 * their own tag. */
__attribute__((noinline)) static void fill_holders(void) {
  holder **h = g_holders;
  for (long i = 0; i < NHOLD; i++)
    for (int k = 0; k < NSLOT; k++) {
      uint64_t *y = sgc_alloc(2 * sizeof(uint64_t));
      CHECK(y != NULL);
      y[0] = (uint64_t)(i * NSLOT + k);
      y[1] = ~y[0];
      h[i]->slot[k] = y;
    }
}

static long count_intact(void) {
  holder **h = g_holders;
  long bad = 0;
  for (long i = 0; i < NHOLD; i++)
    for (int k = 0; k < NSLOT; k++) {
      uint64_t *y = h[i]->slot[k];
      uint64_t tag = (uint64_t)(i * NSLOT + k);
      if (y[0] != tag || y[1] != ~tag)
        bad++;
    }
  return bad;
}

int main(void) {
  sgc_init();
  /* No collection but these two before the one measured: the policy then
   * makes it minor (an earlier minor in which the holders survived would
   * turn minors off for a while). */
  sgc_disable();
  make_holders();
  sgc_enable();
  sgc_collect(); /* the holders are old now */
  clear_stack();
  sgc_disable(); /* all the young objects made since the last collection */
  fill_holders();
  clear_stack();
  uint64_t before = meta_bytes(), m0 = minor_count();
  sgc_enable();
  if (minor_count() == m0)
    run_minors(1);
  uint64_t minors = minor_count() - m0;
  uint64_t grown = meta_bytes() - before;
  sgc_stats st;
  sgc_read_stats(&st);
  printf("minors %llu, metadata grown by %.1f MB across the collection\n",
         (unsigned long long)minors, grown / 1048576.0);
  if (st.generational)
    CHECK(minors == 1);
  /* Before: 25 MB of work buffers; after, the 1 MiB a marker may share
   * before it drains, a job's findings (256 KiB of holders: 32768 items,
   * 512 KiB) and the spans run_minors' garbage took. */
  CHECK(grown < (uint64_t)8 << 20);
  long bad = count_intact();
  printf("%ld of %d young objects damaged\n", bad, NHOLD * NSLOT);
  CHECK(bad == 0);
  sgc_collect();
  CHECK(count_intact() == 0);
  printf("ok\n");
  return 0;
}
