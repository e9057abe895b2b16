/*
 * gc.c — one collection, from trigger to restart, and the control calls.
 *
 * A collection (collect) runs on the thread that triggered it, holding
 * gc_lock:
 *   1. stop the world (world.c);
 *   2. finish sweeping the previous cycle (sweep_finish), then flush every
 *      mcache (cached spans back to mcentral, freed lists dropped) and drop
 *      the central batches of freed objects;
 *   3. take the snapshot of allspans under mheap.lock and set gcmarking;
 *      check that every in-use span of the snapshot is swept ("unswept
 *      span" aborts: marking over stale allocation bits would free live
 *      objects), and run the heap verifier if asked;
 *   4. mark in parallel: this thread and nmarkers-1 helper threads;
 *   5. mark termination: rescan after a mark-stack overflow, clear dead
 *      weak slots, then mark what unreachable finalizable objects reference
 *      and doom them (mark_finalizers), verify, open the next sweep
 *      generation (sweepgen += 2 and a new snapshot, sweep_start), set the
 *      next goal;
 *   6. restart the world and wake the background sweeper.
 *
 * Triggering: the next collection starts when heap_live (bytes handed to
 * caches and large objects since the last mark, plus what the mark found
 * live) plus freed_pending (objects freed with sgc_free whose slots only a
 * collection gives back) reaches sgc_next_gc, the goal the pacer
 * (pacer.c) computed at the end of the last one.  SPANGC_GOGC sets
 * gcpercent ("off" disables); sgc_set_gcpercent too.
 *
 * The collector runs on a stack of its own (call_on_stack, machine.c);
 * the helper markers are mark.c's, the background sweeper sweep.c's, the
 * trace lines gctrace.c's.
 *
 * gc_lock serialises collections and guards the figures of the last
 * cycles; the helper markers (mark.c) synchronise through helper.lock.  A
 * collection first takes hold_lock for writing;
 * sgc_call_without_collections holds it for reading (ranks: lockrank.h).
 * A concurrent collection holds gc_lock for its whole length, the program
 * running: as it starts it copies the figures into 'published'
 * (stats_lock), which sgc_read_stats reads instead of waiting for it.
 */
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "spangc-int.h"


static sgc_mutex gc_lock = SGC_MUTEX_INIT(GC);
static sgc_mutex stats_lock = SGC_MUTEX_INIT(STATS);
static sgc_stats published SGC_NOGC; /* stats_lock */
static void publish_stats(void);
/* Why a collection runs: the pacer's goal was reached; sgc_collect or the
 * heap limit (major, whatever else ran meanwhile); or no collection ran
 * for the idle interval (major; pacer.c). */
enum { COLLECT_DUE, COLLECT_FORCED, COLLECT_IDLE, COLLECT_CONC,
       COLLECT_FORCED_CONC, COLLECT_IDLE_CONC };
/* Held for reading by sgc_call_without_collections, for writing by a
 * collection. */
static sgc_rwlock hold_lock = SGC_RWLOCK_INIT(HOLD);
/* Tests only: called by the collecting thread while the helper markers
 * run (the world stopped, gcmarking set), e.g. to force allspans to grow
 * under the markers' snapshot. */
void (*sgc_test_mark_hook)(void);
void (*sgc_test_conc_phase_hook)(void);
uint64_t sgc_next_gc = PACER_MIN_GOAL;
/* Objects freed explicitly and then dropped from freed lists at a flush,
 * per class: counted as allocated again, since the sweep frees them. */
uint64_t sgc_gc_dropped[NUM_CLASSES];

static struct {
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
} gc SGC_NOGC = {.gcpercent = 100, .min_goal = PACER_MIN_GOAL};

/* sgc_expand_heap grew the heap by bytes: collections wait for the heap
 * to fill that much more. */
void gc_raise_min_goal(uint64_t bytes) {
  ATOMIC_ADD(&gc.min_goal, bytes);
  ATOMIC_ADD(&sgc_next_gc, bytes);
}

/* ---------------------------------------------------------- the cycle */

static void flush_cache(mcache *c, void *arg) { mcache_flush_for_gc(c, arg); }

static void check_swept(mspan **spans, uint32_t n, uint32_t sg) {
  for (uint32_t k = 0; k < n; k++) {
    mspan *s = spans[k];
    if (s->state == MSPAN_INUSE && s->sweepgen != sg)
      sgc_fatal("collect: unswept span %p (sweepgen %u, heap %u) at mark "
                "time", (void *)s->base, s->sweepgen, sg);
  }
}

static uint64_t live_objects_now(void) {
  sgc_stats st;
  memset(&st, 0, sizeof st);
  heap_read_stats(&st);
  return st.live_objects;
}

/* One collection runs inside dl_iterate_phdr's callback: the collector
 * holds the dynamic loader's lock from the stop to the restart.  So no
 * stopped thread can hold that lock (a thread stopped inside
 * dl_iterate_phdr, dlopen or an unwinder would otherwise deadlock the root
 * scan), and no thread the stop does not reach (one in a blocking region,
 * an unregistered one) can dlclose a library whose data segments or TLS
 * blocks the mark reads.  The first call does the whole collection and
 * ends the walk; the loaded objects are recorded by a nested walk (the
 * lock is recursive).  Nothing inside may create a thread: pthread_create
 * takes the loader's other lock, which a dlopen waiting for ours holds. */
