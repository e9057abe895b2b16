/*
 * scavenger.c — giving free pages back to the OS, and the figures of the
 * free pages.
 *
 * A page is released (os_release: MADV_DONTNEED) while it stays in its
 * free span; it reads back as zero, so a span whose pages are all
 * released loses needzero, and npreleased and mheap.pages_released count
 * the released pages.  When each free page became free is in
 * mheap.freetime (mheap.c sets it as a span is freed; 0 once released).
 * Pages go back in three ways, always in maximal runs:
 *   - the scavenger thread (scavenger_main), every scavenge_delay/2:
 *     every page free for scavenge_delay, by its own time, whatever was
 *     freed next to it since (mheap_scavenge); a span's unusedsince, a
 *     lower bound on its pages' times, lets the pass skip spans with
 *     nothing old enough.  After a collection that left far more pages
 *     than the next cycle needs, memlimit.c wakes it sooner and the excess
 *     goes back in batches, highest addresses first
 *     (mheap_scavenge_down_to);
 *   - sgc_release_memory: every free page, at once;
 *   - an allocation that made the heap hold more under a memory limit
 *     (mheap.c's release_for_limit_locked calls
 *     mheap_scavenge_down_to_locked).
 * The arena figures of sgc_stats (free runs, free pages by idle time) and
 * gctrace's heap line are read here too.
 *
 * Locks: every walk of the free structures, freetime and the page
 * counters runs under mheap.lock (rank: lockrank.h); the kernel's release
 * of a span's pages runs without it, the span taken out of the free
 * structures meanwhile (below, "Releasing without the lock"), except for
 * an allocation's release under a memory limit.  The scavenger thread is
 * not registered (it touches no object and takes no part in stops); its
 * sleep and the prompt release's target are memlimit.c's, under ml.lock.
 * Started by sgc_init, it first makes the collector's other threads
 * (gc_start_background), so that no allocation pays for them.
 * scavenger_started is written at initialisation and in a fork child.
 */
#include <stdio.h>
#include <sys/uio.h>
#include <time.h>

#include "spangc-int.h"

/* ------------------------------------------------------------- scavenger */

/* Releasing without the lock.  madvise of a run of free pages takes about
 * 1 ms per 16 MiB here (every page table entry cleared, the TLBs flushed);
 * done under mheap.lock it held up every thread that wanted a span
 * meanwhile: the pause test's pushes waited 1-3.5 ms on the lock while the
 * scavenger thread released 10-16 MiB runs (strace of session 23).  So a
 * pass chooses, under the lock, the runs of one free span to release, and
 * counts them released at once (freetime 0, npreleased, needzero,
 * pages_released), takes the span out of the free structures
 * (mheap_free_take_locked: no allocation can be given its pages, no
 * neighbour freed meanwhile merges with it), drops the lock, releases the
 * runs, and takes the lock again to put the span back, merged with the
 * free neighbours it has by then.  One span at a time (mheap.scavenging);
 * the pass then looks for the next span from where it was, by address:
 * the treap may have changed.  The verifier waits for a span out
 * (sgc_heap_verify); a fork child releases the runs again, since the
 * parent's calls may not have run before the fork (scavenge_atfork_child).
 * Under a memory limit an allocation releases with the lock held
 * (mheap_scavenge_down_to_locked): it waits for that memory anyway. */

#define RELEASE_RUNS 64
/* And at most this many pages, so a span is out for about 1 ms at most:
 * an allocation that finds no other free run waits for it (mheap.c
 * alloc_span_locked), inside its no-preempt region, which a stop waits
 * for.  A span with more to release is looked at again. */
#define RELEASE_PAGES (((uintptr_t)16 << 20) / PAGE_SIZE)
/* A batch this small is released with the lock held: a few pages cost
 * microseconds, and taking the span out and back costs two more lock
 * round trips (the shrink test, thousands of small free runs, fell
 * behind its allocation with every run released unlocked). */
#define RELEASE_UNLOCKED_MIN ((uintptr_t)256 << 10)

typedef struct release_batch {
  mspan *s;
  uint32_t n;
  bool full; /* RELEASE_RUNS runs or RELEASE_PAGES pages: the span has more */
  uintptr_t stop; /* a full batch: the address its walk of the span reached */
  struct iovec run[RELEASE_RUNS];
} release_batch;

