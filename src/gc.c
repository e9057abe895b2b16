/*
 * gc.c — when a collection runs, and the control calls.
 *
 * A collection runs on the thread that triggered it: collect_as takes
 * hold_lock and gc_lock, then runs collect.c's collect, which holds the
 * sequence of a collection (whole or concurrent), on a stack of its own
 * (call_on_stack, machine.c: the triggering thread may be a fiber with a
 * small stack).  The helper markers are mark.c's, the background sweeper
 * sweep.c's, the trace lines gctrace.c's; gc_start_background makes those
 * threads before the first collection needs them.
 *
 * Triggering: the next collection starts when heap_live (bytes handed to
 * caches and large objects since the last mark, plus what the mark found
 * live) plus freed_pending (objects freed with sgc_free whose slots only a
 * collection gives back) reaches sgc_next_gc, the goal the pacer
 * (pacer.c) computed at the end of the last one.  SPANGC_GOGC sets
 * gcpercent ("off" disables); sgc_set_gcpercent too.  Also: an idle
 * collection when no collection ran for the idle interval (pacer.c),
 * sgc_collect, the heap limit; past the goal during a concurrent
 * collection, an allocating thread assists its mark first.
 *
 * Here too: the settings (SPANGC_GOGC, SPANGC_MARKERS, SPANGC_MAX_HEAP,
 * SPANGC_DEBUG's gctrace and verify) and their calls, sgc_disable,
 * sgc_call_without_collections, the figures sgc_read_stats reads, and
 * the fork handlers of these locks and of the collector's threads.
 *
 * gc_lock serialises collections and guards the figures of the last
 * cycles (in gc, which collect.c's collections write); the helper
 * markers (mark.c) synchronise through helper.lock.  A collection first
 * takes hold_lock for writing; sgc_call_without_collections holds it for
 * reading (ranks: lockrank.h).
 * A concurrent collection holds gc_lock for its whole length, the program
 * running: as it starts it copies the figures into 'published'
 * (stats_lock), which sgc_read_stats reads instead of waiting for it.
 */
#include <ctype.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "spangc-int.h"

sgc_mutex gc_lock = SGC_MUTEX_INIT(GC);
static sgc_mutex stats_lock = SGC_MUTEX_INIT(STATS);
static sgc_stats published SGC_NOGC; /* stats_lock */
/* Held for reading by sgc_call_without_collections, for writing by a
 * collection; writers first, so that calls overlapping on several threads
 * do not keep a collection out while they go on (session 23's review: no
 * collection in 3 s, the heap at 3.5 GiB of garbage).  A thread holds it
 * once, however many of its calls are under way (nested, or interleaved
 * by fibers): a second read hold would wait behind a waiting collection,
 * which waits for the first. */
static sgc_rwlock hold_lock = SGC_RWLOCK_INIT_WRITERS_FIRST(HOLD);
/* Tests only: called by the collecting thread while the helper markers
 * run (the world stopped, gcmarking set), e.g. to force allspans to grow
 * under the markers' snapshot. */
void (*sgc_test_mark_hook)(void);
void (*sgc_test_conc_phase_hook)(void);
void (*sgc_test_conc_cleared_hook)(void);
void (*sgc_test_scavenge_hook)(void);
void (*sgc_test_stats_hook)(void);
void (*sgc_test_preclean_hook)(void);
uint64_t sgc_test_assisted_slices;
uint64_t sgc_test_whole_rescans;
uint64_t sgc_next_gc = PACER_MIN_GOAL;
/* Objects freed explicitly and then dropped from freed lists at a flush,
 * per class: counted as allocated again, since the sweep frees them. */
uint64_t sgc_gc_dropped[NUM_CLASSES];

gc_state gc SGC_NOGC = {.gcpercent = 100, .min_goal = PACER_MIN_GOAL};

/* sgc_expand_heap grew the heap by bytes: collections wait for the heap
 * to fill that much more. */
