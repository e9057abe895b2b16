/*
 * mheap.c — the page heap: the arena and its spans.
 *
 * The arena is one reservation of address space, [arena_start, arena_end),
 * committed from the bottom up to arena_used as the heap grows (at least
 * 1 MiB at a time).  It is cut into spans, runs of 8 KiB pages.  A span is
 * in use (small objects of one class, or one large object) or free.
 *
 * mheap.spans maps every committed page to the span that holds it, free or
 * in use: every entry is exact, not only the first and last of a span, so
 * the conservative scanner and sgc_base/sgc_free answer "which span holds
 * p" with one load and a bounds check.  The table is committed in step with
 * the arena.  Entries are written under mheap.lock and read without it
 * (atomic loads); an entry may be stale for a racing reader, which is why
 * mheap_lookup checks the span's state and bounds.
 *
 * Every free span sits in one treap ordered by base address, each node
 * knowing the largest span below it, so allocation takes the lowest-
 * addressed free run that fits (address-ordered first fit): the heap packs
 * towards the bottom of the arena, the runs above what the program uses
 * now stay untouched, coalesce, and are released, and the arena grows only
 * when no free run anywhere fits.  Freed spans coalesce with free
 * neighbours at once.  The treap itself: mtreap.c.
 *
 * The mspan structs come from mheap_new_span, which records each new one
 * in allspans (allspans.c).
 *
 * mheap.freetime records, for every free page, when that page became free
 * (0 once released to the OS); it is set here when a span is freed.
 * Merging spans merges no idle times: each page keeps its own, and a
 * span's unusedsince is only a lower bound on its pages' times.
 * Returning free pages to the OS by those times (the scavenger,
 * sgc_release_memory, the releases for the memory limit) and the figures
 * of free pages are scavenger.c's; an allocation under a memory limit
 * calls it from here (release_for_limit_locked).
 *
 * mheap.lock guards: the free structures and freetime, arena_used and
 * the spans table (writes), span state changes between FREE/INUSE/DEAD/
 * STACK, and the page counters (and allspans: allspans.c).  Its rank
 * among the other locks: lockrank.h.
 */
#include <stdlib.h>

#include "spangc-int.h"

/* In a section of its own: the root scanner skips it, so the arena
 * addresses held here never keep an object alive. */
mheap sgc_heap SGC_NOGC;

/* ------------------------------------------------------------ span lists */

void mspan_list_insert(mspan_list *l, mspan *s) {
  SGC_ASSERT(s->list == NULL);
  s->prev = NULL;
  s->next = l->first;
  if (l->first)
    l->first->prev = s;
  else
    l->last = s;
  l->first = s;
  s->list = l;
  l->n++;
}

void mspan_list_insert_back(mspan_list *l, mspan *s) {
  SGC_ASSERT(s->list == NULL);
  s->next = NULL;
  s->prev = l->last;
  if (l->last)
    l->last->next = s;
  else
    l->first = s;
  l->last = s;
  s->list = l;
  l->n++;
}

void mspan_list_remove(mspan *s) {
  mspan_list *l = s->list;
  SGC_ASSERT(l != NULL);
  if (s->prev)
    s->prev->next = s->next;
  else
    l->first = s->next;
  if (s->next)
    s->next->prev = s->prev;
  else
    l->last = s->prev;
  s->next = s->prev = NULL;
  s->list = NULL;
  l->n--;
}

/* ----------------------------------------------------------- spans table */

static void set_span_pages(mheap *h, mspan *s) {
  size_t first = page_index(h, s->base);
  for (size_t i = 0; i < s->npages; i++)
    ATOMIC_STORE_RELAXED(&h->spans[first + i], s);
}

/* mheap.scanpages for the pages of s (mheap.lock held). */
static void set_scan_pages(mheap *h, mspan *s, bool on) {
  size_t k = page_index(h, s->base), end = k + s->npages;
  while (k < end) {
    size_t n = 64 - k % 64;
    if (n > end - k)
      n = end - k;
    uint64_t m = n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1) << (k % 64);
    if (on)
      __atomic_fetch_or(&h->scanpages[k / 64], m, __ATOMIC_RELAXED);
    else
      __atomic_fetch_and(&h->scanpages[k / 64], ~m, __ATOMIC_RELAXED);
    k += n;
  }
}

/* The first page in [p, hi) whose mheap.scanpages bit is 'set', 64 bits
 * at a time; hi if none. */
