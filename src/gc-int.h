/*
 * gc-int.h — the collector: dirty pages (dirty.c), generations
 * (generation.c, genprotect.c), the concurrent mark (concurrent.c), the
 * mark (mark.c and mark-int.h), the pacer, gc.c's sequencing and the
 * memory limit.  Part of the internal header: included by spangc-int.h,
 * after the heap's and the world's types, never on its own.  What each
 * lock guards: lockrank.h.
 */
#ifndef SPANGC_GC_INT_H
#define SPANGC_GC_INT_H
#ifndef SPANGC_INT_H
#error "gc-int.h is part of spangc-int.h: include that"
#endif

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
/* A growable array of [lo, hi) address ranges (its owner's lock guards
 * it); its memory counts in mheap.sys_meta. */
typedef struct range_list {
  uintptr_t (*r)[2];
  size_t n; /* read without the lock as a hint by some owners: atomic */
  size_t cap;
} range_list;
/* Appends [lo, hi); false, nothing changed, if there is no memory to
 * grow it.  dirty.c. */
bool range_list_push(range_list *l, uintptr_t lo, uintptr_t hi);

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
/* The same, put off (gc_lock held): dirty_unprotect_calls makes the call
 * once the caller has let go of gc_lock. */
void dirty_unprotect_later(uintptr_t lo, uintptr_t hi);
/* The calls put off, now (no gc_lock; run_as_blocking if registered). */
void dirty_unprotect_calls(void);
void dirty_atfork(int phase); /* fork.c: later.lock */
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
  bool aging;            /* a minor that keeps its age-0 survivors young
                            (aging.c) */
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
  uint64_t old_noscan; /* of old_bytes, in pointer-free objects (a final
                          stop's; 0 for a minor, which does not know) */
  bool old_counted; /* old_bytes, old_objects given (a final stop's) */
  /* Set before gen_end: old objects rescanned on written pages, and all
   * objects marked (old ones included). */
  uint64_t rescanned, marked_objects;
  uint64_t mark_ns; /* set before gen_end: this stop's mark */
  /* Set before gen_end: of the bytes marked, those in pointer-free
   * objects (a major's: all of them). */
  uint64_t noscan;
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
/* From now on the goal never falls below the largest one GOGC gave since
 * GOGC last changed (bdwgc's heap, which never shrinks: its layer calls
 * it; any thread, once, before or after sgc_init). */
void gen_hold_peak_goal(void);
/* Pointer-free live bytes weigh 1/div in the room above the live heap
 * (the bdwgc layer: 4; 0 or 1, the default: as much as the rest). */
void gen_weigh_pointer_free(uint32_t div);
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
 * since the collection that marked last_marked: heap_live is live_end at
 * the mark's end) are among the 'marked' bytes; reset once the world
 * restarts. */
bool age_sample_begin(void);
void age_sample_span(mspan *s);
bool age_sample_young_died(uint64_t last_marked, uint64_t live_end,
                           uint64_t marked);
void age_sample_reset(void);
/* aging.c: a minor keeps the young objects it reaches for the first time
 * young, unless an old object points to them. */
void aging_init(void); /* after gen_init */
/* World stopped, the collection chosen: does this one age? */
bool aging_begin(bool minor);
void aging_end(void); /* world stopped, after its mark */
bool aging_enabled(void);
/* The default when SPANGC_AGING is not set (the bdwgc layer: off). */
void aging_set_default(bool on);
/* Markers: will the heap object holding p be old after this minor (its
 * allocbit, or a large span)?  *end: where the answer stops holding (the
 * object's end; for memory outside the heap's objects, a bound no
 * greater than hi). */
bool aging_source_old(uintptr_t p, uintptr_t hi, uintptr_t *end);
void aging_add_promoted(uint64_t n); /* markers: age-0 objects promoted */
uint64_t aging_last_promoted(void);
void aging_note_kept(uint64_t bytes); /* sweeps: bytes kept young */
void aging_read_stats(sgc_stats *st);
/* The current sweep generation follows an aging minor (sweep.c). */
extern bool aging_sweep_young;
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
/* What the program would allocate during the next concurrent major
 * (the trigger's margin), 0 unless conc_worth (gc_lock held). */
