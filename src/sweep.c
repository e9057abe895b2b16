/*
 * sweep.c — concurrent and lazy sweeping, ruled by sweepgen.
 *
 * Sweeping frees the unmarked objects of a span: allocbits becomes the
 * mark bits.  Without generations the marks are then cleared; with them
 * (sgc_sticky) they stay, and mark the span's old objects until the next
 * major collection clears them before it marks (generation.c).
 *
 * After a mark phase the heap's sweepgen grows by 2.  With sg the heap's
 * sweepgen, a span with
 *     sweepgen == sg - 2  needs sweeping,
 *     sweepgen == sg - 1  is being swept by whoever claimed it,
 *     sweepgen == sg      is swept and may be used.
 * A span is claimed with one CAS from sg-2 to sg-1, so exactly one thread
 * sweeps it (rule:claim-by-cas): the background sweeper (sweepone), an
 * allocating thread paying its share (sweep_pay) or needing pages before
 * the heap grows (sweep_reclaim), an mcache refilling from mcentral
 * (mcentral_cache_span), or a thread that must see the span's
 * final state (mspan_ensure_swept: sgc_free, finalizer registration).
 * The sweeper publishes sg last, with a release store, after every other
 * write to the span; readers that see sg see a finished sweep.
 *
 * The spans to sweep are a snapshot of allspans taken under mheap.lock
 * when the generation changes (sweep_start): the sweeper reads the
 * entries that existed then, never the count that grows.  Spans created
 * after the snapshot are stamped with the new sweepgen (or, if created
 * while marking, with the generation that the mark phase ends in), so
 * they are never swept with mark bits that were not computed for them.
 *
 * Before the next mark begins, every span must be swept (sweep_finish);
 * the collector then checks it, span by span, and aborts on an unswept
 * span: marking over stale allocation bits would free live objects.
 *
 * The background sweeper is a registered thread, started by the scavenger
 * when spangc starts (gc_start_background), else at the first wake-up
 * (bgsweep_wake, after each collection): it sweeps a span at a
 * time inside a no-preempt region, so a stop never catches it half-way.
 *
 * The reclaim hook (sgc_set_reclaim_hook) is asked about each object a
 * sweep is about to reclaim, by the thread sweeping it; one it keeps gets
 * a pin (SPECIAL_PIN), which sweep_specials honours from then on.  The
 * hook is one relaxed load per span when unset.
 *
 * State here (the snapshot and the cursor) is written only while the
 * world is stopped and read by sweepers afterwards; the cursor is atomic.
 * bgsweep.lock guards the background sweeper's wake-up count and whether
 * it was started; bgsweep.cond is where it waits.
 */
#include <sched.h>

#include "spangc-int.h"

static struct {
  mspan **spans;
  uint32_t nspan;
  uint32_t idx; /* atomic cursor into spans */
  /* Proportional sweeping (sweep_pay): set when the generation opens. */
  uint64_t pages_total;  /* pages in use then: what there is to sweep */
  uint64_t pages_swept;  /* atomic: pages of spans swept since, by anyone */
  int64_t live_basis;    /* the trigger's measure when it opened */
} sweep SGC_NOGC;

uint64_t sgc_nbgsweep, sgc_ndemandsweep, sgc_npausesweep; /* atomic */
uint64_t sgc_nassistsweep; /* atomic: swept by sweep_pay */
/* Wall time spent sweeping outside stops, by every thread (atomic): the
 * background sweeper's rounds, proportional and demand sweeping.  The
 * memory limit's CPU cap counts it as collector time. */
uint64_t sgc_sweep_ns;

/* Time a stretch of sweeping: started only when there is work, so a
 * thread with nothing to sweep pays no clock reads. */
static inline uint64_t sweep_clock(void) { return os_nanotime(); }
static inline void sweep_clocked(uint64_t t0) {
  ATOMIC_ADD(&sgc_sweep_ns, os_nanotime() - t0);
}

/* Queue the finalizers of doomed objects (mark_finalizers: unmarked at
 * mark end; marked or not now) and of any other unmarked ones and keep those
 * objects (and, through the mark the collector already gave their contents,
 * what they reference) alive for one more cycle.  Weak records of unmarked
 * objects were cleared at mark termination; drop them.  Objects whose
 * finalizer was queued are set in 'queued': kept allocated, they are not old
 * (with sticky marks, their mark is dropped after the sweep, so that the first
 * minor collection after their finalizer ran can free them). */
