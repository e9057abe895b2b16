/*
 * mcentral.c — the central lists of one span class.
 *
 * An mcentral keeps the spans of its class that are not in any mcache:
 * 'nonempty' holds spans that may have free slots, 'empty' holds full
 * spans and the spans currently cached by some mcache (incache), 'dense'
 * swept spans whose few free slots are not worth handing out this cycle
 * (span_reusable: taken only when a memory limit binds, a hard limit is
 * near, or the heap cannot grow).  An mcache
 * takes a span a time (mcentral_cache_span) and gives it back when it is
 * full or when the thread exits (mcentral_uncache_span).
 *
 * Sweeping meets allocation here: a span found unswept (sweepgen ==
 * heap.sweepgen - 2) is claimed with a CAS and swept before it is handed
 * out, so no mcache ever allocates from an unswept span.
 *
 * It also holds batches of explicitly freed objects that mcaches hand over
 * when their own freed list grows long; another mcache takes a batch whole
 * before it asks for a span.  See mcache.c for why such objects stay
 * "allocated" in their span until the next collection.
 *
 * mcentral.lock guards both lists, the batches, and the list links of the
 * spans on them.  Its rank: lockrank.h.
 */
#include "spangc-int.h"

typedef struct fbatch {
  struct fbatch *next;
  void *head;
  uint32_t n;
} fbatch;

void mcentral_init(mcentral *c, int spanclass) {
  sgc_mutex_init(&c->lock, LOCKRANK_MCENTRAL);
  c->spanclass = spanclass;
}

static fixalloc batchalloc;
static pthread_once_t batchalloc_once = PTHREAD_ONCE_INIT;
static void batchalloc_init(void) {
  fixalloc_init(&batchalloc, sizeof(fbatch), NULL, NULL, &sgc_heap.sys_meta,
                true);
}

/* Count the span's free slots into the heap's live estimate when an mcache
 * takes it (they will be handed out without touching shared state) and
 * back out when it returns. */
static void charge_free_slots(mspan *s, int64_t sign) {
  int64_t bytes = (int64_t)(s->nelems - s->nalloc) * (int64_t)s->elemsize;
  ATOMIC_ADD(&sgc_heap.heap_live, sign * bytes);
}

/* Parked span s of c is taken or given back: off the counts. */
static void unpark_locked(mcentral *c, mspan *s) {
  SGC_ASSERT_HELD(&c->lock);
  s->parked = 0;
  OWNER_ADD(&c->nparked, -(uint64_t)s->npages);
  sweep_unpark(s->npages);
}

/* Every span handed out is swept first (rule:no-unswept-in-mcache).
 * One call sweeps at most MCENTRAL_SWEEP_MAX spans of the class that come
 * out full, then takes fresh pages: right after a collection a class's
 * lists can hold thousands of spans still full of live objects (the pause
 * test's window: one refill swept for 2-3 ms).  The spans it leaves are
 * swept by the background sweeper, by the proportional sweep (which
 * finishes the sweep before the next goal either way), or by the next
 * refill.  Likewise sweep_reclaim is bounded; after it swept something,
 * the lists are looked at once more (a span it swept may have come back
 * to this class with free slots). */
#define MCENTRAL_SWEEP_MAX 16

/* Dense spans (rule:dense-spans-kept).  A span of 16 slots or more whose
 * sweep left fewer than an eighth of them free is not handed to an mcache:
 * it waits on 'dense' until a later sweep frees more of it, and the
 * refill takes a sparser span or fresh pages instead (bdwgc does the same
 * with its nearly full blocks).  Allocating into a few scattered holes
 * costs the program a refill per few objects and a cache and TLB miss per
 * object, among old objects it never reads: Guile's vector program, 1M
 * live objects with random ones replaced, ran 15% faster without it,
 * binary trees 4%, for 0-2% more memory.  The rule is off while the soft
 * memory limit binds and while the heap is within reach of a hard limit
 * (SPANGC_MAX_HEAP: over an eighth of it, dense_rule_off), and
 * a heap that cannot grow (the OS refusing) takes dense spans too
 * (take_dense_locked), so the rule never fails a small allocation and
 * never holds the heap over a limit for free slots it keeps. */
#define DENSE_DIV 8
#define DENSE_MIN_SLOTS 16