uint64_t conc_room_wanted(uint64_t alloc_rate, uint64_t marked);
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
/* The same after a collection an allocating thread ran (due, idle): the
 * unprotect walk is left pending (gc_lock held) for the background
 * sweeper (gen_restarted_background, no lock held: a try of gc_lock) or
 * the next holder of gc_lock that lists pages or forks
 * (gen_restarted_pending, gc_lock held).  genprotect.c. */
void gen_restarted_later(void);
void gen_restarted_pending(void);
void gen_restarted_background(bool retry);
extern int unprotect_pending; /* atomic */
/* The kernel tracks writes per 4 KiB page, half of one of ours. */
#define KPAGE ((uintptr_t)4096)
/* genprotect.c: per kernel page, protected or hot (gen_init makes it). */
extern uint8_t *page_state;
/* genprotect.c: the unprotect calls a stop decided (gen_end asks for them),
 * made after the restart (gen_restarted); gc_lock held. */
typedef struct gen_unprotect {
  range_list ranges; /* [lo, hi) addresses */
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
  uint64_t noscan_bytes; /* of marked_bytes: in pointer-free objects */
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
/* A concurrent mark (concurrent.c, markconc.c): the initial stop's root
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
 * take now), -1 if no concurrent phase is open.  With 'ask', one that
 * finds no work has the collector share some of its own (work.hungry):
 * for a thread that can only wait meanwhile. */
int64_t mark_assist(uint64_t budget, bool ask);
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
extern bool sgc_root_callback_again; /* the verifier's run (markroot.c) */
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
  uint64_t marked_noscan; /* of marked, in pointer-free objects */
  int gcpercent;       /* GOGC; < 0: off */
  uint64_t min_goal;   /* PACER_MIN_GOAL plus what sgc_expand_heap added */
  bool generational;   /* sticky mark bits (generation.c) */
  uint64_t major_live; /* generational: live after the last major */
  uint64_t major_noscan; /* of major_live, in pointer-free objects */
  /* Pointer-free bytes weigh 1/noscan_div in the room (0, 1: fully). */
  uint32_t noscan_div;
  bool next_minor;     /* generational: the next collection is minor */
  bool concurrent;     /* majors mark concurrently (concurrent.c) */
  /* The square-root rule (SPANGC_SIZING=sqrt): 0 for GOGC's. */
  bool sizing_sqrt;
  uint64_t alloc_rate; /* bytes/s the program allocated (smoothed) */
  uint64_t mark_rate;  /* bytes/s a major collection marked (smoothed) */
  /* concurrent: what the program allocates during a concurrent major,
   * margin included (conc_room_wanted); 0 if none is expected. */
  uint64_t conc_room;
} pacer_inputs;
/* The square-root rule's reference size: H = sqrt(live x K x alloc_rate /
 * mark_rate), K = PACER_SQRT_K x GOGC/100. */
#define PACER_SQRT_K ((uint64_t)64 << 20)
/* The room above the live heap 'live' the rule in force gives. */
uint64_t pacer_room(const pacer_inputs *in, uint64_t live, uint64_t noscan);
/* The next collection's goal (heap_live + freed_pending that starts it). */
uint64_t pacer_goal(const pacer_inputs *in);
/* H: the room GOGC gives over the last major's live heap, at least
 * min_goal (0 before the floor when GOGC is off). */
uint64_t pacer_headroom(uint64_t major_live, int gcpercent, uint64_t min_goal);
/* The goal after a collection abandoned at this pressure: half as much
 * again, PACER_MIN_GOAL at least. */
uint64_t pacer_goal_abandoned(uint64_t pressure);
/* Idle collections (pacer.c): how long without a collection before a
 * thread taking memory runs a major one, and the backoff after a
 * collection (idle or not) that found 'live' of heap_before, base_live
 * having been live when the backoff was last 1. */
#define PACER_IDLE_COST 10 /* interval >= 10 x the last major's stop */
#define PACER_IDLE_MIN_NS ((uint64_t)1000000000)
#define PACER_IDLE_MAX_NS ((uint64_t)120 * 1000000000)
uint64_t pacer_idle_interval(uint64_t major_stop_ns, uint32_t backoff);
uint32_t pacer_idle_backoff(uint32_t backoff, bool idle, uint64_t base_live,
                            uint64_t heap_before, uint64_t live);