static void sweep_specials(mspan *s, uint64_t *queued) {
  special *gone = NULL;
  sgc_lock(&s->speciallock);
  special **pp = &s->specials;
  while (*pp) {
    special *sp = *pp;
    uint32_t i = mspan_obj_index(s, s->base + sp->offset);
    bool doomed = sp->kind == SPECIAL_FINALIZER && sp->doomed;
    if (bitmap_get(s->markbits, i) && !doomed) {
      pp = &sp->next;
      continue;
    }
    /* Kept by the reclaim hook, for ever (rule:pinned-never-reclaimed). */
    if (sp->kind == SPECIAL_PIN) {
      bitmap_set_atomic(s->markbits, i);
      pp = &sp->next;
      continue;
    }
    if (sp->kind == SPECIAL_FINALIZER) {
      bitmap_set_atomic(s->markbits, i);
      queued[i >> 6] |= (uint64_t)1 << (i & 63);
      /* No memory to queue it: the object and its finalizer stay for
       * the next cycle, which finds it unreachable again. */
      if (!finalizer_queue((void *)(s->base + sp->offset), sp->fn,
                           sp->arg)) {
        sp->doomed = 0;
        pp = &sp->next;
        continue;
      }
    }
    ATOMIC_STORE_RELAXED(pp, sp->next);
    sp->next = gone;
    gone = sp;
  }
  sgc_unlock(&s->speciallock);
  while (gone) {
    special *next = gone->next;
    special_dispose(gone);
    gone = next;
  }
}

static sgc_reclaim_hook_fn reclaim_hook; /* atomic */

sgc_reclaim_hook_fn sgc_set_reclaim_hook(sgc_reclaim_hook_fn fn) {
  return __atomic_exchange_n(&reclaim_hook, fn, __ATOMIC_SEQ_CST);
}

/* Ask the reclaim hook about each object of s about to be reclaimed
 * (allocated, unmarked, not waiting in a freed list); mark and pin the
 * ones it keeps.  The sweeper owns s (sweepgen sg-1).  Without memory for
 * a pin, the object is kept for this cycle only and asked about again. */
static void sweep_offer(mspan *s, sgc_reclaim_hook_fn hook) {
  bool small = spanclass_class(s->spanclass) != 0;
  int kind = spanclass_kind(s->spanclass);
  for (uint32_t w = 0; w < (s->nelems + 63) / 64; w++) {
    uint64_t dead = ~s->markbits[w];
    if (w == s->nelems / 64)
      dead &= ((uint64_t)1 << (s->nelems & 63)) - 1;
    while (dead) {
      uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(dead);
      dead &= dead - 1;
      if (!mspan_is_allocated(s, i))
        continue;
      uintptr_t p = s->base + (uintptr_t)i * s->elemsize;
      if (small && ((uintptr_t *)p)[1] == (sgc_free_cookie ^ p))
        continue; /* freed with sgc_free */
      if (!hook((void *)p, s->elemsize, kind))
        continue;
      bitmap_set_atomic(s->markbits, i);
      special *sp = special_new();
      if (sp == NULL)
        continue;
      memset(sp, 0, sizeof *sp);
      sp->offset = p - s->base;
      sp->kind = SPECIAL_PIN;
      special *old = special_insert(s, sp);
      if (old)
        special_dispose(old);
    }
  }
}

uint32_t mspan_count_marks(const mspan *s) {
  uint32_t n = 0;
  for (uint32_t w = 0; w < (s->nelems + 63) / 64; w++)
    n += bits_set(s->markbits[w]);
  return n;
}

/* Debug: a registered thread sweeps, or reads the sweep snapshot, only
 * inside a no-preempt region, or as the collector with the world stopped
 * (sweep_finish): outside one a collection could replace the snapshot
 * under it, or stop it holding a span half swept.  Checked where spans
 * are swept (every path: sweep_next, mspan_ensure_swept, the refill's
 * own sweep) and where the snapshot is read. */
static void check_sweeper_in_region(void) {
  mcache *me = sgc_tls_cache;
  if (me && me->thr && me->nopreempt == 0 && !world_in_collector &&
      !world_is_stopped())
    sgc_fatal("sweeping outside a no-preempt region: a collection could "
              "replace the sweep snapshot under this thread, or stop it "
              "holding a span half swept");
}

