/*
 * mark.c — the parallel, conservative mark phase: scanning, descriptors,
 * mark procedures, and the markers that drain the work.
 *
 * Runs with the world stopped, over the spans snapshot the collector took
 * (mark_prepare, markroot.c, sets it up).  Work is a set of items to scan
 * in a shared pool of work buffers (markwork.c); each marker takes root
 * jobs until none is left (markroot.c), then drains: pops items, scans
 * them, steals full buffers when its own is empty, until every marker is
 * idle.  Nothing recurses on the C stack.  The collecting thread is one
 * marker; helper threads, made once and kept, are the others
 * (markhelpers.c).
 *
 * Conservative scanning: every aligned word in a range that points into an
 * allocated object of an in-use span (anywhere inside it) marks the
 * object; free slots, span tails and free spans are ignored.  A newly
 * marked object of a scan span is pushed for scanning; noscan objects are
 * never scanned.  Large objects are scanned in 64 KiB pieces so that
 * markers can share one.
 *
 * Kinds (kind.c): an object of a descriptor kind is pushed as a tagged
 * item, (base | 1, descriptor), and scanned by scan_descr: a length, a
 * bitmap, a per-object descriptor, or a call to a mark procedure, which
 * gets a small entry stack on the marker's own stack (entries it pushes
 * are moved into the marker's work buffer when it returns, or when it
 * reports the small stack full).  Uncollectable objects and what a root
 * callback pushes are roots.
 *
 * When no buffer can be had, a marked object stays unscanned and
 * work.overflow is set; markoverflow.c rescans after the parallel phase.
 *
 * The scanning functions read words the sanitizers cannot reason about
 * (other threads' stacks, uninitialised stack slots, redzones), so exactly
 * those are exempt from ASan and TSan by attribute.
 *
 * Locks: work.lock (markwork.c) for the shared buffers.
 */
#include "mark-int.h"

/* ------------------------------------------------------------ scanning */

/* An aging minor's conservative scan: each object the range covers is
 * looked up once, to know whether it will be old, so that mark_word
 * promotes what it points to (rule:old-points-to-old). */
SCAN_NO_SANITIZE static void scan_range_aging(gcwork *w, uintptr_t lo,
                                              uintptr_t hi) {
  uintptr_t src_end = lo;
  bool before = w->src_old; /* an enclosing scan_descr's */
  for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t)) {
    if (p >= src_end)
      w->src_old = aging_source_old(p, hi, &src_end) || w->src_force;
    mark_word(w, *(volatile uintptr_t *)p);
  }
  w->src_old = before;
}

/* Every word of [lo, hi), lo aligned, as the words of one source (the
 * one w->src_old describes in an aging minor). */
SCAN_NO_SANITIZE static void scan_words(gcwork *w, uintptr_t lo,
                                        uintptr_t hi) {
  for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t))
    mark_word(w, *(volatile uintptr_t *)p);
}

/* Every aligned word of [lo, hi). */
SCAN_NO_SANITIZE void scan_range(gcwork *w, uintptr_t lo, uintptr_t hi) {
  lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
  if (unlikely(work.aging)) {
    scan_range_aging(w, lo, hi);
    return;
  }
  scan_words(w, lo, hi);
}

/* ------------------------------------------------- descriptors, procs */

__thread gcwork *cur_work; /* mark-int.h */
static __thread sgc_mark_entry *cur_entries;

#define PROC_ENTRIES 256

static void scan_descr(gcwork *w, uintptr_t base, uintptr_t descr);

__thread bool scan_whole; /* mark-int.h; set by markfinal.c */

/* An entry a mark procedure pushed: into the work buffer.  With no
 * buffer left it is scanned at once (nested procedure calls up to a small
 * depth): an entry may describe memory outside the heap, which no
 * overflow rescan would find again, so dropping entries could make a
 * procedure that always pushes more than the buffers hold loop for ever.
 * Past the depth, entries are held (per thread) until the outermost
 * push_entry takes them, one at a time.  Dropped, an entry whose
 * procedure the overflow passes call again was dropped again in every
 * pass, for ever, with the world stopped (the adversarial review of
 * session 22: a procedure pushing an entry of its own kind, twelve deep,
 * with a 4 KiB mark stack).  Only if the OS refuses memory for the held
 * list is an entry dropped, and overflow set. */
