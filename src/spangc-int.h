/*
 * spangc-int.h — the internal header: every type, constant and cross-file
 * function of the runtime.  This file has the heap's (sizes, spans, the
 * page heap, central lists, sweeping, caches) and the allocator's; it
 * includes world-int.h (threads, stops, fibers, fork) and gc-int.h (dirty
 * pages, generations, the concurrent mark, the mark, the pacer, the
 * memory limit), which are parts of it, not headers of their own.
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
#include <sys/uio.h>

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
/* Run a test hook (sgc_test_*_hook) if one is set.  Tests set and clear
 * them while collector threads run, so the pointer is loaded atomically,
 * once.  Async-signal-safe (the suspend hook runs in a signal handler). */
static inline void test_hook_run(void (**hook)(void)) {
  void (*fn)(void) = ATOMIC_LOAD(hook);
  if (fn)
    fn();
}

/* Every runtime lock is an sgc_mutex, sgc_rwlock or sgc_spinlock with a
 * rank from the one table of lock ranks (lockrank.h). */
#include "lockrank.h"

/* --------------------------------------------------------------------- os */

/* Every request for memory goes through these; the Nth can be made to fail
 * for fault injection (SPANGC_FAIL_MMAP=N). */
void *os_reserve(size_t size);                 /* address space, no memory */
bool os_commit(void *addr, size_t size);       /* make reserved range usable */
bool os_commit_covering(const void *lo, const void *hi); /* pages over it */
/* A file's identity (device, inode): a descriptor number spangc keeps
 * (the pagemap files, /proc/self/mem) may be closed by the program and
 * reused for another file, or name the parent's file in a fork child. */
typedef struct {
  uint64_t dev, ino;
} os_file_id;
bool os_fd_id(int fd, os_file_id *id);          /* fstat; false: not open */
bool os_path_id(const char *path, os_file_id *id); /* stat */
bool os_fd_is(int fd, os_file_id id); /* fd open, naming the file id names */
static inline bool os_same_file(os_file_id a, os_file_id b) {
  return a.dev == b.dev && a.ino == b.ino;
}
void *os_alloc(size_t size);                   /* fresh zeroed memory, or NULL */
void os_free(void *addr, size_t size);
void os_release(void *addr, size_t size);      /* give pages back (madvise) */
void os_release_runs(const struct iovec *run, size_t n); /* n of them at once */
/* Runs gathered for release, OS_RUNS at a time: os_runs_add flushes a
 * full set; the owner's lock (or the stop) guards a set. */
#define OS_RUNS 256
typedef struct os_runs {
  uint32_t n;
  struct iovec run[OS_RUNS];
} os_runs;
void os_runs_add(os_runs *r, uintptr_t addr, uintptr_t len);
void os_runs_flush(os_runs *r); /* release the gathered runs, empty the set */
uint64_t os_release_calls(void); /* system calls that released pages so far */
int os_release_batch_refusal(void); /* errno that turned os_release_runs'
                                       one call off, 0 while it is on */
void os_populate(void *addr, size_t size);     /* fault them in at once */
uint64_t os_nanotime(void);
/* One step of waiting for another thread to finish something short (a
 * span's sweep, an assist, opening a file): *n counts the steps, from 0.
 * A few yields, then short sleeps; async-signal-safe. */
void os_wait_step(unsigned *n);
void os_init_fault_injection(void);
uint64_t os_requests(void); /* requests for memory so far (fault tests) */
/* Tests: request number 'at' fails (0: none), and with 'onwards' every
 * later one too (SPANGC_FAIL_MMAP=N or N+). */
void os_fault_injection_set(uint64_t at, bool onwards);
/* A detached background thread running fn(arg), named 'name': 0, or an
 * errno value (nothing started; the caller carries on without it). */
int os_start_detached(void *(*fn)(void *), void *arg, size_t stack_size,
                      const char *name);
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
  char *ready;      /* the chunk is resident below this (os_populate) */
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

/* The per-object bitmaps of a span that few spans need (mspan.rare):
 * 192 bytes, a third of every span struct when they were inline. */
