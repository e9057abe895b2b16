/*
 * generation.c — generational collection on sticky mark bits: which
 * collection is minor and which is major, and which written pages the
 * kernel goes on watching.
 *
 * With generations on (sgc_sticky), a mark bit outlives the sweep: an
 * object marked by a collection stays marked ("old") until the next major
 * collection clears every mark before marking.  A minor collection starts
 * from the marks as they are, so the markers stop at old objects and only
 * reach objects allocated since the last collection ("young"); besides the
 * usual roots, it scans the old objects on the pages the kernel reports
 * written since the previous collection (dirty.c), since only a write can
 * have put a pointer to a young object into an old one.  The sweep frees
 * what is unmarked, which after a minor is young garbage only.
 *
 * Invariants (checked by SPANGC_DEBUG=verify=1, see markverify.c):
 *   - between collections, the marked objects of a span are exactly its
 *     old objects; a slot freed by sgc_free loses its mark (a young object
 *     reusing it must not inherit "old");
 *   - after a mark, every object a marked object references is marked,
 *     unless the referencing word was written since the last listing (its
 *     page is then listed at the next one);
 *   - a page holding an old object of a scanned kind is either protected
 *     since the last listing or will be reported by the next listing.
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
 * (unprotect_freed_pages), before the sweep frees their slots.
 *
 * Policy: L is the live heap the last major collection found, H = L *
 * GOGC/100 (at least the minimum goal).  After any collection with M bytes
 * marked (old and young survivors), the next is triggered at max(L + H,
 * M + H/2) if it is to be minor, max(L + H, M + the minimum goal) if
 * major: the heap stays near what GOGC alone would give (pacer_goal,
 * pacer.c).  The next is major when M plus the fiber stack bytes made
 * since the last major exceeds L + H/2 (old objects, dead ones included,
 * and the stacks of old fibers, which only a major frees, have taken half of the room); when the last minor did not pay (more than half of the
 * young survived it: a program whose objects live a while, where minors
 * only promote; or, following another minor and with more than the
 * minimum goal marked, minors rescan more than half as many objects as
 * they mark on written pages (the share smoothed over minors): a program
 * that writes all over its old data, where a minor marks about what a
 * major does),
 * until every fourth major tries a minor again (with concurrent majors,
 * only when that major's age sample found most young bytes dead, and
 * with a small room first: see gen_end); after
 * fork(), when the kernel's record was lost, when mark bits were set
 * outside a mark, and for sgc_collect.  Under a soft memory limit the
 * goal is the lower of this and the limit's (memlimit.c), and the next is
 * major once M exceeds L plus half the room the limited goal leaves.
 *
 * Threads: the state below is touched only by the collecting thread with
 * the world stopped (gc_lock held), and read by sgc_read_stats under
 * gc_lock.
 */
#include <stdlib.h>
#include <string.h>

#include "spangc-int.h"

/* A minor collection's mark above which, with concurrent majors, minors
 * are retried less often (see gen_end).  Well above the concurrent
 * stops' 2 ms target: a minor's length is known only after it ran, and
 * the retries are what finds a program's young objects dying again. */
#define GEN_CONC_MINOR_NS ((uint64_t)10000000)
/* A trial minor's expected mark (see gen_end), and its least young room:
 * below it, a program's objects in use at any moment are most of the
 * young ones, and the trial says nothing (a debug build under load
 * marked 4 MB in 31 ms: a 1 ms room of 135 KB, and minors never came
 * back). */
#define GEN_TRIAL_NS ((uint64_t)1000000)
#define GEN_TRIAL_MIN_ROOM ((uint64_t)1 << 20)

bool sgc_sticky SGC_NOGC;
bool sgc_record_frees SGC_NOGC;