static __thread int entry_depth;
static __thread struct {
  /* [lo, hi) of push_entry's items, and whether it scanned them as part
   * of an object that will be old (gcwork.src_force) */
  uintptr_t (*e)[3];
  size_t n, cap;
} held;

static bool hold_entry(uintptr_t lo, uintptr_t hi, bool forced) {
  if (held.n == held.cap) {
    size_t cap = held.cap ? held.cap * 2 : 256;
    uintptr_t (*e)[3] = os_alloc(cap * sizeof *e);
    if (e == NULL)
      return false;
    if (held.e != NULL) {
      memcpy(e, held.e, held.n * sizeof *e);
      os_free(held.e, held.cap * sizeof *e);
    }
    held.e = e;
    held.cap = cap;
  }
  held.e[held.n][0] = lo;
  held.e[held.n][1] = hi;
  held.e[held.n][2] = forced;
  held.n++;
  return true;
}

static inline void scan_item(gcwork *w, uintptr_t lo, uintptr_t hi);

/* The outermost push_entry, its own entry scanned: the held ones. */
static void take_held(gcwork *w) {
  while (held.n > 0) {
    held.n--;
    uintptr_t lo = held.e[held.n][0], hi = held.e[held.n][1];
    bool forced = w->src_force;
    w->src_force = held.e[held.n][2] != 0; /* as when it was held */
    entry_depth++;
    scan_item(w, lo, hi);
    entry_depth--;
    w->src_force = forced;
  }
  if (held.e != NULL) {
    os_free(held.e, held.cap * sizeof *held.e);
    held.e = NULL;
    held.cap = 0;
  }
}

/* 'now': scanned at once, not pushed (see flush_entries). */
static void push_entry(gcwork *w, uintptr_t start, uintptr_t descr,
                       bool now) {
  uintptr_t lo = start, hi = descr;
  if ((descr & 3) == SGC_DS_LENGTH) {
    lo = (start + sizeof(uintptr_t) - 1) & ~(uintptr_t)7;
    hi = start + descr;
    if (descr == 0 || hi <= lo)
      return;
  } else {
    if (start & ITEM_DESCR)
      sgc_fatal("collect: a mark procedure pushed the unaligned address %p",
                (void *)start);
    lo = start | ITEM_DESCR;
  }
  if (!now && try_push(w, lo, hi))
    return;
  if (entry_depth >= 8) {
    if (!hold_entry(lo, hi, w->src_force))
      ATOMIC_STORE(&work.overflow, 1);
    return;
  }
  entry_depth++;
  scan_item(w, lo, hi);
  entry_depth--;
  if (entry_depth == 0 && held.n > 0)
    take_held(w);
}

/* The entries a procedure pushed.  In an aging minor, those of an object
 * that will be old are scanned at once as part of it (src_force): an
 * entry may describe memory outside the heap, which has no age of its
 * own, and what it points to must be promoted (rule:old-points-to-old).
 * Nested procedures go as deep as push_entry lets them. */
static void flush_entries(gcwork *w, sgc_mark_entry *buf,
                          sgc_mark_entry *top) {
  bool now = work.aging && w->src_old;
  bool forced = w->src_force;
  w->src_force |= now;
  for (sgc_mark_entry *e = buf + 1; e <= top; e++)
    push_entry(w, (uintptr_t)e->start, e->descr, now);
  w->src_force = forced;
}

