/*
 * memlimit.c — the soft memory limit (SPANGC_MEMLIMIT,
 * sgc_set_memory_limit), its cap on the collector's CPU share, and the
 * prompt return of free pages after the live heap shrank.
 *
 * What is limited ("held"): every byte the collector holds from the OS,
 *   held = committed arena - released free pages + metadata
 * i.e. spans in use (objects, their free slots, fiber stacks), free pages
 * not yet released, and sgc_stats.meta_bytes.
 *
 * Goal.  gen_goal (generation.c) passes the goal that GOGC and the
 * generational policy chose through memlimit_goal, which lowers it so
 * that goal + overhead stays under limit - margin, where overhead is what
 * the heap holds beyond heap_live (free slots in spans, fiber stacks,
 * metadata) and margin is limit/32.  The lower of the two goals wins, so
 * the limit only ever makes collections come sooner; the limited goal is
 * never under the last marked bytes plus 1/16 (when the live heap, or its
 * fragmented pages, fill the limit, the CPU cap below decides).  The
 * generational policy asks memlimit_allows_minor too: while the limit
 * binds, a minor is chosen only while old objects (dead ones included,
 * which only a major frees) fill less than half of the room between the
 * last major's live heap and the limited goal.
 *
 * Free pages.  Near the limit, an allocation that makes the heap hold more
 * (a span taken from released pages, or arena growth) releases other free
 * pages at once, highest addresses first (the allocator takes the lowest),
 * until held is under limit - margin again (mheap_alloc, under
 * mheap.lock; memlimit_retain_cap says how far).  The limit never fails an
 * allocation: SPANGC_MAX_HEAP stays the hard limit.
 *
 * CPU cap.  Near the limit, a program whose live data exceeds it would
 * otherwise collect continuously.  While the limit lowers the goal, a
 * collection starts only while the collector's recent share of wall time
 * is under half: a bucket fills with each collection's stop-the-world
 * time and the sweeping done since the one before (sgc_sweep_ns: the
 * background sweeper's and the allocating threads' sweeps), and drains
 * at the rate wall time passes outside collections; a
 * collection is put off while the bucket holds more than CPU_BURST_NS.
 * Over any span of T ns, then, collection time minus the rest is at most
 * the burst plus one collection: the share of the collections the limit
 * adds tends to 50%, and the heap grows past the soft limit instead, up
 * to the GOGC goal: there a collection runs whatever the bucket says, so
 * a limit never makes the heap larger than GOGC alone would (the share
 * may then pass 50% by what GOGC's own collections take).
 *
 * Prompt release (issue #15, item 4).  After a collection, the heap keeps
 * goal/2 + goal/8 + the free slots of its spans (memlimit_goal's
 * retain_target: the live heap and part of the room towards the goal).
 * When it holds more than twice that and 16 MiB more (the live heap
 * shrank a lot: 1 GB live dropped to 100 MB leaves ~1 GB of free pages
 * that only the idle-time rule would return, 5 s later), the scavenger
 * thread is woken and releases the excess free pages that have been free
 * for PROMPT_MIN_IDLE_NS (so a heap that swings keeps what it reuses
 * within a cycle; after an idle collection, which found the program
 * allocating slowly, free for any time: nothing will reuse them soon) in
 * batches of MEMLIMIT_BATCH bytes (mheap.lock dropped between batches),
 * highest addresses first, polling every PROMPT_POLL_NS while the background
 * sweeper frees more, for at most PROMPT_NS after the collection.
 *
 * Threads and locks.  The limit is an atomic word.  memlimit_goal and
 * memlimit_allows_minor run on the collecting thread (gc_lock held, world
 * stopped, or gc_lock held from sgc_set_gcpercent/gc_refresh_goal) and
 * write ml's goal figures, which gctrace and sgc_read_stats read under
 * gc_lock.  memlimit_collected runs on the collecting thread after the
 * restart, still under gc_lock: it feeds the bucket (atomics, read by
 * allocating threads in memlimit_may_collect without a lock) and wakes
 * the scavenger under ml.lock (the scavenger waits on ml.cond).  The
 * scavenger takes mheap.lock for each batch; mheap_alloc calls
 * memlimit_retain_cap under mheap.lock (atomics only).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "spangc-int.h"

#define CPU_BURST_NS ((uint64_t)500 * 1000 * 1000)
#define PROMPT_NS ((uint64_t)5 * 1000 * 1000 * 1000)
#define PROMPT_POLL_NS ((uint64_t)10 * 1000 * 1000)
#define PROMPT_MIN_EXCESS ((uint64_t)16 << 20)
/* Prompt release takes only pages free this long: a program whose heap
 * swings between collections reuses what a collection freed within a
 * cycle, and releasing it made binary-trees fault it back in (system
 * time 0.12 s -> 0.5 s, wall +40%); pages a shrunk heap no longer needs
 * stay free, and go after this long. */
