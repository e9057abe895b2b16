/*
 * mark.c — the parallel, conservative mark phase.
 *
 * Runs with the world stopped, over the spans snapshot the collector took.
 * Work is a set of ranges to scan.  Each marker keeps one work buffer of
 * its own; full buffers go to a shared list, from which idle markers take
 * (steal) them, and a busy marker hands half of its buffer over when some
 * marker is waiting.  Nothing recurses on the C stack.
 *
 * Roots are spread over the markers dynamically: a table of root jobs
 * (data/bss chunks, user roots, thread stacks, the finalizer queue, the
 * finalizer specials of span chunks) and an atomic cursor.
 *
 * Conservative scanning: every aligned word in a range that points into an
 * allocated object of an in-use span (anywhere inside it) marks the
 * object; free slots, span tails and free spans are ignored.  A newly
 * marked object of a scan span is pushed for scanning; noscan objects are
 * never scanned.  Large objects are scanned in 64 KiB pieces so that
 * markers can share one.
 *
 * Finalizable objects are not roots of the parallel phase:
 * mark_finalizers marks what they reference afterwards (see there).
 *
 * Kinds (kind.c): an object of a descriptor kind is pushed as a tagged
 * item, (base | 1, descriptor), and scanned by scan_descr: a length, a
 * bitmap, a per-object descriptor, or a call to a mark procedure, which
 * gets a small entry stack on the marker's own stack (entries it pushes
 * are moved into the marker's work buffer when it returns, or when it
 * reports the small stack full).  Uncollectable objects and what a root
 * callback pushes are roots.
 *
 * Bounded memory: work buffers come from the OS up to a cap
 * (SPANGC_MARK_STACK_MAX, default 64 MiB).  When no buffer can be had, the
 * object stays marked but unscanned and 'overflow' is set; after the
 * parallel phase the collector rescans every marked object of the heap
 * until a pass ends without overflow.
 *
 * The scanning functions read words the sanitizers cannot reason about
 * (other threads' stacks, uninitialised stack slots, redzones), so exactly
 * those are exempt from ASan and TSan by attribute.
 *
 * work.lock guards the buffer lists and the waiting count.
 */
#include <link.h>
#include <malloc.h>
#include <stdlib.h>

#include "spangc-int.h"

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

typedef struct gcwork {
  workbuf *wbuf;
  uint64_t marked_bytes;
  uint64_t nobj;
  uint64_t nsteal, nhandoff;
  uint64_t ndirty; /* old objects rescanned on written pages */
} gcwork;

extern char __start_spangc_nogc[] __attribute__((visibility("hidden")));
extern char __stop_spangc_nogc[] __attribute__((visibility("hidden")));

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  workbuf *full, *empty;
  uint64_t nbufs, maxbufs;
  int nwait, nproc, done;
  int overflow; /* atomic */

  rootjob *jobs;
  uint32_t njobs, capjobs, jobidx; /* jobidx atomic */

  mspan **spans; /* the snapshot */
  uint32_t nspan;
  uint64_t prepare_marked, prepare_nobj; /* by the root callback */
  bool minor; /* this mark is a minor collection's */
  uintptr_t arena_start, arena_used;
} work SGC_NOGC = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

/* ---------------------------------------------------------- workbufs */

static workbuf *getempty(void) {
  pthread_mutex_lock(&work.lock);
  workbuf *b = work.empty;
  if (b) {
    work.empty = b->next;
  } else if (work.nbufs < work.maxbufs) {
    /* 16 at a time, fewer when the cap is near. */
    uint64_t n = work.maxbufs - work.nbufs < 16 ? work.maxbufs - work.nbufs
                                                : 16;
    b = os_alloc(n * sizeof(workbuf));
    if (b) {
      work.nbufs += n;
      ATOMIC_ADD(&sgc_heap.sys_meta, n * sizeof(workbuf));
      for (uint64_t i = 1; i < n; i++) {
        b[i].next = work.empty;
        work.empty = &b[i];
      }
    }
  }
  pthread_mutex_unlock(&work.lock);
  if (b)
    b->n = 0;
  return b;
}

static void putfull(workbuf *b) {
  pthread_mutex_lock(&work.lock);
  b->next = work.full;
  ATOMIC_STORE_RELAXED(&work.full, b);
  if (work.nwait)
    pthread_cond_signal(&work.cond);
  pthread_mutex_unlock(&work.lock);
}

static void putempty(workbuf *b) {
  pthread_mutex_lock(&work.lock);
  b->next = work.empty;
  work.empty = b;
  pthread_mutex_unlock(&work.lock);
}

/* A full buffer, waiting for one; NULL when every marker is idle and no
 * work is left: the mark is over. */
static workbuf *getfull(gcwork *w) {
  pthread_mutex_lock(&work.lock);
  for (;;) {
    if (work.full) {
      workbuf *b = work.full;
      ATOMIC_STORE_RELAXED(&work.full, b->next);
      pthread_mutex_unlock(&work.lock);
      w->nsteal++;
      return b;
    }
    if (work.done)
      break;
    ATOMIC_STORE_RELAXED(&work.nwait, work.nwait + 1);
    if (work.nwait == work.nproc) {
      work.done = 1;
      ATOMIC_STORE_RELAXED(&work.nwait, work.nwait - 1);
      pthread_cond_broadcast(&work.cond);
      break;
    }
    pthread_cond_wait(&work.cond, &work.lock);
    ATOMIC_STORE_RELAXED(&work.nwait, work.nwait - 1);
  }
  pthread_mutex_unlock(&work.lock);
  return NULL;
}

/* A work item is a range [lo, hi) of words to scan conservatively, or,
 * with bit 0 of lo set, an object base and its descriptor. */
#define ITEM_DESCR 1

