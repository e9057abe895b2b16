/* GC_memalign / GC_posix_memalign return collectable memory aligned as asked
 * (8 .. 4096) with room for lb bytes, kept alive by the aligned pointer alone;
 * GC_posix_memalign returns EINVAL for bad alignments. */
// labels: bdwgc
/* Stock bdwgc 8.2 fails alignments above 4096, so none are tested. */
#include <errno.h>
#include <gc.h>
#include "bdwgc_check.h"

static const size_t aligns[] = {8, 16, 32, 64, 128, 256, 512, 1024, 2048,
                                4096};
static const size_t lens[] = {1, 24, 100, 5000, 200000};
#define NA (sizeof aligns / sizeof aligns[0])
#define NL (sizeof lens / sizeof lens[0])
#define NK (NA * NL * 2)

char *kept_static[NK];
char **kept_heap;   /* GC_malloc'ed copy of half of them */
size_t kept_len[NK];
#define NDROP 600
GC_hidden_pointer w_drop[NDROP];

static void check_block(char *p, size_t align, size_t lb, const char *fn) {
  CHECK(p != NULL, "%s(%zu, %zu) failed", fn, align, lb);
  CHECK(((uintptr_t)p & (align - 1)) == 0, "%s(%zu, %zu) = %p: misaligned",
        fn, align, lb, (void *)p);
  char *base = GC_base(p);
  CHECK(base != NULL && base <= p, "%s result %p: GC_base = %p", fn,
        (void *)p, (void *)base);
  CHECK(p + lb <= base + GC_size(base), "%s(%zu, %zu): %zu bytes at %p do "
        "not fit in the object %p of %zu bytes", fn, align, lb, lb, (void *)p,
        (void *)base, GC_size(base));
  CHECK(GC_base(p + lb - 1) == base, "%s: last byte in another object", fn);
}

static NOINLINE void build(void) {
  kept_heap = GC_malloc(NK * sizeof(char *));
  CHECK(kept_heap != NULL, "allocation");
  size_t k = 0;
  for (size_t a = 0; a < NA; a++)
    for (size_t l = 0; l < NL; l++) {
      char *p = GC_memalign(aligns[a], lens[l]);
      check_block(p, aligns[a], lens[l], "GC_memalign");
      void *q = NULL;
      int r = GC_posix_memalign(&q, aligns[a], lens[l]);
      CHECK(r == 0, "GC_posix_memalign(%zu, %zu) returned %d", aligns[a],
            lens[l], r);
      check_block(q, aligns[a], lens[l], "GC_posix_memalign");
      fill_pattern(p, lens[l], k);
      kept_len[k] = lens[l];
      if (k % 2) kept_static[k] = p; else kept_heap[k] = p;
      k++;
      fill_pattern(q, lens[l], k);
      kept_len[k] = lens[l];
      if (k % 2) kept_static[k] = q; else kept_heap[k] = q;
      k++;
    }
  for (int i = 0; i < NDROP; i++) {
    size_t al = aligns[i % NA], lb = lens[(i / NA) % 3];
    void *p;
    if (i % 2) {
      p = GC_memalign(al, lb);
    } else {
      CHECK(GC_posix_memalign(&p, al, lb) == 0, "GC_posix_memalign");
    }
    check_block(p, al, lb, "aligned allocation");
    memset(p, 0x44, lb);
    watch(&w_drop[i], GC_base(p));
  }
}

static char *kept(size_t k) { return k % 2 ? kept_static[k] : kept_heap[k]; }

int main(void) {
  GC_INIT();
  void *q = NULL;
  static const size_t bad[] = {0, 3, 4, 12, 24, 48, 100, 4097};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(GC_posix_memalign(&q, bad[i], 64) == EINVAL,
          "GC_posix_memalign with alignment %zu did not return EINVAL",
          bad[i]);

  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (size_t k = 0; k < NK; k++) {
      long bad_at = check_pattern(kept(k), kept_len[k], k);
      CHECK(bad_at < 0, "aligned block %zu (%zu bytes) changed at byte %ld "
            "after %d collections", k, kept_len[k], bad_at, round + 1);
    }
  }
  long dead = count_cleared(w_drop, NDROP);
  CHECK(mostly(dead, NDROP), "only %ld of %d dropped aligned blocks collected",
        dead, NDROP);
  PASS("bdwgc_memalign_and_posix_memalign");
}