#define PROMPT_MIN_IDLE_NS ((uint64_t)500 * 1000 * 1000)

static struct {
  uint64_t limit; /* atomic; 0: none */

  /* The last goal (gc_lock). */
  uint64_t goal_unlimited, goal;
  bool lowered;
  uint64_t nlowered; /* collections whose goal the limit lowered */

  /* CPU cap (atomics). */
  uint64_t bucket_ns, bucket_at;
  uint64_t sweep_ns_seen; /* sgc_sweep_ns at the last collection (gc_lock) */
  uint64_t prompt_min_idle; /* atomic: how long a page must have been free */
  uint64_t nputoff; /* collections put off by the cap */

  /* Prompt release: the heap bytes to keep, until prompt_until. */
  uint64_t prompt_target, prompt_until;
  uint64_t retain_target; /* computed by memlimit_goal (gc_lock) */
  uint64_t released; /* bytes released for the limit or promptly, ever */

  sgc_mutex lock;
  pthread_cond_t cond; /* the scavenger's sleep */
} ml SGC_NOGC = {.lock = SGC_MUTEX_INIT(ML),
                 .retain_target = UINT64_MAX,
                 .prompt_min_idle = PROMPT_MIN_IDLE_NS};

/* ----------------------------------------------------------- figures */

uint64_t memlimit_held(void) {
  mheap *h = &sgc_heap;
  uint64_t sys = ATOMIC_LOAD_RELAXED(&h->sys_heap);
  uint64_t rel = ATOMIC_LOAD_RELAXED(&h->pages_released) * PAGE_SIZE;
  return (sys > rel ? sys - rel : 0) + ATOMIC_LOAD_RELAXED(&h->sys_meta);
}

uint64_t memlimit_get(void) { return ATOMIC_LOAD_RELAXED(&ml.limit); }

static uint64_t margin_of(uint64_t limit) { return limit / 32; }

/* The heap pages (committed arena minus released) the limit allows.
 * UINT64_MAX: no limit. */
uint64_t memlimit_retain_cap(void) {
  uint64_t lim = ATOMIC_LOAD_RELAXED(&ml.limit);
  if (lim == 0)
    return UINT64_MAX;
  uint64_t meta = ATOMIC_LOAD_RELAXED(&sgc_heap.sys_meta) + margin_of(lim);
  return lim > meta ? lim - meta : 0;
}

/* What the heap holds beyond heap_live: free slots of in-use spans, fiber
 * stacks, metadata. */
static uint64_t overhead_now(void) {
  mheap *h = &sgc_heap;
  uint64_t spans = (ATOMIC_LOAD_RELAXED(&h->pages_inuse) +
                    ATOMIC_LOAD_RELAXED(&h->pages_stack)) * PAGE_SIZE +
                   ATOMIC_LOAD_RELAXED(&h->sys_meta);
  int64_t live = ATOMIC_LOAD_RELAXED(&h->heap_live);
  return live > 0 && (uint64_t)live < spans ? spans - (uint64_t)live
                                            : (live > 0 ? 0 : spans);
}

/* ------------------------------------------------------------- goal */

