/*
 * spangc-int.h — the one internal header: every type, constant and
 * cross-file function of the runtime.
 *
 * The heap is built the way the Go 1.3/1.4 runtime built it:
 *
 *   sgc_alloc -> mcache (per thread, no lock)
 *             -> mcentral (per span class, its own lock)
 *             -> mheap (page heap of spans, the heap lock)
 *             -> os (reserved arena, committed in chunks)
 *
 * An mspan is a run of pages.  An in-use small span is cut into objects of
 * one size class; a large object has a span of its own.  Every mspan struct
 * ever created is recorded in mheap.allspans.  mheap.spans maps every page
 * of the arena to the span that holds it, so "which span holds p" is one
 * load.  Each span carries its allocation bitmap, its mark bitmap and its
 * sweep generation, which the collector needs.
 *
 * The lock order is the table in lockrank.h.  No lock is held across a
 * call into the OS other than mheap.lock.
 */
#ifndef SPANGC_INT_H
#define SPANGC_INT_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spangc.h"

/* ---------------------------------------------------------------- config */

#define PAGE_SHIFT 13
#define PAGE_SIZE ((uintptr_t)1 << PAGE_SHIFT)
#define MAX_SMALL_SIZE SGC_MAX_SMALL_SIZE
#define NUM_CLASSES SGC_NUM_SIZE_CLASSES
#define KIND_BITS 4
#define NUM_KINDS (1 << KIND_BITS) /* SGC_MAX_KINDS */
#define NUM_SPANCLASSES (NUM_CLASSES << KIND_BITS)
#define MAX_OBJS_PER_SPAN 512
#define BITMAP_WORDS (MAX_OBJS_PER_SPAN / 64)
#define HEAP_GROW_MIN ((uintptr_t)1 << 20)
#define OBJ_ALIGN 16

/* ------------------------------------------------------------- assertions */

