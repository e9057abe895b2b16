/*
 * malloc.c — the public allocation calls and initialisation.
 *
 * The fast path (alloc_any) takes a slot from the thread's current span
 * (one count-trailing-zeros on the allocation cache); anything else goes
 * the general way (alloc_any_slow, alloc_small): an object from the
 * thread's freed list first, then the span's slots, else the slow path in
 * mcache.c.  Large objects (over 32 KiB) get a span each from the heap.
 *
 * Zeroing: a scanned object is returned zeroed; a slot is cleared at
 * allocation only if its span's needzero says it may hold stale bytes
 * (fresh pages from the OS are already zero).  A noscan object is not
 * cleared, except for its first two words, which held the freed list link
 * and the double-free cookie.
 *
 * Owns: the initialisation state (init_lock) and the free cookie.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "spangc-int.h"

int sgc_initialised;
const int sgc_debug_build = SPANGC_DEBUG;
uint64_t sgc_free_cookie;
static sgc_mutex init_lock = SGC_MUTEX_INIT(INIT);

void sgc_init_slow(void) {
  sgc_lock(&init_lock);
  if (!sgc_initialised) {
    os_init_fault_injection();
    sizeclass_init();
    mheap_init();
    gen_init();
    mcache_thread_init();
    uint64_t cookie = 0;
    if (getrandom(&cookie, sizeof cookie, GRND_NONBLOCK) != sizeof cookie)
      cookie = os_nanotime() * 0x9e3779b97f4a7c15ull;
    sgc_free_cookie = cookie | 1;
    world_init();
    gc_init();
    fork_init();
    scavenger_start(true);
    ATOMIC_STORE(&sgc_initialised, 1);
    sgc_unlock(&init_lock);
    /* The initialising thread (normally main) is a mutator from now on.
     * If the OS refuses the memory for its cache, its first allocation
     * reports ENOMEM and tries again. */
    (void)mcache_get();
    return;
  }
  sgc_unlock(&init_lock);
}

void sgc_init(void) { sgc_ensure_init(); }

/* A fork waits for an initialisation under way (rule:fork-waits-for-init):
 * fork.c's prepare handler takes init_lock before anything else, and the
 * parent's and child's handlers give it back last.  Without it, a fork
 * while another thread was inside sgc_init found the runtime not
 * initialised, took nothing, and the child inherited init_lock held by a
 * thread it does not have: its first allocation waited for ever.
 * Once the runtime is initialised no initialisation can be under way and
 * the lock is not taken: a thread forking from inside a runtime call holds
 * inner locks (gc_atfork refuses that with a message of its own, which
 * init_lock, outermost, taken then, would preempt in the debug build's
 * rank check).  A child that inherits init_lock held (a fork between
 * sgc_init_slow's flag and its unlock) never takes it: it is initialised.
 * The flag is the forking thread's: it runs all three handlers. */
static __thread bool init_held_for_fork;

void init_atfork(int phase) {
  if (phase == FORK_PREPARE) {
    if (ATOMIC_LOAD(&sgc_initialised))
      return;
    sgc_lock(&init_lock);
    init_held_for_fork = true;
    return;
  }
  if (!init_held_for_fork)
    return;
  init_held_for_fork = false;
  if (phase == FORK_PARENT)
    sgc_unlock(&init_lock);
  else
    sgc_mutex_reset_held(&init_lock);
}

static inline uintptr_t free_cookie(const void *p) {
  return (uintptr_t)sgc_free_cookie ^ (uintptr_t)p;
}

static inline void clear_object(void *p, size_t size, bool noscan) {
  uintptr_t *w = p;
  if (noscan) {
    w[0] = 0;
    w[1] = 0;
  } else if (size <= 64) {
    /* The small classes (16 to 64 bytes) inline: a memset call costs
     * more than the stores for the objects programs allocate most. */
    w[0] = 0;
    w[1] = 0;
    if (size > 16) {
      w[2] = 0;
      w[3] = 0;
      if (size > 32) {
        w[4] = 0;
        w[5] = 0;
        if (size > 48) {
          w[6] = 0;
          w[7] = 0;
        }
      }
    }
  } else {
    memset(p, 0, size);
  }
}

