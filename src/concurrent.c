/*
 * concurrent.c — mostly-concurrent major collections (SPANGC_CONCURRENT=1):
 * when they start, the thread that runs them, and the heap's protection
 * before their first stop.  collect.c sequences the collection itself
 * (collect_concurrent); markconc.c has the concurrent drain and the
 * assists.
 *
 * The protocol (Boehm, Demers and Shenker's mostly-parallel collection,
 * with the kernel's write tracking, dirty.c, in place of a write barrier;
 * docs/design.md, "The concurrent mark"):
 *   0. world running: the previous sweep is finished, and every page of an
 *      in-use span of a scanned kind is write-protected (conc_protect_heap);
 *   1. initial stop: caches flushed, snapshot, marks cleared, the roots
 *      marked into work buffers, mheap.concmark set;
 *   2. concurrent phase: the collector thread drains the buffers while the
 *      program runs; mark procedures are not called but deferred;
 *   3. final stop: caches flushed (freed lists and free slots unmarked),
 *      the pages not protected listed;
 *      a mark from the marks there are, like a minor collection's: the
 *      roots again, every marked object on a listed page, the deferred
 *      items; then weak slots, finalizers, the sweep generation.
 * Why nothing reachable at the final stop stays unmarked: an object
 * scanned in phase 2 was scanned after its page was protected, so a
 * pointer stored into it later left its page listed; every unprotected
 * page is listed; the roots are read in the stop.  An object allocated
 * during the mark is not marked then: if it is still reachable at the
 * final stop, a root or a written page leads to it.
 *
 * Pacing: the collection starts when the heap reaches the trigger, the
 * goal less what the program will allocate before the final stop, a
 * quarter more: the larger of what it allocated during the last
 * concurrent cycle and its allocation rate (measured between collections,
 * when nothing holds it up) times that cycle's length; twice the last
 * margin after a cycle whose heap reached its goal (then a thread was
 * held up and the cycle's own figure undercounts).  Within a tenth and
 * nine tenths of the room above the live heap.  Only when the next major
 * mark is expected to take CONC_MIN_MARK_NS or more, at the speed majors
 * marked so far (a shorter one stays stop-the-world: its pause is short
 * already).  The first collection is concurrent too, at half the first
 * goal (conc.first: no mark speed is known yet).
 * Idle collections (pacer.c) are concurrent too, run by the collector
 * thread (conc_start_idle).  During the cycle a thread allocating ahead
 * of the mark's progress assists in proportion (conc_assist_owed), and
 * during a pre-cleaning round every allocating thread pays a share of
 * its rescan; a thread reaching the goal assists or waits
 * (conc_assist), which keeps GOGC and SPANGC_MAX_HEAP.  In generational
 * mode only majors are concurrent: minors stay stop-the-world while
 * they are short (generation.c).
 *
 * Threads: one collector thread, started after the first collection once
 * the mode is on; a registered thread, waiting in a blocking region.
 * conc.lock guards the wake-up count and the thread's start (rank:
 * lockrank.h); trigger and woken are atomic; the pacing figures belong
 * to whoever holds gc_lock.
 */
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "spangc-int.h"

/* Half the 1 ms a stop may take: a stop-the-world major expected to mark
 * for less pauses under 1 ms.  It was 2 ms until session 50, when the
 * pause test's majors of 0.5-1.3 ms marks, stopping the world, were its
 * slowest pushes (design.md, "The concurrent mark", has the trials). */
#define CONC_MIN_MARK_NS ((uint64_t)500000)