SCAN_NO_SANITIZE static void call_proc(gcwork *w, uintptr_t base,
                                       uintptr_t descr) {
  /* While the program runs, a procedure would read objects it mutates
   * with no promise of consistency: it runs in the final stop instead
   * (rule:procs-in-final-stop). */
  if (unlikely(work.concurrent)) {
    defer_item(w, base | ITEM_DESCR, descr);
    return;
  }
  unsigned idx = (unsigned)(descr >> SGC_DS_TAG_BITS) & (MAX_MARK_PROCS - 1);
  uintptr_t env = descr >> (SGC_DS_TAG_BITS + SGC_LOG_MAX_MARK_PROCS);
  sgc_mark_proc proc = ATOMIC_LOAD_RELAXED(&sgc_mark_procs[idx]);
  if (proc == NULL)
    sgc_fatal("collect: object %p has a descriptor naming mark procedure "
              "%u, which was never registered", (void *)base, idx);
  sgc_mark_entry buf[PROC_ENTRIES];
  gcwork *saved_w = cur_work;
  sgc_mark_entry *saved_e = cur_entries;
  cur_work = w;
  cur_entries = buf;
  sgc_mark_entry *top =
      proc((uintptr_t *)base, buf, buf + PROC_ENTRIES, env);
  cur_work = saved_w;
  cur_entries = saved_e;
  if (top < buf || top >= buf + PROC_ENTRIES)
    sgc_fatal("collect: mark procedure %u returned a bad entry pointer %p "
              "for object %p", idx, (void *)top, (void *)base);
  flush_entries(w, buf, top);
}

/* Words [from, to) of an extended bitmap (PROC_EXT_BITMAP) over the
 * words at base, a word of the bitmap at a time: a 64 MiB typed object
 * holding 64 pointers took a minor 356 ms read a bit at a time. */
SCAN_NO_SANITIZE static void scan_ext_bitmap(gcwork *w, uintptr_t base,
                                             uintptr_t env, size_t from,
                                             size_t to) {
  /* Acquire, against kind.c's release of the count: a descriptor made
   * while a concurrent mark runs has its table (grown by copying) and
   * its entry seen with it. */
  if (env >= ATOMIC_LOAD(&sgc_n_ext_bitmaps))
    sgc_fatal("collect: object %p has a bad typed descriptor", (void *)base);
  const ext_bitmap *e = ATOMIC_LOAD_RELAXED(&sgc_ext_bitmaps)[env];
  const uintptr_t *wp = (const uintptr_t *)base;
  if (to > e->nwords)
    to = e->nwords;
  for (size_t k = from / 64; k * 64 < to; k++) {
    uint64_t bits = e->bits[k];
    if (k == from / 64)
      bits &= ~(uint64_t)0 << (from % 64);
    if (to - k * 64 < 64)
      bits &= ~(~(uint64_t)0 << (to - k * 64));
    for (; bits != 0; bits &= bits - 1)
      mark_word(w, *(volatile const uintptr_t *)&wp[k * 64 +
                                                   __builtin_ctzll(bits)]);
  }
}

static bool scan_descr_in(gcwork *w, uintptr_t base, uintptr_t d,
                          uintptr_t lo, uintptr_t hi);

/* The elements of a typed array (PROC_ARRAY) that overlap [lo, hi):
 * elements until the descriptor word. */
static void scan_array(gcwork *w, uintptr_t base, uintptr_t env,
                       uintptr_t lo, uintptr_t hi) {
  if (env >= ATOMIC_LOAD(&sgc_n_array_descrs)) /* as above */
    sgc_fatal("collect: object %p has a bad array descriptor", (void *)base);
  array_descr a = ATOMIC_LOAD_RELAXED(&sgc_array_descrs)[env];
  mspan *s = mheap_lookup(base);
  if (s == NULL)
    return;
  size_t n = (s->elemsize - sizeof(uintptr_t)) / a.elemsize;
  size_t k = lo > base ? (lo - base) / a.elemsize : 0;
  size_t last = hi - base < n * a.elemsize ? (hi - base - 1) / a.elemsize + 1
                                           : n;
  for (; k < last; k++)
    scan_descr_in(w, base + k * a.elemsize, a.descr, 0, UINTPTR_MAX);
}

/* The descriptor a SGC_DS_PER_OBJECT one d finds in the object at base;
 * 0 if it is not set up yet. */
static uintptr_t per_object_descr(uintptr_t base, uintptr_t d) {
  if ((intptr_t)d >= 0)
    return *(volatile uintptr_t *)(base + (d - SGC_DS_PER_OBJECT));
  uintptr_t type = *(volatile uintptr_t *)base;
  if (type == 0)
    return 0;
  return *(volatile uintptr_t *)(type - (d - SGC_DS_PER_OBJECT +
                                         SGC_INDIR_PER_OBJ_BIAS));
}

