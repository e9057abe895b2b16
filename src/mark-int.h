/*
 * mark-int.h — what the files of the mark phase share; included by them
 * only (after spangc-int.h):
 *   markwork.c      the mark's state (work) and its pool of work buffers
 *   mark.c          scanning, descriptors, mark procedures, drain, markers
 *   markroot.c      the table of root jobs, mark_prepare
 *   markoverflow.c  the serial passes after the parallel phase
 *   markfinal.c     finalizable objects at mark termination
 *   markverify.c    the mark verifiers (SPANGC_DEBUG=verify=1)
 *
 * Every function and variable declared here is hidden, so a call or an
 * access crossing these files is as direct as it was inside one file.
 * What the markers' inner loop runs (mark_word, push, push_or_scan,
 * try_push) is defined here, static, so that every file inlines it as
 * mark.c did when it was one file.
 *
 * Locks: work.lock guards the buffer lists (full, empty), nbufs and the
 * idle markers' count (nwait, done), and pairs with work.cond; nwait and
 * full are also read without it, as hints (try_push).  jobidx and
 * overflow are atomic.  Everything else in work (the snapshot, the arena
 * bounds, the root table, minor) is written by the collecting thread with
 * the world stopped before the markers start or after they finish, and
 * only read while they run.
 */
#ifndef SPANGC_MARK_INT_H
#define SPANGC_MARK_INT_H

#include "spangc-int.h"

#define MARK_HIDDEN __attribute__((visibility("hidden")))

#define SCAN_NO_SANITIZE                                                       \
  __attribute__((no_sanitize("address", "thread", "undefined")))           \
  __attribute__((noinline))

#define WB_ITEMS 255
#define SCAN_CHUNK ((uintptr_t)64 << 10)

typedef struct workbuf {
  struct workbuf *next;
  uint64_t n;
  struct { uintptr_t lo, hi; } item[WB_ITEMS];
} workbuf;

struct gcwork {
  workbuf *wbuf;
  workbuf *dbuf; /* deferred items (work.concurrent) */
  uint64_t marked_bytes;
  uint64_t noscan_bytes; /* of marked_bytes: in pointer-free objects */
  uint64_t nobj;
  uint64_t nsteal, nhandoff;
  uint64_t nputfull; /* full buffers try_push shared (mark_worker) */
  uint64_t ndirty; /* old objects rescanned on written pages */
  uint64_t rescanned; /* bytes of marked objects rescanned (scan_dirty) */
  uint64_t reported;  /* of marked_bytes + rescanned, in work.progress */
  /* Aging minors (aging.c): the object being scanned will be old, so
   * mark_word promotes the age-0 objects it finds. */
  bool src_old;
  bool src_force; /* scanning what such an object's procedure pushed */
  uint64_t npromoted; /* age-0 objects it promoted (aging_add_promoted) */
};

/* The state of one mark (markwork.c defines it). */
typedef struct markwork {
  sgc_mutex lock;
  pthread_cond_t cond;
  workbuf *full, *empty;
  uint64_t nbufs, maxbufs;
  int nwait, nproc, done;
  /* An assist found no shared buffer (atomic; concurrent phase): the
   * collector hands half of its own over (try_push), as to an idle
   * marker, and clears it. */
  int hungry;
  int overflow; /* atomic */

  rootjob *jobs;
  uint32_t njobs, capjobs, jobidx; /* jobidx atomic */

  mspan **spans; /* the snapshot */
  uint32_t nspan;
  uint64_t prepare_marked, prepare_noscan, prepare_nobj; /* by the root callback */
  bool minor; /* this mark is a minor collection's */
  /* A concurrent mark (concurrent.c).  roots_only: the markers of the
   * initial stop run the root jobs and leave what they found in full
   * buffers, undrained.  concurrent: the mutators run; a mark procedure is
   * not called but its item kept in deferred (work.lock), for the final
   * stop; remark_all: the final stop must rescan every marked object (a
   * deferred item found no buffer, or the program set a mark bit). */
  bool roots_only, concurrent;
  /* Assists (mark_assist): assist_open while the concurrent drain runs;
   * nassist: assists under way (the drain ends only after they gave
   * their buffers back); their figures, atomic. */
  int assist_open, nassist;
  uint64_t assist_marked, assist_noscan, assist_nobj, assist_ns, nassists;
  /* A concurrent cycle's work so far, bytes (atomic): what the initial
   * stop, the drain, the assists and the pre-cleaning marked, and what
   * the pre-cleaning rescanned, reported as they go (report_progress);
   * the assists' pacing reads it. */
  uint64_t progress;
  /* A pre-cleaning round's written pages (work.lock): the runs listed,
   * and the cursor (run pc_k, address pc_at) from which the collector
   * and the assists take slices (preclean_take). */
  const dirty_run *pc_runs;
  uint32_t pc_n, pc_k;
  uintptr_t pc_at;
  workbuf *deferred;
  int remark_all; /* atomic */
  /* This minor keeps age-0 objects young (aging.c): beside arena_start,
   * which mark_word reads for every word. */
  bool aging;
  uintptr_t arena_start, arena_used;
  /* Counts the rescans of written pages (a minor's, a final stop's, a
   * pre-cleaning round's): set before their markers start, read by them
   * (rescan_first, markroot.c). */
  uint64_t rescan_pass;
  /* A minor's listing (its verifier). */
  const dirty_run *runs;
  uint32_t nruns;
} markwork;
extern MARK_HIDDEN markwork work;