void gc_raise_min_goal(uint64_t bytes) {
  ATOMIC_ADD(&gc.min_goal, bytes);
  ATOMIC_ADD(&sgc_next_gc, bytes);
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
  if (why == COLLECT_ROOM) /* another one made room meanwhile? */
    return !ATOMIC_LOAD_RELAXED(&gc.disabled);
  if (why == COLLECT_CONC) /* sgc_disable since the wake-up? */
    return !ATOMIC_LOAD_RELAXED(&gc.disabled) && gc.gcpercent >= 0 &&
           conc_due(p);
  /* A thread that passed gc_maybe_collect's test before sgc_disable. */
  return !ATOMIC_LOAD_RELAXED(&gc.disabled) &&
         p >= ATOMIC_LOAD(&sgc_next_gc);
}

/* How deep this thread is in sgc_call_without_collections: a collection
 * it started there would wait for its own read hold of hold_lock. */
static __thread int without_collections;

/* The program's hooks may run on the concurrent collector thread, whose
 * stack and registers are no roots (world-int.h, noroots): they are
 * while a hook runs, as any thread's. */
static bool program_code_begin(mcache *c) {
  mthread *t = c->thr;
  if (t == NULL || !ATOMIC_LOAD_RELAXED(&t->noroots))
    return false;
  ATOMIC_STORE(&t->noroots, 0);
  return true;
}
static void program_code_end(mcache *c, bool was) {
  if (was)
    ATOMIC_STORE(&c->thr->noroots, 1);
}

static void collect_as(mcache *c, int why) {
  /* One that fell due (the goal, the heap's cap, an idle interval) waits
   * until fn returns: the allocation goes on, past the goal, or fails at
   * SPANGC_MAX_HEAP.  (Before: the thread waited for itself for ever.) */
  if (without_collections > 0)
    return;
  bool force = why == COLLECT_FORCED || why == COLLECT_FORCED_CONC;
  int (*hook)(int) = ATOMIC_LOAD(&collect_hook);
  if (hook) {
    bool pc = program_code_begin(c);
    int skip = hook(force);
    program_code_end(c, pc);
    if (skip && !force)
      return;
  }
  uint64_t seen = ATOMIC_LOAD(&gc.numgc);
  sgc_enter_blocking();
  sgc_wrlock(&hold_lock);
  sgc_lock(&gc_lock);
  sgc_exit_blocking();
  if (still_due(why, seen)) {
    void (*sh)(void) = ATOMIC_LOAD(&start_hook);
    if (sh) {
      bool pc = program_code_begin(c);
      sh();
      program_code_end(c, pc);
    }
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
  /* The unprotect calls its walk decided, now that the next collection
   * need not wait for them (rule:unprotect-calls-after-gc-lock). */
  run_as_blocking(dirty_unprotect_calls);
}

/* Collect from inside the allocator: step out of its no-preempt region
 * (parking first if a stop is pending), collect, step back in.  With
 * 'complete', the sweep is finished too. */
static void collect_from_allocator(mcache *c, int why, bool complete) {
  int np = nopreempt_step_out(c);
  collect_as(c, why);
  if (complete)
    sweep_complete();
  nopreempt_step_in(c, np);
}

/* An assist (mark_assist) from inside the allocator, stepped out of its
 * no-preempt region as for a collection.  Each one scans ASSIST_BUDGET
 * bytes, about 64 times what the allocator takes between two calls of
 * gc_maybe_collect, so a thread past the goal allocates at a small
 * fraction of the speed it marks. */
#define ASSIST_BUDGET ((uint64_t)512 << 10)
#define ASSIST_HOLD_NS 20000 /* 20 us asked; about 70 with timer slack */
static bool assist_from_allocator(mcache *c, bool may_overshoot,
                                  uint64_t budget, bool hold) {
  if (!conc_running())
    return false;
  /* On a fiber, whose stack may be 16 KiB with little left: an assist
   * scans on the program's stack, and calling a mark procedure takes a
   * 4 KiB frame (the adversarial review, from -fstack-usage).  No
   * assist: within the overshoot it allocates, past it it waits. */
  if (c->thr != NULL && c->thr->cur != &c->thr->home)
    return may_overshoot;
  int np = nopreempt_step_out(c);
  bool ok;
  if (budget) {
    int64_t r = mark_assist(budget, false);
    ok = r >= 0;
    if (r < 0 && hold) /* phase not open, far ahead: held back */
      sleep_as_blocking(ASSIST_HOLD_NS); /* as conc_assist's polls */
  } else {
    ok = conc_assist(ASSIST_BUDGET, may_overshoot);
  }
  nopreempt_step_in(c, np);
  return ok;
}

/* The pressure counts the fiber stack bytes taken since the last
 * collection ended as allocated, past a room of GOGC% of the stacks in
 * use then (mheap.stack_free): a suspended fiber's stack goes back only when a
 * collection finds its object dead, and the object is small (a program
 * making fibers with 1 MiB stacks and dropping them counted 200 bytes
 * for each, and in concurrent mode 600 MiB of stacks piled up between
 * collections).  The room is the stacks' own, as the goal's is the
 * heap's: without it a program keeping N fibers alive collected every
 * few MiB of new stacks, each collection scanning them all (20000
 * fibers: 1250 collections, 3x the time).  A fiber that returns frees
 * its stack at once, so fibers made and finished add nothing. */
uint64_t gc_heap_pressure(void) {
  int64_t v = ATOMIC_LOAD(&sgc_heap.heap_live) +
              ATOMIC_LOAD(&sgc_heap.freed_pending);
  uint64_t stacks = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack) * PAGE_SIZE;
  uint64_t allowed = ATOMIC_LOAD_RELAXED(&sgc_heap.stack_free);
  if (stacks > allowed)
    v += (int64_t)(stacks - allowed);
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
    /* During a concurrent collection, marking in proportion to what was
     * allocated past the pacing's line (conc_assist_owed). */
    if (conc_running()) {
      bool far;
      uint64_t owed = conc_assist_owed(p, &far);
      if (owed)
        assist_from_allocator(c, true, owed, far);
    }
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
  if (assist_from_allocator(c, p < ATOMIC_LOAD(&sgc_next_gc) / 16 * 17, 0,
                            false))
    return;
  /* The collection it waited for may have ended, setting a new goal:
   * collect_as would wait on gc_lock for the collector's work after the
   * restart (the unprotect calls) only to find the collection done. */
  if (gc_heap_pressure() < ATOMIC_LOAD(&sgc_next_gc))
    return;
  collect_from_allocator(c, COLLECT_DUE, false);
}