typedef struct cycle {
  mthread *self;
  int nproc;
  uint64_t t0;
  uint64_t t_stopped; /* the world is stopped: gctrace's "stop" ends */
  bool ran;
  bool force; /* sgc_collect, the heap limit, or idle: a major collection */
  bool idle;  /* an idle collection (pacer.c) */
  uint64_t pause_sweeps; /* spans this stop had to sweep */
  uint64_t heap_before, objects_before;
  uint64_t heap_initial; /* a concurrent collection's, at its first stop */
  uint64_t t_start;      /* a concurrent collection's, before its step 0 */
  uint64_t assist_ns, nassists; /* its phase's assists (mark_assist) */
  /* A concurrent collection: its first stop (t0 to the restart), its
   * concurrent mark's time, the time between its stops, and what its
   * initial stop and concurrent phase marked. */
  bool concurrent;
  uint64_t first_stop_ns, conc_ns, conc_span_ns, t_final;
  bool preclean_lost; /* a pre-cleaning listing was not trusted */
  mark_result conc_res;
  void (*body)(struct cycle *); /* what stop_in_phdr runs, world stopped */
} cycle;

static int record_phdr(struct dl_phdr_info *info, size_t size, void *arg) {
  mark_record_segments(info);
  return 0;
}

/* The OS refused the memory for the tables of roots: nothing can be
 * proven dead, so nothing is freed.  The sweep generation stays (every
 * span is swept), the world restarts, and the next try waits until the
 * heap has grown by half again, so a program short of memory does not
 * spin in collections that cannot run. */
static void abandon(cycle *cy) {
  mheap *h = &sgc_heap;
  mthread *self = cy->self;
  gen_abandon(); /* the written pages listed were not scanned */
  /* A concurrent mark's marks are half made: the next mark clears them;
   * its deferred items and large frees are done with. */
  mark_reset_concurrent();
  mheap_free_deferred();
  sgc_lock(&h->lock);
  h->gcmarking = 0;
  ATOMIC_STORE(&h->concmark, 0);
  if (cy->concurrent)
    ATOMIC_STORE(&h->stale_marks, 1);
  sgc_unlock(&h->lock);
  ATOMIC_STORE(&sgc_next_gc, pacer_goal_abandoned(gc_heap_pressure()));
  /* No idle collection either before another interval (it would be
   * abandoned too, at every poll). */
  ATOMIC_STORE(&gc.idle_held_until,
               os_nanotime() + ATOMIC_LOAD_RELAXED(&gc.idle_interval) +
                   PACER_IDLE_MIN_NS);
  gc.abandoned++;
  world_start(self);
  static int warned;
  if (!warned++)
    sgc_warn("collect: out of memory for the tables of roots; collection "
             "skipped, nothing freed (sgc_stats.collections_abandoned "
             "counts them)");
}

/* The first steps of a stop: the sweep finished, every mcache flushed,
 * the central batches of freed objects dropped, the snapshot of allspans
 * taken, gcmarking set; the concurrent phase over (the final stop of a
 * concurrent mark: the flush unmarked the freed lists, and any free slot
 * a marker marked).
 * Verifies the heap if asked. */
static void stop_begin(cycle *cy, mspan ***spans, uint32_t *nspan) {
  SGC_ASSERT_HELD(&gc_lock);
  mheap *h = &sgc_heap;
  cy->pause_sweeps += sweep_finish();
  uint64_t dropped[NUM_CLASSES] = {0};
  mcache_foreach(flush_cache, dropped);
  for (int sc = 0; sc < NUM_SPANCLASSES; sc++)
    mcentral_drop_batches(&h->central[sc], dropped);
  for (int i = 0; i < NUM_CLASSES; i++)
    ATOMIC_ADD(&sgc_gc_dropped[i], dropped[i]);
  /* Every freed list and batch is dropped: their objects are garbage
   * this mark finds unmarked. */
  ATOMIC_STORE(&h->freed_pending, 0);
  cy->heap_before = (uint64_t)ATOMIC_LOAD(&h->heap_live);
  sgc_lock(&h->lock);
  mheap_snapshot_locked(spans, nspan);
  h->gcmarking = 1;
  ATOMIC_STORE(&h->concmark, 0);
  uint32_t sg = h->sweepgen;
  sgc_unlock(&h->lock);
  /* An invariant, not a step: a pass over every span, so checked by the
   * debug build and the verifier only. */
  if (SPANGC_DEBUG || gc.verify)
    check_swept(*spans, *nspan, sg);
  if (gc.verify)
    sgc_heap_verify();
}

/* The end of a collection, its mark complete (world stopped): weak slots,
 * finalizers, fibers, the policy and the next goal, the next sweep
 * generation, the figures; then the world restarts. */