static uintptr_t next_scan_bit(uintptr_t p, uintptr_t hi, bool set) {
  mheap *h = &sgc_heap;
  if (p >= hi)
    return hi;
  uint64_t flip = set ? 0 : ~(uint64_t)0;
  size_t k = page_index(h, p), end = page_index(h, hi - 1) + 1;
  uint64_t w = (ATOMIC_LOAD_RELAXED(&h->scanpages[k / 64]) ^ flip) >> (k % 64);
  if (w != 0) {
    k += (size_t)__builtin_ctzll(w);
  } else {
    k = (k / 64 + 1) * 64;
    for (; k < end; k += 64) {
      w = ATOMIC_LOAD_RELAXED(&h->scanpages[k / 64]) ^ flip;
      if (w != 0) {
        k += (size_t)__builtin_ctzll(w);
        break;
      }
    }
  }
  if (k >= end)
    return hi;
  uintptr_t q = h->arena_start + (k << PAGE_SHIFT);
  return q > p ? q : p;
}

uintptr_t mheap_next_scanned_page(uintptr_t p, uintptr_t hi) {
  return next_scan_bit(p, hi, true);
}

uintptr_t mheap_next_unscanned_page(uintptr_t p, uintptr_t hi) {
  return next_scan_bit(p, hi, false);
}

/* ------------------------------------------------------------ free spans */

static void free_insert(mheap *h, mspan *s) { treap_insert(h, s); }

static void free_remove(mheap *h, mspan *s) {
  h->freetree = treap_remove(h->freetree, s);
}

static mspan *free_neighbour(mheap *h, uintptr_t addr) {
  if (addr < h->arena_start || addr >= h->arena_used)
    return NULL;
  mspan *t = h->spans[page_index(h, addr)];
  return t && t->state == MSPAN_FREE && t != h->scavenging ? t : NULL;
}

/* s absorbs the idle-time bound of free neighbour t: unusedsince is the
 * oldest freetime among a span's unreleased pages, so the merged span
 * takes the older of the two (a neighbour with every page released has
 * none).  Each page keeps its own freetime: merging resets nobody's.
 * Called before the page counts are added. */
static void merge_idle_time(mspan *s, const mspan *t) {
  if (t->npreleased == t->npages)
    return;
  if (s->npreleased == s->npages || t->unusedsince < s->unusedsince)
    s->unusedsince = t->unusedsince;
}

/* Put s (its pages no longer in use) into the free structures, merged
 * with free neighbours.  Its pages become free now, or released if
 * 'released' (the caller returned them to the OS: they read as zero).
 * mheap.lock held. */
void mheap_note_rootspan(mspan *s) {
  if (!ATOMIC_LOAD_RELAXED(&s->rootspan) &&
      __atomic_exchange_n(&s->rootspan, 1, __ATOMIC_SEQ_CST) == 0)
    ATOMIC_ADD(&sgc_heap.nrootspans, 1);
}

void mheap_forget_rootspan(mspan *s) {
  if (ATOMIC_LOAD_RELAXED(&s->rootspan) &&
      __atomic_exchange_n(&s->rootspan, 0, __ATOMIC_SEQ_CST) == 1)
    ATOMIC_ADD(&sgc_heap.nrootspans, -1);
}

static void free_merge_insert(mheap *h, mspan *s);

static void free_span_locked(mheap *h, mspan *s, bool was_inuse,
                             bool released) {
  SGC_ASSERT_HELD(&h->lock);
  mheap_forget_rootspan(s);
  if (was_inuse) {
    OWNER_ADD(&h->pages_inuse, -(uint64_t)s->npages);
    OWNER_ADD(&h->pages_freed, (uint64_t)s->npages);
    s->needzero = 1;
  }
  OWNER_ADD(&h->pages_free, s->npages);
  if (was_inuse && !spanclass_noscan(s->spanclass))
    set_scan_pages(h, s, false);
  ATOMIC_STORE(&s->state, MSPAN_FREE);
  s->spanclass = 0;
  uint64_t now = os_nanotime();
  s->unusedsince = now;
  size_t first = page_index(h, s->base);
  for (size_t i = 0; i < s->npages; i++)
    h->freetime[first + i] = released ? 0 : now;
  if (released) {
    s->npreleased = s->npages;
    s->needzero = 0;
    /* Stored atomically: memlimit.c reads it without mheap.lock. */
    ATOMIC_STORE_RELAXED(&h->pages_released, h->pages_released + s->npages);
  }

  free_merge_insert(h, s);
}

