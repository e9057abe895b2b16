/*
 * special.c — per-object records kept on spans ("specials").
 *
 * A span keeps a list of specials sorted by (object offset, kind); the
 * collector and the sweeper find an object's finalizer or weak slots by
 * walking its span's list.  Records come from mheap.specialalloc.
 * Also the span's rare bitmaps (mspan_rare: uncollectable, ever freed,
 * finalizer queue), made on first need from mheap.rarealloc.
 *
 * span->speciallock guards the list (its rank: lockrank.h).  The sweeper
 * touches a span's specials only while it owns the span (sweepgen sg-1),
 * and the marker only with the world stopped, but the lock is still taken
 * so that a thread adding a finalizer never races with either.
 */
#include "spangc-int.h"

void special_init(void) {
  fixalloc_init(&sgc_heap.specialalloc, sizeof(special), NULL, NULL,
                &sgc_heap.sys_meta, true);
  fixalloc_init(&sgc_heap.rarealloc, sizeof(mspan_rare), NULL, NULL,
                &sgc_heap.sys_meta, true);
}

mspan_rare *mspan_rare_make(mspan *s) {
  mspan_rare *r = mspan_rare_of(s);
  if (r != NULL)
    return r;
  mspan_rare *made = fixalloc_alloc(&sgc_heap.rarealloc); /* zeroed */
  if (made == NULL)
    return NULL;
  /* Two threads may make one at once (an uncollectable allocation and a
   * free in the same span): the first published stays for good. */
  if (__atomic_compare_exchange_n(&s->rare, &r, made, false,
                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return made;
  fixalloc_free(&sgc_heap.rarealloc, made);
  return r;
}

special *special_new(void) { return fixalloc_alloc(&sgc_heap.specialalloc); }

void special_dispose(special *sp) { fixalloc_free(&sgc_heap.specialalloc, sp); }

static bool same_record(const special *a, const special *b) {
  if (a->offset != b->offset || a->kind != b->kind)
    return false;
  return a->kind == SPECIAL_FINALIZER || a->slot == b->slot;
}

special *special_insert(mspan *s, special *sp) {
  special *old = NULL;
  /* Counted before it is linked: a stop that finds the special also
   * finds the count (rule:rootspans-counted). */
  mheap_note_rootspan(s);
  sgc_lock(&s->speciallock);
  special **pp = &s->specials;
  while (*pp && ((*pp)->offset < sp->offset ||
                 ((*pp)->offset == sp->offset && (*pp)->kind < sp->kind)))
    pp = &(*pp)->next;
  for (special **q = pp; *q && (*q)->offset == sp->offset; q = &(*q)->next)
    if (same_record(*q, sp)) {
      old = *q;
      ATOMIC_STORE_RELAXED(q, old->next);
      break;
    }
  sp->next = *pp;
  ATOMIC_STORE_RELAXED(pp, sp); /* the head is read without the lock */
  sgc_unlock(&s->speciallock);
  return old;
}

void special_remove_all(mspan *s, uintptr_t p) {
  uintptr_t off = p - s->base;
  special *gone = NULL;
  sgc_lock(&s->speciallock);
  special **pp = &s->specials;
  while (*pp) {
    if ((*pp)->offset == off) {
      special *sp = *pp;
      ATOMIC_STORE_RELAXED(pp, sp->next);
      sp->next = gone;
      gone = sp;
    } else {
      pp = &(*pp)->next;
    }
  }
  sgc_unlock(&s->speciallock);
  while (gone) {
    special *next = gone->next;
    special_dispose(gone);
    gone = next;
  }
}