static void stop_end(cycle *cy, gen_cycle *g, mark_result *res,
                     mspan **spans, uint32_t nspan, uint64_t t2, uint64_t t3) {
  mheap *h = &sgc_heap;
  mthread *self = cy->self;
  uint64_t t0 = cy->t0, heap_before = cy->heap_before;
  /* After a minor collection, the old objects are live too (as far as
   * anyone knows until the next major one); after a concurrent one, what
   * the concurrent phase marked. */
  res->marked_bytes += g->old_bytes;
  res->nobj += g->old_objects;

  weak_process(spans, nspan);
  mark_finalizers(res);
  weak_forget_dead();
  if (gc.verify)
    mark_verify();
  mheap_free_deferred();
  uint64_t stack_released = 0;
  fibers_after_mark(&stack_released);
  gc.stack_released += stack_released;
  {
    uint64_t since = ATOMIC_LOAD_RELAXED(&gc.idle_since);
    uint64_t base = ATOMIC_LOAD_RELAXED(&gc.idle_base);
    /* A concurrent collection's allocation rate up to its first stop:
     * after it, the program may have been held up at the goal. */
    uint64_t upto = cy->concurrent ? cy->heap_initial : heap_before;
    gen_note_rates(upto > base ? upto - base : 0,
                   since != 0 && t0 > since ? t0 - since : 0,
                   res->marked_bytes, t3 - t2 + cy->conc_ns, !g->minor);
  }
  g->rescanned = res->ndirty;
  g->mark_ns = t3 - t2;
  g->marked_objects = res->nobj;
  uint64_t goal = gen_end(g, heap_before, res->marked_bytes, gc.gcpercent,
                          ATOMIC_LOAD_RELAXED(&gc.min_goal));
  sweep_start(res->marked_bytes);
  ATOMIC_STORE(&h->heap_live, (int64_t)res->marked_bytes);
  ATOMIC_STORE(&sgc_next_gc, goal);
  conc_set_trigger(res->marked_bytes, goal, !gen_next_minor(),
                   gen_alloc_rate(), gen_mark_rate());
  uint64_t t4 = os_nanotime();

  /* A concurrent collection's pause is its two stops together (gctrace
   * shows each). */
  uint64_t pause = t4 - t0 - cy->conc_span_ns;
  gc.numgc++;
  gc.last_pause_ns = pause;
  gc.total_pause_ns += pause;
  if (pause > gc.max_pause_ns)
    gc.max_pause_ns = pause;
  gc.last_mark_ns = t3 - t2 + cy->conc_ns;
  gc.total_mark_ns += t3 - t2 + cy->conc_ns;
  gc.last_heap_before = heap_before;
  gc.last_heap_after = res->marked_bytes;
  gc.last_live_objects = res->nobj;
  gc.last_freed_objects =
      cy->objects_before > res->nobj ? cy->objects_before - res->nobj : 0;
  gc.overflows += res->overflows;
  if (!g->minor)
    gc.last_major_pause_ns = pause;
  if (cy->concurrent)
    gen_note_concurrent_pause(pause);
  if (cy->idle) {
    gc.idle_collections++;
    gc.idle_backoff =
        pacer_idle_backoff(gc.idle_backoff, heap_before, res->marked_bytes);
  }
  uint64_t interval =
      pacer_idle_interval(gc.last_major_pause_ns, gc.idle_backoff);
  ATOMIC_STORE(&gc.idle_interval, interval);
  ATOMIC_STORE(&gc.idle_since, t4);
  ATOMIC_STORE(&gc.idle_base, res->marked_bytes);
  ATOMIC_STORE(&gc.idle_held_until, 0);

  world_start(self);

  if (gc.trace) {
    gctrace_figures f = {gc.numgc, gc.start_ns,
                         {cy->concurrent ? cy->t_final : t0, cy->t_stopped,
                          t2, t3, t4},
                         g->minor, g->listed, cy->idle, cy->nproc, heap_before,
                         g->old_bytes, goal, nspan, cy->pause_sweeps, res,
                         cy->concurrent, cy->first_stop_ns, cy->conc_ns,
                         cy->conc_span_ns, cy->assist_ns, cy->nassists};
    gctrace_collection(&f);
  }
}

/* The collection proper, from the stop to the restart (gc_lock held). */
static void collect_stopped(cycle *cy) {
  mspan **spans;
  uint32_t nspan;
  cy->objects_before = gc.trace ? live_objects_now() : 0;
  stop_begin(cy, &spans, &nspan);
  gen_cycle g;
  gen_begin(&g, cy->force);
  uint64_t t2 = os_nanotime();

  mark_result res = {0};
  if (!mark_prepare(spans, nspan, cy->nproc, &g)) {
    abandon(cy);
    return;
  }
  mark_run_markers(cy->nproc, &res);
  mark_overflow_passes(&res);
  if (gc.verify && g.minor)
    mark_verify_minor("a minor collection");
  uint64_t t3 = os_nanotime();
  stop_end(cy, &g, &res, spans, nspan, t2, t3);
}

/* ------------------------------------------ concurrent major collections
 *
 * (concurrent.c has the protocol and its thread.)  The initial stop: the
 * stop's first steps, the marks cleared, the roots marked (their objects
 * left in the work buffers); the world restarts.
 * The concurrent phase: this thread drains the buffers, mark procedures
 * deferred, while the program runs.  The final stop: the first steps again
 * (the flush unmarks the freed lists and free slots), the written
 * pages listed, then a mark like a minor's from the marks there are: the
 * roots again, the marked objects on written pages, the deferred items;
 * then the usual end. */

/* Initial stop; false if the collection was abandoned (world restarted). */
static bool conc_initial_stopped(cycle *cy) {
  mheap *h = &sgc_heap;
  mspan **spans;
  uint32_t nspan;
  cy->objects_before = gc.trace ? live_objects_now() : 0;
  stop_begin(cy, &spans, &nspan);
  /* Spans made from here on (even by a root callback in this stop) are
   * swept from birth: what is allocated in them is marked by the final
   * stop if it is still reachable then. */
  sgc_lock(&h->lock);
  h->gcmarking = 0;
  ATOMIC_STORE(&h->concmark, 1);
  sgc_unlock(&h->lock);
  gen_cycle g = {.minor = false, .conc_initial = true};
  mark_result res = {0};
  if (!mark_prepare(spans, nspan, cy->nproc, &g)) {
    abandon(cy);
    return false;
  }
  mark_roots_only(cy->nproc, &res);
  cy->conc_res = res;
  cy->heap_initial = cy->heap_before;
  cy->first_stop_ns = os_nanotime() - cy->t0;
  world_start(cy->self);
  return true;
}