/* Free span s into the treap, merged with its free neighbours. */
static void free_merge_insert(mheap *h, mspan *s) {
  mspan *l = free_neighbour(h, s->base - 1);
  if (l) {
    free_remove(h, l);
    merge_idle_time(s, l);
    s->base = l->base;
    s->npages += l->npages;
    s->npreleased += l->npreleased;
    s->needzero |= l->needzero;
    ATOMIC_STORE(&l->state, MSPAN_DEAD);
    fixalloc_free(&h->spanalloc, l);
  }
  mspan *r = free_neighbour(h, s->base + s->npages * PAGE_SIZE);
  if (r) {
    free_remove(h, r);
    merge_idle_time(s, r);
    s->npages += r->npages;
    s->npreleased += r->npreleased;
    s->needzero |= r->needzero;
    ATOMIC_STORE(&r->state, MSPAN_DEAD);
    fixalloc_free(&h->spanalloc, r);
  }
  s->limit = s->base + s->npages * PAGE_SIZE;
  if (l || r)
    set_span_pages(h, s);
  free_insert(h, s);
}

void mheap_free_take_locked(mspan *s) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  SGC_ASSERT(h->scavenging == NULL && s->state == MSPAN_FREE);
  free_remove(h, s);
  h->scavenging = s;
}

void mheap_free_put_back_locked(mspan *s) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  SGC_ASSERT(h->scavenging == s);
  h->scavenging = NULL;
  h->scavenge_puts++;
  free_merge_insert(h, s);
  pthread_cond_broadcast(&h->scavenge_cond); /* the waiters for it */
}

void mheap_free_locked(mspan *s, bool was_inuse) {
  SGC_ASSERT_HELD(&sgc_heap.lock);
  free_span_locked(&sgc_heap, s, was_inuse, false);
}

/* Commit more arena: at least npages, at least HEAP_GROW_MIN, and up to
 * a sixteenth of the arena in use more.  The new pages become a free
 * span; the ones past what was asked for are counted as released:
 * nothing touched them, so they hold no memory (the memory limit counts
 * what is held), and they read as zero.  With 'extend_top', a free run at the
 * top of the arena counts towards npages (it merges with the new pages):
 * the arena grows only by what the run lacks.  Each commit is an
 * mprotect, which waits for the process's mmap lock, held for reading
 * by the kernel's write tracking (a listing, a protect call) while the
 * collector runs beside the program: growing 1 MiB at a time, the pause
 * test's allocating thread waited there 1-6 ms, several times a run,
 * inside its no-preempt region (so a stop waited too).  mheap.lock held. */
static bool mheap_grow(mheap *h, uintptr_t npages, bool extend_top) {
  SGC_ASSERT_HELD(&h->lock);
  if (extend_top && h->arena_used > h->arena_start) {
    mspan *top = h->spans[page_index(h, h->arena_used - 1)];
    if (top->state == MSPAN_FREE && top->npages < npages)
      npages -= top->npages;
  }
  uintptr_t ask = npages * PAGE_SIZE;
  if (ask < HEAP_GROW_MIN)
    ask = HEAP_GROW_MIN;
  ask = (ask + (64 << 10) - 1) & ~(uintptr_t)((64 << 10) - 1);
  if (ask > h->arena_end - h->arena_used) {
    ask = npages * PAGE_SIZE;
    if (ask > h->arena_end - h->arena_used)
      return false;
  }
  /* What is committed beyond ask, up to a sixteenth of the arena in use,
   * is left released. */
  uintptr_t more = (h->arena_used - h->arena_start) / 16;
  more = more > ask ? (more - ask) & ~(uintptr_t)((64 << 10) - 1) : 0;
  if (more > h->arena_end - h->arena_used - ask)
    more = 0;
  /* The tables covering the new pages (spans, page free times, scanned
   * pages' bits), then the pages. */
  size_t first = page_index(h, h->arena_used);
  size_t last = page_index(h, h->arena_used + ask + more);
  if (!os_commit_covering(&h->spans[first], &h->spans[last]) ||
      !os_commit_covering(&h->freetime[first], &h->freetime[last]) ||
      !os_commit_covering(&h->scanpages[first / 64],
                       &h->scanpages[(last + 63) / 64]))
    return false;
  if (more > 0 && !os_commit((void *)h->arena_used, ask + more))
    more = 0; /* try what is needed alone */
  if (more == 0 && !os_commit((void *)h->arena_used, ask))
    return false;
  mspan *s = mheap_new_span(h);
  mspan *t = more > 0 && s != NULL ? mheap_new_span(h) : NULL;
  if (s == NULL)
    return false; /* the pages stay committed, past arena_used: reused */
  if (t == NULL)
    more = 0;
  s->base = h->arena_used;
  s->npages = ask / PAGE_SIZE;
  s->limit = s->base + ask;
  set_span_pages(h, s);
  if (t != NULL) {
    t->base = s->base + ask;
    t->npages = more / PAGE_SIZE;
    t->limit = t->base + more;
    set_span_pages(h, t);
  }
  ATOMIC_ADD(&h->sys_heap, ask + more);
  h->ngrow++;
  ATOMIC_STORE(&h->arena_used, h->arena_used + ask + more);
  mheap_free_locked(s, false); /* fresh pages are zero: needzero stays 0 */
  if (t != NULL) /* untouched: zero, and no memory behind them yet */
    free_span_locked(h, t, false, true);
  return true;
}