/* Scan the part [lo, hi) of the object at base as descriptor d says
 * (the whole object: [base, UINTPTR_MAX)).  A mark procedure cannot be
 * asked for a part: for a part, false if d names one, and nothing done. */
SCAN_NO_SANITIZE static bool scan_descr_as(gcwork *w, uintptr_t base,
                                           uintptr_t d, uintptr_t lo,
                                           uintptr_t hi);
/* In an aging minor, what the descriptor (or the mark procedure) finds
 * is promoted when the object at base will be old
 * (rule:old-points-to-old); a range it scans as words looks its objects
 * up itself. */
static bool scan_descr_in(gcwork *w, uintptr_t base, uintptr_t d,
                          uintptr_t lo, uintptr_t hi) {
  if (likely(!work.aging))
    return scan_descr_as(w, base, d, lo, hi);
  bool before = w->src_old; /* an enclosing scan_descr's (arrays) */
  uintptr_t end;
  w->src_old = aging_source_old(base, base + 1, &end) || w->src_force;
  bool done = scan_descr_as(w, base, d, lo, hi);
  w->src_old = before;
  return done;
}

static void scan_descr(gcwork *w, uintptr_t base, uintptr_t d) {
  scan_descr_in(w, base, d, 0, UINTPTR_MAX);
}

SCAN_NO_SANITIZE static bool scan_descr_as(gcwork *w, uintptr_t base,
                                           uintptr_t d, uintptr_t lo,
                                           uintptr_t hi) {
  bool whole = lo <= base && hi == UINTPTR_MAX;
  if (lo < base)
    lo = base;
  if (hi <= lo)
    return true;
  for (int depth = 0; depth < 4; depth++) {
    switch (d & 3) {
    case SGC_DS_LENGTH: {
      /* The rest is pushed if a buffer can be had (the object may not be
       * a marked heap object: an entry of a mark procedure), else scanned
       * now with the first piece. */
      uintptr_t e = hi - base < d ? hi : base + d;
      if (lo >= e)
        return true;
      if (e - lo > SCAN_CHUNK && !scan_whole &&
          try_push(w, lo + SCAN_CHUNK, e))
        e = lo + SCAN_CHUNK;
      scan_range(w, lo, e);
      return true;
    }
    case SGC_DS_BITMAP: {
      const uintptr_t *wp = (const uintptr_t *)base;
      uintptr_t bits = d & ~(uintptr_t)3;
      for (uintptr_t i = 0; bits; i++, bits <<= 1)
        if (bits >> 63 && base + i * 8 >= lo && base + i * 8 < hi)
          mark_word(w, *(volatile const uintptr_t *)&wp[i]);
      return true;
    }
    case SGC_DS_PROC: {
      unsigned idx = (unsigned)(d >> SGC_DS_TAG_BITS) & (MAX_MARK_PROCS - 1);
      uintptr_t env = d >> (SGC_DS_TAG_BITS + SGC_LOG_MAX_MARK_PROCS);
      if (idx == PROC_EXT_BITMAP)
        scan_ext_bitmap(w, base, env, (lo - base) / 8,
                        hi - base > SIZE_MAX - 7 ? SIZE_MAX
                                                 : (hi - base + 7) / 8);
      else if (idx == PROC_ARRAY)
        scan_array(w, base, env, lo, hi);
      else if (whole)
        call_proc(w, base, d);
      else
        return false;
      return true;
    }
    case SGC_DS_PER_OBJECT:
      d = per_object_descr(base, d);
      if (d == 0)
        return true; /* allocated, descriptor not stored yet */
      break;
    }
  }
  return true;
}

/* At most this many runs are pushed for one object, over all the calls
 * its query takes: past them, the rest of it is pushed whole.  Each run is
 * a work item, and the overflow passes (markoverflow.c) drain only
 * between objects: an object of more runs than the mark stack holds
 * (SPANGC_MARK_STACK_MAX) overflowed again in every pass, for ever (the
 * adversarial review: a 640 MiB object written on every other page, a
 * 1 MiB cap).  A table written densely here and there is a few runs; one
 * written on every other page has little to skip. */