/* --------------------------------------------------------------- gc.c */

void gc_init(void);
/* Makes the collector's threads ahead of the first collection (the
 * scavenger, as it starts; gc_lock taken inside). */
void gc_start_background(void);
/* Recompute the next goal now (sgc_set_memory_limit). */
void gc_refresh_goal(void);
/* Aborts if the exiting thread is inside sgc_call_without_collections. */
void gc_thread_exit_check(void);
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
  uint64_t idle_backoff_live; /* the live heap when idle_backoff was last 1 */
  uint64_t last_major_pause_ns;
  uint64_t idle_collections;
} gc_state;
extern gc_state gc;
extern sgc_mutex gc_lock;
/* Why a collection runs: the pacer's goal was reached; sgc_collect or the
 * heap limit (major, whatever else ran meanwhile); or no collection ran
 * for the idle interval (major; pacer.c); or the page heap could not grow
 * (major, but like one that fell due it is not made while collections
 * are disabled, and the collect hook may skip it). */
enum { COLLECT_DUE, COLLECT_FORCED, COLLECT_IDLE, COLLECT_CONC,
       COLLECT_FORCED_CONC, COLLECT_IDLE_CONC, COLLECT_ROOM };
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
/* Tests: runs on the collecting thread once a concurrent major cleared
 * the mark bits (and took the age sample, agesample.c), before step 0
 * protects the heap; gc_lock held, the world running. */
extern void (*sgc_test_conc_cleared_hook)(void);
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
/* Tests: no probed pages (genprotect.c): a page old objects fill is
 * protected by the collection that finds it full, as before probing. */
extern bool sgc_test_probe_off;
/* Tests: minors promote nothing an old object points to (aging.c), for
 * the verifier to catch. */
extern bool sgc_test_promote_off;
extern uint64_t sgc_test_assisted_slices;
/* Tests: large objects of descriptor kinds a rescan of written pages
 * scanned whole (markroot.c, scan_dirty; atomic). */
extern uint64_t sgc_test_whole_rescans;
/* Tests: runs after a major's restart, before its unprotect walk
 * (gen_restarted, or a walk put off: gen_restarted_pending; gc_lock held,
 * the world running; on whichever thread makes the walk). */
extern void (*sgc_test_unprotect_walk_hook)(void);
/* Tests: called by dirty_unprotect_calls before each call it makes (no
 * lock held: gc_lock was let go). */
extern void (*sgc_test_unprotect_calls_hook)(void);
/* dirty.c: the most one listing call covers with the world running (the
 * mmap lock is let go between calls). */
#define DIRTY_LIST_CALL_MAX ((uintptr_t)64 << 20)
/* Tests: called before each listing call (PAGEMAP_SCAN) with its range,
 * and whether the world is running. */
extern void (*sgc_test_listing_call_hook)(uintptr_t lo, uintptr_t hi,
                                          bool running);
/* Over sgc_set_max_heap?  (Exact under mheap.lock.) */
bool gc_over_max_heap(uintptr_t more_pages);
/* mheap.c: s gets a special or an uncollectable object (counted once);
 * s is freed or allocated again (mheap.lock). */
void mheap_note_rootspan(mspan *s);
void mheap_forget_rootspan(mspan *s);
/* No hard limit, or the spans in use (stacks too) within 1/div of it. */
bool gc_far_below_max_heap(unsigned div);
uint64_t gc_max_heap(void); /* 0: none */
void gc_raise_min_goal(uint64_t bytes);
/* An allocation of npages failed (sgc_set_max_heap, or the page heap
 * could not grow): collect; true: try it again (then call back with
 * tries + 1 if it fails again). */
bool gc_collect_for_room(mcache *c, uintptr_t npages, int tries);
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
  bool aging; /* an aging minor (aging.c) */
} gctrace_figures;
void gctrace_collection(const gctrace_figures *f);
void gctrace_start(int nmarkers, int gcpercent);
void fiber_read_stats(sgc_stats *st);
/* Bytes of stack pool spans and of their unused stacks (fiber_lock). */
void fiber_pool_figures(uint64_t *pool_bytes, uint64_t *unused_bytes);
void heap_read_stats(sgc_stats *st);
void finalizer_counts(uint64_t *queued, uint64_t *run);

#endif /* SPANGC_GC_INT_H */