/* Off while the soft limit binds, and under a hard limit unless the heap
 * is far below it: the fresh pages a class takes instead of its holes are
 * pages another class (or a large object) may then be refused (helper-65:
 * 64-byte spans with a tenth free, a 64 MiB limit, 4 MiB fewer 1 MiB
 * objects).  While the spans in use are within an eighth of the limit,
 * the free slots the rule keeps (an eighth of a dense span at most) hold
 * back at most a 64th of it, and the rule is off, the holes filled first,
 * long before the limit binds; what they held back stays lost to large
 * objects only while they stay empty (helper-81: 3709 1 MiB objects
 * against 3731 under 4 GiB).  Programs set limits far above their heap:
 * ECL sets 4 GiB at start-up, which turned the rule off for all of them
 * (its hash-table program 1-3% slower, minors of its vector program
 * rescanning 4.2M old objects, not 1.1-1.5M, for holes refilled among
 * them). */
#define DENSE_LIMIT_SHARE 8
static bool dense_rule_off(void) {
  return memlimit_lowered() || !gc_far_below_max_heap(DENSE_LIMIT_SHARE);
}

static bool too_dense(uint32_t nelems, uint32_t nalloc) {
  return nelems >= DENSE_MIN_SLOTS &&
         (uint64_t)(nelems - nalloc) * DENSE_DIV < nelems &&
         !dense_rule_off();
}

static bool span_reusable(const mspan *s) {
  return s->nalloc < s->nelems && !too_dense(s->nelems, s->nalloc);
}

/* World stopped, marks final (genprotect.c): will in-use span s settle on
 * 'dense' when swept, its marked objects all it keeps?  Then no mcache
 * writes its free slots this cycle, and its pages are worth protecting
 * though they have some (a page left unprotected has its old objects
 * rescanned at every minor).  Only a policy: a write to a protected page
 * is recorded like any other. */
bool mcentral_dense_after_sweep(const mspan *s) {
  uint32_t marked = mspan_count_marks(s);
  return marked < s->nelems && too_dense(s->nelems, marked);
}

/* The list a settled span of c belongs on. */
static mspan_list *list_for(mcentral *c, const mspan *s) {
  if (s->nalloc == s->nelems)
    return &c->empty;
  return span_reusable(s) ? &c->nonempty : &c->dense;
}

/* Span s of c's lists, claimed for sweeping (sweepgen sg-1): swept with
 * c.lock let go, at the back of the empty list meanwhile (where a swept
 * span that comes out full stays; one that comes out dense goes to
 * 'dense').  May it be handed out ('any': if it has a free slot at all)? */
static bool sweep_for_refill(mcentral *c, mspan *s, bool any) {
  mspan_list_remove(s);
  mspan_list_insert_back(&c->empty, s);
  sgc_unlock(&c->lock);
  ATOMIC_ADD(&sgc_ndemandsweep, 1);
  mspan_sweep(s, true);
  sgc_lock(&c->lock);
  if (any ? s->nalloc < s->nelems : span_reusable(s))
    return true;
  if (s->nalloc < s->nelems) {
    mspan_list_remove(s);
    mspan_list_insert(&c->dense, s);
  }
  return false;
}

/* A dense span of c with a free slot, swept (sweeping it if no one has),
 * at the back of 'empty', or NULL.  c.lock held; dropped if it sweeps. */
static mspan *take_dense_locked(mcentral *c, uint32_t sg) {
  SGC_ASSERT_HELD(&c->lock);
again:
  for (mspan *s = c->dense.first; s != NULL; s = s->next) {
    uint32_t g = ATOMIC_LOAD(&s->sweepgen);
    if (g == sg - 2) {
      if (!ATOMIC_CAS(&s->sweepgen, g, sg - 1))
        continue;
      if (sweep_for_refill(c, s, true))
        return s;
      goto again; /* the lock was let go: the list may have changed */
    }
    if (g == sg - 1 || s->nalloc == s->nelems)
      continue; /* the sweeper has it and will relink it */
    mspan_list_remove(s);
    mspan_list_insert_back(&c->empty, s);
    return s;
  }
  return NULL;
}