#define POPULATED_RUNS 32

/* The part of [lo, hi) in run r: read now, or pushed. */
static void take_run(gcwork *w, const dirty_run *r, uintptr_t lo,
                     uintptr_t hi, bool now) {
  uintptr_t a = r->lo > lo ? r->lo : lo;
  uintptr_t b = r->hi < hi ? r->hi : hi;
  if (a < b && now)
    scan_range(w, a, b);
  else if (a < b)
    push(w, a, b);
}

/* The populated pages of [lo, hi), pushed, or read now ('now':
 * scan_whole).  An answer cut short to let go of the mmap lock goes on
 * from where it ended; runs pushed are POPULATED_RUNS at most in all,
 * whatever the number of calls, the rest of the object pushed whole
 * after; if the kernel cannot tell, the rest is taken whole. */
static void take_populated(gcwork *w, uintptr_t lo, uintptr_t hi, bool now) {
  dirty_run r[POPULATED_RUNS];
  uintptr_t end = (hi + 4095) & ~(uintptr_t)4095;
  uintptr_t at = lo & ~(uintptr_t)4095, walked;
  int left = POPULATED_RUNS; /* runs this object may still push */
  while (at < end) {
    int n = pagemap_populated(at, end, r, now ? POPULATED_RUNS : left,
                              &walked);
    if (n < 0)
      break;
    for (int i = 0; i < n; i++)
      take_run(w, &r[i], lo, hi, now);
    at = walked;
    left -= n;
    if (!now && left == 0)
      break;
  }
  dirty_run rest = {at > lo ? at : lo, hi, 0}; /* empty once at >= hi */
  take_run(w, &rest, lo, hi, now);
}

void push_populated(gcwork *w, uintptr_t lo, uintptr_t hi) {
  take_populated(w, lo, hi, false);
}

void scan_object(gcwork *w, mspan *s, uintptr_t base) {
  const kind_info *k = &sgc_kinds[spanclass_kind(s->spanclass)];
  if (k->scan == SCAN_CONSERVATIVE) {
    if (s->elemsize >= POPULATED_MIN && scan_whole)
      take_populated(w, base, base + s->elemsize, true);
    else if (s->elemsize >= POPULATED_MIN)
      push_populated(w, base, base + s->elemsize);
    else if (s->elemsize > SCAN_CHUNK && !scan_whole)
      push(w, base, base + s->elemsize);
    else
      scan_range(w, base, base + s->elemsize);
  } else if (k->scan == SCAN_DESCR) {
    scan_descr(w, base, k->descr + (k->add_size ? s->elemsize : 0));
  }
}

/* A descriptor the object holds (SGC_DS_PER_OBJECT) may be stored or
 * changed after the object's other pages were scanned: the new one
 * reinterprets pages not written since, which a partial rescan would
 * leave unread (the adversarial reviews: an object scanned while its
 * descriptor was still 0, or a length of 16, the descriptor stored after,
 * lost what another page held, kept young by aging or found by a
 * pre-cleaning round before the store; in a program's kind, and in a
 * typed object, whose stored descriptor may itself be per-object).  Such
 * an object is scanned whole (rule:changed-descriptor-scans-whole). */
bool scan_object_part(gcwork *w, mspan *s, uintptr_t lo, uintptr_t hi) {
  const kind_info *k = &sgc_kinds[spanclass_kind(s->spanclass)];
  if (k->scan != SCAN_DESCR || (k->descr & 3) == SGC_DS_PER_OBJECT)
    return false;
  return scan_descr_in(w, s->base, k->descr + (k->add_size ? s->elemsize : 0),
                       lo, hi);
}

static inline void scan_item(gcwork *w, uintptr_t lo, uintptr_t hi) {
  if (lo & ITEM_DESCR)
    scan_descr(w, lo & ~(uintptr_t)ITEM_DESCR, hi);
  else
    scan_range(w, lo, hi);
}

/* For the assists (markconc.c). */
void mark_scan_item(gcwork *w, uintptr_t lo, uintptr_t hi) {
  scan_item(w, lo, hi);
}