bool mspan_sweep_to(mspan *s, bool preserve, sweep_batch *b) {
  mheap *h = &sgc_heap;
  if (SPANGC_DEBUG)
    check_sweeper_in_region();
  uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
  if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE ||
      ATOMIC_LOAD(&s->sweepgen) != sg - 1)
    sgc_fatal("sweep: span %p in state %d with sweepgen %u, heap at %u",
              (void *)s->base, s->state, s->sweepgen, sg);
  ATOMIC_ADD(&sweep.pages_swept, s->npages);
  uint64_t queued[BITMAP_WORDS] = {0};
  /* With sticky marks, marks survive the sweep: they are the old objects
   * (rule:old-means-marked); queued finalizable objects lose theirs. */
  mspan_rare *rare = sgc_sticky ? mspan_rare_of(s) : NULL;
  if (rare != NULL)
    /* Objects the finalizer queue held at the mark stay allocated, young
     * (mspan_rare.finqbits): from here on they count as marked, before
     * the specials are looked at, and lose the mark after the sweep. */
    for (uint32_t w = 0; w < BITMAP_WORDS; w++) {
      uint64_t keep = rare->finqbits[w] & ~s->markbits[w];
      s->markbits[w] |= keep;
      queued[w] |= keep;
      rare->finqbits[w] = 0;
    }
  if (ATOMIC_LOAD_RELAXED(&s->specials)) /* a hint: the lock decides */
    sweep_specials(s, queued);
  sgc_reclaim_hook_fn hook = ATOMIC_LOAD_RELAXED(&reclaim_hook);
  if (__builtin_expect(hook != NULL, 0))
    sweep_offer(s, hook);

  uint32_t nmarked = mspan_count_marks(s);
  SGC_ASSERT(nmarked <= s->nalloc);
  uint32_t nfreed = s->nalloc - nmarked;
  int cls = spanclass_class(s->spanclass);

  if (cls == 0) { /* a large object */
    if (nmarked) {
      if (!sgc_sticky)
        memset(s->markbits, 0, sizeof s->markbits);
      else
        s->markbits[0] &= ~queued[0];
      ATOMIC_STORE(&s->sweepgen, sg);
      return false;
    }
    ATOMIC_ADD(&h->nlargefree, 1);
    ATOMIC_ADD(&h->largefree_bytes, s->elemsize);
    ATOMIC_STORE(&s->sweepgen, sg);
    mheap_free(s);
    return true;
  }

  if (nfreed) {
    ATOMIC_ADD(&h->central[s->spanclass].nsweepfree, nfreed);
    s->needzero = 1;
  }
#if SPANGC_DEBUG
  for (uint32_t w = 0; w < BITMAP_WORDS; w++) /* freed slots become free */
    s->freedbits[w] &= s->markbits[w];
#endif
  /* After an aging minor, the objects it marked that were allocated
   * since this span's last sweep (allocbit clear) stay young: they lose
   * their marks below, and are age 1 from here on (aging.c). */
  uint64_t young[BITMAP_WORDS] = {0};
  if (ATOMIC_LOAD_RELAXED(&aging_sweep_young)) {
    uint64_t n = 0;
    for (uint32_t w = 0; w < (s->nelems + 63) / 64; w++) {
      young[w] = s->markbits[w] & ~s->allocbits[w] & ~queued[w];
      n += bits_set(young[w]);
    }
    if (n)
      aging_note_kept(n * s->elemsize);
  }
  memcpy(s->allocbits, s->markbits, sizeof s->allocbits);
  /* Without generations the marks are done with; with them, what stays
   * marked is old (generation.c). */
  if (!sgc_sticky)
    memset(s->markbits, 0, sizeof s->markbits);
  else
    for (uint32_t w = 0; w < BITMAP_WORDS; w++)
      s->markbits[w] &= ~(queued[w] | young[w]);
  s->nalloc = nmarked;
  mspan_seek_free(s, 0);
  return mcentral_sweep_done(&h->central[s->spanclass], s, preserve, b);
}

bool mspan_sweep(mspan *s, bool preserve) {
  return mspan_sweep_to(s, preserve, NULL);
}