static void batch_add(release_batch *b, mspan *s, uintptr_t i, uintptr_t j) {
  b->run[b->n].iov_base = (void *)(s->base + i * PAGE_SIZE);
  b->run[b->n].iov_len = (j - i) * PAGE_SIZE;
  b->n++;
}

/* The counters, for released pages of span s, as the batch is chosen. */
static void count_released(mheap *h, mspan *s, uintptr_t released) {
  s->npreleased += released;
  SGC_ASSERT(s->npreleased <= s->npages);
  if (s->npreleased == s->npages)
    s->needzero = 0; /* MADV_DONTNEED pages read back as zero */
  ATOMIC_STORE_RELAXED(&h->pages_released, h->pages_released + released);
  h->released_total += released * PAGE_SIZE;
}

/* Small batches of one pass, gathered across spans and released under
 * the lock in one call (os_release_runs): a heap of small free runs
 * between live objects (the shrink run: 900 MB in 72 KiB runs) was
 * released one madvise per span, each ending with a TLB flush of every
 * CPU running the program (80-90 us here), 0.9 s with mheap.lock held
 * across the whole pass meanwhile; now a call per OS_RUNS runs.  The
 * pages were counted released when chosen and mheap.lock stays held until
 * the call, so no allocation can be given them before they are gone: the
 * set is flushed before any point where a pass drops the lock, and is
 * empty whenever mheap.lock is free.  So one set serves every pass, under
 * mheap.lock (not on the caller's stack: an allocation under a memory
 * limit releases on a fiber's stack, 16 KiB at least). */
static os_runs pending SGC_NOGC; /* mheap.lock */

/* Release the batch's runs: under the lock if 'locked' or the batch is
 * small (gathered in pending then), else without it (the span out of the
 * free structures meanwhile, its runs in one call).  mheap.lock held on
 * entry and on return. */
static void release_batch_runs(mheap *h, release_batch *b, bool locked) {
  if (b->n == 0)
    return;
  uintptr_t bytes = 0;
  for (uint32_t k = 0; k < b->n; k++)
    bytes += b->run[k].iov_len;
  if (locked || bytes < RELEASE_UNLOCKED_MIN) {
    for (uint32_t k = 0; k < b->n; k++)
      os_runs_add(&pending, (uintptr_t)b->run[k].iov_base,
                  b->run[k].iov_len);
    return;
  }
  os_runs_flush(&pending);
  mheap_free_take_locked(b->s);
  sgc_unlock(&h->lock);
  test_hook_run(&sgc_test_scavenge_hook);
  os_release_runs(b->run, b->n);
  sgc_lock(&h->lock);
  mheap_free_put_back_locked(b->s);
  /* Allocations waiting for the span (mheap.c alloc_span_locked) take it
   * before this pass takes it out again for its next batch: without
   * this, a span of 2 GiB released 16 MiB at a time was out nearly all
   * the time, and 4 MiB allocations beside it grew the arena 12 times
   * (to 3990 MiB).  No deadline: with 1 ms, a waiter not scheduled in
   * time under load (the ASan suite beside another) saw the span go out
   * again for each of its batches (906 ms for 12 MiB in a 48 MiB span).
   * The wait ends: no thread starts waiting while no span is out, and
   * each one waiting only needs the lock to see the put and leave.  It
   * sleeps (mheap.scavenge_cond) rather than yields: a releaser at
   * real-time priority yielding to a waiter on its CPU never let it run
   * (helper-73: 1050 ms, until the kernel's real-time throttling). */
  while (h->scavenge_waiters > 0)
    mheap_scavenge_wait_locked();
}

void mheap_scavenge_wait_locked(void) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  sgc_cond_wait(&h->scavenge_cond, &h->lock);
}

/* One span out at a time: a second pass (sgc_release_memory beside the
 * scavenger thread) waits for the first's to be back before it chooses,
 * and so does the verifier.  mheap.lock held on entry and on return. */
void mheap_wait_none_out_locked(void) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  while (h->scavenging != NULL)
    mheap_scavenge_wait_locked();
}

/* Freed at t, idle for at least older_than at now?  A page freed after
 * now (a pass reads the clock once and drops mheap.lock around each
 * release: pages freed meanwhile carry later times) has been idle for no
 * time; the unsigned difference would wrap to a huge idle time.  With
 * older_than 0 (sgc_release_memory: everything free) any free page is. */
static inline bool idle_since(uint64_t t, uint64_t now, uint64_t older_than) {
  return older_than == 0 || (t <= now && now - t >= older_than);
}