/* --------------------------------------- calls for procs and callbacks */

static gcwork *current_work(const char *call) {
  gcwork *w = cur_work;
  if (w == NULL)
    sgc_fatal("%s: called outside a mark procedure or root callback", call);
  return w;
}

sgc_mark_entry *sgc_mark_and_push(void *p, sgc_mark_entry *top,
                                  sgc_mark_entry *limit, void **src) {
  mark_word(current_work("sgc_mark_and_push"), (uintptr_t)p);
  return top;
}

sgc_mark_entry *sgc_mark_stack_overflow(sgc_mark_entry *top) {
  gcwork *w = current_work("sgc_mark_stack_overflow");
  sgc_mark_entry *buf = cur_entries;
  if (buf == NULL || top <= buf || top > buf + PROC_ENTRIES)
    sgc_fatal("sgc_mark_stack_overflow(%p): not this procedure's entry "
              "stack", (void *)top);
  /* Entries buf[1..top-1] are complete; top is the slot the procedure is
   * about to fill.  Move the complete ones out and hand it slot 1. */
  flush_entries(w, buf, top - 1);
  return buf + 1;
}

void sgc_push_range(void *lo, void *hi) {
  gcwork *w = current_work("sgc_push_range");
  uintptr_t l = ((uintptr_t)lo + 7) & ~(uintptr_t)7;
  /* Inside a mark procedure of an aging minor: scanned now, as part of
   * the procedure's object, whose age decides what it promotes
   * (rule:old-points-to-old); memory outside the heap a procedure pushes
   * has no age of its own. */
  if (work.aging && cur_entries != NULL) {
    scan_words(w, l, (uintptr_t)hi);
    return;
  }
  /* A range outside the heap that could not be pushed is scanned now: no
   * overflow pass would find it again. */
  if ((uintptr_t)hi > l && !try_push(w, l, (uintptr_t)hi))
    scan_range(w, l, (uintptr_t)hi);
}

/* The span of p for the mark-bit calls, inside a no-preempt region (an
 * outsider's on an unregistered thread; nothing on a marker, which runs
 * inside the collection).  During a mark every span is swept already.
 * Between collections the span is swept first
 * [rule:mark-bit-calls-sweep-first]: a span not yet swept since the last
 * mark is freed by its bits, so clearing a live object's bit there made
 * the lazy sweep free it (the program kept a dangling pointer), setting
 * one kept a dead object, and the allocation state read there could be
 * the one a sweep was resetting. */
static mspan *mark_bit_span(const void *p, mcache **token) {
  *token = nopreempt_enter_any();
  if (ATOMIC_LOAD(&sgc_heap.gcmarking))
    return mheap_lookup((uintptr_t)p);
  return swept_span_of((uintptr_t)p);
}

void sgc_set_mark_bit(const void *p) {
  mcache *token;
  mspan *s = mark_bit_span(p, &token);
  if (s == NULL)
    goto out;
  uint32_t i = mspan_obj_index(s, (uintptr_t)p);
  if (!mspan_is_allocated(s, i))
    goto out; /* a free slot: nothing to keep */
  /* In an aging minor, marked by a mark procedure of an object that will
   * be old: promoted, since that procedure may never run for it again
   * (rule:old-points-to-old); pushed again if marked already, as
   * mark_word does.  Marked by a young object's procedure or a root
   * callback (which run again while it is young), or by the collector
   * (doomed finalizable objects), it stays young. */
  gcwork *w = cur_work;
  bool again = ATOMIC_LOAD_RELAXED(&sgc_heap.gcmarking) && work.aging &&
               w != NULL && w->src_old && promote_young(w, s, i) &&
               ((__atomic_load_n(&s->markbits[i >> 6], __ATOMIC_SEQ_CST) >>
                 (i & 63)) & 1);
  __atomic_fetch_or(&s->markbits[i >> 6], (uint64_t)1 << (i & 63),
                    __ATOMIC_SEQ_CST);
  if (again)
    push_marked(w, s, i, false);
  if (gc.verify)
    mark_verify_note_unscanned(s->base + (uintptr_t)i * s->elemsize);
  /* The flag after the bit, a fence between: mheap_clear_marks resets
   * the flag, fences, then clears; either its clear comes after this bit,
   * or the flag set below comes after its reset
   * (rule:marks-cleared-before-the-stop). */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (ATOMIC_LOAD_RELAXED(&sgc_heap.concmark)) {
    /* During a concurrent mark: the object is black now, unscanned, so
     * the final stop rescans every marked object (concurrent.c). */
    ATOMIC_STORE(&work.remark_all, 1);
  } else if (!ATOMIC_LOAD_RELAXED(&sgc_heap.gcmarking)) {
    ATOMIC_STORE(&sgc_heap.stale_marks, 1);
  }
out:
  nopreempt_leave_any(token);
}