typedef struct mspan_rare {
  /* Uncollectable objects (sgc_alloc_uncollectable): bit i set while
   * object i is a root that only sgc_free ends.  Set by the allocating
   * thread, cleared by sgc_free, both atomically inside no-preempt
   * regions; read by the markers with the world stopped.  mspan.hasuncoll:
   * some bit may be set. */
  uint64_t uncollbits[BITMAP_WORDS];
  /* With generations: bit i set once object i was freed with sgc_free
   * (atomic; cleared when the span is made).  An old object may hold a
   * stale pointer to such a slot for ever, which a minor collection does
   * not follow (the young object reusing the slot is not reachable
   * through it): the verifier forgives exactly those. */
  uint64_t everfreedbits[BITMAP_WORDS];
  /* With generations: bit i set if the finalizer queue held object i at
   * the last mark (atomic, set by the markers).  The sweep keeps such an
   * object allocated without making it old, so that the first minor
   * collection after its finalizer ran frees it; then clears the bits.
   * A finalizer's registration makes the struct (sgc_set_finalizer), so
   * the markers, which must not allocate, find it. */
  uint64_t finqbits[BITMAP_WORDS];
} mspan_rare;

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
  /* Some bit of the rare uncollbits may be set (see mspan_rare). */
  uint8_t hasuncoll;
  /* Counted in mheap.nrootspans: a special was added or an object made
   * uncollectable since the span was allocated (atomic; cleared under
   * mheap.lock when the span is freed or allocated again). */
  uint8_t rootspan;
  /* A large span whose free is deferred to the end of a concurrent mark
   * (mheap.deferred_free); h->lock. */
  uint8_t freedeferred;
  /* Every object counts as ever freed (atomic; cleared when the span is
   * made): a large span's one object was freed with sgc_free (no rare
   * bitmaps made for one bit), or an object of a small span was while
   * no rare bitmaps could be made for it. */
  uint8_t everfreedall;
  /* The last rescan of written pages that scanned this large span's
   * object whole (markroot.c, rescan_first; atomic exchange). */
  uint64_t rescanpass;
#if SPANGC_DEBUG
  /* Debug build: bit i set while object i was freed with sgc_free and not
   * handed out again (atomic): a second free is caught even when the
   * program wrote over the freed object's cookie.  Not in the release
   * build's struct (384 bytes; 448 with it). */
  uint64_t freedbits[BITMAP_WORDS];
#endif
  /* The bitmaps few spans need, made on first need (mspan_rare_make) and
   * kept by the struct for good, through every span it describes (their
   * bits are cleared when a span is made): set once (atomic, release),
   * never freed or replaced, so a reader holding the pointer always reads
   * the right struct's bits.  NULL: every bit clear. */
  struct mspan_rare *rare;

  /* Free-span state (mheap.lock).  Each free page has its own free time
   * (mheap.freetime); unusedsince bounds them from below. */
  uint64_t unusedsince;  /* <= the freetime of every unreleased page */
  uintptr_t npreleased;  /* pages returned to the OS (freetime 0) */

  /* Specials: finalizers of objects in this span. */
  sgc_mutex speciallock;
  special *specials;
} __attribute__((aligned(64))) mspan; /* no false sharing between the
                                         spans two threads allocate from */
/* Every span pays for its struct: 7% of an 8 KiB span of 1 KiB objects
 * at 576 bytes (design.md, "Rare bitmaps"). */
_Static_assert(SPANGC_DEBUG || sizeof(mspan) <= 384,
               "the release mspan grew past 384 bytes");

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
/* The set bits of x.  Without -mpopcnt (the x86-64 baseline Debian
 * builds for) __builtin_popcountll is a call into libgcc's table-driven
 * __popcountdi2: 0.6% of binary-trees 21's cycles, counting each swept
 * span's marks.  The bit-slicing sum below is a dozen inline operations. */