/* Parking (rule:parked-spans-bounded).  A span its sweep empties may stay
 * with its class, first on nonempty, for the class's next refill, instead
 * of going back to the heap: a program allocating at a steady rate
 * empties young spans of a class about as fast as it takes new ones, and
 * each round trip took mheap.lock twice, once by the sweeper giving the
 * span back and once by the refill taking one, the two threads meeting
 * there (Guile's pairs: thousands of futex waits a run).  Parking never
 * adds to the pages in use: mheap_alloc gives back as many parked pages
 * as it takes (mcentral_unpark).  Parked pages are bounded by the room to
 * the next goal less the free heap pages (what the program allocates
 * before the next collection, so it takes them again meanwhile if its
 * classes stay the same); there is none when a memory limit is set (free
 * pages must be where the limit can release them) or when the heap
 * shrinks (live under 3/8 of the pages in use, where a program at its
 * GOGC goal has about half: the pages should go back to the OS); a span
 * parked through a whole cycle goes back to the heap at its next sweep;
 * and all go back (mcentral_unpark_all) before a collection's stop and
 * in it (collect.c), before the heap grows or a max heap refuses a span
 * (mheap_alloc), at the end of sgc_collect, when a memory limit is set,
 * and in sgc_release_memory.  Only the background and proportional
 * sweeps park: a refill that sweeps to reclaim pages needs them in the
 * heap (but keeps an emptied span of its own class, see sweep_reclaim).
 * Parked spans are ordinary in-use spans, empty, with free slots, on nonempty;
 * 'parked' and mcentral.nparked (guarded by the class's lock) only count them.
 */
static uint64_t parked_pages; /* atomic */

uint64_t sweep_park_room(void) {
  if (memlimit_on())
    return 0;
  int64_t basis = sweep.live_basis;
  if (basis <= 0 || (uint64_t)basis < sweep.pages_total * PAGE_SIZE / 8 * 3)
    return 0;
  int64_t room = (int64_t)ATOMIC_LOAD(&sgc_next_gc) - basis;
  return room > 0 ? (uint64_t)room / PAGE_SIZE : 0;
}

/* What may be parked now: the room less the free heap pages, which a
 * class that needs pages takes before any parked one comes back (a
 * concurrent mark's overshoot left such pages beside parked spans). */
static uint64_t sweep_park_cap(void) {
  uint64_t room = sweep_park_room();
  uint64_t free = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_free);
  return room > free ? room - free : 0;
}

bool sweep_park(uintptr_t npages) {
  uint64_t cap = sweep_park_cap();
  for (;;) {
    uint64_t p = ATOMIC_LOAD(&parked_pages);
    if (p + npages > cap)
      return false;
    if (ATOMIC_CAS(&parked_pages, p, p + npages))
      return true;
  }
}

void sweep_unpark(uintptr_t npages) { ATOMIC_ADD(&parked_pages, -npages); }

uint64_t sweep_parked_pages(void) { return ATOMIC_LOAD(&parked_pages); }

void mspan_ensure_swept(mspan *s) {
  mheap *h = &sgc_heap;
  uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
  uint32_t g = ATOMIC_LOAD(&s->sweepgen);
  if (g == sg || g == sg + 2) /* swept, or made during a mark */
    return;
  if (g == sg - 2 && ATOMIC_CAS(&s->sweepgen, g, sg - 1)) {
    ATOMIC_ADD(&sgc_ndemandsweep, 1);
    mspan_sweep(s, false);
    return;
  }
  /* Another thread sweeps it: wait (sleeping soon, os_wait_step). */
  unsigned n = 0;
  while (ATOMIC_LOAD(&s->sweepgen) != sg &&
         ATOMIC_LOAD(&s->state) == MSPAN_INUSE)
    os_wait_step(&n);
}

enum { SWEEP_BG, SWEEP_DEMAND, SWEEP_PAUSE, SWEEP_ASSIST };

/* The snapshot's span structs are claimed in order, a cache miss each
 * (after every minor of binary-trees 21, 25000 of them): the one
 * SWEEP_PREFETCH places on is asked for, to be written (its sweepgen). */
#define SWEEP_PREFETCH 4

/* Claim and sweep the next unswept span of the snapshot; returns the pages
 * it gave back to the heap (with a batch b: that it leaves in b empty),
 * or -1 when none is left.  Caller inside a no-preempt region (or the
 * world stopped).  'why' only says which counter the sweep goes to. */
