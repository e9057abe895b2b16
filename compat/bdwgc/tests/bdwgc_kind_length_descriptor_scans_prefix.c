/* GC_new_kind with GC_DS_LENGTH: adjust 0 scans only the descriptor's prefix
 * (16 of 64 bytes), adjust 1 the whole object; GC_generic_malloc and
 * GC_generic_malloc_many allocate cleared objects of such kinds. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_inline.h>
#include "bdwgc_check.h"

#define N 600
#define OBJ 64
#define WORDS (OBJ / sizeof(void *))
#define PREFIX 16
#define TSIZE 32

int prefix_kind, whole_kind;
void **prefix_objs[N], **whole_objs[N];
GC_hidden_pointer w_prefix_in[N][2], w_prefix_out[N][WORDS - 2];
GC_hidden_pointer w_whole[N][WORDS];
void *many_list;     /* root for GC_generic_malloc_many results */

static void *target(size_t id) {
  char *t = GC_malloc(TSIZE);
  CHECK(t != NULL, "allocation");
  fill_pattern(t, TSIZE, id);
  return t;
}

/* Objects come from GC_generic_malloc_many for even i, else
 * GC_generic_malloc. */
static void **take(int kind, int i) {
  void **o;
  if (i % 2 == 0) {
    if (many_list == NULL) {
      GC_generic_malloc_many(OBJ, kind, &many_list);
      CHECK(many_list != NULL, "GC_generic_malloc_many gave no objects");
    }
    o = many_list;
    many_list = GC_NEXT(o);
    GC_NEXT(o) = NULL;
    CHECK(GC_base(o) == o && GC_size(o) >= OBJ, "malloc_many element");
    CHECK(all_zero(o + 1, OBJ - sizeof(void *)),
          "GC_generic_malloc_many element not cleared");
  } else {
    o = GC_generic_malloc(OBJ, kind);
    CHECK(o != NULL, "GC_generic_malloc failed");
    CHECK(GC_base(o) == o && GC_size(o) >= OBJ, "GC_generic_malloc object");
    CHECK(all_zero(o, OBJ), "GC_generic_malloc object not cleared");
  }
  return o;
}

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    void **p = take(prefix_kind, i);
    for (size_t k = 0; k < WORDS; k++) {
      void *t = target((size_t)i * WORDS + k);
      p[k] = t;
      if (k < 2) watch(&w_prefix_in[i][k], t);
      else watch(&w_prefix_out[i][k - 2], t);
    }
    prefix_objs[i] = p;
  }
  many_list = NULL; /* leftovers of the prefix kind go */
  for (int i = 0; i < N; i++) {
    void **p = take(whole_kind, i);
    for (size_t k = 0; k < WORDS; k++) {
      void *t = target(100000 + (size_t)i * WORDS + k);
      p[k] = t;
      watch(&w_whole[i][k], t);
    }
    whole_objs[i] = p;
  }
  many_list = NULL;
}

int main(void) {
  GC_INIT();
  prefix_kind = (int)GC_new_kind(GC_new_free_list(), PREFIX | GC_DS_LENGTH,
                                 0, 1);
  whole_kind = (int)GC_new_kind(GC_new_free_list(), 0 | GC_DS_LENGTH, 1, 1);
  CHECK(prefix_kind != whole_kind, "GC_new_kind returned the same kind");
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 2000; g++) CHECK(GC_malloc(48) != NULL, "garbage");
    collect(1);
    for (int i = 0; i < N; i++) {
      for (size_t k = 0; k < 2; k++) {
        CHECK(w_prefix_in[i][k] != 0, "object referenced from word %zu (in "
              "the %d-byte scanned prefix) collected", k, PREFIX);
        CHECK(check_pattern(prefix_objs[i][k], TSIZE, (size_t)i * WORDS + k)
                  < 0, "object referenced from the prefix damaged");
      }
      for (size_t k = 0; k < WORDS; k++) {
        CHECK(w_whole[i][k] != 0, "object referenced from word %zu of a "
              "whole-object kind collected", k);
        CHECK(check_pattern(whole_objs[i][k], TSIZE,
                            100000 + (size_t)i * WORDS + k) < 0,
              "object referenced from a whole-object kind damaged");
      }
    }
  }
  long dead = count_cleared(&w_prefix_out[0][0], (long)N * (WORDS - 2));
  CHECK(mostly(dead, (long)N * (WORDS - 2)), "only %ld of %ld objects "
        "referenced beyond the scanned prefix collected", dead,
        (long)N * (long)(WORDS - 2));
  PASS("bdwgc_kind_length_descriptor_scans_prefix");
}