uint64_t memlimit_goal(uint64_t goal, uint64_t marked, bool gogc_off) {
  uint64_t lim = ATOMIC_LOAD_RELAXED(&ml.limit);
  uint64_t over = overhead_now();
  uint64_t unlimited = gogc_off ? UINT64_MAX : goal;
  uint64_t out = goal;
  bool lowered = false;
  if (lim != 0) {
    uint64_t reserve = over + margin_of(lim);
    uint64_t cap = lim > reserve ? lim - reserve : 0;
    /* Not below the live heap plus a little: with the heap's pages
     * fragmented (or the live data over the limit) a goal at or under
     * the live heap would make every allocation collect; the CPU cap
     * then decides. */
    uint64_t floor = marked + marked / 16;
    if (cap < floor)
      cap = floor;
    if (cap < unlimited) {
      out = cap;
      lowered = true;
    }
  }
  ATOMIC_STORE(&ml.goal_unlimited, unlimited);
  ml.goal = out;
  ATOMIC_STORE(&ml.lowered, lowered);
  /* The heap pages needed until the next collection, with room. */
  uint64_t meta = ATOMIC_LOAD_RELAXED(&sgc_heap.sys_meta);
  uint64_t keep = gogc_off && !lowered
                      ? UINT64_MAX
                      : out / 2 + out / 8 + (over > meta ? over - meta : 0);
  ATOMIC_STORE(&ml.retain_target, keep);
  return out;
}

bool memlimit_lowered(void) {
  return ATOMIC_LOAD_RELAXED(&ml.limit) != 0 &&
         ATOMIC_LOAD_RELAXED(&ml.lowered);
}

bool memlimit_allows_minor(uint64_t major_live, uint64_t old_bytes) {
  if (!memlimit_lowered())
    return true;
  uint64_t room = ml.goal > major_live ? ml.goal - major_live : 0;
  return old_bytes <= major_live + room / 2;
}

bool memlimit_on(void) { return ATOMIC_LOAD_RELAXED(&ml.limit) != 0; }

/* ---------------------------------------------------------- CPU cap */

static uint64_t bucket_at(uint64_t now) {
  uint64_t b = ATOMIC_LOAD_RELAXED(&ml.bucket_ns);
  uint64_t at = ATOMIC_LOAD_RELAXED(&ml.bucket_at);
  uint64_t drained = now > at ? now - at : 0;
  return b > drained ? b - drained : 0;
}

bool memlimit_may_collect(uint64_t pressure) {
  /* No limit, or it did not lower the goal: GOGC alone decides.  Due by
   * GOGC alone: the limit never lets the heap grow past what GOGC gives
   * (on a loaded machine stretched pauses filled the bucket, and gen.c's
   * peak RSS under a 150 MiB limit was 1.35x that without one). */
  if (!memlimit_lowered() ||
      pressure >= ATOMIC_LOAD_RELAXED(&ml.goal_unlimited))
    return true;
  if (bucket_at(os_nanotime()) <= CPU_BURST_NS)
    return true;
  /* Never so far that the arena runs out: the soft limit must not make
   * an allocation fail.  The bucket counts wall time, so on a busy
   * machine it fills faster and puts off more: under ASan (4 GiB arena)
   * with another process running, memlimit_over_live_slows_not_fails
   * held 2.2 GiB under a 48 MiB limit, and in CI an allocation failed. */
  if (pressure >= (sgc_heap.arena_end - sgc_heap.arena_start) / 4)
    return true;
  ATOMIC_ADD(&ml.nputoff, 1);
  return false;
}

/* ---------------------------------------------------- after a cycle */