/* The concurrent collector thread (concurrent.c), woken at the trigger. */
void gc_collect_concurrent(mcache *c, bool idle) {
  collect_as(c, idle ? COLLECT_IDLE_CONC : COLLECT_CONC);
}

/* A span allocation of npages failed: the heap ran into sgc_set_max_heap,
 * or it could not grow (the arena's end, or the OS refusing memory: strict
 * overcommit, a ulimit -v; bdwgc collects then too).  Collect and sweep
 * everything, so that the freed pages can be reused: at the limit even
 * when collections are disabled, as a last resort before failing
 * (spangc.h); otherwise only as a collection that fell due would be, not
 * while disabled nor against the collect hook (a program that disables
 * collections to hide pointers lost its objects when this collected
 * regardless: the review of a2d7b98; bdwgc too only expands while
 * GC_dont_gc is set).  The caller then tries its allocation again, and
 * calls back with 'tries', the calls made so far, while it fails: another
 * collection is made if the last one freed at least npages of spans and,
 * under a limit, its live data left room for the request, at most
 * GC_ROOM_TRIES in all.  Then the heap had room for the request after
 * that collection, and other threads took it before this one got there
 * (an adversarial review's four churning threads at six times their live
 * data under a limit: 100-270 failures a run with one try each).  A
 * collection that freed less leaves a heap full of live data or of
 * spans that each keep a live object (fragmented: the live
 * bytes alone said there was room, and each failure made four
 * collections that freed nothing, 150 ms a failure at 64 MiB, 1.4 s at
 * 256 MiB; the second review).  The bound is for storms of threads: with
 * 4 tries, one run in about 65 of
 * max_heap_churning_threads_never_fail_while_live_data_fits still failed
 * an allocation whose every collection freed room (471 pages for an
 * 8-page request) that the others took first; with 8, none in 60.  A
 * request larger than the arena or the limit fails at once.  False:
 * fail. */
#define GC_ROOM_TRIES 8
static __thread uint64_t room_freed_pages; /* by this thread's last one */

