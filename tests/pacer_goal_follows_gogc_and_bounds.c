// labels: gc
/* The pacer's goal, a pure function of its inputs: live * (1 + GOGC/100)
 * without generations, never under the minimum goal, the minimum with
 * GOGC off; with generations L + H (H = L * GOGC/100, at least the
 * minimum), raised to M + H/2 before a minor and to M + the minimum before
 * a major; half as much again after an abandoned collection.  The idle
 * interval: 10 x the last major's stop, 1 s at least, times a backoff
 * that doubles after a fruitless idle collection and resets after one
 * that freed a quarter of the heap or after any collection that found the
 * live heap moved by a quarter since the backoff was last 1, 2 minutes at
 * most.  Across a
 * grid of inputs the goal never falls under the live heap or the minimum,
 * and grows with GOGC and with the live heap. */
#include "check.h"
#include "spangc-int.h"

#define MB ((uint64_t)1 << 20)

static uint64_t plain(uint64_t marked, int gcpercent, uint64_t min_goal) {
  pacer_inputs in = {.marked = marked, .gcpercent = gcpercent,
                     .min_goal = min_goal};
  return pacer_goal(&in);
}

static uint64_t gen(uint64_t marked, uint64_t major_live, bool next_minor,
                    int gcpercent, uint64_t min_goal) {
  pacer_inputs in = {.marked = marked, .gcpercent = gcpercent,
                     .min_goal = min_goal, .generational = true,
                     .major_live = major_live, .next_minor = next_minor};
  return pacer_goal(&in);
}

