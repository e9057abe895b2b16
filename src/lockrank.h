/*
 * lockrank.h — the ranked table of every runtime lock, and the lock types
 * every runtime lock is taken through (included by spangc-int.h).
 *
 * Owns the one lock order of the runtime: SGC_LOCK_RANKS lists every lock,
 * outermost first.  A thread may take a lock only if its rank is greater
 * than the rank of every lock it holds.  Locks of one rank (the mcentral
 * locks, the fixalloc locks, the spans' speciallocks) may nest only in
 * ascending address order (the fork handlers take every mcentral lock by
 * index, which is by address).  docs/design.md section 2 lists the same
 * names in the same order; tests/lockrank-doc.sh checks it (and prints the
 * table for the document).  The table holds the bdwgc layer's locks too
 * (compat/bdwgc/src, linked into libgc.so.1 with the core; named
 * "bdwgc.*"): they nest with the core's, and are taken through the same
 * types.  The recursive allocation lock of that layer is an sgc_rmutex.
 *
 * Release builds: sgc_lock and friends are exactly the pthread call.
 * Debug builds (SPANGC_LOCKRANK, which follows SPANGC_DEBUG unless set):
 * each thread keeps the ranks it holds (lockrank.c); taking a lock out of
 * order, or outside a no-preempt region where a stop could park the
 * thread, aborts naming the lock, and SGC_ASSERT_HELD checks that the
 * calling thread owns a mutex.  The layout of the types is the same in
 * both builds (tests built without SPANGC_DEBUG share structures with a
 * debug library, and keep the record with SPANGC_LOCKRANK=1).
 */
#ifndef SPANGC_LOCKRANK_H
#define SPANGC_LOCKRANK_H

#include <pthread.h>
#include <stdbool.h>

/* X(ID, "name", "what it guards"), outermost first.  One line each: the
 * document check reads them. */
#define SGC_LOCK_RANKS(X)                                                      \
  X(COMPAT_INIT, "bdwgc.init_lock", "compat control.c: the layer's one initialisation (calls sgc_init and the setters under it)") \
  X(COMPAT_TOGGLEREF, "bdwgc.toggleref_lock", "compat toggleref.c: the toggle-ref table; held around the program's callback, which may allocate and collect") \
  X(COMPAT_ALLOC, "bdwgc.alloc_lock", "compat control.c: GC_alloc_lock, GC_call_with_alloc_lock (recursive: sgc_rmutex); held around sgc_call_without_collections") \
  X(COMPAT_ROOTS, "bdwgc.roots_lock", "compat control.c: the ranges of GC_add_roots; held around sgc_add_roots and sgc_call_without_collections") \
  X(INIT, "init_lock", "malloc.c: the runtime's one initialisation")           \
  X(HOLD, "hold_lock", "gc.c: rwlock; sgc_call_without_collections read-holds it, a collection write-holds it") \
  X(GC, "gc_lock", "gc.c: one collection at a time; the last cycles' figures") \
  X(COMPAT_GCJ, "bdwgc.gcj_lock", "compat gcj.c: GC_init_gcj_malloc's one set-up (makes a kind under it)") \
  X(KIND, "kind_lock", "kind.c: the table of object kinds and mark procedures") \
  X(COMPAT_KINDS, "bdwgc.kinds_lock", "compat alloc.c: the growth of the layer's kind table") \
  X(COMPAT_THREADS, "bdwgc.threads_lock", "compat threads.c: the records of threads made by GC_pthread_create; held around sgc_pthread_create") \
  X(THREADS, "threads_lock", "threads.c: the list of registered threads (held for a whole stop)") \
  X(WORLD, "world.mutex", "world.c: world.stopping, the fork barrier and each thread's RUNNING/BLOCKING state") \
  X(ROOTS, "roots_lock", "roots.c: the program's registered root ranges") \
  X(FIBER, "fiber_lock", "fiber.c: the fiber registry and the stack pool") \
  X(SPECIAL, "span.speciallock", "special.c: that span's specials") \
  X(FIN, "fin.lock", "finalizer.c: the queue of finalizers to run and the finalizer thread's state") \
  X(WEAK, "weak_lock", "finalizer.c: the table of weak slots") \
  X(HELPER, "helper.lock", "markhelpers.c: the helper markers' start and end of a mark") \
  X(BGSWEEP, "bgsweep.lock", "sweep.c: the background sweeper's wake-ups") \
  X(CONC, "conc.lock", "concurrent.c: the concurrent collector's wake-ups and start") \
  X(WORK, "work.lock", "markwork.c: the full and empty work buffer lists of a mark") \
  X(CACHES, "caches_lock", "mcache.c: the list of all mcaches, counters folded from dead threads") \
  X(MCENTRAL, "mcentral.lock", "mcentral.c: its two span lists and the links of spans on them, its batches") \
  X(MHEAP, "mheap.lock", "mheap.c: free structures, allspans, arena_used, writes to spans[], span state changes, page counters") \
  X(FIXALLOC, "fixalloc.lock", "fixalloc.c: that allocator's free list and chunk") \
  X(DIRTY_LATER, "later.lock", "dirty.c: the unprotect calls put off until gc_lock is let go; the userfaultfd's number against them") \
  X(ML, "ml.lock", "memlimit.c: the scavenger's sleep and prompt release target") \
  X(STATS, "stats_lock", "gc.c: the figures a concurrent collection published as it started, for sgc_read_stats meanwhile") \
  X(COMPAT_DBG, "bdwgc.dbg.lock", "compat leak.c: the debugging objects' set, the found and smashed lists; taken by the reclaim hook in any sweep") \
  X(REC, "rec_lock", "signals.c: spin lock, every signal blocked; the program's signal action record")