/* Could the span out for its release (scavenger.c), merged with its free
 * neighbours when it is put back, hold npages?  mheap.lock held. */
static bool out_could_fit(mheap *h, uintptr_t npages) {
  SGC_ASSERT_HELD(&h->lock);
  mspan *s = h->scavenging;
  if (s == NULL)
    return false;
  uintptr_t n = s->npages;
  if (s->base > h->arena_start) {
    mspan *l = h->spans[page_index(h, s->base - 1)];
    if (l != NULL && l->state == MSPAN_FREE)
      n += l->npages;
  }
  uintptr_t end = s->base + s->npages * PAGE_SIZE;
  if (end < h->arena_used) {
    mspan *r = h->spans[page_index(h, end)];
    if (r != NULL && r->state == MSPAN_FREE)
      n += r->npages;
  }
  return n >= npages;
}

/* Until the span out now is back (not until none is out: a pass puts one
 * back and takes the next out in one hold of the lock, and a waiter for
 * "none out" waited out whole passes, 150-180 ms).  mheap.lock held;
 * dropped meanwhile. */
static void wait_span_back_locked(mheap *h) {
  SGC_ASSERT_HELD(&h->lock);
  uint64_t puts = h->scavenge_puts;
  h->scavenge_waiters++; /* the releaser lets us in after the put */
  while (h->scavenging != NULL && h->scavenge_puts == puts)
    mheap_scavenge_wait_locked();
  if (--h->scavenge_waiters == 0)
    pthread_cond_broadcast(&h->scavenge_cond); /* the releaser's handover */
}

/* Take npages from the free structures (growing the arena if needed) and
 * return a span of exactly npages, marked in use.  The lowest-addressed
 * free run that fits is used, so the heap packs towards the bottom of
 * the arena and runs above what the program uses now stay idle, coalesce
 * and go back to the OS.  Before growing, a free span that the scavenger
 * holds out while it releases its pages (scavenger.c) is waited for if,
 * with its free neighbours, it could hold the request: it is often the
 * largest run (the idle top of the arena).  Growing instead made the
 * committed arena creep up under load (the short soak: 1.6-1.75x the
 * pages ever in use, against 1.1x).  The wait is for that span to be put
 * back, one release call (at most 16 MiB, about 1 ms), by a thread that
 * takes part in no stop and waits for nothing the caller holds; at most
 * ALLOC_WAITS of them, as another span may be out by the time the lock is
 * back.  The lock is dropped meanwhile, so the heap limit is tested again
 * after a wait (other threads passed the caller's test meanwhile: 8
 * threads took 32 MiB each under a 64 MiB limit).  NULL (the caller
 * reports ENOMEM) past the limit or if the arena cannot grow.  mheap.lock
 * held. */