mspan *mcentral_cache_span(mcentral *c) {
  mheap *h = &sgc_heap;
  mspan *s;
  int cls = spanclass_class(c->spanclass);
  int full = 0; /* spans swept here that came out full */
  bool reclaimed = false;
  bool may_sweep;
  sgc_lock(&c->lock);
  uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
retry:
  /* Past the bound, swept spans are still taken; none is swept. */
  may_sweep = full < MCENTRAL_SWEEP_MAX;
  for (s = c->nonempty.first; s != NULL; s = s->next) {
    uint32_t g = ATOMIC_LOAD(&s->sweepgen);
    if (g == sg - 2) {
      if (!may_sweep || !ATOMIC_CAS(&s->sweepgen, g, sg - 1))
        continue; /* left unswept, or the background sweeper has it */
      if (sweep_for_refill(c, s, false))
        goto havespan;
      full++;
      goto retry; /* swept full: it stays on empty; look again */
    }
    if (g == sg - 1)
      continue; /* the background sweeper has it; it will relink it */
    mspan_list_remove(s);
    mspan_list_insert_back(&c->empty, s);
    goto havespan;
  }
  /* Full spans that are unswept may free slots when swept.  Swept spans
   * go to the back, so the first swept one ends the search. */
  for (s = may_sweep ? c->empty.first : NULL; s != NULL; s = s->next) {
    uint32_t g = ATOMIC_LOAD(&s->sweepgen);
    if (g == sg - 2 && ATOMIC_CAS(&s->sweepgen, g, sg - 1)) {
      if (sweep_for_refill(c, s, false))
        goto havespan;
      full++;
      goto retry;
    }
    if (g == sg - 1)
      continue;
    break;
  }
  /* A limit binds or is set: free slots before pages. */
  if (dense_rule_off() && (s = take_dense_locked(c, sg)) != NULL)
    goto havespan;
  sgc_unlock(&c->lock);
  if (!reclaimed) {
    reclaimed = true;
    if (sweep_reclaim(class_to_npages[cls], c->spanclass)) {
      sgc_lock(&c->lock);
      goto retry;
    }
  }
  s = mheap_alloc(class_to_npages[cls], c->spanclass, false);
  if (s == NULL) {
    /* The heap cannot grow: the dense spans' free slots are the last. */
    sgc_lock(&c->lock);
    sg = ATOMIC_LOAD(&h->sweepgen);
    s = take_dense_locked(c, sg);
    if (s != NULL)
      goto havespan;
    sgc_unlock(&c->lock);
    return NULL;
  }
  /* Pages never touched or all released (needzero 0): the mcache fills
   * the whole span, so they are faulted in together (os_populate). */
  if (!s->needzero)
    os_populate((void *)s->base, s->npages * PAGE_SIZE);
  sgc_lock(&c->lock);
  mspan_list_insert_back(&c->empty, s);
havespan:
  SGC_ASSERT(s->nalloc < s->nelems);
  if (s->parked)
    unpark_locked(c, s);
  SGC_ASSERT(ATOMIC_LOAD(&s->sweepgen) == ATOMIC_LOAD(&h->sweepgen));
  s->incache = 1;
  sgc_unlock(&c->lock);
  charge_free_slots(s, +1);
  return s;
}

void mcentral_uncache_span(mcentral *c, mspan *s) {
  alloc_unmark_free_word(s);
  sgc_lock(&c->lock);
  SGC_ASSERT(s->incache);
  s->incache = 0;
  charge_free_slots(s, -1);
  if (s->nalloc < s->nelems) {
    mspan_list_remove(s);
    mspan_list_insert(list_for(c, s), s);
  }
  sgc_unlock(&c->lock);
}

/* Span s of c, claimed and swept, whose place must change: relink it by
 * its new fullness, or, empty, keep it for the refill that swept it
 * ('keep'), park it (with 'park', within the budget) or take it off c's
 * lists; then publish sweepgen.  True if the caller must give it back to
 * the heap.  c.lock held. */
