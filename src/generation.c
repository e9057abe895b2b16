/*
 * generation.c — generational collection on sticky mark bits: which
 * collection is minor and which is major, and the listing of the pages
 * written since the last one that each starts from.
 *
 * With generations on (sgc_sticky), a mark bit outlives the sweep: an
 * object marked by a collection stays marked ("old") until the next major
 * collection clears every mark before marking.  A minor collection starts
 * from the marks as they are, so the markers stop at old objects and only
 * reach objects allocated since the last collection ("young"); besides the
 * usual roots, it scans the old objects on the pages the kernel reports
 * written since the previous collection (dirty.c), since only a write can
 * have put a pointer to a young object into an old one.  The sweep frees
 * what is unmarked, which after a minor is young garbage only.
 *
 * Invariants (checked by SPANGC_DEBUG=verify=1, see markverify.c):
 *   - between collections, the marked objects of a span are exactly its
 *     old objects; a slot freed by sgc_free loses its mark (a young object
 *     reusing it must not inherit "old");
 *   - after a mark, every object a marked object references is marked,
 *     unless the referencing word was written since the last listing (its
 *     page is then listed at the next one);
 *   - a page holding an old object of a scanned kind is either protected
 *     since the last listing or will be reported by the next listing.
 *
 * Protection (which listed pages the kernel goes on watching after the
 * mark, which ones a major gives back): genprotect.c, called by gen_end
 * once the policy chose the next collection.
 *
 * Policy: L is the live heap the last major collection found, H = L *
 * GOGC/100 (at least the minimum goal).  After any collection with M bytes
 * marked (old and young survivors), the next is triggered at max(L + H,
 * M + H/2) if it is to be minor, max(L + H, M + the minimum goal) if
 * major: the heap stays near what GOGC alone would give (pacer_goal,
 * pacer.c).  The next is major when M plus the fiber stack bytes made
 * since the last major exceeds L + H/2 (old objects, dead ones included,
 * and the stacks of old fibers, which only a major frees, have taken half of
 * the room); when the last minor did not pay (more than half of the young
 * survived it: a program whose objects live a while, where minors only
 * promote; or, following another minor and with more than the minimum goal
 * marked, minors rescan more than half as many objects as they mark on written
 * pages (the share smoothed over minors): a program that writes all over its
 * old data, where a minor marks about what a major does), until every fourth
 * major tries a minor again; with majors that stopped the world, sooner when
 * the minor failed on its survivors: the first major whose age sample found
 * most young bytes dead (the second or the fourth once such retries failed
 * too); with concurrent majors, only a fourth major whose sample found that,
 * and with a small room first (see gen_end); after fork(), when the kernel's
 * record was lost, when mark bits were set outside a mark, and for
 * sgc_collect.  Under a soft memory limit the
 * goal is the lower of this and the limit's (memlimit.c), and the next is
 * major once M exceeds L plus half the room the limited goal leaves.
 *
 * Threads: the state below is touched only by the collecting thread with
 * the world stopped (gc_lock held), and read by sgc_read_stats under
 * gc_lock.
 */
#include <stdlib.h>
#include <string.h>

#include "spangc-int.h"

/* A minor collection's mark above which, with concurrent majors, minors
 * are retried less often (see gen_end).  Well above the concurrent
 * stops' 2 ms target: a minor's length is known only after it ran, and
 * the retries are what finds a program's young objects dying again. */
#define GEN_CONC_MINOR_NS ((uint64_t)10000000)
/* A trial minor's expected mark (see gen_end), and its least young room:
 * below it, a program's objects in use at any moment are most of the
 * young ones, and the trial says nothing (a debug build under load
 * marked 4 MB in 31 ms: a 1 ms room of 135 KB, and minors never came
 * back). */
#define GEN_TRIAL_NS ((uint64_t)1000000)
#define GEN_TRIAL_MIN_ROOM ((uint64_t)1 << 20)