/* Push an item; false if no buffer can be had (nothing pushed). */
static bool try_push(gcwork *w, uintptr_t lo, uintptr_t hi) {
  workbuf *b = w->wbuf;
  if (b == NULL || b->n == WB_ITEMS) {
    workbuf *nb = getempty();
    if (nb == NULL)
      return false;
    if (b)
      putfull(b);
    w->wbuf = b = nb;
  } else if (b->n > 4 && ATOMIC_LOAD_RELAXED(&work.nwait) > 0 &&
             ATOMIC_LOAD_RELAXED(&work.full) == NULL) {
    /* Someone is idle and nothing is shared: hand over half of ours. */
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

/* Push (part of) a marked heap object; when no buffer can be had, the
 * object stays marked but unscanned, and the overflow passes, which
 * rescan every marked object, will find it.  Only for marked objects:
 * anything else pushed must go through push_or_scan. */
static void push(gcwork *w, uintptr_t lo, uintptr_t hi) {
  if (!try_push(w, lo, hi))
    ATOMIC_STORE(&work.overflow, 1);
}

static void scan_range(gcwork *w, uintptr_t lo, uintptr_t hi);

/* Push a range that no overflow pass would find again (a stack, a root,
 * an object kept unmarked for its finalizer); when no buffer can be had,
 * scan it now.  Scanning only marks and pushes objects, so this never
 * recurses. */
static void push_or_scan(gcwork *w, uintptr_t lo, uintptr_t hi) {
  if (!try_push(w, lo, hi))
    scan_range(w, lo, hi);
}

/* ------------------------------------------------------------ marking */

static inline void mark_word(gcwork *w, uintptr_t v) {
  if (v - work.arena_start >= work.arena_used - work.arena_start)
    return;
  /* The table may change under the markers (spans made while marking:
   * see design.md), hence atomic loads.  A span's fields are written
   * before its state becomes INUSE (a release store); the acquire load of
   * the state orders the reads of the fields after them. */
  mspan *s = ATOMIC_LOAD_RELAXED(
      &sgc_heap.spans[(v - work.arena_start) >> PAGE_SHIFT]);
  if (s == NULL || ATOMIC_LOAD(&s->state) != MSPAN_INUSE ||
      v >= s->limit)
    return;
  uint32_t i = mspan_obj_index(s, v);
  if (!mspan_is_allocated(s, i))
    return;
  uint64_t bit = (uint64_t)1 << (i & 63);
  uint64_t *word = &s->markbits[i >> 6];
  if (ATOMIC_LOAD_RELAXED(word) & bit)
    return;
  if (__atomic_fetch_or(word, bit, __ATOMIC_RELAXED) & bit)
    return;
  w->marked_bytes += s->elemsize;
  w->nobj++;
  const kind_info *k = &sgc_kinds[spanclass_kind(s->spanclass)];
  if (k->scan == SCAN_NONE)
    return;
  uintptr_t base = s->base + (uintptr_t)i * s->elemsize;
  if (likely(k->scan == SCAN_CONSERVATIVE))
    push(w, base, base + s->elemsize);
  else
    push(w, base | ITEM_DESCR, k->descr + (k->add_size ? s->elemsize : 0));
}

/* Scan object 'base' of span s now, by its kind (not marking it). */
static void scan_object(gcwork *w, mspan *s, uintptr_t base);

/* Every aligned word of [lo, hi). */
SCAN_NO_SANITIZE static void scan_range(gcwork *w, uintptr_t lo,
                                        uintptr_t hi) {
  lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
  for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t))
    mark_word(w, *(volatile uintptr_t *)p);
}

/* ------------------------------------------------- descriptors, procs */

static __thread gcwork *cur_work;  /* the marker's, inside a proc/callback */
static __thread sgc_mark_entry *cur_entries;

#define PROC_ENTRIES 256

static void scan_descr(gcwork *w, uintptr_t base, uintptr_t descr);

/* Set while scanning an object the mark left unmarked (finalization): a
 * large one is scanned whole rather than in pushed pieces, since a piece
 * dropped for want of buffers would not be found by the overflow passes,
 * which rescan marked objects only. */
static __thread bool scan_whole;

/* An entry a mark procedure pushed: into the work buffer.  With no
 * buffer left it is scanned at once (nested procedure calls up to a small
 * depth): an entry may describe memory outside the heap, which no
 * overflow rescan would find again, so dropping entries could make a
 * procedure that always pushes more than the buffers hold loop for ever. */
static __thread int entry_depth;

static void push_entry(gcwork *w, uintptr_t start, uintptr_t descr) {
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
  if (try_push(w, lo, hi))
    return;
  if (entry_depth >= 8) {
    ATOMIC_STORE(&work.overflow, 1);
    return;
  }
  entry_depth++;
  if (lo & ITEM_DESCR)
    scan_descr(w, start, descr);
  else
    scan_range(w, lo, hi);
  entry_depth--;
}

static void flush_entries(gcwork *w, sgc_mark_entry *buf,
                          sgc_mark_entry *top) {
  for (sgc_mark_entry *e = buf + 1; e <= top; e++)
    push_entry(w, (uintptr_t)e->start, e->descr);
}

