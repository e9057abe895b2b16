/*
 * genprotect.c — which written pages the kernel goes on watching: the
 * pages protected after each collection's mark, the hot pages left
 * unprotected, and the pages a major collection gives back.
 *
 * Protection: after the mark, the listed pages that old objects of a
 * scanned kind fill are protected, unless the program wrote them since the
 * last protection (hot pages, left unprotected a few collections); the
 * kernel then records the first write to each.  Other pages (with a free
 * slot, free spans, pointer-free spans, fiber stacks) stay unprotected, so
 * the program allocating into them pays no fault; an unprotected page is
 * in every listing, so a page that comes to hold old objects is protected
 * at the end of a collection that found it filled with them.  A major
 * unprotects the protected pages whose old objects it found dead
 * (unprotect_freed_pages), before the sweep frees their slots.  Which
 * collection comes next, and the listing the pages come from, are
 * generation.c's: gen_end calls protect_old_pages and asks for the
 * unprotect walk (unprotect) once the policy decided.
 *
 * Threads: page_state and unprotect are touched only by the thread that
 * holds gc_lock (the collecting thread, in the stop or after the restart
 * in gen_restarted; or, for a walk put off, the background sweeper or the
 * next holder, gen_restarted_pending); the spans table and the spans' bounds
 * are read under mheap.lock (its rank: lockrank.h).
 */
#include "spangc-int.h"

/* Per kernel page of the arena: protected by the last collection, or hot
 * (see protect_listed_page). */
uint8_t *page_state SGC_NOGC;

/* Are all objects overlapping kernel page [q, q + KPAGE) of in-use span
 * s marked (and, after an aging minor's mark, old: allocated at the
 * span's last sweep, so not kept young by its coming sweep: a page of
 * objects kept young is left unprotected, as a page of young objects
 * always was, since most die before the next minor and their slots are
 * allocated into)? */
__attribute__((no_sanitize("thread")))
static bool marks_fill_page(mspan *s, uintptr_t q, bool aging) {
  uintptr_t i = (q - s->base) / s->elemsize;
  uintptr_t last = (q + KPAGE - 1 - s->base) / s->elemsize;
  if (last >= s->nelems)
    last = s->nelems - 1;
  if (i > last) /* the span's tail, past its last object */
    return false;
  for (;;) { /* bits i..last all set, a word at a time */
    uintptr_t w = i >> 6, top = (last >> 6) == w ? (last & 63) : 63;
    uint64_t want = (~(uint64_t)0 >> (63 - top)) & (~(uint64_t)0 << (i & 63));
    uint64_t old = s->markbits[w] & (aging ? s->allocbits[w] : ~(uint64_t)0);
    if ((old & want) != want)
      return false;
    if ((last >> 6) == w)
      return true;
    i = (w + 1) << 6;
  }
}

/* Is kernel page [q, q + KPAGE) of span s (scanned_span_at's, or NULL)
 * worth protecting: do old objects fill it, every object overlapping it
 * marked?
 * A page with a free slot (or an unmarked object, which the sweep frees)
 * will likely be allocated into before the next collection: the
 * allocator's own writes (building a free list, clearing an object) would
 * fault on it, so it stays unprotected and is listed as written, its old
 * objects rescanned, which costs less than the fault (13-27 us each on
 * these machines, bench/wpcost.c).
 * Decided per span once (a span with an eighth of its slots free stayed
 * unprotected, the others were protected whole): Guile's pairs, refilled
 * through GC_generic_malloc_many, faulted on nearly every page of nearly
 * full spans, 50k faults in a 2.5 s run.  But a span its sweep leaves
 * dense is not allocated into this cycle (rule:dense-spans-kept): its
 * pages are protected like full ones (ECL's vector program, 1M live
 * objects with random ones replaced, rescanned nearly all its 3M old
 * objects at every minor: 3.7M a minor before, 1.3M after, its collections
 * 20% shorter).  Unprotected pages are always listed, so this only ever
 * rescans more, never less (rule:written-old-is-listed). */
static bool old_fill_page(mspan *s, uintptr_t q, bool aging) {
  return s != NULL &&
         (marks_fill_page(s, q, aging) || mcentral_dense_after_sweep(s));
}