/* A reused large span of at least this size is cleared by giving its
 * pages back to the OS (they read as zero) rather than by writing every
 * byte: clearing 1 GiB that the program may never touch made it resident
 * (and took long inside a no-preempt region, holding up stops).  Below
 * it, writing is cheaper than faulting the pages in again for a program
 * that uses its object: allocfree ran 3.4x slower releasing from 256 KiB,
 * and a loop filling a reused 4 MiB object 3.5x slower.  Writing 32 MiB
 * takes a few milliseconds. */
#define LARGE_RELEASE ((size_t)32 << 20)

static void *alloc_large(mcache *c, size_t n, int kind) {
  bool noscan = kind == KIND_NOSCAN;
  uintptr_t npages = (n + PAGE_SIZE - 1) >> PAGE_SHIFT;
  gc_maybe_collect(c);
  sweep_pay();
  sweep_reclaim(npages, -1);
  mspan *s = mheap_alloc(npages, make_spanclass(0, kind), true);
  for (int tries = 0; s == NULL && gc_collect_for_room(c, npages, tries);
       tries++)
    s = mheap_alloc(npages, make_spanclass(0, kind), true);
  if (s == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  if (s->needzero && !noscan && s->elemsize >= LARGE_RELEASE)
    os_release((void *)s->base, s->elemsize); /* reads back as zero */
  else if (s->needzero && !noscan)
    memset((void *)s->base, 0, s->elemsize);
  else if (s->needzero)
    clear_object((void *)s->base, s->elemsize, true);
  ATOMIC_ADD(&sgc_heap.heap_live, (int64_t)s->elemsize);
  ATOMIC_ADD(&sgc_heap.nlargealloc, 1);
  ATOMIC_ADD(&sgc_heap.largealloc_bytes, s->elemsize);
  return (void *)s->base;
}

/* Take the first object of the cache's freed list of span class sc. */
static inline void **freed_pop(mcache *c, int sc) {
  void **f = c->freed[sc];
  c->freed[sc] = freed_link(f[0]);
  c->nfreed[sc]--;
#if SPANGC_DEBUG
  mspan *fs = mheap_lookup((uintptr_t)f);
  bitmap_clear_atomic(fs->freedbits, mspan_obj_index(fs, (uintptr_t)f));
#endif
  return f;
}

void freed_list_unmark(void *head) {
  for (void **p = head; p != NULL; p = freed_link(p[0])) {
    mspan *s = mheap_lookup((uintptr_t)p);
    bitmap_clear_atomic(s->markbits, mspan_obj_index(s, (uintptr_t)p));
  }
}

/* The lowest free slot the allocation cache of span s (its value: cache,
 * not 0) shows, taken (the cache's owner, in a no-preempt region). */
static inline void *span_take_slot(mspan *s, uint64_t cache, size_t size) {
  uint32_t idx = s->cachebase + (uint32_t)__builtin_ctzll(cache);
  ATOMIC_STORE(&s->alloccache, cache & (cache - 1));
  s->nalloc++;
  return (void *)(s->base + (uintptr_t)idx * size);
}

static inline void *alloc_small(mcache *c, size_t n, int kind) {
  bool noscan = kind == KIND_NOSCAN;
  int cls = size_to_class(n);
  int sc = make_spanclass(cls, kind);
  size_t size = class_to_size[cls];
  for (;;) {
    if (c->freed[sc] != NULL) {
      void **f = freed_pop(c, sc);
      c->live_delta += (int64_t)size;
      c->freed_delta -= (int64_t)size;
      clear_object(f, size, noscan);
      OWNER_ADD(&c->nmalloc[cls], 1);
      return f;
    }
    mspan *s = c->alloc[sc];
    uint64_t cache = s->alloccache;
    if (likely(cache != 0)) {
      void *p = span_take_slot(s, cache, size);
      if (s->needzero)
        clear_object(p, size, noscan);
      OWNER_ADD(&c->nmalloc[cls], 1);
      return p;
    }
    if (!mcache_refill(c, sc)) {
      errno = ENOMEM;
      return NULL;
    }
  }
}

/* Mark object p of span s uncollectable (inside the allocating
 * no-preempt region, so no collection sees it half-done).  False if the
 * span's rare bitmaps could not be made (the object is left garbage). */
static bool set_uncollectable(void *p) {
  mspan *s = mheap_lookup((uintptr_t)p);
  uint32_t i = mspan_obj_index(s, (uintptr_t)p);
  mspan_rare *rare = mspan_rare_make(s);
  if (rare == NULL)
    return false;
  mheap_note_rootspan(s); /* first: rule:rootspans-counted */
  bitmap_set_atomic(rare->uncollbits, i);
  if (!ATOMIC_LOAD_RELAXED(&s->hasuncoll))
    ATOMIC_STORE_RELAXED(&s->hasuncoll, 1);
  return true;
}

/* spangc.h forbids allocating inside a blocking region: the thread may
 * run beside a mark or a sweep that does not count on it.  A load per
 * allocation: checked by the debug build only. */
static inline void check_not_blocking(const char *call, size_t n) {
#if SPANGC_DEBUG
  if (sgc_in_blocking())
    sgc_fatal("%s(%zu): called inside a blocking region "
              "(sgc_enter_blocking); leave it first", call, n);
#else
  (void)call, (void)n;
#endif
}

/* Any request, any state of the cache: the fast path below hands over to
 * it whenever it cannot serve the request itself. */
__attribute__((noinline)) static void *alloc_any_slow(size_t n, int kind,
                                                     bool uncollectable) {
  mcache *c = mcache_get();
  if (unlikely(c == NULL)) {
    errno = ENOMEM;
    return NULL;
  }
  void *p;
  check_not_blocking("sgc_alloc", n);
  nopreempt_enter(c);
  if (likely(n <= MAX_SMALL_SIZE))
    p = alloc_small(c, n, kind);
  else if (n > (size_t)1 << 46) { /* more than any arena could hold */
    errno = ENOMEM;
    p = NULL;
  } else
    p = alloc_large(c, n, kind);
  if (unlikely(uncollectable) && p != NULL && !set_uncollectable(p)) {
    errno = ENOMEM;
    p = NULL;
  }
  nopreempt_leave(c);
  return p;
}

/* The fast path's ways out, each taken as its last act (a tail call), so
 * that the fast path itself saves no register: out of the no-preempt
 * region, then the slow path (a fork barrier up, an empty cache, freed
 * objects to take first); clear a larger object, then leave; leave into
 * a stop pending, then hand the object over. */
__attribute__((noinline, cold)) static void *
alloc_fast_retreat(mcache *c, size_t n, int kind) {
  nopreempt_leave(c);
  return alloc_any_slow(n, kind, false);
}

__attribute__((noinline)) static void *alloc_fast_clear(mcache *c, void *p,
                                                        size_t size) {
  memset(p, 0, size);
  nopreempt_leave(c);
  return p;
}

__attribute__((noinline, cold)) static void *alloc_fast_park(mcache *c,
                                                             void *p) {
  world_park_pending(c);
  return p;
}

/* A small collectable object from a free slot of the thread's current
 * span: alloc_small's second case, in a no-preempt region entered and
 * left without a call (world-int.h's nopreempt_try_enter and
 * nopreempt_leave_quick), every rare case a tail call (above).  The same
 * steps in the same order as nopreempt_enter, alloc_small and
 * nopreempt_leave: the region is entered before the cache is read, the
 * fork barrier looked at after the entry (rule:fork-barrier), and a stop
 * that came meanwhile is answered on the way out, with the object in hand
 * (the stop scans the parked thread's registers and stack).
 * bench/peers binarytrees 21 took 7% less time than through alloc_small
 * (which pushed six registers for its slow cases). */
static inline void *alloc_any(size_t n, int kind, bool uncollectable) {
  mcache *c = sgc_tls_cache;
  if (unlikely(c == NULL || n > MAX_SMALL_SIZE || uncollectable))
    return alloc_any_slow(n, kind, uncollectable);
  check_not_blocking("sgc_alloc", n);
  bool entered = nopreempt_try_enter(c);
  int cls = size_to_class(n);
  int sc = make_spanclass(cls, kind);
  mspan *s = c->alloc[sc];
  uint64_t cache = s->alloccache;
  if (unlikely(!entered || cache == 0 || c->freed[sc] != NULL))
    return alloc_fast_retreat(c, n, kind);
  size_t size = class_to_size[cls];
  void *p = span_take_slot(s, cache, size);
  OWNER_ADD(&c->nmalloc[cls], 1);
  bool noscan = kind == KIND_NOSCAN;
  if (s->needzero) {
    if (!noscan && size > 64)
      return alloc_fast_clear(c, p, size);
    clear_object(p, size, noscan);
  }
  if (nopreempt_leave_quick(c))
    return alloc_fast_park(c, p);
  return p;
}

void *sgc_alloc(size_t n) { return alloc_any(n, KIND_SCAN, false); }

void *sgc_alloc_noscan(size_t n) { return alloc_any(n, KIND_NOSCAN, false); }

void *sgc_alloc_uncollectable(size_t n) {
  return alloc_any(n, KIND_SCAN, true);
}

void *sgc_alloc_noscan_uncollectable(size_t n) {
  return alloc_any(n, KIND_NOSCAN, true);
}

void *sgc_alloc_kind(size_t n, int kind) {
  if (kind < 0 || kind >= ATOMIC_LOAD(&sgc_nkinds))
    sgc_fatal("sgc_alloc_kind(%zu, %d): no such kind", n, kind);
  return alloc_any(n, kind, false);
}

/* A run of small objects for sgc_alloc_many, in one no-preempt region:
 * the freed list first, then the span's cached free slots, refilling as
 * alloc_small does.  The counters are added once for the run. */
static size_t alloc_small_run(mcache *c, size_t n, int kind, void **out,
                              size_t max) {
  bool noscan = kind == KIND_NOSCAN;
  int cls = size_to_class(n);
  int sc = make_spanclass(cls, kind);
  size_t size = class_to_size[cls];
  size_t got = 0;
  while (got < max) {
    /* The freed list first, each time round: a refill may answer with a
     * central batch of freed objects there rather than a span (taking
     * the span's slots then would leave the batch to be dropped
     * uncounted by the next refill). */
    size_t from_freed = got;
    while (got < max && c->freed[sc] != NULL) {
      void **f = freed_pop(c, sc);
      clear_object(f, size, noscan);
      out[got++] = f;
    }
    c->live_delta += (int64_t)(size * (got - from_freed));
    c->freed_delta -= (int64_t)(size * (got - from_freed));
    if (got == max)
      break;
    mspan *s = c->alloc[sc];
    uint64_t cache = s->alloccache;
    if (cache == 0) {
      if (!mcache_refill(c, sc)) {
        errno = ENOMEM;
        break;
      }
      continue;
    }
    uintptr_t base = s->base;
    uint32_t cachebase = s->cachebase;
    bool zero = s->needzero;
    size_t from = got;
    do {
      uint32_t idx = cachebase + (uint32_t)__builtin_ctzll(cache);
      cache &= cache - 1;
      void *p = (void *)(base + (uintptr_t)idx * size);
      if (zero)
        clear_object(p, size, noscan);
      out[got++] = p;
    } while (cache != 0 && got < max);
    /* No stop sees the span before the region ends; nobody else holds
     * these objects yet: one store for the run. */
    ATOMIC_STORE(&s->alloccache, cache);
    s->nalloc += (uint32_t)(got - from);
  }
  OWNER_ADD(&c->nmalloc[cls], got);
  return got;
}

size_t sgc_alloc_many(size_t n, int kind, void **out, size_t max) {
  if (kind < 0 || kind >= ATOMIC_LOAD(&sgc_nkinds))
    sgc_fatal("sgc_alloc_many(%zu, %d): no such kind", n, kind);
  if (max == 0)
    return 0;
  if (n > MAX_SMALL_SIZE) { /* a span each: nothing to share */
    size_t got = 0;
    while (got < max && (out[got] = alloc_any(n, kind, false)) != NULL)
      got++;
    return got;
  }
  mcache *c = mcache_get();
  if (unlikely(c == NULL)) {
    errno = ENOMEM;
    return 0;
  }
  check_not_blocking("sgc_alloc_many", n);
  nopreempt_enter(c);
  size_t got = alloc_small_run(c, n, kind, out, max);
  nopreempt_leave(c);
  return got;
}

int sgc_is_uncollectable(const void *p) {
  uint32_t i;
  mcache *c = nopreempt_enter_any();
  mspan *s = object_span("sgc_is_uncollectable", p, &i);
  int r = MSPAN_RARE_BIT(s, uncollbits, i);
  nopreempt_leave_any(c);
  return r;
}

int sgc_is_heap_ptr(const void *p) {
  if (!ATOMIC_LOAD(&sgc_initialised))
    return 0;
  return mheap_lookup((uintptr_t)p) != NULL;
}

void sgc_heap_bounds(void **lo, void **hi) {
  sgc_ensure_init();
  *lo = (void *)sgc_heap.arena_start;
  *hi = (void *)sgc_heap.arena_end;
}

void *sgc_calloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return alloc_any(n, KIND_SCAN, false);
}

