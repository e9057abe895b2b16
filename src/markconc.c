/*
 * markconc.c — the mark's concurrent side (SPANGC_CONCURRENT=1): the
 * initial stop's root marking, the concurrent drain on the collector
 * thread, and the assists of allocating threads that the pacing holds
 * back (concurrent.c decides when; collect.c sequences the stops; the
 * pre-cleaning's rescans are markroot.c's).
 *
 * Threads: mark_roots_only runs in the initial stop; mark_concurrent on
 * the collector thread with the world running (work.nproc 1), while
 * mutators may enter mark_assist.  work.assist_open says whether assists
 * may start, work.nassist counts those under way: the drain closes
 * assists and waits for the count to fall to 0 before it ends
 * (rule:assists-end-before-the-stop).  An assist at the goal that finds
 * no shared buffer sets work.hungry, and the collector's next push hands
 * it half of its own (rule:assist-asks-for-work).  The buffers are
 * markwork.c's (work.lock); the assists' figures are atomic.
 */
#include <sched.h>

#include "mark-int.h"

/* The initial stop (concurrent.c): n markers run the root jobs; what
 * they marked waits in full buffers for the concurrent phase. */
void mark_roots_only(int n, mark_result *res) {
  ATOMIC_STORE(&work.progress, 0);
  work.roots_only = true;
  mark_run_markers(n, res);
  work.roots_only = false;
}

uint64_t mark_progress(void) { return ATOMIC_LOAD_RELAXED(&work.progress); }

bool mark_precleaning(void) { return ATOMIC_LOAD_RELAXED(&work.pc_n) != 0; }

void assists_open(void) { ATOMIC_STORE(&work.assist_open, 1); }

void assists_close(void) {
  if (!ATOMIC_LOAD(&work.assist_open))
    return;
  ATOMIC_STORE(&work.assist_open, 0);
  unsigned n = 0;
  while (ATOMIC_LOAD(&work.nassist) != 0)
    os_wait_step(&n);
  /* No assist is left to want work (rule:assist-asks-for-work): no
   * handoff in the final stop or the marks after, for the concurrent
   * drain's closing as for a pre-cleaning round's. */
  ATOMIC_STORE_RELAXED(&work.hungry, 0);
}

/* The concurrent phase, the world running: this thread drains the
 * buffers, with the assists of threads that reached the goal; mark
 * procedures are deferred (call_proc).  The drain ends when this thread
 * finds no buffer; then assists are closed, the ones under way waited for
 * (they give their buffers back), and what they gave drained
 * (rule:assists-end-before-the-stop). */
void mark_concurrent(mark_result *res) {
  work.concurrent = true;
  work.nproc = 1;
  ATOMIC_STORE(&work.jobidx, work.njobs);
  ATOMIC_STORE(&work.assist_marked, 0);
  ATOMIC_STORE(&work.assist_noscan, 0);
  ATOMIC_STORE(&work.assist_nobj, 0);
  ATOMIC_STORE(&work.assist_ns, 0);
  ATOMIC_STORE(&work.nassists, 0);
  ATOMIC_STORE_RELAXED(&work.nwait, 0);
  ATOMIC_STORE_RELAXED(&work.done, 0);
  ATOMIC_STORE_RELAXED(&work.hungry, 0);
  /* Open after the plain writes above: an assist's putfull reads nwait. */
  assists_open();
  test_hook_run(&sgc_test_conc_phase_hook);
  for (;;) {
    mark_worker(res);
    assists_close();
    if (ATOMIC_LOAD(&work.full) == NULL)
      break;
    ATOMIC_STORE_RELAXED(&work.nwait, 0); /* no assist runs now */
    ATOMIC_STORE_RELAXED(&work.done, 0);
  }
  mark_take_assists(res);
  work.concurrent = false;
  /* A push that found no buffer left a marked object unscanned, which
   * the final stop's mark (from marks) would not find. */
  if (ATOMIC_LOAD(&work.overflow))
    ATOMIC_STORE(&work.remark_all, 1);
}

/* mark_assist's scanning, exempt from ThreadSanitizer as the markers'
 * is; never inlined into mark_assist, whose entry and exit (nassist) the
 * sanitizer must see: they order the assist's last touch of the shared
 * work (putfull reads nwait) before the drain's resetting it once
 * assists_close saw no assist left (uninstrumented, that decrement hid
 * the order and TSan reported a race there: the adversarial review). */