/* The in-use span of a scanned kind that holds all of kernel page
 * [q, q + KPAGE), or NULL (mheap.lock held; an entry of a free stretch may
 * name a struct since reused elsewhere): only such a page may hold old
 * objects worth protecting, and only such a page is protected with its
 * neighbours when it is not (see SKIP_MERGE). */
static mspan *scanned_span_at(uintptr_t q) {
  mheap *h = &sgc_heap;
  mspan *s = h->spans[(q - h->arena_start) >> PAGE_SHIFT];
  if (s == NULL || s->base > q ||
      s->base + s->npages * PAGE_SIZE < q + KPAGE ||
      ATOMIC_LOAD_RELAXED(&s->state) != MSPAN_INUSE ||
      spanclass_noscan(s->spanclass))
    return NULL;
  return s;
}

/* Hot pages.  A protected page the program writes costs a fault (the
 * kernel's async write-protect path); leaving it unprotected costs a
 * rescan of its old objects at every minor (under a microsecond for a
 * page of pointers).  A page the program wrote since the collection
 * protected it is likely written again: Guile's and ECL's vectors of 1e6
 * objects, stored into at random, faulted on each of their 2000 pages at
 * every minor, and gen.c writeall's structure on each of its pages.  So
 * such a page stays unprotected ("hot") for HOT_CYCLES collections, then
 * is protected again to see whether it is still written; each time in a
 * row it is, the hot period doubles, up to 31 collections (Guile's vector
 * faulted on each of its pages every fifth collection with a fixed
 * period).  The decision needs to know which listed pages were protected
 * at the last collection (a page listed because nobody protected it,
 * after a major or while it had free slots, says nothing about the
 * program's writes): page_state holds, per kernel page of the arena,
 * PAGE_PROTECTED, the level (how many hot periods in a row, 0-3) and the
 * hot collections left.  A protected page a major finds unwritten goes
 * back to level 0 (unprotect_freed_pages).  Only a policy: an unprotected
 * page is listed at every collection, so nothing here can lose a write
 * (rule:list-more-never-less).  Collecting thread, world stopped. */
#define HOT_CYCLES 4
#define PAGE_PROTECTED 0x80
#define PAGE_LEVEL 0x60 /* hot periods in a row, << 5 */
#define PAGE_HOT 0x1f   /* hot collections left */

/* Probed pages.  When pages first fill with old objects nothing says
 * whether the program will write them, and protecting a page it writes
 * costs a fault: gen.c writeall, whose 100 MB structure is written all
 * over between collections, faulted once on each of its 25600 pages
 * when they were first protected, 0.2 s of a 1.36 s run (8 us a fault on
 * this VM; 1.20x the time without tracking).  So a page that fills while
 * its state is 0 (never protected, or given back by a major) is
 * protected at once only if it is among the first PROBE_SAMPLE pages of
 * its aligned group of PROBE_GROUP; the group's others are left
 * unprotected for one collection (PAGE_PROBE), so they are listed and
 * their old objects rescanned once.  At the next collection the sample
 * tells: if more of its pages were written since (now hot) than stayed
 * protected, the probed pages are hot as if they had faulted; otherwise
 * they are protected.  A sample is contiguous, so protecting it takes
 * one call (pages apart would take one each: 3200 calls for 100 MB).
 * Policy only, like hot pages (rule:list-more-never-less).  PAGE_PROBE is
 * never a protected page's state: those have no hot collections. */
#define PROBE_GROUP 512 /* kernel pages: 2 MiB */
#define PROBE_SAMPLE 64
#define PAGE_PROBE (PAGE_PROTECTED | 1)
bool sgc_test_probe_off SGC_NOGC; /* tests: protect pages as they fill */

static inline bool state_protected(uint8_t st) {
  return (st & (PAGE_PROTECTED | PAGE_HOT)) == PAGE_PROTECTED;
}

/* The verdict on one group's sample, kept while protect_old_pages walks
 * the group's pages (in address order, so the sample's own listed pages,
 * below the probed ones, were looked at first). */
typedef struct {
  uintptr_t group; /* UINTPTR_MAX: none yet */
  bool hot;
} probe_verdict;

