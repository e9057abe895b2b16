/*
 * verify.c — the heap verifier: checks every structural invariant of the
 * heap and aborts naming the first one broken.
 *
 * Called by the collector before each mark when SPANGC_DEBUG=verify=1, and
 * by tests.  It first completes the current sweep.  The caller guarantees
 * that no other thread allocates or frees meanwhile (world stopped, or a
 * quiescent test); it takes mheap.lock itself.
 *
 * Invariants checked:
 *   - every committed page maps (mheap.spans) to a span covering it;
 *   - spans tile the committed arena: no gaps, no overlap;
 *   - the treap of free spans holds exactly the free spans, in address
 *     order, each node's tmax right; no two free spans are adjacent
 *     (coalescing is complete);
 *   - a free span's released pages (free time 0) number npreleased, and
 *     its idle bound is at most every other page's free time;
 *   - an in-use span's limit, nelems and elemsize agree with its class;
 *     nalloc equals the number of allocated slots; no free slot is marked;
 *   - the page counters agree with the spans;
 *   - mheap.scanpages has its bit set for exactly the pages of in-use
 *     spans of scanned kinds.
 */
#include "spangc-int.h"

/* Walks the treap of free spans: in address order, tmax right, every
 * node free.  Returns the spans counted; adds their pages to *pages. */
static uint64_t treap_count(mheap *h, mspan *t, uintptr_t lo, uintptr_t hi,
                            uint64_t *pages) {
  if (t == NULL)
    return 0;
  if (t->state != MSPAN_FREE)
    sgc_fatal("verify: span %p in the free treap is in state %d",
              (void *)t->base, t->state);
  if (t->base < lo || t->base >= hi)
    sgc_fatal("verify: free treap out of address order at span %p",
              (void *)t->base);
  uintptr_t m = t->npages;
  if (t->tleft && t->tleft->tmax > m)
    m = t->tleft->tmax;
  if (t->tright && t->tright->tmax > m)
    m = t->tright->tmax;
  if (t->tmax != m)
    sgc_fatal("verify: free treap node %p records %lu pages below it, not "
              "%lu", (void *)t->base, (unsigned long)t->tmax,
              (unsigned long)m);
  *pages += t->npages;
  return 1 + treap_count(h, t->tleft, lo, t->base, pages) +
         treap_count(h, t->tright, t->base + 1, hi, pages);
}

/* A free span's released pages (freetime 0) are npreleased of them, and
 * unusedsince is at most the free time of every other one. */
static void check_free_times(mheap *h, mspan *s) {
  const uint64_t *ft = &h->freetime[(s->base - h->arena_start) >> PAGE_SHIFT];
  uintptr_t released = 0;
  for (uintptr_t i = 0; i < s->npages; i++) {
    if (ft[i] == 0)
      released++;
    else if (ft[i] < s->unusedsince)
      sgc_fatal("verify: page %lu of free span %p was freed before the "
                "span's idle bound", (unsigned long)i, (void *)s->base);
  }
  if (released != s->npreleased)
    sgc_fatal("verify: free span %p counts %lu released pages, its pages "
              "say %lu", (void *)s->base, (unsigned long)s->npreleased,
              (unsigned long)released);
}