void sgc_clear_mark_bit(const void *p) {
  mcache *token;
  mspan *s = mark_bit_span(p, &token);
  if (s == NULL)
    goto out;
  /* During a concurrent mark, for the reason a minor mark ignores it:
   * whatever references the object may have been scanned already. */
  if (ATOMIC_LOAD_RELAXED(&sgc_heap.concmark))
    goto out;
  if (sgc_sticky) {
    /* With generations a mark is also "old": a minor collection's
     * markers would never reach again an old object whose mark went (what
     * references it is not rescanned), so during a minor mark the call
     * does nothing, and between collections it makes the next one major
     * (generation.c). */
    if (ATOMIC_LOAD_RELAXED(&sgc_heap.gcmarking) && work.minor)
      goto out;
    if (!ATOMIC_LOAD_RELAXED(&sgc_heap.gcmarking))
      ATOMIC_STORE(&sgc_heap.stale_marks, 1);
  }
  uint32_t i = mspan_obj_index(s, (uintptr_t)p);
  bitmap_clear_atomic(s->markbits, i);
out:
  nopreempt_leave_any(token);
}

int sgc_is_marked(const void *p) {
  mcache *token;
  mspan *s = mark_bit_span(p, &token);
  int r = s != NULL &&
          bitmap_get(s->markbits, mspan_obj_index(s, (uintptr_t)p));
  nopreempt_leave_any(token);
  return r;
}

/* For the other subsystems' roots (finalizer.c, fiber.c). */
void mark_root_word(gcwork *w, uintptr_t v) { mark_word(w, v); }
void mark_push_range(gcwork *w, uintptr_t lo, uintptr_t hi) {
  push_or_scan(w, lo, hi);
}

/* Is the object containing p marked?  (World stopped, after marking.) */
bool mark_is_marked(uintptr_t p) {
  mspan *s = mheap_lookup(p);
  if (s == NULL)
    return false;
  uint32_t i = mspan_obj_index(s, p);
  return bitmap_get(s->markbits, i) || MSPAN_RARE_BIT(s, finqbits, i);
}

/* ---------------------------------------------------------- markers */

/* Pop ranges and scan them.  Popped ranges pass through a small FIFO
 * ring and are prefetched on entry, so that by the time one is scanned
 * its memory is on its way (the heap is walked in an order no hardware
 * prefetcher guesses).  Up to PREFETCH_LINES cache lines of a range are
 * asked for, not only its first: the hardware prefetcher starts on an
 * object only after its first misses, and a scan of objects of a few
 * hundred bytes is a string of such starts (the pause test, 200000
 * objects of 1 KiB, stop-the-world majors: marking took 139 ms a run
 * with the first line prefetched, 77 ms with 16 lines, 80 ms with 32 or
 * 64; objects of one line, binary-trees and GCBench, unchanged).  A
 * descriptor item's second word is its descriptor, not its end: one
 * line. */
#define RING 8
#define PREFETCH_LINES 16
static inline void prefetch_item(uintptr_t lo, uintptr_t hi) {
  uintptr_t a = lo & ~(uintptr_t)ITEM_DESCR;
  uintptr_t end = (lo & ITEM_DESCR) ? a + 1 : hi;
  for (int k = 0; k < PREFETCH_LINES && a < end; k++, a += 64)
    __builtin_prefetch((void *)a);
}
/* until_done: wait for work until the mark is over (getfull); else
 * return once no work is at hand (trygetfull), the mark going on. */
