// labels: gc
/* Which written pages the collector protects again is a policy
 * (genprotect.c: only pages old objects fill; a page written since its
 * protection stays unprotected, "hot", for a few collections, then is
 * protected again; short stretches of unprotected pages are protected
 * with their neighbours).  Whatever it chooses, a store into an old
 * object must be seen by the next minor collection.  Old holders of
 * several sizes (16 B to several pages, so objects straddle the kernel's
 * 4 KiB pages), with garbage between them (pages with free slots), get
 * pointers to young tagged objects in patterns that change every round:
 * every k-th holder, blocks of 64, random ones, a region written, left
 * alone, written again (hot, cooled, protected, written), nothing at
 * all; every fifth round some holders are copied, freed (sgc_free) and
 * their slots reused.  Minor collections run between rounds, a major now
 * and then.  The young objects are reachable only through the holders:
 * each must stay intact, and minors must run when generations are on
 * (with SPANGC_GENERATIONAL=0 or SPANGC_DIRTY=off the same checks hold
 * across ordinary collections).  Helps catch: a page left unprotected
 * and not listed, or protected between its listing and its rescan. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

static void **volatile g_table; /* the holders (old) */
static void *volatile g_sink;   /* garbage passes through it */
static uint64_t *tags;          /* malloc'ed: the tag of each slot, 0: none */
static size_t hsize, nslot, nhold;
static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void) {
  return xorshift64(&rng);
}

__attribute__((noinline)) static void store(size_t h, size_t s, uint64_t tag) {
  void **o = (void **)g_table[h];
  o[s] = tagged_new(tag);
  tags[h * nslot + s] = tag;
}

__attribute__((noinline)) static long count_lost(void) {
  long bad = 0;
  for (size_t h = 0; h < nhold; h++) {
    void **o = (void **)g_table[h];
    CHECK(sgc_base(o) == o);
    for (size_t s = 0; s < nslot; s++) {
      uint64_t tg = tags[h * nslot + s];
      if (tg && !tagged_intact((uint64_t *)o[s], tg)) {
        if (bad < 10)
          fprintf(stderr, "holder %zu (%zu B) slot %zu: tag %llu lost\n", h,
                  hsize, s, (unsigned long long)tg);
        bad++;
      }
    }
  }
  return bad;
}

__attribute__((noinline)) static void replace_holder(size_t h) {
  void **o = (void **)g_table[h];
  void **n = sgc_alloc(hsize);
  CHECK(n != NULL);
  memcpy(n, o, nslot * sizeof(void *));
  g_table[h] = n;
  memset(o, 0, nslot * sizeof(void *));
  sgc_free(o);
}

static bool written(int pat, size_t h, int r, size_t period) {
  switch (pat) {
  case 0: return h % period == 0;
  case 1: return (h / 64) % period == (size_t)r % period;
  case 2: return next_rand() % 50 == 0;
  case 3: case 5: case 8: return false; /* the hot pages cool down */
  case 4: case 6: return (h / 300) % 5 == 0; /* one region, twice */
  case 7: return next_rand() % 3 == 0;
  default: return (h / 16) % 10 == (size_t)r % 10;
  }
}

static long run(size_t size, size_t holders, int rounds) {
  hsize = size;
  nslot = size / sizeof(void *);
  nhold = holders;
  g_table = sgc_alloc(nhold * sizeof(void *));
  tags = calloc(nhold * nslot, sizeof *tags);
  CHECK(g_table != NULL && tags != NULL);
  for (size_t h = 0; h < nhold; h++) {
    g_table[h] = sgc_alloc(hsize);
    CHECK(g_table[h] != NULL);
    if (next_rand() % 7 == 0)
      g_sink = sgc_alloc(hsize); /* garbage: a free slot after a sweep */
  }
  sgc_collect();
  uint64_t tag = 1;
  long bad = 0;
  for (int r = 0; r < rounds; r++) {
    size_t period = 1 + (size_t)(r / 10) % 9;
    for (size_t h = 0; h < nhold; h++)
      if (written(r % 10, h, r, period))
        store(h, next_rand() % nslot, tag++);
    if (r % 5 == 2)
      for (int k = 0; k < 50; k++)
        replace_holder(next_rand() % nhold);
    clear_stack();
    run_minors_sized(1 + (r % 3 == 0), 64 + (size_t)(r % 4) * 16);
    if (r % 10 == 9)
      bad += count_lost();
    if (r % 37 == 36)
      sgc_collect();
  }
  bad += count_lost();
  g_sink = NULL;
  free(tags);
  g_table = NULL;
  sgc_collect();
  return bad;
}

int main(void) {
  sgc_init();
  uint64_t m0 = minor_count();
  static const size_t sizes[] = {16, 48, 112, 1536, 5000, 40000};
  static const size_t holders[] = {40000, 20000, 10000, 2000, 600, 60};
  long bad = 0;
  for (int i = 0; i < 6; i++) {
    long b = run(sizes[i], holders[i], (int)scaled(60));
    printf("holders of %zu B: %ld young objects lost\n", sizes[i], b);
    bad += b;
  }
  uint64_t minors = minor_count() - m0;
  printf("%llu minor collections\n", (unsigned long long)minors);
  CHECK(bad == 0);
  if (generational())
    CHECK(minors > 0);
  return 0;
}
