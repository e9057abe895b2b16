/*
 * collect.c — one collection, from the stop to the restart: the steps of
 * a collection with the world stopped throughout, and those of a
 * mostly-concurrent major one.
 *
 * collect runs on the thread that triggered the collection, on the
 * collector's own stack (on the thread's, if there was no memory for
 * it), holding hold_lock (for writing) and gc_lock: gc.c's collect_as
 * took them.  The helper markers are made first, before any
 * thread is stopped (pthread_create takes C library locks).  Then:
 *   1. stop the world (world.c), from inside dl_iterate_phdr's callback
 *      (stop_in_phdr), so that the loader's lock is held until the
 *      restart, and record the loaded objects;
 *   2. finish the previous cycle's sweep, flush every mcache (cached
 *      spans back to mcentral, freed lists dropped), drop the central
 *      batches of freed objects (stop_begin);
 *   3. take the snapshot of allspans and set gcmarking under mheap.lock;
 *      check that every in-use span in it is swept (an unswept span
 *      aborts: a mark over stale allocation bits would free live
 *      objects); run the heap verifier if asked;
 *   4. mark in parallel, this thread and the helpers, then the passes
 *      after a mark-stack overflow;
 *   5. end the mark (stop_end): weak slots, finalizable objects
 *      (mark_finalizers), fibers, the generational policy and the next
 *      goal, the next sweep generation (sweep_start), the figures;
 *   6. restart the world, wake the background sweeper; the trace lines.
 * A concurrent collection (collect_concurrent; its protocol and thread
 * are concurrent.c's) stops twice around a mark that runs beside the
 * program: see the comment above conc_initial_stopped.  When the OS
 * refuses the memory for the tables of roots, the collection is abandoned
 * (abandon): nothing is freed and the world restarts.
 *
 * Locks: gc_lock throughout (it guards the figures in gc that stop_end
 * writes); mheap.lock for the snapshot and the gcmarking and concmark
 * flags; threads_lock from world_stop to world_start (world.c).  Ranks:
 * lockrank.h.
 */
#include <link.h>

#include "spangc-int.h"

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

/* For gctrace's count of objects freed: read with the world running,
 * before the stop (a pass over every thread's counters; at 1 GB live it
 * made 5 ms of a 5.4 ms first stop).  Objects allocated between this and
 * the stop are not counted as freed if they die: a figure, not an
 * invariant. */
static uint64_t live_objects_now(void) {
  if (!gc.trace)
    return 0;
  sgc_stats st;
  memset(&st, 0, sizeof st);
  mcache *c = nopreempt_enter_any();
  heap_read_stats(&st);
  nopreempt_leave_any(c);
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
  /* What was parked again since collect() gave the parked spans back
   * (the background sweeper and sweep_pay park until the sweep is done:
   * a concurrent cycle's sweep_complete runs after that give-back):
   * back now, exactly, before the next sweep generation opens
   * (rule:parked-spans-bounded; helper-53 saw up to 999 pages parked
   * there in concurrent mode).  Usually none. */
  if (sweep_parked_pages() != 0)
    mcentral_unpark_all();
  if ((SPANGC_DEBUG || gc.verify) && sweep_parked_pages() != 0)
    sgc_fatal("verify: %llu pages parked at a collection's stop, after "
              "every parked span was given back",
              (unsigned long long)sweep_parked_pages());
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
  res->noscan_bytes += g->old_noscan;
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
  g->noscan = res->noscan_bytes;
  uint64_t goal = gen_end(g, heap_before, res->marked_bytes, gc.gcpercent,
                          ATOMIC_LOAD_RELAXED(&gc.min_goal));
  sweep_start(res->marked_bytes);
  ATOMIC_STORE(&h->heap_live, (int64_t)res->marked_bytes);
  /* After fibers_after_mark freed the dead fibers' stacks. */
  uint64_t stacks = ATOMIC_LOAD_RELAXED(&h->pages_stack) * PAGE_SIZE;
  ATOMIC_STORE(&h->stack_free,
               stacks + (gc.gcpercent < 0
                             ? 0
                             : stacks / 100 * (uint64_t)gc.gcpercent));
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
  ATOMIC_STORE_RELAXED(&gc.last_heap_after, res->marked_bytes); /* limit */
  gc.last_live_objects = res->nobj;
  gc.last_freed_objects =
      cy->objects_before > res->nobj ? cy->objects_before - res->nobj : 0;
  gc.overflows += res->overflows;
  if (!g->minor)
    gc.last_major_pause_ns = pause;
  if (cy->concurrent)
    gen_note_concurrent_pause(pause);
  if (cy->idle)
    gc.idle_collections++;
  gc.idle_backoff = pacer_idle_backoff(gc.idle_backoff, cy->idle,
                                       gc.idle_backoff_live, heap_before,
                                       res->marked_bytes);
  if (gc.idle_backoff <= 1)
    gc.idle_backoff_live = res->marked_bytes;
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
                         cy->conc_span_ns, cy->assist_ns, cy->nassists,
                         g->aging};
    gctrace_collection(&f);
  }
}