bool sgc_sticky SGC_NOGC;
bool sgc_record_frees SGC_NOGC;

static struct {
  bool enabled;       /* SPANGC_GENERATIONAL */
  bool verify;        /* SPANGC_DEBUG=verify=1 */
  bool next_minor;    /* the policy's choice for the next collection */
  bool minor_pays;    /* the last minor freed at least half of the young
                        and minors rescan at most half of what they mark */
  int majors_since_minor; /* majors in a row since the last minor */
  uint64_t minor_mark_ns; /* the last minor collection's mark */
  uint64_t conc_pause_ns; /* the last concurrent major's two stops */
  uint64_t minor_young;   /* the last minor's young bytes */
  /* Majors a minor that did not pay is followed by before the age
   * sample may bring minors back: 1, doubled by each such retried minor
   * that does not pay either, at most 4; back to 1 when a minor pays.
   * retried: the next (or this) minor is such a retry (see gen_end). */
  int retry_after;
  bool retried;
  bool young_died;      /* the last major found most young bytes dead
                           (its age sample, agesample.c) */
  bool minor_rescans_too_many; /* the last minor did not pay for its
                                  rescans only (its young died) */
  bool last_was_minor; /* the collection before this one was minor */
  uint64_t rescan_share; /* minors' old objects rescanned / marked, x1024,
                            smoothed */
  uint64_t major_live; /* L: marked by the last major collection */
  uint64_t major_noscan; /* of L, in pointer-free objects */
  uint64_t major_stacks; /* fiber stack bytes after the last major */
  uint64_t last_marked; /* M of the last collection */
  uint64_t last_noscan; /* of M, in pointer-free objects (when full) */
  uint32_t noscan_div; /* gen_weigh_pointer_free (atomic) */
  uint64_t nminor, nmajor;
  /* SPANGC_SIZING=sqrt and its rates (gen_note_rates), bytes/s. */
  bool sizing_sqrt;
  uint64_t alloc_rate, mark_rate;
  /* gen_hold_peak_goal: on (atomic); the largest goal given under
   * peak_gcpercent (gc_lock). */
  int hold_peak;
  int peak_gcpercent;
  uint64_t peak_goal;
} gen SGC_NOGC;

/* The verifier's record of freed pages (see spangc-int.h): one bit per
 * arena page, kept only when the verifier runs, set atomically. */
static uint64_t *freed_pages SGC_NOGC;

void gen_init(void) {
  const char *e = sgc_option("SPANGC_GENERATIONAL");
  gen.enabled = true;
  gen.minor_pays = true;
  if (e && *e) {
    if (strcmp(e, "0") != 0 && strcmp(e, "1") != 0)
      sgc_fatal("SPANGC_GENERATIONAL=%s: expected 0 or 1", e);
    gen.enabled = strcmp(e, "1") == 0;
  }
  gen.verify = sgc_debug_flag("verify");
  const char *z = sgc_option("SPANGC_SIZING");
  if (z && *z) {
    if (strcmp(z, "gogc") != 0 && strcmp(z, "sqrt") != 0)
      sgc_fatal("SPANGC_SIZING=%s: expected gogc or sqrt", z);
    gen.sizing_sqrt = strcmp(z, "sqrt") == 0;
  }
  dirty_init();
  if (gen.verify) {
    mheap *h = &sgc_heap;
    uintptr_t npages = (h->arena_end - h->arena_start) >> PAGE_SHIFT;
    freed_pages = os_alloc((npages + 63) / 64 * 8);
    if (freed_pages == NULL)
      sgc_fatal("SPANGC_DEBUG=verify=1: no memory for the verifier's "
                "table of freed pages");
  }
  sgc_sticky = gen.enabled && dirty_mechanism() != DIRTY_OFF;
  if (sgc_sticky) {
    mheap *h = &sgc_heap;
    /* Touched only as far as the arena is used (the kernel backs the
     * rest on demand); without it every written page is protected again
     * (no hot pages, nothing else changes). */
    page_state = os_alloc((h->arena_end - h->arena_start) / KPAGE);
  }
  aging_init();
}