/* Add what w marked since its last report to work.progress (a
 * concurrent mark's pacing, concurrent.c). */
static inline void report_progress(gcwork *w) {
  uint64_t now = w->marked_bytes + w->rescanned;
  if (now != w->reported) {
    ATOMIC_ADD(&work.progress, now - w->reported);
    w->reported = now;
  }
}

/* Assists (markconc.c): opened while the collector drains with the program
 * running; closing waits until none is under way, so the work they took
 * is back in the shared list (rule:assists-end-before-the-stop). */
MARK_HIDDEN void assists_open(void);
MARK_HIDDEN void mark_scan_item(gcwork *w, uintptr_t lo, uintptr_t hi);
MARK_HIDDEN void assists_close(void);
MARK_HIDDEN void mark_take_assists(mark_result *res);
/* An assist's share of a pre-cleaning round (markroot.c): rescan one
 * slice of its written pages into w; the bytes it rescanned (at least
 * 1), 0 if no slice is left. */
MARK_HIDDEN uint64_t preclean_assist(gcwork *w);

/* A work item is a range [lo, hi) of words to scan conservatively, or,
 * with bit 0 of lo set, an object base and its descriptor. */
#define ITEM_DESCR 1

/* ------------------------------------------ the work pool (markwork.c) */

MARK_HIDDEN workbuf *getempty(void);
MARK_HIDDEN void putfull(workbuf *b);
MARK_HIDDEN void putempty(workbuf *b);
/* A full buffer, waiting for one; NULL when every marker is idle and no
 * work is left: the mark is over. */
MARK_HIDDEN workbuf *getfull(gcwork *w);
/* A full buffer if one is waiting, else NULL at once (assists). */
MARK_HIDDEN workbuf *trygetfull(void);
/* Keep item (lo, hi) for the final stop of a concurrent mark; and give
 * back the marker's buffer of such items at the end of its share. */
MARK_HIDDEN void defer_item(gcwork *w, uintptr_t lo, uintptr_t hi);
MARK_HIDDEN void flush_deferred(gcwork *w);

/* Push an item; false if no buffer can be had (nothing pushed).  Static,
 * and not declared inline: each file gets the code the compiler made when
 * this was one file's static function (inlined into the rare pushes of
 * procedures' entries and of API calls, one out-of-line copy for
 * mark_word's push, which keeps the scanning loops small). */
static __attribute__((unused)) bool try_push(gcwork *w, uintptr_t lo,
                                             uintptr_t hi) {
  workbuf *b = w->wbuf;
  if (b == NULL || b->n == WB_ITEMS) {
    workbuf *nb = getempty();
    if (nb == NULL)
      return false;
    if (b) {
      putfull(b);
      w->nputfull++;
    }
    w->wbuf = b = nb;
  } else if (b->n > 4 &&
             (ATOMIC_LOAD_RELAXED(&work.nwait) |
              ATOMIC_LOAD_RELAXED(&work.hungry)) != 0 &&
             ATOMIC_LOAD_RELAXED(&work.full) == NULL) {
    /* Someone is idle (a marker, or an assist at the goal that found
     * nothing: rule:assist-asks-for-work) and nothing is shared: hand
     * over half of ours. */
    ATOMIC_STORE_RELAXED(&work.hungry, 0);
    workbuf *nb = getempty();
    if (nb) {
      uint64_t half = b->n / 2;
      memcpy(nb->item, b->item + (b->n - half), half * sizeof b->item[0]);
      nb->n = half;
      b->n -= half;
      putfull(nb);
      w->nhandoff++;
    }
  }
  b->item[b->n].lo = lo;
  b->item[b->n].hi = hi;
  b->n++;
  return true;
}