#define ALLOC_WAITS 4
static mspan *alloc_span_locked(mheap *h, uintptr_t npages) {
  SGC_ASSERT_HELD(&h->lock);
  mspan *s = treap_first_fit(h, npages);
  for (int k = 0; s == NULL && k < ALLOC_WAITS && out_could_fit(h, npages);
       k++) {
    wait_span_back_locked(h);
    if (gc_over_max_heap(npages))
      return NULL;
    s = treap_first_fit(h, npages);
  }
  if (s == NULL) {
    if (!mheap_grow(h, npages, true))
      return NULL;
    return alloc_span_locked(h, npages);
  }
  free_remove(h, s);
  /* Released pages come back on first touch (as zeroes). */
  size_t first = page_index(h, s->base);
  uintptr_t reused = 0;
  if (s->npreleased)
    for (uintptr_t i = 0; i < npages; i++)
      reused += h->freetime[first + i] == 0;
  if (s->npages > npages) {
    mspan *t = mheap_new_span(h);
    if (t == NULL) {
      free_insert(h, s);
      return NULL;
    }
    t->base = s->base + npages * PAGE_SIZE;
    t->npages = s->npages - npages;
    t->limit = t->base + t->npages * PAGE_SIZE;
    t->needzero = s->needzero;
    t->unusedsince = s->unusedsince; /* still a bound on its oldest page */
    t->npreleased = s->npreleased - reused;
    ATOMIC_STORE(&t->state, MSPAN_FREE);
    set_span_pages(h, t);
    free_insert(h, t);
    s->npages = npages;
  }
  ATOMIC_STORE_RELAXED(&h->pages_released, h->pages_released - reused);
  s->npreleased = 0;
  if (reused == npages)
    s->needzero = 0; /* every page was released: all read as zero */
  OWNER_ADD(&h->pages_free, -(uint64_t)s->npages);
  OWNER_ADD(&h->pages_inuse, (uint64_t)s->npages);
  if (h->pages_inuse + h->pages_stack > h->pages_peak)
    h->pages_peak = h->pages_inuse + h->pages_stack;
  return s;
}

/* ------------------------------------------------------------ public ops */

/* Under a memory limit: an allocation that made the heap hold more gives
 * back free pages at once (memlimit.c).  mheap.lock held. */
static void release_for_limit_locked(void) {
  SGC_ASSERT_HELD(&sgc_heap.lock);
  uint64_t cap = memlimit_retain_cap();
  if (cap != UINT64_MAX)
    memlimit_note_released(mheap_scavenge_down_to_locked(cap, SIZE_MAX, 0));
}

/* A span of npages pages, initialised for span class sc (a large object
 * if 'large'), stamped with the current sweepgen and published in the
 * spans table.  NULL (errno ENOMEM) if the OS refuses memory. */
