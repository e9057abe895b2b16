// labels: heap
/* sgc_calloc returns zeroed memory (also when it reuses freed objects) and
 * NULL/ENOMEM on overflow.  sgc_realloc: NULL allocates; size 0 frees and
 * returns NULL; growing keeps the contents and, for scanned objects, zeroes
 * the bytes past the old size; shrinking keeps the contents; the kind
 * (scanned / noscan) is kept; an object that already has room comes back
 * as itself; the old object is freed when the contents move. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

static unsigned char *volatile keep[64];

static unsigned char pat(size_t i, unsigned seed) {
  return (unsigned char)((i * 131u + seed * 7u) % 251u + 1u);
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = pat(i, seed);
}

static void expect(const unsigned char *p, size_t n, unsigned seed,
                   const char *what) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != pat(i, seed))
      CHECKF(0, "%s: byte %zu of %zu is %u, want %u", what, i, n, p[i],
             pat(i, seed));
}

static bool is_noscan(void *p) {
  mspan *s = mheap_lookup((uintptr_t)p);
  CHECK(s != NULL);
  return spanclass_noscan(s->spanclass);
}

int main(void) {
  sgc_init();
  sgc_disable();

  /* calloc: zeroed, even over dirty freed memory. */
  for (int round = 0; round < 2; round++) {
    size_t sizes[] = {1, 16, 100, 1000, 5000, 32768, 40000, 300000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      unsigned char *p = sgc_calloc(sizes[i], 1);
      CHECK(p != NULL);
      unsigned char *q = sgc_calloc(1, sizes[i]);
      CHECK(q != NULL && q != p);
      for (size_t k = 0; k < sgc_size(p); k++)
        CHECKF(p[k] == 0, "calloc(%zu): byte %zu", sizes[i], k);
      for (size_t k = 0; k < sgc_size(q); k++)
        CHECKF(q[k] == 0, "calloc(%zu): byte %zu", sizes[i], k);
      CHECK(!is_noscan(p));
      memset(p, 0xee, sgc_size(p));
      memset(q, 0xee, sgc_size(q));
      sgc_free(p);
      sgc_free(q);
    }
  }
  unsigned char *z = sgc_calloc(0, 0);
  CHECK(z != NULL);
  CHECK(sgc_calloc(7, 16) != NULL);
  errno = 0;
  CHECK(sgc_calloc(SIZE_MAX, 2) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(sgc_calloc(((size_t)1 << 32) + 1, (size_t)1 << 32) == NULL &&
        errno == ENOMEM);

  /* realloc(NULL, n) allocates; the result is a scanned, zeroed object. */
  unsigned char *p = sgc_realloc(NULL, 200);
  CHECK(p != NULL && sgc_base(p) == p && sgc_size(p) >= 200);
  CHECK(!is_noscan(p));
  for (size_t k = 0; k < 200; k++)
    CHECK(p[k] == 0);

  /* Same size, or a little smaller, or growing within the usable size:
   * the same object. */
  fill(p, 200, 1);
  size_t usable = sgc_size(p);
  CHECK(sgc_realloc(p, 200) == p);
  CHECK(sgc_realloc(p, usable) == p);
  CHECK(sgc_realloc(p, 190) == p);
  expect(p, 190, 1, "realloc in place");

  /* Growing scanned objects through small and large sizes. */
  size_t steps[] = {300, 1000, 4000, 20000, 32768, 50000, 200000, 1 << 20};
  size_t have = 200;
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    size_t old_usable = sgc_size(p);
    /* Dirty the slack of the old object: it must not leak into the new
     * one's zeroed tail. */
    memset(p + have, 0xcc, old_usable - have);
    fill(p, have, (unsigned)i);
    /* Dirty a freed object of the target class too: realloc may get it
     * back. */
    unsigned char *d = sgc_alloc(steps[i]);
    memset(d, 0xdd, sgc_size(d));
    sgc_free(d);
    unsigned char *q = sgc_realloc(p, steps[i]);
    CHECKF(q != NULL, "realloc to %zu", steps[i]);
    CHECK(sgc_size(q) >= steps[i]);
    CHECK(sgc_base(q) == q);
    CHECK(!is_noscan(q));
    expect(q, have, (unsigned)i, "realloc grow");
    /* Past the old usable size: zero. */
    for (size_t k = old_usable; k < sgc_size(q); k++)
      if (q[k] != 0)
        CHECKF(0, "realloc %zu -> %zu: byte %zu is %#x, not zero", have,
               steps[i], k, q[k]);
    if (q != p) {
      /* The old object was freed: a large one has left the heap. */
      if (old_usable > SGC_MAX_SMALL_SIZE)
        CHECK(sgc_base(p) == NULL);
    }
    p = q;
    have = steps[i];
  }

  /* Shrinking keeps the contents. */
  fill(p, have, 77);
  size_t shrink[] = {500000, 100000, 32000, 3000, 100, 16, 1};
  for (size_t i = 0; i < sizeof shrink / sizeof shrink[0]; i++) {
    unsigned char *q = sgc_realloc(p, shrink[i]);
    CHECKF(q != NULL, "shrink to %zu", shrink[i]);
    CHECK(sgc_size(q) >= shrink[i]);
    expect(q, shrink[i], 77, "realloc shrink");
    CHECK(!is_noscan(q));
    p = q;
  }
  /* A big shrink gives a smaller object. */
  unsigned char *big = sgc_alloc(1 << 20);
  fill(big, 64, 5);
  unsigned char *small = sgc_realloc(big, 64);
  CHECK(small != NULL && sgc_size(small) < (1 << 20));
  expect(small, 64, 5, "shrink 1 MiB to 64");
  CHECK(sgc_base(big) == NULL || sgc_base(big) == small);

  /* noscan objects stay noscan. */
  unsigned char *n = sgc_alloc_noscan(100);
  fill(n, 100, 9);
  unsigned char *n2 = sgc_realloc(n, 10000);
  CHECK(n2 != NULL && is_noscan(n2));
  expect(n2, 100, 9, "noscan grow");
  unsigned char *n3 = sgc_realloc(n2, 100000);
  CHECK(n3 != NULL && is_noscan(n3));
  expect(n3, 100, 9, "noscan grow large");
  unsigned char *n4 = sgc_realloc(n3, 50);
  CHECK(n4 != NULL && is_noscan(n4));
  expect(n4, 50, 9, "noscan shrink");

  /* realloc(p, 0) frees p and returns NULL. */
  unsigned char *l = sgc_alloc(70000);
  CHECK(l != NULL);
  errno = 0;
  CHECK(sgc_realloc(l, 0) == NULL);
  CHECK(sgc_base(l) == NULL); /* a large object's span is gone */
  unsigned char *s = sgc_alloc(64);
  CHECK(sgc_realloc(s, 0) == NULL);
  /* Freed: the next 64-byte allocation on this thread reuses it. */
  unsigned char *s2 = sgc_alloc(64);
  CHECK(s2 == s);
  for (int k = 0; k < 64; k++)
    CHECK(s2[k] == 0);

  keep[0] = p;
  keep[1] = z;
  keep[2] = small;
  keep[3] = n4;
  keep[4] = s2;
  sgc_heap_verify();
  printf("calloc/realloc semantics hold\n");
  return 0;
}
