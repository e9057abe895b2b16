// labels: gc
/* Generational protection: a major collection records, in its stop, the
 * ranges of pages to unprotect (their old objects died) and unprotects
 * them after the restart; in the same stop it protects the listed pages
 * old objects fill.  A recorded range may span such a page (it was
 * unprotected when the range was recorded), and must not unprotect it
 * after the restart.  Here: old 64-byte objects fill whole kernel pages,
 * in stretches of 8 pages, "odd" and "even" ones alternating; a first
 * major frees every object on the odd pages, which the program fills
 * again; then one object dies on each even page and a second major runs:
 * the even pages are to be unprotected, the odd ones (written since, full
 * of objects that are old after the major) protected.  A write to each
 * odd page afterwards must fault.  (A first version merged the even
 * stretches' ranges across the odd ones and unprotected nearly all of
 * them: listed and rescanned, then taken for hot pages.)  Checked with
 * generations on, when the policy makes the collection after the major a
 * minor (the pages are protected only then); every object keeps its
 * contents. */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define N 128000

typedef struct obj {
  uint64_t w[8];
} obj;

obj **volatile objs, **volatile refill; /* roots */

/* Kernel pages in stretches of 8: "odd" stretches and "even" ones. */
static int odd_page(const void *p) { return ((uintptr_t)p >> 15) & 1; }

#ifdef SWEEP_BEFORE_THE_WALK
/* The sweep done before the walk after the restart looks at the pages. */
static void sweep_first(void) { sweep_complete(); }
#endif

int main(void) {
  _Static_assert(sizeof(obj) == 64, "obj is 64 bytes");
  sgc_init();
  /* The refilled pages are to be protected by the major that finds them
   * full, not a collection later after a probe (genprotect.c). */
  sgc_test_probe_off = true;
#ifdef SWEEP_BEFORE_THE_WALK
  ATOMIC_STORE(&sgc_test_unprotect_walk_hook, sweep_first);
#endif
  objs = sgc_alloc(N * sizeof(obj *));
  refill = sgc_alloc(N * sizeof(obj *));
  CHECK(objs != NULL && refill != NULL);
  for (int i = 0; i < N; i++) {
    objs[i] = sgc_alloc(sizeof(obj));
    CHECK(objs[i] != NULL);
    objs[i]->w[0] = (uint64_t)i;
  }
  sgc_collect();
  run_minors(3);

  /* First major: every object on an odd page dies; refill those slots. */
  int dropped = 0;
  for (int i = 0; i < N; i++)
    if (odd_page(objs[i])) {
      objs[i] = NULL;
      dropped++;
    }
  clear_stack();
  sgc_collect();
  finish_sweep();
  for (int i = 0; i < dropped; i++) {
    refill[i] = sgc_alloc(sizeof(obj));
    CHECK(refill[i] != NULL);
    refill[i]->w[0] = ~(uint64_t)i;
  }
  /* One object per even page dies; the second major. */
  uintptr_t last = 0;
  for (int i = 0; i < N; i++)
    if (objs[i] != NULL && (uintptr_t)objs[i] >> 12 != last) {
      last = (uintptr_t)objs[i] >> 12;
      objs[i] = NULL;
    }
  clear_stack();
  sgc_collect();

  /* A write to each odd page the refill filled whole. */
  long nodd = 0, f0 = minor_faults();
  last = 0;
  for (int i = 0; i < dropped; i++) {
    uintptr_t a = (uintptr_t)refill[i];
    if (a % 4096 != 0 || !odd_page(refill[i]) || a >> 12 == last)
      continue;
    if (i + 63 >= dropped || (uintptr_t)refill[i + 63] != a + 63 * 64)
      continue;
    last = a >> 12;
    refill[i + 5]->w[1] = 1;
    nodd++;
  }
  long faults = minor_faults() - f0;
  int minor_next = gen_next_minor();
  fprintf(stderr,
          "%s, next collection %s: %ld faults writing %ld odd pages\n",
          generational() ? "generational" : "generations off",
          minor_next ? "minor" : "major", faults, nodd);
  CHECKF(!generational() || nodd > 100, "only %ld odd pages found", nodd);
  if (generational() && minor_next)
    CHECKF(faults >= nodd / 4 * 3,
           "pages the major protected were unprotected after its restart: "
           "%ld faults writing %ld of them", faults, nodd);

  run_minors(4);
  for (int i = 0; i < N; i++)
    if (objs[i] != NULL)
      CHECKF(objs[i]->w[0] == (uint64_t)i, "object %d lost", i);
  for (int i = 0; i < dropped; i++)
    CHECKF(refill[i]->w[0] == ~(uint64_t)i, "refill %d lost", i);
  return 0;
}