/* The in-use span holding p, swept for this cycle, or NULL.  Caller in a
 * no-preempt region (an outsider's included).  Sweeping may give the span
 * back, and another thread may reuse its pages at once: look again until
 * the span found after sweeping is the one that was swept
 * (rule:look-up-after-sweep). */
mspan *swept_span_of(uintptr_t p) {
  for (;;) {
    mspan *s = mheap_lookup(p);
    if (s == NULL)
      return NULL;
    mspan_ensure_swept(s);
    if (mheap_lookup(p) == s)
      return s;
  }
}

/* The span of p, which must be the base of a live object: aborts naming
 * the call and the pointer otherwise.  Caller in a no-preempt region. */
mspan *object_span(const char *call, const void *p, uint32_t *index) {
  sgc_ensure_init();
  mspan *s = swept_span_of((uintptr_t)p);
  if (s == NULL) {
    uintptr_t a = (uintptr_t)p;
    if (a >= sgc_heap.arena_start && a < ATOMIC_LOAD(&sgc_heap.arena_used))
      sgc_fatal("%s(%p): not an allocated object (double free, or freed by "
                "the collector)", call, p);
    sgc_fatal("%s(%p): not a pointer to a spangc heap object", call, p);
  }
  uint32_t i = mspan_obj_index(s, (uintptr_t)p);
  uintptr_t base = s->base + (uintptr_t)i * s->elemsize;
  if (base != (uintptr_t)p)
    sgc_fatal("%s(%p): interior pointer; the object starts at %p", call, p,
              (void *)base);
  if (!mspan_is_allocated(s, i))
    sgc_fatal("%s(%p): not an allocated object (double free, or freed by "
              "the collector)", call, p);
  *index = i;
  return s;
}

