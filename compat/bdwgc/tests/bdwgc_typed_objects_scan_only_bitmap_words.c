/* GC_make_descriptor + GC_malloc_explicitly_typed: the object is cleared and
 * only bitmap words are scanned - their targets survive intact, targets of
 * other words (and of words past the bitmap) are collected. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_typed.h>
#include "bdwgc_check.h"

#define N 500
#define LEN 6        /* words described by the bitmap */
#define WORDS 8      /* words allocated: 2 more, implicitly non-pointers */
#define TSIZE 32

struct rec { void *w[WORDS]; };
static int is_ptr(size_t k) { return k == 0 || k == 2 || k == 5; }

struct rec *objs[N];
GC_hidden_pointer w[N][WORDS];

static NOINLINE void build(GC_descr d) {
  for (int i = 0; i < N; i++) {
    struct rec *r = i % 2 ? GC_malloc_explicitly_typed(sizeof *r, d)
                          : GC_MALLOC_EXPLICITLY_TYPED(sizeof *r, d);
    CHECK(r != NULL, "GC_malloc_explicitly_typed failed");
    CHECK(GC_size(r) >= sizeof *r, "typed object too small");
    CHECK(all_zero(r, sizeof *r), "typed object not cleared");
    for (size_t k = 0; k < WORDS; k++) {
      char *t = GC_malloc(TSIZE);
      CHECK(t != NULL, "allocation");
      fill_pattern(t, TSIZE, (size_t)i * WORDS + k);
      r->w[k] = t;
      watch(&w[i][k], t);
    }
    objs[i] = r;
  }
}

int main(void) {
  GC_INIT();
  GC_word bm[1] = {0};
  for (size_t k = 0; k < LEN; k++)
    if (is_ptr(k)) GC_set_bit(bm, k);
  GC_descr d = GC_make_descriptor(bm, LEN);
  build(d);
  clear_stack();
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 2000; g++) CHECK(GC_malloc(48) != NULL, "garbage");
    collect(1);
    for (int i = 0; i < N; i++)
      for (size_t k = 0; k < WORDS; k++)
        if (is_ptr(k)) {
          CHECK(w[i][k] != 0, "object referenced from pointer word %zu of a "
                "typed object collected (collection %d)", k, round + 1);
          CHECK(check_pattern(objs[i]->w[k], TSIZE, (size_t)i * WORDS + k)
                    < 0, "object referenced from word %zu damaged", k);
        }
  }
  long dead = 0, total = 0;
  for (int i = 0; i < N; i++)
    for (size_t k = 0; k < WORDS; k++)
      if (!is_ptr(k)) {
        total++;
        dead += w[i][k] == 0;
      }
  CHECK(mostly(dead, total), "only %ld of %ld objects referenced from "
        "non-pointer words of typed objects collected", dead, total);
  PASS("bdwgc_typed_objects_scan_only_bitmap_words");
}