SCAN_NO_SANITIZE static void call_proc(gcwork *w, uintptr_t base,
                                       uintptr_t descr) {
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

/* An extended bitmap (PROC_EXT_BITMAP) over the words at base. */
SCAN_NO_SANITIZE static void scan_ext_bitmap(gcwork *w, uintptr_t base,
                                             uintptr_t env) {
  if (env >= ATOMIC_LOAD_RELAXED(&sgc_n_ext_bitmaps))
    sgc_fatal("collect: object %p has a bad typed descriptor", (void *)base);
  const ext_bitmap *e = sgc_ext_bitmaps[env];
  const uintptr_t *wp = (const uintptr_t *)base;
  for (size_t i = 0; i < e->nwords; i++)
    if ((e->bits[i / 64] >> (i % 64)) & 1)
      mark_word(w, *(volatile const uintptr_t *)&wp[i]);
}

/* A typed array (PROC_ARRAY): elements until the descriptor word. */
static void scan_array(gcwork *w, uintptr_t base, uintptr_t env) {
  if (env >= ATOMIC_LOAD_RELAXED(&sgc_n_array_descrs))
    sgc_fatal("collect: object %p has a bad array descriptor", (void *)base);
  array_descr a = sgc_array_descrs[env];
  mspan *s = mheap_lookup(base);
  if (s == NULL)
    return;
  size_t n = (s->elemsize - sizeof(uintptr_t)) / a.elemsize;
  for (size_t k = 0; k < n; k++)
    scan_descr(w, base + k * a.elemsize, a.descr);
}

/* Scan the object at base as descriptor d says. */
SCAN_NO_SANITIZE static void scan_descr(gcwork *w, uintptr_t base,
                                        uintptr_t d) {
  for (int depth = 0; depth < 4; depth++) {
    switch (d & 3) {
    case SGC_DS_LENGTH:
      /* The rest is pushed if a buffer can be had (the object may not be
       * a marked heap object: an entry of a mark procedure), else scanned
       * now with the first piece. */
      if (d > SCAN_CHUNK && !scan_whole &&
          try_push(w, base + SCAN_CHUNK, base + d))
        d = SCAN_CHUNK;
      scan_range(w, base, base + d);
      return;
    case SGC_DS_BITMAP: {
      const uintptr_t *wp = (const uintptr_t *)base;
      uintptr_t bits = d & ~(uintptr_t)3;
      for (int i = 0; bits; i++, bits <<= 1)
        if (bits >> 63)
          mark_word(w, *(volatile const uintptr_t *)&wp[i]);
      return;
    }
    case SGC_DS_PROC: {
      unsigned idx = (unsigned)(d >> SGC_DS_TAG_BITS) & (MAX_MARK_PROCS - 1);
      uintptr_t env = d >> (SGC_DS_TAG_BITS + SGC_LOG_MAX_MARK_PROCS);
      if (idx == PROC_EXT_BITMAP)
        scan_ext_bitmap(w, base, env);
      else if (idx == PROC_ARRAY)
        scan_array(w, base, env);
      else
        call_proc(w, base, d);
      return;
    }
    case SGC_DS_PER_OBJECT:
      if ((intptr_t)d >= 0) {
        d = *(volatile uintptr_t *)(base + (d - SGC_DS_PER_OBJECT));
      } else {
        uintptr_t type = *(volatile uintptr_t *)base;
        if (type == 0)
          return; /* not set up yet */
        d = *(volatile uintptr_t *)(type - (d - SGC_DS_PER_OBJECT +
                                            SGC_INDIR_PER_OBJ_BIAS));
      }
      if (d == 0)
        return; /* allocated, descriptor not stored yet */
      break;
    }
  }
}

static void scan_object(gcwork *w, mspan *s, uintptr_t base) {
  const kind_info *k = &sgc_kinds[spanclass_kind(s->spanclass)];
  if (k->scan == SCAN_CONSERVATIVE) {
    if (s->elemsize > SCAN_CHUNK && !scan_whole)
      push(w, base, base + s->elemsize);
    else
      scan_range(w, base, base + s->elemsize);
  } else if (k->scan == SCAN_DESCR) {
    scan_descr(w, base, k->descr + (k->add_size ? s->elemsize : 0));
  }
}

static inline void scan_item(gcwork *w, uintptr_t lo, uintptr_t hi) {
  if (lo & ITEM_DESCR)
    scan_descr(w, lo & ~(uintptr_t)ITEM_DESCR, hi);
  else
    scan_range(w, lo, hi);
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
  /* A range outside the heap that could not be pushed is scanned now: no
   * overflow pass would find it again. */
  if ((uintptr_t)hi > l && !try_push(w, l, (uintptr_t)hi))
    scan_range(w, l, (uintptr_t)hi);
}

void sgc_set_mark_bit(const void *p) {
  mspan *s = mheap_lookup((uintptr_t)p);
  if (s == NULL)
    return;
  uint32_t i = mspan_obj_index(s, (uintptr_t)p);
  if (!mspan_is_allocated(s, i))
    return; /* a free slot: nothing to keep */
  if (!ATOMIC_LOAD_RELAXED(&sgc_heap.gcmarking))
    ATOMIC_STORE(&sgc_heap.stale_marks, 1);
  bitmap_set_atomic(s->markbits, i);
}

void sgc_clear_mark_bit(const void *p) {
  mspan *s = mheap_lookup((uintptr_t)p);
  if (s == NULL)
    return;
  if (sgc_sticky) {
    /* With generations a mark is also "old": a minor collection's
     * markers would never reach again an old object whose mark went (what
     * references it is not rescanned), so during a minor mark the call
     * does nothing, and between collections it makes the next one major
     * (generation.c). */
    if (ATOMIC_LOAD_RELAXED(&sgc_heap.gcmarking) && work.minor)
      return;
    if (!ATOMIC_LOAD_RELAXED(&sgc_heap.gcmarking))
      ATOMIC_STORE(&sgc_heap.stale_marks, 1);
  }
  uint32_t i = mspan_obj_index(s, (uintptr_t)p);
  bitmap_clear_atomic(s->markbits, i);
}

int sgc_is_marked(const void *p) {
  mspan *s = mheap_lookup((uintptr_t)p);
  if (s == NULL)
    return 0;
  return bitmap_get(s->markbits, mspan_obj_index(s, (uintptr_t)p));
}

/* Pop ranges and scan them.  Popped ranges pass through a small FIFO
 * ring and are prefetched on entry, so that by the time one is scanned
 * its memory is on its way (the heap is walked in an order no hardware
 * prefetcher guesses). */
#define RING 8
static void drain(gcwork *w) {
  struct { uintptr_t lo, hi; } ring[RING];
  unsigned head = 0, n = 0;
  for (;;) {
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
      b = getfull(w);
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
    __builtin_prefetch((void *)(lo & ~(uintptr_t)ITEM_DESCR));
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

/* ---------------------------------------------------------- root jobs */

/* Out of memory for a table of roots: the collection cannot see all of
 * its roots and is abandoned (mark_prepare returns false). */
static bool tables_oom SGC_NOGC;

static void add_job(int kind, uintptr_t lo, uintptr_t hi, void *p) {
  if (work.njobs == work.capjobs) {
    uint32_t cap = work.capjobs ? work.capjobs * 2 : 1024;
    rootjob *j = os_alloc(cap * sizeof(rootjob));
    if (j == NULL) {
      tables_oom = true;
      return;
    }
    if (work.jobs) {
      memcpy(j, work.jobs, work.njobs * sizeof(rootjob));
      os_free(work.jobs, work.capjobs * sizeof(rootjob));
    }
    work.jobs = j;
    work.capjobs = cap;
  }
  work.jobs[work.njobs++] = (rootjob){kind, lo, hi, p};
}

/* A range of memory to scan as a root, cut in 256 KiB jobs, with the
 * runtime's own section (spangc_nogc) cut out. */
static void add_range_job(uintptr_t lo, uintptr_t hi, void *unused) {
  uintptr_t xlo = (uintptr_t)__start_spangc_nogc;
  uintptr_t xhi = (uintptr_t)__stop_spangc_nogc;
  if (lo < xhi && xlo < hi) {
    if (lo < xlo)
      add_range_job(lo, xlo, NULL);
    if (xhi < hi)
      add_range_job(xhi, hi, NULL);
    return;
  }
  for (uintptr_t p = lo; p < hi; p += 256 << 10)
    add_job(ROOT_RANGE, p, hi - p > (256 << 10) ? p + (256 << 10) : hi, NULL);
}

/* What the loaded objects contribute to the roots, recorded by
 * mark_record_segments while the collector holds the dynamic loader's
 * lock (see gc.c: the world is stopped from inside dl_iterate_phdr, so no
 * stopped thread can hold that lock, and nothing is loaded or unloaded
 * until the world restarts): their writable segments [lo, hi), and the
 * modules with thread-local storage (module id, size of its block). */
typedef struct pairs {
  uintptr_t (*r)[2];
  uint32_t n, cap;
} pairs;
static pairs segs SGC_NOGC, tlsmods SGC_NOGC;

void mark_segments_reset(void) {
  segs.n = 0;
  tlsmods.n = 0;
  tables_oom = false;
}

static void pairs_add(pairs *t, uintptr_t a, uintptr_t b) {
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    uintptr_t(*r)[2] = os_alloc(cap * sizeof *r);
    if (r == NULL) {
      tables_oom = true;
      return;
    }
    if (t->r) {
      memcpy(r, t->r, t->n * sizeof *r);
      os_free(t->r, t->cap * sizeof *r);
    }
    t->r = r;
    t->cap = cap;
  }
  t->r[t->n][0] = a;
  t->r[t->n][1] = b;
  t->n++;
}

void mark_record_segments(struct dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_TLS && info->dlpi_tls_modid != 0 && ph->p_memsz)
      pairs_add(&tlsmods, info->dlpi_tls_modid, ph->p_memsz);
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
      continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    pairs_add(&segs, lo, lo + ph->p_memsz);
  }
}

