/*
 * markoverflow.c — the serial passes that end a mark, on the collecting
 * thread alone after the parallel phase (world stopped).
 *
 * Two things can leave marked objects unscanned when the markers stop:
 *   - a suspended fiber reachable only now (its object got marked late):
 *     its stack is scanned (fibers_scan_marked), until no new one is found;
 *   - a push that found no work buffer (the cap, SPANGC_MARK_STACK_MAX,
 *     or the OS said no): the object stayed marked but unscanned and
 *     work.overflow was set; every marked object of a scan span is then
 *     rescanned (read now, nothing of it pushed: scan_whole), until a pass
 *     completes without overflow.  The passes end: a push that fails in one
 *     is of an object it marked, and marked objects only grow (a mark
 *     procedure's entry that finds no buffer is scanned at once or held,
 *     mark.c push_entry, never dropped but when the OS refuses memory).
 * The finalization passes (markfinal.c) end the same way (drain_and_finish).
 *
 * Nothing here takes a lock but work.lock, through the pool.
 */
#include "mark-int.h"

static void overflow_pass(mark_result *res);

void drain_alone(gcwork *w) {
  work.nproc = 1;
  ATOMIC_STORE_RELAXED(&work.nwait, 0);
  ATOMIC_STORE_RELAXED(&work.done, 0);
  drain(w);
}

void drain_if_full(gcwork *w) {
  if (w->wbuf && w->wbuf->n == WB_ITEMS)
    drain_alone(w);
}

void drain_and_finish(gcwork *w, mark_result *res) {
  drain_alone(w);
  result_add_work(res, w);
  mark_overflow_passes(res);
}

/* After the parallel phase: suspended fibers reachable only now (their
 * objects got marked) have their stacks scanned, until no new one is
 * found; and if a push failed, every marked object of a scan span is
 * rescanned until a pass completes without overflow.  Runs on the
 * collector alone. */
void mark_overflow_passes(mark_result *res) {
  res->marked_bytes += work.prepare_marked;
  res->noscan_bytes += work.prepare_noscan;
  res->nobj += work.prepare_nobj;
  work.prepare_marked = work.prepare_noscan = work.prepare_nobj = 0;
  for (;;) {
    gcwork w = {0};
    bool more = fibers_scan_marked(&w);
    if (more)
      drain_alone(&w);
    result_add_work(res, &w);
    if (!more && !ATOMIC_LOAD(&work.overflow))
      break;
    if (ATOMIC_LOAD(&work.overflow))
      overflow_pass(res);
  }
}

static void overflow_pass(mark_result *res) {
  res->overflows++;
  ATOMIC_STORE(&work.overflow, 0);
  gcwork w = {0};
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE ||
        spanclass_noscan(s->spanclass))
      continue;
    for (uint32_t i = 0; i < s->nelems; i++)
      if (bitmap_get(s->markbits, i)) {
        scan_whole = true;
        scan_object(&w, s, s->base + (uintptr_t)i * s->elemsize);
        scan_whole = false;
        drain_if_full(&w);
      }
  }
  drain_alone(&w);
  result_add_work(res, &w);
}
