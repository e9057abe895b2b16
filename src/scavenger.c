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
 * counters runs under mheap.lock (rank: lockrank.h), taken per pass or per
 * batch, so allocations go on between batches.  The scavenger thread is
 * not registered (it touches no object and takes no part in stops); its
 * sleep and the prompt release's target are memlimit.c's, under ml.lock.
 * scavenger_started is written at initialisation and in a fork child.
 */
#include <stdio.h>

#include "spangc-int.h"

/* ------------------------------------------------------------- scavenger */

/* Release the pages of free span s that have been free for at least
 * older_than ns (each by its own freetime), in maximal runs.  Returns
 * the bytes released. */
static size_t scavenge_span(mheap *h, mspan *s, uint64_t now,
                            uint64_t older_than) {
  if (s->npreleased == s->npages || now - s->unusedsince < older_than)
    return 0;
  uint64_t *ft = &h->freetime[page_index(h, s->base)];
  uint64_t oldest = UINT64_MAX; /* of the pages that stay unreleased */
  uintptr_t released = 0;
  for (uintptr_t i = 0; i < s->npages;) {
    if (ft[i] == 0 || now - ft[i] < older_than) {
      if (ft[i] != 0 && ft[i] < oldest)
        oldest = ft[i];
      i++;
      continue;
    }
    uintptr_t j = i;
    while (j < s->npages && ft[j] != 0 && now - ft[j] >= older_than)
      ft[j++] = 0;
    os_release((void *)(s->base + i * PAGE_SIZE), (j - i) * PAGE_SIZE);
    released += j - i;
    i = j;
  }
  s->npreleased += released;
  SGC_ASSERT(s->npreleased <= s->npages);
  if (s->npreleased == s->npages)
    s->needzero = 0; /* MADV_DONTNEED pages read back as zero */
  else
    s->unusedsince = oldest;
  ATOMIC_STORE_RELAXED(&h->pages_released, h->pages_released + released);
  h->released_total += released * PAGE_SIZE;
  return released * PAGE_SIZE;
}

static size_t scavenge_treap(mheap *h, mspan *t, uint64_t now,
                             uint64_t older_than) {
  size_t n = 0;
  for (; t != NULL; t = t->tright)
    n += scavenge_span(h, t, now, older_than) +
         scavenge_treap(h, t->tleft, now, older_than);
  return n;
}

/* Release the free pages unused for at least older_than ns. */
size_t mheap_scavenge(uint64_t older_than) {
  mheap *h = &sgc_heap;
  sgc_lock(&h->lock);
  uint64_t now = os_nanotime();
  size_t released = scavenge_treap(h, h->freetree, now, older_than);
  sgc_unlock(&h->lock);
  return released;
}

/* Release free pages free since before 'before' (any: UINT64_MAX),
 * highest addresses first, from the top of span s down, at most 'want'
 * pages.  Returns the pages released.  The span's unusedsince stays a
 * lower bound on its unreleased pages' times. */
static uintptr_t release_span_top(mheap *h, mspan *s, uintptr_t want,
                                  uint64_t before) {
  uint64_t *ft = &h->freetime[page_index(h, s->base)];
  uintptr_t released = 0;
  for (uintptr_t j = s->npages; j > 0 && released < want;) {
    if (ft[j - 1] == 0 || ft[j - 1] >= before) {
      j--;
      continue;
    }
    uintptr_t i = j;
    while (i > 0 && ft[i - 1] != 0 && ft[i - 1] < before &&
           released + (j - i) < want)
      ft[--i] = 0;
    os_release((void *)(s->base + i * PAGE_SIZE), (j - i) * PAGE_SIZE);
    released += j - i;
    j = i;
  }
  s->npreleased += released;
  SGC_ASSERT(s->npreleased <= s->npages);
  if (s->npreleased == s->npages)
    s->needzero = 0;
  ATOMIC_STORE_RELAXED(&h->pages_released, h->pages_released + released);
  h->released_total += released * PAGE_SIZE;
  return released;
}