bool gen_enabled(void) { return sgc_sticky; }

/* A stop's listing covers the pages of scanned spans only
 * (mheap.scanpages, exact with the world stopped), stretches of other
 * pages shorter than LIST_GAP merged over.  Only objects of scanned kinds
 * hold pointers, so only a write to their pages matters to a mark from
 * the marks there are; pointer-free, free and fiber stack pages were
 * listed too, and on the pointer-free pause test the listing of a 400 MB
 * arena took 1.1 ms of each final stop.  A page left out is not changed
 * by that (a listing reads the kernel's record, it does not reset it):
 * still unprotected, or protected and reporting its first write, when a
 * scanned span takes it.  What the listing feeds after the mark only
 * sees fewer pages: protect_old_pages protects pages of scanned spans
 * only, and the unprotect walk may unprotect a page it no longer sees
 * listed, which only lists more (rule:list-more-never-less). */
#define LIST_GAP ((uintptr_t)1 << 20)
typedef struct { uintptr_t at, end; } scanned_cursor;
static bool next_scanned_run(void *arg, uintptr_t *lo, uintptr_t *hi) {
  scanned_cursor *c = arg;
  uintptr_t p = mheap_next_scanned_page(c->at, c->end);
  if (p >= c->end)
    return false;
  uintptr_t e = mheap_next_unscanned_page(p, c->end);
  while (e < c->end) {
    uintptr_t limit = c->end - e > LIST_GAP ? e + LIST_GAP : c->end;
    uintptr_t q = mheap_next_scanned_page(e, limit);
    if (q >= limit)
      break;
    e = mheap_next_unscanned_page(q, c->end);
  }
  *lo = p;
  *hi = e;
  c->at = e;
  return true;
}

static bool list_scanned(gen_cycle *g) {
  mheap *h = &sgc_heap;
  SGC_ASSERT(world_is_stopped());
  scanned_cursor c = {h->arena_start, ATOMIC_LOAD(&h->arena_used)};
  return dirty_list_ranges(next_scanned_run, &c, &g->runs, &g->nruns);
}

void gen_begin(gen_cycle *g, bool forced) {
  mheap *h = &sgc_heap;
  memset(g, 0, sizeof *g);
  gen_restarted(); /* nothing left, unless a path forgot it */
  if (!sgc_sticky)
    return;
  g->listed = true;
  bool trusted = list_scanned(g);
  /* Marks set outside a mark make this collection major
   * (rule:stale-marks-cleared, rule:freed-slot-not-old). */
  g->minor = trusted && !forced && gen.next_minor &&
             !ATOMIC_LOAD(&h->stale_marks);
  g->aging = aging_begin(g->minor);
}

bool gen_begin_remark(gen_cycle *g) {
  memset(g, 0, sizeof *g);
  g->remark = true;
  if (dirty_mechanism() == DIRTY_OFF)
    return false;
  g->listed = true;
  return list_scanned(g);
}

bool gen_next_minor(void) { return sgc_sticky && gen.next_minor; }

/* The next collection's goal from the policy's state, before the memory
 * limit (gc_lock held). */
static pacer_inputs policy_inputs(int gcpercent, uint64_t min_goal) {
  pacer_inputs in = {.marked = gen.last_marked,
                     .marked_noscan = gen.last_noscan,
                     .gcpercent = gcpercent,
                     .min_goal = min_goal,
                     .generational = sgc_sticky,
                     .major_live = gen.major_live,
                     .major_noscan = gen.major_noscan,
                     .noscan_div = ATOMIC_LOAD_RELAXED(&gen.noscan_div),
                     .next_minor = gen.next_minor,
                     .concurrent = conc_worth(),
                     .sizing_sqrt = gen.sizing_sqrt,
                     .alloc_rate = gen.alloc_rate,
                     .mark_rate = gen.mark_rate,
                     .conc_room = gen.sizing_sqrt
                                      ? conc_room_wanted(gen.alloc_rate,
                                                         gen.last_marked)
                                      : 0};
  return in;
}