static void conc_final_stopped(cycle *cy) {
  mspan **spans;
  uint32_t nspan;
  uint64_t initial = cy->heap_initial;
  stop_begin(cy, &spans, &nspan);
  conc_note_cycle(cy->t_stopped - cy->t_start, cy->conc_ns,
                  cy->heap_before > initial ? cy->heap_before - initial : 0,
                  cy->heap_before >= ATOMIC_LOAD_RELAXED(&sgc_next_gc) / 64 * 63,
                  cy->nassists, cy->assist_ns);
  gen_cycle g;
  bool trusted = gen_begin_remark(&g);
  /* What the marks already say, as the first stop and the concurrent
   * phase counted them (not counted again over every span: it would
   * lengthen this stop by a pass over the heap's span structs).  Objects
   * freed by the program during the phase are counted (live after: a few
   * bytes more than the marks say). */
  g.old_bytes = cy->conc_res.marked_bytes;
  g.old_objects = cy->conc_res.nobj;
  g.old_counted = true;
  /* mark_take_remark_all first: it also resets the flag for next time. */
  g.remark_all = mark_take_remark_all() || !trusted || cy->preclean_lost;
  uint64_t t2 = os_nanotime();
  mark_result res = {0};
  if (!mark_prepare(spans, nspan, cy->nproc, &g)) {
    abandon(cy);
    return;
  }
  mark_requeue_deferred();
  mark_run_markers(cy->nproc, &res);
  mark_overflow_passes(&res);
  if (gc.verify)
    mark_verify_minor("a concurrent collection");
  uint64_t t3 = os_nanotime();
  res.nsteal += cy->conc_res.nsteal;
  res.nhandoff += cy->conc_res.nhandoff;
  stop_end(cy, &g, &res, spans, nspan, t2, t3);
}

/* A stop inside dl_iterate_phdr's callback (see above): the world
 * stopped, the loaded objects recorded, then the stop's body (cy->body:
 * a whole collection, or a concurrent one's initial or final stop). */
static int stop_in_phdr(struct dl_phdr_info *info, size_t size, void *arg) {
  cycle *cy = arg;
  world_stop(cy->self);
  cy->t_stopped = os_nanotime();
  mark_segments_reset();
  dl_iterate_phdr(record_phdr, NULL);
  cy->body(cy);
  return 1;
}

static void collect_whole(cycle *cy) {
  collect_stopped(cy);
  cy->ran = true;
}
static void conc_initial(cycle *cy) { cy->ran = conc_initial_stopped(cy); }

/* A concurrent major collection (concurrent.c, rule:mostly-concurrent).
 * The loader's lock is held in each stop only: the program may dlopen
 * while the concurrent phase runs (the final stop reads the segments
 * again).  Falls back to a collection with the world stopped throughout
 * when the kernel cannot protect the heap. */
/* Returns how long the program ran beside it (step 0 and the concurrent
 * phase). */
static uint64_t collect_concurrent(mthread *self, int nproc, bool idle) {
  cycle cy = {self, nproc, 0, 0, false, false, idle};
  cy.concurrent = true;
  cy.t_start = os_nanotime();
  /* With the program running: the sweep finished, then the pages of
   * scanned objects protected, before any is scanned
   * (rule:protect-before-scan). */
  sweep_complete();
  if (sgc_sticky) /* without generations the sweep cleared them */
    mheap_clear_marks();
  if (!conc_protect_heap()) {
    cy.concurrent = false;
    cy.t0 = os_nanotime();
    cy.body = collect_whole;
    dl_iterate_phdr(stop_in_phdr, &cy);
    return 0;
  }
  cy.t0 = os_nanotime();
  cy.body = conc_initial;
  dl_iterate_phdr(stop_in_phdr, &cy);
  if (!cy.ran)
    return cy.t0 - cy.t_start; /* abandoned */
  uint64_t ta = os_nanotime();
  mark_result r = {0};
  mark_concurrent(&r);
  mark_assist_figures(&cy.assist_ns, &cy.nassists);
  cy.preclean_lost = !conc_preclean(&r);
  cy.conc_res.marked_bytes += r.marked_bytes;
  cy.conc_res.nobj += r.nobj;
  cy.conc_res.nsteal += r.nsteal;
  cy.conc_res.nhandoff += r.nhandoff;
  uint64_t tb = os_nanotime();
  cy.conc_ns = tb - ta;
  cy.conc_span_ns = tb - ta;
  cy.t_final = tb;
  cy.body = conc_final_stopped;
  dl_iterate_phdr(stop_in_phdr, &cy);
  return (cy.t0 - cy.t_start) + cy.conc_span_ns;
}

/* One collection; gc_lock held; 'self' is the calling thread.  Never
 * inlined into collect_as: that frame is on the triggering thread's stack,
 * a root from its marker up, and the collection's locals belong on the
 * collector's stack.  (When the background sweeper's wake-up moved out of
 * this file, the compiler started inlining it there, and a finished
 * fiber's address stayed in that frame: see
 * fiber_kept_by_its_finalizer_keeps_its_stack.) */