static inline uint32_t bits_set(uint64_t x) {
#ifdef __POPCNT__
  return (uint32_t)__builtin_popcountll(x);
#else
  x -= (x >> 1) & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (uint32_t)((x * 0x0101010101010101ull) >> 56);
#endif
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
/* The span's rare bitmaps, or NULL while it has none (every bit clear).
 * Acquire: the struct's zeroed bits are seen before its pointer. */
static inline mspan_rare *mspan_rare_of(const mspan *s) {
  return __atomic_load_n(&s->rare, __ATOMIC_ACQUIRE);
}
/* Made on first need (special.c): NULL if the OS refuses the memory. */
mspan_rare *mspan_rare_make(mspan *s);
/* Bit i of one of the rare bitmaps (field: uncollbits, everfreedbits,
 * finqbits); clear without the struct. */
#define MSPAN_RARE_BIT(s, field, i)                                         \
  __extension__({                                                           \
    mspan_rare *r_ = mspan_rare_of(s);                                      \
    r_ != NULL && bitmap_get_atomic(r_->field, (i));                        \
  })
/* Word j of the ever-freed bits: all ones when the span could not have
 * them (mspan.everfreedall). */
static inline uint64_t mspan_everfreed_word(const mspan *s, uint32_t j) {
  if (ATOMIC_LOAD_RELAXED(&s->everfreedall))
    return ~(uint64_t)0;
  mspan_rare *r = mspan_rare_of(s);
  return r != NULL ? ATOMIC_LOAD_RELAXED(&r->everfreedbits[j]) : 0;
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
    if (i >= cb + 64) /* atomic: an aging minor's markers set bits */
      return bitmap_get_atomic((uint64_t *)s->allocbits, i);
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
  mspan_list dense;    /* swept spans with too few free slots to hand
                          out (mcentral.c: span_reusable) */
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
  uint64_t scavenge_puts; /* spans put back so far (alloc_span_locked) */
  uint32_t scavenge_waiters; /* allocations waiting for the span out */
  /* Signalled (with mheap.lock) when a span is put back and when the last
   * waiter leaves: the waits around a span out sleep on it. */
  pthread_cond_t scavenge_cond;
  uint64_t scavenge_walked; /* free-time entries the passes looked at */

  /* Every mspan struct ever made, recorded by record_span: a reserved
   * array of nspanmax entries, nspancap of them committed (allspans.c);
   * it never moves, so the collector's snapshot is the array and a
   * count. */
  mspan **allspans;
  uint32_t nspan, nspancap, nspanmax;

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
  fixalloc rarealloc; /* mspan_rare */

  mcentral central[NUM_SPANCLASSES];

  /* Statistics (mheap.lock unless atomic). */
  /* Written under the lock (OWNER_ADD), read without it too (memlimit's
   * overhead_now, from sgc_set_gcpercent while the sweeper frees spans). */
  uint64_t pages_inuse;   /* pages in in-use spans */
  uint64_t pages_stack;   /* pages in stack spans */
  uint64_t pages_freed;   /* pages of in-use and stack spans freed, ever
                           * (gc_collect_for_room: did a collection make
                           * room?) */
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
/* allspans in reserved address space for max entries (mheap_init). */
void allspans_init(mheap *h, void *reserved, uint32_t max);
void record_span(void *arg, void *obj); /* spanalloc's 'first' hook */
/* scavenger.c: free pages back to the OS; the free pages' figures. */
size_t mheap_scavenge(uint64_t older_than_ns); /* bytes released */
/* Release free pages, highest first, until the committed arena minus
 * the released pages is at most keep bytes; at most batch bytes. */
size_t mheap_scavenge_down_to(uint64_t keep, size_t batch, uint64_t min_idle);
size_t mheap_scavenge_down_to_locked(uint64_t keep, size_t batch,
                                     uint64_t min_idle);
/* at_init: sgc_init's start, which also makes the collector's threads
 * ahead (gc_start_background); false in a fork child. */
void scavenger_start(bool at_init);
void scavenge_atfork_child(void); /* mheap.lock held */
/* Wait (dropping and retaking mheap.lock) until no span is out for a
 * release without the lock (scavenger.c).  mheap.lock held. */
void mheap_wait_none_out_locked(void);
/* Sleep on mheap.scavenge_cond, mheap.lock dropped meanwhile: the waits
 * around a span out are loops of it.  mheap.lock held. */
void mheap_scavenge_wait_locked(void);
/* The arena and free-page figures of sgc_stats (takes mheap.lock). */
void mheap_read_arena_stats(sgc_stats *st);
/* gctrace: the heap's line for collection numgc (stderr). */
void mheap_trace(uint64_t numgc);

/* The index of the page holding addr in mheap.spans and mheap.freetime
 * (mheap.c, scavenger.c). */
static inline size_t page_index(mheap *h, uintptr_t addr) {
  return (addr - h->arena_start) >> PAGE_SHIFT;
}

/* Ask the cache for the span struct of arena page p (below arena_used)
 * before it is read: the walks over listed pages (scan_dirty,
 * protect_old_pages) read one span struct after another in address
 * order, a cache miss each (70% of protect_old_pages' time on
 * binary-trees 21's minors).  They ask MHEAP_PREFETCH_AHEAD on.  Always
 * inlined, like mspan_obj_index, for scan_dirty's SCAN_NO_SANITIZE. */
#define MHEAP_PREFETCH_AHEAD (4 * (uintptr_t)PAGE_SIZE)
__attribute__((always_inline)) static inline void
mheap_prefetch_span(mheap *h, uintptr_t p) {
  __builtin_prefetch(ATOMIC_LOAD_RELAXED(&h->spans[page_index(h, p)]));
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
bool mcentral_dense_after_sweep(const mspan *s); /* marks say: kept dense */
uint32_t mspan_count_marks(const mspan *s); /* objects marked (sweep.c) */
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
void bgsweep_start(void);
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
mcache *mcache_get_prepared(mcache *c, struct mthread *t);
void mcache_drop_prepared(mcache *c, struct mthread *t);
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

/* The threads and the stops, then the collector: one header each, part
 * of this one (world-int.h, gc-int.h). */
#include "world-int.h"
#include "gc-int.h"

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

/* ---------------------------------------------------------------- verify */

/* Checks the heap's structures; aborts with a message naming the broken
 * invariant.  Callers must ensure no other thread mutates the heap. */
void sgc_heap_verify(void);

#endif /* SPANGC_INT_H */
