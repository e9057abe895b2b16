/*
 * agesample.c — the age sample: how much of what a major collection kept
 * is young, which the heap's totals cannot tell.  binary-trees and the
 * pause test both keep their marked bytes while allocating as much again
 * between majors: the first frees its young trees, the second its oldest
 * messages.  The generational policy (generation.c) retries minors beside
 * concurrent majors only when the young died (docs/design.md, "Minors
 * beside concurrent majors").
 *
 * Before a major clears the mark bits, which with sticky mark bits are
 * the old objects', AGE_SAMPLES in-use spans chosen at random (a
 * reservoir, age_sample_span) keep a copy of them (mheap_clear_marks, or
 * the stop's clearing in markroot.c).  After the mark, the share of the
 * sampled spans' old bytes marked again, times all the old bytes (the
 * last collection's marks), estimates the old survivors (a ratio
 * estimator: where old objects all live, as in a program that keeps a
 * large structure, the share is exact whatever the sample); the rest of
 * what the major marked is young survivors: objects allocated since the
 * last collection, before the sample or after it (during step 0 and the
 * concurrent mark of a concurrent major), and reachable at the mark's
 * end.  They are compared with all the bytes allocated since the last
 * collection, up to the end of the mark: the young a minor in its place
 * would have judged.
 *
 * Counting only the young objects allocated before the sample judged
 * them older than a minor would whenever the program allocated much
 * after it: a window of messages that turned over between a concurrent
 * major's sample and its mark (10 MB allocated, under ASan, over a 10 MB
 * window) lost every sampled young message, all of which a minor would
 * have found alive; and binary-trees, whose concurrent marks start as the
 * last one ends, samples few young objects, the others all allocated
 * during the mark.  Within AGE_MARGIN standard errors of the estimate
 * (from the sample's own spread) of the verdict's line, no verdict: a
 * first guard, no verdict below a quarter of the old bytes, kept minors
 * away for good from programs with GOGC 15 or less (the review's: 0
 * minors of 530, phase 2.2-3.2 s pauses and 10-15 s against 1-2 s).
 *
 * Threads: everything here is the collecting thread's (gc_lock held); the
 * mark bits are read with relaxed atomic loads, as markers set them.
 */
#include "spangc-int.h"

#define AGE_SAMPLES 256
#define AGE_MARGIN 2.0

static struct {
  bool taken; /* this cycle's marks were sampled before clearing */
  uint32_t n;    /* entries held */
  uint64_t seen; /* in-use spans looked at */
  uint64_t rng;  /* xorshift state choosing the spans */
  struct {
    mspan *s;
    uintptr_t base; /* the span's, to see it was not freed and made again */
    uint64_t elemsize;
    uint64_t old[BITMAP_WORDS];
  } e[AGE_SAMPLES];
  double kept[AGE_SAMPLES], had[AGE_SAMPLES]; /* old bytes, per entry */
} age SGC_NOGC = {.rng = 0x9e3779b97f4a7c15ull};

bool age_sample_begin(void) {
  if (age.taken) /* cleared once already (a fallback to a whole stop) */
    return false;
  age.taken = true;
  age.n = 0;
  age.seen = 0;
  return true;
}

/* A reservoir: every in-use span is as likely to be held as any other,
 * wherever it sits in allspans.  Every stride-th index missed 40% of the
 * pause test's young survivors (allspans holds spans in patterns, its
 * structs being reused); one in stride at random, up to AGE_SAMPLES,
 * left out the newest spans whenever the draw ran over (a window of
 * messages whose young spans were at the end: four fifths kept, sampled
 * as 57%, against 79% from every span). */
void age_sample_span(mspan *s) {
  uint64_t i = age.seen++;
  uint32_t k;
  if (i < AGE_SAMPLES) {
    k = age.n++;
  } else {
    uint64_t x = age.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    age.rng = x;
    if (x % (i + 1) >= AGE_SAMPLES)
      return;
    k = (uint32_t)(x % (i + 1));
  }
  age.e[k].s = s;
  age.e[k].base = s->base;
  age.e[k].elemsize = s->elemsize;
  for (uint32_t j = 0; j < BITMAP_WORDS; j++)
    age.e[k].old[j] = ATOMIC_LOAD_RELAXED(&s->markbits[j]);
}

bool age_sample_young_died(uint64_t last_marked, uint64_t live_end,
                           uint64_t marked) {
  uint32_t n = age.n;
  if (!age.taken || n < 2)
    return false;
  double sum_kept = 0, sum_had = 0;
  for (uint32_t k = 0; k < n; k++) {
    mspan *s = age.e[k].s;
    uint64_t had = 0, kept = 0;
    bool same = ATOMIC_LOAD(&s->state) == MSPAN_INUSE &&
                s->base == age.e[k].base; /* else freed: old ones died */
    for (uint32_t j = 0; j < BITMAP_WORDS; j++) {
      uint64_t old = age.e[k].old[j];
      had += (uint64_t)bits_set(old);
      if (same)
        kept += (uint64_t)bits_set(ATOMIC_LOAD_RELAXED(&s->markbits[j]) & old);
    }
    age.had[k] = (double)(had * age.e[k].elemsize);
    age.kept[k] = (double)(kept * age.e[k].elemsize);
    sum_had += age.had[k];
    sum_kept += age.kept[k];
  }
  /* The old bytes (last_marked) times the share of them the sample saw
   * marked again, and that estimate's standard error (a ratio estimator
   * over a sample without replacement). */
  double old_kept = 0, se2 = 0; /* the error squared: no libm */
  if (sum_had > 0) {
    double r = sum_kept / sum_had, v = 0;
    for (uint32_t k = 0; k < n; k++) {
      double d = age.kept[k] - r * age.had[k];
      v += d * d;
    }
    v /= (double)(n - 1);
    double mean_had = sum_had / (double)n;
    double fpc = 1.0 - (double)n / (double)age.seen;
    double l = (double)last_marked / mean_had;
    se2 = v / (double)n * (fpc > 0 ? fpc : 0) * l * l;
    old_kept = r * (double)last_marked;
  } else if (last_marked > 0) {
    return false; /* old bytes, none sampled: no estimate */
  }
  double young = live_end > last_marked ? (double)(live_end - last_marked)
                                        : 0;
  if (young <= 0)
    return false;
  double kept = (double)marked > old_kept ? (double)marked - old_kept : 0;
  /* Within AGE_MARGIN standard errors of the verdict's line, no verdict. */
  double d = kept - young / 2;
  if (d * d < AGE_MARGIN * AGE_MARGIN * se2)
    return false;
  return kept <= young / 2;
}

void age_sample_reset(void) { age.taken = false; }