static struct {
  bool enabled;       /* SPANGC_GENERATIONAL */
  bool verify;        /* SPANGC_DEBUG=verify=1 */
  bool next_minor;    /* the policy's choice for the next collection */
  bool minor_pays;    /* the last minor freed at least half of the young
                        and minors rescan at most half of what they mark */
  int majors_since_minor; /* majors in a row since the last minor */
  uint64_t minor_mark_ns; /* the last minor collection's mark */
  uint64_t conc_pause_ns; /* the last concurrent major's two stops */
  uint64_t minor_young;   /* the last minor's young bytes */
  bool young_died;      /* the last major found most young bytes dead
                           (its age sample, agesample.c) */
  bool minor_rescans_too_many; /* the last minor did not pay for its
                                  rescans only (its young died) */
  bool last_was_minor; /* the collection before this one was minor */
  uint64_t rescan_share; /* minors' old objects rescanned / marked, x1024,
                            smoothed */
  uint64_t major_live; /* L: marked by the last major collection */
  uint64_t major_stacks; /* fiber stack bytes after the last major */
  uint64_t last_marked; /* M of the last collection */
  uint64_t nminor, nmajor;
  /* SPANGC_SIZING=sqrt and its rates (gen_note_rates), bytes/s. */
  bool sizing_sqrt;
  uint64_t alloc_rate, mark_rate;
} gen SGC_NOGC;

/* The verifier's record of freed pages (see spangc-int.h): one bit per
 * arena page, kept only when the verifier runs, set atomically. */
static uint64_t *freed_pages SGC_NOGC;

/* The kernel tracks writes per 4 KiB page, half of one of ours. */
#define KPAGE ((uintptr_t)4096)

/* Per kernel page of the arena: protected by the last collection, or hot
 * (see protect_listed_page). */
static uint8_t *page_state SGC_NOGC;

void gen_init(void) {
  const char *e = sgc_option("SPANGC_GENERATIONAL");
  gen.enabled = true;
  gen.minor_pays = true;
  if (e && *e) {
    if (strcmp(e, "0") != 0 && strcmp(e, "1") != 0)
      sgc_fatal("SPANGC_GENERATIONAL=%s: expected 0 or 1", e);
    gen.enabled = strcmp(e, "1") == 0;
  }
  gen.verify = sgc_debug_flag("verify");
  const char *z = sgc_option("SPANGC_SIZING");
  if (z && *z) {
    if (strcmp(z, "gogc") != 0 && strcmp(z, "sqrt") != 0)
      sgc_fatal("SPANGC_SIZING=%s: expected gogc or sqrt", z);
    gen.sizing_sqrt = strcmp(z, "sqrt") == 0;
  }
  dirty_init();
  if (gen.verify) {
    mheap *h = &sgc_heap;
    uintptr_t npages = (h->arena_end - h->arena_start) >> PAGE_SHIFT;
    freed_pages = os_alloc((npages + 63) / 64 * 8);
    if (freed_pages == NULL)
      sgc_fatal("SPANGC_DEBUG=verify=1: no memory for the verifier's "
                "table of freed pages");
  }
  sgc_sticky = gen.enabled && dirty_mechanism() != DIRTY_OFF;
  if (sgc_sticky) {
    mheap *h = &sgc_heap;
    /* Touched only as far as the arena is used (the kernel backs the
     * rest on demand); without it every written page is protected again
     * (no hot pages, nothing else changes). */
    page_state = os_alloc((h->arena_end - h->arena_start) / KPAGE);
  }
}

bool gen_enabled(void) { return sgc_sticky; }

/* A stop's listing covers the pages of scanned spans only
 * (mheap.scanpages, exact with the world stopped), stretches of other
 * pages shorter than LIST_GAP merged over.  Only objects of scanned kinds
 * hold pointers, so only a write to their pages matters to a mark from
 * the marks there are; pointer-free, free and fiber stack pages were
 * listed too, and on the pointer-free pause test the listing of a 400 MB
 * arena took 1.1 ms of each final stop.  A page left out is not changed
 * by that (a listing reads the kernel's record, it does not reset it):
 * still unprotected, or protected and reporting its first write, when a
 * scanned span takes it.  What the listing feeds after the mark only
 * sees fewer pages: protect_old_pages protects pages of scanned spans
 * only, and the unprotect walk may unprotect a page it no longer sees
 * listed, which only lists more (rule:list-more-never-less). */