mspan *mheap_alloc(uintptr_t npages, int spanclass, bool large) {
  mheap *h = &sgc_heap;
  /* Parked spans are free pages kept for their classes: a span taken
   * from the heap meanwhile gives back as many parked pages first, so
   * parking never adds to the pages in use; and before the heap grows or
   * a max heap refuses, they all come back (rule:parked-spans-bounded).
   * The caller is in a no-preempt region and holds no class lock
   * (mcentral_unpark). */
  if (unlikely(sweep_parked_pages() != 0))
    mcentral_unpark(UINT64_MAX, npages);
  sgc_lock_counted(&h->lock); /* let in by the walks' sgc_lock_pass */
  if (unlikely(sweep_parked_pages() != 0) &&
      (gc_over_max_heap(npages) || treap_first_fit(h, npages) == NULL)) {
    sgc_unlock(&h->lock);
    mcentral_unpark_all();
    sgc_lock_counted(&h->lock);
  }
  mspan *s = gc_over_max_heap(npages) ? NULL : alloc_span_locked(h, npages);
  if (s == NULL) {
    sgc_unlock(&h->lock);
    errno = ENOMEM;
    return NULL;
  }
  release_for_limit_locked();
  s->spanclass = (uint16_t)spanclass;
  s->next = s->prev = NULL;
  s->list = NULL;
  s->incache = 0;
  s->parked = 0;
  s->specials = NULL;
  mheap_forget_rootspan(s);
  /* Word by word, atomically: markers load mark bits with atomics and no
   * lock (mark_word, scan_dirty), and what orders their last load of
   * this span's before it is made again is the world's stop and restart,
   * which ThreadSanitizer may not see (design.md, 8e, step 2). */
  bitmap_clear_all_atomic(s->markbits);
  memset(s->allocbits, 0, sizeof s->allocbits);
#if SPANGC_DEBUG
  memset(s->freedbits, 0, sizeof s->freedbits);
#endif
  /* The struct's rare bitmaps, if it has them, from its last span. */
  mspan_rare *rare = mspan_rare_of(s);
  if (rare != NULL) {
    memset(rare->everfreedbits, 0, sizeof rare->everfreedbits);
    memset(rare->finqbits, 0, sizeof rare->finqbits);
    if (s->hasuncoll)
      memset(rare->uncollbits, 0, sizeof rare->uncollbits);
  }
  ATOMIC_STORE_RELAXED(&s->hasuncoll, 0); /* atomic: read without locks */
  ATOMIC_STORE_RELAXED(&s->everfreedall, 0);
  ATOMIC_STORE_RELAXED(&s->rescanpass, 0);
  s->freedeferred = 0;
  if (large) {
    s->elemsize = npages * PAGE_SIZE;
    s->nelems = 1;
    s->divmul = 0;
    s->allocbits[0] = 1;
    s->nalloc = 1;
    s->cachebase = 64; /* nothing left to allocate */
    s->alloccache = 0;
  } else {
    int cls = spanclass_class(spanclass);
    s->elemsize = class_to_size[cls];
    s->nelems = (uint32_t)(npages * PAGE_SIZE / s->elemsize);
    s->divmul = class_to_divmul[cls];
    s->nalloc = 0;
    mspan_seek_free(s, 0);
  }
  s->limit = s->base + (uintptr_t)s->nelems * s->elemsize;
  /* A new span is swept.  One made while marking is stamped with the
   * generation the mark phase ends in: its mark bits were never computed,
   * so it must not be swept this cycle (rule:marking-spans-not-garbage),
   * and the mark bits it gets must be cleared before the next mark
   * (rule:stale-marks-cleared). */
  ATOMIC_STORE(&s->sweepgen, h->sweepgen + (h->gcmarking ? 2 : 0));
  if (h->gcmarking)
    ATOMIC_STORE(&h->stale_marks, 1);
  set_span_pages(h, s);
  if (!spanclass_noscan(spanclass))
    set_scan_pages(h, s, true);
  ATOMIC_STORE(&s->state, MSPAN_INUSE);
  sgc_unlock(&h->lock);
  return s;
}

/* A span for fiber stacks (fiber.c).  Like any span it is recorded in
 * allspans and in the spans table; its state keeps the marker and the
 * sweepers away from it.  It counts against the max heap: NULL (ENOMEM)
 * past it, and fiber.c collects and tries again. */
mspan *mheap_alloc_stack(uintptr_t npages) {
  mheap *h = &sgc_heap;
  sgc_lock_counted(&h->lock); /* let in by the walks */
  mspan *s = gc_over_max_heap(npages) ? NULL : alloc_span_locked(h, npages);
  if (s == NULL) {
    sgc_unlock(&h->lock);
    errno = ENOMEM;
    return NULL;
  }
  release_for_limit_locked();
  OWNER_ADD(&h->pages_inuse, -(uint64_t)npages);
  OWNER_ADD(&h->pages_stack, (uint64_t)npages);
  s->spanclass = 0;
  s->elemsize = npages * PAGE_SIZE;
  s->nelems = 1;
  s->nalloc = 0;
  s->limit = s->base + npages * PAGE_SIZE;
  s->list = NULL;
  ATOMIC_STORE(&s->sweepgen, h->sweepgen);
  set_span_pages(h, s);
  ATOMIC_STORE(&s->state, MSPAN_STACK);
  sgc_unlock(&h->lock);
  return s;
}

/* A stack span goes back released: its stacks' pages were returned as
 * each stack was freed (fiber.c), the rest is returned here, so the
 * heap counts them as released and hands them out as zeroes. */
void mheap_free_stack(mspan *s) {
  mheap *h = &sgc_heap;
  SGC_ASSERT(s->state == MSPAN_STACK);
  os_release((void *)s->base, s->npages * PAGE_SIZE);
  sgc_lock_counted(&h->lock); /* let in by the walks */
  if (sgc_record_frees)
    gen_note_span_freed(s);
  OWNER_ADD(&h->pages_stack, -(uint64_t)s->npages);
  /* free_span_locked moves them to free */
  OWNER_ADD(&h->pages_inuse, (uint64_t)s->npages);
  free_span_locked(h, s, true, true);
  sgc_unlock(&h->lock);
}

/* Give in-use span s back, mheap.lock held; false (nothing done) if it
 * is not in use, or already put off: a double free of a large object. */