void sgc_heap_verify(void) {
  mheap *h = &sgc_heap;
  if (!ATOMIC_LOAD(&sgc_initialised))
    return;
  /* The checks below hold for swept spans: finish the sweep first, and
   * wait for spans that a sweeper is in the middle of. */
  sweep_complete();
  /* Inside a no-preempt region (an outsider's unregistered), as every
   * holder of mheap.lock: a caller stopped while holding it would hang
   * the collection (rule:no-stop-holding-lock). */
  mcache *c = nopreempt_enter_any();
  sgc_lock(&h->lock);
  /* A span the scavenger took out is back once its pages are released
   * (scavenger.c); meanwhile a neighbour may sit beside it unmerged. */
  mheap_wait_none_out_locked();
  uint64_t inuse = 0, freep = 0, stackp = 0, releasedp = 0, rootn = 0;
  mspan *prev = NULL;
  for (uintptr_t a = h->arena_start; a < h->arena_used;) {
    mspan *s = h->spans[(a - h->arena_start) >> PAGE_SHIFT];
    if (s == NULL || s->base != a)
      sgc_fatal("verify: page %p does not start a span (spans table has %p)",
                (void *)a, s ? (void *)s->base : NULL);
    for (uintptr_t k = 0; k < s->npages; k++)
      if (h->spans[((a - h->arena_start) >> PAGE_SHIFT) + k] != s)
        sgc_fatal("verify: page %lu of span %p maps elsewhere",
                  (unsigned long)k, (void *)a);
    if (s->state == MSPAN_FREE) {
      freep += s->npages;
      if (prev && prev->state == MSPAN_FREE)
        sgc_fatal("verify: free spans %p and %p are adjacent",
                  (void *)prev->base, (void *)s->base);
      check_free_times(h, s);
      releasedp += s->npreleased;
    } else if (s->state == MSPAN_INUSE) {
      inuse += s->npages;
      int cls = spanclass_class(s->spanclass);
      if (cls != 0) {
        if (s->elemsize != class_to_size[cls] ||
            s->nelems != s->npages * PAGE_SIZE / s->elemsize ||
            s->npages != class_to_npages[cls])
          sgc_fatal("verify: span %p disagrees with class %d",
                    (void *)s->base, cls);
      }
      if (s->limit != s->base + (uintptr_t)s->nelems * s->elemsize)
        sgc_fatal("verify: span %p has a wrong limit", (void *)s->base);
      uint32_t n = 0;
      for (uint32_t i = 0; i < s->nelems; i++) {
        bool alloc = mspan_is_allocated(s, i);
        n += alloc;
        if (!alloc && bitmap_get(s->markbits, i))
          sgc_fatal("verify: free slot %u of span %p is marked", i,
                    (void *)s->base);
      }
      if (n != s->nalloc)
        sgc_fatal("verify: span %p counts %u objects, its slots say %u",
                  (void *)s->base, s->nalloc, n);
      /* rule:rootspans-counted: counted before the special is linked or
       * the object made uncollectable. */
      if ((ATOMIC_LOAD_RELAXED(&s->specials) != NULL ||
           ATOMIC_LOAD_RELAXED(&s->hasuncoll)) &&
          !ATOMIC_LOAD(&s->rootspan))
        sgc_fatal("verify: span %p has a special or an uncollectable "
                  "object but is not counted in nrootspans",
                  (void *)s->base);
    } else if (s->state == MSPAN_STACK) {
      stackp += s->npages;
    } else {
      sgc_fatal("verify: span %p in the arena is in state %d",
                (void *)s->base, s->state);
    }
    /* mheap.scanpages: set exactly for the pages of in-use spans of
     * scanned kinds (under mheap.lock, held here). */
    bool scanned = s->state == MSPAN_INUSE && !spanclass_noscan(s->spanclass);
    for (uintptr_t k = 0; k < s->npages; k++) {
      uintptr_t pg = ((a - h->arena_start) >> PAGE_SHIFT) + k;
      bool bit = bitmap_get_atomic(h->scanpages, (uint32_t)pg);
      if (bit != scanned)
        sgc_fatal("verify: page %lu of span %p (state %d, %s) is %s in "
                  "the scanned pages' bitmap", (unsigned long)k,
                  (void *)a, s->state,
                  spanclass_noscan(s->spanclass) ? "pointer-free" : "scanned",
                  bit ? "set" : "clear");
    }
    rootn += ATOMIC_LOAD(&s->rootspan);
    prev = s;
    a += s->npages * PAGE_SIZE;
  }
  /* Exact only with the world stopped: a thread may be between counting
   * a span and linking its special. */
  if (world_is_stopped() && rootn != ATOMIC_LOAD(&h->nrootspans))
    sgc_fatal("verify: %llu spans are counted as having specials or "
              "uncollectable objects, nrootspans says %llu",
              (unsigned long long)rootn,
              (unsigned long long)ATOMIC_LOAD(&h->nrootspans));
  uint64_t treap_pages = 0;
  treap_count(h, h->freetree, 0, UINTPTR_MAX, &treap_pages);
  if (treap_pages != freep || freep != h->pages_free)
    sgc_fatal("verify: free pages: %llu in the arena, %llu in the treap, "
              "counter %llu", (unsigned long long)freep,
              (unsigned long long)treap_pages,
              (unsigned long long)h->pages_free);
  if (releasedp != h->pages_released)
    sgc_fatal("verify: released pages: %llu in free spans, counter %llu",
              (unsigned long long)releasedp,
              (unsigned long long)h->pages_released);
  if (stackp != h->pages_stack)
    sgc_fatal("verify: stack pages: %llu in the arena, counter %llu",
              (unsigned long long)stackp, (unsigned long long)h->pages_stack);
  if (inuse != h->pages_inuse)
    sgc_fatal("verify: in-use pages: %llu in the arena, counter %llu",
              (unsigned long long)inuse, (unsigned long long)h->pages_inuse);
  for (uint32_t k = 0; k < h->nspan; k++)
    if (h->allspans[k] == NULL)
      sgc_fatal("verify: allspans[%u] is NULL", k);
  sgc_unlock(&h->lock);
  nopreempt_leave_any(c);
}
