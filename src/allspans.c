/*
 * allspans.c — allspans and the snapshot: the record of every mspan struct
 * ever made, and the collector's snapshot of it.
 *
 * allspans records every mspan struct ever made (a struct recycled by
 * fixalloc stays recorded; its state says what it is now): the page heap
 * (mheap.c) gets a new struct from mheap_new_span, and fixalloc's 'first'
 * hook (record_span) records it.  When the array grows, the old one is
 * let go only if the collector does not hold it as its snapshot (gcspans);
 * otherwise the collector lets it go when it takes its next snapshot.  See
 * docs/design.md, "allspans and the snapshot".
 *
 * An array nobody reads any more is not unmapped by the thread that let
 * it go (an allocating thread, or the collector in a stop) but retired,
 * for the scavenger thread to unmap (rule:retired-arrays-unmapped-later).
 *
 * mheap.lock guards allspans, nspan, nspancap, gcspans, gcspanscap and
 * the retired list (mheap_clear_marks walks allspans under it a slice at
 * a time).  Its rank among the other locks: lockrank.h.
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

/* ------------------------------------------------------ retired arrays */

/* An array allspans left is unmapped by the scavenger thread, not here
 * (rule:retired-arrays-unmapped-later).  munmap flushes the TLB of every
 * CPU that ran the process since, by IPI: on this VM one such call with
 * another thread of ours on the other CPU held a push of the pause test
 * 2.1 ms (perf trace, session 30), at a growth of allspans in the
 * allocating thread, and in a stop at a snapshot.  Retired arrays are
 * linked through their first two words (a link and their size) and stay
 * counted in sys_meta until unmapped.  Without a scavenger thread
 * (SPANGC_SCAVENGE_MS=0, or it could not start) they are unmapped at
 * once, as before.  mheap.lock held. */
typedef struct retired_array {
  struct retired_array *next;
  size_t bytes;
} retired_array;

static void retire_array(mheap *h, mspan **a, uint32_t cap) {
  SGC_ASSERT_HELD(&h->lock);
  size_t bytes = cap * sizeof(mspan *);
  if (!h->scavenger_started) {
    os_free(a, bytes);
    ATOMIC_ADD(&h->sys_meta, -(uint64_t)bytes);
    return;
  }
  retired_array *r = (retired_array *)a;
  r->next = h->retired;
  r->bytes = bytes;
  ATOMIC_STORE_RELAXED(&h->retired, r);
}

/* Unmap the retired arrays (the scavenger thread, sgc_release_memory;
 * mheap.lock not held).  Returns the bytes given back.  The list is read
 * without the lock first (written atomically under it): a pass that
 * misses an array just retired unmaps it next time. */
size_t allspans_free_retired(void) {
  mheap *h = &sgc_heap;
  if (ATOMIC_LOAD_RELAXED(&h->retired) == NULL)
    return 0;
  mcache *c = nopreempt_enter_any();
  sgc_lock(&h->lock);
  retired_array *r = h->retired;
  ATOMIC_STORE_RELAXED(&h->retired, NULL);
  sgc_unlock(&h->lock);
  nopreempt_leave_any(c);
  size_t total = 0;
  while (r != NULL) {
    retired_array *next = r->next;
    size_t bytes = r->bytes;
    os_free(r, bytes);
    ATOMIC_ADD(&h->sys_meta, -(uint64_t)bytes);
    total += bytes;
    r = next;
  }
  return total;
}

/* ------------------------------------------------------------ allspans */

/* Make room in allspans for one more span (mheap.lock held).  The old
 * array stays if it is the collector's snapshot (rule:snapshot-array-kept). */
static bool allspans_reserve(mheap *h) {
  SGC_ASSERT_HELD(&h->lock);
  if (h->nspan < h->nspancap)
    return true;
  uint32_t cap = h->nspancap * 3 / 2;
  if (cap < (64 << 10) / sizeof(mspan *))
    cap = (64 << 10) / sizeof(mspan *);
  mspan **a = os_alloc(cap * sizeof(mspan *));
  if (a == NULL)
    return false;
  ATOMIC_ADD(&h->sys_meta, cap * sizeof(mspan *));
  if (h->allspans) {
    /* Faulted in with one call rather than page by page by the copy
     * (os_populate): 400 KB took 1-2.5 ms of a push of the pause test. */
    os_populate(a, h->nspan * sizeof(mspan *));
    memcpy(a, h->allspans, h->nspan * sizeof(mspan *));
    /* The snapshot rule: an array the collector still walks is left for
     * the collector to let go when it takes its next snapshot. */
    if (h->allspans != h->gcspans)
      retire_array(h, h->allspans, h->nspancap);
    /* else: gcspanscap already records its size for the collector. */
  }
  h->allspans = a;
  h->nspancap = cap;
  return true;
}

/* The collector's snapshot of allspans (mheap.lock held): retires the
 * previous snapshot if allspans has grown away from it since, and pins the
 * current array as gcspans until the next snapshot
 * (rule:snapshot-array-kept). */
void mheap_snapshot_locked(mspan ***spans, uint32_t *n) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  if (h->gcspans && h->gcspans != h->allspans)
    retire_array(h, h->gcspans, h->gcspanscap);
  h->gcspans = h->allspans;
  h->gcspanscap = h->nspancap;
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
  bool sample = age_sample_begin(h->nspan);
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