/* -------------------------------------------------- scanning (mark.c) */

/* Every aligned word of [lo, hi). */
MARK_HIDDEN void scan_range(gcwork *w, uintptr_t lo, uintptr_t hi);
/* Scan object 'base' of span s now, by its kind (not marking it). */
MARK_HIDDEN void scan_object(gcwork *w, mspan *s, uintptr_t base);
/* The part [lo, hi) of the one object of large span s, of a descriptor
 * kind, as its descriptor says; false (nothing done) if it is not of
 * such a kind, or it holds its descriptor (typed objects too), or its
 * descriptor names a mark procedure: those are only ever scanned
 * whole. */
MARK_HIDDEN bool scan_object_part(gcwork *w, mspan *s, uintptr_t lo,
                                  uintptr_t hi);
/* Pop items and scan them until every marker is idle. */
MARK_HIDDEN void drain(gcwork *w);

/* The marker's work inside a mark procedure or the root callback. */
extern MARK_HIDDEN __thread gcwork *cur_work;
/* Set while an object is scanned now rather than in pushed pieces (a
 * large conservative one read where populated, all of it):
 *   - one the mark left unmarked (finalization): a piece dropped for want
 *     of buffers would not be found by the overflow passes, which rescan
 *     marked objects only;
 *   - a marked one rescanned by an overflow pass: a piece of it that found
 *     no buffer would make the next pass rescan it again, and with as few
 *     buffers, fail the same way, for ever (the buffers fill at the same
 *     point of the same walk).  Only the pushes of objects marked now
 *     may fail there, and each pass marks more. */
extern MARK_HIDDEN __thread bool scan_whole;

/* Push (part of) a marked heap object; when no buffer can be had, the
 * object stays marked but unscanned, and the overflow passes, which
 * rescan every marked object, will find it.  Only for marked objects:
 * anything else pushed must go through push_or_scan. */
static inline void push(gcwork *w, uintptr_t lo, uintptr_t hi) {
  if (!try_push(w, lo, hi))
    ATOMIC_STORE(&work.overflow, 1);
}

/* Push a range that no overflow pass would find again (a stack, a root,
 * an object kept unmarked for its finalizer); when no buffer can be had,
 * scan it now.  Scanning only marks and pushes objects, so this never
 * recurses. */
static inline void push_or_scan(gcwork *w, uintptr_t lo, uintptr_t hi) {
  /* In the initial stop of a concurrent mark, a range outside the heap
   * (a thread's TLS block, a thread's own stack under a fiber) is read
   * now: pushed, it would be read with the world running, after its
   * thread may have exited and its memory been unmapped
   * (rule:roots-read-in-the-stop). */
  if (work.roots_only || !try_push(w, lo, hi))
    scan_range(w, lo, hi);
}

/* Push a marked object of the conservative kind of POPULATED_MIN bytes
 * or more, or a part of one: only its pages that hold data, as the kernel
 * tells (pagemap_populated); the untouched rest reads as zero, and reading
 * it would only fault it in (mark.c). */
MARK_HIDDEN void push_populated(gcwork *w, uintptr_t lo, uintptr_t hi);

/* Push object i of span s, marked, for scanning; of a pointer-free
 * kind, only counted ('count': it was marked now). */
static inline void push_marked(gcwork *w, mspan *s, uint32_t i, bool count) {
  const kind_info *k = &sgc_kinds[spanclass_kind(s->spanclass)];
  if (k->scan == SCAN_NONE) {
    if (count)
      w->noscan_bytes += s->elemsize;
    return;
  }
  uintptr_t base = s->base + (uintptr_t)i * s->elemsize;
  if (likely(k->scan == SCAN_CONSERVATIVE)) {
    if (unlikely(s->elemsize >= POPULATED_MIN))
      push_populated(w, base, base + s->elemsize);
    else
      push(w, base, base + s->elemsize);
  } else
    push(w, base | ITEM_DESCR, k->descr + (k->add_size ? s->elemsize : 0));
}