static uint64_t policy_goal(int gcpercent, uint64_t min_goal) {
  pacer_inputs in = policy_inputs(gcpercent, min_goal);
  return pacer_goal(&in);
}

/* The rates the square-root rule weighs (collecting thread, gc_lock):
 * allocated bytes over the wall time since the last restart, and, for a
 * major collection, marked bytes over its mark time.  Halfway to each new
 * measure, so one odd cycle moves them only part of the way. */
static uint64_t smooth(uint64_t old, uint64_t now) {
  return old == 0 ? now : old / 2 + now / 2;
}
void gen_note_rates(uint64_t allocated, uint64_t alloc_ns, uint64_t marked,
                    uint64_t mark_ns, bool major) {
  if (alloc_ns > 0)
    gen.alloc_rate = smooth(gen.alloc_rate,
                            (uint64_t)((unsigned __int128)allocated *
                                       1000000000u / alloc_ns));
  if (major && mark_ns > 0 && marked > 0)
    gen.mark_rate = smooth(gen.mark_rate,
                           (uint64_t)((unsigned __int128)marked *
                                      1000000000u / mark_ns));
}

void gen_note_concurrent_pause(uint64_t ns) { gen.conc_pause_ns = ns; }

uint64_t gen_alloc_rate(void) { return gen.alloc_rate; }
uint64_t gen_mark_rate(void) { return gen.mark_rate; }

/* The held peak (gen_hold_peak_goal).  bdwgc collects when its heap is
 * full and grows it otherwise, so once its live data shrank it keeps the
 * room of its largest heap: on Guile's programs its collections came
 * 11-13 MB of allocation apart where ours, at GOGC 75 over a live heap
 * that had fallen back, came 8-10 MB apart (binary trees: 174 collections
 * against its 97, hash tables of strings 58 against 44).  The peak
 * costs no memory that the largest goal did not take already; the
 * memory limit still lowers the goal below it (memlimit_goal comes
 * after), and a new GOGC (a new free-space divisor) starts a new peak.
 * Only for the layer: spangc's own programs get the goal GOGC gives their
 * live heap now, so a heap that shrank is collected, and its pages
 * released, sooner (issue 15's shrink run). */
static uint64_t held_goal(uint64_t goal, int gcpercent) {
  if (!ATOMIC_LOAD_RELAXED(&gen.hold_peak) || gcpercent < 0)
    return goal;
  if (gcpercent != gen.peak_gcpercent) {
    gen.peak_gcpercent = gcpercent;
    gen.peak_goal = 0;
  }
  if (goal > gen.peak_goal)
    gen.peak_goal = goal;
  return gen.peak_goal;
}

void gen_hold_peak_goal(void) { ATOMIC_STORE(&gen.hold_peak, 1); }

void gen_weigh_pointer_free(uint32_t div) {
  ATOMIC_STORE(&gen.noscan_div, div);
}

/* The goal, held at the peak if asked, lowered under the soft memory
 * limit (memlimit.c). */
uint64_t gen_goal(int gcpercent, uint64_t min_goal) {
  return memlimit_goal(held_goal(policy_goal(gcpercent, min_goal), gcpercent),
                       gen.last_marked, gcpercent < 0);
}