/* Choose the pages of free span s idle for at least older_than ns (each
 * by its own freetime), in maximal runs, from page 'start' up, at most
 * RELEASE_RUNS of them and RELEASE_PAGES pages.  Returns the pages
 * chosen.  A full batch ends its walk there (b->stop): the pass goes on
 * from that page (unless a lower neighbour merged into the span
 * meanwhile: its pages lie below, helper-74), not from the span's base
 * again, which made releasing a free span of G GiB quadratic once
 * batches were capped at 16 MiB (helper-73: 1.3 s for 16 GiB, 12 s for
 * 48 GiB, every batch walking the whole span's free times under
 * mheap.lock).  Only a walk of the whole span knows its oldest
 * unreleased page; a partial one leaves unusedsince as it was, still a
 * lower bound. */
static uintptr_t choose_idle(mheap *h, mspan *s, uintptr_t start,
                             uint64_t now, uint64_t older_than,
                             release_batch *b) {
  uint64_t *ft = &h->freetime[page_index(h, s->base)];
  uint64_t oldest = UINT64_MAX; /* of the pages that stay unreleased */
  uintptr_t released = 0;
  b->s = s;
  b->n = 0;
  b->full = false;
  uintptr_t i = start;
  while (i < s->npages && !b->full) {
    if (ft[i] == 0 || !idle_since(ft[i], now, older_than)) {
      if (ft[i] != 0 && ft[i] < oldest)
        oldest = ft[i];
      i++;
      continue;
    }
    uintptr_t j = i;
    while (j < s->npages && ft[j] != 0 && idle_since(ft[j], now, older_than) &&
           released + (j - i) < RELEASE_PAGES)
      ft[j++] = 0;
    batch_add(b, s, i, j);
    released += j - i;
    b->full = b->n == RELEASE_RUNS || released == RELEASE_PAGES;
    i = j;
  }
  b->stop = s->base + i * PAGE_SIZE;
  h->scavenge_walked += i - start;
  count_released(h, s, released);
  if (start == 0 && i == s->npages && s->npreleased != s->npages)
    s->unusedsince = oldest;
  return released;
}

static bool has_idle(const mspan *s, uint64_t now, uint64_t older_than) {
  return s->npreleased != s->npages &&
         idle_since(s->unusedsince, now, older_than);
}

/* The free span of lowest base >= from with pages idle for older_than. */
static mspan *first_idle_from(mspan *t, uintptr_t from, uint64_t now,
                              uint64_t older_than) {
  while (t != NULL) {
    if (t->base < from) {
      t = t->tright;
      continue;
    }
    mspan *l = first_idle_from(t->tleft, from, now, older_than);
    if (l != NULL)
      return l;
    if (has_idle(t, now, older_than))
      return t;
    from = t->base + 1;
    t = t->tright;
  }
  return NULL;
}

/* Release the free pages unused for at least older_than ns, span by span
 * in address order, each without the lock held. */
size_t mheap_scavenge(uint64_t older_than) {
  mheap *h = &sgc_heap;
  release_batch b;
  size_t released = 0;
  uintptr_t from = 0, resume = 0, resume_base = 0;
  sgc_lock(&h->lock);
  SGC_ASSERT(pending.n == 0);
  uint64_t now = os_nanotime();
  for (;;) {
    if (h->scavenging != NULL) {
      os_runs_flush(&pending); /* the wait drops the lock */
      mheap_wait_none_out_locked();
    }
    mspan *s = first_idle_from(h->freetree, from, now, older_than);
    if (s == NULL)
      break;
    uintptr_t base = s->base, end = s->base + s->npages * PAGE_SIZE;
    /* From where the last full batch stopped, if the span still starts
     * where it did: a lower neighbour merged into it meanwhile has pages
     * below that point, which the pass would never come back to. */
    uintptr_t start = resume > base && resume < end && base == resume_base
                          ? (resume - base) / PAGE_SIZE
                          : 0;
    uintptr_t n = choose_idle(h, s, start, now, older_than, &b);
    released += n * PAGE_SIZE;
    release_batch_runs(h, &b, false);
    /* A span with more runs than a batch holds is looked at again, as
     * part of the span it is in now (it may have merged with a neighbour
     * freed meanwhile), from the page where the batch stopped. */
    resume = b.full ? b.stop : 0;
    resume_base = base;
    from = b.full ? h->spans[page_index(h, base)]->base : end;
  }
  os_runs_flush(&pending);
  sgc_unlock(&h->lock);
  return released;
}