/* An aging minor promotes age-0 object i of span s, found from an object
 * that will be old (rule:old-points-to-old): true if this call set its
 * allocbit (then, if it was marked already, the caller pushes it again:
 * another marker may have scanned it as young). */
static inline bool promote_young(gcwork *w, mspan *s, uint32_t i) {
  uint64_t bit = (uint64_t)1 << (i & 63);
  if (bitmap_get_atomic(s->allocbits, i) ||
      (__atomic_fetch_or(&s->allocbits[i >> 6], bit, __ATOMIC_SEQ_CST) & bit))
    return false;
  w->npromoted++;
  return true;
}

static inline void mark_word(gcwork *w, uintptr_t v) {
  /* The arena as it is now, not as the mark found it: during a
   * concurrent mark it grows, and an object beyond the first bound that a
   * rescanned page points to must be marked, or nothing would look at
   * that page again (rule:preclean-protect-then-scan). */
  if (v - work.arena_start >=
      ATOMIC_LOAD(&sgc_heap.arena_used) - work.arena_start)
    return;
  /* The table may change under the markers (spans made while marking:
   * see design.md), hence atomic loads.  A span's fields are written
   * before its state becomes INUSE (a release store); the acquire load of
   * the state orders the reads of the fields after them. */
  mspan *s = ATOMIC_LOAD_RELAXED(
      &sgc_heap.spans[(v - work.arena_start) >> PAGE_SHIFT]);
  /* Below base too: during a concurrent mark, s may be a struct freed
   * and reused for another span since it was loaded (fiber stacks are
   * freed at once; see rule:no-span-freed-under-markers). */
  if (s == NULL || ATOMIC_LOAD(&s->state) != MSPAN_INUSE ||
      v - s->base >= s->limit - s->base)
    return;
  uint32_t i = mspan_obj_index(s, v);
  if (!mspan_is_allocated(s, i))
    return;
  uint64_t bit = (uint64_t)1 << (i & 63);
  uint64_t *word = &s->markbits[i >> 6];
  /* An age-0 object found from one that will be old is promoted: its
   * allocbit set, so it scans as old and its sweep keeps its mark
   * (rule:old-points-to-old).  The marker that promotes one marked
   * already pushes it again: another may have scanned it as young. */
  if (unlikely(work.aging) && w->src_old && promote_young(w, s, i) &&
      (__atomic_load_n(word, __ATOMIC_SEQ_CST) & bit)) {
    push_marked(w, s, i, false);
    return;
  }
  if (ATOMIC_LOAD_RELAXED(word) & bit)
    return;
  /* Sequentially consistent, as promote_young's or and load are: either
   * a promoter sees this mark and pushes the object again, or the scan
   * this push leads to sees its allocbit (aging_source_old). */
  if (__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST) & bit)
    return;
  w->marked_bytes += s->elemsize;
  w->nobj++;
  push_marked(w, s, i, true);
}

/* --------------------------------------- root jobs (markroot.c) */

MARK_HIDDEN void run_job(gcwork *w, rootjob *j);

/* ------------------------------------- serial passes (markoverflow.c) */

/* Drain on the collector alone (after the parallel phase). */
MARK_HIDDEN void drain_alone(gcwork *w);
/* Serial passes scan into w and drain it whenever a buffer fills. */
MARK_HIDDEN void drain_if_full(gcwork *w);
/* Count into res what w marked (a serial pass's or the final stop's
 * own work, on the collector alone). */
static inline void result_add_work(mark_result *res, const gcwork *w) {
  aging_add_promoted(w->npromoted);
  res->marked_bytes += w->marked_bytes;
  res->noscan_bytes += w->noscan_bytes;
  res->nobj += w->nobj;
}
/* The end of a serial pass: drain w, count what it marked, and rescan
 * after any overflow (and reach newly reachable fibers). */
MARK_HIDDEN void drain_and_finish(gcwork *w, mark_result *res);

#endif /* SPANGC_MARK_INT_H */