/* Object i of s freed with sgc_free (mspan_rare.everfreedbits). */
static void note_ever_freed(mspan *s, uint32_t i) {
  mspan_rare *rare = mspan_rare_make(s);
  if (rare != NULL)
    bitmap_set_atomic(rare->everfreedbits, i);
  else /* no memory for the bits: every object counts (for the verifier) */
    ATOMIC_STORE_RELAXED(&s->everfreedall, 1);
}

static void free_object(mcache *c, void *p) {
  uint32_t i;
  mspan *s = object_span("sgc_free", p, &i);
  if (ATOMIC_LOAD_RELAXED(&s->specials)) /* a hint: the lock decides */
    special_remove_all(s, (uintptr_t)p);
  mspan_rare *rare =
      ATOMIC_LOAD_RELAXED(&s->hasuncoll) ? mspan_rare_of(s) : NULL;
  if (rare != NULL)
    bitmap_clear_atomic(rare->uncollbits, i);
  if (spanclass_class(s->spanclass) == 0) {
    size_t size = s->elemsize;
    if (sgc_record_frees) /* for the verifier, see gen_note_span_freed */
      ATOMIC_STORE_RELAXED(&s->everfreedall, 1); /* its one object */
    ATOMIC_ADD(&sgc_heap.heap_live, -(int64_t)size);
    ATOMIC_ADD(&sgc_heap.nlargefree, 1);
    ATOMIC_ADD(&sgc_heap.largefree_bytes, size);
    mheap_free(s);
    return;
  }
  /* One atomic exchange: of two threads freeing p at once, one sees the
   * other's cookie. */
  uintptr_t *w = p;
  if (__atomic_exchange_n(&w[1], free_cookie(p), __ATOMIC_ACQ_REL) ==
      free_cookie(p))
    sgc_fatal("sgc_free(%p): double free", p);
#if SPANGC_DEBUG
  uint64_t bit = (uint64_t)1 << (i & 63);
  if (__atomic_fetch_or(&s->freedbits[i >> 6], bit, __ATOMIC_RELAXED) & bit)
    sgc_fatal("sgc_free(%p): double free (the freed object was written "
              "over)", p);
#endif
  /* An old object's slot must not hand "old" to the young object that
   * reuses it (rule:freed-slot-not-old); no mark runs while we are in the
   * region. */
  /* During a concurrent mark too: the object is garbage to it (a marker
   * following a stale pointer may mark it again: the final stop unmarks
   * the freed lists), and a marked object may keep a stale pointer to the
   * slot (the verifier forgives it); before one too, with concurrent
   * marking on: the slot may be reused during the next mark. */
  if (sgc_record_frees) {
    bitmap_clear_atomic(s->markbits, i);
    note_ever_freed(s, i);
  }
  int cls = spanclass_class(s->spanclass);
  c->live_delta -= (int64_t)s->elemsize;
  c->freed_delta += (int64_t)s->elemsize;
  OWNER_ADD(&c->nfree[cls], 1);
  mcache_push_freed(c, s->spanclass, p);
}