bool gc_collect_for_room(mcache *c, uintptr_t npages, int tries) {
  uint64_t max = gc_max_heap();
  uint64_t arena = sgc_heap.arena_end - sgc_heap.arena_start;
  if (tries >= GC_ROOM_TRIES || npages > arena / PAGE_SIZE ||
      (max != 0 && npages > max / PAGE_SIZE))
    return false;
  /* Without mheap.lock (the failed allocation let it go): a stale
   * answer only picks the other kind of collection. */
  bool at_limit = gc_over_max_heap(npages);
  if (!at_limit && ATOMIC_LOAD_RELAXED(&gc.disabled))
    return false;
  if (tries > 0) {
    uint64_t need = ATOMIC_LOAD_RELAXED(&gc.last_heap_after) +
                    (ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack) + npages) *
                        PAGE_SIZE;
    if (room_freed_pages < npages || (max != 0 && need > max))
      return false; /* no room was made: out of memory */
  }
  /* Pages freed from the collection's start to the end of its sweep
   * (other threads' frees meanwhile too: they made room as well; their
   * allocations do not hide what was freed). */
  uint64_t before = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_freed);
  collect_from_allocator(c, at_limit ? COLLECT_FORCED : COLLECT_ROOM, true);
  room_freed_pages = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_freed) - before;
  return true;
}

/* What the hard limit weighs: the pages of spans in use, fiber stacks'
 * too (they are in-use spans as well, spangc.h).  Atomic loads:
 * gc_collect_for_room asks without mheap.lock. */
static uint64_t pages_held(void) {
  return ATOMIC_LOAD_RELAXED(&sgc_heap.pages_inuse) +
         ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack);
}

bool gc_over_max_heap(uintptr_t more_pages) {
  uint64_t max = ATOMIC_LOAD_RELAXED(&gc.max_heap);
  return max != 0 && (pages_held() + more_pages) * PAGE_SIZE > max;
}

bool gc_far_below_max_heap(unsigned div) {
  uint64_t max = ATOMIC_LOAD_RELAXED(&gc.max_heap);
  return max == 0 || pages_held() * PAGE_SIZE <= max / div;
}

uint64_t gc_max_heap(void) { return ATOMIC_LOAD_RELAXED(&gc.max_heap); }

/* --------------------------------------------------------------- public */