static inline void drain_work(gcwork *w, bool until_done) {
  struct { uintptr_t lo, hi; } ring[RING];
  unsigned head = 0, n = 0, tick = 0;
  for (;;) {
    /* With the program running, what is marked is reported every 256
     * items: the assists' pacing follows it (concurrent.c). */
    if (unlikely((++tick & 255) == 0) && work.concurrent)
      report_progress(w);
    workbuf *b = w->wbuf;
    if (b == NULL || b->n == 0) {
      if (n > 0) { /* scan what the ring holds before looking for more */
        unsigned k = (head - n) % RING;
        n--;
        scan_item(w, ring[k].lo, ring[k].hi);
        continue;
      }
      if (b) {
        putempty(b);
        w->wbuf = NULL;
      }
      b = until_done ? getfull(w) : trygetfull();
      if (b == NULL)
        return;
      w->wbuf = b;
      continue;
    }
    b->n--;
    uintptr_t lo = b->item[b->n].lo, hi = b->item[b->n].hi;
    /* A long range is cut: the rest goes back as work.  Without a buffer
     * for it the whole range is scanned now: it may be a stack or a root,
     * which no overflow pass rescans. */
    if (!(lo & ITEM_DESCR) && hi - lo > SCAN_CHUNK &&
        try_push(w, lo + SCAN_CHUNK, hi))
      hi = lo + SCAN_CHUNK;
    prefetch_item(lo, hi);
    if (n == RING) {
      unsigned k = (head - n) % RING;
      n--;
      uintptr_t olo = ring[k].lo, ohi = ring[k].hi;
      ring[head % RING].lo = lo;
      ring[head % RING].hi = hi;
      head++;
      n++;
      scan_item(w, olo, ohi);
    } else {
      ring[head % RING].lo = lo;
      ring[head % RING].hi = hi;
      head++;
      n++;
    }
  }
}

void drain(gcwork *w) { drain_work(w, true); }

/* One marker's share of the mark: root jobs until none is left, then heap
 * work until every marker is idle.  Once the jobs a marker ran since its
 * last drain shared JOB_DRAIN_BUFS full buffers (1 MiB), it drains before
 * taking the next job: the work pool then holds about that much a marker,
 * not all the roots' findings (a minor of binary-trees 21, its young
 * tree reached from 46000 written pages, filled the pool to its 64 MiB
 * cap before the first drain: 30-80 MB of the run's peak RSS).  Not after
 * every job: in a minor, an object a drain marks is rescanned as old by a
 * later job whose written page holds it (the pause test's minors rescanned
 * 183000 objects instead of 85000, their marks 1.6 times longer).  That
 * drain returns, rather than waiting, once no work is at hand: the other
 * markers may still have jobs to run. */
#define JOB_DRAIN_BUFS 256
void mark_worker(mark_result *res) {
  gcwork w = {0};
  for (;;) {
    uint32_t k = ATOMIC_ADD(&work.jobidx, 1) - 1;
    if (k >= work.njobs)
      break;
    run_job(&w, &work.jobs[k]);
    if (w.nputfull >= JOB_DRAIN_BUFS && !work.roots_only) {
      drain_work(&w, false);
      w.nputfull = 0;
    }
  }
  if (work.roots_only) {
    /* The initial stop of a concurrent mark: what the roots reached is
     * drained after the world restarts. */
    if (w.wbuf && w.wbuf->n)
      putfull(w.wbuf);
    else if (w.wbuf)
      putempty(w.wbuf);
    w.wbuf = NULL;
  } else {
    drain(&w);
  }
  flush_deferred(&w);
  SGC_ASSERT(w.wbuf == NULL);
  report_progress(&w);
  ATOMIC_ADD(&res->marked_bytes, w.marked_bytes);
  ATOMIC_ADD(&res->noscan_bytes, w.noscan_bytes);
  ATOMIC_ADD(&res->nobj, w.nobj);
  ATOMIC_ADD(&res->nsteal, w.nsteal);
  ATOMIC_ADD(&res->nhandoff, w.nhandoff);
  ATOMIC_ADD(&res->ndirty, w.ndirty);
  aging_add_promoted(w.npromoted);
}