static bool free_inuse_locked(mheap *h, mspan *s) {
  SGC_ASSERT_HELD(&h->lock);
  /* Two threads freeing one large object at once: the second finds it
   * free already (under the lock, so no third party is in the middle). */
  if (s->state != MSPAN_INUSE)
    return false;
  if (ATOMIC_LOAD_RELAXED(&h->concmark)) {
    /* A concurrent marker may have loaded s and be about to set its mark
     * bit: the struct must not be freed (and reused) under it.  The final
     * stop frees it (rule:no-span-freed-under-markers). */
    if (s->freedeferred)
      return false;
    s->freedeferred = 1;
    s->next = h->deferred_free;
    h->deferred_free = s;
    return true;
  }
  if (sgc_record_frees)
    gen_note_span_freed(s);
  mheap_free_locked(s, true);
  return true;
}

void mheap_free(mspan *s) {
  mheap_free_spans(&s, 1);
}

void mheap_free_spans(mspan *const *v, uint32_t n) {
  if (n == 0)
    return;
  mheap *h = &sgc_heap;
  sgc_lock_counted(&h->lock); /* let in by the walks */
  for (uint32_t i = 0; i < n; i++)
    if (!free_inuse_locked(h, v[i])) {
      uintptr_t base = v[i]->base;
      sgc_unlock(&h->lock);
      sgc_fatal("sgc_free(%p): double free of a large object", (void *)base);
    }
  sgc_unlock(&h->lock);
}

/* World stopped, at the end of a concurrent mark: free the large spans
 * sgc_free gave back during it. */
void mheap_free_deferred(void) {
  mheap *h = &sgc_heap;
  sgc_lock(&h->lock);
  mspan *s = h->deferred_free;
  h->deferred_free = NULL;
  while (s) {
    mspan *next = s->next;
    s->next = NULL;
    s->freedeferred = 0;
    gen_note_span_freed(s);
    mheap_free_locked(s, true);
    s = next;
  }
  sgc_unlock(&h->lock);
}

/* ----------------------------------------------------------------- fork */

void heap_atfork(int phase) {
  mheap *h = &sgc_heap;
  /* The thread records' allocator too: a thread registering takes its
   * lock before it is on the thread list, and one unregistering after it
   * left it, out of the fork barrier's reach; a child that inherited it
   * held hung freeing the other threads' records
   * (world_fork_while_a_thread_registers). */
  fixalloc *fs[] = {&h->spanalloc, &h->cachealloc, &h->specialalloc,
                    &h->rarealloc, world_thread_alloc()};
  int nfs = (int)(sizeof fs / sizeof fs[0]);
  if (phase == FORK_PREPARE) {
    for (int i = 0; i < NUM_SPANCLASSES; i++)
      sgc_lock(&h->central[i].lock);
    sgc_lock(&h->lock);
    fixalloc_atfork(fs, nfs, phase);
    return;
  }
  fixalloc_atfork(fs, nfs, phase);
  if (phase == FORK_CHILD) /* threads that waited for it are the parent's */
    ATOMIC_STORE_RELAXED(&h->lock.waiters, 0);
  sgc_unlock(&h->lock);
  if (phase == FORK_CHILD) {
    /* Taken again, by the child's own thread: the prepare handler's hold
     * names the parent's (the debug build's held-lock check compares). */
    sgc_lock(&h->lock);
    scavenge_atfork_child();
    sgc_unlock(&h->lock);
  }
  for (int i = NUM_SPANCLASSES - 1; i >= 0; i--)
    sgc_unlock(&h->central[i].lock);
  if (phase == FORK_CHILD) {
    memlimit_atfork_child();
    h->scavenger_started = false;
    scavenger_start(false);
  }
}

/* ----------------------------------------------------------------- init */

static uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *e = sgc_option(name);
  if (e == NULL || *e == 0)
    return dflt;
  char *end;
  unsigned long long v = strtoull(e, &end, 10);
  if (*end == 'k' || *end == 'K')
    v <<= 10;
  else if (*end == 'm' || *end == 'M')
    v <<= 20;
  else if (*end == 'g' || *end == 'G')
    v <<= 30;
  return v;
}