enum sgc_lockrank {
  LOCKRANK_NONE = 0,
#define SGC_LOCKRANK_ENUM(id, name, guards) LOCKRANK_##id,
  SGC_LOCK_RANKS(SGC_LOCKRANK_ENUM)
#undef SGC_LOCKRANK_ENUM
  LOCKRANK_COUNT
};

const char *lockrank_name(int rank);

typedef struct sgc_mutex {
  pthread_mutex_t m;
  int rank;
  int waiters; /* atomic, a hint: threads blocked in sgc_lock_counted */
} sgc_mutex;
typedef struct sgc_rwlock {
  pthread_rwlock_t l;
  int rank;
  int writers_first; /* a waiting writer holds new readers back */
} sgc_rwlock;
typedef struct sgc_spinlock {
  int v;
  int rank;
} sgc_spinlock;

#define SGC_MUTEX_INIT(id) {PTHREAD_MUTEX_INITIALIZER, LOCKRANK_##id}
#define SGC_RWLOCK_INIT(id) {PTHREAD_RWLOCK_INITIALIZER, LOCKRANK_##id, 0}
/* Writers first: a reader that arrives while a writer waits waits too,
 * so overlapping readers cannot keep a writer out for ever.  A thread
 * must not take such a lock for reading again while it holds it. */
