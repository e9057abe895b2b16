/* Typed objects with a 150-word bitmap (GC_make_descriptor,
 * GC_malloc_explicitly_typed) and GC_calloc_explicitly_typed arrays: cleared,
 * and only pointer words keep their targets alive. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_typed.h>
#include "bdwgc_check.h"

#define BIGW 150
#define NBIG 100
#define ELW 5
#define NEL 400
#define NARR 4
#define TSIZE 24

static int big_ptr(size_t k) {
  return k == 0 || k == 64 || k == 70 || k == 130 || k == 149;
}
static int el_ptr(size_t k) { return k == 1 || k == 3; }
static const size_t big_nonptr[] = {1, 63, 65, 100, 148};
#define NBN (sizeof big_nonptr / sizeof big_nonptr[0])

void **bigs[NBIG];
void **arrs[NARR];
GC_hidden_pointer wb[NBIG][BIGW];
GC_hidden_pointer wa[NARR][NEL * ELW];

static void *target(size_t id) {
  char *t = GC_malloc(TSIZE);
  CHECK(t != NULL, "allocation");
  fill_pattern(t, TSIZE, id);
  return t;
}

static NOINLINE void build(GC_descr big_d, GC_descr el_d) {
  for (int i = 0; i < NBIG; i++) {
    void **o = GC_malloc_explicitly_typed(BIGW * sizeof(void *), big_d);
    CHECK(o != NULL, "GC_malloc_explicitly_typed failed");
    CHECK(all_zero(o, BIGW * sizeof(void *)), "typed object not cleared");
    for (size_t k = 0; k < BIGW; k++) {
      int want = big_ptr(k);
      for (size_t q = 0; q < NBN; q++) want |= k == big_nonptr[q];
      if (!want) continue;
      o[k] = target((size_t)i * BIGW + k);
      watch(&wb[i][k], o[k]);
    }
    bigs[i] = o;
  }
  for (int a = 0; a < NARR; a++) {
    void **o = GC_calloc_explicitly_typed(NEL, ELW * sizeof(void *), el_d);
    CHECK(o != NULL, "GC_calloc_explicitly_typed failed");
    CHECK(GC_size(GC_base(o)) >= NEL * ELW * sizeof(void *),
          "typed array too small");
    CHECK(all_zero(o, NEL * ELW * sizeof(void *)), "typed array not cleared");
    for (size_t k = 0; k < NEL * ELW; k++) {
      o[k] = target(1000000 + (size_t)a * NEL * ELW + k);
      watch(&wa[a][k], o[k]);
    }
    arrs[a] = o;
  }
}

int main(void) {
  GC_INIT();
  GC_word bm[(BIGW + GC_WORDSZ - 1) / GC_WORDSZ] = {0};
  for (size_t k = 0; k < BIGW; k++)
    if (big_ptr(k)) GC_set_bit(bm, k);
  GC_descr big_d = GC_make_descriptor(bm, BIGW);
  GC_word ebm[1] = {0};
  for (size_t k = 0; k < ELW; k++)
    if (el_ptr(k)) GC_set_bit(ebm, k);
  GC_descr el_d = GC_make_descriptor(ebm, ELW);
  build(big_d, el_d);
  clear_stack();
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 2000; g++) CHECK(GC_malloc(48) != NULL, "garbage");
    collect(1);
    for (int i = 0; i < NBIG; i++)
      for (size_t k = 0; k < BIGW; k++)
        if (big_ptr(k)) {
          CHECK(wb[i][k] != 0, "object referenced from pointer word %zu of a "
                "150-word typed object collected (collection %d)", k,
                round + 1);
          CHECK(check_pattern(bigs[i][k], TSIZE, (size_t)i * BIGW + k) < 0,
                "target of word %zu damaged", k);
        }
    for (int a = 0; a < NARR; a++)
      for (size_t k = 0; k < NEL * ELW; k++)
        if (el_ptr(k % ELW)) {
          CHECK(wa[a][k] != 0, "object referenced from pointer word %zu of "
                "element %zu of a typed array collected", k % ELW, k / ELW);
          CHECK(check_pattern(arrs[a][k], TSIZE,
                              1000000 + (size_t)a * NEL * ELW + k) < 0,
                "typed array target damaged");
        }
  }
  long dead = 0, total = 0;
  for (int i = 0; i < NBIG; i++)
    for (size_t q = 0; q < NBN; q++, total++)
      dead += wb[i][big_nonptr[q]] == 0;
  CHECK(mostly(dead, total), "only %ld of %ld objects referenced from "
        "non-pointer words of 150-word typed objects collected", dead, total);
  dead = total = 0;
  for (int a = 0; a < NARR; a++)
    for (size_t k = 0; k < NEL * ELW; k++)
      if (!el_ptr(k % ELW)) {
        total++;
        dead += wa[a][k] == 0;
      }
  CHECK(mostly(dead, total), "only %ld of %ld objects referenced from "
        "non-pointer words of typed array elements collected", dead, total);
  PASS("bdwgc_typed_long_bitmaps_and_calloc");
}