#if SPANGC_DEBUG
#define SGC_ASSERT(c)                                                          \
  ((c) ? (void)0 : sgc_throw_assert(#c, __FILE__, __LINE__))
#else
#define SGC_ASSERT(c) ((void)0)
#endif
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

_Noreturn void sgc_throw_assert(const char *cond, const char *file, int line);
/* Aborts with "spangc: <message>"; the message names the call and pointer. */
/* options.c: every SPANGC_ environment variable, read only through
 * sgc_option (getenv of a name the table has; abort otherwise). */
typedef struct sgc_option_def {
  const char *name;
  const char *readme; /* the README table's text for it */
} sgc_option_def;
const char *sgc_option(const char *name);
size_t sgc_options(const sgc_option_def **table);
_Noreturn void sgc_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void sgc_write_all(int fd, const char *buf, size_t n);
void sgc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The runtime's own state lives in this section, which the root scanner
 * skips: arena addresses kept there (bounds, cursors, snapshots) must
 * never keep an object alive. */
#define SGC_NOGC __attribute__((section("spangc_nogc")))

/* ---------------------------------------------------------------- atomics */

#define ATOMIC_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ATOMIC_LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define ATOMIC_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ATOMIC_STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ATOMIC_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define ATOMIC_CAS(p, old, new)                                                \
  __atomic_compare_exchange_n((p), &(old), (new), false, __ATOMIC_SEQ_CST,     \
                              __ATOMIC_SEQ_CST)
/* A counter owned by one thread and read by others: a plain add, kept
 * visible to readers (no read-modify-write instruction). */
#define OWNER_ADD(p, v)                                                        \
  ATOMIC_STORE_RELAXED((p), ATOMIC_LOAD_RELAXED(p) + (v))

/* Every runtime lock is an sgc_mutex, sgc_rwlock or sgc_spinlock with a
 * rank from the one table of lock ranks (lockrank.h). */
#include "lockrank.h"

/* --------------------------------------------------------------------- os */

/* Every request for memory goes through these; the Nth can be made to fail
 * for fault injection (SPANGC_FAIL_MMAP=N). */
void *os_reserve(size_t size);                 /* address space, no memory */
bool os_commit(void *addr, size_t size);       /* make reserved range usable */
void *os_alloc(size_t size);                   /* fresh zeroed memory, or NULL */
void os_free(void *addr, size_t size);
void os_release(void *addr, size_t size);      /* give pages back (madvise) */
void os_populate(void *addr, size_t size);     /* fault them in at once */
uint64_t os_nanotime(void);
void os_init_fault_injection(void);
uint64_t os_requests(void); /* requests for memory so far (fault tests) */
/* A detached background thread running fn(arg): 0, or an errno value
 * (nothing started; the caller carries on without it). */
int os_start_detached(void *(*fn)(void *), void *arg, size_t stack_size);
/* pthread_create, the new thread counted as starting until its start
 * function calls os_thread_started() (its first act): fork waits while
 * any is in between (os_atfork). */
int os_thread_create(pthread_t *t, const pthread_attr_t *a,
                     void *(*fn)(void *), void *arg);
void os_thread_started(void);
/* Tests: called by os_thread_create before it counts the thread in (0)
 * and before it looks for a fork (1), to hold a creator there. */
extern void (*os_test_starting)(int counted);

/* ----------------------------------------------------------- size classes */

extern uint32_t class_to_size[NUM_CLASSES];
extern uint32_t class_to_npages[NUM_CLASSES];
extern uint32_t class_to_divmul[NUM_CLASSES];
extern uint8_t size_to_class16[1024 / 16 + 1];
extern uint8_t size_to_class128[(MAX_SMALL_SIZE - 1024) / 128 + 1];
void sizeclass_init(void);

static inline int size_to_class(size_t n) {
  if (n <= 1024)
    return size_to_class16[(n + 15) >> 4];
  return size_to_class128[(n - 1024 + 127) >> 7];
}

/* Object kinds (kind.c).  Every object of a span has the span's kind,
 * which says how the collector scans it: KIND_SCAN conservatively, whole;
 * KIND_NOSCAN never; other kinds (made with sgc_new_kind) by their
 * descriptor.  Kinds are never removed; kinds[] entries are written once,
 * before their index is handed out. */
enum { KIND_SCAN = 0, KIND_NOSCAN = 1, KIND_TYPED = 2, KIND_FIRST_USER = 3 };
enum { SCAN_CONSERVATIVE = 0, SCAN_NONE = 1, SCAN_DESCR = 2 };
typedef struct kind_info {
  uint8_t scan;      /* SCAN_* */
  uint8_t add_size;  /* the object's size is added to descr */
  uintptr_t descr;   /* SGC_DS_* descriptor (SCAN_DESCR) */
} kind_info;
extern kind_info sgc_kinds[NUM_KINDS];
extern int sgc_nkinds; /* atomic */
extern int sgc_typed_kind; /* KIND_TYPED: the kind of sgc_alloc_typed objects */

/* Mark procedures: indices below FIRST_USER_MARK_PROC are reserved (bdwgc
 * reserves the same range); the collector's own are special-cased by the
 * markers rather than called. */
#define MAX_MARK_PROCS (1 << SGC_LOG_MAX_MARK_PROCS)
#define FIRST_USER_MARK_PROC 8
enum { PROC_EXT_BITMAP = 1, PROC_ARRAY = 2 };
extern sgc_mark_proc sgc_mark_procs[MAX_MARK_PROCS];
typedef struct ext_bitmap {
  size_t nwords;     /* words described; later ones hold no pointers */
  uintptr_t bits[];  /* bit i%64 of bits[i/64]: word i is a pointer */
} ext_bitmap;
typedef struct array_descr {
  uintptr_t descr;   /* of each element */
  size_t elemsize;
} array_descr;
extern ext_bitmap **sgc_ext_bitmaps;
extern uint32_t sgc_n_ext_bitmaps;
extern array_descr *sgc_array_descrs;
extern uint32_t sgc_n_array_descrs;

/* A span class is a size class plus a kind. */
static inline int make_spanclass(int cls, int kind) {
  return (cls << KIND_BITS) | kind;
}
static inline int spanclass_class(int sc) { return sc >> KIND_BITS; }
static inline int spanclass_kind(int sc) { return sc & (NUM_KINDS - 1); }
static inline bool spanclass_noscan(int sc) {
  return sgc_kinds[spanclass_kind(sc)].scan == SCAN_NONE;
}

/* --------------------------------------------------------------- fixalloc */

/* Free-list allocator for fixed-size metadata (mspan, mcache, specials),
 * outside the arena.  Each has its own lock.  'first' is called, with the
 * lock held, for every object that was never handed out before. */
typedef struct fixalloc {
  size_t size;
  void (*first)(void *arg, void *obj);
  void *arg;
  void *list;       /* recycled objects */
  char *chunk;      /* current carving chunk */
  size_t nchunk;    /* bytes left in chunk */
  size_t nextchunk; /* the next chunk's size (0: the first's) */
  bool growing;     /* chunks double (fixalloc_grow_chunks) */
  size_t inuse;     /* objects handed out and not freed */
  bool zero;        /* clear recycled objects (not for mspan: see allspans.c) */
  uint64_t *sys;    /* stat charged with chunk bytes */
  sgc_mutex lock;
} fixalloc;

void fixalloc_init(fixalloc *f, size_t size, void (*first)(void *, void *),
                   void *arg, uint64_t *sys, bool zero);
void fixalloc_grow_chunks(fixalloc *f);
/* Zeroed if fresh or f->zero; NULL if the OS refuses. */
void *fixalloc_alloc(fixalloc *f);
void fixalloc_free(fixalloc *f, void *p);
/* Fork: take the locks of the n allocators fs[] in address order (locks
 * of one rank nest only so; fs is sorted in place), or release them. */
void fixalloc_atfork(fixalloc **fs, int n, int phase);

/* ------------------------------------------------------------------ mspan */

enum mspan_state {
  MSPAN_DEAD = 0, /* struct not describing any pages (recycled) */
  MSPAN_INUSE,    /* holds objects of the garbage-collected heap */
  MSPAN_FREE,     /* free pages in mheap's free structures */
  MSPAN_STACK,    /* fiber stacks (fiber.c): never swept, never marked */
};

typedef struct special special;

typedef struct mspan {
  /* List links: an mspan is in at most one list at a time (an mcentral
   * list, or a free list of mheap).  Guarded by that list's lock. */
  struct mspan *next, *prev;
  struct mspan_list *list;
  /* Links in the treap of free spans (mheap.lock); tmax: the most pages
   * of a span in this node's subtree. */
  struct mspan *tleft, *tright;
  uintptr_t tmax;
  uint32_t tprio;

  /* Fixed while the span is in use: written under mheap.lock before the
   * span is published in mheap.spans. */
  uintptr_t base;      /* first byte */
  uintptr_t npages;
  uintptr_t limit;     /* end of the last object */
  size_t elemsize;     /* object size (whole span for a large object) */
  uint32_t nelems;
  uint32_t divmul;     /* index = (off * divmul) >> 32 for small spans */
  uint16_t spanclass;
  uint8_t state;       /* enum mspan_state; atomic loads outside the lock */

  /* Allocation state: owned by the mcache that caches the span (incache),
   * or guarded by the mcentral lock, or by the sweeper that claimed it. */
  uint8_t incache;
  uint8_t needzero;      /* free slots may hold stale bytes */
  uint8_t parked;        /* emptied by a sweep, kept for its class */
  uint32_t cachebase;    /* slots below are allocated; a multiple of 64 */
  uint32_t nalloc;       /* allocated objects (explicitly freed ones too) */
  uint64_t alloccache;   /* bit k: slot cachebase+k is free (the truth for
                            that word; allocbits is stale there) */
  uint64_t allocbits[BITMAP_WORDS]; /* as of the last sweep */

  /* Collector state. */
  uint32_t sweepgen;                 /* see docs/design.md: sweepgen */
  uint64_t markbits[BITMAP_WORDS];   /* set atomically by markers */
  /* Uncollectable objects (sgc_alloc_uncollectable): bit i set while
   * object i is a root that only sgc_free ends.  Set by the allocating
   * thread, cleared by sgc_free, both atomically inside no-preempt
   * regions; read by the markers with the world stopped.  hasuncoll: some
   * bit may be set. */
  uint8_t hasuncoll;
  /* Counted in mheap.nrootspans: a special was added or an object made
   * uncollectable since the span was allocated (atomic; cleared under
   * mheap.lock when the span is freed or allocated again). */
  uint8_t rootspan;
  /* A large span whose free is deferred to the end of a concurrent mark
   * (mheap.deferred_free); h->lock. */
  uint8_t freedeferred;
  uint64_t uncollbits[BITMAP_WORDS];
  /* Debug build: bit i set while object i was freed with sgc_free and not
   * handed out again (atomic): a second free is caught even when the
   * program wrote over the freed object's cookie. */
  uint64_t freedbits[BITMAP_WORDS];
  /* With generations: bit i set once object i was freed with sgc_free
   * (atomic; cleared when the span is made).  An old object may hold a
   * stale pointer to such a slot for ever, which a minor collection does
   * not follow (the young object reusing the slot is not reachable
   * through it): the verifier forgives exactly those. */
  uint64_t everfreedbits[BITMAP_WORDS];
  /* With generations: bit i set if the finalizer queue held object i at
   * the last mark (atomic, set by the markers).  The sweep keeps such an
   * object allocated without making it old, so that the first minor
   * collection after its finalizer ran frees it; then clears the bits. */
  uint64_t finqbits[BITMAP_WORDS];

  /* Free-span state (mheap.lock).  Each free page has its own free time
   * (mheap.freetime); unusedsince bounds them from below. */
  uint64_t unusedsince;  /* <= the freetime of every unreleased page */
  uintptr_t npreleased;  /* pages returned to the OS (freetime 0) */

  /* Specials: finalizers of objects in this span. */
  sgc_mutex speciallock;
  special *specials;
} __attribute__((aligned(64))) mspan; /* no false sharing between the
                                         spans two threads allocate from */

typedef struct mspan_list {
  mspan *first, *last;
  size_t n;
} mspan_list;

void mspan_list_insert(mspan_list *l, mspan *s);      /* at the front */
void mspan_list_insert_back(mspan_list *l, mspan *s);
void mspan_list_remove(mspan *s);

/* Index of the object holding address p inside small span s.  Always
 * inlined: the markers' scanning reads span fields racily by design and
 * is exempt from ThreadSanitizer (SCAN_NO_SANITIZE), which covers only
 * code inlined into it (an unoptimised TSan build called this out of line
 * from scan_dirty and reported the reads). */
__attribute__((always_inline)) static inline uint32_t
mspan_obj_index(const mspan *s, uintptr_t p) {
  uintptr_t off = p - s->base;
  if (s->nelems == 1)
    return 0;
  return (uint32_t)(((uint64_t)off * s->divmul) >> 32);
}
static inline bool bitmap_get(const uint64_t *bm, uint32_t i) {
  return (bm[i >> 6] >> (i & 63)) & 1;
}
/* For bitmaps whose words other threads change bit by bit (mark bits
 * while marking, uncollectable bits). */
static inline bool bitmap_get_atomic(uint64_t *bm, uint32_t i) {
  return (ATOMIC_LOAD_RELAXED(&bm[i >> 6]) >> (i & 63)) & 1;
}
static inline void bitmap_set_atomic(uint64_t *bm, uint32_t i) {
  __atomic_fetch_or(&bm[i >> 6], (uint64_t)1 << (i & 63), __ATOMIC_RELAXED);
}
static inline void bitmap_clear_atomic(uint64_t *bm, uint32_t i) {
  __atomic_fetch_and(&bm[i >> 6], ~((uint64_t)1 << (i & 63)),
                     __ATOMIC_RELAXED);
}
/* Every bit of a BITMAP_WORDS bitmap cleared, a word at a time, for
 * bitmaps other threads may read meanwhile without the lock (a span's
 * mark bits, read by a concurrent mark or a pre-cleaning rescan that
 * looked at the span before it was freed and made again). */
static inline void bitmap_clear_all_atomic(uint64_t *bm) {
  for (uint32_t j = 0; j < BITMAP_WORDS; j++)
    ATOMIC_STORE_RELAXED(&bm[j], 0);
}
/* Is object i of swept span s allocated (not a free slot)?  May be called
 * by any thread while the owner allocates from s (the concurrent marker,
 * sgc_base and sgc_size of other threads).  The answer for the cache's
 * word needs the free bits and the word they belong to, two fields the
 * owner writes one after the other, so the pair is read like a seqlock
 * (rule:cache-pair-read-consistent): cachebase, then the bits, then
 * cachebase again, and again if it moved.  Within a sweep cycle
 * cachebase only grows (mspan_seek_free moves it on from a used-up word;
 * a span taken by another cache keeps its position), and no caller spans
 * two cycles (it is in a no-preempt region, or a marker between the
 * sweeps), so two equal reads bracket bits of that word.  Those bits may
 * be the used-up word's last ones (0: all allocated), which the owner
 * publishes (release) before it moves cachebase (release): a free slot
 * may be called allocated, never the reverse (alloc_unmark_free_word).
 * Why one load of each is not enough: design.md, "Per-span allocation
 * state". */
static inline bool mspan_is_allocated(const mspan *s, uint32_t i) {
  for (;;) {
    uint32_t cb = ATOMIC_LOAD(&s->cachebase);
    if (i < cb)
      return true; /* the cache has been past it */
    if (i >= cb + 64)
      return bitmap_get(s->allocbits, i);
    uint64_t cache = ATOMIC_LOAD(&s->alloccache);
    if (ATOMIC_LOAD_RELAXED(&s->cachebase) == cb)
      return !((cache >> (i - cb)) & 1);
  }
}
/* Position the allocation cache at the first word with a free slot,
 * starting from word 'from'.  Returns false if the span is full. */
bool mspan_seek_free(mspan *s, uint32_t from);

/* ------------------------------------------------------------------ mheap */

typedef struct mcentral {
  sgc_mutex lock;
  int spanclass;
  mspan_list nonempty; /* spans that may have free slots */
  mspan_list empty;    /* full spans, and spans in an mcache */
  /* Batches of explicitly freed objects handed over by mcaches whose own
   * list grew long; each batch is a list linked through word 0. */
  void **batches;
  uint32_t nbatches, capbatches;
  uint64_t nsweepfree; /* objects freed by sweeping spans of this class */
  uint64_t nparked; /* pages of its parked spans (written under lock, read
                       without it by mcentral_unpark) */
} __attribute__((aligned(64))) mcentral;

typedef struct mheap {
  /* Read on every free and every marked word, written rarely: a cache
   * line of their own, away from the lock and the counters. */
  /* Arena: [arena_start, arena_end) reserved; [arena_start, arena_used)
   * committed and covered by spans. */
  uintptr_t arena_start, arena_used, arena_end;
  mspan **spans; /* page index -> span (atomic loads outside the lock) */
  /* page index -> for a free page, the nanotime it became free, or 0
   * once it was released to the OS (mheap.lock; stale for pages in use).
   * Committed in step with the arena, like spans. */
  uint64_t *freetime;
  /* page index -> bit set while the page belongs to an in-use span of a
   * scanned kind (set before the span's state becomes INUSE, cleared when
   * it is freed; mheap.lock; atomic loads outside it).  Stops and
   * pre-cleaning rounds use it to pass over pointer-free, free and stack
   * pages 64 at a time (mheap_next_scanned_page).  Committed in step
   * with the arena. */
  uint64_t *scanpages;
  uint32_t sweepgen; /* see docs/design.md */

  sgc_mutex lock __attribute__((aligned(64)));

  /* Free page runs: every free span, in a treap by base address, but
   * the one the scavenger may have taken out (scavenging) to release
   * its pages without the lock (scavenger.c). */
  mspan *freetree;
  uint64_t treap_seed;
  mspan *scavenging;

  /* Every mspan struct ever made.  Grown by record_span; an array that
   * the collector still references (gcspans) is never freed; one nobody
   * references is retired, unmapped later by the scavenger. */
  mspan **allspans;
  uint32_t nspan, nspancap;
  mspan **gcspans; /* the collector's snapshot, or NULL */
  uint32_t gcspanscap;
  /* Arrays nobody reads any more, for the scavenger to unmap
   * (allspans.c, rule:retired-arrays-unmapped-later). */
  struct retired_array *retired;

  int gcmarking;     /* a mark phase is running (set under the lock) */
  /* Atomic: some in-use span may hold mark bits set outside a mark (a
   * span made during the mark is not swept after it; sgc_set_mark_bit
   * called between collections).  The next mark clears them first: a
   * stale bit would hide its object from that mark, and what only the
   * object references would be freed. */
  int stale_marks;
  /* Atomic: the concurrent phase of a concurrent mark is running
   * (concurrent.c): markers read the heap while the program runs.  Set in
   * its initial stop, cleared in its final one. */
  int concmark;
  /* Large spans freed (sgc_free) while concmark: kept in use, linked
   * through next, until the final stop frees them (a marker may hold a
   * pointer into one; its struct must not be reused under it).  h->lock. */
  struct mspan *deferred_free;

  fixalloc spanalloc;
  fixalloc cachealloc;
  fixalloc specialalloc;

  mcentral central[NUM_SPANCLASSES];

  /* Statistics (mheap.lock unless atomic). */
  /* Written under the lock (OWNER_ADD), read without it too (memlimit's
   * overhead_now, from sgc_set_gcpercent while the sweeper frees spans). */
  uint64_t pages_inuse;   /* pages in in-use spans */
  uint64_t pages_stack;   /* pages in stack spans */
  uint64_t stack_free;    /* atomic: pages_stack bytes up to which stack
                           * growth does not count (gc_heap_pressure): those
                           * in use as the last collection ended, GOGC% more */
  /* Spans with rootspan set (atomic): when none, a stop skips its passes
   * over every span for uncollectable objects and finalizers (each about
   * 1 ms at 80000 spans, in both stops of a concurrent collection). */
  uint64_t nrootspans;
  uint64_t pages_free;    /* pages in free spans (stored atomically: read
                            without the lock by sweep_park) */
  uint64_t pages_released; /* stored atomically: memlimit.c reads it unlocked */
  uint64_t pages_peak;    /* most pages_inuse + pages_stack at once */
  uint64_t ngrow;         /* arena extensions */
  uint64_t released_total; /* bytes released by the scavenger, ever */
  uint64_t sys_heap;      /* committed arena bytes */
  uint64_t sys_meta;      /* metadata bytes from the OS */
  uint64_t nlargealloc, nlargefree; /* atomic */
  uint64_t largealloc_bytes, largefree_bytes; /* atomic */
  int64_t heap_live __attribute__((aligned(64))); /* atomic: bytes handed
                             out to mcaches and large objects */
  /* Atomic: bytes of objects freed with sgc_free that wait in freed lists
   * and batches.  Not live, but their slots are not free either until a
   * collection drops the lists and sweeps them: the pacer counts them,
   * so a program that frees what it allocates still collects, and memory
   * freed in one size class comes back for the others. */
  int64_t freed_pending;

  uint64_t scavenge_delay_ns;
  bool scavenger_started;
} mheap;

extern mheap sgc_heap;

void mheap_init(void);
/* A span of npages for span class sc (sc 0/1: a large object). */
mspan *mheap_alloc(uintptr_t npages, int spanclass, bool large);
void mheap_free(mspan *s);               /* takes mheap.lock */
/* mheap_free of n spans under one hold of mheap.lock (sweepers). */
void mheap_free_spans(mspan *const *v, uint32_t n);
void mheap_free_deferred(void); /* world stopped: mheap.deferred_free */
mspan *mheap_alloc_stack(uintptr_t npages); /* an MSPAN_STACK span */
void mheap_free_stack(mspan *s);
void mheap_free_locked(mspan *s, bool was_inuse);
/* scavenger.c's release without mheap.lock (lock held for both): free
 * span s leaves the free structures (mheap.scavenging: no allocation
 * takes it, no neighbour merges with it), then goes back, merged with the
 * free neighbours it has by then. */
void mheap_free_take_locked(mspan *s);
void mheap_free_put_back_locked(mspan *s);
/* mtreap.c: the treap of free spans, mheap.freetree (mheap.lock held). */
void treap_insert(mheap *h, mspan *s); /* s joins h's treap */
mspan *treap_remove(mspan *t, mspan *s); /* treap t without s, its new root */
mspan *treap_first_fit(mheap *h, uintptr_t npages); /* lowest of >= npages */
/* Before a concurrent collection's initial stop, world running. */
void mheap_clear_marks(void);
void mheap_snapshot_locked(mspan ***spans, uint32_t *n);
/* allspans.c: a zeroed mspan struct, recorded in allspans (mheap.lock). */
mspan *mheap_new_span(mheap *h);
/* Unmap the arrays allspans left (mheap.lock not held); bytes freed. */
size_t allspans_free_retired(void);
void record_span(void *arg, void *obj); /* spanalloc's 'first' hook */
/* scavenger.c: free pages back to the OS; the free pages' figures. */
size_t mheap_scavenge(uint64_t older_than_ns); /* bytes released */
/* Release free pages, highest first, until the committed arena minus
 * the released pages is at most keep bytes; at most batch bytes. */
size_t mheap_scavenge_down_to(uint64_t keep, size_t batch, uint64_t min_idle);
size_t mheap_scavenge_down_to_locked(uint64_t keep, size_t batch,
                                     uint64_t min_idle);
void scavenger_start(void);
void scavenge_atfork_child(void); /* mheap.lock held */
/* Wait (dropping and retaking mheap.lock) until no span is out for a
 * release without the lock (scavenger.c).  mheap.lock held. */
void mheap_wait_none_out_locked(void);
/* The arena and free-page figures of sgc_stats (takes mheap.lock). */
void mheap_read_arena_stats(sgc_stats *st);
/* gctrace: the heap's line for collection numgc (stderr). */
void mheap_trace(uint64_t numgc);

/* The index of the page holding addr in mheap.spans and mheap.freetime
 * (mheap.c, scavenger.c). */
static inline size_t page_index(mheap *h, uintptr_t addr) {
  return (addr - h->arena_start) >> PAGE_SHIFT;
}

/* The span holding p, or NULL: p in the committed arena and in a span in
 * use, and below the span's limit. */
static inline mspan *mheap_lookup(uintptr_t p) {
  mheap *h = &sgc_heap;
  if (p < h->arena_start || p >= ATOMIC_LOAD(&h->arena_used))
    return NULL;
  mspan *s = ATOMIC_LOAD_RELAXED(&h->spans[(p - h->arena_start) >> PAGE_SHIFT]);
  if (s == NULL || ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
    return NULL;
  if (p < s->base || p >= s->limit)
    return NULL;
  return s;
}

/* --------------------------------------------------------------- mcentral */

void mcentral_init(mcentral *c, int spanclass);
mspan *mcentral_cache_span(mcentral *c);     /* a span with free slots */
void mcentral_uncache_span(mcentral *c, mspan *s);
/* Hand a batch of n explicitly freed objects to the central list. */
void mcentral_put_batch(mcentral *c, void *list, uint32_t n);
void *mcentral_take_batch(mcentral *c, uint32_t *n);
void mcentral_drop_batches(mcentral *c, uint64_t *dropped);
/* Swept parked spans back to the heap, in the caller's no-preempt region
 * (or a stop): one taken off its list is given back before any stop sees
 * it.  mcentral_unpark: those parked before time parked_before
 * (os_nanotime; the scavenger's idle rule), at least npages of them if so
 * many are parked (mheap_alloc, before it takes pages; UINT64_MAX: all).
 * mcentral_unpark_all: every one. */
void mcentral_unpark(uint64_t parked_before, uint64_t npages);
void mcentral_unpark_all(void);
struct sweep_batch;
bool mcentral_sweep_done(mcentral *c, mspan *s, bool preserve,
                         struct sweep_batch *b);

/* ------------------------------------------------------------------ sweep */

/* Sweep span s, which the caller claimed (sweepgen == sg-1): free the
 * unmarked objects, clear the marks, publish sweepgen == sg.  With
 * preserve, the span is kept even if empty (the caller hands it out).
 * Returns true if the span went back to the heap. */
bool mspan_sweep(mspan *s, bool preserve);
/* Swept spans that must move (to nonempty, or back to the heap), settled
 * together: one hold of a class's lock for all of that class's spans in
 * the batch, one hold of mheap.lock for all given back, before the
 * sweeper leaves its no-preempt region
 * (rule:batched-spans-settled-in-region).  Until then they stay claimed
 * (sweepgen sg-1). */
#define SWEEP_BATCH_MAX 16
typedef struct sweep_batch {
  uint32_t n;
  bool park; /* emptied spans may be parked for their class (mcentral.c) */
  int keep;  /* a span class whose emptied spans stay with it, or -1 */
  mspan *s[SWEEP_BATCH_MAX];
} sweep_batch;
/* Reserve npages of the sweep's parking budget (rule:parked-spans-bounded);
 * false if it is spent or parking is off.  sweep_unpark gives them back
 * when a parked span is taken or freed. */
bool sweep_park(uintptr_t npages);
void sweep_unpark(uintptr_t npages);
uint64_t sweep_parked_pages(void); /* pages parked now (gctrace, tests) */
/* The room to the next goal in pages, 0 where nothing is parked (a
 * memory limit, a shrinking heap): what a generation's parked pages never
 * exceed (sweep_park takes the free heap pages off it too).  Inside a
 * no-preempt region, or anywhere as an estimate. */
uint64_t sweep_park_room(void);
/* mspan_sweep, a span that must move left in b (flushed first if full). */
bool mspan_sweep_to(mspan *s, bool preserve, sweep_batch *b);
void sweep_batch_flush(sweep_batch *b); /* mcentral.c */
/* Make sure s is swept for the current cycle: sweep it, or wait for the
 * thread sweeping it. */
void mspan_ensure_swept(mspan *s);
/* Sweep one more span of the sweep snapshot; returns pages freed, or -1
 * when every span is swept.  'bg' counts it as a background sweep. */
intptr_t sweepone(bool bg);
/* after mark, world stopped: new generation; live = heap_live from now */
void sweep_start(uint64_t live);
uint64_t sweep_finish(void); /* sweep all that is left (before mark) */
void sweep_pay(void); /* proportional sweeping, before taking memory */
bool sweep_done(void);
void sweep_complete(void); /* any thread, outside no-preempt regions */
/* Bounded; true: swept some.  Emptied spans of span class keep (-1:
 * none) stay with their class for the caller's refill. */
bool sweep_reclaim(uintptr_t npages, int keep);
extern uint64_t sgc_nassistsweep;
extern uint64_t sgc_sweep_ns; /* sweeping outside stops, all threads */
/* Wake the background sweeper (starting it the first time), after a
 * collection restarted the world. */
void bgsweep_wake(void);
void bgsweep_atfork(int phase); /* gc_atfork_threads */
extern uint64_t sgc_nbgsweep, sgc_ndemandsweep, sgc_npausesweep;

/* --------------------------------------------------------------- specials */

/* Per-object records kept on the object's span, sorted by offset then
 * kind, guarded by span->speciallock.  A finalizer keeps what the object
 * references alive (the collector scans the object without marking it)
 * and is queued when the object is found unmarked.  A weak record lists a
 * slot to clear when the object dies. */
enum { SPECIAL_FINALIZER = 1, SPECIAL_WEAK = 2, SPECIAL_PIN = 3 };
/* SPECIAL_PIN: an object the reclaim hook kept (sgc_set_reclaim_hook); the
 * sweep marks it again whenever it is found unmarked, so it is never
 * reclaimed nor offered to the hook again. */

struct special {
  special *next;
  uintptr_t offset; /* object base - span base */
  uint8_t kind;
  uint8_t mode;     /* finalizer: SGC_FIN_* */
  uint8_t doomed;   /* NO_ORDER finalizer chosen to run at mark end */
  uint8_t always;   /* weak: clear the slot whatever it holds */
  void (*fn)(void *obj, void *arg); /* finalizer */
  void *arg;                        /* finalizer argument */
  void **slot;                      /* weak slot */
};

void special_init(void);
special *special_new(void);
void special_dispose(special *sp);
/* Insert sp for the object at offset; a finalizer replaces an existing one
 * (the old record is returned for disposal), a weak record for the same
 * slot likewise. */
special *special_insert(mspan *s, special *sp);
/* Remove and dispose of every special of the object at p. */
void special_remove_all(mspan *s, uintptr_t p);

/* ------------------------------------------------------------- finalizer */

/* Queue fn(obj, arg) to run on the finalizer thread (called by the
 * sweeper; obj stays allocated until the finalizer has run).  False if
 * the OS refused memory for the queue: the caller keeps the object and
 * its finalizer for the next cycle. */
bool finalizer_queue(void *obj, void (*fn)(void *, void *), void *arg);

/* ----------------------------------------------------------------- mcache */

typedef struct mcache {
  mspan *alloc[NUM_SPANCLASSES]; /* current span per class (or emptyspan) */
  void *freed[NUM_SPANCLASSES];  /* explicitly freed objects, word 0 links */
  uint32_t nfreed[NUM_SPANCLASSES];

  /* Counters owned by this cache, read by sgc_read_stats (OWNER_ADD). */
  uint64_t nmalloc[NUM_CLASSES];
  uint64_t nfree[NUM_CLASSES];
  uint64_t alloc_bytes;
  int64_t live_delta; /* bytes freed/reused since the last flush */
  int64_t freed_delta; /* change of freed_pending since the last flush */
  uint32_t idle_polls; /* gc_maybe_collect calls: every 32nd reads the clock */
  int retired; /* given back by mcache_retire (once) */

  struct mcache *allnext, *allprev; /* allcaches list (caches_lock) */

  /* Stop-the-world handshake (see world.c).  nopreempt > 0 while the
   * thread is inside the allocator or holds a runtime lock: a suspend
   * signal arriving then only sets 'pending', and the thread parks itself
   * when it leaves.  Both are written only by the owning thread and its
   * own signal handler; 'pending' is also read by a stop that waited long
   * (world.c report_unstopped), so it is written atomically. */
  volatile int nopreempt;
  volatile int pending;
  struct mthread *thr;
} mcache;

extern mspan sgc_emptyspan;
extern __thread mcache *sgc_tls_cache __attribute__((tls_model("initial-exec")));

mcache *mcache_create(void);
void mcache_destroy(mcache *c);         /* releases spans, folds counters */
void mcache_release_all(mcache *c);     /* hand every cached span back */
bool mcache_refill(mcache *c, int sc); /* slow path */
void mcache_foreach(void (*fn)(mcache *c, void *arg), void *arg);
void mcache_thread_exit(mcache *c);
void mcache_flush_for_gc(mcache *c, uint64_t *dropped);
void mcache_push_freed(mcache *c, int sc, void *obj);
void mcache_read_counters(sgc_stats *s);
mcache *mcache_get_slow(void);
void mcache_thread_init(void);
/* The in-use span holding p, swept for this cycle, or NULL (malloc.c;
 * caller in a no-preempt region: rule:look-up-after-sweep). */
mspan *swept_span_of(uintptr_t p);

static inline mcache *mcache_get(void) {
  mcache *c = sgc_tls_cache;
  if (likely(c != NULL))
    return c;
  return mcache_get_slow();
}

/* ------------------------------------------------------------------ world */

#include <semaphore.h>
#include <ucontext.h>

enum { THR_RUNNING = 0, THR_BLOCKING = 1 };
typedef struct gcwork gcwork;

/* A fiber (fiber.c).  A heap object (scanned: arg and caller stay alive),
 * except a thread's own stack, which is a fiber embedded in its mthread
 * ("home").  While suspended, its registers are pushed on its stack and sp
 * is saved here; the collector scans [sp, hi). */
enum { FIBER_CREATED, FIBER_RUNNING, FIBER_SUSPENDED, FIBER_FINISHED };
struct sgc_fiber {
  uint32_t magic;
  int state;
  void (*fn)(void *);
  void *arg;
  struct sgc_fiber *caller; /* the fiber that last switched to this one */
  uintptr_t sp;             /* saved stack pointer while not running */
  uintptr_t lo, hi;         /* usable stack; a guard page lies below lo */
  mspan *span;              /* stack span (a pool span or its own) */
  int order;                /* stack pool order, or -1 for its own span */
  uint32_t regidx;          /* index in the fiber registry */
  struct mthread *thread;   /* running on (home: owner) */
  uint8_t shrunk;           /* unused stack pages were returned */
  uint8_t guarded;          /* its guard page is protected */
  uint8_t scanned;          /* this collection */
  void *tsan_fiber;         /* ThreadSanitizer's fiber, in TSan builds */
};

/* A registered thread (a mutator).  Linked in the thread list under
 * threads_lock; 'state', 'sp' and 'ctx' change under world.mutex (blocking
 * regions) or while the thread is parked. */
typedef struct mthread {
  struct mthread *next, *prev;
  mcache *cache;
  pthread_t tid;
  int ktid;                     /* the kernel's thread id */
  uint64_t starttime;           /* the kernel's, to tell a reused ktid */
  int exited;                   /* exited registered (world.c) */
  uintptr_t stack_lo, stack_hi; /* the stack grows down from stack_hi */
  uintptr_t tcb;                /* its thread pointer (markroot.c: TLS) */
  uintptr_t sp;                 /* lowest live address while stopped */
  ucontext_t ctx;               /* registers while stopped */
  ucontext_t ctx_now;           /* the handler's own, when it runs late */
  /* Vector registers at a signal stop (the kernel's xsave image): code
   * compiled with -O2 moves pointers through XMM/YMM registers. */
  unsigned char fpstate[4096] __attribute__((aligned(64)));
  size_t fpsize;
  int state;
  int signalled;        /* sent the signal of the current stop */
  int self_acked;       /* acknowledged it by entering a blocking region */
  int fork_waiting;     /* waiting in world_fork_wait (world.mutex) */
  uint64_t sig_gen;     /* stop number of the last signal (atomic) */
  uint64_t ack_gen;     /* stop number last acknowledged (atomic) */
  int sig_sent;         /* a stop's signal is on its way (atomic) */
  int explicit_reg; /* sgc_register_thread was called */
  sem_t resume;
  struct sgc_fiber home;   /* the thread's own stack as a fiber */
  struct sgc_fiber *cur;   /* the fiber running on this thread */
  struct sgc_fiber *dead;  /* a finished fiber whose stack is to free */
  void *altstack;          /* signal stack (stack overflow, suspension) */
  int altstack_checked;
} mthread;

void fiber_thread_init(mthread *t);  /* home fiber of a new thread */
void fiber_thread_exit(mthread *t);
/* Collector hooks, world stopped: scan suspended reachable fibers until no
 * new one is found; then free the stacks of dead fibers and shrink idle
 * ones. */
bool fibers_scan_marked(gcwork *w);
/* Set every fiber's "scanned this collection" flag: to 0, or (after a
 * complete mark) to whether the mark scanned it. */
void fibers_reset_scanned(bool from_marks);
/* Is the word at offset off of heap object obj a fiber's stack bound or
 * saved stack pointer?  Not a reference: its stack's end is the next
 * span's first object (the verifier, world stopped). */
bool fiber_bound_word(uintptr_t obj, size_t off);
void fibers_after_mark(uint64_t *released);
/* obj is kept unmarked for its finalizer: scan its stack if it is a
 * suspended fiber (world stopped). */
void fiber_scan_kept(gcwork *w, uintptr_t obj, size_t size);
void mark_push_range(gcwork *w, uintptr_t lo, uintptr_t hi);
/* Scan [lo, hi) now, ignoring words that point into [xlo, xlo + xsize). */
void mark_scan_range_except(gcwork *w, uintptr_t lo, uintptr_t hi,
                            uintptr_t xlo, size_t xsize);
bool mark_is_marked(uintptr_t p);

/* signals.c: the suspend signal (chosen by signals_init, which installs
 * the handler), the program's own action for it, and the interposers
 * that keep it deliverable in registered threads. */
#include <signal.h>
extern int sgc_suspend_sig;
void signals_init(void (*handler)(int, siginfo_t *, void *));
void signals_chain(int sig, siginfo_t *si, void *uc);
void signals_unblock_suspend(void);
int signals_handler_intact(void);
const char *signals_name(int sig, char *buf, size_t size);
void signals_atfork_child(void);

/* The world's state (world.c; blocking.c's regions take its mutex too). */
typedef struct world_state {
  sgc_mutex mutex;
  pthread_cond_t cond;
  int stopping;
  sem_t ack;
  uint64_t gen; /* number of the current or last stop */
  /* Outsiders (see world_outsider_enter): how many are inside a region,
   * and whether a stop bars new ones (both seq_cst atomics). */
  int outsiders;
  int barred;
  pthread_cond_t outsiders_gone; /* with mutex */
  int barrier; /* a fork barrier is being raised (mutex) */
  pthread_cond_t fork_done; /* with mutex: world_forking went back to 0 */
} world_state;
extern world_state world;

void world_init(void);
mthread *world_register(mcache *c);   /* the calling thread */
void world_unregister(mthread *t);
/* Stop every other mutator (gc_lock held) / restart them. */
void world_stop(mthread *self);
void world_start(mthread *self);
void world_park_pending(mcache *c);
/* Call fn for each registered thread (world stopped). */
void world_foreach_thread(void (*fn)(mthread *t, void *arg), void *arg);
/* Roots held by threads being started (world stopped). */
void world_foreach_start_root(void (*fn)(uintptr_t lo, uintptr_t hi, void *),
                              void *arg);
int world_nthreads(void);
/* For the thread that stops the world: is it stopped now? */
bool world_is_stopped(void);
/* The first address in [p, hi) on a page of an in-use span of a scanned
 * kind (mheap.scanpages), or hi.  With the world running, a span made
 * meanwhile may not show yet: see scan_dirty for when that is safe. */
uintptr_t mheap_next_scanned_page(uintptr_t p, uintptr_t hi);
/* The first address in [p, hi) on a page of no in-use scanned span, or
 * hi (same caveat). */
uintptr_t mheap_next_unscanned_page(uintptr_t p, uintptr_t hi);
/* threads.c, the thread registry: its list and records, which world.c's
 * stop reads and changes too (threads_lock held); and the waits made in
 * a blocking region. */
extern sgc_mutex threads_lock;
extern mthread *allthreads;
extern int nthreads;
extern fixalloc threadalloc;
void thread_list_remove(mthread *t); /* threads_lock held */
/* /proc/self/task/<tid>/<name> into buf; false if it cannot be read. */
bool read_task_file(int tid, const char *name, char *buf, size_t size);
/* Kernel thread tid's start time (0: unknown) and state letter. */
uint64_t thread_stat(int tid, char *state);
bool thread_gone(const mthread *t); /* exited, or its tid names another */
void lock_as_blocking(sgc_mutex *m);
/* Sleep ns, in a blocking region as lock_as_blocking waits. */
void sleep_as_blocking(uint64_t ns);
/* sgc_enter_blocking's body, in blocking.c (machine.c's entry passes the
 * caller's callee-saved registers: r15, r14, r13, r12, rbx, rbp, return
 * address). */
void world_enter_blocking(const uintptr_t *saved);

/* A fork is under way (world.c, "fork barrier"): a thread entering the
 * runtime waits in world_fork_wait until it is over.  A thread sees the
 * flag from its first entry after the fork's signal reached it. */
extern int world_forking;
void world_fork_wait(mcache *c);

/* Runtime locks are taken only inside a no-preempt region, so a stop
 * never parks a thread that holds one (rule:no-stop-holding-lock). */
static inline void nopreempt_enter(mcache *c) {
  c->nopreempt++;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (unlikely(ATOMIC_LOAD_RELAXED(&world_forking)) && c->nopreempt == 1)
    world_fork_wait(c);
}
static inline void nopreempt_leave(mcache *c) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (--c->nopreempt == 0 && unlikely(c->pending))
    world_park_pending(c);
}
/* Out of the no-preempt region for a while, from inside the allocator
 * (to collect or to assist), holding no runtime lock: a stop pending is
 * answered first.  Returns the depth to step back in with. */
static inline int nopreempt_step_out(mcache *c) {
  int np = c->nopreempt;
  c->nopreempt = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (c->pending)
    world_park_pending(c);
  return np;
}
/* Back in, np deep.  A re-entry is an entry: a fork barrier raised while
 * the thread was out (and answered by its handler, out there) holds it
 * here until the fork is over (rule:fork-barrier).  Restoring the depth
 * without looking let a thread run on into mheap_alloc during the fork:
 * the child inherited a span published in allspans but on no central
 * list, and its sweeper crashed unlinking it. */
static inline void nopreempt_step_in(mcache *c, int np) {
  c->nopreempt = np;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (unlikely(ATOMIC_LOAD_RELAXED(&world_forking)))
    world_fork_wait(c);
}
/* Unregistered threads in calls that look at spans (world.c). */
extern __thread int world_in_collector;
void world_outsider_enter(void);
void world_outsider_leave(void);
/* For entry points that may run on an unregistered thread: a registered
 * one enters a no-preempt region; another one enters as an outsider, so
 * no stop begins until it leaves.  Returns the token for leaving. */
static inline mcache *nopreempt_enter_any(void) {
  mcache *c = sgc_tls_cache;
  if (c && c->thr) {
    nopreempt_enter(c);
    return c;
  }
  world_outsider_enter();
  return NULL;
}
static inline void nopreempt_leave_any(mcache *c) {
  if (c)
    nopreempt_leave(c);
  else
    world_outsider_leave();
}

/* ------------------------------------------------------------ dirty pages */

/* Which heap pages were written since the last listing (dirty.c).  A run
 * is the kernel's struct page_region: [lo, hi) and its categories. */
enum { DIRTY_OFF = SGC_DIRTY_OFF, DIRTY_UFFD = SGC_DIRTY_UFFD };
typedef struct dirty_run {
  uint64_t lo, hi, categories;
} dirty_run;
/* In dirty_run.categories: the pages are populated (else they were never
 * touched since committed or released: they hold nothing). */
#define DIRTY_RUN_PRESENT ((uint64_t)1 << 3)
void dirty_init(void); /* after the arena is reserved */
int dirty_mechanism(void);
const char *dirty_mechanism_name(int m);
/* A concurrent mark begins (world running, gc_lock held): the arena is
 * registered here (again, in a fork child); false if it cannot be. */
bool dirty_track_begin(void);
/* World stopped: list the pages of [lo, hi) that are not protected (all
 * written since their protection among them).  False: the listing may
 * miss writes (first listing, fork child, kernel error); treat every page
 * as written.  The runs stay valid until the next listing. */
bool dirty_list(uintptr_t lo, uintptr_t hi, const dirty_run **runs,
                uint32_t *n);
/* The same over the ranges next gives, in ascending order, until it
 * returns false; the runs of all of them together. */
bool dirty_list_ranges(bool (*next)(void *arg, uintptr_t *lo, uintptr_t *hi),
                       void *arg, const dirty_run **runs, uint32_t *n);
/* Merge the runs of the last listing that are at most gap bytes apart
 * (the pages between are added to them); returns their new number. */
uint32_t dirty_merge_runs(uintptr_t gap);
/* Watch [lo, hi) for writes from now on (calls in address order; batched
 * until dirty_protect_flush).  World stopped, or before a concurrent mark
 * (gc_lock held). */
void dirty_protect(uintptr_t lo, uintptr_t hi);
/* The same, world running (pre-cleaning): ranges merged only when they
 * touch, never across a gap. */
void dirty_protect_exact(uintptr_t lo, uintptr_t hi);
void dirty_protect_flush(void);
/* Stop watching [lo, hi) at once (world stopped): its pages are listed
 * at every listing from then on, as written. */
void dirty_unprotect(uintptr_t lo, uintptr_t hi);
void dirty_read_stats(sgc_stats *st);
void dirty_atfork_child(void); /* fork.c, in the child */
uint64_t dirty_last_pages(void);
/* The pages of [lo, hi) that hold data, present or swapped (dirty.c,
 * "populated pages"): fills at most max runs, in order, sets *walked to
 * how far the answer goes (pages of [lo, *walked) outside the runs have
 * no page-table entry: they read as zero) and returns the number of runs;
 * -1 if the kernel cannot tell (before Linux 6.7): read everything.  Any
 * thread, any time. */
int pagemap_populated(uintptr_t lo, uintptr_t hi, dirty_run *runs, int max,
                      uintptr_t *walked);
/* Large objects of the conservative kind from this size on are read only
 * where pagemap_populated says they hold data. */
#define POPULATED_MIN ((uintptr_t)256 << 10)
/* Is a span of this class, number of objects and size in bytes such an
 * object (its unpopulated pages neither read nor protected)? */
static inline bool read_where_populated(uint16_t spanclass, uint32_t nelems,
                                        uintptr_t bytes) {
  return nelems == 1 && bytes >= POPULATED_MIN &&
         sgc_kinds[spanclass_kind(spanclass)].scan == SCAN_CONSERVATIVE;
}

/* ------------------------------------------------------------ generations */

/* Mark bits outlive the sweep (generation.c): set at init, never changed. */
extern bool sgc_sticky;
/* Objects sgc_free releases are recorded for the verifier (everfreedbits,
 * gen_note_span_freed): with sticky marks or concurrent marking, whose
 * marked objects may keep stale pointers into freed memory that an
 * unmarked object reuses.  Set at init (conc_init), never changed. */
extern bool sgc_record_frees;
typedef struct gen_cycle {
  bool minor;            /* this collection is minor */
  /* The final stop of a concurrent major collection (concurrent.c): its
   * mark starts from the marks the concurrent phase made, with the pages
   * written since the phase began as more roots, as a minor's does; for
   * the policy it is a major.  remark_all: the kernel's record is not
   * trusted, every marked object is rescanned. */
  bool remark, remark_all;
  /* The initial stop of a concurrent collection: the program's root
   * callback runs in the final stop only (once per collection, as bdwgc's
   * programs expect, and where it counts). */
  bool conc_initial;
  bool listed;           /* runs hold this collection's listing */
  const dirty_run *runs; /* pages written since the last collection */
  uint32_t nruns;
  uint64_t old_bytes, old_objects; /* minor: marked before it began */
  bool old_counted; /* old_bytes, old_objects given (a final stop's) */
  /* Set before gen_end: old objects rescanned on written pages, and all
   * objects marked (old ones included). */
  uint64_t rescanned, marked_objects;
  uint64_t mark_ns; /* set before gen_end: this stop's mark */
} gen_cycle;
void gen_init(void); /* after the arena is reserved */
bool gen_enabled(void);
/* World stopped, before mark_prepare: list the written pages and choose
 * minor or major (forced: major). */
void gen_begin(gen_cycle *g, bool forced);
/* World stopped, marks final: protect the listed pages that hold old
 * objects, update the policy; returns the next goal. */
uint64_t gen_end(gen_cycle *g, uint64_t heap_before, uint64_t marked,
                 int gcpercent, uint64_t min_goal);
/* The next goal again, for a new GOGC (gc_lock held). */
uint64_t gen_goal(int gcpercent, uint64_t min_goal);
void gen_read_stats(sgc_stats *st);
/* The rates of the square-root sizing rule (pacer.c), after a cycle. */
void gen_note_rates(uint64_t allocated, uint64_t alloc_ns, uint64_t marked,
                    uint64_t mark_ns, bool major);
void gen_abandon(void); /* the collection was abandoned: next is major */
uint64_t gen_alloc_rate(void); /* bytes/s, smoothed (gen_note_rates) */
uint64_t gen_mark_rate(void);  /* bytes/s majors marked, smoothed */
/* A concurrent major's stops together, for the choice of minors. */
void gen_note_concurrent_pause(uint64_t ns);
/* agesample.c: young survivors of a major, sampled (gc_lock).  Before a
 * major clears the mark bits: begin (false: sampled already this cycle),
 * then age_sample_span for each in-use span before its bits are cleared;
 * after the mark, whether at most half of the young bytes (allocated
 * between the collection that marked last_marked and the sample) were
 * kept; reset once the world restarts. */
bool age_sample_begin(uint32_t nspan);
void age_sample_span(mspan *s);
bool age_sample_young_died(uint64_t last_marked);
void age_sample_reset(void);
/* The final stop of a concurrent collection: list the pages written since
 * its start; false if the record cannot be trusted. */
bool gen_begin_remark(gen_cycle *g);
bool gen_next_minor(void); /* the policy's choice for the next collection */

/* ----------------------------------------------------- concurrent.c */

void conc_init(void);       /* SPANGC_CONCURRENT; after gen_init */
bool conc_enabled(void);
/* Allocation, below the goal: start a concurrent collection if the heap
 * reached its trigger. */
void conc_poll(uint64_t pressure);
bool conc_due(uint64_t pressure);
/* End of any collection (gc_lock): the next concurrent trigger, if the
 * next collection is a major one. */
void conc_set_trigger(uint64_t marked, uint64_t goal, bool major_next,
                      uint64_t alloc_rate, uint64_t mark_rate);
/* Concurrent majors are on and the next one pays (its mark is expected
 * to take 2 ms or more). */
bool conc_worth(void);
/* An idle collection is due: wake the collector thread for a concurrent
 * one; false if the caller should collect itself. */
bool conc_start_idle(void);
/* A concurrent collection starts (gc_lock held) or ends. */
void conc_set_running(bool on);
/* Its final stop is over (or it was abandoned): threads waiting at the
 * goal for it go on (conc_assist), before the unprotect calls and the
 * end of conc_set_running, which readers of the stats wait for. */
void conc_note_ended(void);
bool conc_running(void);
/* A thread past the goal: assist the concurrent mark under way, and
 * past the overshoot wait for its phase; false if none is under way. */
bool conc_assist(uint64_t budget, bool may_overshoot);
/* A concurrent collection starts (gc_lock held, before its step 0): the
 * heap, the goal and the mark's expected work its pacing runs from. */
void conc_pace_begin(void);
/* Below the goal during a concurrent collection: the bytes of mark work
 * a thread allocating at heap pressure p owes now (0: none), so that the
 * mark ends before the heap reaches the goal. */
uint64_t conc_assist_owed(uint64_t p, bool *far);
/* A concurrent cycle's final stop (gc_lock): its length from its start,
 * its concurrent mark's time, the bytes allocated between its stops, and
 * whether the heap reached its goal meanwhile (the pacing's inputs). */
void conc_note_cycle(uint64_t cycle_ns, uint64_t mark_ns, uint64_t allocated,
                     bool reached_goal, uint64_t nassists,
                     uint64_t assist_ns);
void conc_ensure_thread(void); /* after a collection, world running */
/* Before the initial stop, world running: protect the pages of scanned
 * spans; false if the kernel's tracking is unavailable. */
bool conc_protect_heap(void);
void conc_atfork(int phase);
void conc_read_stats(sgc_stats *st);
/* gc.c: the concurrent collector thread's collection. */
void gc_collect_concurrent(mcache *c, bool idle);
/* The verifier's record of the pages of spans given back to the heap
 * with objects freed by sgc_free, and of fiber stacks (kept only with
 * SPANGC_DEBUG=verify=1; mheap.lock held): old objects may hold stale
 * pointers into those pages for ever, which minor collections do not
 * follow, whatever span reuses them. */
void gen_note_span_freed(mspan *s);
/* dirty.c protected [lo, hi) (collecting thread): genprotect.c records
 * which pages are protected, for its hot pages and for the pages a major
 * collection gives back (unprotect_freed_pages). */
void gen_note_protected(uintptr_t lo, uintptr_t hi);
/* After each collection's restart (collect.c, gc_lock held, world running):
 * the unprotect calls the stop decided (genprotect.c). */
void gen_restarted(void);
/* The kernel tracks writes per 4 KiB page, half of one of ours. */
#define KPAGE ((uintptr_t)4096)
/* genprotect.c: per kernel page, protected or hot (gen_init makes it). */
extern uint8_t *page_state;
/* genprotect.c: the unprotect calls a stop decided (gen_end asks for them),
 * made after the restart (gen_restarted); gc_lock held. */
typedef struct gen_unprotect {
  uintptr_t (*r)[2]; /* [lo, hi) addresses */
  size_t n, cap;
  bool all; /* the whole arena (generations off, after a concurrent mark) */
  /* A major's listing, for unprotect_freed_pages after the restart (the
   * runs stay valid until the next listing, which gc_lock keeps off). */
  bool find;
  const dirty_run *runs;
  uint32_t nruns;
} gen_unprotect;
extern gen_unprotect unprotect;
/* genprotect.c, for gen_end: protect the listed pages old objects fill. */
void protect_old_pages(const gen_cycle *g, bool old);
bool gen_page_was_freed(uintptr_t p);
bool gen_span_has_freed_pages(const mspan *s);
bool sgc_debug_flag(const char *name); /* SPANGC_DEBUG=name=1 */

/* ------------------------------------------------------------------- mark */

enum { ROOT_RANGE, ROOT_THREAD, ROOT_SPECIALS, ROOT_FINQ, ROOT_DIRTY };
typedef struct rootjob {
  int kind;
  uintptr_t lo, hi;
  void *p;
} rootjob;

typedef struct gcwork gcwork;
typedef struct mark_result {
  uint64_t marked_bytes, nobj, nsteal, nhandoff, overflows;
  uint64_t ndirty; /* old objects rescanned on written pages */
} mark_result;

struct dl_phdr_info;
void mark_segments_reset(void);
void mark_record_segments(struct dl_phdr_info *info);
/* Set up the mark; false if the OS refused memory for the tables of
 * roots: the collection must then be abandoned (it cannot see them all). */
bool mark_prepare(mspan **spans, uint32_t nspan, int nproc, gen_cycle *g);
/* Verifier, after a minor collection's mark: a full mark reaches nothing
 * the minor left unmarked (world stopped; aborts naming the object). */
void mark_verify_minor(const char *what);
/* A concurrent mark (concurrent.c, mark.c): the initial stop's root
 * jobs; the concurrent phase's drain; the final stop takes whether every
 * marked object must be rescanned and makes the deferred items work; an
 * abandoned collection drops what is left. */
void mark_roots_only(int n, mark_result *res);
void mark_concurrent(mark_result *res);
void mark_preclean(const dirty_run *runs, uint32_t n, mark_result *res);
/* concurrent.c, after the concurrent drain, world running: rounds of
 * listing the written pages, protecting them again and rescanning their
 * marked objects, while that shrinks the set; false if a listing could
 * not be trusted (the final stop must then rescan every marked object). */
bool conc_preclean(mark_result *res);
bool mark_take_remark_all(void);
/* A mutator past the goal during a concurrent mark scans up to budget
 * bytes of the mark's work; returns the bytes it scanned (0: no work to
 * take now), -1 if no concurrent phase is open. */
int64_t mark_assist(uint64_t budget);
/* What a concurrent cycle has marked so far, bytes (reported as it goes). */
uint64_t mark_progress(void);
/* A pre-cleaning round's rescan is under way (assists take its slices). */
bool mark_precleaning(void);
/* The current concurrent mark's assists: time spent, how many. */
void mark_assist_figures(uint64_t *ns, uint64_t *n);
void mark_requeue_deferred(void);
void mark_reset_concurrent(void);
void mark_worker(mark_result *res);
#define MAX_MARKERS 32
/* Make sure n-1 helper markers exist (before the stop: pthread_create
 * takes libc locks a stopped thread may hold); returns the markers a mark
 * can have, n at most (at least 1, at most MAX_MARKERS). */
int mark_markers_for_cycle(int n);
/* Run the mark with n markers (this thread included). */
void mark_run_markers(int n, mark_result *res);
void mark_atfork_helpers(int phase); /* gc_atfork_threads */
void mark_overflow_passes(mark_result *res);
/* After weak slots were cleared: mark what unreachable finalizable
 * objects reference and doom those objects (world stopped). */
void mark_finalizers(mark_result *res);
extern void (*sgc_root_callback)(void);
void mark_verify(void);
/* sgc_set_mark_bit marked the object at base, which is not scanned for
 * it: the verifier does not look at what it references (verify only,
 * after mark_verify_init, called by gc_init). */
void mark_verify_init(void);
void mark_verify_note_unscanned(uintptr_t base);
void mark_root_word(gcwork *w, uintptr_t v);
/* An object the finalizer queue holds (finalizer.c), with generations:
 * kept by its span's finqbits and its contents scanned, not marked. */
void mark_queued_object(gcwork *w, uintptr_t p);

/* User roots (roots.c): call fn for each registered range (world
 * stopped). */
void roots_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, void *), void *arg);

