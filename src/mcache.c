/*
 * mcache.c — the per-thread cache: the allocation fast path's state.
 *
 * Each thread that allocates has an mcache, reached through one
 * initial-exec TLS pointer.  It holds, per span class, the span it
 * allocates from (owned exclusively while cached, so taking a slot is a
 * few plain loads and stores: no lock, no atomic read-modify-write) and a
 * list of objects the thread freed explicitly (sgc_free), reused first.
 *
 * Explicitly freed objects stay "allocated" in their span's bitmap: the
 * freed lists are only a fast reuse path.  A list that grows past a limit
 * goes whole to the class's mcentral as a batch, which another thread's
 * cache takes before it asks for a span.  When a collection starts, every
 * freed list and batch is dropped: nothing references those objects, so
 * the collection finds them unmarked and sweeping gives their slots back
 * to the span.  That keeps one truth about which slot is free (the span's
 * bitmap), which the collector can trust.
 *
 * The counters (objects allocated and freed per class) belong to the
 * owning thread; sgc_read_stats reads them under caches_lock.  When a
 * thread exits, a TLS destructor returns its spans and batches its freed
 * objects, folds its counters into the global ones and recycles the cache.
 *
 * caches_lock guards the list of all caches and the folded counters.
 */
#include <limits.h>
#include <stdlib.h>

#include "spangc-int.h"

__thread mcache *sgc_tls_cache __attribute__((tls_model("initial-exec")));

/* A span with nothing left to allocate: the initial alloc[] entry, so the
 * fast path needs no NULL check.  Never written. */
mspan sgc_emptyspan SGC_NOGC;

static sgc_mutex caches_lock = SGC_MUTEX_INIT(CACHES);
static mcache *allcaches;
static uint64_t folded_nmalloc[NUM_CLASSES], folded_nfree[NUM_CLASSES];
static pthread_key_t cache_key;

static void cache_destructor(void *arg);
#define EXIT_ARMED ((void *)&cache_key) /* any non-NULL value */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EXIT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(EXIT_TSAN)
#define EXIT_TSAN 1
#endif

void mcache_thread_init(void) {
  if (pthread_key_create(&cache_key, cache_destructor) != 0)
    sgc_fatal("sgc_init: cannot create the thread-exit key");
}

static void mcache_link(mcache *c) {
  sgc_lock(&caches_lock);
  c->allprev = NULL;
  c->allnext = allcaches;
  if (allcaches)
    allcaches->allprev = c;
  allcaches = c;
  sgc_unlock(&caches_lock);
}

mcache *mcache_create(void) {
  mcache *c = fixalloc_alloc(&sgc_heap.cachealloc);
  if (c == NULL)
    return NULL;
  for (int i = 0; i < NUM_SPANCLASSES; i++)
    c->alloc[i] = &sgc_emptyspan;
  mcache_link(c);
  return c;
}

/* Gives back a thread's records made beforehand and not used (either may
 * be NULL). */
void mcache_drop_prepared(mcache *c, mthread *t) {
  if (c)
    mcache_destroy(c);
  if (t)
    fixalloc_free(world_thread_alloc(), t);
}

/* The calling thread's cache, created on first use; the thread becomes a
 * registered mutator at the same time. */
mcache *mcache_get_slow(void) { return mcache_get_prepared(NULL, NULL); }

/* The same with the records made beforehand (each may be NULL: made now),
 * by sgc_pthread_create, which can still report a lack of memory for
 * them.  Records not used are given back. */
mcache *mcache_get_prepared(mcache *c, mthread *t) {
  sgc_ensure_init();
  if (sgc_tls_cache) { /* sgc_init registered this thread */
    mcache_drop_prepared(c, t);
    return sgc_tls_cache;
  }
  if (c == NULL)
    c = mcache_create();
  if (c == NULL) {
    mcache_drop_prepared(NULL, t);
    return NULL;
  }
  /* The cache must be reachable from this thread's signal handler before
   * the thread is on the list: from then on a collector may signal it,
   * and the handler finds the thread through sgc_tls_cache. */
  sgc_tls_cache = c;
  if (world_register(c, t) == NULL) {
    sgc_tls_cache = NULL;
    mcache_destroy(c);
    return NULL;
  }
  pthread_setspecific(cache_key, c);
  return c;
}

/* Flush the bytes this cache freed and reused into the heap's estimate. */
static void flush_live_delta(mcache *c) {
  if (c->live_delta != 0) {
    ATOMIC_ADD(&sgc_heap.heap_live, c->live_delta);
    c->live_delta = 0;
  }
  if (c->freed_delta != 0) {
    ATOMIC_ADD(&sgc_heap.freed_pending, c->freed_delta);
    c->freed_delta = 0;
  }
}