static struct {
  sgc_mutex lock;
  pthread_cond_t cond;
  uint64_t wakes;   /* conc.lock: bumped to start a collection */
  int started;      /* conc.lock: the collector thread exists */
  bool enabled;     /* SPANGC_CONCURRENT=1 with write tracking */
  uint64_t trigger; /* atomic: heap pressure that starts one; 0: none */
  int first;        /* atomic: no collection yet; half the goal starts one */
  int woken;        /* atomic: woken for the current trigger */
  /* gc_lock: the last concurrent cycle's figures (conc_note_cycle) */
  uint64_t cycle_alloc; /* bytes allocated between its stops */
  uint64_t cycle_ns;    /* from its start to its final stop */
  bool reached_goal;    /* its heap reached the goal before the final stop */
  uint64_t need;        /* the margin below the goal it started at */
  uint64_t ncollections, mark_ns;
  uint64_t nassists, assist_ns; /* every cycle's, for sgc_read_stats */
  uint64_t expect_ns; /* atomic: the next major's mark, expected */
  int idle;           /* atomic: an idle collection is wanted */
  int running;        /* atomic: a concurrent collection is under way */
  int final_over;     /* atomic: its final stop is over (conc_note_ended) */
  uint64_t ended;     /* atomic: concurrent collections ended, ever */
  uint64_t marked;    /* gc_lock: what the last collection marked */
  uint64_t last_work; /* gc_lock: the last concurrent cycle's progress */
  /* gc_lock: what the collection before it marked (the heap it paced
   * itself by), and the same for the cycle under way */
  uint64_t last_marked, pace_marked;
  /* The cycle under way (conc_pace_begin; atomic): the heap pressure at
   * its start, its goal, the marking it is expected to do. */
  uint64_t pace_start, pace_goal, pace_work;
} conc SGC_NOGC = {SGC_MUTEX_INIT(CONC), PTHREAD_COND_INITIALIZER};

void conc_init(void) {
  const char *e = sgc_option("SPANGC_CONCURRENT");
  bool want = false;
  if (e && *e) {
    if (strcmp(e, "0") != 0 && strcmp(e, "1") != 0)
      sgc_fatal("SPANGC_CONCURRENT=%s: expected 0 or 1", e);
    want = strcmp(e, "1") == 0;
  }
  conc.enabled = want && dirty_mechanism() != DIRTY_OFF;
  ATOMIC_STORE_RELAXED(&conc.first, conc.enabled ? 1 : 0);
  sgc_record_frees = sgc_sticky || conc.enabled;
  if (want && !conc.enabled)
    sgc_warn("SPANGC_CONCURRENT=1: the kernel's write tracking is off or "
             "refused (SPANGC_DIRTY); collections stop the world");
}

bool conc_enabled(void) { return conc.enabled; }

/* What the program will allocate before the final stop of the next
 * concurrent cycle, margin included (see Pacing above).  A heap still
 * growing makes the next cycle longer than the last: its figures are
 * scaled by how much the heap grew across the last cycle (what it
 * marked against what the collection before it had), up to 4 times
 * (the pause test's window filling up, the live heap doubling at every
 * cycle: each cycle, paced by the last one's length, reached the goal a
 * third of the way through its mark and the program waited 10-30 ms). */
#define CONC_GROWTH_MAX 4
static uint64_t conc_margin(uint64_t alloc_rate, uint64_t marked) {
  uint64_t ns = conc.cycle_ns;
  if (ns == 0) /* no concurrent cycle yet: one marker, twice the stop's */
    ns = ATOMIC_LOAD_RELAXED(&conc.expect_ns) * 2;
  uint64_t est =
      (uint64_t)((unsigned __int128)alloc_rate * ns / 1000000000u);
  uint64_t need = conc.cycle_alloc > est ? conc.cycle_alloc : est;
  uint64_t before = conc.last_marked;
  if (conc.cycle_ns != 0 && before > 0 && marked > before)
    need = marked >= before * CONC_GROWTH_MAX
               ? need * CONC_GROWTH_MAX
               : (uint64_t)((unsigned __int128)need * marked / before);
  need += need / 4;
  if (conc.reached_goal && need < conc.need * 2)
    need = conc.need * 2;
  return need;
}