/* Finalizer queue and weak slots (finalizer.c). */
void finalizer_scan_queue(gcwork *w);
void weak_process(mspan **spans, uint32_t nspan); /* mark termination */
void weak_forget_dead(void); /* after mark_finalizers */
void finalizer_wake(void);

/* ------------------------------------------------------------------ pacer */

/* The smallest goal: no collection before the heap holds this much. */
#define PACER_MIN_GOAL ((uint64_t)4 << 20)
typedef struct pacer_inputs {
  uint64_t marked;     /* bytes the last collection found live (old too) */
  int gcpercent;       /* GOGC; < 0: off */
  uint64_t min_goal;   /* PACER_MIN_GOAL plus what sgc_expand_heap added */
  bool generational;   /* sticky mark bits (generation.c) */
  uint64_t major_live; /* generational: live after the last major */
  bool next_minor;     /* generational: the next collection is minor */
  bool concurrent;     /* majors mark concurrently (concurrent.c) */
  /* The square-root rule (SPANGC_SIZING=sqrt): 0 for GOGC's. */
  bool sizing_sqrt;
  uint64_t alloc_rate; /* bytes/s the program allocated (smoothed) */
  uint64_t mark_rate;  /* bytes/s a major collection marked (smoothed) */
} pacer_inputs;
/* The square-root rule's reference size: H = sqrt(live x K x alloc_rate /
 * mark_rate), K = PACER_SQRT_K x GOGC/100. */