void sgc_free(void *p) {
  if (p == NULL)
    return;
  mcache *c = mcache_get();
  if (c == NULL)
    sgc_fatal("sgc_free(%p): cannot register the calling thread", p);
  nopreempt_enter(c);
  free_object(c, p);
  nopreempt_leave(c);
}

size_t sgc_size(const void *p) {
  if (p == NULL)
    return 0;
  uint32_t i;
  mcache *c = nopreempt_enter_any();
  mspan *s = object_span("sgc_size", p, &i);
  size_t n = s->elemsize;
  nopreempt_leave_any(c);
  return n;
}

void *sgc_base(const void *p) {
  if (!ATOMIC_LOAD(&sgc_initialised))
    return NULL;
  mcache *c = nopreempt_enter_any();
  void *base = NULL;
  mspan *s = swept_span_of((uintptr_t)p);
  uint32_t i = s ? mspan_obj_index(s, (uintptr_t)p) : 0;
  if (s != NULL && mspan_is_allocated(s, i)) {
    base = (void *)(s->base + (uintptr_t)i * s->elemsize);
    /* An object freed with sgc_free waits in a freed list, allocated in
     * its span until reused or collected: its cookie says it is free. */
    if (spanclass_class(s->spanclass) != 0 &&
        ((uintptr_t *)base)[1] == free_cookie(base))
      base = NULL;
  }
  nopreempt_leave_any(c);
  return base;
}