#define LIST_GAP ((uintptr_t)1 << 20)
typedef struct { uintptr_t at, end; } scanned_cursor;
static bool next_scanned_run(void *arg, uintptr_t *lo, uintptr_t *hi) {
  scanned_cursor *c = arg;
  uintptr_t p = mheap_next_scanned_page(c->at, c->end);
  if (p >= c->end)
    return false;
  uintptr_t e = mheap_next_unscanned_page(p, c->end);
  while (e < c->end) {
    uintptr_t limit = c->end - e > LIST_GAP ? e + LIST_GAP : c->end;
    uintptr_t q = mheap_next_scanned_page(e, limit);
    if (q >= limit)
      break;
    e = mheap_next_unscanned_page(q, c->end);
  }
  *lo = p;
  *hi = e;
  c->at = e;
  return true;
}

static bool list_scanned(gen_cycle *g) {
  mheap *h = &sgc_heap;
  SGC_ASSERT(world_is_stopped());
  scanned_cursor c = {h->arena_start, ATOMIC_LOAD(&h->arena_used)};
  return dirty_list_ranges(next_scanned_run, &c, &g->runs, &g->nruns);
}

void gen_begin(gen_cycle *g, bool forced) {
  mheap *h = &sgc_heap;
  memset(g, 0, sizeof *g);
  gen_restarted(); /* nothing left, unless a path forgot it */
  if (!sgc_sticky)
    return;
  g->listed = true;
  bool trusted = list_scanned(g);
  /* Marks set outside a mark make this collection major
   * (rule:stale-marks-cleared, rule:freed-slot-not-old). */
  g->minor = trusted && !forced && gen.next_minor &&
             !ATOMIC_LOAD(&h->stale_marks);
}

bool gen_begin_remark(gen_cycle *g) {
  memset(g, 0, sizeof *g);
  g->remark = true;
  if (dirty_mechanism() == DIRTY_OFF)
    return false;
  g->listed = true;
  return list_scanned(g);
}

bool gen_next_minor(void) { return sgc_sticky && gen.next_minor; }

/* Are all objects overlapping kernel page [q, q + KPAGE) of in-use span
 * s marked? */
__attribute__((no_sanitize("thread")))
static bool marks_fill_page(mspan *s, uintptr_t q) {
  uintptr_t i = (q - s->base) / s->elemsize;
  uintptr_t last = (q + KPAGE - 1 - s->base) / s->elemsize;
  if (last >= s->nelems)
    last = s->nelems - 1;
  if (i > last) /* the span's tail, past its last object */
    return false;
  for (;;) { /* bits i..last all set, a word at a time */
    uintptr_t w = i >> 6, top = (last >> 6) == w ? (last & 63) : 63;
    uint64_t want = (~(uint64_t)0 >> (63 - top)) & (~(uint64_t)0 << (i & 63));
    if ((s->markbits[w] & want) != want)
      return false;
    if ((last >> 6) == w)
      return true;
    i = (w + 1) << 6;
  }
}

/* Is kernel page [q, q + KPAGE) of span s worth protecting: do old
 * objects of a scanned kind fill it, every object overlapping it marked?
 * A page with a free slot (or an unmarked object, which the sweep frees)
 * will likely be allocated into before the next collection: the
 * allocator's own writes (building a free list, clearing an object) would
 * fault on it, so it stays unprotected and is listed as written, its old
 * objects rescanned, which costs less than the fault (2-6 us each here).
 * Decided per span once (a span with an eighth of its slots free stayed
 * unprotected, the others were protected whole): Guile's pairs, refilled
 * through GC_generic_malloc_many, faulted on nearly every page of nearly
 * full spans, 50k faults in a 2.5 s run.  Unprotected pages are always
 * listed, so this only ever rescans more, never less
 * (rule:written-old-is-listed). */