void memlimit_collected(uint64_t t0, uint64_t t1, bool idle) {
  /* The bucket: drained by the time since the last collection, filled by
   * this one (only the collecting thread writes it, under gc_lock). */
  /* Sweeping since the last collection counts as collector time too (the
   * background sweeper's and the allocating threads'). */
  uint64_t swept = ATOMIC_LOAD_RELAXED(&sgc_sweep_ns);
  uint64_t sweep_ns = swept - ml.sweep_ns_seen;
  ml.sweep_ns_seen = swept;
  uint64_t b = bucket_at(t0) + (t1 - t0) + sweep_ns;
  ATOMIC_STORE(&ml.bucket_ns, b);
  ATOMIC_STORE(&ml.bucket_at, t1);
  if (ml.lowered)
    ml.nlowered++;

  mheap *h = &sgc_heap;
  uint64_t keep = ATOMIC_LOAD_RELAXED(&ml.retain_target);
  uint64_t sys = ATOMIC_LOAD_RELAXED(&h->sys_heap);
  uint64_t rel = ATOMIC_LOAD_RELAXED(&h->pages_released) * PAGE_SIZE;
  uint64_t retained = sys > rel ? sys - rel : 0;
  if (keep == UINT64_MAX || retained / 2 < keep ||
      retained - keep < PROMPT_MIN_EXCESS)
    return;
  sgc_lock(&ml.lock);
  ATOMIC_STORE(&ml.prompt_min_idle, idle ? 0 : PROMPT_MIN_IDLE_NS);
  ATOMIC_STORE(&ml.prompt_target, keep);
  ATOMIC_STORE(&ml.prompt_until, t1 + PROMPT_NS);
  pthread_cond_signal(&ml.cond);
  sgc_unlock(&ml.lock);
}

/* ------------------------------------------------------- scavenger */

/* The heap bytes the scavenger should keep now, or UINT64_MAX: nothing to
 * release promptly. */
static uint64_t prompt_target(uint64_t now) {
  if (now >= ATOMIC_LOAD_RELAXED(&ml.prompt_until))
    return UINT64_MAX;
  return ATOMIC_LOAD_RELAXED(&ml.prompt_target);
}

void memlimit_scavenger_sleep(uint64_t ns) {
  struct timespec ts;
  sgc_lock(&ml.lock);
  /* Checked under the lock memlimit_collected wakes us under: no wake-up
   * is lost between the check and the wait. */
  if (prompt_target(os_nanotime()) != UINT64_MAX && ns > PROMPT_POLL_NS)
    ns = PROMPT_POLL_NS;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t end = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + ns;
  ts.tv_sec = (time_t)(end / 1000000000u);
  ts.tv_nsec = (long)(end % 1000000000u);
  sgc_cond_timedwait(&ml.cond, &ml.lock, &ts);
  sgc_unlock(&ml.lock);
}

void memlimit_scavenge_promptly(void) {
  uint64_t target = prompt_target(os_nanotime());
  if (target == UINT64_MAX)
    return;
  size_t n;
  do {
    n = mheap_scavenge_down_to(target, MEMLIMIT_BATCH,
                               ATOMIC_LOAD_RELAXED(&ml.prompt_min_idle));
    ATOMIC_ADD(&ml.released, (uint64_t)n);
  } while (n >= MEMLIMIT_BATCH);
}

void memlimit_note_released(uint64_t bytes) {
  ATOMIC_ADD(&ml.released, bytes);
}

void memlimit_atfork_child(void) {
  pthread_mutex_init(&ml.lock.m, NULL); /* not held by this thread */
  memlimit_cond_init();
}

void memlimit_cond_init(void) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&ml.cond, &a);
  pthread_condattr_destroy(&a);
}

/* ------------------------------------------------------------ public */

/* Bytes with an optional K, M, G (or KiB, MiB, GiB; k, m, g too) suffix.
 * false if s is not that, or overflows. */