/* Hand every cached span back to its mcentral and every freed list to the
 * central batches. */
void mcache_release_all(mcache *c) {
  for (int sc = 0; sc < NUM_SPANCLASSES; sc++) {
    mspan *s = c->alloc[sc];
    if (s != &sgc_emptyspan) {
      mcentral_uncache_span(&sgc_heap.central[sc], s);
      c->alloc[sc] = &sgc_emptyspan;
    }
    if (c->freed[sc]) {
      mcentral_put_batch(&sgc_heap.central[sc], c->freed[sc], c->nfreed[sc]);
      c->freed[sc] = NULL;
      c->nfreed[sc] = 0;
    }
  }
  flush_live_delta(c);
}

/* Hand back c's spans and freed objects, fold its counters, and take it
 * off the list of caches, which collections flush. */
/* Once only: a thread that gave its cache back and then waits for
 * threads_lock to leave the thread list may be forked away from, and the
 * child's fork handler destroys the cache of every thread but its own
 * (world_atfork).  A second unlink would follow stale links and leave a
 * freed cache on the list (world_fork_while_threads_exit). */
static void mcache_retire(mcache *c) {
  if (c->retired)
    return;
  c->retired = 1;
  mcache_release_all(c);
  sgc_lock(&caches_lock);
  for (int i = 0; i < NUM_CLASSES; i++) {
    folded_nmalloc[i] += c->nmalloc[i];
    folded_nfree[i] += c->nfree[i];
  }
  if (c->allprev)
    c->allprev->allnext = c->allnext;
  else
    allcaches = c->allnext;
  if (c->allnext)
    c->allnext->allprev = c->allprev;
  sgc_unlock(&caches_lock);
}

void mcache_destroy(mcache *c) {
  mcache_retire(c);
  fixalloc_free(&sgc_heap.cachealloc, c);
}

/* The thread leaves the heap: its spans and freed objects go back to the
 * central lists and its cache leaves the list of caches, both inside a
 * no-preempt region (they take locks the collector needs, and a
 * collection flushes every listed cache: once unregistered, the thread
 * would touch its cache beside the collector), and only then is the
 * thread unregistered. */
void mcache_thread_exit(mcache *c) {
  nopreempt_enter(c);
  mcache_retire(c);
  nopreempt_leave(c);
  mthread *t = c->thr;
  if (t)
    world_unregister(t);
  sgc_tls_cache = NULL;
  /* Still armed: an allocation later in the thread's exit registers it
   * again, and the destructor must run again then. */
  pthread_setspecific(cache_key, EXIT_ARMED);
  fixalloc_free(&sgc_heap.cachealloc, c);
}

/* Thread exit.  The C library calls the destructors of thread-specific
 * values in rounds (at most PTHREAD_DESTRUCTOR_ITERATIONS), while any
 * value is set.  Ours unregisters the thread whenever it runs, and stays
 * armed for the following rounds: a destructor of the program that runs
 * after ours and allocates registers the thread again, and the next round
 * unregisters it again.  One that allocates in the very last round leaves
 * the thread registered when it exits; the next stop finds it gone and
 * drops it (world.c, drop_dead).  Under ThreadSanitizer ours does not
 * re-arm: its own destructor takes the last round and tears the thread's
 * state down, after which no instrumented code may run. */
#ifndef EXIT_TSAN
static __thread int exit_calls;
#endif

static void cache_destructor(void *arg) {
  gc_thread_exit_check(); /* not sgc_unregister_thread: fn may call it */
  if (sgc_tls_cache)
    mcache_thread_exit(sgc_tls_cache);
  pthread_setspecific(cache_key, NULL);
#ifndef EXIT_TSAN
  if (++exit_calls < PTHREAD_DESTRUCTOR_ITERATIONS)
    pthread_setspecific(cache_key, EXIT_ARMED);
#endif
}

/* Longest freed list a cache keeps for class cls before handing it over:
 * about 256 KiB, between 8 and 1024 objects. */
static uint32_t freed_limit(int cls) {
  uint32_t n = (256u << 10) / class_to_size[cls];
  return n < 8 ? 8 : n > 1024 ? 1024 : n;
}

void mcache_push_freed(mcache *c, int sc, void *obj) {
  *(void **)obj = freed_link(c->freed[sc]);
  c->freed[sc] = obj;
  if (++c->nfreed[sc] > freed_limit(spanclass_class(sc))) {
    mcentral_put_batch(&sgc_heap.central[sc], c->freed[sc], c->nfreed[sc]);
    c->freed[sc] = NULL;
    c->nfreed[sc] = 0;
  }
}