#define PACER_SQRT_K ((uint64_t)64 << 20)
/* The room above the live heap 'live' the rule in force gives. */
uint64_t pacer_room(const pacer_inputs *in, uint64_t live);
/* The next collection's goal (heap_live + freed_pending that starts it). */
uint64_t pacer_goal(const pacer_inputs *in);
/* H: the room GOGC gives over the last major's live heap, at least
 * min_goal (0 before the floor when GOGC is off). */
uint64_t pacer_headroom(uint64_t major_live, int gcpercent, uint64_t min_goal);
/* The goal after a collection abandoned at this pressure: half as much
 * again, PACER_MIN_GOAL at least. */
uint64_t pacer_goal_abandoned(uint64_t pressure);
/* Idle collections (pacer.c): how long without a collection before a
 * thread taking memory runs a major one, and the backoff after one that
 * freed heap_before - heap_after. */
#define PACER_IDLE_COST 10 /* interval >= 10 x the last major's stop */
#define PACER_IDLE_MIN_NS ((uint64_t)1000000000)
#define PACER_IDLE_MAX_NS ((uint64_t)120 * 1000000000)
uint64_t pacer_idle_interval(uint64_t major_stop_ns, uint32_t backoff);
uint32_t pacer_idle_backoff(uint32_t backoff, uint64_t heap_before,
                            uint64_t heap_after);