static bool settle_locked(mcentral *c, mspan *s, bool park, bool keep,
                          uint32_t sg) {
  SGC_ASSERT_HELD(&c->lock);
  bool give_back = false;
  if (s->nalloc == 0 && keep) {
    /* Kept for the refill sweeping for pages (sweep_reclaim): at the
     * front of nonempty, where its retry looks first. */
    if (s->parked)
      unpark_locked(c, s);
    mspan_list_remove(s);
    mspan_list_insert(&c->nonempty, s);
  } else if (s->nalloc == 0 && park && !s->parked && sweep_park(s->npages)) {
    s->parked = 1;
    OWNER_ADD(&c->nparked, s->npages);
    s->unusedsince = os_nanotime(); /* for mcentral_unpark's idle rule */
    if (s->list != &c->nonempty) {
      mspan_list_remove(s);
      mspan_list_insert(&c->nonempty, s);
    }
  } else if (s->nalloc == 0) {
    if (s->parked) /* parked a whole cycle and not taken: let it go */
      unpark_locked(c, s);
    mspan_list_remove(s);
    give_back = true;
  } else {
    mspan_list *l = list_for(c, s);
    if (s->list != l) {
      mspan_list_remove(s);
      mspan_list_insert(l, s);
    }
  }
  ATOMIC_STORE(&s->sweepgen, sg);
  return give_back;
}

/* Called by the sweeper with the span claimed (sweepgen == sg-1), after it
 * recomputed nalloc.  Relinks the span by its new fullness, or gives it
 * back to the heap when it holds nothing and no mcache has it.  The
 * sweepgen is published last: a swept sweepgen is the signal that the
 * span may be handed out (rule:swept-is-final).
 * A span that stays where it is (still full, or with free slots and on
 * nonempty already) is published without c.lock (rule:claimed-span-stays):
 * while it is claimed no other thread moves it or caches it (the refill
 * skips sg-1 spans, uncaching touches cached spans only, and a cached
 * span is never unswept), so its list is this thread's to read, and the
 * refill, which looks at sweepgen under c.lock, sees either sg-1 (skips
 * it) or sg after the whole sweep.  After a minor collection most spans
 * are full of old objects: taking the lock for each one made the
 * background sweeper and an allocating thread of the same class meet on
 * it thousands of times a cycle (Guile's pairs: futex waits and wakes
 * in both).
 * With a batch b, a span that must move is left in b, still claimed, for
 * sweep_batch_flush (rule:batched-spans-settled-in-region).  Returns true
 * if the span went back to the heap (with b: if it is empty; it may be
 * parked instead when b allows parking). */
bool mcentral_sweep_done(mcentral *c, mspan *s, bool preserve,
                         sweep_batch *b) {
  mheap *h = &sgc_heap;
  uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
  if (preserve) {
    /* The caller (mcentral_cache_span) owns it already and relinks it. */
    ATOMIC_STORE(&s->sweepgen, sg);
    return false;
  }
  if (s->incache) {
    /* A span in an mcache is never unswept: see design.md. */
    sgc_fatal("sweep: span %p of class %d is in an mcache", (void *)s->base,
              spanclass_class(s->spanclass));
  }
  if (s->nalloc != 0 && s->list == list_for(c, s)) {
    ATOMIC_STORE(&s->sweepgen, sg);
    return false;
  }
  if (b != NULL) {
    if (b->n == SWEEP_BATCH_MAX)
      sweep_batch_flush(b);
    b->s[b->n++] = s;
    return s->nalloc == 0;
  }
  sgc_lock(&c->lock);
  bool give_back = settle_locked(c, s, false, false, sg);
  sgc_unlock(&c->lock);
  if (give_back)
    mheap_free(s);
  return give_back;
}

/* Settle the spans of batch b: one hold of each class's lock for all its
 * spans in b, then one hold of mheap.lock for those given back. */
void sweep_batch_flush(sweep_batch *b) {
  mheap *h = &sgc_heap;
  uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
  mspan *back[SWEEP_BATCH_MAX];
  uint32_t nback = 0;
  for (uint32_t i = 0; i < b->n; i++) {
    if (b->s[i] == NULL)
      continue;
    int sc = b->s[i]->spanclass;
    mcentral *c = &h->central[sc];
    sgc_lock(&c->lock);
    for (uint32_t j = i; j < b->n; j++) {
      mspan *s = b->s[j];
      if (s == NULL || s->spanclass != sc)
        continue;
      if (settle_locked(c, s, b->park, sc == b->keep, sg))
        back[nback++] = s;
      b->s[j] = NULL;
    }
    sgc_unlock(&c->lock);
  }
  b->n = 0;
  mheap_free_spans(back, nback);
}