void conc_set_trigger(uint64_t marked, uint64_t goal, bool major_next,
                      uint64_t alloc_rate, uint64_t mark_rate) {
  ATOMIC_STORE(&conc.first, 0);
  ATOMIC_STORE(&conc.woken, 0);
  uint64_t before = conc.marked;
  conc.marked = marked;
  /* The next major's mark, at the speed majors have marked so far, of
   * a heap grown since by as much as it grew across the last collection
   * (up to CONC_GROWTH_MAX times): while the pause test's window fills,
   * the live heap doubles at every cycle, and its 24 MB major, expected
   * from the 12 MB before it at 1.7 ms, stopped the world 3.3 ms. */
  uint64_t expect =
      mark_rate ? (uint64_t)((unsigned __int128)marked * 1000000000u /
                             mark_rate)
                : 0;
  if (before > 0 && marked > before)
    expect = marked >= before * CONC_GROWTH_MAX
                 ? expect * CONC_GROWTH_MAX
                 : (uint64_t)((unsigned __int128)expect * marked / before);
  ATOMIC_STORE_RELAXED(&conc.expect_ns, expect);
  /* A heap whose whole mark takes less than CONC_MIN_MARK_NS is marked
   * with the world stopped: that pause is already short, and a concurrent
   * collection's fixed costs (protecting, listing, two stops, the
   * collector thread's hand-over) would dominate it. */
  /* Nor under a memory limit that lowered the goal: the limit leaves no
   * room for the margin a concurrent mark starts ahead by, and its one
   * marker, running nearly all the time, filled the CPU cap's bucket, so
   * collections were put off and the heap went to GOGC's goal
   * (memlimit_bounds_rss_with_live_below_it: 245 MiB held under a 160
   * MiB limit, against 162 MiB stopping the world). */
  if (!conc.enabled || !major_next || goal <= marked ||
      expect < CONC_MIN_MARK_NS || memlimit_lowered()) {
    ATOMIC_STORE(&conc.trigger, 0);
    return;
  }
  uint64_t room = goal - marked;
  uint64_t need = conc_margin(alloc_rate, marked);
  if (need > room / 10 * 9)
    need = room / 10 * 9;
  if (need < room / 10)
    need = room / 10;
  conc.need = need;
  ATOMIC_STORE(&conc.trigger, goal - need);
}

void conc_note_cycle(uint64_t cycle_ns, uint64_t mark_ns, uint64_t allocated,
                     bool reached_goal, uint64_t nassists,
                     uint64_t assist_ns) {
  conc.ncollections++;
  conc.mark_ns += mark_ns;
  conc.nassists += nassists;
  conc.assist_ns += assist_ns;
  conc.cycle_ns = cycle_ns;
  conc.cycle_alloc = allocated;
  conc.last_work = mark_progress();
  conc.last_marked = conc.pace_marked;
  conc.reached_goal = reached_goal;
}

bool conc_worth(void) {
  return conc.enabled &&
         ATOMIC_LOAD_RELAXED(&conc.expect_ns) >= CONC_MIN_MARK_NS;
}

uint64_t conc_room_wanted(uint64_t alloc_rate, uint64_t marked) {
  return conc_worth() ? conc_margin(alloc_rate, marked) : 0;
}

bool conc_start_idle(void) {
  if (!conc_worth() || ATOMIC_LOAD_RELAXED(&conc.idle))
    return conc_worth();
  sgc_lock(&conc.lock);
  bool started = conc.started;
  if (started) {
    ATOMIC_STORE(&conc.idle, 1);
    conc.wakes++;
    pthread_cond_signal(&conc.cond);
  }
  sgc_unlock(&conc.lock);
  return started;
}

void conc_set_running(bool on) {
  if (on)
    ATOMIC_STORE(&conc.final_over, 0);
  ATOMIC_STORE(&conc.running, on ? 1 : 0);
}

void conc_note_ended(void) {
  ATOMIC_STORE(&conc.final_over, 1);
  ATOMIC_ADD(&conc.ended, 1);
}

bool conc_running(void) { return ATOMIC_LOAD_RELAXED(&conc.running) != 0; }

