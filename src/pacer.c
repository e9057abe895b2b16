/*
 * pacer.c — when the next collection starts: its goal, the figure of
 * heap_live + freed_pending (gc_heap_pressure) that triggers it.
 *
 * Pure functions of their inputs: no state, no locks.  gc.c (with
 * collect.c, which runs the collections) and generation.c keep the
 * figures (under gc_lock) and call them at the end of a collection, when
 * a collection is abandoned, and when GOGC changes.
 *
 * Go's GOGC: after a collection that found M bytes live, the goal is
 * M * (1 + gcpercent/100), at least the minimum goal (4 MiB, plus what
 * sgc_expand_heap added).  With gcpercent < 0 (GOGC=off) the goal stays
 * at the minimum; gc_maybe_collect then never collects, and only
 * sgc_collect and the heap limit do.
 *
 * With generations (generation.c): L is the live heap the last major
 * collection found, H = L * gcpercent/100 (the headroom), at least the
 * minimum goal.  The goal is L + H, raised to M + H/2 if the next
 * collection is to be minor (room for young objects to die), or to M +
 * the minimum goal if major, so that the heap stays near what GOGC alone
 * would give; to M + H/2 too if the major is to be concurrent (it marks
 * while the program allocates: after a minor that left the heap at L +
 * H, a goal M + 4 MiB was reached before the collector thread had begun,
 * and the major ran with the world stopped).
 *
 * Sizing by cost (SPANGC_SIZING=sqrt; issue 15, item 3).  GOGC gives a
 * room proportional to the live heap.  MemBalancer (Kirisame et al.,
 * OOPSLA 2022) shows that the room minimising time x memory grows with
 * the square root of live x (allocation rate / collection speed): a
 * program that allocates slowly, or whose live heap is large, needs
 * proportionally less room.  Here H = sqrt(L x K x g / s) with K =
 * PACER_SQRT_K x GOGC/100 (64 MiB at GOGC 100: the room GOGC gives a 64
 * MiB heap whose allocation keeps pace with its mark), g the smoothed
 * allocation rate and s the smoothed marking speed of major collections
 * (collect.c measures both); H never exceeds GOGC's room (never more
 * memory than GOGC alone) nor falls below the minimum goal, nor, with
 * concurrent majors, below what the program allocates during one (the
 * trigger's margin, conc_room, at 9/10 of the room).  Without rates yet
 * (the first collections), GOGC's room.
 *
 * Pointer-free bytes weighed less (the bdwgc layer: noscan_div 4).  A
 * collection's cost is in the objects it scans: a pointer-free object
 * is marked with one bit and never read.  bdwgc collects once the bytes
 * allocated reach (2 x pointer-holding + pointer-free / 4) / d of the
 * heap in use, pointer-free bytes weighing an eighth of the others, so
 * a heap of strings gets little room (ECL filling hash tables with
 * strings, three fifths of its live data pointer-free: 56 MB of heap on
 * bdwgc, 68 MB of spans here when the room was 75% of all live bytes).
 * With noscan_div n, the room (GOGC's and the square-root rule's) is
 * computed from live - noscan + noscan / n: the live bytes a collection
 * must scan, plus an nth of the others; the goal is still live + room.
 * The weighing never takes the room below the minimum goal (nor below
 * what all live bytes would give, if that is less).
 * The layer takes a quarter, not bdwgc's eighth: on the Guile and ECL
 * programs (bench part programs) both brought the hash-table programs'
 * peak RSS from 1.09x and 1.17x bdwgc's to 1.00x and 1.05x, and the
 * eighth made Guile's 6% slower than the quarter (50 collections where
 * bdwgc makes 44: its heap grows in steps above its formula's bound).
 *
 * A collection abandoned for want of memory for its root tables waits
 * until the heap has grown by half again (by the minimum goal at least).
 *
 * The heap limit (sgc_set_max_heap) is not an input: reaching it forces a
 * collection whatever the goal (gc_collect_for_room).
 *
 * Idle collections.  The goal is counted in bytes, so a program whose
 * live data shrank and that now allocates slowly would not collect for a
 * whole goal's worth of allocation (1 GB live dropped to 100 MB at 20
 * MB/s: 50 s with nothing freed or returned).  So a thread that takes
 * memory also looks at the clock: once no collection ran for the idle
 * interval, a major one runs, if at the rate the program allocated since
 * the last collection its goal is more than another interval away.  The
 * interval is 10 times the last major collection's stop (such
 * collections then cost at most a tenth of the time),
 * at least 1 s, times a backoff that doubles after each idle collection
 * that freed less than a quarter of the heap and returns to 1 after one
 * that freed more, up to 2 minutes: a program with a large stable heap
 * that allocates slowly pays a few such collections, then one every 2
 * minutes (Go's forced collection period).  The backoff is for a stable
 * heap only: any collection that finds the live heap moved, up or down,
 * by a quarter since the backoff was last 1 (collect.c keeps that live
 * heap, idle_backoff_live) returns it to 1: a heap built up slowly, even
 * in small steps, keeps it low.  (A live heap that swings by more than
 * that at every idle collection gets one every interval, at most a tenth
 * of the time: 8% on a 200 <-> 280 MB swing, against 6% with the old
 * rule.)  Without that, a heap
 * built up slowly (idle collections on the way, each freeing nothing)
 * left a backoff of 4 or more, and when the program then dropped most of
 * its data the next idle collection was 4 s or more away (seen on the
 * shrink benchmark beside other work).
 */
#include "spangc-int.h"