static intptr_t sweep_next(int why, sweep_batch *b) {
  mheap *h = &sgc_heap;
  if (SPANGC_DEBUG)
    check_sweeper_in_region();
  uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
  for (;;) {
    uint32_t i = ATOMIC_ADD(&sweep.idx, 1) - 1;
    if (i >= sweep.nspan) {
      ATOMIC_STORE(&sweep.idx, sweep.nspan);
      return -1;
    }
    mspan *s = sweep.spans[i];
    if (i + SWEEP_PREFETCH < sweep.nspan)
      __builtin_prefetch(sweep.spans[i + SWEEP_PREFETCH], 1);
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
      continue;
    uint32_t g = ATOMIC_LOAD(&s->sweepgen);
    if (g != sg - 2 || !ATOMIC_CAS(&s->sweepgen, g, sg - 1))
      continue;
    uintptr_t npages = s->npages;
    static uint64_t *const counter[] = {&sgc_nbgsweep, &sgc_ndemandsweep,
                                        &sgc_npausesweep, &sgc_nassistsweep};
    ATOMIC_ADD(counter[why], 1);
    return mspan_sweep_to(s, false, b) ? (intptr_t)npages : 0;
  }
}

/* The background sweeper (bg) or a thread that needs the sweep done.
 * SPANGC_DEBUG=nobgsweep=1 idles the background sweeper (tests: the
 * allocating threads and the stop must then do all the sweeping). */
static intptr_t sweepone_to(bool bg, sweep_batch *b) {
  static int idle = -1; /* atomic: the flag, read once */
  if (bg) {
    int v = ATOMIC_LOAD_RELAXED(&idle);
    if (v < 0) {
      v = sgc_debug_flag("nobgsweep");
      ATOMIC_STORE(&idle, v);
    }
    if (v)
      return -1;
  }
  return sweep_next(bg ? SWEEP_BG : SWEEP_DEMAND, b);
}

intptr_t sweepone(bool bg) { return sweepone_to(bg, NULL); }

/* Proportional sweeping (rule:sweep-proportional).  A thread about to take
 * new memory (a span for its cache, a large object) first sweeps its share:
 * the sweep must be done when the heap reaches the next goal, so after the
 * trigger's measure (gc_heap_pressure) grew by a fraction f of the way from
 * where the generation opened to the goal, a fraction f of the pages there
 * were to sweep must have been swept, by anyone; this thread sweeps until
 * it is so.  Aiming at 7/8 of the way leaves a margin.  Then no sweep work
 * is left for the next collection's stop.  Caller inside a no-preempt
 * region, holding no lock. */
void sweep_pay(void) {
  if (sweep_done())
    return;
  int64_t live = (int64_t)gc_heap_pressure();
  int64_t goal = (int64_t)ATOMIC_LOAD(&sgc_next_gc);
  int64_t basis = sweep.live_basis;
  if (live <= basis)
    return;
  int64_t way = (goal - basis) / 8 * 7;
  uint64_t target = sweep.pages_total;
  if (way > 0 && live - basis < way)
    target = (uint64_t)((unsigned __int128)sweep.pages_total *
                        (uint64_t)(live - basis) / (uint64_t)way);
  if (ATOMIC_LOAD(&sweep.pages_swept) >= target)
    return;
  uint64_t t0 = sweep_clock();
  sweep_batch b;
  b.n = 0;
  b.park = true;
  b.keep = -1;
  while (ATOMIC_LOAD(&sweep.pages_swept) < target)
    if (sweep_next(SWEEP_ASSIST, &b) < 0)
      break;
  sweep_batch_flush(&b);
  sweep_clocked(t0);
}

/* Before the heap grows by npages while the last cycle is still being
 * swept, sweep until that many pages came back to it, all is swept, or
 * SWEEP_RECLAIM_MAX spans were swept: the heap should not grow for want
 * of sweeping (Go's MHeap_Reclaim), but one allocation must not pay for a
 * long stretch of live spans either (the snapshot's order is the spans'
 * creation order, not their age: after the pause test's collections one
 * refill swept thousands of full spans, 3 ms, before one came back).
 * The bound costs at most one span of growth per SWEEP_RECLAIM_MAX spans
 * swept, and the proportional sweep still finishes the sweep before the
 * next goal.  A span of class keep (the refill's own, or -1) that the
 * sweep empties stays with its class, on nonempty, where the refill
 * takes it: giving it to the heap only for the refill to take the same
 * pages back cost two holds of mheap.lock, against the background
 * sweeper's (the bdwgc API's binary trees: 15000 of the allocating
 * thread's 16000 futex waits a run were there).  Returns true if it
 * swept any span.  Caller in a no-preempt region, holding no lock. */