/* A thread past the goal while a concurrent collection is under way:
 * it assists if the phase is open.  Within the overshoot the goal allows
 * (may_overshoot) it then allocates, assisted or not.  Past it, each call
 * must scan the whole budget before it allocates again: when it finds
 * less work (other markers hold the rest) or the phase is not open (step
 * 0, the stops, the pre-cleaning), it waits for more, for the phase or
 * for the collection's end (an assist that found nothing bought an
 * allocation once, and two threads ran the heap 20% past the cap: found
 * by conc_assists_bound_the_heap_and_lose_nothing).  So past the cap the
 * heap grows by at most a refill per budget of the mark's work.  The
 * wait sleeps outside any no-preempt region, so a stop stops it like any
 * thread.  False once the collection it came in is over, even if another
 * began meanwhile (the caller then weighs the new goal; a thread that
 * waited for the whole budget across back-to-back collections stalled
 * 0.35 s): it collects or waits as usual. */
bool conc_assist(uint64_t budget, bool may_overshoot) {
  uint64_t paid = 0;
  uint64_t ended = ATOMIC_LOAD(&conc.ended);
  for (;;) {
    int64_t r = mark_assist(budget - paid, true);
    if (may_overshoot)
      return true;
    if (r > 0)
      paid += (uint64_t)r;
    if (paid >= budget)
      return true;
    /* Over once its final stop is: a thread that came in after that
     * (the count already raised) would otherwise poll through the
     * unprotect calls until the collection stops running (found by the
     * adversarial review, from reading). */
    if (!ATOMIC_LOAD(&conc.running) || ATOMIC_LOAD(&conc.ended) != ended ||
        ATOMIC_LOAD(&conc.final_over))
      return false;
    /* In a blocking region: a stop need not reach this thread by its
     * signal (under ThreadSanitizer a thread polling here missed a final
     * stop's signal, and the stop waited for ever; entering the region
     * answers a stop under way). */
    sleep_as_blocking(50000); /* 50 us */
  }
}

/* Proportional assists (Go's mark assists, with one shared account
 * instead of a debt per goroutine): between the cycle's start and the
 * goal, the heap may have grown by the fraction of the expected marking
 * done so far; a thread allocating past that line, by more than a
 * thirty-second of the run, marks in proportion to how far past it is
 * (up to ASSIST_STEP at a time) before it goes on.  The expected work
 * (conc_pace_begin) counts what the mark will reach, including what the
 * program allocates meanwhile, and the pre-cleaning's rescans.  An assist
 * that finds no work (the collector holds it all) costs nothing and the
 * thread goes on.  One that finds the phase not open (step 0's sweep and
 * protection, a pre-cleaning round's listing and protection) does too,
 * unless it is far ahead of the line, by an eighth of the run: then it
 * sleeps a moment (ASSIST_HOLD_NS, gc.c) before it allocates, somewhat
 * as Go parks an assist that finds no work.  Its allocation slows to a
 * few hundred MB/s until the phase opens, instead of running on to the
 * goal, where it would wait for the rest of the mark at once (the
 * scanned pause test: step 0 protecting 400 MB for 10-25 ms while the
 * program allocated 1.3 GB/s, then pushes of 10-30 ms at the goal).
 * Held back also when the collector merely holds the work, binary-trees
 * ran 10% slower with more majors.  At the goal the waits of
 * conc_assist take over (rule:assists-end-before-the-stop). */
#define ASSIST_STEP ((uint64_t)64 << 10)
#define PRECLEAN_TAX ((uint64_t)32 << 10)
void conc_pace_begin(void) {
  /* What the last collection marked, and what the program allocates
   * during this one (conc.need, the trigger's margin): objects allocated
   * during the mark are reached and marked too; or, when more, what the
   * last concurrent cycle did before its final stop (its marking and its
   * pre-cleaning's rescans), scaled by how much the heap grew since
   * (while a program's heap grows, the last cycle's work was a smaller
   * heap's: 168 MB expected 101, then 345 MB expected 210, and the heap
   * reached the goal). */
  uint64_t work = conc.marked + conc.need;
  uint64_t last = conc.last_work;
  if (conc.last_marked > 0 && conc.marked > conc.last_marked)
    last = (uint64_t)((unsigned __int128)last * conc.marked /
                      conc.last_marked); /* the heap grew since */
  if (work < last)
    work = last;
  conc.pace_marked = conc.marked;
  if (work < ((uint64_t)1 << 20))
    work = (uint64_t)1 << 20;
  ATOMIC_STORE(&conc.pace_work, work);
  ATOMIC_STORE(&conc.pace_goal, ATOMIC_LOAD(&sgc_next_gc));
  ATOMIC_STORE(&conc.pace_start, gc_heap_pressure());
}