static bool sample_was_written(uintptr_t k, probe_verdict *v) {
  uintptr_t g = k / PROBE_GROUP;
  if (v->group != g) {
    mheap *h = &sgc_heap;
    uintptr_t all = (h->arena_end - h->arena_start) / KPAGE;
    uintptr_t n = all - g * PROBE_GROUP; /* > k % PROBE_GROUP */
    unsigned hot = 0, cold = 0;
    const uint8_t *st = page_state + g * PROBE_GROUP;
    for (uintptr_t i = 0; i < PROBE_SAMPLE && i < n; i++) {
      if (state_protected(st[i]))
        cold++;
      else if (!(st[i] & PAGE_PROTECTED) && (st[i] & PAGE_HOT) > 1)
        hot++;
    }
    v->group = g;
    v->hot = hot > cold;
  }
  return v->hot;
}

/* Should listed page k, filled with old objects, be protected now?
 * Counts its hot collections down; probes a page filled anew when the
 * pages are to be protected ('old': the sample will be). */
static bool protect_listed_page(uintptr_t k, probe_verdict *v, bool old) {
  if (page_state == NULL)
    return true;
  uint8_t st = page_state[k];
  if (st == PAGE_PROBE) {
    if (sample_was_written(k, v)) {
      page_state[k] = (uint8_t)(1 << 5 | HOT_CYCLES);
      return false;
    }
    page_state[k] = 0; /* protect_page records it */
    return true;
  }
  if (st == 0 && old && k % PROBE_GROUP >= PROBE_SAMPLE &&
      !sgc_test_probe_off) {
    page_state[k] = PAGE_PROBE;
    return false;
  }
  if (st & PAGE_PROTECTED) { /* written since we protected it */
    unsigned level = (st & PAGE_LEVEL) >> 5;
    unsigned hot = HOT_CYCLES << level;
    page_state[k] = (uint8_t)((level < 3 ? level + 1 : 3) << 5 |
                              (hot < PAGE_HOT ? hot : PAGE_HOT));
    return false;
  }
  if ((st & PAGE_HOT) > 1) { /* hot: one collection fewer to go */
    page_state[k] = st - 1;
    return false;
  }
  return true; /* protect_page records it */
}

/* Listed pages left unprotected since the last protected one (see
 * protect_old_pages).  Every protect call changes page tables and flushes
 * the TLB.  bench/wpcost.c measures both costs: on a quiet machine here a
 * one-page call took 5.6 us with no other thread of the process running
 * and 27 us with one running on the other CPU (the flush interrupts it),
 * and a fault on a protected page 13.5 us; loaded, 20-30 us each.  The
 * trade below is close and depends on the program: with no merging
 * (SKIP_MERGE 0), ECL's hash-table program made 6600 fewer faults and
 * 1700 more calls and ran 5% faster, Guile's vector program 7000 fewer
 * faults, 4900 more calls and 4% slower (session 29): its minors' marks
 * took 548 ms instead of 409, since a page left unprotected is listed
 * and its old objects rescanned at every minor, and protecting took 124
 * ms instead of 68.  A merged page costs a fault if written, saves a call
 * and, while unwritten, its rescans.  So a stretch of at most SKIP_MERGE
 * pages of scanned objects between protected ones is protected with them,
 * in one call; a longer one ends the call's range, and so does any other
 * page: one of pointer-free objects is never rescanned, and a free or
 * stack page holds no old object (a fiber stack in use is written at
 * every switch to it: fiber_seed_hazards faulted 18% more), so protecting
 * it saves one call and costs a fault when written (ECL filling hash
 * tables of strings: 5200 of its 17000 faults were on string pages lying
 * between pages of old conses; 3.5% of its time).  Test:
 * gen_pointer_free_pages_are_not_protected_with_their_neighbours.  (Cut
 * at every page, the first minor-bound collection of Guile's vector
 * program made 931 calls and took 29 ms to protect, against 4 ms
 * before.) */
#define SKIP_MERGE 8
typedef struct {
  uintptr_t page[SKIP_MERGE];
  uint32_t n; /* may exceed SKIP_MERGE: then the stretch is left alone */
} skipped_pages;

static void skip_page(skipped_pages *sk, uintptr_t q, bool never) {
  if (never && sk->n <= SKIP_MERGE) { /* as if the stretch were long */
    sk->n = SKIP_MERGE + 1;
    dirty_protect_flush();
    return;
  }
  if (sk->n < SKIP_MERGE)
    sk->page[sk->n] = q;
  if (++sk->n == SKIP_MERGE + 1)
    dirty_protect_flush(); /* no later range may be merged over them */
}