#define SWEEP_RECLAIM_MAX 64
bool sweep_reclaim(uintptr_t npages, int keep) {
  if (sweep_done())
    return false;
  uint64_t t0 = sweep_clock();
  uintptr_t got = 0;
  int n = 0;
  sweep_batch b;
  b.n = 0;
  b.park = false; /* the pages are wanted in the heap */
  b.keep = keep;
  while (got < npages && n < SWEEP_RECLAIM_MAX) {
    intptr_t r = sweep_next(SWEEP_DEMAND, &b);
    if (r < 0)
      break;
    got += (uintptr_t)r;
    n++;
  }
  sweep_batch_flush(&b);
  sweep_clocked(t0);
  return n > 0;
}

bool sweep_done(void) {
  return ATOMIC_LOAD(&sweep.idx) >= sweep.nspan;
}

/* World stopped, mark finished: open a new sweep generation over a fresh
 * snapshot of allspans. */
void sweep_start(uint64_t live) {
  mheap *h = &sgc_heap;
  /* stop_begin gave every parked span back (rule:parked-spans-bounded);
   * one parked now would stay unswept, out of reach, a whole cycle. */
  SGC_ASSERT(ATOMIC_LOAD(&parked_pages) == 0);
  sgc_lock(&h->lock);
  mheap_snapshot_locked(&sweep.spans, &sweep.nspan);
  ATOMIC_STORE(&sweep.idx, 0);
  sweep.pages_total = h->pages_inuse;
  ATOMIC_STORE(&sweep.pages_swept, 0);
  sweep.live_basis = (int64_t)live;
  ATOMIC_STORE(&h->sweepgen, h->sweepgen + 2);
  h->gcmarking = 0;
  sgc_unlock(&h->lock);
}

/* Finish the current generation: sweep what is left, then wait for the
 * spans other threads are sweeping.  Walks the sweep snapshot (spans made
 * after it are swept from birth).  Each span is swept in a no-preempt
 * region of its own, so a stop never waits for a whole sweep; the snapshot
 * is read only inside a region, where no collection can replace it, and
 * the walk ends if a collection opened a new generation meanwhile. */
void sweep_complete(void) {
  uint64_t t0 = sweep_clock();
  uint32_t sg = ATOMIC_LOAD(&sgc_heap.sweepgen);
  for (;;) {
    mcache *c = nopreempt_enter_any();
    intptr_t r =
        ATOMIC_LOAD(&sgc_heap.sweepgen) == sg ? sweep_next(SWEEP_DEMAND, NULL)
                                              : -1;
    nopreempt_leave_any(c);
    if (r == -1)
      break;
  }
  for (uint32_t k = 0;; k++) {
    mcache *c = nopreempt_enter_any();
    bool more = ATOMIC_LOAD(&sgc_heap.sweepgen) == sg && k < sweep.nspan;
    if (more && ATOMIC_LOAD(&sweep.spans[k]->state) == MSPAN_INUSE)
      mspan_ensure_swept(sweep.spans[k]);
    nopreempt_leave_any(c);
    if (!more)
      break;
  }
  sweep_clocked(t0);
}

/* World stopped: sweep whatever the sweepers left (returns how many spans:
 * proportional sweeping keeps it at 0 unless the program outran it).  Then
 * the sweep snapshot is done with: forget it, since the mark snapshot
 * about to be taken may free its array. */
uint64_t sweep_finish(void) {
  uint64_t n = 0;
  while (sweep_next(SWEEP_PAUSE, NULL) != -1)
    n++;
  sweep.spans = NULL;
  sweep.nspan = 0;
  ATOMIC_STORE(&sweep.idx, 0);
  return n;
}

/* ------------------------------------------------------ background sweep */

static struct {
  sgc_mutex lock;
  pthread_cond_t cond;
  uint64_t gen;
  int started;
} bgsweep = {SGC_MUTEX_INIT(BGSWEEP), PTHREAD_COND_INITIALIZER};