/* Choose free pages free since before 'before' (any: UINT64_MAX),
 * highest addresses first, from page 'top' of span s down, at most 'want'
 * pages in at most RELEASE_RUNS runs.  Returns the pages chosen; a full
 * batch's walk stopped at b->stop (where the next one starts: see
 * choose_idle).  The span's unusedsince stays a lower bound on its
 * unreleased pages' times. */
static uintptr_t choose_top(mheap *h, mspan *s, uintptr_t top,
                            uintptr_t want, uint64_t before,
                            release_batch *b) {
  uint64_t *ft = &h->freetime[page_index(h, s->base)];
  uintptr_t released = 0;
  b->s = s;
  b->n = 0;
  b->full = false;
  if (want > RELEASE_PAGES)
    want = RELEASE_PAGES;
  uintptr_t j = top;
  while (j > 0 && released < want && !b->full) {
    if (ft[j - 1] == 0 || ft[j - 1] >= before) {
      j--;
      continue;
    }
    uintptr_t i = j;
    while (i > 0 && ft[i - 1] != 0 && ft[i - 1] < before &&
           released + (j - i) < want)
      ft[--i] = 0;
    batch_add(b, s, i, j);
    released += j - i;
    b->full = b->n == RELEASE_RUNS || released == RELEASE_PAGES;
    j = i;
  }
  b->stop = s->base + j * PAGE_SIZE;
  h->scavenge_walked += top - j;
  count_released(h, s, released);
  return released;
}

/* The free span of highest base < below with unreleased pages. */
static mspan *last_unreleased_below(mspan *t, uintptr_t below) {
  while (t != NULL) {
    if (t->base >= below) {
      t = t->tleft;
      continue;
    }
    mspan *r = last_unreleased_below(t->tright, below);
    if (r != NULL)
      return r;
    if (t->npreleased < t->npages)
      return t;
    below = t->base;
    t = t->tleft;
  }
  return NULL;
}

/* Release free pages idle for at least min_idle ns (highest addresses
 * first) until the committed arena minus the released pages is at most
 * 'keep' bytes, at most 'batch' bytes.  mheap.lock held on entry and on
 * return; dropped around each span's release unless 'locked'.  Returns
 * the bytes released. */
static size_t scavenge_down_to(uint64_t keep, size_t batch,
                               uint64_t min_idle, bool locked) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  uint64_t now = os_nanotime();
  uint64_t before = min_idle == 0 ? UINT64_MAX
                    : now > min_idle ? now - min_idle : 0;
  release_batch b;
  SGC_ASSERT(pending.n == 0);
  size_t released = 0;
  uintptr_t below = UINTPTR_MAX, resume = 0, resume_end = 0;
  while (released < batch) {
    if (h->pages_free == h->pages_released)
      break;
    uint64_t retained = h->sys_heap - h->pages_released * PAGE_SIZE;
    if (retained <= keep)
      break;
    uint64_t want = (retained - keep + PAGE_SIZE - 1) / PAGE_SIZE;
    if (want > (batch - released) / PAGE_SIZE)
      want = (batch - released) / PAGE_SIZE;
    if (want == 0)
      break;
    if (!locked && h->scavenging != NULL) {
      os_runs_flush(&pending); /* the wait drops the lock */
      mheap_wait_none_out_locked();
    }
    mspan *s = last_unreleased_below(h->freetree, below);
    if (s == NULL)
      break;
    uintptr_t base = s->base, end = s->base + s->npages * PAGE_SIZE;
    /* From where the last full batch stopped, if the span still ends
     * where it did (an upper neighbour merged in meanwhile: see
     * mheap_scavenge). */
    uintptr_t top = resume > base && resume < end && end == resume_end
                        ? (resume - base) / PAGE_SIZE
                        : s->npages;
    uintptr_t n = choose_top(h, s, top, (uintptr_t)want, before, &b);
    released += n * PAGE_SIZE;
    release_batch_runs(h, &b, locked);
    /* A full batch leaves the span's lower pages to the next round, from
     * where it stopped; else the span is done, whatever it merged with
     * meanwhile. */
    resume = b.full ? b.stop : 0;
    resume_end = end;
    if (!b.full)
      below = base;
  }
  os_runs_flush(&pending);
  return released;
}