/* Give back the swept parked spans of c parked before parked_before, at
 * least 'want' pages of them if there are so many; the pages given. */
static uint64_t unpark_class(mcentral *c, uint64_t parked_before,
                             uint64_t want) {
  mheap *h = &sgc_heap;
  uint64_t got = 0;
  uint32_t n;
  do {
    mspan *back[SWEEP_BATCH_MAX];
    n = 0;
    sgc_lock(&c->lock);
    uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
    /* Parked spans are put first on nonempty, others may come before
     * them since: the walk ends once all the class's are found. */
    uint64_t left = ATOMIC_LOAD_RELAXED(&c->nparked);
    for (mspan *s = c->nonempty.first, *next;
         s != NULL && n < SWEEP_BATCH_MAX && got < want && left != 0;
         s = next) {
      next = s->next;
      if (!s->parked)
        continue;
      left -= s->npages;
      /* Unswept (parked last cycle): its sweep decides. */
      if (ATOMIC_LOAD(&s->sweepgen) != sg || s->unusedsince >= parked_before)
        continue;
      SGC_ASSERT(s->nalloc == 0 && !s->incache);
      unpark_locked(c, s);
      mspan_list_remove(s);
      back[n++] = s;
      got += s->npages;
    }
    sgc_unlock(&c->lock);
    mheap_free_spans(back, n);
  } while (n == SWEEP_BATCH_MAX && got < want);
  return got;
}

void mcentral_unpark_all(void) { mcentral_unpark(UINT64_MAX, UINT64_MAX); }

void mcentral_unpark(uint64_t parked_before, uint64_t npages) {
  mheap *h = &sgc_heap;
  uint64_t got = 0;
  for (int sc = 0; sc < NUM_SPANCLASSES && got < npages; sc++)
    if (ATOMIC_LOAD_RELAXED(&h->central[sc].nparked) != 0)
      got += unpark_class(&h->central[sc], parked_before, npages - got);
}

void mcentral_put_batch(mcentral *c, void *list, uint32_t n) {
  pthread_once(&batchalloc_once, batchalloc_init);
  fbatch *b = fixalloc_alloc(&batchalloc);
  if (b == NULL) {
    /* No record for the batch: drop the objects now, as a collection
     * drops freed lists.  They stay allocated until the next collection
     * finds them unmarked; counted as dropped, they are not counted
     * freed twice when the sweep frees them. */
    freed_list_clear(list, c->spanclass);
    ATOMIC_ADD(&sgc_gc_dropped[spanclass_class(c->spanclass)], n);
    return;
  }
  b->head = list;
  b->n = n;
  sgc_lock(&c->lock);
  b->next = (fbatch *)c->batches;
  c->batches = (void **)b;
  ATOMIC_STORE_RELAXED(&c->nbatches, c->nbatches + 1);
  sgc_unlock(&c->lock);
}

void *mcentral_take_batch(mcentral *c, uint32_t *n) {
  if (ATOMIC_LOAD_RELAXED(&c->nbatches) == 0)
    return NULL;
  sgc_lock(&c->lock);
  fbatch *b = (fbatch *)c->batches;
  if (b == NULL) {
    sgc_unlock(&c->lock);
    return NULL;
  }
  c->batches = (void **)b->next;
  ATOMIC_STORE_RELAXED(&c->nbatches, c->nbatches - 1);
  sgc_unlock(&c->lock);
  void *head = b->head;
  *n = b->n;
  fixalloc_free(&batchalloc, b);
  return head;
}

/* Drop every batch (the world is stopped): their objects become garbage
 * for the collection about to run.  Returns the number of objects
 * dropped per class in dropped[]. */
void mcentral_drop_batches(mcentral *c, uint64_t *dropped) {
  fbatch *b = (fbatch *)c->batches;
  c->batches = NULL;
  ATOMIC_STORE_RELAXED(&c->nbatches, 0);
  while (b) {
    fbatch *next = b->next;
    dropped[spanclass_class(c->spanclass)] += b->n;
    if (ATOMIC_LOAD_RELAXED(&sgc_heap.concmark))
      freed_list_unmark(b->head);
    freed_list_clear(b->head, c->spanclass);
    fixalloc_free(&batchalloc, b);
    b = next;
  }
}
