/* GC_new_kind with a GC_DS_BITMAP descriptor scans only the words whose bits
 * are set: targets of words 0, 3, 6 of an 8-word object survive intact, those
 * of the other words are collected. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

#define N 600
#define WORDS 8
#define TSIZE 32
#define WBITS (8 * sizeof(GC_word))
#define BIT(k) ((GC_word)1 << (WBITS - 1 - (k)))

static int is_ptr_word(size_t k) { return k == 0 || k == 3 || k == 6; }

int kind;
void **objs[N];
GC_hidden_pointer w[N][WORDS];

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    void **p = GC_generic_malloc(WORDS * sizeof(void *), kind);
    CHECK(p != NULL, "GC_generic_malloc failed");
    CHECK(all_zero(p, WORDS * sizeof(void *)), "object not cleared");
    for (size_t k = 0; k < WORDS; k++) {
      char *t = GC_malloc(TSIZE);
      CHECK(t != NULL, "allocation");
      fill_pattern(t, TSIZE, (size_t)i * WORDS + k);
      p[k] = t;
      watch(&w[i][k], t);
    }
    objs[i] = p;
  }
}

int main(void) {
  GC_INIT();
  GC_word descr = BIT(0) | BIT(3) | BIT(6) | GC_DS_BITMAP;
  kind = (int)GC_new_kind(GC_new_free_list(), descr, 0, 1);
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 2000; g++) CHECK(GC_malloc(48) != NULL, "garbage");
    collect(1);
    for (int i = 0; i < N; i++)
      for (size_t k = 0; k < WORDS; k++)
        if (is_ptr_word(k)) {
          CHECK(w[i][k] != 0, "object referenced from bitmap word %zu "
                "collected (index %d, collection %d)", k, i, round + 1);
          CHECK(check_pattern(objs[i][k], TSIZE, (size_t)i * WORDS + k) < 0,
                "object referenced from bitmap word %zu damaged", k);
        }
  }
  long dead = 0, total = 0;
  for (int i = 0; i < N; i++)
    for (size_t k = 0; k < WORDS; k++)
      if (!is_ptr_word(k)) {
        total++;
        dead += w[i][k] == 0;
      }
  CHECK(mostly(dead, total), "only %ld of %ld objects referenced from words "
        "outside the bitmap collected", dead, total);
  PASS("bdwgc_kind_bitmap_descriptor");
}