/* A thread's thread-local storage, found through the C library's dynamic
 * thread vector (glibc, x86-64): the TCB's second word points at entry 1
 * of an array of 16-byte entries; entry -1 holds the array's length and
 * entry k the address of module k's block in this thread, or -1 until the
 * thread first touches it.  That covers the static TLS of the executable
 * and of the libraries loaded at start-up (the main thread's included,
 * which lies outside its stack), and the blocks of dlopen'ed libraries,
 * which the C library allocates on first use.  Only modules loaded now
 * are scanned: a dlclose'd module's blocks are garbage.  See design.md,
 * "Roots", for the hazards. */
#define DTV_MAX_LEN ((uintptr_t)1 << 20) /* more is a vector being replaced */
typedef struct dtv_entry {
  uintptr_t val, to_free;
} dtv_entry;

SCAN_NO_SANITIZE static void scan_thread_tls(gcwork *w, mthread *t) {
  if (t->tcb == 0 || tlsmods.n == 0)
    return;
  const dtv_entry *dtv = *(dtv_entry *const *)(t->tcb + sizeof(void *));
  if (dtv == NULL)
    return;
  uintptr_t len = dtv[-1].val;
  if (len > DTV_MAX_LEN)
    return;
  for (uint32_t k = 0; k < tlsmods.n; k++) {
    uintptr_t id = tlsmods.r[k][0], size = tlsmods.r[k][1];
    if (id > len)
      continue;
    uintptr_t b = dtv[id].val, from = dtv[id].to_free, end = b + size;
    if (b == 0 || b == UINTPTR_MAX)
      continue;
    /* A block the C library allocated (dynamic TLS) is never read past
     * its end: an entry not yet brought up to date may still name the
     * block of a closed library whose module id a bigger one now uses. */
    if (from != 0) {
      uintptr_t fend = from + malloc_usable_size((void *)from);
      if (fend < end)
        end = fend;
    }
    if (b < end)
      push_or_scan(w, b, end);
  }
}

static void add_thread_job(mthread *t, void *arg) {
  add_job(ROOT_THREAD, 0, 0, t);
}

