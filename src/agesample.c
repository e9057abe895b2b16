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
 * the stop's clearing in markroot.c).  After the mark, the old objects
 * marked again in them, scaled by the sampled spans' share of the bytes
 * of all the spans looked at, are the old survivors; the rest of what
 * the major marked is young survivors: objects allocated since the last
 * collection, before the sample or after it (during step 0 and the
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
 * during the mark.  Below a quarter of the old bytes (AGE_MIN_SHARE), the
 * young are too few against the estimate's noise: no verdict.
 *
 * Threads: everything here is the collecting thread's (gc_lock held); the
 * mark bits are read with relaxed atomic loads, as markers set them.
 */
#include "spangc-int.h"

#define AGE_SAMPLES 256
#define AGE_MIN_SHARE 4

static struct {
  bool taken; /* this cycle's marks were sampled before clearing */
  uint32_t n;    /* entries held */
  uint64_t seen; /* in-use spans looked at */
  uint64_t rng;  /* xorshift state choosing the spans */
  uint64_t seen_bytes;
  struct {
    mspan *s;
    uintptr_t base; /* the span's, to see it was not freed and made again */
    uint64_t bytes;
    uint64_t old[BITMAP_WORDS];
  } e[AGE_SAMPLES];
} age SGC_NOGC = {.rng = 0x9e3779b97f4a7c15ull};

bool age_sample_begin(void) {
  if (age.taken) /* cleared once already (a fallback to a whole stop) */
    return false;
  age.taken = true;
  age.n = 0;
  age.seen = age.seen_bytes = 0;
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
  uint64_t bytes = (uint64_t)s->npages * PAGE_SIZE;
  age.seen_bytes += bytes;
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
  age.e[k].bytes = bytes;
  for (uint32_t j = 0; j < BITMAP_WORDS; j++)
    age.e[k].old[j] = ATOMIC_LOAD_RELAXED(&s->markbits[j]);
}

bool age_sample_young_died(uint64_t last_marked, uint64_t live_end,
                           uint64_t marked) {
  if (!age.taken)
    return false;
  uint64_t sampled_bytes = 0, old_kept = 0;
  for (uint32_t k = 0; k < age.n; k++) {
    sampled_bytes += age.e[k].bytes;
    mspan *s = age.e[k].s;
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->base != age.e[k].base)
      continue; /* freed since: its old objects died */
    for (uint32_t j = 0; j < BITMAP_WORDS; j++)
      old_kept += (uint64_t)bits_set(ATOMIC_LOAD_RELAXED(&s->markbits[j]) &
                                     age.e[k].old[j]) *
                  s->elemsize;
  }
  if (sampled_bytes == 0)
    return false;
  old_kept = (uint64_t)((unsigned __int128)old_kept * age.seen_bytes /
                        sampled_bytes);
  uint64_t young = live_end > last_marked ? live_end - last_marked : 0;
  if (young == 0 || young < last_marked / AGE_MIN_SHARE)
    return false;
  uint64_t kept = marked > old_kept ? marked - old_kept : 0;
  return kept <= young / 2;
}

void age_sample_reset(void) { age.taken = false; }