void *sgc_realloc(void *p, size_t n) {
  if (p == NULL)
    return sgc_alloc(n);
  uint32_t i;
  mcache *c = nopreempt_enter_any();
  mspan *s = object_span("sgc_realloc", p, &i);
  size_t old = s->elemsize;
  int kind = spanclass_kind(s->spanclass);
  bool uncollectable = MSPAN_RARE_BIT(s, uncollbits, i);
  nopreempt_leave_any(c);
  bool typed = kind == ATOMIC_LOAD_RELAXED(&sgc_typed_kind);
  if (typed) {
    /* The copy is scanned conservatively: its descriptor word (the old
     * object's last) is not part of the contents. */
    kind = KIND_SCAN;
    old -= sizeof(uintptr_t);
  }
  if (n == 0) {
    sgc_free(p);
    return NULL;
  }
  /* Keep the object if n fits and would not waste more than half.  The
   * bytes past n are cleared in a scanned object: stale pointers there
   * would keep garbage alive. */
  if (!typed && n <= old && (n > old / 2 || old <= OBJ_ALIGN)) {
    if (kind != KIND_NOSCAN)
      memset((char *)p + n, 0, old - n);
    return p;
  }
  void *q = alloc_any(n, kind, uncollectable);
  if (q == NULL)
    return NULL;
  memcpy(q, p, n < old ? n : old);
  sgc_free(p);
  return q;
}

/* The figures are gathered into a whole sgc_stats of this library's
 * version and the caller's size of it copied out: a program built against
 * an older spangc.h has a shorter struct (fields are only appended), one
 * built against a newer header a longer one, whose tail is zeroed. */