static __attribute__((noinline)) void collect(mthread *self, int why) {
  /* Helper threads are made before the stop: pthread_create takes libc
   * locks that a stopped thread may hold. */
  int nproc = mark_markers_for_cycle(ATOMIC_LOAD_RELAXED(&gc.nmarkers));
  if (why == COLLECT_CONC || why == COLLECT_FORCED_CONC ||
      why == COLLECT_IDLE_CONC) {
    publish_stats();
    uint64_t t0 = os_nanotime();
    conc_set_running(true);
    uint64_t ran = collect_concurrent(self, nproc, why == COLLECT_IDLE_CONC);
    gen_restarted();
    conc_set_running(false);
    /* The collector's share of the CPU: the stops whole, the time the
     * program ran beside it (step 0, the concurrent phase) as one thread
     * of the machine's (found by memlimit_bounds_rss_with_live_below_it:
     * counted whole, the phase filled the cap's bucket and collections
     * were put off past the limit). */
    uint64_t t1 = os_nanotime();
    uint64_t ncpu = (uint64_t)ATOMIC_LOAD_RELAXED(&gc.nmarkers);
    ran = ran < t1 - t0 ? ran : t1 - t0;
    memlimit_collected(t0 + ran - ran / (ncpu > 1 ? ncpu : 1), t1,
                       why == COLLECT_IDLE_CONC);
    bgsweep_wake();
    return;
  }
  cycle cy = {self, nproc, os_nanotime(), 0, false, why != COLLECT_DUE,
              why == COLLECT_IDLE};
  cy.body = collect_whole;
  dl_iterate_phdr(stop_in_phdr, &cy);
  if (!cy.ran) { /* no loaded object at all: cannot happen, but be safe */
    world_stop(self);
    cy.t_stopped = os_nanotime();
    mark_segments_reset();
    collect_stopped(&cy);
  }
  gen_restarted();
  memlimit_collected(cy.t0, os_nanotime(), cy.idle);
  bgsweep_wake();
  conc_ensure_thread();
}

/* Collect on behalf of thread c (no-preempt count 0).  Waiting for the
 * lock happens in a blocking region, so a collection already under way
 * treats this thread as stopped.  Without 'force', a collection that
 * another thread completed meanwhile is enough. */
/* The collector runs on a stack of its own (like Go's system stack): the
 * thread that triggers a collection may be a fiber with a small stack.
 * One stack serves, since gc_lock serialises collections. */
#define GC_STACK_SIZE ((size_t)512 << 10)
static char *gc_stack SGC_NOGC;

typedef struct collect_args {
  mthread *self;
  int why;
} collect_args;
static void collect_on_gc_stack(void *arg) {
  collect_args *a = arg;
  collect(a->self, a->why);
}

/* sgc_set_collect_hook's and sgc_set_start_hook's functions. */
static int (*collect_hook)(int forced);
static void (*start_hook)(void);

/* Still due once gc_lock is held (another thread may have collected
 * while this one waited). */
static bool idle_due(uint64_t pressure);

static bool still_due(int why, uint64_t seen) {
  if (why == COLLECT_FORCED || why == COLLECT_FORCED_CONC)
    return true;
  if (gc.numgc != seen)
    return false;
  uint64_t p = gc_heap_pressure();
  if (why == COLLECT_IDLE)
    return idle_due(p);
  if (why == COLLECT_IDLE_CONC)
    return !ATOMIC_LOAD_RELAXED(&gc.disabled) && idle_due(p);
  if (why == COLLECT_CONC) /* sgc_disable since the wake-up? */
    return !ATOMIC_LOAD_RELAXED(&gc.disabled) && gc.gcpercent >= 0 &&
           conc_due(p);
  /* A thread that passed gc_maybe_collect's test before sgc_disable. */
  return !ATOMIC_LOAD_RELAXED(&gc.disabled) &&
         p >= ATOMIC_LOAD(&sgc_next_gc);
}

static void collect_as(mcache *c, int why) {
  bool force = why == COLLECT_FORCED || why == COLLECT_FORCED_CONC;
  int (*hook)(int) = ATOMIC_LOAD(&collect_hook);
  if (hook && hook(force) && !force)
    return;
  uint64_t seen = ATOMIC_LOAD(&gc.numgc);
  sgc_enter_blocking();
  sgc_wrlock(&hold_lock);
  sgc_lock(&gc_lock);
  sgc_exit_blocking();
  if (still_due(why, seen)) {
    void (*sh)(void) = ATOMIC_LOAD(&start_hook);
    if (sh)
      sh();
    mthread *self = c->thr;
    /* What this thread holds is on the stack it runs on, above here. */
    volatile uintptr_t marker = 0;
    self->fpsize = 0;
    memset(&self->ctx_now, 0, sizeof self->ctx_now);
    getcontext(&self->ctx);
    self->sp = (uintptr_t)&marker;
    if (gc_stack == NULL)
      gc_stack = os_alloc(GC_STACK_SIZE);
    collect_args args = {self, why};
    if (gc_stack)
      call_on_stack(collect_on_gc_stack, &args, gc_stack + GC_STACK_SIZE);
    else
      collect(self, why); /* no memory for a stack: use this one */
  }
  sgc_unlock(&gc_lock);
  sgc_rwunlock(&hold_lock);
}

/* Collect from inside the allocator: step out of its no-preempt region
 * (parking first if a stop is pending), collect, step back in.  With
 * 'complete', the sweep is finished too. */