/*
 * The slow path: make either c->freed[sc] non-empty or c->alloc[sc] a span
 * with a non-empty allocation cache.  Returns false (errno ENOMEM) if the
 * heap cannot grow.
 */
bool mcache_refill(mcache *c, int sc) {
  mspan *s = c->alloc[sc];
  /* More free slots further on in the current span? */
  if (s != &sgc_emptyspan && mspan_seek_free(s, s->cachebase / 64 + 1))
    return true;
  /* A batch of objects some thread freed. */
  uint32_t n;
  void *batch = mcentral_take_batch(&sgc_heap.central[sc], &n);
  if (batch) {
    c->freed[sc] = batch;
    c->nfreed[sc] = n;
    return true;
  }
  /* A new span. */
  if (s != &sgc_emptyspan) {
    mcentral_uncache_span(&sgc_heap.central[sc], s);
    c->alloc[sc] = &sgc_emptyspan;
  }
  flush_live_delta(c);
  gc_maybe_collect(c);
  sweep_pay();
  s = mcentral_cache_span(&sgc_heap.central[sc]);
  uintptr_t npages = class_to_npages[spanclass_class(sc)];
  for (int tries = 0; s == NULL && gc_collect_for_room(c, npages, tries);
       tries++)
    s = mcentral_cache_span(&sgc_heap.central[sc]);
  if (s == NULL)
    return false;
  c->alloc[sc] = s;
  return true;
}

/* Position s's allocation cache at the first word at or after 'from' that
 * has a free slot.  The owner publishes cachebase, then the cache, both
 * with release stores (mspan_is_allocated reads them as a pair). */
bool mspan_seek_free(mspan *s, uint32_t from) {
  uint32_t nwords = (s->nelems + 63) / 64;
  for (uint32_t w = from; w < nwords; w++) {
    uint64_t free = ~s->allocbits[w];
    uint32_t left = s->nelems - w * 64;
    if (left < 64)
      free &= ((uint64_t)1 << left) - 1;
    if (free) {
      ATOMIC_STORE(&s->cachebase, w * 64);
      ATOMIC_STORE(&s->alloccache, free);
      return true;
    }
  }
  ATOMIC_STORE(&s->cachebase, nwords * 64);
  ATOMIC_STORE(&s->alloccache, 0);
  return false;
}

/* Add every cache's counters (and the folded ones) into s->by_class. */
void mcache_read_counters(sgc_stats *s) {
  sgc_lock(&caches_lock);
  for (int i = 0; i < NUM_CLASSES; i++) {
    s->by_class[i].nmalloc += folded_nmalloc[i];
    s->by_class[i].nfree += folded_nfree[i];
  }
  for (mcache *c = allcaches; c; c = c->allnext)
    for (int i = 0; i < NUM_CLASSES; i++) {
      s->by_class[i].nmalloc += ATOMIC_LOAD_RELAXED(&c->nmalloc[i]);
      s->by_class[i].nfree += ATOMIC_LOAD_RELAXED(&c->nfree[i]);
    }
  sgc_unlock(&caches_lock);
}

/* The collector's flush, world stopped: every cached span goes back to
 * its mcentral, and every freed list is dropped (its objects are garbage
 * to this collection; the sweep returns their slots).  Dropped objects
 * were counted as freed; they are counted as allocated again, since the
 * sweep will count them as freed.  dropped[] is per size class. */
void mcache_flush_for_gc(mcache *c, uint64_t *dropped) {
  for (int sc = 0; sc < NUM_SPANCLASSES; sc++) {
    mspan *s = c->alloc[sc];
    if (s != &sgc_emptyspan) {
      mcentral_uncache_span(&sgc_heap.central[sc], s);
      c->alloc[sc] = &sgc_emptyspan;
    }
    dropped[spanclass_class(sc)] += c->nfreed[sc];
    if (ATOMIC_LOAD_RELAXED(&sgc_heap.concmark))
      freed_list_unmark(c->freed[sc]);
    freed_list_clear(c->freed[sc], sc);
    c->freed[sc] = NULL;
    c->nfreed[sc] = 0;
  }
  c->live_delta = 0;
  c->freed_delta = 0; /* the collector zeroes freed_pending */
}

void caches_atfork(int phase) {
  if (phase == FORK_PREPARE)
    sgc_lock(&caches_lock);
  else
    sgc_unlock(&caches_lock);
}

/* Iterate over all caches with caches_lock held (used by the collector
 * with the world stopped). */
void mcache_foreach(void (*fn)(mcache *c, void *arg), void *arg) {
  sgc_lock(&caches_lock);
  for (mcache *c = allcaches; c; c = c->allnext)
    fn(c, arg);
  sgc_unlock(&caches_lock);
}