size_t mheap_scavenge_down_to_locked(uint64_t keep, size_t batch,
                                     uint64_t min_idle) {
  SGC_ASSERT_HELD(&sgc_heap.lock);
  return scavenge_down_to(keep, batch, min_idle, true);
}

size_t mheap_scavenge_down_to(uint64_t keep, size_t batch,
                              uint64_t min_idle) {
  mheap *h = &sgc_heap;
  sgc_lock(&h->lock);
  size_t n = scavenge_down_to(keep, batch, min_idle, false);
  sgc_unlock(&h->lock);
  return n;
}

/* A fork child of a process whose scavenger had a span out: the span goes
 * back, its chosen pages released again (the parent's calls may not have
 * run before the fork: the child's copies would hold stale bytes in pages
 * counted as zero).  mheap.lock held. */
void scavenge_atfork_child(void) {
  mheap *h = &sgc_heap;
  h->scavenge_waiters = 0; /* the parent's waiting threads are not here */
  pthread_cond_init(&h->scavenge_cond, NULL); /* nor their sleeps */
  mspan *s = h->scavenging;
  if (s == NULL)
    return;
  const uint64_t *ft = &h->freetime[page_index(h, s->base)];
  for (uintptr_t i = 0; i < s->npages;) {
    if (ft[i] != 0) {
      i++;
      continue;
    }
    uintptr_t j = i;
    while (j < s->npages && ft[j] == 0)
      j++;
    os_release((void *)(s->base + i * PAGE_SIZE), (j - i) * PAGE_SIZE);
    i = j;
  }
  mheap_free_put_back_locked(s);
}

/* Every scavenge_delay/2, the pages idle for scavenge_delay go back; after
 * a collection that left far more pages than the next cycle needs,
 * memlimit.c wakes the thread sooner and the excess goes back in batches
 * (memlimit_scavenge_promptly). */
static bool make_threads_ahead; /* written before the scavenger starts */

static void *scavenger_main(void *arg) {
  mheap *h = arg;
  /* First, once spangc has started (sgc_init made this thread before it
   * was done), the collector's other threads (gc_start_background).  Not
   * in a fork child: one that execs at once would make them for nothing;
   * its first collection makes them. */
  if (make_threads_ahead) {
    while (!ATOMIC_LOAD(&sgc_initialised)) {
      struct timespec ts = {0, 20000}; /* 20 us: sgc_init is ending */
      nanosleep(&ts, NULL);
    }
    gc_start_background();
  }
  uint64_t last = os_nanotime();
  for (;;) {
    memlimit_scavenger_sleep(h->scavenge_delay_ns / 2);
    memlimit_scavenge_promptly();
    /* The idle-time pass walks every free run: every delay/2 still, not
     * at each of the prompt release's polls. */
    uint64_t now = os_nanotime();
    if (now - last >= h->scavenge_delay_ns / 2) {
      /* Spans parked for their classes that no refill took for a whole
       * delay (a program that stopped allocating) become free pages,
       * released by a later pass (rule:parked-spans-bounded). */
      if (sweep_parked_pages() != 0 && now > h->scavenge_delay_ns) {
        mcache *c = nopreempt_enter_any();
        mcentral_unpark(now - h->scavenge_delay_ns, UINT64_MAX);
        nopreempt_leave_any(c);
      }
      mheap_scavenge(h->scavenge_delay_ns);
      last = os_nanotime();
    }
  }
  return NULL;
}

void scavenger_start(bool at_init) {
  mheap *h = &sgc_heap;
  if (h->scavenge_delay_ns == 0 || h->scavenger_started)
    return;
  make_threads_ahead = at_init;
  /* Not registered: it takes no part in stops.  A small stack. */
  int err = os_start_detached(scavenger_main, h, 64 << 10, "spangc-scavenge");
  if (err == 0)
    h->scavenger_started = true;
  else
    sgc_warn("cannot start the scavenger thread (%s); free pages are "
             "returned to the OS only by sgc_release_memory()",
             strerror(err));
}

size_t sgc_release_memory(void) {
  sgc_ensure_init();
  /* mheap.lock is taken inside a no-preempt region (an outsider's on an
   * unregistered thread): a registered caller stopped while holding it
   * hung the collection that waited for a thread blocked on the lock
   * (rule:no-stop-holding-lock). */
  mcache *c = nopreempt_enter_any();
  mcentral_unpark_all(); /* their pages are free pages to the caller */
  size_t n = mheap_scavenge(0);
  nopreempt_leave_any(c);
  return n;
}