uint64_t conc_assist_owed(uint64_t p, bool *far) {
  /* During a pre-cleaning round every allocating thread pays a share
   * of the rescan, whatever the pacing says: what it writes meanwhile
   * is the next round's work, and the final stop's; the rounds shrink
   * only if the rescan outruns the writing (the pause test: a thread
   * allocating 1.2 GB/s of pointer objects against one collector
   * rescanning 3 GB/s left 30 MB to the final stop). */
  uint64_t tax = mark_precleaning() ? PRECLEAN_TAX : 0;
  *far = false;
  uint64_t start = ATOMIC_LOAD_RELAXED(&conc.pace_start);
  uint64_t goal = ATOMIC_LOAD_RELAXED(&conc.pace_goal);
  uint64_t need = ATOMIC_LOAD_RELAXED(&conc.pace_work);
  if (goal <= start || p <= start || need == 0)
    return tax;
  /* The last sixteenth of the run is the mark's end's: an estimate
   * short of the real work keeps assists going to the end instead of
   * letting the heap reach the goal before the mark is done. */
  uint64_t run = goal - start, done = mark_progress();
  if (done > need / 16 * 15)
    done = need / 16 * 15;
  uint64_t line = start + (uint64_t)((unsigned __int128)run * done / need) +
                  run / 32;
  if (p <= line)
    return tax;
  *far = p - line > run / 8;
  uint64_t owed = (uint64_t)((unsigned __int128)(p - line) * need / run);
  if (owed < tax)
    owed = tax;
  return owed < ASSIST_STEP ? owed : ASSIST_STEP;
}

/* Before the first collection no mark speed is known: it starts at half
 * the first goal, read here so that sgc_expand_heap's raise counts (the
 * pause test's first collection, of 4 MB, stopped the world 1.5-1.9 ms:
 * the mark, and the first touch of the collector's own memory). */
bool conc_due(uint64_t pressure) {
  uint64_t t = ATOMIC_LOAD_RELAXED(&conc.trigger);
  if (t == 0 && ATOMIC_LOAD_RELAXED(&conc.first))
    t = ATOMIC_LOAD_RELAXED(&sgc_next_gc) / 2;
  return t != 0 && pressure >= t;
}

void conc_poll(uint64_t pressure) {
  if (!conc_due(pressure) || ATOMIC_LOAD_RELAXED(&conc.woken))
    return;
  int expected = 0;
  if (!ATOMIC_CAS(&conc.woken, expected, 1))
    return;
  sgc_lock(&conc.lock);
  if (conc.started) {
    conc.wakes++;
    pthread_cond_signal(&conc.cond);
  }
  sgc_unlock(&conc.lock);
}

static void *conc_main(void *arg) {
  (void)arg;
  if (sgc_register_thread() != 0) {
    sgc_warn("cannot register the concurrent collector (out of memory); "
             "collections stop the world");
    sgc_lock(&conc.lock);
    conc.started = 0;
    sgc_unlock(&conc.lock);
    return NULL;
  }
  mcache *c = sgc_tls_cache;
  /* No roots on its stack but while it runs the program's hooks (gc.c
   * program_code_begin): as the background sweeper's (sweep.c), what it
   * holds are addresses the heap reuses. */
  ATOMIC_STORE(&c->thr->noroots, 1);
  uint64_t seen = 0;
  /* Its short sleeps (between protect calls, dirty.c) as asked: the
   * default slack of 50 us made each 20 us sleep about 70, 6 ms of a
   * 600 MB heap's protection. */
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  for (;;) {
    sgc_enter_blocking();
    sgc_lock(&conc.lock);
    while (conc.wakes == seen)
      sgc_cond_wait(&conc.cond, &conc.lock);
    seen = conc.wakes;
    sgc_unlock(&conc.lock);
    sgc_exit_blocking();
    gc_collect_concurrent(c, __atomic_exchange_n(&conc.idle, 0,
                                                 __ATOMIC_SEQ_CST) != 0);
  }
  return NULL;
}