int main(void) {
  const uint64_t min = PACER_MIN_GOAL;
  CHECK(min == 4 * MB);

  /* GOGC alone. */
  CHECKF(plain(100 * MB, 100, min) == 200 * MB, "%llu",
         (unsigned long long)plain(100 * MB, 100, min));
  CHECK(plain(100 * MB, 50, min) == 150 * MB);
  CHECK(plain(100 * MB, 300, min) == 400 * MB);
  CHECK(plain(100 * MB, 0, min) == 100 * MB);
  /* Integer arithmetic as the collector does it: (M / 100) * GOGC. */
  CHECK(plain(12345, 100, 0) == 12345 + 12345 / 100 * 100);
  /* The minimum goal bounds it from below, and grows with what
   * sgc_expand_heap added. */
  CHECK(plain(1 * MB, 100, min) == min);
  CHECK(plain(0, 100, min) == min);
  CHECK(plain(10 * MB, 100, min + 64 * MB) == min + 64 * MB);
  /* GOGC off: the minimum, whatever is live. */
  CHECK(plain(500 * MB, -1, min) == min);
  CHECK(gen(500 * MB, 400 * MB, true, -1, min) == min);

  /* Generations: L + H when the last collection marked no more than L. */
  CHECK(gen(100 * MB, 100 * MB, true, 100, min) == 200 * MB);
  CHECK(gen(100 * MB, 100 * MB, false, 50, min) == 150 * MB);
  /* Before a minor, M + H/2 once old objects have piled up... */
  CHECK(gen(180 * MB, 100 * MB, true, 100, min) == 230 * MB);
  /* ...before a major, M + the minimum. */
  CHECK(gen(180 * MB, 100 * MB, false, 100, min) == 200 * MB);
  CHECK(gen(250 * MB, 100 * MB, false, 100, min) == 254 * MB);
  /* H is at least the minimum goal. */
  CHECK(pacer_headroom(1 * MB, 100, min) == min);
  CHECK(pacer_headroom(1 * MB, -1, min) == min);
  CHECK(pacer_headroom(100 * MB, 100, min) == 100 * MB);
  CHECK(gen(1 * MB, 1 * MB, false, 100, min) == 1 * MB + min);
  CHECK(gen(3 * MB, 1 * MB, true, 100, min) == 3 * MB + min / 2);

  /* An abandoned collection: half as much again, the minimum at least. */
  CHECK(pacer_goal_abandoned(100 * MB) == 150 * MB);
  CHECK(pacer_goal_abandoned(1 * MB) == 1 * MB + min);
  CHECK(pacer_goal_abandoned(0) == min);

  /* The square-root rule: sqrt(L x K x g/s), K = 64 MiB x GOGC/100,
   * within [minimum goal, GOGC's room]; GOGC's room without rates; with
   * concurrent majors, never under a concurrent mark's allocation. */
  {
    pacer_inputs in = {.marked = 100 * MB, .gcpercent = 100, .min_goal = min,
                       .sizing_sqrt = true, .alloc_rate = 1000 * MB,
                       .mark_rate = 1000 * MB};
    /* g = s: sqrt(100 MB x 64 MB) = 80 MB */
    CHECKF(pacer_room(&in, 100 * MB, 0) == 80 * MB, "%llu",
           (unsigned long long)pacer_room(&in, 100 * MB, 0));
    CHECK(pacer_goal(&in) == 180 * MB);
#define NEAR(a, b) ((a) + (b) / 1000 >= (b) && (a) <= (b) + (b) / 1000)
    in.alloc_rate = 4000 * MB; /* fast allocation: capped at GOGC's */
    CHECK(pacer_room(&in, 100 * MB, 0) == 100 * MB);
    in.alloc_rate = 10 * MB; /* slow: sqrt(100 x 64 / 100) = 8 MB */
    CHECKF(NEAR(pacer_room(&in, 100 * MB, 0), 8 * MB), "%llu",
           (unsigned long long)pacer_room(&in, 100 * MB, 0));
    in.alloc_rate = 1 * MB; /* very slow: the minimum goal */
    CHECK(pacer_room(&in, 100 * MB, 0) == min);
    in.alloc_rate = 0; /* no rates yet: GOGC's */
    CHECK(pacer_room(&in, 100 * MB, 0) == 100 * MB);
    in.alloc_rate = 1000 * MB;
    in.gcpercent = 400; /* K x 4: room x 2 */
    CHECK(pacer_room(&in, 100 * MB, 0) == 160 * MB);
    in.gcpercent = 100;
    /* Concurrent: at least what a concurrent mark's allocation needs, at
     * 9/10 of the room (the trigger's cap), still never over GOGC's. */
    in.conc_room = 90 * MB;
    CHECK(pacer_room(&in, 100 * MB, 0) == 100 * MB);
    in.conc_room = 9 * MB * 9;
    CHECK(pacer_room(&in, 100 * MB, 0) == 90 * MB);
    in.conc_room = 9 * MB;
    CHECK(pacer_room(&in, 100 * MB, 0) == 80 * MB); /* sqrt's is more */
    in.alloc_rate = 10 * MB;
    CHECK(pacer_room(&in, 100 * MB, 0) == 10 * MB);
    in.alloc_rate = 1000 * MB;
    in.conc_room = 0;
    in.sizing_sqrt = false;
    CHECK(pacer_room(&in, 100 * MB, 0) == 100 * MB);
    in.sizing_sqrt = true;
    /* Without generations too, never more than GOGC's goal, whatever the
     * minimum goal (the room alone has a floor; GOGC's goal is floored as
     * a whole). */
    for (int p = 0; p <= 200; p += 10)
      for (uint64_t m = MB / 2; m <= 64 * MB; m *= 2) {
        pacer_inputs a = {.marked = m, .gcpercent = p, .min_goal = min,
                          .sizing_sqrt = true, .alloc_rate = 500 * MB,
                          .mark_rate = 1000 * MB};
        uint64_t sq = pacer_goal(&a);
        CHECKF(sq <= plain(m, p, min), "M %llu GOGC %d: sqrt goal %llu > "
               "GOGC's %llu", (unsigned long long)m, p,
               (unsigned long long)sq, (unsigned long long)plain(m, p, min));
      }
    /* Generational: H over L. */
    in.generational = true;
    in.major_live = 400 * MB;
    in.marked = 400 * MB;
    CHECK(pacer_goal(&in) == 400 * MB + 160 * MB); /* sqrt(400 x 64) */
    /* Huge figures do not overflow; the room still grows with the
     * live heap and never passes GOGC's. */
    uint64_t prev = 0;
    for (uint64_t L = MB; L <= ((uint64_t)1 << 46); L *= 4) {
      in.alloc_rate = UINT64_MAX / 8;
      in.mark_rate = 1;
      uint64_t h = pacer_room(&in, L, 0);
      CHECK(h == pacer_headroom(L, 100, min));
      in.alloc_rate = 1000 * MB;
      in.mark_rate = 3000 * MB;
      h = pacer_room(&in, L, 0);
      CHECK(h >= prev && h >= min && h <= pacer_headroom(L, 100, min));
      prev = h;
    }
  }

  /* Pointer-free bytes weighed 1/n in the room (the bdwgc layer's rule):
   * live 100 MB of which 80 pointer-free, n = 8: the room is GOGC's over
   * 20 + 10 MB; the goal is still the whole live heap plus the room
   * (GOGC's integer arithmetic: room = basis / 100 * GOGC). */
#define ROOM(basis) ((basis) / 100 * 100)
  {
    pacer_inputs in = {.marked = 100 * MB, .marked_noscan = 80 * MB,
                       .gcpercent = 100, .min_goal = min, .noscan_div = 8};
    CHECKF(pacer_goal(&in) == 100 * MB + ROOM(30 * MB), "%llu",
           (unsigned long long)pacer_goal(&in));
    CHECK(pacer_room(&in, 100 * MB, 80 * MB) == ROOM(30 * MB));
    /* All of it pointer-free: an eighth, then the minimum room. */
    CHECK(pacer_room(&in, 100 * MB, 100 * MB) == ROOM(100 * MB / 8));
    CHECK(pacer_room(&in, 16 * MB, 16 * MB) == min);
    /* n of 0 or 1, or no pointer-free bytes: every byte counts. */
    in.noscan_div = 1;
    CHECK(pacer_goal(&in) == 100 * MB + ROOM(100 * MB));
    in.noscan_div = 0;
    CHECK(pacer_goal(&in) == 100 * MB + ROOM(100 * MB));
    in.noscan_div = 8;
    in.marked_noscan = 0;
    CHECK(pacer_goal(&in) == 100 * MB + ROOM(100 * MB));
    /* Without generations the weighed room has a floor: the minimum goal,
     * or the room all live bytes give if that is less (GOGC 75 over 4 MB
     * of strings: 3 MB, not 0.75; over 16 MB: 4 MB, not 3). */
    {
      pacer_inputs s = {.marked = 4 * MB, .marked_noscan = 4 * MB,
                        .gcpercent = 75, .min_goal = min, .noscan_div = 4};
      CHECKF(pacer_goal(&s) == 4 * MB + 4 * MB / 100 * 75, "%llu",
             (unsigned long long)pacer_goal(&s));
      s.marked = s.marked_noscan = 16 * MB;
      CHECK(pacer_goal(&s) == 16 * MB + min);
      s.marked = s.marked_noscan = 160 * MB;
      CHECK(pacer_goal(&s) == 160 * MB + 40 * MB / 100 * 75);
      s.noscan_div = 0; /* unweighed, GOGC's room alone has no floor */
      s.marked = s.marked_noscan = 2 * MB;
      CHECK(pacer_goal(&s) == min);
    }
    /* A pointer-free figure above the live one (never given) is ignored. */
    CHECK(pacer_room(&in, 10 * MB, 20 * MB) == ROOM(10 * MB));
    /* Generations: H over L's weighted bytes, the goal over L. */
    in.generational = true;
    in.major_live = 100 * MB;
    in.major_noscan = 80 * MB;
    in.marked = 100 * MB;
    CHECK(pacer_goal(&in) == 100 * MB + ROOM(30 * MB));
    in.next_minor = true;
    in.marked = 125 * MB; /* old objects piled up: M + H/2 */
    CHECK(pacer_goal(&in) == 125 * MB + ROOM(30 * MB) / 2);
    /* The square-root rule weighs the same bytes: sqrt(30 x 64 / 4) MB
     * (under GOGC's 30 MB). */
    in.next_minor = false;
    in.marked = 100 * MB;
    in.sizing_sqrt = true;
    in.alloc_rate = 250 * MB;
    in.mark_rate = 1000 * MB;
    uint64_t h = pacer_room(&in, 100 * MB, 80 * MB);
    CHECKF(NEAR(h, (uint64_t)(21.909 * MB)), "%llu", (unsigned long long)h);
  }

  /* Idle collections. */
  const uint64_t S = 1000000000;
  CHECK(pacer_idle_interval(0, 1) == 1 * S);
  CHECK(pacer_idle_interval(50000000, 1) == 1 * S);     /* 50 ms stop */
  CHECK(pacer_idle_interval(300000000, 1) == 3 * S);    /* 300 ms stop */
  CHECK(pacer_idle_interval(300000000, 4) == 12 * S);
  CHECK(pacer_idle_interval(0, 0) == 1 * S);
  CHECK(pacer_idle_interval(0, 1u << 16) == 120 * S);
  CHECK(pacer_idle_interval(20 * S, 1) == 120 * S);     /* a huge stop */
  CHECK(pacer_idle_interval(UINT64_MAX / 4, 3) == 120 * S); /* no overflow */
  /* Idle collections on a stable live heap: fruitful, fruitless. */
  CHECK(pacer_idle_backoff(1, true, 100 * MB, 1000 * MB, 100 * MB) == 1);
  CHECK(pacer_idle_backoff(8, true, 750 * MB, 1000 * MB, 750 * MB) == 1);
  CHECK(pacer_idle_backoff(1, true, 900 * MB, 1000 * MB, 900 * MB) == 2);
  CHECK(pacer_idle_backoff(2, true, 1000 * MB, 1000 * MB, 1100 * MB) == 4);
  CHECK(pacer_idle_backoff(0, true, 1000 * MB, 1000 * MB, 1000 * MB) == 2);
  CHECK(pacer_idle_backoff(1u << 16, true, MB, MB, MB) == 1u << 16);
  /* A live heap that moved by a quarter, up or down, from what it was
   * when the backoff was last 1 (a slow build-up, even in small steps;
   * a drop): back to 1, idle or not. */
  CHECK(pacer_idle_backoff(4, true, 400 * MB, 520 * MB, 500 * MB) == 1);
  CHECK(pacer_idle_backoff(4, true, 400 * MB, 510 * MB, 490 * MB) == 8);
  CHECK(pacer_idle_backoff(4, true, 200 * MB, 250 * MB, 240 * MB) == 8);
  CHECK(pacer_idle_backoff(8, true, 200 * MB, 260 * MB, 250 * MB) == 1);
  CHECK(pacer_idle_backoff(4, true, 260 * MB, 262 * MB, 200 * MB) == 8);
  CHECK(pacer_idle_backoff(4, false, 280 * MB, 300 * MB, 200 * MB) == 1);
  CHECK(pacer_idle_backoff(8, false, 683 * MB, 1100 * MB, 1024 * MB) == 1);
  CHECK(pacer_idle_backoff(8, false, 1024 * MB, 1100 * MB, 700 * MB) == 1);
  CHECK(pacer_idle_backoff(0, true, 0, 10 * MB, 4 * MB) == 1);
  /* A collection that fell due on a stable heap leaves the backoff. */
  CHECK(pacer_idle_backoff(8, false, 1000 * MB, 2000 * MB, 1010 * MB) == 8);
  CHECK(pacer_idle_backoff(0, false, 1000 * MB, 2000 * MB, 1000 * MB) == 0);
  for (uint32_t b = 1, k = 0; k < 40; k++) {
    uint64_t i = pacer_idle_interval(100000000, b);
    CHECK(i >= 1 * S && i <= 120 * S);
    uint32_t nb = pacer_idle_backoff(b, true, 99 * MB, 100 * MB, 99 * MB);
    CHECK(pacer_idle_interval(100000000, nb) >= i);
    b = nb;
  }

  /* Bounds and monotony over a grid. */
  static const int gogc[] = {0, 1, 25, 50, 100, 200, 1000};
  const int ng = (int)(sizeof gogc / sizeof gogc[0]);
  for (uint64_t m = 0; m <= 2048 * MB; m = m ? m * 2 : MB / 4) {
    uint64_t prev = 0;
    for (int k = 0; k < ng; k++) {
      uint64_t g = plain(m, gogc[k], min);
      CHECKF(g >= m && g >= min, "M %llu GOGC %d: goal %llu",
             (unsigned long long)m, gogc[k], (unsigned long long)g);
      CHECKF(g >= prev, "M %llu: GOGC %d gives %llu < %llu",
             (unsigned long long)m, gogc[k], (unsigned long long)g,
             (unsigned long long)prev);
      CHECK(plain(m * 2, gogc[k], min) >= g);
      prev = g;
      for (uint64_t l = 0; l <= m; l = l ? l * 2 : MB / 4) {
        for (int minor = 0; minor < 2; minor++) {
          uint64_t h = gen(m, l, minor, gogc[k], min);
          CHECKF(h >= m + (minor ? min / 2 : min) && h >= l + min,
                 "M %llu L %llu GOGC %d minor %d: goal %llu",
                 (unsigned long long)m, (unsigned long long)l, gogc[k],
                 minor, (unsigned long long)h);
          if (k > 0)
            CHECK(h >= gen(m, l, minor, gogc[k - 1], min));
        }
      }
    }
  }
  return 0;
}