/* page_state learns what dirty.c protected (gen_note_protected). */
static void protect_page(skipped_pages *sk, uintptr_t q) {
  if (sk->n <= SKIP_MERGE)
    for (uint32_t i = 0; i < sk->n; i++)
      dirty_protect(sk->page[i], sk->page[i] + KPAGE);
  sk->n = 0;
  dirty_protect(q, q + KPAGE);
}

/* Protect the whole run [lo, hi) of kernel pages, in one range: the
 * runs that are not populated, which with many fibers' stack reserves
 * were millions of pages a stop walked one by one. */
static void protect_run(skipped_pages *sk, uintptr_t lo, uintptr_t hi) {
  if (lo >= hi)
    return;
  protect_page(sk, lo); /* and the short stretch skipped before it */
  dirty_protect(lo + KPAGE, hi);
}

void gen_note_protected(uintptr_t lo, uintptr_t hi) {
  mheap *h = &sgc_heap;
  if (page_state == NULL || lo < h->arena_start || hi <= lo)
    return;
  uint8_t *st = page_state + (lo - h->arena_start) / KPAGE;
  for (uintptr_t k = 0, n = (hi - lo + KPAGE - 1) / KPAGE; k < n; k++)
    st[k] = PAGE_PROTECTED | (st[k] & PAGE_LEVEL); /* the level stays */
}

/* Pages a major collection gives back.  A protected page stays so until
 * written, whatever the collections find; when a major finds objects on
 * it dead, the sweep frees their slots and the allocator's first write
 * there faults (Guile's and ECL's programs: most of their remaining
 * faults after the hot pages, in GC_generic_malloc_many refilling free
 * lists from such pages).  So at the end of a major (world stopped,
 * marks final, before the sweep) every protected page of an in-use span
 * that is not listed (a listed one was written, so is no longer
 * protected) and whose objects are not all marked (a slot free or to be
 * freed) is to be unprotected, one call per run of such pages next to
 * each other (the calls are made after the restart, out of the pause).
 * A range never spans a page that stays protected or a listed one (which
 * protect_old_pages may protect in the same stop: an unprotect after it
 * would undo that).  (Runs of 8 pages at least, leaving isolated pages
 * protected, made 5-15% more faults: Guile's lists program 62k -> 71k.)
 * Pages of
 * other spans stay as they are: fiber stacks and free spans, mostly
 * unpopulated (unprotected, they would be listed and protected again at
 * every collection: 20000 fibers' reserves made a major's stop 40 ms
 * longer), and a page old objects fill stays protected.  Unprotected
 * pages are listed at every collection (rule:list-more-never-less); one
 * that fills again with old objects is protected by a later collection.
 *
 * Neither the choice nor the calls are made in the stop: the stop keeps
 * the listing (unprotect.runs), and after the world restarts
 * (gen_restarted, gc_lock still held, so before any listing) the pages
 * are chosen, in slices under mheap.lock, and the UFFDIO_WRITEPROTECT
 * calls made.  The calls made in the stop took 30-50 ms of a 2 GiB heap's
 * final stop; the choice, a look at every protected page's marks, 2.5 ms
 * of the scanned pause test's (50000 pages).  With the program running,
 * what the choice reads may change under it: a sweep frees a span or
 * moves a finalizable object's mark, a freed slot is allocated into, a
 * page is written.  Every such change can only make the choice
 * unprotect a page that could have stayed protected, or keep protected
 * one that could have been unprotected: an unprotected page is listed at
 * every collection and a protected one reports its first write
 * (rule:list-more-never-less), so either costs time, never an object.
 * page_state is gc_lock's; the spans table and the spans' bounds are read
 * under mheap.lock.  A write meanwhile faults as before; unprotecting a
 * page the program has written changes nothing. */
gen_unprotect unprotect SGC_NOGC; /* its fields: spangc-int.h */

static void unprotect_range(uintptr_t lo, uintptr_t hi) {
  if (lo >= hi)
    return;
  mheap *h = &sgc_heap;
  uintptr_t a = h->arena_start + lo * KPAGE, b = h->arena_start + hi * KPAGE;
  if (!range_list_push(&unprotect.ranges, a, b)) { /* no room: now */
    memset(page_state + lo, 0, hi - lo); /* all were protected */
    dirty_unprotect(a, b);
  }
}