SCAN_NO_SANITIZE __attribute__((noinline)) static uint64_t
assist_scan(uint64_t budget, bool ask) {
  uint64_t t0 = os_nanotime();
  gcwork w = {0};
  uint64_t scanned = 0;
  while (scanned < budget) {
    if (w.wbuf == NULL || w.wbuf->n == 0) {
      /* The pre-cleaning's slices first: they hold its work, and the
       * buffers fill from them. */
      uint64_t r = preclean_assist(&w);
      if (r) {
        scanned += r;
        continue;
      }
      if (w.wbuf)
        putempty(w.wbuf);
      w.wbuf = trygetfull();
      if (w.wbuf == NULL) {
        if (ask)
          ATOMIC_STORE_RELAXED(&work.hungry, 1); /* see try_push */
        break;
      }
    }
    workbuf *b = w.wbuf;
    b->n--;
    uintptr_t lo = b->item[b->n].lo, hi = b->item[b->n].hi;
    if (!(lo & ITEM_DESCR) && hi - lo > SCAN_CHUNK &&
        try_push(&w, lo + SCAN_CHUNK, hi))
      hi = lo + SCAN_CHUNK;
    mark_scan_item(&w, lo, hi);
    scanned += (lo & ITEM_DESCR) ? sizeof(uintptr_t) * 8 : hi - lo;
  }
  if (w.wbuf && w.wbuf->n)
    putfull(w.wbuf);
  else if (w.wbuf)
    putempty(w.wbuf);
  flush_deferred(&w);
  report_progress(&w);
  ATOMIC_ADD(&work.assist_marked, w.marked_bytes);
  ATOMIC_ADD(&work.assist_noscan, w.noscan_bytes);
  ATOMIC_ADD(&work.assist_nobj, w.nobj);
  if (scanned) {
    ATOMIC_ADD(&work.assist_ns, os_nanotime() - t0);
    ATOMIC_ADD(&work.nassists, 1);
  }
  return scanned;
}

/* A mutator the pacing holds back (concurrent.c: ahead of the mark's
 * progress, in a pre-cleaning round, or at the goal) marks: it takes a
 * slice of the pre-cleaning's rescan if one is open, else full buffers,
 * and scans until it has scanned budget bytes or finds no work, then
 * gives back what it holds.  Returns the bytes scanned; -1 if the phase
 * is not open (the caller waits for the collection).  Runs on the mutator's
 * stack, outside any no-preempt region; no stop can come meanwhile (the
 * collector waits for assists before its final stop, and every other stop
 * waits for gc_lock). */
int64_t mark_assist(uint64_t budget, bool ask) {
  if (!ATOMIC_LOAD_RELAXED(&work.assist_open))
    return -1;
  /* Nothing to take now (a hint: assist_scan looks again)? */
  bool none = ATOMIC_LOAD_RELAXED(&work.full) == NULL &&
              ATOMIC_LOAD_RELAXED(&work.pc_n) == 0;
  if (none && (!ask || ATOMIC_LOAD_RELAXED(&work.hungry)))
    return 0; /* no asking, or asked already: no atomic add for nothing */
  ATOMIC_ADD(&work.nassist, 1);
  /* Entered before the drain closed assists, or leave (the order pairs
   * with mark_concurrent's store then load, both sequentially
   * consistent). */
  if (!ATOMIC_LOAD(&work.assist_open)) {
    ATOMIC_ADD(&work.nassist, -1);
    return -1;
  }
  if (none) {
    /* The collector shares half of its own buffer at its next push
     * (try_push), for this call's next try (rule:assist-asks-for-work).
     * Said only while counted in nassist: once assists_close saw none
     * left, no late one can leave the hint set. */
    ATOMIC_STORE_RELAXED(&work.hungry, 1);
    ATOMIC_ADD(&work.nassist, -1);
    return 0;
  }
  LOCKRANK_STOPS_KEPT_AWAY(1);
  uint64_t scanned = assist_scan(budget, ask);
  LOCKRANK_STOPS_KEPT_AWAY(-1);
  ATOMIC_ADD(&work.nassist, -1);
  return (int64_t)scanned;
}

/* What the assists marked since the last call (assists closed). */
void mark_take_assists(mark_result *res) {
  res->marked_bytes += __atomic_exchange_n(&work.assist_marked, 0,
                                           __ATOMIC_SEQ_CST);
  res->noscan_bytes += __atomic_exchange_n(&work.assist_noscan, 0,
                                           __ATOMIC_SEQ_CST);
  res->nobj += __atomic_exchange_n(&work.assist_nobj, 0, __ATOMIC_SEQ_CST);
}

void mark_assist_figures(uint64_t *ns, uint64_t *n) {
  *ns = ATOMIC_LOAD_RELAXED(&work.assist_ns);
  *n = ATOMIC_LOAD_RELAXED(&work.nassists);
}

bool mark_take_remark_all(void) {
  return __atomic_exchange_n(&work.remark_all, 0, __ATOMIC_SEQ_CST) != 0;
}

/* An abandoned concurrent collection: its leftovers go. */
void mark_reset_concurrent(void) {
  mark_requeue_deferred();
  sgc_lock(&work.lock);
  while (work.full) {
    workbuf *b = work.full;
    work.full = b->next;
    b->next = work.empty;
    work.empty = b;
  }
  sgc_unlock(&work.lock);
  ATOMIC_STORE(&work.remark_all, 0);
  work.concurrent = work.roots_only = false;
}