/* A stopped thread: its registers, the stack it runs on from its saved
 * stack pointer up, its running fiber's object, and its own stack from
 * where it left it if a fiber runs on it. */
SCAN_NO_SANITIZE static void scan_thread(gcwork *w, mthread *t) {
  scan_range(w, (uintptr_t)&t->ctx, (uintptr_t)(&t->ctx + 1));
  scan_range(w, (uintptr_t)t->fpstate, (uintptr_t)t->fpstate + t->fpsize);
  scan_range(w, (uintptr_t)&t->ctx_now, (uintptr_t)(&t->ctx_now + 1));
  uintptr_t sp = t->sp;
  if (sp < t->stack_lo || sp > t->stack_hi)
    sgc_fatal("collect: thread %lu has a stack pointer %p outside its "
              "stack [%p, %p)", (unsigned long)t->tid, (void *)sp,
              (void *)t->stack_lo, (void *)t->stack_hi);
  scan_range(w, sp, t->stack_hi);
  scan_thread_tls(w, t);
  if (t->cur != &t->home) {
    mark_word(w, (uintptr_t)t->cur);
    push_or_scan(w, t->home.sp, t->home.hi);
  }
}

/* Scan a finalizable object's contents without marking it; with
 * ignore_self, words pointing into the object itself do not count. */
SCAN_NO_SANITIZE static void scan_finalizable(gcwork *w, mspan *s,
                                              uintptr_t obj, bool ignore_self) {
  int scan = sgc_kinds[spanclass_kind(s->spanclass)].scan;
  /* A suspended fiber references what its stack holds: a finalizer that
   * resumes it must find its locals. */
  if (scan == SCAN_CONSERVATIVE && s->elemsize >= sizeof(sgc_fiber))
    fiber_scan_kept(w, obj, s->elemsize);
  if (!ignore_self || scan == SCAN_NONE) {
    scan_object(w, s, obj);
    return;
  }
  /* Skipping self pointers needs every word in hand: an object with a
   * descriptor is scanned conservatively here (more is kept, never less,
   * and bdwgc does the same). */
  mark_scan_range_except(w, obj, obj + s->elemsize, obj, s->elemsize);
}

SCAN_NO_SANITIZE void mark_scan_range_except(gcwork *w, uintptr_t lo,
                                             uintptr_t hi, uintptr_t xlo,
                                             size_t xsize) {
  lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
  for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t)) {
    uintptr_t v = *(volatile uintptr_t *)p;
    if (v - xlo >= xsize)
      mark_word(w, v);
  }
}

/* Per-span roots of spans [lo, hi) of the snapshot: uncollectable objects
 * are marked (and so scanned), and so is every finalizer's arg.  What
 * finalizable objects reference is marked later (mark_finalizers), after
 * weak slots were cleared. */
static void scan_span_roots(gcwork *w, uint32_t lo, uint32_t hi) {
  for (uint32_t k = lo; k < hi; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
      continue;
    if (ATOMIC_LOAD_RELAXED(&s->hasuncoll)) {
      for (uint32_t j = 0; j < BITMAP_WORDS; j++) {
        uint64_t bits = ATOMIC_LOAD_RELAXED(&s->uncollbits[j]);
        for (; bits; bits &= bits - 1) {
          uint32_t i = j * 64 + (uint32_t)__builtin_ctzll(bits);
          mark_word(w, s->base + (uintptr_t)i * s->elemsize);
        }
      }
    }
    if (s->specials == NULL)
      continue;
    sgc_lock(&s->speciallock);
    for (special *sp = s->specials; sp; sp = sp->next) {
      if (sp->kind != SPECIAL_FINALIZER)
        continue;
      sp->doomed = 0;
      mark_word(w, (uintptr_t)sp->arg);
    }
    sgc_unlock(&s->speciallock);
  }
}

/* What sgc_set_root_callback set; run on the collecting thread. */
void (*sgc_root_callback)(void);

/* Old objects on pages written since the last collection (a minor
 * collection's roots, generation.c): every marked object of a scanned kind
 * overlapping [lo, hi) is scanned again.  Of a large object of the
 * conservative kind only the written part is; one with a descriptor is
 * scanned whole, as its descriptor describes it. */
static void scan_dirty(gcwork *w, uintptr_t lo, uintptr_t hi) {
  mheap *h = &sgc_heap;
  if (hi > work.arena_used)
    hi = work.arena_used;
  for (uintptr_t p = lo; p < hi;) {
    mspan *s = ATOMIC_LOAD_RELAXED(
        &h->spans[(p - work.arena_start) >> PAGE_SHIFT]);
    uintptr_t end = (p & ~(PAGE_SIZE - 1)) + PAGE_SIZE;
    if (s != NULL && s->base <= p && s->base + s->npages * PAGE_SIZE > p)
      end = s->base + s->npages * PAGE_SIZE;
    if (end > hi)
      end = hi;
    if (s != NULL && ATOMIC_LOAD(&s->state) == MSPAN_INUSE &&
        !spanclass_noscan(s->spanclass) && p < s->limit) {
      uintptr_t e = end < s->limit ? end : s->limit;
      if (s->nelems == 1) {
        if (bitmap_get_atomic(s->markbits, 0)) {
          if (sgc_kinds[spanclass_kind(s->spanclass)].scan ==
              SCAN_CONSERVATIVE)
            push(w, p & ~(uintptr_t)7, e);
          else
            scan_object(w, s, s->base);
        }
      } else {
        uint32_t i = mspan_obj_index(s, p), last = mspan_obj_index(s, e - 1);
        for (; i <= last; i++)
          if (bitmap_get_atomic(s->markbits, i)) {
            scan_object(w, s, s->base + (uintptr_t)i * s->elemsize);
            w->ndirty++;
          }
      }
    }
    p = end;
  }
}