#define FREED_SLICE 1024 /* kernel pages looked at between lock passes */
__attribute__((no_sanitize("thread")))
static void unprotect_freed_pages(const dirty_run *runs, uint32_t nruns) {
  mheap *h = &sgc_heap;
  if (page_state == NULL)
    return;
  uintptr_t lo = 0, hi = 0; /* pending range of page indices */
  uint32_t r = 0;           /* the first run that may hold page k */
  const uint64_t flags = 0x0101010101010101ull * PAGE_PROTECTED;
  sgc_lock(&h->lock);
  uintptr_t n = (h->arena_used - h->arena_start) / KPAGE;
  uint32_t sg = ATOMIC_LOAD(&h->sweepgen);
  for (uintptr_t k = 0; k < n;) {
    /* An allocating thread waits for a slice at most. */
    if (k > 0)
      sgc_lock_pass(&h->lock);
    for (uintptr_t stop = k + FREED_SLICE < n ? k + FREED_SLICE : n; k < stop;
         k++) {
      if ((k & 7) == 0 && k + 8 <= n) { /* none protected among 8: skip */
        uint64_t w;
        memcpy(&w, page_state + k, 8);
        if ((w & flags) == 0) {
          k += 7;
          continue;
        }
      }
      if (!state_protected(page_state[k]))
        continue;
      uintptr_t q = h->arena_start + k * KPAGE;
      while (r < nruns && runs[r].hi <= q)
        r++;
      bool listed = r < nruns && runs[r].lo <= q;
      mspan *s = h->spans[(q - h->arena_start) >> PAGE_SHIFT];
      bool covers = s != NULL && s->base <= q &&
                    s->base + s->npages * PAGE_SIZE >= q + KPAGE;
      uint8_t st = covers ? ATOMIC_LOAD_RELAXED(&s->state) : MSPAN_DEAD;
      bool inuse = st == MSPAN_INUSE;
      /* A span the sweep freed since the stop (stamped with this
       * generation before it was freed) held dead objects there: its
       * pages go as an in-use span's with a free slot would have, had
       * the walk reached them first (left protected, the allocator
       * faulted on them and the next major took them for hot pages:
       * gen_pages_a_major_protects_stay_protected_after_its_restart,
       * 2 runs in 30).  The span may have merged with free neighbours:
       * their pages are unprotected too, which only lists more. */
      bool freed_now = st == MSPAN_FREE &&
                       ATOMIC_LOAD_RELAXED(&s->sweepgen) == sg;
      if (listed || (!inuse && !freed_now) ||
          (inuse && marks_fill_page(s, q, false))) {
        /* Stays as it is, and no range may cover it.  A listed page (no
         * longer protected) keeps its state for protect_old_pages; an
         * unlisted one old objects fill was not written for a whole
         * collection: its hot level starts again. */
        unprotect_range(lo, hi);
        lo = hi = 0;
        if (!listed && inuse)
          page_state[k] = PAGE_PROTECTED;
        if (!listed && !inuse && s != NULL && s->base <= q) {
          /* The rest of a stack or free span: skip it. */
          uintptr_t end = (s->base + s->npages * PAGE_SIZE - h->arena_start) /
                          KPAGE;
          if (end > k + 1)
            k = (end < n ? end : n) - 1;
        }
        continue;
      }
      if (hi != 0 && k == hi) {
        hi = k + 1;
      } else {
        unprotect_range(lo, hi);
        lo = k;
        hi = k + 1;
      }
    }
  }
  sgc_unlock(&h->lock);
  unprotect_range(lo, hi);
}

void (*sgc_test_unprotect_walk_hook)(void);

