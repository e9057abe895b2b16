/*
 * allspans.c — allspans and the snapshot: the record of every mspan struct
 * ever made, and the collector's snapshot of it.
 *
 * allspans records every mspan struct ever made (a struct recycled by
 * fixalloc stays recorded; its state says what it is now): the page heap
 * (mheap.c) gets a new struct from mheap_new_span, and fixalloc's 'first'
 * hook (record_span) records it.  The array sits in a reservation large
 * enough for every struct the arena could need, committed as it grows:
 * it never moves, so a snapshot (the array and a count) stays valid for
 * as long as the collector reads it.  See docs/design.md, "allspans and
 * the snapshot".
 *
 * mheap.lock guards nspan, nspancap and the entries' writes
 * (mheap_clear_marks walks allspans under it a slice at a time).  Its
 * rank among the other locks: lockrank.h.
 */
#include "spangc-int.h"

/* fixalloc 'first' hook: a brand-new mspan struct.  Called with
 * mheap.lock held; mheap_new_span made room beforehand, so this cannot
 * fail. */
void record_span(void *arg, void *obj) {
  mheap *h = arg;
  SGC_ASSERT_HELD(&h->lock);
  SGC_ASSERT(h->nspan < h->nspancap);
  h->allspans[h->nspan++] = obj;
}

/* ------------------------------------------------------------ allspans */

/* allspans in 'reserved', address space for the most entries it can
 * ever hold (mheap_init, before any span): every struct that is not DEAD
 * covers at least one page of the arena of its own, and fixalloc hands
 * a DEAD one out again before it carves a new one, so 'max' (the arena's
 * pages and a few for the structs made before their pages are given to
 * them) is never passed.  Nothing is committed yet. */
void allspans_init(mheap *h, void *reserved, uint32_t max) {
  h->allspans = reserved;
  h->nspanmax = max;
}

/* Make room in allspans for one more span (mheap.lock held).  The array
 * grows where it is: the next part of its reservation is committed, half
 * as much again as is committed so far, so nothing is ever copied, and
 * an array the collector holds (its snapshot) stays valid and unchanged
 * below the count it took (rule:snapshot-array-kept).  Copied to a new
 * array 1.5 times larger, as it once grew, allspans faulted in and
 * filled 200-500 KB inside one allocation of the pause test (pushes of
 * 0.8-1.2 ms; more at 1 GB live), and the old array had to outlive the
 * snapshots holding it, then be unmapped, which flushes every CPU's
 * TLB. */
static bool allspans_reserve(mheap *h) {
  SGC_ASSERT_HELD(&h->lock);
  if (h->nspan < h->nspancap)
    return true;
  uint32_t cap = h->nspancap * 3 / 2;
  if (cap < (64 << 10) / sizeof(mspan *))
    cap = (64 << 10) / sizeof(mspan *);
  if (cap > h->nspanmax)
    cap = h->nspanmax;
  if (cap <= h->nspancap)
    return false; /* not expected (allspans_init): out of memory */
  if (!os_commit_covering(h->allspans + h->nspancap, h->allspans + cap))
    return false;
  ATOMIC_ADD(&h->sys_meta, (uint64_t)(cap - h->nspancap) * sizeof(mspan *));
  h->nspancap = cap;
  return true;
}

/* The collector's snapshot of allspans (mheap.lock held): the array and
 * the count now.  The array never moves (allspans_reserve), so nothing
 * is pinned or let go here. */
void mheap_snapshot_locked(mspan ***spans, uint32_t *n) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  *spans = h->allspans;
  *n = h->nspan;
}

/* Before a concurrent collection's initial stop, the program running
 * (gc_lock held, the sweep finished): clear the mark bits of every in-use
 * span, so that the stop need not (rule:marks-cleared-before-the-stop).
 * allspans only grows, and only under mheap.lock, so it is walked in
 * slices of 1024 under the lock, with the threads waiting for it let in
 * between slices (sgc_lock_pass): an allocating thread waits for a slice
 * at most.  A span made after its slice was cleared has clear bits
 * already (nothing marks at allocation).  The program's sgc_set_mark_bit
 * sets its bit, fences, then sets stale_marks; here the flag is reset,
 * fenced, then the bits cleared: a bit this pass missed leaves the flag
 * set, and the stop clears again. */
void mheap_clear_marks(void) {
  mheap *h = &sgc_heap;
  ATOMIC_STORE(&h->stale_marks, 0);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  sgc_lock(&h->lock);
  bool sample = age_sample_begin();
  for (uint32_t k = 0; k < h->nspan; k += 1024) {
    if (k > 0)
      sgc_lock_pass(&h->lock); /* allocating threads first */
    uint32_t n = h->nspan;
    uint32_t end = n - k > 1024 ? k + 1024 : n;
    for (uint32_t i = k; i < end; i++) {
      mspan *s = h->allspans[i];
      if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
        continue;
      if (sample)
        age_sample_span(s);
      for (uint32_t j = 0; j < BITMAP_WORDS; j++)
        if (ATOMIC_LOAD_RELAXED(&s->markbits[j]))
          ATOMIC_STORE_RELAXED(&s->markbits[j], 0);
    }
  }
  sgc_unlock(&h->lock);
}

/* A zeroed mspan struct, recorded in allspans (mheap.lock held). */
mspan *mheap_new_span(mheap *h) {
  SGC_ASSERT_HELD(&h->lock);
  if (!allspans_reserve(h))
    return NULL;
  mspan *s = fixalloc_alloc(&h->spanalloc);
  if (s == NULL)
    return NULL;
  /* A recycled struct is DEAD; only its allocation-side fields are reset
   * here, the rest is set by whoever gives it pages.  state and sweepgen
   * are read through old snapshots, so they change only atomically. */
  SGC_ASSERT(ATOMIC_LOAD(&s->state) == MSPAN_DEAD);
  s->next = s->prev = NULL;
  s->list = NULL;
  s->tleft = s->tright = NULL;
  s->npreleased = 0;
  s->needzero = 0;
  s->unusedsince = 0;
  s->specials = NULL;
  s->rootspan = 0;
  s->incache = 0;
  s->nalloc = 0;
  s->spanclass = 0;
  sgc_mutex_init(&s->speciallock, LOCKRANK_SPECIAL);
  return s;
}