static void run_job(gcwork *w, rootjob *j) {
  switch (j->kind) {
  case ROOT_RANGE:
    scan_range(w, j->lo, j->hi);
    break;
  case ROOT_THREAD:
    scan_thread(w, j->p);
    break;
  case ROOT_SPECIALS:
    scan_span_roots(w, (uint32_t)j->lo, (uint32_t)j->hi);
    break;
  case ROOT_FINQ:
    finalizer_scan_queue(w);
    break;
  case ROOT_DIRTY:
    scan_dirty(w, j->lo, j->hi);
    break;
  }
}

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
  return bitmap_get(s->markbits, i) || bitmap_get(s->finqbits, i);
}

void mark_queued_object(gcwork *w, uintptr_t p) {
  mspan *s = mheap_lookup(p);
  if (s == NULL)
    return;
  uint32_t i = mspan_obj_index(s, p);
  if (!mspan_is_allocated(s, i))
    return;
  bitmap_set_atomic(s->finqbits, i);
  if (bitmap_get_atomic(s->markbits, i))
    return; /* old, or reached otherwise: scanned as a marked object */
  scan_whole = true;
  scan_finalizable(w, s, s->base + (uintptr_t)i * s->elemsize, false);
  scan_whole = false;
}

/* -------------------------------------------------------------- markers */

/* One marker's share of the mark: root jobs until none is left, then heap
 * work until every marker is idle. */
void mark_worker(mark_result *res) {
  gcwork w = {0};
  for (;;) {
    uint32_t k = ATOMIC_ADD(&work.jobidx, 1) - 1;
    if (k >= work.njobs)
      break;
    run_job(&w, &work.jobs[k]);
  }
  drain(&w);
  SGC_ASSERT(w.wbuf == NULL);
  ATOMIC_ADD(&res->marked_bytes, w.marked_bytes);
  ATOMIC_ADD(&res->nobj, w.nobj);
  ATOMIC_ADD(&res->nsteal, w.nsteal);
  ATOMIC_ADD(&res->nhandoff, w.nhandoff);
  ATOMIC_ADD(&res->ndirty, w.ndirty);
}

/* Old objects of a minor collection (generation.c): what is marked now. */
static void count_old(gen_cycle *g) {
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
      continue;
    uint64_t n = 0;
    for (uint32_t j = 0; j < BITMAP_WORDS; j++)
      n += (uint64_t)__builtin_popcountll(s->markbits[j]);
    g->old_objects += n;
    g->old_bytes += n * s->elemsize;
  }
}

/* Set up the mark over the snapshot: the root table.  World stopped.  A
 * major collection (g->minor false) starts from no marks at all; a minor
 * one from the old objects' marks, with the written pages as more roots. */
bool mark_prepare(mspan **spans, uint32_t nspan, int nproc, gen_cycle *g) {
  mheap *h = &sgc_heap;
  work.spans = spans;
  work.nspan = nspan;
  work.arena_start = h->arena_start;
  work.arena_used = h->arena_used;
  if (work.maxbufs == 0) {
    const char *e = getenv("SPANGC_MARK_STACK_MAX");
    uint64_t max = e && *e ? strtoull(e, NULL, 10) : (uint64_t)64 << 20;
    work.maxbufs = max / sizeof(workbuf);
    if (work.maxbufs < 1) /* one, so that marking still progresses */
      work.maxbufs = 1;
  }
  /* Every span of the snapshot is swept, so its mark bits are clear,
   * unless some were set outside a mark (see mheap.stale_marks), or they
   * are old objects' (generation.c): a major collection clears them. */
  work.minor = g->minor;
  if (g->minor) {
    SGC_ASSERT(!ATOMIC_LOAD(&h->stale_marks));
    count_old(g);
  } else if (ATOMIC_LOAD(&h->stale_marks) || sgc_sticky) {
    ATOMIC_STORE(&h->stale_marks, 0);
    for (uint32_t k = 0; k < nspan; k++)
      if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE) {
        memset(spans[k]->markbits, 0, sizeof spans[k]->markbits);
      }
  }
#if SPANGC_DEBUG
  if (!g->minor)
    for (uint32_t k = 0; k < nspan; k++)
      if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE)
        for (uint32_t j = 0; j < BITMAP_WORDS; j++)
          SGC_ASSERT(spans[k]->markbits[j] == 0);
#endif
  work.njobs = 0;
  ATOMIC_STORE(&work.jobidx, 0);
  work.nproc = nproc;
  work.nwait = 0;
  work.done = 0;
  ATOMIC_STORE(&work.overflow, 0);

  for (uint32_t k = 0; k < segs.n; k++)
    add_range_job(segs.r[k][0], segs.r[k][1], NULL);
  roots_foreach(add_range_job, NULL);
  world_foreach_start_root(add_range_job, NULL);
  world_foreach_thread(add_thread_job, NULL);
  add_job(ROOT_FINQ, 0, 0, NULL);
  if (g->minor)
    for (uint32_t k = 0; k < g->nruns; k++)
      for (uintptr_t p = g->runs[k].lo; p < g->runs[k].hi; p += 256 << 10)
        add_job(ROOT_DIRTY, p,
                g->runs[k].hi - p > (256 << 10) ? p + (256 << 10)
                                                : g->runs[k].hi,
                NULL);
  for (uint32_t k = 0; k < nspan; k += 4096)
    add_job(ROOT_SPECIALS, k, nspan - k > 4096 ? k + 4096 : nspan, NULL);
  if (tables_oom)
    return false;

  /* The root callback runs here, on the collecting thread, before the
   * helpers start; what it pushes is shared out as full buffers. */
  work.prepare_marked = 0;
  work.prepare_nobj = 0;
  void (*cb)(void) = ATOMIC_LOAD(&sgc_root_callback);
  if (cb) {
    gcwork w = {0};
    cur_work = &w;
    cb();
    cur_work = NULL;
    if (w.wbuf && w.wbuf->n)
      putfull(w.wbuf);
    else if (w.wbuf)
      putempty(w.wbuf);
    work.prepare_marked = w.marked_bytes;
    work.prepare_nobj = w.nobj;
  }
  return true;
}