/* After a collection (not in a stop: pthread_create takes libc locks a
 * stopped thread may hold). */
void conc_ensure_thread(void) {
  if (!conc.enabled)
    return;
  sgc_lock(&conc.lock);
  bool start = !conc.started;
  conc.started = 1;
  sgc_unlock(&conc.lock);
  if (!start)
    return;
  /* conc_main registers itself (it stops with the others). */
  int err = os_start_detached(conc_main, NULL, 0, "spangc-conc");
  if (err != 0) {
    sgc_warn("cannot start the concurrent collector (%s); collections stop "
             "the world", strerror(err));
    sgc_lock(&conc.lock);
    conc.started = 0;
    sgc_unlock(&conc.lock);
  }
}

/* Of a large object of the conservative kind, only the pages that hold
 * data are protected: an unpopulated page protected gets the kernel's
 * marker, which pagemap_populated reports as swapped, and the markers
 * would read it, a fault each (an 8 MiB object written on five pages was
 * read whole by every concurrent cycle).  Unprotected, it is listed at
 * the final stop, where push_populated passes over it while it is still
 * untouched (rule:list-more-never-less).  If the kernel cannot tell, all
 * of it is protected. */
static void protect_populated(uintptr_t lo, uintptr_t hi, bool exact) {
  dirty_run r[32];
  while (lo < hi) {
    uintptr_t walked;
    int n = pagemap_populated(lo, hi, r, 32, &walked);
    if (n < 0) {
      walked = hi;
      n = 1;
      r[0].lo = lo;
      r[0].hi = hi;
    }
    for (int i = 0; i < n; i++) {
      if (exact)
        dirty_protect_exact(r[i].lo, r[i].hi);
      else
        dirty_protect(r[i].lo, r[i].hi);
    }
    lo = walked;
  }
}

/* Protect the pages of in-use spans of scanned kinds in [lo, hi)
 * (exact: never pages outside it, see dirty_protect_exact).  The span
 * fields are read while mheap.c may rewrite them under its lock: a torn
 * or stale value only protects more or less than needed (see
 * conc_protect_heap), so the reads are racy by design and exempt from
 * ThreadSanitizer, like the markers' scanning. */
__attribute__((no_sanitize("thread")))
static void protect_scanned(uintptr_t lo, uintptr_t hi, bool exact) {
  mheap *h = &sgc_heap;
  uintptr_t used = ATOMIC_LOAD(&h->arena_used);
  if (hi > used)
    hi = used;
  for (uintptr_t p = lo; p < hi;) {
    mspan *s = ATOMIC_LOAD_RELAXED(
        &h->spans[(p - h->arena_start) >> PAGE_SHIFT]);
    uintptr_t end = (p & ~(PAGE_SIZE - 1)) + PAGE_SIZE;
    if (s != NULL && ATOMIC_LOAD(&s->state) == MSPAN_INUSE) {
      /* Plain reads, exempt from TSan (an atomic read is instrumented
       * even here, and these fields are written without atomics). */
      uintptr_t b = *(volatile uintptr_t *)&s->base;
      uintptr_t e = b + *(volatile uintptr_t *)&s->npages * PAGE_SIZE;
      if (b <= p && e > p && e <= used) {
        end = e;
        uint16_t sc = *(volatile uint16_t *)&s->spanclass;
        uintptr_t pe = end < hi ? end : hi;
        if (spanclass_noscan(sc)) {
          /* nothing to watch */
        } else if (read_where_populated(sc, *(volatile uint32_t *)&s->nelems,
                                        e - b)) {
          protect_populated(p, pe, exact);
        } else if (exact) {
          dirty_protect_exact(p, pe);
        } else {
          dirty_protect(p, pe);
        }
      }
    }
    p = end;
  }
}