/* One slice of the background sweep, in the caller's no-preempt region:
 * up to SWEEP_BATCH_MAX spans, the ones that must move settled together
 * at the end (rule:batched-spans-settled-in-region).  Settling one span
 * at a time, the sweeper took its class's lock, and mheap.lock for an
 * emptied one, once per span, against an allocating thread taking both
 * for its refills (Guile's binary trees on our libgc.so.1: 80000 futex
 * calls a run; about 24000 with the batches and rule:claimed-span-stays).
 * A stop asked for meanwhile (c->pending) ends the slice after the span
 * in hand, so a stop waits for one span's sweep, as before.  -1 when
 * nothing is left. */
static intptr_t bgsweep_slice(mcache *c) {
  sweep_batch b;
  b.n = 0;
  b.park = true;
  b.keep = -1;
  intptr_t r = 0;
  for (int k = 0; k < SWEEP_BATCH_MAX && r >= 0 && !c->pending; k++)
    r = sweepone_to(true, &b);
  sweep_batch_flush(&b);
  return r;
}

static void *bgsweep_main(void *arg) {
  if (sgc_register_thread() != 0) {
    /* Out of memory: allocation and the next stop sweep instead; the
     * next wake-up tries to start a sweeper again (said once: with memory
     * gone for good, every collection tried). */
    static int warned;
    if (!__atomic_fetch_add(&warned, 1, __ATOMIC_RELAXED))
      sgc_warn("cannot register the background sweeper (out of memory); "
               "allocation sweeps");
    sgc_lock(&bgsweep.lock);
    bgsweep.started = 0;
    sgc_unlock(&bgsweep.lock);
    return NULL;
  }
  mcache *c = sgc_tls_cache;
  /* What its stack and registers hold are spans' bases and the slots it
   * freed: taken for roots, a stale one kept whatever the heap put at
   * that address next (a 40 MB object laid over swept spans outlived its
   * collection, one run in 400 of
   * sweep_parked_spans_never_grow_the_heap_or_fail_an_allocation). */
  ATOMIC_STORE(&c->thr->noroots, 1);
  uint64_t seen = 0;
  for (;;) {
    sgc_enter_blocking();
    sgc_lock(&bgsweep.lock);
    while (bgsweep.gen == seen)
      sgc_cond_wait(&bgsweep.cond, &bgsweep.lock);
    seen = bgsweep.gen;
    sgc_unlock(&bgsweep.lock);
    sgc_exit_blocking();
    /* The unprotect walk of the collection that woke it, put off by an
     * allocating thread (genprotect.c), first; after the sweep, until it
     * is made, if gc_lock was taken then. */
    gen_restarted_background(false);
    uint64_t t0 = sweep_clock();
    for (;;) {
      nopreempt_enter(c);
      intptr_t r = bgsweep_slice(c);
      nopreempt_leave(c);
      if (r == -1)
        break;
    }
    sweep_clocked(t0);
    gen_restarted_background(true);
  }
  return NULL;
}

/* Starts the sweeper if it is not started (wake: a sweep is due too). */
static void bgsweep_start_and(bool wake) {
  sgc_lock(&bgsweep.lock);
  bool start = !bgsweep.started;
  bgsweep.started = 1;
  if (wake) {
    bgsweep.gen++;
    pthread_cond_signal(&bgsweep.cond);
  }
  sgc_unlock(&bgsweep.lock);
  if (start) {
    /* bgsweep_main registers itself.  started stays set when the start
     * fails, as before: allocation sweeps, and the warning is given
     * once. */
    int err = os_start_detached(bgsweep_main, NULL, 0, "spangc-sweep");
    if (err != 0)
      sgc_warn("cannot start the background sweeper (%s); allocation sweeps",
               strerror(err));
  }
}

void bgsweep_wake(void) { bgsweep_start_and(true); }

/* Ahead of the first collection (gc_start_background): the thread waits
 * for its first wake-up. */
void bgsweep_start(void) { bgsweep_start_and(false); }

/* The sweeper's lock, for fork (gc_atfork_threads orders it); in the
 * child, where no sweeper exists, the next wake-up starts one. */
void bgsweep_atfork(int phase) {
  if (phase == FORK_PREPARE) {
    sgc_lock(&bgsweep.lock);
    return;
  }
  if (phase == FORK_CHILD) {
    bgsweep.started = 0;
    pthread_cond_init(&bgsweep.cond, NULL);
  }
  sgc_unlock(&bgsweep.lock);
}