uint64_t gen_end(gen_cycle *g, uint64_t heap_before, uint64_t marked,
                 int gcpercent, uint64_t min_goal) {
  if (g->minor)
    gen.nminor++;
  else
    gen.nmajor++;
  /* The sweep that follows (sweep.c); world stopped. */
  ATOMIC_STORE_RELAXED(&aging_sweep_young, g->aging);
  if (g->aging)
    aging_end();
  if (!sgc_sticky) {
    /* A concurrent major protected the scanned spans for its mark; no
     * minor needs them watched now, and the allocator's writes to them
     * would fault until the next concurrent mark. */
    if (g->remark)
      unprotect.all = true; /* after the restart (gen_restarted) */
    gen.last_marked = marked;
    gen.last_noscan = g->noscan;
    return gen_goal(gcpercent, min_goal);
  }
  if (g->minor) {
    /* Young bytes: allocated since the last collection; survivors:
     * what this one marked beyond the old. */
    uint64_t young = heap_before > gen.last_marked
                         ? heap_before - gen.last_marked : 0;
    uint64_t survived = marked - g->old_bytes;
    /* It pays when most young objects died and the written pages made
     * minors rescan at most half as many objects as they mark: a program that
     * writes all over its old data (Guile filling a large hash table: three
     * fifths of the marked objects were rescanned, and a minor cost what a
     * major did, plus the faults on the protected pages) gains nothing from
     * minors. */
    /* The first minor after a major is not judged by its rescans: the
     * major's sweep left room in many spans that had old objects, and
     * those stay unprotected until they fill (Guile keeping a vector of
     * 1e6 objects: that minor rescanned as many objects as it marked,
     * the next ones a twelfth). */
    /* Nor below the minimum goal, where a major costs little anyway (and
     * a few written pages are a large share of the objects).  The share
     * rescanned is moved halfway to each new measure, so one minor that
     * found many pages written (Guile's vector program: now and then 45%
     * among minors of 5-20%) does not stop minors alone. */
    bool judged = gen.last_was_minor && marked > min_goal &&
                  g->marked_objects > 0;
    if (judged) {
      uint64_t share = g->rescanned * 1024 / g->marked_objects;
      gen.rescan_share = (gen.rescan_share + (share < 2048 ? share : 2048)) / 2;
    }
    bool died = young > 0 && survived * 2 <= young;
    gen.minor_pays = died && (!judged || gen.rescan_share * 2 <= 1024);
    if (gen.minor_pays)
      gen.retry_after = 1;
    else if (gen.retried)
      gen.retry_after = gen.retry_after >= 2 ? 4 : 2;
    gen.retried = false;
    gen.minor_rescans_too_many = died && !gen.minor_pays;
    gen.majors_since_minor = 0;
    gen.minor_mark_ns = g->mark_ns;
    gen.minor_young = young;
  } else {
    gen.young_died =
        age_sample_young_died(gen.last_marked, heap_before, marked);
    gen.major_live = marked;
    gen.major_noscan = g->noscan;
    gen.major_stacks = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack) * PAGE_SIZE;
    gen.majors_since_minor++;
  }
  gen.last_was_minor = g->minor;
  gen.last_marked = marked;
  gen.last_noscan = g->noscan;
  uint64_t L = gen.major_live;
  pacer_inputs in = policy_inputs(gcpercent, min_goal);
  uint64_t H = pacer_room(&in, L, gen.major_noscan);
  /* Minors again while they pay (most young objects die); after one
   * that did not, majors, with a minor tried again every fourth, or
   * sooner, with majors that stop the world: after the first major whose
   * age sample (agesample.c) found most young bytes dead.  binary-trees
   * 21 marked its 64 MB long-lived tree in three more majors after its
   * stretch tree died, and in its last phase (trees of 32 MB, one being
   * built at every minor, so minors did not pay) ran majors only: 19-22
   * majors instead of 22-25, 100-240 ms less of stops in 1.3-1.5 s.
   * A program can turn against the guess (the adversarial review's
   * kept what it allocated until each next collection, then made only
   * garbage: every retried minor failed, a minor after every major,
   * 1.45x the pauses), so each retried minor that fails doubles the
   * majors before the next (retry_after, up to the fourth).  Beside
   * concurrent majors the retry has its own rules (below). */
  /* Fiber stacks count too: an old fiber's stack is freed by a major
   * collection only, and its object is small. */
  uint64_t stacks = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack) * PAGE_SIZE;
  uint64_t grown = stacks > gen.major_stacks ? stacks - gen.major_stacks : 0;
  bool retry = !g->minor && gen.young_died && !gen.minor_rescans_too_many &&
               gen.majors_since_minor >= gen.retry_after && !conc_enabled();
  gen.next_minor = (gen.minor_pays || gen.majors_since_minor >= 4 || retry) &&
                   marked + grown <= L + H / 2;
  /* With concurrent majors (concurrent.c) a minor can be the longer
   * pause: it marks with the world stopped from start to end, a
   * concurrent major only stops twice, briefly.  So with concurrent
   * majors on (conc_enabled: not when the kernel cannot protect the
   * heap), after a minor that did not pay (its young survived), the
   * retry every fourth major is made only when the major just ended
   * found most young bytes dead (its age sample), and when the next
   * minor's mark would take more than 10 ms and twice the last
   * concurrent major's stops together, as a trial: a minor given
   * only the young room the last minor marked in GEN_TRIAL_NS, so it
   * stops the world briefly whatever it finds; if it pays, minors are
   * back with their whole room.
   * (A minor that failed on its rescans alone, its young dead, is retried
   * as before, a whole minor every sixteenth major: see below.)
   * The pause test's window survives a minor whole (24-53 ms minors at
   * 200 MB live, against stops of 2-4 ms), and its majors find the young
   * messages alive: no minor.  binary-trees' first minor, while it built
   * its long-lived tree, did not pay, nor did the majors after it; the
   * first major after the growth found the young trees dead, and the
   * trial after it paid (without the sample: 16-28 majors instead of 4,
   * 1.2-1.27x the stop-the-world wall time).  A minor that pays stays
   * (one that pays but is long is a choice between pause and throughput
   * left to do). */
  /* The mark judged is the next minor's: the last one's, scaled from
   * the young bytes it had to the room the next one will have (the pause
   * test: a 0.3 ms minor at 4 MB young, tried again at 120 MB young,
   * stopped the world 24 ms), from the start, not once a concurrent major
   * ran: the first concurrent majors' stops are not known yet, but a
   * minor that long is longer than they will be. */
  uint64_t minor_ns = gen.minor_mark_ns;
  if (gen.minor_young > 0 && H > gen.minor_young)
    minor_ns = (uint64_t)((unsigned __int128)minor_ns * H / gen.minor_young);
  uint64_t trial_room = 0; /* the next minor is a trial with this room */
  bool long_minor =
      minor_ns > GEN_CONC_MINOR_NS && minor_ns > 2 * gen.conc_pause_ns;
  /* Also while majors still stop the world (a heap marked in under
   * CONC_MIN_MARK_NS, 0.5 ms: conc_worth false): the heap grows, and the
   * next major may be concurrent already.  The pointer-free pause test
   * retried its minor there, at the fourth major while its window
   * filled: 68 MB of young messages, all alive, marked in 1.3-1.8 ms
   * with the world stopped, its worst push (the concurrent stops: 0.3
   * ms each). */
  if (gen.next_minor && !gen.minor_pays && conc_enabled()) {
    if (gen.minor_rescans_too_many) {
      /* Its young died but it rescanned the old data the program writes
       * all over: the age sample says nothing of that, and a trial would
       * rescan as much (the adversarial review: trials of 1 MB young room
       * rescanned 500000 old objects, 24-158 ms, then the full minor
       * after them failed on its rescans).  Retried every sixteenth
       * major, as a whole minor. */
      if (long_minor && gen.majors_since_minor < 16)
        gen.next_minor = false;
    } else if (g->minor || !gen.young_died) {
      /* Its young survived it, and this major found them alive again: a
       * minor would only promote them, however short (the pointer-free
       * pause test retried one every fourth major, 8.8 ms with the world
       * stopped, against final stops under 1 ms). */
      gen.next_minor = false;
    } else if (long_minor) {
      uint64_t room = gen.minor_mark_ns > 0 && gen.minor_young > 0
                          ? (uint64_t)((unsigned __int128)gen.minor_young *
                                       GEN_TRIAL_NS / gen.minor_mark_ns)
                          : 0;
      if (room < GEN_TRIAL_MIN_ROOM)
        room = GEN_TRIAL_MIN_ROOM;
      if (room < H / 2)
        trial_room = room;
    }
  }
  uint64_t goal = gen_goal(gcpercent, min_goal);
  /* A trial minor comes after its room only (never above the goal). */
  if (gen.next_minor && trial_room > 0 && marked + trial_room < goal)
    goal = marked + trial_room;
  /* Under the memory limit, a major once old objects took half the room
   * the limited goal leaves above L. */
  if (gen.next_minor && !memlimit_allows_minor(L, marked + grown)) {
    gen.next_minor = false;
    goal = gen_goal(gcpercent, min_goal);
  }
  /* Once the next collection is decided (rule:written-old-is-listed holds
   * before each minor: the collection before it protects). */
  if (g->listed && !g->minor) { /* after the restart (gen_restarted) */
    unprotect.find = true;
    unprotect.runs = g->runs;
    unprotect.nruns = g->nruns;
  }
  /* The next minor is there for the sample alone (see retry_after). */
  gen.retried = gen.next_minor && retry && !gen.minor_pays &&
                gen.majors_since_minor < 4;
  if (g->listed)
    protect_old_pages(g, gen.next_minor);
  return goal;
}