static void overflow_pass(mark_result *res);

/* Drain on the collector alone (after the parallel phase). */
static void drain_alone(gcwork *w) {
  work.nproc = 1;
  work.nwait = 0;
  work.done = 0;
  drain(w);
}

/* Serial passes scan into w and drain it whenever a buffer fills. */
static void drain_if_full(gcwork *w) {
  if (w->wbuf && w->wbuf->n == WB_ITEMS)
    drain_alone(w);
}

/* The end of a serial pass: drain w, count what it marked, and rescan
 * after any overflow (and reach newly reachable fibers). */
static void drain_and_finish(gcwork *w, mark_result *res) {
  drain_alone(w);
  res->marked_bytes += w->marked_bytes;
  res->nobj += w->nobj;
  mark_overflow_passes(res);
}

/* After the parallel phase: suspended fibers reachable only now (their
 * objects got marked) have their stacks scanned, until no new one is
 * found; and if a push failed, every marked object of a scan span is
 * rescanned until a pass completes without overflow.  Runs on the
 * collector alone. */
void mark_overflow_passes(mark_result *res) {
  res->marked_bytes += work.prepare_marked;
  res->nobj += work.prepare_nobj;
  work.prepare_marked = work.prepare_nobj = 0;
  for (;;) {
    gcwork w = {0};
    bool more = fibers_scan_marked(&w);
    if (more)
      drain_alone(&w);
    res->marked_bytes += w.marked_bytes;
    res->nobj += w.nobj;
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
        scan_object(&w, s, s->base + (uintptr_t)i * s->elemsize);
        drain_if_full(&w);
      }
  }
  drain_alone(&w);
  res->marked_bytes += w.marked_bytes;
  res->nobj += w.nobj;
}

/* Verifier (SPANGC_DEBUG=verify=1), world stopped, after mark: every
 * object that a marked scan object points to is marked, and no free slot
 * is marked. */
SCAN_NO_SANITIZE void mark_verify(void) {
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
      continue;
    for (uint32_t i = 0; i < s->nelems; i++) {
      if (!bitmap_get(s->markbits, i))
        continue;
      if (!mspan_is_allocated(s, i))
        sgc_fatal("verify: free slot %u of span %p is marked", i,
                  (void *)s->base);
      if (sgc_kinds[spanclass_kind(s->spanclass)].scan != SCAN_CONSERVATIVE)
        continue; /* descriptors: what is a pointer is theirs to say */
      uintptr_t b = s->base + (uintptr_t)i * s->elemsize;
      for (uintptr_t p = b; p < b + s->elemsize; p += sizeof(uintptr_t)) {
        uintptr_t v = *(uintptr_t *)p;
        mspan *t = mheap_lookup(v);
        if (t == NULL || fiber_bound_word(b, p - b))
          continue;
        uint32_t j = mspan_obj_index(t, v);
        if (mspan_is_allocated(t, j) && !bitmap_get(t->markbits, j) &&
            !bitmap_get(t->everfreedbits, j) &&
            !gen_page_was_freed(v)) {
          sgc_fatal("verify: object %p (marked, %zu bytes, kind %d) holds "
                    "at offset %zu %p, which is not marked (%zu bytes, kind "
                    "%d; %s collection)", (void *)b, s->elemsize,
                    spanclass_kind(s->spanclass), (size_t)(p - b),
                    (void *)v, t->elemsize,
                    spanclass_kind(t->spanclass),
                    work.minor ? "a minor" : "a major");
        }
      }
    }
  }
}

/* Verifier of a minor collection (SPANGC_DEBUG=verify=1), world stopped,
 * its mark complete: the marks are put aside, a full mark is made from
 * nothing on one marker, and every object it marks must have been marked
 * by the minor collection (old, or reached from the roots and the written
 * pages); then the minor's marks are put back, so that the collection goes
 * on exactly as it would have. */
/* The verifier found object i of span s reached by the full mark and not
 * by the minor one.  A bug shows as an object the minor marked (old, or
 * reached) that references it: named, then abort; so does a missed object
 * nothing in the heap references (a root the minor did not follow).
 * Forgiven: a missed object referenced only by other missed objects
 * (judged on their own) and by fiber stack bounds (a stack's end is the
 * next span's first object: full marks keep it, by conservatism). */
SCAN_NO_SANITIZE static void report_minor_miss(mspan *s, uint32_t i,
                                               mspan **spans, uint32_t n,
                                               uint64_t (*saved)[BITMAP_WORDS]) {
  uintptr_t x = s->base + (uintptr_t)i * s->elemsize;
  bool referenced = false;
  for (uint32_t k = 0; k < n; k++) {
    mspan *t = spans[k];
    if (ATOMIC_LOAD(&t->state) != MSPAN_INUSE || spanclass_noscan(t->spanclass))
      continue;
    for (uint32_t o = 0; o < t->nelems; o++) {
      if (!bitmap_get(t->markbits, o))
        continue;
      uintptr_t b = t->base + (uintptr_t)o * t->elemsize;
      for (uintptr_t p = b; p + 8 <= b + t->elemsize; p += 8) {
        uintptr_t v = *(uintptr_t *)p;
        if (v - x >= s->elemsize)
          continue;
        referenced = true;
        if (!bitmap_get(saved[k], o) || fiber_bound_word(b, p - b))
          continue;
        sgc_fatal("verify: a minor collection left object %p (%zu bytes) "
                  "unmarked, which a full mark reaches; the object %p "
                  "(%zu bytes, kind %d, %s by the minor) holds %p at "
                  "offset %zu", (void *)x, s->elemsize, (void *)b,
                  t->elemsize, spanclass_kind(t->spanclass),
                  bitmap_get(saved[k], o) ? "marked" : "unmarked",
                  (void *)v, (size_t)(p - b));
      }
    }
  }
  if (referenced)
    return;
  sgc_fatal("verify: a minor collection left object %p (%zu bytes) "
            "unmarked, which a full mark reaches from a root", (void *)x,
            s->elemsize);
}

