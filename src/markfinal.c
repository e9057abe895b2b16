/*
 * markfinal.c — finalizable objects at mark termination, and objects the
 * finalizer queue holds.
 *
 * Finalizable objects are not roots of the parallel phase: once weak slots
 * were cleared, mark_finalizers marks what the unreachable ones reference
 * (their contents are scanned, not the objects themselves) and dooms them,
 * so that the sweep queues their finalizers (see doom_finalizables for the
 * order of the steps).  With generations an object waiting in the
 * finalizer queue is kept by its span's finqbits and scanned the same way
 * (mark_queued_object, from the finalizer queue's root job, on any
 * marker).
 *
 * Threads: mark_finalizers runs on the collecting thread alone, the world
 * stopped and the parallel phase over; it takes no lock.  scan_whole
 * (mark-int.h, per thread) is set around each object scanned unmarked.
 */
#include "mark-int.h"

/* Scan a finalizable object's contents without marking it; with
 * ignore_self, words pointing into the object itself do not count. */
SCAN_NO_SANITIZE static void scan_finalizable(gcwork *w, mspan *s,
                                              uintptr_t obj, bool ignore_self) {
  int scan = sgc_kinds[spanclass_kind(s->spanclass)].scan;
  /* A suspended fiber references what its stack holds: a finalizer that
   * resumes it must find its locals. */
  if (scan == SCAN_CONSERVATIVE && s->elemsize >= sizeof(sgc_fiber))
    fiber_scan_kept(w, obj, s->elemsize);
  if (!ignore_self || scan == SCAN_NONE) {
    scan_object(w, s, obj);
    return;
  }
  /* Skipping self pointers needs every word in hand: an object with a
   * descriptor is scanned conservatively here (more is kept, never less,
   * and bdwgc does the same). */
  mark_scan_range_except(w, obj, obj + s->elemsize, obj, s->elemsize);
}

SCAN_NO_SANITIZE void mark_scan_range_except(gcwork *w, uintptr_t lo,
                                             uintptr_t hi, uintptr_t xlo,
                                             size_t xsize) {
  lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
  for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t)) {
    uintptr_t v = *(volatile uintptr_t *)p;
    if (v - xlo >= xsize)
      mark_word(w, v);
  }
}

void mark_queued_object(gcwork *w, uintptr_t p) {
  mspan *s = mheap_lookup(p);
  if (s == NULL)
    return;
  uint32_t i = mspan_obj_index(s, p);
  if (!mspan_is_allocated(s, i))
    return;
  /* Made when its finalizer was registered (sgc_set_finalizer); a marker
   * must not allocate.  Without it (an object queued some other way),
   * the object is marked, so old: kept until a major collection. */
  mspan_rare *rare = mspan_rare_of(s);
  if (rare == NULL) {
    mark_root_word(w, p);
    return;
  }
  bitmap_set_atomic(rare->finqbits, i);
  if (bitmap_get_atomic(s->markbits, i))
    return; /* old, or reached otherwise: scanned as a marked object */
  scan_whole = true;
  scan_finalizable(w, s, s->base + (uintptr_t)i * s->elemsize, false);
  scan_whole = false;
}

/* Finalization (world stopped, after the mark and after weak slots were
 * cleared), in three steps:
 *   1. what every unmarked ORDERED / IGNORE_SELF finalizable object
 *      references is marked (its contents are scanned, the object itself
 *      is not marked): a finalizable object reachable from another one is
 *      marked now and waits for a later cycle, which orders finalizers;
 *   2. every finalizable object still unmarked is doomed: the sweep queues
 *      its finalizer whatever happens next (UNREACHABLE ones wait);
 *   3. what doomed NO_ORDER objects reference is marked, so their
 *      finalizers find it intact (they may reference each other: all of
 *      them were doomed first);
 *   4. UNREACHABLE objects still unmarked are doomed: nothing at all
 *      reaches them, not even a finalizable object.
 * Weak slots were cleared before step 1: an object reachable only from
 * finalizable objects has its slots cleared before any finalizer runs. */
static bool unmarked_finalizable(mspan *s, special *sp) {
  return sp->kind == SPECIAL_FINALIZER &&
         !bitmap_get(s->markbits, mspan_obj_index(s, s->base + sp->offset));
}

/* Doomed objects survive this cycle (the sweep queues their finalizers):
 * marked now, so that what is decided after the mark (weak slots inside
 * them) sees them alive.  Their contents were scanned already. */
static void mark_doomed(void) {
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (sp->kind == SPECIAL_FINALIZER && sp->doomed)
        sgc_set_mark_bit((void *)(s->base + sp->offset));
  }
}

/* Steps 1-4; false if no finalizable object was left unmarked (nothing
 * is doomed). */
static bool doom_finalizables(mark_result *res) {
  gcwork w = {0};
  bool any = false;
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next) {
      if (!unmarked_finalizable(s, sp))
        continue;
      any = true;
      if (sp->mode == SGC_FIN_NO_ORDER)
        continue;
      scan_whole = true;
      scan_finalizable(&w, s, s->base + sp->offset,
                       sp->mode == SGC_FIN_IGNORE_SELF);
      scan_whole = false;
      drain_if_full(&w);
    }
  }
  if (!any)
    return false;
  drain_and_finish(&w, res);

  bool unordered = false, unreachable = false;
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (unmarked_finalizable(s, sp)) {
        if (sp->mode == SGC_FIN_UNREACHABLE) {
          unreachable = true;
          continue;
        }
        sp->doomed = 1;
        unordered |= sp->mode == SGC_FIN_NO_ORDER;
      }
  }
  if (!unordered && !unreachable)
    return true;
  gcwork w2 = {0};
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (sp->kind == SPECIAL_FINALIZER && sp->doomed &&
          sp->mode == SGC_FIN_NO_ORDER) {
        scan_whole = true;
        scan_finalizable(&w2, s, s->base + sp->offset, false);
        scan_whole = false;
        drain_if_full(&w2);
      }
  }
  drain_and_finish(&w2, res);
  if (!unreachable)
    return true;
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (sp->mode == SGC_FIN_UNREACHABLE && unmarked_finalizable(s, sp))
        sp->doomed = 1;
  }
  return true;
}

void mark_finalizers(mark_result *res) {
  /* No span has a special: no finalizer (rule:rootspans-counted). */
  if (ATOMIC_LOAD(&sgc_heap.nrootspans) == 0)
    return;
  if (doom_finalizables(res))
    mark_doomed();
}
