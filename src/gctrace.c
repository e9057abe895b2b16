/*
 * gctrace.c — the lines SPANGC_DEBUG=gctrace=1 writes to stderr: one when
 * the collector starts (markers, GOGC, how written pages are known,
 * generational or not), and one per collection, written by the collecting
 * thread after the world restarted, followed by the heap's (mheap_trace).
 *
 * Per collection: its number, when it started (seconds since gc_init),
 * minor or major (a concurrent major: its first stop, its concurrent
 * mark, the time between its stops and the mutators' assists, then the
 * final stop's phases below), the markers, the pause in four phases (stop:
 * until the world stopped; prepare: the rest of the sweep, the caches flushed,
 * the snapshot; mark: the root table, the parallel mark, the overflow passes;
 * term: weak slots, finalizers, the next sweep and goal), the heap before and
 * live after (old bytes included), the next goal, objects marked, spans in the
 * snapshot, written pages and old objects rescanned (minor collections;
 * an aging one's, the young objects it promoted because old ones point
 * to them, aging.c), the
 * spans this stop had to sweep (proportional sweeping keeps it 0) and the
 * sweep counters, steals and handoffs between markers, and whether the mark
 * stack overflowed; then the heap's line (mheap_trace) and, with a memory
 * limit, the limit's.
 *
 * No state; the figures come from collect.c, under gc_lock.  A line is
 * formatted on the stack and written with one write.
 */
#include <stdio.h>

#include "spangc-int.h"

void gctrace_collection(const gctrace_figures *f) {
  const mark_result *res = f->res;
  uint64_t t0 = f->t[0], t1 = f->t[1], t2 = f->t[2], t3 = f->t[3],
           t4 = f->t[4];
  char conc[224] = "";
  if (f->concurrent)
    snprintf(conc, sizeof conc,
             "concurrent (first stop %.3f ms, concurrent mark %.3f ms, "
             "%.3f ms between the stops, %llu assists %.3f ms; the final "
             "stop:) ",
             (double)f->first_stop_ns / 1e6, (double)f->conc_ns / 1e6,
             (double)f->conc_span_ns / 1e6,
             (unsigned long long)f->nassists, (double)f->assist_ns / 1e6);
  char aging[64] = ""; /* an aging minor's promotions (aging.c) */
  if (f->aging)
    snprintf(aging, sizeof aging, ", %llu promoted by old objects",
             (unsigned long long)aging_last_promoted());
  char buf[800];
  int n = snprintf(
      buf, sizeof buf,
      "gc %llu @%.3fs %s, %s%s%d markers: %.3f+%.3f+%.3f+%.3f ms "
      "stop+prepare+mark+term, %.1f->%.1f MB live (%.1f MB old) "
      "(goal %.1f MB), "
      "%llu objects marked, %u spans, %llu written pages (%llu old "
      "objects rescanned%s), %llu spans swept in the stop (sweeps %llu "
      "bg %llu demand %llu proportional %llu pause), %llu steals %llu "
      "handoffs%s\n",
      (unsigned long long)f->numgc, (double)(t0 - f->start_ns) / 1e9,
      f->minor ? "minor" : "major", f->idle ? "idle, " : "", conc,
      f->nproc, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6,
      (double)(t3 - t2) / 1e6, (double)(t4 - t3) / 1e6,
      (double)f->heap_before / 1048576.0,
      (double)res->marked_bytes / 1048576.0,
      (double)f->old_bytes / 1048576.0, (double)f->goal / 1048576.0,
      (unsigned long long)res->nobj, f->nspan,
      (unsigned long long)(f->listed ? dirty_last_pages() : 0),
      (unsigned long long)res->ndirty, aging,
      (unsigned long long)f->pause_sweeps,
      (unsigned long long)ATOMIC_LOAD_RELAXED(&sgc_nbgsweep),
      (unsigned long long)ATOMIC_LOAD_RELAXED(&sgc_ndemandsweep),
      (unsigned long long)ATOMIC_LOAD_RELAXED(&sgc_nassistsweep),
      (unsigned long long)ATOMIC_LOAD_RELAXED(&sgc_npausesweep),
      (unsigned long long)res->nsteal, (unsigned long long)res->nhandoff,
      res->overflows ? ", mark stack overflowed" : "");
  sgc_write_all(2, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
  mheap_trace(f->numgc);
  memlimit_trace(f->numgc);
}

void gctrace_start(int nmarkers, int gcpercent) {
  char buf[256];
  int n = snprintf(buf, sizeof buf,
                   "spangc: gctrace: %d markers, GOGC %d, written pages "
                   "known by: %s, generational: %s\n",
                   nmarkers, gcpercent,
                   dirty_mechanism_name(dirty_mechanism()),
                   gen_enabled() ? "on" : "off");
  if (memlimit_on() && n < (int)sizeof buf - 1)
    n += snprintf(buf + n - 1, sizeof buf - (size_t)n + 1,
                  ", memory limit %.1f MB\n",
                  (double)memlimit_get() / 1048576.0) - 1;
  sgc_write_all(2, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}