/* --------------------------------------------------------------- gc.c */

void gc_init(void);
/* Recompute the next goal now (sgc_set_memory_limit). */
void gc_refresh_goal(void);
/* The collector's settings and the figures of the last cycles: gc.c's,
 * written by collect.c's collections too (see gc.c for the locks). */
typedef struct gc_state {
  int gcpercent;   /* < 0: off; written under gc_lock, read without it
                      by the allocator's polls (atomic) */
  uint64_t min_goal; /* atomic: PACER_MIN_GOAL plus sgc_expand_heap's */
  int disabled;    /* sgc_disable nesting (atomic) */
  uint64_t max_heap;
  int nmarkers;
  int trace, verify;
  uint64_t start_ns;

  /* figures (gc_lock) */
  uint64_t numgc, last_pause_ns, total_pause_ns, max_pause_ns;
  uint64_t last_mark_ns, total_mark_ns;
  uint64_t last_heap_before, last_heap_after, last_live_objects;
  uint64_t last_freed_objects;
  uint64_t overflows;
  uint64_t stack_released;
  uint64_t abandoned; /* collections skipped: no memory for root tables */
  /* Idle collections (pacer.c): one is due idle_interval after the last
   * restart (idle_since; 0: none yet), and not before idle_held_until
   * (atomic; 0 unless abandon() deferred it, cleared by the next
   * completed collection); the backoff, the last major's stop, how many
   * ran. */
  uint64_t idle_since, idle_base; /* atomic: the last restart, heap_live then */
  uint64_t idle_interval;         /* atomic */
  uint64_t idle_held_until;
  uint32_t idle_backoff;
  uint64_t last_major_pause_ns;
  uint64_t idle_collections;
} gc_state;
extern gc_state gc;
extern sgc_mutex gc_lock;
/* Why a collection runs: the pacer's goal was reached; sgc_collect or the
 * heap limit (major, whatever else ran meanwhile); or no collection ran
 * for the idle interval (major; pacer.c). */