static bool old_fill_page(mspan *s, uintptr_t q) {
  return ATOMIC_LOAD_RELAXED(&s->state) == MSPAN_INUSE &&
         !spanclass_noscan(s->spanclass) && marks_fill_page(s, q);
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

/* Should listed page k, filled with old objects, be protected now?
 * Counts its hot collections down. */
static bool protect_listed_page(uintptr_t k) {
  if (page_state == NULL)
    return true;
  uint8_t st = page_state[k];
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
 * the TLB: about 30 us here, as much as 6-10 faults.  So a stretch of at
 * most SKIP_MERGE such pages between protected ones is protected with
 * them, in one call; a longer one ends the call's range, and so does a
 * page of a fiber stack (fiber_seed_hazards faulted 18% more).  (Cut at every
 * such page, the first minor-bound collection of Guile's vector program
 * made 931 calls and took 29 ms to protect, against 4 ms before.) */
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
static struct {
  uintptr_t (*r)[2]; /* [lo, hi) addresses */
  size_t n, cap;
  bool all; /* the whole arena (generations off, after a concurrent mark) */
  /* A major's listing, for unprotect_freed_pages after the restart (the
   * runs stay valid until the next listing, which gc_lock keeps off). */
  bool find;
  const dirty_run *runs;
  uint32_t nruns;
} unprotect SGC_NOGC;

static void unprotect_range(uintptr_t lo, uintptr_t hi) {
  if (lo >= hi)
    return;
  mheap *h = &sgc_heap;
  uintptr_t a = h->arena_start + lo * KPAGE, b = h->arena_start + hi * KPAGE;
  if (unprotect.n == unprotect.cap) {
    size_t cap = unprotect.cap ? unprotect.cap * 2 : 1024;
    uintptr_t (*r)[2] = os_alloc(cap * sizeof *r);
    if (r == NULL) { /* no room to put it off: now */
      memset(page_state + lo, 0, hi - lo); /* all were protected */
      dirty_unprotect(a, b);
      return;
    }
    if (unprotect.r != NULL) {
      memcpy(r, unprotect.r, unprotect.n * sizeof *r);
      os_free(unprotect.r, unprotect.cap * sizeof *r);
    }
    ATOMIC_ADD(&h->sys_meta, (cap - unprotect.cap) * sizeof *r);
    unprotect.r = r;
    unprotect.cap = cap;
  }
  unprotect.r[unprotect.n][0] = a;
  unprotect.r[unprotect.n][1] = b;
  unprotect.n++;
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
      if (!(page_state[k] & PAGE_PROTECTED))
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
          (inuse && marks_fill_page(s, q))) {
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

void gen_restarted(void) {
  age_sample_reset();
  if (unprotect.find) {
    unprotect.find = false;
    void (*hook)(void) = ATOMIC_LOAD(&sgc_test_unprotect_walk_hook);
    if (hook)
      hook();
    unprotect_freed_pages(unprotect.runs, unprotect.nruns);
  }
  if (unprotect.all) {
    dirty_unprotect(sgc_heap.arena_start, ATOMIC_LOAD(&sgc_heap.arena_used));
    unprotect.all = false;
  }
  /* The ranges hold unlisted pages only, which protect_old_pages never
   * means to protect (a protect range it merged over them, dirty.c's
   * gap, marked them protected in page_state): their state is set here,
   * once, as they are unprotected. */
  mheap *h = &sgc_heap;
  for (size_t i = 0; i < unprotect.n; i++) {
    uintptr_t lo = unprotect.r[i][0], hi = unprotect.r[i][1];
    memset(page_state + (lo - h->arena_start) / KPAGE, 0, (hi - lo) / KPAGE);
    dirty_unprotect(lo, hi);
  }
  unprotect.n = 0;
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
 * page-table walk.  A short stretch of them between protected pages is
 * protected anyway (skipped_pages).  Listed pages that are not populated
 * (never touched since committed or released: fiber stacks reserve far
 * more than they touch, free spans are released) are protected, but
 * those of large conservative objects (protect_unpopulated, above): they
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
static void protect_old_pages(const gen_cycle *g, bool old) {
  mheap *h = &sgc_heap;
  skipped_pages sk = {.n = 0};
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
      mspan *s = h->spans[(q - h->arena_start) >> PAGE_SHIFT];
      bool full = s != NULL && s->base <= q &&
                  s->base + s->npages * PAGE_SIZE >= q + KPAGE &&
                  old_fill_page(s, q);
      if (full && protect_listed_page(kp) && old) {
        protect_page(&sk, q);
        continue;
      }
      if (page_state != NULL && !full)
        page_state[kp] = 0; /* not protected, not hot, level 0 */
      else if (page_state != NULL && (page_state[kp] & PAGE_HOT) <= 1)
        page_state[kp] &= PAGE_LEVEL; /* not protected, not hot */
      /* A fiber stack in use is written at every switch to it: never
       * merged over. */
      skip_page(&sk, q,
                s != NULL && ATOMIC_LOAD_RELAXED(&s->state) == MSPAN_STACK);
    }
  }
  dirty_protect_flush();
  sgc_unlock(&h->lock);
}

/* The next collection's goal from the policy's state, before the memory
 * limit (gc_lock held). */
static pacer_inputs policy_inputs(int gcpercent, uint64_t min_goal) {
  pacer_inputs in = {.marked = gen.last_marked,
                     .gcpercent = gcpercent,
                     .min_goal = min_goal,
                     .generational = sgc_sticky,
                     .major_live = gen.major_live,
                     .next_minor = gen.next_minor,
                     .concurrent = conc_worth(),
                     .sizing_sqrt = gen.sizing_sqrt,
                     .alloc_rate = gen.alloc_rate,
                     .mark_rate = gen.mark_rate};
  return in;
}

static uint64_t policy_goal(int gcpercent, uint64_t min_goal) {
  pacer_inputs in = policy_inputs(gcpercent, min_goal);
  return pacer_goal(&in);
}

/* The rates the square-root rule weighs (collecting thread, gc_lock):
 * allocated bytes over the wall time since the last restart, and, for a
 * major collection, marked bytes over its mark time.  Halfway to each new
 * measure, so one odd cycle moves them only part of the way. */
static uint64_t smooth(uint64_t old, uint64_t now) {
  return old == 0 ? now : old / 2 + now / 2;
}
void gen_note_rates(uint64_t allocated, uint64_t alloc_ns, uint64_t marked,
                    uint64_t mark_ns, bool major) {
  if (alloc_ns > 0)
    gen.alloc_rate = smooth(gen.alloc_rate,
                            (uint64_t)((unsigned __int128)allocated *
                                       1000000000u / alloc_ns));
  if (major && mark_ns > 0 && marked > 0)
    gen.mark_rate = smooth(gen.mark_rate,
                           (uint64_t)((unsigned __int128)marked *
                                      1000000000u / mark_ns));
}

void gen_note_concurrent_pause(uint64_t ns) { gen.conc_pause_ns = ns; }

uint64_t gen_alloc_rate(void) { return gen.alloc_rate; }
uint64_t gen_mark_rate(void) { return gen.mark_rate; }

/* The goal, lowered under the soft memory limit (memlimit.c). */
uint64_t gen_goal(int gcpercent, uint64_t min_goal) {
  return memlimit_goal(policy_goal(gcpercent, min_goal), gen.last_marked,
                       gcpercent < 0);
}

uint64_t gen_end(gen_cycle *g, uint64_t heap_before, uint64_t marked,
                 int gcpercent, uint64_t min_goal) {
  if (g->minor)
    gen.nminor++;
  else
    gen.nmajor++;
  if (!sgc_sticky) {
    /* A concurrent major protected the scanned spans for its mark; no
     * minor needs them watched now, and the allocator's writes to them
     * would fault until the next concurrent mark. */
    if (g->remark)
      unprotect.all = true; /* after the restart (gen_restarted) */
    gen.last_marked = marked;
    return gen_goal(gcpercent, min_goal);
  }
  if (g->minor) {
    /* Young bytes: allocated since the last collection; survivors:
     * what this one marked beyond the old. */
    uint64_t young = heap_before > gen.last_marked
                         ? heap_before - gen.last_marked : 0;
    uint64_t survived = marked - g->old_bytes;
    /* It pays when most young objects died and the written pages made
     * minors rescan at most half as many objects as they mark: a program that writes
     * all over its old data (Guile filling a large hash table: three
     * fifths of the marked objects were rescanned, and a minor cost what
     * a major did, plus the faults on the protected pages) gains nothing
     * from minors. */
    /* The first minor after a major is not judged by its rescans: the
     * major's sweep left room in many spans that had old objects, and
     * those stay unprotected until they fill (Guile keeping a vector of
     * 1e6 objects: that minor rescanned as many objects as it marked,
     * the next ones a twelfth). */
    /* Nor below the minimum goal, where a major costs little anyway (and
     * a few written pages are a large share of the objects).  The share
     * rescanned is moved halfway to each new measure, so one minor that
     * found many pages written (Guile's vector program: now and then 45%
     * among minors of 5-20%) does not stop minors alone. */
    bool judged = gen.last_was_minor && marked > min_goal &&
                  g->marked_objects > 0;
    if (judged) {
      uint64_t share = g->rescanned * 1024 / g->marked_objects;
      gen.rescan_share = (gen.rescan_share + (share < 2048 ? share : 2048)) / 2;
    }
    bool died = young > 0 && survived * 2 <= young;
    gen.minor_pays = died && (!judged || gen.rescan_share * 2 <= 1024);
    gen.minor_rescans_too_many = died && !gen.minor_pays;
    gen.majors_since_minor = 0;
    gen.minor_mark_ns = g->mark_ns;
    gen.minor_young = young;
  } else {
    gen.young_died = age_sample_young_died(gen.last_marked);
    gen.major_live = marked;
    gen.major_stacks = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack) * PAGE_SIZE;
    gen.majors_since_minor++;
  }
  gen.last_was_minor = g->minor;
  gen.last_marked = marked;
  uint64_t L = gen.major_live;
  pacer_inputs in = policy_inputs(gcpercent, min_goal);
  uint64_t H = pacer_room(&in, L);
  /* Minors again while they pay (most young objects die); after one
   * that did not, majors, with a minor tried again every fourth. */
  /* Fiber stacks count too: an old fiber's stack is freed by a major
   * collection only, and its object is small. */
  uint64_t stacks = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack) * PAGE_SIZE;
  uint64_t grown = stacks > gen.major_stacks ? stacks - gen.major_stacks : 0;
  gen.next_minor = (gen.minor_pays || gen.majors_since_minor >= 4) &&
                   marked + grown <= L + H / 2;
  /* With concurrent majors (concurrent.c) a minor can be the longer
   * pause: it marks with the world stopped from start to end, a
   * concurrent major only stops twice, briefly.  So while majors would be
   * concurrent (conc_worth: not when the kernel cannot protect the heap,
   * nor for a heap marked in under 2 ms), after a minor that did not pay
   * (its young survived), the retry every fourth major is made only when
   * the major just ended found most young bytes dead (its age sample),
   * and when the next minor's mark would take more than 10 ms and twice
   * the last concurrent major's stops together, as a trial: a minor given
   * only the young room the last minor marked in GEN_TRIAL_NS, so it
   * stops the world briefly whatever it finds; if it pays, minors are
   * back with their whole room.
   * (A minor that failed on its rescans alone, its young dead, is retried
   * as before, a whole minor every sixteenth major: see below.)
   * The pause test's window survives a minor whole (24-53 ms minors at
   * 200 MB live, against stops of 2-4 ms), and its majors find the young
   * messages alive: no minor.  binary-trees' first minor, while it built
   * its long-lived tree, did not pay, nor did the majors after it; the
   * first major after the growth found the young trees dead, and the
   * trial after it paid (without the sample: 16-28 majors instead of 4,
   * 1.2-1.27x the stop-the-world wall time).  A minor that pays stays
   * (one that pays but is long is a choice between pause and throughput
   * left to do). */
  /* The mark judged is the next minor's: the last one's, scaled from
   * the young bytes it had to the room the next one will have (the pause
   * test: a 0.3 ms minor at 4 MB young, tried again at 120 MB young,
   * stopped the world 24 ms), from the start, not once a concurrent major
   * ran: the first concurrent majors' stops are not known yet, but a
   * minor that long is longer than they will be. */
  uint64_t minor_ns = gen.minor_mark_ns;
  if (gen.minor_young > 0 && H > gen.minor_young)
    minor_ns = (uint64_t)((unsigned __int128)minor_ns * H / gen.minor_young);
  uint64_t trial_room = 0; /* the next minor is a trial with this room */
  bool long_minor =
      minor_ns > GEN_CONC_MINOR_NS && minor_ns > 2 * gen.conc_pause_ns;
  if (gen.next_minor && !gen.minor_pays && conc_worth()) {
    if (gen.minor_rescans_too_many) {
      /* Its young died but it rescanned the old data the program writes
       * all over: the age sample says nothing of that, and a trial would
       * rescan as much (the adversarial review: trials of 1 MB young room
       * rescanned 500000 old objects, 24-158 ms, then the full minor
       * after them failed on its rescans).  Retried every sixteenth
       * major, as a whole minor. */
      if (long_minor && gen.majors_since_minor < 16)
        gen.next_minor = false;
    } else if (g->minor || !gen.young_died) {
      /* Its young survived it, and this major found them alive again: a
       * minor would only promote them, however short (the pointer-free
       * pause test retried one every fourth major, 8.8 ms with the world
       * stopped, against final stops under 1 ms). */
      gen.next_minor = false;
    } else if (long_minor) {
      uint64_t room = gen.minor_mark_ns > 0 && gen.minor_young > 0
                          ? (uint64_t)((unsigned __int128)gen.minor_young *
                                       GEN_TRIAL_NS / gen.minor_mark_ns)
                          : 0;
      if (room < GEN_TRIAL_MIN_ROOM)
        room = GEN_TRIAL_MIN_ROOM;
      if (room < H / 2)
        trial_room = room;
    }
  }
  uint64_t goal = gen_goal(gcpercent, min_goal);
  /* A trial minor comes after its room only (never above the goal). */
  if (gen.next_minor && trial_room > 0 && marked + trial_room < goal)
    goal = marked + trial_room;
  /* Under the memory limit, a major once old objects took half the room
   * the limited goal leaves above L. */
  if (gen.next_minor && !memlimit_allows_minor(L, marked + grown)) {
    gen.next_minor = false;
    goal = gen_goal(gcpercent, min_goal);
  }
  /* Once the next collection is decided (rule:written-old-is-listed holds
   * before each minor: the collection before it protects). */
  if (g->listed && !g->minor) { /* after the restart (gen_restarted) */
    unprotect.find = true;
    unprotect.runs = g->runs;
    unprotect.nruns = g->nruns;
  }
  if (g->listed)
    protect_old_pages(g, gen.next_minor);
  return goal;
}