size_t sgc_read_stats_size(sgc_stats *out, size_t size) {
  if (out == NULL)
    sgc_fatal("sgc_read_stats: NULL sgc_stats pointer");
  sgc_ensure_init();
  sgc_stats st;
  memset(&st, 0, sizeof st);
  gc_read_stats(&st); /* first (see there); never in a no-preempt region */
  mcache *c = nopreempt_enter_any();
  heap_read_stats(&st);
  finalizer_counts(&st.finalizers_queued, &st.finalizers_run);
  fiber_read_stats(&st);
  mheap_read_arena_stats(&st);
  nopreempt_leave_any(c);
  if (size <= sizeof st) {
    memcpy(out, &st, size);
  } else {
    memcpy(out, &st, sizeof st);
    memset((char *)out + sizeof st, 0, size - sizeof st);
  }
  return sizeof st;
}

/* The unsized entry point that programs built before sgc_read_stats
 * became a macro still call (sgc_read_stats@SPANGC_0).  Their struct's
 * size is unknown here, and it was not always the same: fields were
 * inserted before by_class, not only appended, until 1a3bc8a.  The
 * smallest sgc_stats any spangc.h declared is the first one's, 2368 bytes
 * (3cb652b), so that much and no more is written: no such program has
 * bytes past its struct overwritten (found by helper-76: 2824 bytes, the
 * end of today's by_class, overran the structs of three older headers by
 * 56-456 bytes). */
#define STATS_SIZE_FIRST 2368
_Static_assert(STATS_SIZE_FIRST <= sizeof(sgc_stats),
               "sgc_stats only grows");
SGC_API void(sgc_read_stats)(sgc_stats *out);
void(sgc_read_stats)(sgc_stats *out) {
  sgc_read_stats_size(out, STATS_SIZE_FIRST);
}

/* The heap's figures into *st (zeroed by the caller). */
void heap_read_stats(sgc_stats *st) {
  mheap *h = &sgc_heap;
  mcache_read_counters(st);
  for (int i = 0; i < NUM_CLASSES; i++)
    st->by_class[i].nmalloc += ATOMIC_LOAD_RELAXED(&sgc_gc_dropped[i]);
  for (int sc = 0; sc < NUM_SPANCLASSES; sc++)
    st->by_class[spanclass_class(sc)].nfree +=
        ATOMIC_LOAD_RELAXED(&h->central[sc].nsweepfree);
  for (int c = 1; c < NUM_CLASSES; c++) {
    sgc_class_stats *k = &st->by_class[c];
    k->size = class_to_size[c];
    k->span_pages = class_to_npages[c];
    k->objects = k->nmalloc - k->nfree;
    st->live_objects += k->objects;
    st->heap_inuse_bytes += k->objects * k->size;
    st->total_allocs += k->nmalloc;
    st->total_frees += k->nfree;
    st->total_alloc_bytes += k->nmalloc * k->size;
  }
  sgc_class_stats *large = &st->by_class[0];
  large->nmalloc = ATOMIC_LOAD_RELAXED(&h->nlargealloc);
  large->nfree = ATOMIC_LOAD_RELAXED(&h->nlargefree);
  large->objects = large->nmalloc - large->nfree;
  st->large_allocs = large->nmalloc;
  st->large_objects = large->objects;
  st->live_objects += large->objects;
  st->total_allocs += large->nmalloc;
  st->total_frees += large->nfree;
  uint64_t la = ATOMIC_LOAD_RELAXED(&h->largealloc_bytes);
  st->total_alloc_bytes += la;
  st->heap_inuse_bytes += la - ATOMIC_LOAD_RELAXED(&h->largefree_bytes);

  sgc_lock_counted(&h->lock); /* let in by the walks */
  st->heap_span_bytes = h->pages_inuse * PAGE_SIZE;
  st->heap_idle_bytes = h->pages_free * PAGE_SIZE;
  st->heap_released_bytes = h->pages_released * PAGE_SIZE;
  uint64_t spans = 0;
  for (uint32_t k = 0; k < h->nspan; k++)
    spans += ATOMIC_LOAD_RELAXED(&h->allspans[k]->state) == MSPAN_INUSE;
  st->spans_inuse = spans;
  sgc_unlock(&h->lock);
  st->meta_bytes = ATOMIC_LOAD_RELAXED(&h->sys_meta);
  st->sys_bytes = ATOMIC_LOAD_RELAXED(&h->sys_heap) + st->meta_bytes;
}