enum { COLLECT_DUE, COLLECT_FORCED, COLLECT_IDLE, COLLECT_CONC,
       COLLECT_FORCED_CONC, COLLECT_IDLE_CONC };
/* collect.c: one collection, from the stop to the restart (gc_lock
 * held; 'why' is one of the above). */
void collect(mthread *self, int why);
/* gc_lock held, a concurrent collection starting: its figures for
 * sgc_read_stats while it runs (gc.c). */
void publish_stats(void);

/* ---------------------------------------------------------- memlimit.c */

#define MEMLIMIT_BATCH ((size_t)8 << 20) /* bytes per prompt release */
void memlimit_init(void);
bool memlimit_parse(const char *s, uint64_t *out);
/* The limit lowered the current goal below GOGC's. */
bool memlimit_lowered(void);
bool memlimit_on(void);
uint64_t memlimit_get(void);
uint64_t memlimit_held(void);
/* gen_goal's last step: the goal lowered under the limit, not below
 * marked + marked/16 (gc_lock). */
uint64_t memlimit_goal(uint64_t goal, uint64_t marked, bool gogc_off);
/* The generational policy: may the next collection be minor? */
bool memlimit_allows_minor(uint64_t major_live, uint64_t old_bytes);
/* The CPU cap: may a collection due at this pressure start now? */
bool memlimit_may_collect(uint64_t pressure);
/* After each collection (gc_lock held): its stop-the-world span. */
void memlimit_collected(uint64_t t0, uint64_t t1, bool idle);
uint64_t memlimit_retain_cap(void); /* heap bytes the limit allows */
void memlimit_note_released(uint64_t bytes);
void memlimit_scavenger_sleep(uint64_t ns);
void memlimit_scavenge_promptly(void);
void memlimit_atfork_child(void);
void memlimit_cond_init(void);
void memlimit_read_stats(sgc_stats *st);
void memlimit_read_live_stats(sgc_stats *st);
void memlimit_trace(uint64_t numgc);
/* Called from the allocator's slow path (inside a no-preempt region) when
 * the heap reached its goal; collects unless disabled. */