void gen_abandon(void) { gen.next_minor = false; }

void gen_note_span_freed(mspan *s) {
  if (freed_pages == NULL)
    return;
  /* A fiber stack's pages, whatever it held: an old fiber object keeps
   * its stack bounds and saved stack pointer after the stack is gone. */
  bool any = ATOMIC_LOAD_RELAXED(&s->state) == MSPAN_STACK;
  for (uint32_t j = 0; j < BITMAP_WORDS; j++)
    any |= ATOMIC_LOAD_RELAXED(&s->everfreedbits[j]) != 0;
  if (!any)
    return;
  uintptr_t first = (s->base - sgc_heap.arena_start) >> PAGE_SHIFT;
  for (uintptr_t k = first; k < first + s->npages; k++)
    __atomic_fetch_or(&freed_pages[k / 64], (uint64_t)1 << (k % 64),
                      __ATOMIC_RELAXED);
}

bool gen_page_was_freed(uintptr_t p) {
  if (freed_pages == NULL)
    return false;
  uintptr_t k = (p - sgc_heap.arena_start) >> PAGE_SHIFT;
  return (ATOMIC_LOAD_RELAXED(&freed_pages[k / 64]) >> (k % 64)) & 1;
}

/* Any page of s: a large object freed and its pages merged into a run
 * that starts below them is referenced, stale, past the new span's first
 * page. */
bool gen_span_has_freed_pages(const mspan *s) {
  for (uintptr_t p = s->base; p < s->base + s->npages * PAGE_SIZE;
       p += PAGE_SIZE)
    if (gen_page_was_freed(p))
      return true;
  return false;
}

void gen_read_stats(sgc_stats *st) {
  st->num_minor_gc = gen.nminor;
  st->num_major_gc = gen.nmajor;
  st->generational = sgc_sticky;
  dirty_read_stats(st);
}