#define SGC_RWLOCK_INIT_WRITERS_FIRST(id)                                   \
  {PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP, LOCKRANK_##id, 1}
#define SGC_SPINLOCK_INIT(id) {0, LOCKRANK_##id}

/* An adaptive mutex of the given rank (throw.c). */
void sgc_mutex_init(sgc_mutex *m, int rank);

/* Debug bookkeeping (lockrank.c).  'shared': a read lock, which the same
 * thread may take again while it holds it. */
void lockrank_acquire(const void *lock, int rank, bool shared);
void lockrank_release(const void *lock, int rank);
/* A lock taken with a try (sgc_trylock): recorded as held, never checked
 * against the order (a try does not wait, so it closes no cycle). */
void lockrank_acquired_try(const void *lock, int rank);
void lockrank_assert_held(const sgc_mutex *m, const char *file, int line);
/* The highest rank this thread holds that must not be held where the
 * thread may be stopped (rule:no-stop-holding-lock: all but the bdwgc
 * layer's, whose waiters wait in blocking regions); LOCKRANK_NONE if
 * none.  Read from a signal handler too: the record is initial-exec TLS. */
int lockrank_held_at_stop(void);
/* Leaving a blocking region: aborts if the thread still holds a lock that
 * no stop may find it holding (a lock taken while blocking). */
void lockrank_check_unblocked(void);
/* Tests: take a then b, then release both (the library's own build
 * decides whether the order is checked). */
void lockrank_test_take_in_order(sgc_mutex *a, sgc_mutex *b);

/* The record is kept by the debug library, and by code built against it
 * that asks for it without the library's assertions (tests: their own
 * sgc_lock calls are checked too). */
#ifndef SPANGC_LOCKRANK
#define SPANGC_LOCKRANK SPANGC_DEBUG
#endif

/* With the record: the calling thread is, for a while, where the
 * protocol rather than a no-preempt region keeps every stop away (a
 * mark assist: the final stop waits for the assists, and any other stop
 * for gc_lock, which the concurrent collection holds:
 * rule:assists-end-before-the-stop); lockrank_acquire's check of
 * rule:no-stop-holding-lock lets its locks be. */
#if SPANGC_LOCKRANK
extern __thread int lockrank_stops_kept_away;
#define LOCKRANK_STOPS_KEPT_AWAY(d) (lockrank_stops_kept_away += (d))
#else
#define LOCKRANK_STOPS_KEPT_AWAY(d) ((void)0)
#endif
#if SPANGC_LOCKRANK
#define LOCKRANK_ACQUIRE(p, r, sh) lockrank_acquire((p), (r), (sh))
#define LOCKRANK_RELEASE(p, r) lockrank_release((p), (r))
#define LOCKRANK_ACQUIRED_TRY(p, r) lockrank_acquired_try((p), (r))
#define SGC_ASSERT_HELD(mu) lockrank_assert_held((mu), __FILE__, __LINE__)
#else
#define LOCKRANK_ACQUIRE(p, r, sh) ((void)0)
#define LOCKRANK_RELEASE(p, r) ((void)0)
#define LOCKRANK_ACQUIRED_TRY(p, r) ((void)0)
#define SGC_ASSERT_HELD(mu) ((void)0)
#endif

static inline void sgc_lock(sgc_mutex *m) {
  LOCKRANK_ACQUIRE(m, m->rank, false);
  pthread_mutex_lock(&m->m);
}
/* sgc_lock, counted in m->waiters while it waits: for the threads a long
 * walk under m must let in (sgc_lock_pass below; mheap_alloc). */
static inline void sgc_lock_counted(sgc_mutex *m) {
  LOCKRANK_ACQUIRE(m, m->rank, false);
  if (pthread_mutex_trylock(&m->m) == 0)
    return;
  __atomic_add_fetch(&m->waiters, 1, __ATOMIC_RELAXED);
  pthread_mutex_lock(&m->m);
  __atomic_sub_fetch(&m->waiters, 1, __ATOMIC_RELAXED);
}
/* Take m only if it is free; true if taken.  Allowed whatever this thread
 * holds: it never waits. */
static inline bool sgc_trylock(sgc_mutex *m) {
  if (pthread_mutex_trylock(&m->m) != 0)
    return false;
  LOCKRANK_ACQUIRED_TRY(m, m->rank);
  return true;
}
/* sgc_lock if m is free, checked against the order as sgc_lock is; false,
 * nothing held, if it is taken.  For a caller that waits elsewhere than
 * in sgc_lock (in a blocking region, whose entry costs more than an
 * uncontended lock): it tries this first.  Recorded only once taken: a
 * try that fails holds nothing, and a thread stopped between a record
 * and a failed try was taken for one holding the lock at a stop
 * (rule:no-stop-holding-lock; hold_lock, caught by the debug build). */
static inline bool sgc_lock_if_free(sgc_mutex *m) {
  if (pthread_mutex_trylock(&m->m) != 0)
    return false;
  LOCKRANK_ACQUIRE(m, m->rank, false);
  return true;
}
static inline void sgc_unlock(sgc_mutex *m) {
  LOCKRANK_RELEASE(m, m->rank);
  pthread_mutex_unlock(&m->m);
}
/* Between two slices of a long walk done under m (held): let the threads
 * waiting for m in sgc_lock_counted in first.  An unlock then a lock lets the
 * walker take m back before a waiter it woke has run (the mutex is not fair):
 * an allocating thread waited through 10-20 slices of mheap_clear_marks, 1-2
 * ms for one allocation.  So the walker waits until the waiters it saw
 * have taken m or 0.5 ms passed, spinning at first, then yielding its CPU
 * (a waiter not scheduled yet must not hold the walk up for long). */
void sgc_lock_pass(sgc_mutex *m);
static inline int sgc_cond_wait(pthread_cond_t *c, sgc_mutex *m) {
  LOCKRANK_RELEASE(m, m->rank);
  int r = pthread_cond_wait(c, &m->m);
  LOCKRANK_ACQUIRE(m, m->rank, false);
  return r;
}
static inline int sgc_cond_timedwait(pthread_cond_t *c, sgc_mutex *m,
                                     const struct timespec *ts) {
  LOCKRANK_RELEASE(m, m->rank);
  int r = pthread_cond_timedwait(c, &m->m, ts);
  LOCKRANK_ACQUIRE(m, m->rank, false);
  return r;
}
/* In the fork child: m, which the forking thread holds, made fresh and
 * held by it again (its lock-order record still has it); for a lock whose
 * holder goes on to release it there as in the parent.  Waiters were
 * other threads: gone. */
static inline void sgc_mutex_reset_still_held(sgc_mutex *m) {
  pthread_mutex_init(&m->m, NULL);
  pthread_mutex_lock(&m->m);
  m->waiters = 0;
}
/* A lock the forking thread held in the fork child, made fresh. */
static inline void sgc_mutex_reset_held(sgc_mutex *m) {
  LOCKRANK_RELEASE(m, m->rank);
  pthread_mutex_init(&m->m, NULL);
  m->waiters = 0; /* the waiters were other threads: gone */
}

static inline void sgc_rdlock(sgc_rwlock *l) {
  LOCKRANK_ACQUIRE(l, l->rank, true);
  pthread_rwlock_rdlock(&l->l);
}
/* sgc_rdlock if it can be had at once (as sgc_lock_if_free). */
static inline bool sgc_rdlock_if_free(sgc_rwlock *l) {
  if (pthread_rwlock_tryrdlock(&l->l) != 0)
    return false;
  LOCKRANK_ACQUIRE(l, l->rank, true);
  return true;
}
static inline void sgc_wrlock(sgc_rwlock *l) {
  LOCKRANK_ACQUIRE(l, l->rank, false);
  pthread_rwlock_wrlock(&l->l);
}
static inline void sgc_rwunlock(sgc_rwlock *l) {
  LOCKRANK_RELEASE(l, l->rank);
  pthread_rwlock_unlock(&l->l);
}
/* A recursive mutex (the bdwgc layer's allocation lock: bdwgc lets its
 * holder take it again).  Only the first acquisition by a thread takes m,
 * so only it is checked against the order; taking it again while holding
 * it is always allowed, whatever the thread took since (the lock is
 * already this thread's, there is nothing to wait for).  'owner' is the
 * holder's pthread_self (0: free), written only by the holder; 'depth' is
 * the holder's. */
typedef struct sgc_rmutex {
  sgc_mutex m;
  unsigned long owner; /* atomic */
  unsigned depth;
} sgc_rmutex;
#define SGC_RMUTEX_INIT(id) {SGC_MUTEX_INIT(id), 0, 0}

static inline bool sgc_rmutex_mine(const sgc_rmutex *r) {
  return __atomic_load_n(&r->owner, __ATOMIC_RELAXED) ==
         (unsigned long)pthread_self();
}
/* Take r; the first time, through take (which locks r->m: sgc_lock, or a
 * caller's wrapper that waits in a blocking region).  Returns the depth. */
static inline unsigned sgc_rlock_with(sgc_rmutex *r,
                                      void (*take)(sgc_mutex *)) {
  if (!sgc_rmutex_mine(r)) {
    take(&r->m);
    __atomic_store_n(&r->owner, (unsigned long)pthread_self(),
                     __ATOMIC_RELAXED);
  }
  return ++r->depth;
}
/* The holder only. */
static inline void sgc_runlock(sgc_rmutex *r) {
  if (--r->depth == 0) {
    __atomic_store_n(&r->owner, 0, __ATOMIC_RELAXED);
    sgc_unlock(&r->m);
  }
}

/* Write-held by the forking thread; other threads' read holds are gone. */
static inline void sgc_rwlock_reset_held(sgc_rwlock *l) {
  LOCKRANK_RELEASE(l, l->rank);
  pthread_rwlockattr_t a;
  pthread_rwlockattr_init(&a);
  if (l->writers_first)
    pthread_rwlockattr_setkind_np(
        &a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&l->l, &a);
  pthread_rwlockattr_destroy(&a);
}

#endif /* SPANGC_LOCKRANK_H */