void gc_maybe_collect(mcache *c);
/* What the pacer compares with sgc_next_gc: heap_live + freed_pending. */
uint64_t gc_heap_pressure(void);
extern uint64_t sgc_next_gc; /* atomic: heap_live goal that triggers */
extern uint64_t sgc_gc_dropped[NUM_CLASSES];
extern void (*sgc_test_mark_hook)(void); /* tests: runs during marking */
/* Tests: runs on the collector thread when a concurrent phase opens,
 * assists open, before it drains (e.g. to hold the drain back until
 * threads past the goal assist).  No lock held but gc_lock. */
extern void (*sgc_test_conc_phase_hook)(void);
/* Called by a scavenging pass with a span out of the free structures and
 * mheap.lock not held, before it releases the span's pages (tests). */
extern void (*sgc_test_scavenge_hook)(void);
/* Tests: runs in sgc_read_stats during a concurrent collection, with the
 * published figures' lock (stats_lock) held. */
extern void (*sgc_test_stats_hook)(void);
/* Tests: runs on the collector thread as a pre-cleaning round's rescan
 * opens to assists, before the collector takes a slice itself; and the
 * count of slices assists took (atomic). */
extern void (*sgc_test_preclean_hook)(void);
extern uint64_t sgc_test_assisted_slices;
/* Tests: runs after a major's restart, before its unprotect walk
 * (gen_restarted; gc_lock held, the world running). */
