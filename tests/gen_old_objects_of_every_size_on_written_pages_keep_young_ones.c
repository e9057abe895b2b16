// labels: gc
/* A minor collection rescans the old objects on the pages written since
 * the last collection, reading their span's mark bits from the first
 * object overlapping a listed run to the last (markroot.c's scan_marked,
 * a word of bits at a time).  Old holders of many sizes fill several
 * spans each; a young object is stored into every holder that starts on
 * an odd kernel page only, so the listed runs begin and end inside spans
 * (their first and last objects are not on a 64-object boundary, and a
 * large holder straddles a page edge).  The young objects are reachable
 * through the holders alone and must survive several minors intact.
 * Catches: bits of a run's first or last word masked wrongly, a word
 * skipped, an object overlapping the run's first page passed over. */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

static const size_t sizes[] = {16, 24, 48, 80, 112, 208, 496, 1152, 3072};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define SPANS 4 /* about this many spans of holders of each size */
#define MAXN (SPANS * 8192 / 16 + 37)

static void **volatile holders[NSIZES][MAXN]; /* roots: the holders */
static int nheld[NSIZES];

static uint64_t tag_of(size_t k, int i) {
  return ((uint64_t)k << 32 | (uint64_t)i) * 0x9e3779b97f4a7c15ull;
}

static int on_odd_page(const void *p) { return ((uintptr_t)p >> 12) & 1; }

__attribute__((noinline)) static void make_holders(void) {
  for (size_t k = 0; k < NSIZES; k++) {
    int n = (int)(SPANS * 8192 / sizes[k]) + 37;
    if (n < 64)
      n = 64;
    nheld[k] = n;
    for (int i = 0; i < n; i++)
      holders[k][i] = sgc_alloc(sizes[k]);
  }
}

/* Young objects into the holders on odd pages (the first word; the last
 * word too when the holder ends on another page). */
__attribute__((noinline)) static int store_young(void) {
  int stored = 0;
  for (size_t k = 0; k < NSIZES; k++)
    for (int i = 0; i < nheld[k]; i++) {
      void **h = holders[k][i];
      if (!on_odd_page(h))
        continue;
      h[0] = tagged_new(tag_of(k, i));
      stored++;
      size_t last = sizes[k] / sizeof(void *) - 1;
      if (last > 0 && on_odd_page(&h[last]) != on_odd_page(h))
        h[last] = tagged_new(~tag_of(k, i));
    }
  return stored;
}

__attribute__((noinline)) static int check_young(int *checked) {
  int bad = 0;
  *checked = 0;
  for (size_t k = 0; k < NSIZES; k++)
    for (int i = 0; i < nheld[k]; i++) {
      void **h = holders[k][i];
      if (!on_odd_page(h))
        continue;
      (*checked)++;
      if (!tagged_intact(h[0], tag_of(k, i))) {
        if (bad < 5)
          fprintf(stderr, "size %zu holder %d (%p): young object lost\n",
                  sizes[k], i, (void *)h);
        bad++;
      }
      size_t last = sizes[k] / sizeof(void *) - 1;
      if (last > 0 && on_odd_page(&h[last]) != on_odd_page(h) &&
          !tagged_intact(h[last], ~tag_of(k, i))) {
        if (bad < 5)
          fprintf(stderr, "size %zu holder %d (%p): young object in its "
                  "last word lost\n", sizes[k], i, (void *)h);
        bad++;
      }
    }
  return bad;
}

int main(void) {
  sgc_init();
  make_holders();
  sgc_collect(); /* the holders are old */
  sgc_collect();
  int stored = store_young();
  clear_stack();
  uint64_t before = minor_count();
  run_minors(4);
  uint64_t minors = minor_count() - before;
  int checked;
  int bad = check_young(&checked);
  printf("%d young objects stored into old holders on odd pages, %d "
         "holders checked, %d lost, %llu minor collections\n",
         stored, checked, bad, (unsigned long long)minors);
  CHECK(stored > 1000);
  CHECK(bad == 0);
  if (generational())
    CHECK(minors >= 2);
  /* And a major after them keeps them too (they are old now). */
  sgc_collect();
  CHECK(check_young(&checked) == 0);
  return 0;
}
