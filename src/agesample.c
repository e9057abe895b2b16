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
 * the old objects', about AGE_SAMPLES in-use spans chosen at random keep
 * a copy of them (mheap_clear_marks, or the stop's clearing in
 * markroot.c).  After the mark, the objects marked now and not then are
 * the young survivors; scaled by the sampled spans' share of the bytes
 * of all the spans looked at, they are compared with the young bytes
 * allocated between the last collection and the sample.  Objects
 * allocated during a concurrent mark and reachable at its end count as
 * young survivors too.
 *
 * Threads: everything here is the collecting thread's (gc_lock held); the
 * mark bits are read with relaxed atomic loads, as markers set them.
 */
#include "spangc-int.h"

#define AGE_SAMPLES 256

static struct {
  bool taken; /* this cycle's marks were sampled before clearing */
  uint32_t stride, n;
  uint64_t heap; /* the heap's bytes at the sample (gc_heap_pressure) */
  uint64_t rng;  /* xorshift state choosing the spans */
  uint64_t seen_bytes, sampled_bytes;
  struct {
    mspan *s;
    uintptr_t base; /* the span's, to see it was not freed and made again */
    uint64_t old[BITMAP_WORDS];
  } e[AGE_SAMPLES];
} age SGC_NOGC = {.rng = 0x9e3779b97f4a7c15ull};

bool age_sample_begin(uint32_t nspan) {
  if (age.taken) /* cleared once already (a fallback to a whole stop) */
    return false;
  age.taken = true;
  age.heap = gc_heap_pressure();
  age.n = 0;
  age.seen_bytes = age.sampled_bytes = 0;
  age.stride = nspan / AGE_SAMPLES + 1;
  return true;
}

void age_sample_span(mspan *s) {
  uint64_t bytes = (uint64_t)s->npages * PAGE_SIZE;
  age.seen_bytes += bytes;
  /* One in stride, at random: every stride-th index of allspans missed
   * 40% of the pause test's young survivors (allspans holds spans in
   * patterns, its structs being reused). */
  uint64_t x = age.rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  age.rng = x;
  if (x % age.stride != 0 || age.n >= AGE_SAMPLES)
    return;
  age.e[age.n].s = s;
  age.e[age.n].base = s->base;
  for (uint32_t j = 0; j < BITMAP_WORDS; j++)
    age.e[age.n].old[j] = ATOMIC_LOAD_RELAXED(&s->markbits[j]);
  age.n++;
  age.sampled_bytes += bytes;
}

bool age_sample_young_died(uint64_t last_marked) {
  if (!age.taken || age.sampled_bytes == 0)
    return false;
  uint64_t young = age.heap > last_marked ? age.heap - last_marked : 0;
  if (young == 0)
    return false;
  uint64_t kept = 0;
  for (uint32_t k = 0; k < age.n; k++) {
    mspan *s = age.e[k].s;
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE || s->base != age.e[k].base)
      continue; /* freed since (its bytes stay in the scale) */
    for (uint32_t j = 0; j < BITMAP_WORDS; j++)
      kept += (uint64_t)bits_set(ATOMIC_LOAD_RELAXED(&s->markbits[j]) &
                                 ~age.e[k].old[j]) *
              s->elemsize;
  }
  kept = (uint64_t)((unsigned __int128)kept * age.seen_bytes /
                    age.sampled_bytes);
  return kept <= young / 2;
}

void age_sample_reset(void) { age.taken = false; }