extern void (*sgc_test_unprotect_walk_hook)(void);
/* Over sgc_set_max_heap? (mheap.lock held) */
bool gc_over_max_heap(uintptr_t more_pages);
/* mheap.c: s gets a special or an uncollectable object (counted once);
 * s is freed or allocated again (mheap.lock). */
void mheap_note_rootspan(mspan *s);
void mheap_forget_rootspan(mspan *s);
bool gc_has_max_heap(void);
uint64_t gc_max_heap(void); /* 0: none */
void gc_raise_min_goal(uint64_t bytes);
void gc_collect_for_limit(mcache *c);
void gc_read_stats(sgc_stats *st);

/* One collection's figures for its gctrace line (gctrace.c). */
typedef struct gctrace_figures {
  uint64_t numgc;
  uint64_t start_ns; /* gc_init's time */
  /* triggered, world stopped, mark prepared, marked, world restarted */
  uint64_t t[5];
  bool minor, listed, idle;
  int nproc;
  uint64_t heap_before, old_bytes, goal;
  uint32_t nspan;
  uint64_t pause_sweeps; /* spans swept inside this stop */
  const mark_result *res;
  /* A concurrent collection: t[] are its final stop's; its first stop,
   * its concurrent mark, the time between the stops. */
  bool concurrent;
  uint64_t first_stop_ns, conc_ns, conc_span_ns;
  uint64_t assist_ns, nassists; /* mutators' assists in its phase */
} gctrace_figures;
void gctrace_collection(const gctrace_figures *f);
void gctrace_start(int nmarkers, int gcpercent);
void fiber_read_stats(sgc_stats *st);
/* Bytes of stack pool spans and of their unused stacks (fiber_lock). */
void fiber_pool_figures(uint64_t *pool_bytes, uint64_t *unused_bytes);
void heap_read_stats(sgc_stats *st);
void finalizer_counts(uint64_t *queued, uint64_t *run);

/* ----------------------------------------------------------------- malloc */

extern uint64_t sgc_free_cookie;
/* Freed-list links are stored hidden (xor the cookie), so a stale pointer
 * to one freed object does not keep the chain behind it alive. */
static inline void *freed_link(void *next) {
  return (void *)((uintptr_t)next ^ (uintptr_t)sgc_free_cookie);
}
/* Freed lists of a descriptor kind are cleared when dropped (world
 * stopped): such an object stays "allocated" until swept, and a stale
 * pointer could make the markers read its descriptor or hand it to a mark
 * procedure, which must find zeroes, not a hidden link and a cookie. */
/* The slots of s's allocation word still free lose any mark: a
 * concurrent marker that read the word's state half-way through a move of
 * the cache (mark_word) may have marked one; a free slot is never marked
 * otherwise (rule:free-slot-unmarked).  Whoever gives up the allocation
 * word: the owner uncaching s, the collector flushing. */
static inline void alloc_unmark_free_word(mspan *s) {
  uint32_t cb = s->cachebase;
  uint64_t free = ATOMIC_LOAD_RELAXED(&s->alloccache);
  if (cb < s->nelems && free != 0)
    __atomic_fetch_and(&s->markbits[cb >> 6], ~free, __ATOMIC_RELAXED);
}
/* The final stop of a concurrent mark: a freed list about to be dropped
 * loses its marks (its objects were freed; a marker may have marked one
 * through a stale pointer). */
void freed_list_unmark(void *head);
static inline void freed_list_clear(void *head, int spanclass) {
  if (sgc_kinds[spanclass_kind(spanclass)].scan != SCAN_DESCR)
    return;
  size_t size = class_to_size[spanclass_class(spanclass)];
  for (void **p = head; p != NULL;) {
    void **next = freed_link(p[0]);
    memset(p, 0, size);
    p = next;
  }
}
extern int sgc_initialised;
extern const int sgc_debug_build; /* SPANGC_DEBUG of the library (tests) */
void sgc_init_slow(void);
/* The span of p, the base of a live object, or an abort naming call and
 * pointer (malloc.c). */
mspan *object_span(const char *call, const void *p, uint32_t *index);
/* The size of the object an allocation of n bytes gets. */
static inline size_t alloc_rounded_size(size_t n) {
  if (n <= MAX_SMALL_SIZE)
    return class_to_size[size_to_class(n)];
  return (n + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}
static inline void sgc_ensure_init(void) {
  if (unlikely(!ATOMIC_LOAD(&sgc_initialised)))
    sgc_init_slow();
}

/* ------------------------------------------------------------------ fork */

/* pthread_atfork phases.  Each subsystem takes its locks in PREPARE (in
 * the order of the lock table, lockrank.h), releases them in PARENT, and in CHILD releases
 * them and forgets the threads that do not exist in the child. */
enum { FORK_PREPARE, FORK_PARENT, FORK_CHILD };
void fork_init(void);
void gc_atfork(int phase);
void gc_atfork_threads(int phase);
void world_atfork(int phase);
/* The thread records' allocator: its lock is taken by heap_atfork with the
 * other allocators' (a thread takes it outside the fork barrier's reach). */
fixalloc *world_thread_alloc(void);
void heap_atfork(int phase);
void os_atfork(int phase);
void caches_atfork(int phase);
void finalizer_atfork(int phase);
void roots_atfork(int phase);

/* --------------------------------------------------------------- machine */

/* machine.c (x86-64).  Run fn(arg) on the stack whose top is 'top'
 * (16-byte aligned). */
void call_on_stack(void (*fn)(void *), void *arg, void *top);
/* Save rbp rbx r12-r15 and the SSE/x87 control words on the current
 * stack, store rsp in *save_sp, load load_sp and pop the same. */
void fiber_swap(uintptr_t *save_sp, uintptr_t load_sp);
/* A fiber's first switch lands here, with the fiber in r12 and a 16-byte
 * aligned stack; it calls fiber_main (fiber.c). */
void fiber_entry(void);
/* The calling thread's thread pointer (%fs:0, the address of its TCB). */
uintptr_t machine_thread_pointer(void);

/* ---------------------------------------------------------------- verify */

/* Checks the heap's structures; aborts with a message naming the broken
 * invariant.  Callers must ensure no other thread mutates the heap. */
void sgc_heap_verify(void);

#endif /* SPANGC_INT_H */