void mheap_init(void) {
  mheap *h = &sgc_heap;
  sgc_mutex_init(&h->lock, LOCKRANK_MHEAP);
  pthread_cond_init(&h->scavenge_cond, NULL);
  h->treap_seed = 0x9e3779b97f4a7c15ull;
  fixalloc_init(&h->spanalloc, sizeof(mspan), record_span, h, &h->sys_meta,
                false);
  fixalloc_grow_chunks(&h->spanalloc); /* many, made while tracking runs */
  fixalloc_init(&h->cachealloc, sizeof(mcache), NULL, NULL, &h->sys_meta,
                true);
  special_init();
  for (int i = 0; i < NUM_SPANCLASSES; i++)
    mcentral_init(&h->central[i], i);

  /* Reserve the arena: SPANGC_ARENA_SIZE (default 64 GiB, 4 GiB under a
   * sanitizer; at least 16 MiB), halving on refusal down to the smaller
   * of that and 256 MiB. */
#if SPANGC_SANITIZED
  uint64_t want = env_u64("SPANGC_ARENA_SIZE", (uint64_t)4 << 30);
#else
  uint64_t want = env_u64("SPANGC_ARENA_SIZE", (uint64_t)64 << 30);
#endif
  want &= ~(uint64_t)(HEAP_GROW_MIN - 1);
  if (want < HEAP_GROW_MIN * 16)
    want = HEAP_GROW_MIN * 16;
  void *arena = NULL, *table = NULL, *times = NULL, *scan = NULL;
  void *all = NULL;
  uint32_t maxspans = 0;
  uint64_t floor = want < ((uint64_t)256 << 20) ? want : (uint64_t)256 << 20;
  for (; want >= floor; want /= 2) {
    /* Room to align the arena start to 1 MiB. */
    arena = os_reserve(want + HEAP_GROW_MIN);
    if (arena == NULL)
      continue;
    size_t npg = want / PAGE_SIZE;
    /* allspans: every span struct not DEAD holds a page of its own, and
     * a few more for those made before their pages are given
     * (mheap_grow's two). */
    maxspans = npg + 64 < UINT32_MAX ? (uint32_t)(npg + 64) : UINT32_MAX;
    table = os_reserve(npg * sizeof(mspan *));
    times = os_reserve(npg * sizeof(uint64_t));
    scan = os_reserve((npg / 64 + 1) * sizeof(uint64_t));
    all = os_reserve((size_t)maxspans * sizeof(mspan *));
    if (table != NULL && times != NULL && scan != NULL && all != NULL)
      break;
    if (table)
      os_free(table, npg * sizeof(mspan *));
    if (times)
      os_free(times, npg * sizeof(uint64_t));
    if (scan)
      os_free(scan, (npg / 64 + 1) * sizeof(uint64_t));
    if (all)
      os_free(all, (size_t)maxspans * sizeof(mspan *));
    os_free(arena, want + HEAP_GROW_MIN);
    arena = NULL;
  }
  if (arena == NULL)
    sgc_fatal("sgc_init: cannot reserve address space for the heap");
  allspans_init(h, all, maxspans);
  uintptr_t start = ((uintptr_t)arena + HEAP_GROW_MIN - 1) & ~(HEAP_GROW_MIN - 1);
  h->arena_start = start;
  h->arena_used = start;
  h->arena_end = start + want;
  h->spans = table;
  h->freetime = times;
  h->scanpages = scan;
  h->scavenge_delay_ns = env_u64("SPANGC_SCAVENGE_MS", 5000) * 1000000u;
}

int sgc_expand_heap(size_t bytes) {
  sgc_ensure_init();
  mheap *h = &sgc_heap;
  if (bytes == 0)
    return 0;
  /* Compared before rounding: rounding SIZE_MAX up to pages wraps. */
  if (bytes > h->arena_end - h->arena_start)
    return ENOMEM;
  uintptr_t npages = (bytes + PAGE_SIZE - 1) >> PAGE_SHIFT;
  uint64_t max = gc_max_heap();
  mcache *c = nopreempt_enter_any();
  sgc_lock_counted(&h->lock); /* let in by the walks */
  /* Growing past sgc_set_max_heap is refused (in-use pages are limited by
   * it anyway: free pages beyond it could never be used). */
  bool ok = max == 0 || h->sys_heap + npages * PAGE_SIZE <= max;
  ok = ok && mheap_grow(h, npages, false);
  sgc_unlock(&h->lock);
  nopreempt_leave_any(c);
  if (!ok)
    return ENOMEM;
  gc_raise_min_goal(npages * PAGE_SIZE);
  return 0;
}