/* The walk and calls the stop decided (unprotect), now. */
static void unprotect_now(void) {
  ATOMIC_STORE(&unprotect_pending, 0);
  if (unprotect.find) {
    unprotect.find = false;
    test_hook_run(&sgc_test_unprotect_walk_hook);
    unprotect_freed_pages(unprotect.runs, unprotect.nruns);
  }
  if (unprotect.all) {
    dirty_unprotect_later(sgc_heap.arena_start,
                          ATOMIC_LOAD(&sgc_heap.arena_used));
    unprotect.all = false;
  }
  /* The ranges hold unlisted pages only, which protect_old_pages never
   * means to protect (a protect range it merged over them, dirty.c's
   * gap, marked them protected in page_state): their state is set here,
   * once, as they are to be unprotected.  The calls themselves are made
   * once gc_lock is let go (rule:unprotect-calls-after-gc-lock). */
  mheap *h = &sgc_heap;
  range_list *l = &unprotect.ranges;
  for (size_t i = 0; i < l->n; i++) {
    uintptr_t lo = l->r[i][0], hi = l->r[i][1];
    memset(page_state + (lo - h->arena_start) / KPAGE, 0, (hi - lo) / KPAGE);
    dirty_unprotect_later(lo, hi);
  }
  l->n = 0;
}

void gen_restarted(void) {
  age_sample_reset();
  unprotect_now();
}

/* After a collection an allocating thread ran (it fell due, or an idle
 * one), the walk is put off: it took that thread 27 ms after the scanned pause
 * test's stop (200 MB, 100000 listed pages: 45 calls and the looks
 * between them), a pause of the program as long as the stop itself.
 * The background sweeper, which collect wakes next, makes it
 * (gen_restarted_background); whoever takes gc_lock to list pages or to
 * fork first makes it if it is still pending (gen_restarted_pending):
 * the collection's entry, before its stop and listing, so unprotect.runs
 * is still the listing it was decided from; fork's prepare handler, so
 * that a child never makes the calls on the parent's descriptor.  Until
 * it is made, the program's first writes to those pages fault, as they
 * would have during the walk: time, never an object
 * (rule:list-more-never-less; rule:unprotect-walk-off-the-allocator). */
int unprotect_pending SGC_NOGC; /* atomic; set and cleared under gc_lock */

void gen_restarted_later(void) {
  SGC_ASSERT_HELD(&gc_lock);
  age_sample_reset();
  if (unprotect.find || unprotect.all || unprotect.ranges.n > 0)
    ATOMIC_STORE(&unprotect_pending, 1);
}

void gen_restarted_pending(void) {
  SGC_ASSERT_HELD(&gc_lock);
  if (ATOMIC_LOAD(&unprotect_pending))
    unprotect_now();
}

/* No lock held.  Tries only: a collection holding gc_lock makes the
 * walk itself (at its entry), and a sweeper waiting for gc_lock could
 * wait for a collection that waits for the sweep.  With 'retry', tries
 * again every 100 us (in a blocking region) until the walk is made, by
 * this thread or by whoever took gc_lock: a reader of sgc_read_stats
 * holds it a moment, and a sweeper that gave up after two tries left
 * the walk to the allocating thread's next collection (CI, loaded: 1
 * walk in 6 of gen_walk_after_a_major_that_fell_due_leaves_the_
 * allocating_thread, whose thread reads the stats every 1024
 * allocations).  Every holder that keeps it long (a collection, fork)
 * makes a pending walk first, so the retries end. */
void gen_restarted_background(bool retry) {
  while (ATOMIC_LOAD_RELAXED(&unprotect_pending)) {
    if (sgc_trylock(&gc_lock)) {
      gen_restarted_pending();
      sgc_unlock(&gc_lock);
      run_as_blocking(dirty_unprotect_calls);
      return;
    }
    if (!retry)
      return;
    sleep_as_blocking(100000);
  }
}

/* Listed pages that are not populated, protected (heap lock held), but
 * for those of a large object of the conservative kind: protected, such a
 * page gets the kernel's marker, which pagemap_populated reports as
 * swapped, so the next mark of the whole object reads it, a fault each
 * (the pause test: the untouched part of its 1.2 MB array, 3.6 ms of a
 * major's stop).  Unprotected they are listed at every collection, as
 * one run per object, which push_populated passes over; the first write
 * populates a page and it is rescanned like any written page. */