/* ------------------------------------------------------------ statistics */

/* One free span's share of the arena figures: its unreleased pages by
 * their own idle time. */
static void free_span_figures(mheap *h, const mspan *s, uint64_t now,
                              sgc_stats *st) {
  uint64_t young = h->scavenge_delay_ns && h->scavenge_delay_ns < 1000000000u
                       ? h->scavenge_delay_ns
                       : 1000000000u;
  st->free_runs++;
  if (s->npages * PAGE_SIZE > st->free_largest_run_bytes)
    st->free_largest_run_bytes = s->npages * PAGE_SIZE;
  if (s->npreleased == s->npages)
    return;
  const uint64_t *ft = &h->freetime[page_index(h, s->base)];
  for (uintptr_t i = 0; i < s->npages; i++) {
    if (ft[i] == 0)
      continue;
    uint64_t idle = now > ft[i] ? now - ft[i] : 0;
    if (idle < young)
      st->free_young_bytes += PAGE_SIZE;
    else if (h->scavenge_delay_ns == 0 || idle < h->scavenge_delay_ns)
      st->free_idle_bytes += PAGE_SIZE;
    else
      st->free_old_bytes += PAGE_SIZE;
  }
}

static void free_treap_figures(mheap *h, const mspan *t, uint64_t now,
                               sgc_stats *st) {
  for (; t != NULL; t = t->tright) {
    free_span_figures(h, t, now, st);
    free_treap_figures(h, t->tleft, now, st);
  }
}

void mheap_read_arena_stats(sgc_stats *st) {
  mheap *h = &sgc_heap;
  sgc_lock(&h->lock);
  uint64_t now = os_nanotime();
  st->arena_committed_bytes = h->arena_used - h->arena_start;
  st->arena_grows = h->ngrow;
  st->peak_span_bytes = h->pages_peak * PAGE_SIZE;
  st->released_total_bytes = h->released_total;
  st->scavenge_period_ns = h->scavenger_started ? h->scavenge_delay_ns : 0;
  free_treap_figures(h, h->freetree, now, st);
  if (h->scavenging != NULL)
    free_span_figures(h, h->scavenging, now, st);
  sgc_unlock(&h->lock);
}

void mheap_trace(uint64_t numgc) {
  mheap *h = &sgc_heap;
  sgc_stats st; /* the arena's fields only */
  memset(&st, 0, sizeof st);
  mheap_read_arena_stats(&st);
  fiber_pool_figures(&st.stack_pool_bytes, &st.stack_pool_free_bytes);
  sgc_lock(&h->lock);
  double inuse = (double)(h->pages_inuse * PAGE_SIZE) / 1048576.0;
  double stack = (double)(h->pages_stack * PAGE_SIZE) / 1048576.0;
  double freeb = (double)(h->pages_free * PAGE_SIZE) / 1048576.0;
  double rel = (double)(h->pages_released * PAGE_SIZE) / 1048576.0;
  sgc_unlock(&h->lock);
  const double mb = 1048576.0;
  char buf[512];
  int n = snprintf(
      buf, sizeof buf,
      "heap %llu: arena %.1f MB committed (%llu grows); spans %.1f MB in use "
      "(%.1f MB parked) + %.1f MB stacks (peak %.1f MB); free %.1f MB in "
      "%llu runs, largest "
      "%.2f MB; idle <1s %.1f, <%.1fs %.1f, older %.1f MB; released %.1f MB "
      "(%.1f MB ever); stack pools %.1f MB, %.1f MB unused\n",
      (unsigned long long)numgc, st.arena_committed_bytes / mb,
      (unsigned long long)st.arena_grows, inuse,
      (double)(sweep_parked_pages() * PAGE_SIZE) / mb, stack,
      st.peak_span_bytes / mb, freeb, (unsigned long long)st.free_runs,
      st.free_largest_run_bytes / mb, st.free_young_bytes / mb,
      h->scavenge_delay_ns / 1e9, st.free_idle_bytes / mb,
      st.free_old_bytes / mb, rel, st.released_total_bytes / mb,
      st.stack_pool_bytes / mb, st.stack_pool_free_bytes / mb);
  if (n > (int)sizeof buf - 1)
    n = (int)sizeof buf - 1;
  sgc_write_all(2, buf, (size_t)n);
}