/* The collection proper, from the stop to the restart (gc_lock held). */
static void collect_stopped(cycle *cy) {
  mspan **spans;
  uint32_t nspan;
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
  g.old_noscan = cy->conc_res.noscan_bytes;
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
  conc_pace_begin();
  /* With the program running: the sweep finished, then the pages of
   * scanned objects protected, before any is scanned
   * (rule:protect-before-scan). */
  sweep_complete();
  if (sgc_sticky) /* without generations the sweep cleared them */
    mheap_clear_marks();
  test_hook_run(&sgc_test_conc_cleared_hook);
  if (!conc_protect_heap()) {
    cy.concurrent = false;
    cy.objects_before = live_objects_now();
    cy.t0 = os_nanotime();
    cy.body = collect_whole;
    dl_iterate_phdr(stop_in_phdr, &cy);
    return 0;
  }
  cy.objects_before = live_objects_now();
  cy.t0 = os_nanotime();
  cy.body = conc_initial;
  dl_iterate_phdr(stop_in_phdr, &cy);
  if (!cy.ran)
    return cy.t0 - cy.t_start; /* abandoned */
  uint64_t ta = os_nanotime();
  mark_result r = {0};
  mark_concurrent(&r);
  cy.preclean_lost = !conc_preclean(&r);
  /* After the pre-cleaning: assists take its slices too. */
  mark_assist_figures(&cy.assist_ns, &cy.nassists);
  cy.conc_res.marked_bytes += r.marked_bytes;
  cy.conc_res.noscan_bytes += r.noscan_bytes;
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
 * inlined into collect_as (gc.c): that frame is on the triggering
 * thread's stack, a root from its marker up, and the collection's locals
 * belong on the collector's stack.  (When both were in gc.c and the
 * background sweeper's wake-up moved out of it, the compiler started
 * inlining it there, and a finished fiber's address stayed in that
 * frame: see fiber_kept_by_its_finalizer_keeps_its_stack.) */
__attribute__((noinline)) void collect(mthread *self, int why) {
  /* The last collection's unprotect walk, if it is still pending: before
   * anything lists pages (rule:unprotect-walk-off-the-allocator). */
  gen_restarted_pending();
  /* Parked spans go back to the heap before the first stop
   * (rule:parked-spans-bounded).  One still parked when the collection
   * opens the next sweep generation is unswept, so nothing could unpark
   * it until its sweep, while other classes took fresh pages beside it
   * (helper-52: a class that parked in one cycle, a cycle allocating
   * into holes only, then large objects: peak span bytes 8-13% over the
   * same program without parking).  Outside the stop, so that the pause
   * does not pay for it; what the sweepers park meanwhile goes back in
   * stop_begin. */
  if (sweep_parked_pages() != 0) {
    mcache *c = nopreempt_enter_any();
    mcentral_unpark_all();
    nopreempt_leave_any(c);
  }
  /* Helper threads are made before the stop: pthread_create takes libc
   * locks that a stopped thread may hold. */
  int nproc = mark_markers_for_cycle(ATOMIC_LOAD_RELAXED(&gc.nmarkers));
  if (why == COLLECT_CONC || why == COLLECT_FORCED_CONC ||
      why == COLLECT_IDLE_CONC) {
    publish_stats();
    uint64_t t0 = os_nanotime();
    conc_set_running(true);
    uint64_t ran = collect_concurrent(self, nproc, why == COLLECT_IDLE_CONC);
    /* Ended for the waits of conc_assist before the unprotect calls,
     * which they have no reason to sit through; still running for
     * sgc_read_stats, which reads the published figures until gc_lock is
     * free (published again: the final stop's are there now). */
    conc_note_ended();
    publish_stats();
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
  uint64_t objects_before = live_objects_now();
  cycle cy = {self, nproc, os_nanotime(), 0, false, why != COLLECT_DUE,
              why == COLLECT_IDLE};
  cy.objects_before = objects_before;
  cy.body = collect_whole;
  dl_iterate_phdr(stop_in_phdr, &cy);
  if (!cy.ran) { /* no loaded object at all: cannot happen, but be safe */
    world_stop(self);
    cy.t_stopped = os_nanotime();
    mark_segments_reset();
    collect_stopped(&cy);
  }
  /* One that fell due, or an idle one, runs on an allocating thread: its
   * walk goes to the background sweeper, woken below.  sgc_collect's
   * caller waits for the collection anyway. */
  if (why == COLLECT_DUE || why == COLLECT_IDLE)
    gen_restarted_later();
  else
    gen_restarted();
  memlimit_collected(cy.t0, os_nanotime(), cy.idle);
  bgsweep_wake();
  conc_ensure_thread();
}