/* Step 0, world running, gc_lock held: every page of an in-use span of a
 * scanned kind is protected.  The spans table is read without mheap.lock
 * (a span made or freed meanwhile only makes the protection cover more or
 * less than needed: a page left unprotected is listed at the final stop
 * anyway, rule:list-more-never-less).  Other pages stay unprotected, so
 * allocating into free and pointer-free spans costs the program no fault.
 * (rule:protect-before-scan) */
bool conc_protect_heap(void) {
  if (!dirty_track_begin())
    return false;
  protect_scanned(sgc_heap.arena_start, ATOMIC_LOAD(&sgc_heap.arena_used),
                  false);
  dirty_protect_flush();
  return true;
}


/* Pre-cleaning (after the concurrent drain, world running, gc_lock
 * held): list the pages not protected, protect the scanned spans' ones
 * again, then rescan their marked objects and drain; the final stop then
 * rescans only what was written since the last round.  The order is what
 * makes it safe (rule:preclean-protect-then-scan): a write before the
 * protection is seen by the rescan that follows it, a write after it
 * leaves the page listed at the final stop.  A round ends the
 * pre-cleaning before it protects anything when its listing holds at
 * most PRECLEAN_ENOUGH pages, or did not shrink by an eighth since the
 * round before; at most PRECLEAN_ROUNDS rounds.  The measure is the
 * pages listed, which includes pages never protected (unpopulated, or of
 * pointer-free or free spans): they are listed every round, so the set
 * can stop shrinking early (session 16's d94f803 counted the protected
 * pages instead; reverted in 1965d72 for a pacing side effect). */
#define PRECLEAN_ROUNDS 8
#define PRECLEAN_ENOUGH 256 /* pages: the final stop can take these */
#define PRECLEAN_GAP ((uintptr_t)8 * PAGE_SIZE)
bool conc_preclean(mark_result *res) {
  mheap *h = &sgc_heap;
  uint64_t last = UINT64_MAX;
  for (int r = 0; r < PRECLEAN_ROUNDS; r++) {
    const dirty_run *runs;
    uint32_t n;
    /* Not trusted (the registration was lost and made again since step
     * 0): writes may be missing from every later listing too, so the
     * caller makes the final stop rescan every marked object. */
    if (!dirty_list(h->arena_start, ATOMIC_LOAD(&h->arena_used), &runs, &n))
      return false;
    uint64_t pages = dirty_last_pages();
    if (pages <= PRECLEAN_ENOUGH || pages > last / 8 * 7)
      return true;
    last = pages;
    /* One protect call per run costs about 14 us (its TLB flush among
     * it): after a major freed slots all over the heap, 7500 runs of
     * three pages took 108 ms, and the round, too long, left 20000 pages
     * to the final stop.  Runs a few pages apart are merged: the pages
     * between them are protected and rescanned too, which keeps the rule
     * (a page protected here is rescanned after) at the cost of
     * rescanning pages nothing wrote. */
    n = dirty_merge_runs(PRECLEAN_GAP);
    for (uint32_t k = 0; k < n; k++)
      if (runs[k].categories & DIRTY_RUN_PRESENT)
        protect_scanned(runs[k].lo, runs[k].hi, true);
    dirty_protect_flush();
    mark_preclean(runs, n, res);
  }
  return true;
}

void conc_atfork(int phase) {
  if (phase == FORK_PREPARE) {
    sgc_lock(&conc.lock);
    return;
  }
  if (phase == FORK_CHILD) {
    conc.started = 0; /* the collector thread is the parent's */
    pthread_cond_init(&conc.cond, NULL);
  }
  sgc_unlock(&conc.lock);
}

void conc_read_stats(sgc_stats *st) {
  st->concurrent = conc.enabled;
  st->num_concurrent_gc = conc.ncollections;
  st->concurrent_mark_ns = conc.mark_ns;
  st->concurrent_assists = conc.nassists;
  st->concurrent_assist_ns = conc.assist_ns;
}