uint64_t pacer_headroom(uint64_t major_live, int gcpercent,
                        uint64_t min_goal) {
  uint64_t H = gcpercent >= 0 ? major_live / 100 * (uint64_t)gcpercent : 0;
  return H < min_goal ? min_goal : H;
}

static uint64_t isqrt(unsigned __int128 v) {
  if (v == 0)
    return 0;
  /* Newton's method from above (x >= sqrt(v) throughout). */
  unsigned __int128 x = (v >> 64) ? (unsigned __int128)1 << 64 : v;
  unsigned __int128 y = (x + v / x) / 2;
  while (y < x) {
    x = y;
    y = (x + v / x) / 2;
  }
  return (uint64_t)x;
}

/* The live bytes the room is proportional to: noscan of them (the
 * pointer-free ones) weigh 1/noscan_div. */
static uint64_t room_basis(const pacer_inputs *in, uint64_t live,
                           uint64_t noscan) {
  if (in->noscan_div <= 1 || noscan > live)
    return live;
  return live - noscan + noscan / in->noscan_div;
}

uint64_t pacer_room(const pacer_inputs *in, uint64_t live, uint64_t noscan) {
  live = room_basis(in, live, noscan);
  uint64_t gogc = pacer_headroom(live, in->gcpercent, in->min_goal);
  if (!in->sizing_sqrt || in->gcpercent <= 0 || in->alloc_rate == 0 ||
      in->mark_rate == 0)
    return gogc;
  /* live x K x g / s in 128 bits, g / s in 32.32 fixed point.  A program
   * allocating 256 times faster than the collector marks gets GOGC's
   * room (and the products stay in range). */
  unsigned __int128 k = (unsigned __int128)PACER_SQRT_K *
                        (uint64_t)in->gcpercent / 100;
  unsigned __int128 r = ((unsigned __int128)in->alloc_rate << 32) /
                        in->mark_rate;
  if (r >= (unsigned __int128)1 << 40 || live > ((uint64_t)1 << 50))
    return gogc;
  unsigned __int128 v = ((unsigned __int128)live * k * r) >> 32;
  uint64_t h = isqrt(v);
  /* A concurrent major marks while the program allocates: less room than
   * that allocation (the trigger's margin, which takes at most 9/10 of
   * the room) and the heap reaches its goal mid-mark, where threads
   * assist or wait (the pause test, concurrent: 80-98 assists per cycle,
   * 10-12 ms worst push against 2-8.5 ms with GOGC's room). */
  if (in->conc_room > 0 && h < in->conc_room / 9 * 10)
    h = in->conc_room / 9 * 10;
  if (h > gogc)
    h = gogc;
  return h < in->min_goal ? in->min_goal : h;
}

uint64_t pacer_goal(const pacer_inputs *in) {
  if (in->gcpercent < 0) /* no automatic collections */
    return in->min_goal;
  if (!in->generational) {
    /* GOGC's room has no floor of its own here (the goal has); the
     * square-root rule's is never more than it. */
    uint64_t room = room_basis(in, in->marked, in->marked_noscan) / 100 *
                    (uint64_t)in->gcpercent;
    if (in->sizing_sqrt) {
      uint64_t r = pacer_room(in, in->marked, in->marked_noscan);
      if (r < room)
        room = r;
    }
    /* Weighing pointer-free bytes never takes the room below the minimum
     * goal, as the generational H's floor does: without it, a layer
     * program holding 4 MB of strings got a room of 0.75 MB and collected
     * 2.5 times as often as on bdwgc (helper-66).  Below that, the room
     * all live bytes would give. */
    if (in->noscan_div > 1) {
      uint64_t full = in->marked / 100 * (uint64_t)in->gcpercent;
      uint64_t floor = full < in->min_goal ? full : in->min_goal;
      if (room < floor)
        room = floor;
    }
    uint64_t goal = in->marked + room;
    return goal < in->min_goal ? in->min_goal : goal;
  }
  uint64_t L = in->major_live;
  uint64_t H = pacer_room(in, L, in->major_noscan);
  uint64_t goal = L + H;
  /* A concurrent major needs room to mark in while the program
   * allocates: as much as a minor gets. */
  uint64_t floor = in->marked + (in->next_minor || in->concurrent
                                     ? H / 2 : in->min_goal);
  return goal < floor ? floor : goal;
}

uint64_t pacer_idle_interval(uint64_t major_stop_ns, uint32_t backoff) {
  uint64_t base = major_stop_ns * PACER_IDLE_COST;
  if (base < PACER_IDLE_MIN_NS)
    base = PACER_IDLE_MIN_NS;
  if (base >= PACER_IDLE_MAX_NS || backoff >= PACER_IDLE_MAX_NS / base)
    return PACER_IDLE_MAX_NS;
  uint64_t v = base * (backoff ? backoff : 1);
  return v < PACER_IDLE_MAX_NS ? v : PACER_IDLE_MAX_NS;
}

uint32_t pacer_idle_backoff(uint32_t backoff, bool idle, uint64_t base_live,
                            uint64_t heap_before, uint64_t live) {
  uint64_t moved = live > base_live ? live - base_live : base_live - live;
  if (moved >= base_live / 4)
    return 1; /* the live heap is not the stable one the backoff is for */
  if (!idle)
    return backoff;
  uint64_t freed = heap_before > live ? heap_before - live : 0;
  if (freed >= heap_before / 4)
    return 1;
  if (backoff >= (uint32_t)1 << 16)
    return backoff;
  return backoff ? backoff * 2 : 2;
}

uint64_t pacer_goal_abandoned(uint64_t pressure) {
  uint64_t half = pressure / 2;
  return pressure + (half > PACER_MIN_GOAL ? half : PACER_MIN_GOAL);
}