void gen_abandon(void) { gen.next_minor = false; }

void gen_note_span_freed(mspan *s) {
  if (freed_pages == NULL)
    return;
  /* A fiber stack's pages, whatever it held: an old fiber object keeps
   * its stack bounds and saved stack pointer after the stack is gone. */
  bool any = ATOMIC_LOAD_RELAXED(&s->state) == MSPAN_STACK ||
             ATOMIC_LOAD_RELAXED(&s->everfreedall);
  mspan_rare *rare = mspan_rare_of(s);
  for (uint32_t j = 0; rare != NULL && j < BITMAP_WORDS; j++)
    any |= ATOMIC_LOAD_RELAXED(&rare->everfreedbits[j]) != 0;
  if (!any)
    return;
  uintptr_t first = (s->base - sgc_heap.arena_start) >> PAGE_SHIFT;
  for (uintptr_t k = first; k < first + s->npages; k++)
    __atomic_fetch_or(&freed_pages[k / 64], (uint64_t)1 << (k % 64),
                      __ATOMIC_RELAXED);
}

bool gen_page_was_freed(uintptr_t p) {
  if (freed_pages == NULL)
    return false;
  uintptr_t k = (p - sgc_heap.arena_start) >> PAGE_SHIFT;
  return (ATOMIC_LOAD_RELAXED(&freed_pages[k / 64]) >> (k % 64)) & 1;
}

/* Any page of s: a large object freed and its pages merged into a run
 * that starts below them is referenced, stale, past the new span's first
 * page. */
bool gen_span_has_freed_pages(const mspan *s) {
  for (uintptr_t p = s->base; p < s->base + s->npages * PAGE_SIZE;
       p += PAGE_SIZE)
    if (gen_page_was_freed(p))
      return true;
  return false;
}

void gen_read_stats(sgc_stats *st) {
  st->num_minor_gc = gen.nminor;
  st->num_major_gc = gen.nmajor;
  st->generational = sgc_sticky;
  dirty_read_stats(st);
  aging_read_stats(st);
}