static void protect_unpopulated(skipped_pages *sk, uintptr_t lo,
                                uintptr_t hi) {
  mheap *h = &sgc_heap;
  uintptr_t from = lo;
  for (uintptr_t q = lo; q < hi;) {
    mspan *s = h->spans[(q - h->arena_start) >> PAGE_SHIFT];
    uintptr_t next = (q & ~(PAGE_SIZE - 1)) + PAGE_SIZE;
    uintptr_t e = s != NULL ? s->base + s->npages * PAGE_SIZE : 0;
    /* Only a span that holds q: an entry of a free stretch may name a
     * struct since reused for a span elsewhere. */
    if (s != NULL && s->base <= q && e > q) {
      if (ATOMIC_LOAD_RELAXED(&s->state) == MSPAN_INUSE &&
          read_where_populated(s->spanclass, s->nelems, e - s->base)) {
        protect_run(sk, from, q);
        from = e < hi ? e : hi;
      }
      next = e;
    }
    q = next;
  }
  protect_run(sk, from, hi);
}

/* World stopped, marks final: protect the listed pages filled with old
 * objects of a scanned kind (old_fill_page) unless they are hot (above).
 * The others stay unprotected, so the program allocating into them pays
 * no fault; they are listed every time, which costs the kernel a
 * page-table walk.  A short stretch of them (pages of scanned spans)
 * between protected pages is protected anyway (skipped_pages).  Listed
 * pages that are not populated (never touched since committed or
 * released: fiber stacks reserve far more than they touch, free spans are
 * released) are protected, but those of large conservative objects
 * (protect_unpopulated, above): they
 * hold nothing, their first touch faults anyway, and unprotected they
 * would be listed at every collection (150k fibers' stacks made the
 * listing 200 ms). */
/* With old == false (the next collection is major: it needs no
 * listing of old pages, and a program that writes all over its old data,
 * the reason minors gave way, would fault on every page again), only the
 * pages not populated are protected: the ones with old objects stay
 * unprotected and are listed, and protected, by the collection before the
 * next minor (every unprotected page is in every listing); their writes
 * still count, so a page hot now is hot after the major. */
void protect_old_pages(const gen_cycle *g, bool old) {
  mheap *h = &sgc_heap;
  skipped_pages sk = {.n = 0};
  probe_verdict pv = {.group = UINTPTR_MAX, .hot = false};
  sgc_lock(&h->lock);
  uintptr_t used = h->arena_used;
  for (uint32_t k = 0; k < g->nruns; k++) {
    uintptr_t lo = g->runs[k].lo, hi = g->runs[k].hi;
    if (hi > used)
      hi = used;
    if (!(g->runs[k].categories & DIRTY_RUN_PRESENT)) {
      protect_unpopulated(&sk, lo, hi);
      continue;
    }
    /* Protected after the listing, inside the same stop: a page with
     * old pointer objects is listed again once written
     * (rule:written-old-is-listed, rule:no-write-lost). */
    for (uintptr_t q = lo; q < hi; q += KPAGE) {
      uintptr_t kp = (q - h->arena_start) / KPAGE;
      /* Past a stretch of skipped pages too long to merge over, the
       * pages of no scanned span (pointer-free, free, stack: never full
       * of old objects) only reset their state and lengthen the stretch:
       * done for all of them at once (a pointer-free heap listed 100000
       * of them at each major, 1-2 ms of this stop one by one). */
      if (sk.n > SKIP_MERGE) {
        uintptr_t next = mheap_next_scanned_page(q, hi);
        if (next > q) {
          if (page_state != NULL)
            memset(page_state + kp, 0, (next - q) / KPAGE);
          sk.n = SKIP_MERGE + 1; /* what more skip_page calls leave */
          q = next - KPAGE;
          continue;
        }
      }
      if (q + MHEAP_PREFETCH_AHEAD < hi)
        mheap_prefetch_span(h, q + MHEAP_PREFETCH_AHEAD);
      mspan *s = scanned_span_at(q);
      bool full = old_fill_page(s, q, g->aging);
      if (full && protect_listed_page(kp, &pv, old) && old) {
        protect_page(&sk, q);
        continue;
      }
      if (page_state != NULL && !full)
        page_state[kp] = 0; /* not protected, not hot, level 0 */
      else if (page_state != NULL && page_state[kp] != PAGE_PROBE &&
               (page_state[kp] & PAGE_HOT) <= 1)
        page_state[kp] &= PAGE_LEVEL; /* not protected, not hot */
      skip_page(&sk, q, s == NULL); /* merged over if scanned */
    }
  }
  dirty_protect_flush();
  sgc_unlock(&h->lock);
}