void sgc_collect(void) {
  if (without_collections > 0)
    sgc_fatal("sgc_collect: called inside sgc_call_without_collections "
              "(%d deep), whose fn must not collect: no collection can "
              "start before fn returns", without_collections);
  mcache *c = mcache_get();
  if (c == NULL)
    return;
  /* With concurrent marking on, the calling thread runs the concurrent
   * phase itself while the other threads run (as Go's runtime.GC). */
  collect_as(c, conc_enabled() ? COLLECT_FORCED_CONC : COLLECT_FORCED);
  /* An explicit collection also finishes its sweep (the world runs; the
   * background sweeper helps), so that what it freed is free on return:
   * spans the background sweeper parked meanwhile too. */
  sweep_complete();
  nopreempt_enter(c);
  mcentral_unpark_all();
  nopreempt_leave(c);
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

void *sgc_call_without_collections(void *(*fn)(void *), void *arg) {
  sgc_ensure_init();
  /* The thread's read hold is counted: taken by the call that finds
   * none outstanding on this thread, released by whichever returns last.
   * Not by the outermost call: with fibers, calls on one thread need not
   * nest (a fiber may enter one inside another's fn and still be in it
   * when that returns; the review of 7fdf170 saw a collection run inside
   * the second fn). */
  /* The running fiber cannot be resumed on another thread until fn
   * returns (fiber.c, fiber_hold_begin): the count and the hold are this
   * thread's. */
  sgc_fiber *f = fiber_hold_begin();
  if (without_collections > 0) {
    without_collections++;
    void *r = fn(arg);
    if (--without_collections == 0)
      sgc_rwunlock(&hold_lock);
    fiber_hold_end(f);
    return r;
  }
  if (!sgc_rdlock_if_free(&hold_lock)) {
    /* A collection holds it: wait as a stopped thread would. */
    mcache *c = sgc_tls_cache;
    bool reg = c && c->thr && c->thr->state != THR_BLOCKING;
    if (reg)
      sgc_enter_blocking();
    sgc_rdlock(&hold_lock);
    if (reg)
      sgc_exit_blocking();
  }
  without_collections++;
  void *r = fn(arg);
  if (--without_collections == 0)
    sgc_rwunlock(&hold_lock);
  fiber_hold_end(f);
  return r;
}

/* A thread that exits inside fn (pthread_exit there, or a fiber it ran
 * still suspended inside one) would keep its read hold for ever: no
 * collection could start again.  At the thread's exit (mcache.c's
 * destructor), not at sgc_unregister_thread, which fn may call: the hold
 * and the count are the thread's, not its registration's. */
void gc_thread_exit_check(void) {
  if (without_collections > 0)
    sgc_fatal("thread exits inside sgc_call_without_collections (%d "
              "calls not returned: fn called pthread_exit, or a fiber is "
              "suspended inside fn); no collection could start again",
              without_collections);
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

/* The threads collections work with (the helper markers, the background
 * sweeper, the concurrent collector), made ahead of the first collection
 * by the scavenger, spangc's first thread, as it starts: otherwise the
 * thread whose allocation triggers the first collection creates them,
 * three pthread_creates in its allocation (0.4-0.6 ms of the pause
 * test's first collection, 2.3 ms in all, on these machines).  Under
 * gc_lock, so that no collection runs meanwhile: none is stopping the
 * world while a thread is created here (pthread_create takes libc locks
 * that a stopped thread may hold, and helper.lock is held across it).
 * A collection that comes first makes them itself, as before; whoever
 * comes second finds them made. */
void gc_start_background(void) {
  sgc_lock(&gc_lock);
  (void)mark_markers_for_cycle(ATOMIC_LOAD_RELAXED(&gc.nmarkers));
  bgsweep_start();
  conc_ensure_thread();
  sgc_unlock(&gc_lock);
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
void publish_stats(void) {
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
      /* In a no-preempt region (rule:no-stop-holding-lock): a reader
       * parked by the final stop while it held stats_lock held up the
       * other readers, and under ThreadSanitizer, whose signals wait
       * until pthread_mutex_lock returns, the stop itself (CI: both
       * threads of conc_assists_bound_the_heap_and_lose_nothing, which
       * read the figures, blocked there; the stop waited for ever). */
      mcache *c = nopreempt_enter_any();
      sgc_lock(&stats_lock);
      *st = published;
      test_hook_run(&sgc_test_stats_hook);
      sgc_unlock(&stats_lock);
      nopreempt_leave_any(c);
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
    /* The prepare handler takes hold_lock for writing: no thread is
     * inside sgc_call_without_collections across a fork, so the child
     * never starts with some fn's work half done (the bdwgc layer's
     * GC_remove_roots cuts and restores root ranges in one).  A thread
     * forking from inside fn holds it for reading and would wait for
     * itself: refused, clearly. */
    if (without_collections > 0)
      sgc_fatal("fork() called inside sgc_call_without_collections's "
                "function (%d deep; GC_call_with_alloc_lock runs its "
                "function there too): not supported, fork after the call "
                "returns", without_collections);
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
    /* A walk put off is made here, in the parent: the child's descriptor
     * is the parent's userfaultfd (rule:unprotect-walk-off-the-allocator).
     * Its calls are made by the parent after the fork (fork.c); the
     * child drops them (dirty_atfork_child). */
    gen_restarted_pending();
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
  if (e && *e) {
    /* Strictly "off" or a whole number: atoi read a typo as 0, a
     * collection at every allocation. */
    char *end;
    long v = strcmp(e, "off") == 0 ? -1 : strtol(e, &end, 10);
    if (v != -1 && (!isdigit((unsigned char)*e) || *end != 0 || v > INT_MAX))
      sgc_fatal("SPANGC_GOGC=%s: expected a whole number (percent of the "
                "live heap, e.g. 100) or off",
                e);
    gc.gcpercent = (int)v;
  }
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
  if (gc.verify)
    mark_verify_init();
  /* As SPANGC_MEMLIMIT: a suffix read as plain bytes made "64M" a limit
   * of 64 bytes, every allocation refused. */
  e = sgc_option("SPANGC_MAX_HEAP");
  if (e && *e && !memlimit_parse(e, &gc.max_heap))
    sgc_fatal("SPANGC_MAX_HEAP=%s: expected a number of bytes with an "
              "optional K, M, G, KiB, MiB or GiB suffix (e.g. 512MiB), "
              "or 0 for no limit", e);
  memlimit_init();
  conc_init();
  if (gc.trace)
    gctrace_start(gc.nmarkers, gc.gcpercent);
}