static void collect_from_allocator(mcache *c, int why, bool complete) {
  int np = c->nopreempt;
  c->nopreempt = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (c->pending)
    world_park_pending(c);
  collect_as(c, why);
  if (complete)
    sweep_complete();
  c->nopreempt = np;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* An assist (mark_assist) from inside the allocator, stepped out of its
 * no-preempt region as for a collection.  Each one scans ASSIST_BUDGET
 * bytes, about 64 times what the allocator takes between two calls of
 * gc_maybe_collect, so a thread past the goal allocates at a small
 * fraction of the speed it marks. */
#define ASSIST_BUDGET ((uint64_t)512 << 10)
static bool assist_from_allocator(mcache *c, bool may_overshoot) {
  if (!conc_running())
    return false;
  /* On a fiber, whose stack may be 16 KiB with little left: an assist
   * scans on the program's stack, and calling a mark procedure takes a
   * 4 KiB frame (the adversarial review, from -fstack-usage).  No
   * assist: within the overshoot it allocates, past it it waits. */
  if (c->thr != NULL && c->thr->cur != &c->thr->home)
    return may_overshoot;
  int np = c->nopreempt;
  c->nopreempt = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (c->pending)
    world_park_pending(c);
  bool ok = conc_assist(ASSIST_BUDGET, may_overshoot);
  c->nopreempt = np;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  return ok;
}

uint64_t gc_heap_pressure(void) {
  int64_t v = ATOMIC_LOAD(&sgc_heap.heap_live) +
              ATOMIC_LOAD(&sgc_heap.freed_pending);
  return v > 0 ? (uint64_t)v : 0;
}

/* An idle collection is due (pacer.c): the idle interval passed since the
 * last restart, and at the rate the program allocated since, the goal is
 * more than another interval away (a program that allocates fast reaches
 * its goal soon enough, though collections grow apart as its heap
 * grows). */
static bool idle_due(uint64_t pressure) {
  uint64_t since = ATOMIC_LOAD_RELAXED(&gc.idle_since);
  uint64_t held = ATOMIC_LOAD_RELAXED(&gc.idle_held_until);
  /* Not before a first collection ended or was abandoned, nor with GOGC
   * off (only the memory limit collects then), nor below the minimum goal
   * (sgc_expand_heap promised that much room). */
  if ((since == 0 && held == 0) || ATOMIC_LOAD_RELAXED(&gc.gcpercent) < 0 ||
      pressure < ATOMIC_LOAD_RELAXED(&gc.min_goal))
    return false;
  uint64_t now = os_nanotime();
  uint64_t interval = ATOMIC_LOAD_RELAXED(&gc.idle_interval);
  /* abandon()'s deferral, when set, is past since + interval. */
  if (now < since + interval || now < held)
    return false;
  uint64_t goal = ATOMIC_LOAD_RELAXED(&sgc_next_gc);
  uint64_t base = ATOMIC_LOAD_RELAXED(&gc.idle_base);
  if (goal <= pressure || now <= since)
    return false;
  uint64_t allocated = pressure > base ? pressure - base : 0;
  /* (goal - pressure) / (allocated / elapsed) > interval */
  return (unsigned __int128)(goal - pressure) * (now - since) >
         (unsigned __int128)allocated * interval;
}

void gc_maybe_collect(mcache *c) {
  if (ATOMIC_LOAD_RELAXED(&gc.disabled) ||
      (ATOMIC_LOAD_RELAXED(&gc.gcpercent) < 0 && !memlimit_on()))
    return;
  uint64_t p = gc_heap_pressure();
  if (p < ATOMIC_LOAD(&sgc_next_gc)) {
    conc_poll(p);
    /* An idle collection (pacer.c), looked at every 32nd time. */
    if (likely((++c->idle_polls & 31) != 0))
      return;
    /* With concurrent majors, the collector thread runs it. */
    if (idle_due(p) && !conc_start_idle())
      collect_from_allocator(c, COLLECT_IDLE, false);
    return;
  }
  if (!memlimit_may_collect(p))
    return;
  /* Past the goal during a concurrent collection: help mark if its
   * phase is open, then allocate, up to a sixteenth past the goal; past
   * that, assist or wait for the collection to end, so that GOGC holds
   * (rule:assists-end-before-the-stop). */
  if (assist_from_allocator(c, p < ATOMIC_LOAD(&sgc_next_gc) / 16 * 17))
    return;
  collect_from_allocator(c, COLLECT_DUE, false);
}

/* The heap ran into sgc_set_max_heap: collect (even when disabled, as a
 * last resort before failing) and sweep everything, so that the freed
 * pages can be reused. */
/* The concurrent collector thread (concurrent.c), woken at the trigger. */
void gc_collect_concurrent(mcache *c, bool idle) {
  collect_as(c, idle ? COLLECT_IDLE_CONC : COLLECT_CONC);
}

void gc_collect_for_limit(mcache *c) {
  collect_from_allocator(c, COLLECT_FORCED, true);
}

bool gc_over_max_heap(uintptr_t more_pages) {
  uint64_t max = ATOMIC_LOAD_RELAXED(&gc.max_heap);
  return max != 0 && (sgc_heap.pages_inuse + more_pages) * PAGE_SIZE > max;
}

bool gc_has_max_heap(void) { return ATOMIC_LOAD_RELAXED(&gc.max_heap) != 0; }
uint64_t gc_max_heap(void) { return ATOMIC_LOAD_RELAXED(&gc.max_heap); }

/* --------------------------------------------------------------- public */

void sgc_collect(void) {
  mcache *c = mcache_get();
  if (c == NULL)
    return;
  /* With concurrent marking on, the calling thread runs the concurrent
   * phase itself while the other threads run (as Go's runtime.GC). */
  collect_as(c, conc_enabled() ? COLLECT_FORCED_CONC : COLLECT_FORCED);
  /* An explicit collection also finishes its sweep (the world runs; the
   * background sweeper helps), so that what it freed is free on return. */
  sweep_complete();
}

int (*sgc_set_collect_hook(int (*fn)(int forced)))(int) {
  return __atomic_exchange_n(&collect_hook, fn, __ATOMIC_SEQ_CST);
}

void (*sgc_set_start_hook(void (*fn)(void)))(void) {
  return __atomic_exchange_n(&start_hook, fn, __ATOMIC_SEQ_CST);
}

void (*sgc_set_root_callback(void (*fn)(void)))(void) {
  return __atomic_exchange_n(&sgc_root_callback, fn, __ATOMIC_SEQ_CST);
}

/* How deep this thread is in sgc_call_without_collections: a collection
 * it started there would wait for its own read hold. */
static __thread int without_collections;

void *sgc_call_without_collections(void *(*fn)(void *), void *arg) {
  sgc_ensure_init();
  mcache *c = sgc_tls_cache;
  bool reg = c && c->thr && c->thr->state != THR_BLOCKING;
  if (reg)
    sgc_enter_blocking();
  sgc_rdlock(&hold_lock);
  if (reg)
    sgc_exit_blocking();
  without_collections++;
  void *r = fn(arg);
  without_collections--;
  sgc_rwunlock(&hold_lock);
  return r;
}

int sgc_collect_a_little(void) {
  sgc_ensure_init();
  mcache *c = mcache_get();
  if (c == NULL)
    return 0;
  /* The snapshot sweepone walks is read inside the region (see
   * sweep_complete). */
  for (int i = 0; i < 8; i++) {
    nopreempt_enter(c);
    intptr_t r = sweepone(false);
    nopreempt_leave(c);
    if (r < 0)
      break;
  }
  nopreempt_enter(c);
  int more = !sweep_done();
  nopreempt_leave(c);
  /* Nothing left to sweep and the heap at its goal: the little more is a
   * collection (bdwgc's GC_collect_a_little may start one too). */
  if (!more && !without_collections && !ATOMIC_LOAD_RELAXED(&gc.disabled) &&
      ATOMIC_LOAD_RELAXED(&gc.gcpercent) >= 0 &&
      gc_heap_pressure() >= ATOMIC_LOAD(&sgc_next_gc))
    collect_as(c, COLLECT_DUE);
  return more;
}

void sgc_disable(void) {
  sgc_ensure_init();
  ATOMIC_ADD(&gc.disabled, 1);
  /* A concurrent collection under way (the program runs beside it) ends
   * before this returns, as bdwgc's GC_disable waits for its lock: its
   * final stop must not land in the program's disabled section (found
   * when sgc_read_stats stopped waiting for it: num_gc moved after
   * sgc_disable in gc_disable_enable_and_stats). */
  if (conc_running()) {
    lock_as_blocking(&gc_lock);
    sgc_unlock(&gc_lock);
  }
}

void sgc_enable(void) {
  sgc_ensure_init();
  int v = ATOMIC_LOAD(&gc.disabled);
  while (v > 0 && !ATOMIC_CAS(&gc.disabled, v, v - 1))
    ;
}

int sgc_set_gcpercent(int percent) {
  sgc_ensure_init();
  lock_as_blocking(&gc_lock);
  int old = gc.gcpercent;
  ATOMIC_STORE_RELAXED(&gc.gcpercent, percent < 0 ? -1 : percent);
  /* The goal follows at once (as Go's SetGCPercent), not at the next
   * collection: a program lowering GOGC before a burst gets it. */
  if (gc.numgc > 0)
    ATOMIC_STORE(&sgc_next_gc,
                 gen_goal(gc.gcpercent, ATOMIC_LOAD_RELAXED(&gc.min_goal)));
  sgc_unlock(&gc_lock);
  return old;
}

void gc_refresh_goal(void) {
  lock_as_blocking(&gc_lock);
  if (gc.numgc > 0)
    ATOMIC_STORE(&sgc_next_gc,
                 gen_goal(gc.gcpercent, ATOMIC_LOAD_RELAXED(&gc.min_goal)));
  sgc_unlock(&gc_lock);
}

void sgc_set_max_heap(size_t bytes) {
  sgc_ensure_init();
  ATOMIC_STORE(&gc.max_heap, (uint64_t)bytes);
}

int sgc_set_markers(int n) {
  sgc_ensure_init();
  if (n < 1)
    return EINVAL;
  ATOMIC_STORE(&gc.nmarkers, n > MAX_MARKERS ? MAX_MARKERS : n);
  return 0;
}

/* The figures gc_lock guards, into *st (gc_lock held). */
static void read_guarded_stats(sgc_stats *st) {
  st->num_gc = gc.numgc;
  st->last_pause_ns = gc.last_pause_ns;
  st->total_pause_ns = gc.total_pause_ns;
  st->max_pause_ns = gc.max_pause_ns;
  st->last_mark_ns = gc.last_mark_ns;
  st->total_mark_ns = gc.total_mark_ns;
  st->last_heap_before = gc.last_heap_before;
  st->last_heap_after = gc.last_heap_after;
  st->last_marked_objects = gc.last_live_objects;
  st->last_freed_objects = gc.last_freed_objects;
  st->mark_overflows = gc.overflows;
  st->collections_abandoned = gc.abandoned;
  st->idle_collections = gc.idle_collections;
  st->gcpercent = gc.gcpercent;
  st->stack_released_bytes = gc.stack_released;
  gen_read_stats(st);
  memlimit_read_stats(st);
  conc_read_stats(st);
}

/* gc_lock held, a concurrent collection starting: its figures for the
 * readers that come while it holds gc_lock. */
static void publish_stats(void) {
  sgc_stats t;
  memset(&t, 0, sizeof t);
  read_guarded_stats(&t);
  sgc_lock(&stats_lock);
  published = t;
  sgc_unlock(&stats_lock);
}

/* *st zeroed; called first (the guarded figures may come whole from
 * 'published', zeroes elsewhere).  Waits for gc_lock, except during a
 * concurrent collection: the program runs then, and a thread asking for
 * the figures (bdwgc programs call GC_get_heap_size and friends often)
 * must not wait for the whole mark (it did: an allocating thread that
 * sampled them stalled for each concurrent phase). */
void gc_read_stats(sgc_stats *st) {
  /* gc_lock held and no concurrent collection running: a collection with
   * the world stopped, or a concurrent one that has not published yet
   * (collect_as took gc_lock; still_due, the start hook, the markers'
   * threads and publish_stats come before conc_set_running).  Poll for
   * one or the other rather than wait on gc_lock: a reader that came in
   * that window waited for the whole concurrent collection (found by the
   * adversarial review, test
   * conc_stats_read_as_a_collection_starts_do_not_wait). */
  uint64_t nap = 10000;
  for (;;) {
    if (sgc_trylock(&gc_lock)) {
      read_guarded_stats(st);
      sgc_unlock(&gc_lock);
      break;
    }
    if (conc_running()) {
      sgc_lock(&stats_lock);
      *st = published;
      sgc_unlock(&stats_lock);
      break;
    }
    sleep_as_blocking(nap);
    if (nap < 1000000)
      nap *= 2;
  }
  /* Not guarded by gc_lock (sgc_set_markers, the allocator and the
   * scavenger change them at any time): live, also during a concurrent
   * collection, whose copy was stale by what the phase allocated
   * (memory_held_bytes against arena_committed_bytes) or set. */
  st->markers = ATOMIC_LOAD_RELAXED(&gc.nmarkers);
  memlimit_read_live_stats(st);
  st->next_gc = ATOMIC_LOAD(&sgc_next_gc);
  st->heap_live = (uint64_t)ATOMIC_LOAD(&sgc_heap.heap_live);
  st->sweeps_background = ATOMIC_LOAD_RELAXED(&sgc_nbgsweep);
  st->sweeps_on_demand = ATOMIC_LOAD_RELAXED(&sgc_ndemandsweep);
  st->sweeps_in_pause = ATOMIC_LOAD_RELAXED(&sgc_npausesweep);
  st->sweeps_proportional = ATOMIC_LOAD_RELAXED(&sgc_nassistsweep);
  st->sweep_ns = ATOMIC_LOAD_RELAXED(&sgc_sweep_ns);
}

/* --------------------------------------------------------------- fork */

void gc_atfork(int phase) {
  if (phase == FORK_PREPARE) {
    mcache *c = sgc_tls_cache;
    /* A collection by another thread goes on while this one waits (a
     * thread that forks from inside a blocking region is already out of
     * the way). */
    if (c && c->thr && c->thr->state != THR_BLOCKING) {
      sgc_enter_blocking();
      sgc_wrlock(&hold_lock);
      sgc_lock(&gc_lock);
      sgc_exit_blocking();
    } else {
      sgc_wrlock(&hold_lock);
      sgc_lock(&gc_lock);
    }
    return;
  }
  /* A reader of 'published' may have held it in the parent: the child's
   * first concurrent collection would wait for it for ever.  (Not taken
   * in the prepare handler: it ranks below the locks the other handlers
   * take after this one, world.mutex first.)  No publisher runs: this
   * thread holds gc_lock. */
  if (phase == FORK_CHILD)
    pthread_mutex_init(&stats_lock.m, NULL); /* not held by this thread */
  sgc_unlock(&gc_lock);
  if (phase == FORK_CHILD)
    sgc_rwlock_reset_held(&hold_lock); /* readers may be gone */
  else
    sgc_rwunlock(&hold_lock);
}

/* The locks of the collector's own threads, taken after the world is
 * stopped (world_atfork), as a collection takes them: it holds
 * threads_lock while it starts the markers and wakes the sweeper. */
void gc_atfork_threads(int phase) {
  if (phase == FORK_PREPARE) {
    mark_atfork_helpers(phase);
    bgsweep_atfork(phase);
    conc_atfork(phase);
    return;
  }
  conc_atfork(phase);
  bgsweep_atfork(phase);
  mark_atfork_helpers(phase);
}

/* --------------------------------------------------------------- init */

static bool debug_flag(const char *debug, const char *name) {
  const char *p = debug;
  size_t n = strlen(name);
  while (p && *p) {
    if (strncmp(p, name, n) == 0 && p[n] == '=')
      return atoi(p + n + 1) != 0;
    p = strchr(p, ',');
    if (p)
      p++;
  }
  return false;
}

bool sgc_debug_flag(const char *name) {
  return debug_flag(sgc_option("SPANGC_DEBUG"), name);
}

void gc_init(void) {
  gc.start_ns = os_nanotime();
  const char *e = sgc_option("SPANGC_GOGC");
  if (e && *e)
    gc.gcpercent = strcmp(e, "off") == 0 ? -1 : atoi(e);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  gc.nmarkers = ncpu > 0 ? (int)ncpu : 1;
  e = sgc_option("SPANGC_MARKERS");
  if (e && *e && atoi(e) > 0)
    gc.nmarkers = atoi(e);
  if (gc.nmarkers > MAX_MARKERS)
    gc.nmarkers = MAX_MARKERS;
  e = sgc_option("SPANGC_DEBUG");
  gc.trace = debug_flag(e, "gctrace");
  gc.verify = debug_flag(e, "verify");
  e = sgc_option("SPANGC_MAX_HEAP");
  if (e && *e)
    gc.max_heap = strtoull(e, NULL, 10);
  memlimit_init();
  conc_init();
  if (gc.trace)
    gctrace_start(gc.nmarkers, gc.gcpercent);
}
