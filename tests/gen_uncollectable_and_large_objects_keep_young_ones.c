// labels: gc
/* Generational collection: old containers of two more sorts, written
 * after they became old with the only pointers to young objects:
 *  - uncollectable objects (sgc_alloc_uncollectable: roots the collector
 *    never frees, old after the first collection);
 *  - a large conservative object (1 MiB, one span) written far from its
 *    first page: the last page, a middle page, and (a control) the first.
 * The young objects (64 bytes, with a pattern) must survive several minor
 * collections intact, round after round (exact), and minors must run when
 * generations are on.
 * Catches: scan_dirty not scanning written pages (uncollectable objects);
 * of a large object scanning only from its first page (the written part
 * of a large object is what must be scanned). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NU 200        /* uncollectable objects */
#define UW 16         /* their words */
#define BIG (1 << 20) /* the large object */
#define BW (BIG / 8)
#define ROUNDS 6

void **volatile g_uncoll[NU]; /* the uncollectable objects need no root:
                                 kept here only to find them */
void **volatile g_big;
static uint64_t *utags, btags[3]; /* malloc'ed / static (not scanned: tags) */
static const long bigpos[3] = {BW - 1, BW / 2 + 3, 2};

__attribute__((noinline)) static void make(void) {
  for (int i = 0; i < NU; i++) {
    g_uncoll[i] = sgc_alloc_uncollectable(UW * sizeof(void *));
    CHECK(g_uncoll[i] != NULL && sgc_is_uncollectable(g_uncoll[i]));
  }
  g_big = sgc_alloc(BIG);
  CHECK(g_big != NULL);
}

__attribute__((noinline)) static void store(int r) {
  int j = r % UW;
  for (int i = 0; i < NU; i++) {
    uint64_t tag = 0x5500000000000000ull | ((uint64_t)r << 32) |
                   ((uint64_t)i << 8);
    utags[i * UW + j] = tag;
    g_uncoll[i][j] = tagged_new(tag);
  }
  for (int k = 0; k < 3; k++) {
    btags[k] = 0x5b00000000000000ull | ((uint64_t)r << 32) | (uint64_t)k << 8;
    g_big[bigpos[k]] = tagged_new(btags[k]);
  }
}

__attribute__((noinline)) static void check_all(const char *when) {
  for (int i = 0; i < NU; i++)
    for (int j = 0; j < UW; j++)
      if (utags[i * UW + j])
        CHECKF(tagged_intact(g_uncoll[i][j], utags[i * UW + j]), "%s: "
               "uncollectable object %d word %d lost its young object",
               when, i, j);
  for (int k = 0; k < 3; k++)
    CHECKF(tagged_intact(g_big[bigpos[k]], btags[k]), "%s: the large object's "
           "word %ld (page %ld of %d) lost its young object", when,
           bigpos[k], bigpos[k] * 8 / 4096, BIG / 4096);
}

int main(void) {
  sgc_init();
  utags = calloc(NU * UW, sizeof *utags);
  CHECK(utags != NULL);
  make();
  clear_stack();
  sgc_collect(); /* old now */
  int gen = generational();
  uint64_t minors = 0;
  for (int r = 0; r < ROUNDS; r++) {
    store(r);
    clear_stack();
    minors += run_minors(3);
    check_all("after minor collections");
  }
  printf("%d rounds, %llu minor collections (generational %d)\n", ROUNDS,
         (unsigned long long)minors, gen);
  if (gen)
    CHECKF(minors >= ROUNDS, "only %llu minor collections ran",
           (unsigned long long)minors);
  sgc_collect();
  check_all("after a major collection");
  return 0;
}