bool memlimit_parse(const char *s, uint64_t *out) {
  if (s == NULL || !isdigit((unsigned char)*s))
    return false;
  uint64_t v = 0;
  for (; isdigit((unsigned char)*s); s++) {
    if (v > (UINT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  int shift = 0;
  switch (*s) {
  case 'k': case 'K': shift = 10; break;
  case 'm': case 'M': shift = 20; break;
  case 'g': case 'G': shift = 30; break;
  case 0: break;
  default: return false;
  }
  if (shift) {
    s++;
    if (s[0] == 'i' && s[1] == 'B')
      s += 2;
    if (*s != 0)
      return false;
    if (v > (UINT64_MAX >> shift))
      return false;
    v <<= shift;
  }
  *out = v;
  return true;
}

void memlimit_init(void) {
  memlimit_cond_init();
  const char *e = sgc_option("SPANGC_MEMLIMIT");
  if (e == NULL || *e == 0)
    return;
  uint64_t v;
  if (!memlimit_parse(e, &v))
    sgc_fatal("SPANGC_MEMLIMIT=%s: expected a number of bytes with an "
              "optional K, M, G, KiB, MiB or GiB suffix (e.g. 512MiB), "
              "or 0 for no limit", e);
  ATOMIC_STORE(&ml.limit, v);
}

size_t sgc_set_memory_limit(size_t bytes) {
  sgc_ensure_init();
  uint64_t old = __atomic_exchange_n(&ml.limit, (uint64_t)bytes,
                                     __ATOMIC_SEQ_CST);
  if (bytes != 0) { /* no parked spans under a limit */
    mcache *c = nopreempt_enter_any();
    mcentral_unpark_all();
    nopreempt_leave_any(c);
  }
  /* The goal follows at once, as with sgc_set_gcpercent. */
  gc_refresh_goal();
  /* Under a lowered limit, give back at once what the heap holds over. */
  if (bytes != 0) {
    mcache *c = nopreempt_enter_any(); /* never stopped holding mheap.lock */
    memlimit_note_released(
        mheap_scavenge_down_to(memlimit_retain_cap(), SIZE_MAX, 0));
    nopreempt_leave_any(c);
  }
  return (size_t)old;
}

/* ------------------------------------------------------ statistics */

/* The figures a collection sets (gc_lock held). */
void memlimit_read_stats(sgc_stats *st) {
  st->limit_lowered_goals = ml.nlowered;
  st->limit_goal_unlimited = ml.goal_unlimited;
}

/* The figures that change outside collections (the limit, what the heap
 * holds, the cap's put-offs, the prompt releases): read live, also while
 * a concurrent collection runs (gc_read_stats). */
void memlimit_read_live_stats(sgc_stats *st) {
  st->memory_limit = ATOMIC_LOAD_RELAXED(&ml.limit);
  st->memory_held_bytes = memlimit_held();
  st->limit_collections_put_off = ATOMIC_LOAD_RELAXED(&ml.nputoff);
  st->prompt_released_bytes = ATOMIC_LOAD_RELAXED(&ml.released);
}

void memlimit_trace(uint64_t numgc) {
  uint64_t lim = ATOMIC_LOAD_RELAXED(&ml.limit);
  if (lim == 0 && ATOMIC_LOAD_RELAXED(&ml.prompt_until) == 0)
    return;
  const double mb = 1048576.0;
  char buf[320];
  int n;
  if (lim == 0)
    n = snprintf(buf, sizeof buf,
                 "limit %llu: none; held %.1f MB; released promptly %.1f MB "
                 "ever\n",
                 (unsigned long long)numgc, memlimit_held() / mb,
                 ATOMIC_LOAD_RELAXED(&ml.released) / mb);
  else if (ml.lowered)
    n = snprintf(buf, sizeof buf,
                 "limit %llu: %.1f MB, held %.1f MB; goal lowered by the "
                 "limit from %.1f to %.1f MB; %llu collections put off by "
                 "the CPU cap; released for the limit %.1f MB ever\n",
                 (unsigned long long)numgc, lim / mb, memlimit_held() / mb,
                 ml.goal_unlimited == UINT64_MAX ? 0.0
                                                 : ml.goal_unlimited / mb,
                 ml.goal / mb,
                 (unsigned long long)ATOMIC_LOAD_RELAXED(&ml.nputoff),
                 ATOMIC_LOAD_RELAXED(&ml.released) / mb);
  else
    n = snprintf(buf, sizeof buf,
                 "limit %llu: %.1f MB, held %.1f MB; goal not lowered\n",
                 (unsigned long long)numgc, lim / mb, memlimit_held() / mb);
  if (n > (int)sizeof buf - 1)
    n = (int)sizeof buf - 1;
  sgc_write_all(2, buf, (size_t)n);
}