void mark_verify_minor(void) {
  uint32_t n = work.nspan;
  mspan **spans = work.spans;
  size_t bytes = (size_t)n * sizeof spans[0]->markbits;
  uint64_t(*saved)[BITMAP_WORDS] = os_alloc(bytes ? bytes : 1);
  if (saved == NULL) {
    sgc_warn("verify: no memory to check a minor collection; not checked");
    return;
  }
  for (uint32_t k = 0; k < n; k++)
    if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE)
      memcpy(saved[k], spans[k]->markbits, sizeof saved[k]);
  fibers_reset_scanned(false);
  gen_cycle full = {.minor = false};
  if (!mark_prepare(spans, n, 1, &full)) {
    sgc_warn("verify: no memory for the full mark; minor not checked");
  } else {
    mark_result r = {0};
    mark_worker(&r);
    mark_overflow_passes(&r);
    work.minor = true; /* mark_prepare said otherwise */
    for (uint32_t k = 0; k < n; k++) {
      mspan *s = spans[k];
      if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
        continue;
      for (uint32_t j = 0; j < BITMAP_WORDS; j++) {
        uint64_t missed =
            s->markbits[j] & ~saved[k][j] & ~s->everfreedbits[j];
        if (missed && gen_page_was_freed(s->base))
          missed = 0; /* the span reuses a large object's freed pages */
        for (; missed; missed &= missed - 1)
          report_minor_miss(s, j * 64 + (uint32_t)__builtin_ctzll(missed),
                            spans, n, saved);
      }
    }
  }
  for (uint32_t k = 0; k < n; k++)
    if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE)
      memcpy(spans[k]->markbits, saved[k], sizeof saved[k]);
  fibers_reset_scanned(true);
  os_free(saved, bytes ? bytes : 1);
}

/* Finalization (world stopped, after the mark and after weak slots were
 * cleared), in three steps:
 *   1. what every unmarked ORDERED / IGNORE_SELF finalizable object
 *      references is marked (its contents are scanned, the object itself
 *      is not marked): a finalizable object reachable from another one is
 *      marked now and waits for a later cycle, which orders finalizers;
 *   2. every finalizable object still unmarked is doomed: the sweep queues
 *      its finalizer whatever happens next (UNREACHABLE ones wait);
 *   3. what doomed NO_ORDER objects reference is marked, so their
 *      finalizers find it intact (they may reference each other: all of
 *      them were doomed first);
 *   4. UNREACHABLE objects still unmarked are doomed: nothing at all
 *      reaches them, not even a finalizable object.
 * Weak slots were cleared before step 1: an object reachable only from
 * finalizable objects has its slots cleared before any finalizer runs. */
static bool unmarked_finalizable(mspan *s, special *sp) {
  return sp->kind == SPECIAL_FINALIZER &&
         !bitmap_get(s->markbits, mspan_obj_index(s, s->base + sp->offset));
}

/* Doomed objects survive this cycle (the sweep queues their finalizers):
 * marked now, so that what is decided after the mark (weak slots inside
 * them) sees them alive.  Their contents were scanned already. */
static void mark_doomed(void) {
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (sp->kind == SPECIAL_FINALIZER && sp->doomed)
        sgc_set_mark_bit((void *)(s->base + sp->offset));
  }
}

/* Steps 1-4; false if no finalizable object was left unmarked (nothing
 * is doomed). */
static bool doom_finalizables(mark_result *res) {
  gcwork w = {0};
  bool any = false;
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next) {
      if (!unmarked_finalizable(s, sp))
        continue;
      any = true;
      if (sp->mode == SGC_FIN_NO_ORDER)
        continue;
      scan_whole = true;
      scan_finalizable(&w, s, s->base + sp->offset,
                       sp->mode == SGC_FIN_IGNORE_SELF);
      scan_whole = false;
      drain_if_full(&w);
    }
  }
  if (!any)
    return false;
  drain_and_finish(&w, res);

  bool unordered = false, unreachable = false;
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (unmarked_finalizable(s, sp)) {
        if (sp->mode == SGC_FIN_UNREACHABLE) {
          unreachable = true;
          continue;
        }
        sp->doomed = 1;
        unordered |= sp->mode == SGC_FIN_NO_ORDER;
      }
  }
  if (!unordered && !unreachable)
    return true;
  gcwork w2 = {0};
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (sp->kind == SPECIAL_FINALIZER && sp->doomed &&
          sp->mode == SGC_FIN_NO_ORDER) {
        scan_whole = true;
        scan_finalizable(&w2, s, s->base + sp->offset, false);
        scan_whole = false;
        drain_if_full(&w2);
      }
  }
  drain_and_finish(&w2, res);
  if (!unreachable)
    return true;
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->specials == NULL)
      continue;
    for (special *sp = s->specials; sp; sp = sp->next)
      if (sp->mode == SGC_FIN_UNREACHABLE && unmarked_finalizable(s, sp))
        sp->doomed = 1;
  }
  return true;
}

void mark_finalizers(mark_result *res) {
  if (doom_finalizables(res))
    mark_doomed();
}