static uintptr_t release_treap_top(mheap *h, mspan *t, uintptr_t want,
                                   uint64_t before) {
  uintptr_t n = 0;
  for (; t != NULL && n < want; t = t->tleft) {
    n += release_treap_top(h, t->tright, want - n, before);
    if (n < want && t->npreleased < t->npages)
      n += release_span_top(h, t, want - n, before);
  }
  return n;
}

/* Release free pages idle for at least min_idle ns (highest addresses
 * first) until the committed arena minus the released pages is at most
 * 'keep' bytes, at most 'batch' bytes.  mheap.lock held.  Returns the
 * bytes released. */
size_t mheap_scavenge_down_to_locked(uint64_t keep, size_t batch,
                                     uint64_t min_idle) {
  mheap *h = &sgc_heap;
  SGC_ASSERT_HELD(&h->lock);
  if (h->pages_free == h->pages_released)
    return 0;
  uint64_t retained = h->sys_heap - h->pages_released * PAGE_SIZE;
  if (retained <= keep)
    return 0;
  uint64_t want = (retained - keep + PAGE_SIZE - 1) / PAGE_SIZE;
  if (want > batch / PAGE_SIZE)
    want = batch / PAGE_SIZE;
  uint64_t now = os_nanotime();
  uint64_t before = min_idle == 0 ? UINT64_MAX
                    : now > min_idle ? now - min_idle : 0;
  return release_treap_top(h, h->freetree, (uintptr_t)want, before) *
         PAGE_SIZE;
}

size_t mheap_scavenge_down_to(uint64_t keep, size_t batch,
                              uint64_t min_idle) {
  mheap *h = &sgc_heap;
  sgc_lock(&h->lock);
  size_t n = mheap_scavenge_down_to_locked(keep, batch, min_idle);
  sgc_unlock(&h->lock);
  return n;
}

/* Every scavenge_delay/2, the pages idle for scavenge_delay go back; after
 * a collection that left far more pages than the next cycle needs,
 * memlimit.c wakes the thread sooner and the excess goes back in batches
 * (memlimit_scavenge_promptly). */
static void *scavenger_main(void *arg) {
  mheap *h = arg;
  uint64_t last = os_nanotime();
  for (;;) {
    memlimit_scavenger_sleep(h->scavenge_delay_ns / 2);
    memlimit_scavenge_promptly();
    /* The idle-time pass walks every free run: every delay/2 still, not
     * at each of the prompt release's polls. */
    uint64_t now = os_nanotime();
    if (now - last >= h->scavenge_delay_ns / 2) {
      mheap_scavenge(h->scavenge_delay_ns);
      last = os_nanotime();
    }
  }
  return NULL;
}

void scavenger_start(void) {
  mheap *h = &sgc_heap;
  if (h->scavenge_delay_ns == 0 || h->scavenger_started)
    return;
  /* Not registered: it takes no part in stops.  A small stack. */
  int err = os_start_detached(scavenger_main, h, 64 << 10);
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
    uint64_t idle = now - ft[i];
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
      "+ %.1f MB stacks (peak %.1f MB); free %.1f MB in %llu runs, largest "
      "%.2f MB; idle <1s %.1f, <%.1fs %.1f, older %.1f MB; released %.1f MB "
      "(%.1f MB ever); stack pools %.1f MB, %.1f MB unused\n",
      (unsigned long long)numgc, st.arena_committed_bytes / mb,
      (unsigned long long)st.arena_grows, inuse, stack,
      st.peak_span_bytes / mb, freeb, (unsigned long long)st.free_runs,
      st.free_largest_run_bytes / mb, st.free_young_bytes / mb,
      h->scavenge_delay_ns / 1e9, st.free_idle_bytes / mb,
      st.free_old_bytes / mb, rel, st.released_total_bytes / mb,
      st.stack_pool_bytes / mb, st.stack_pool_free_bytes / mb);
  if (n > (int)sizeof buf - 1)
    n = (int)sizeof buf - 1;
  sgc_write_all(2, buf, (size_t)n);
}
