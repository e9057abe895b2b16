/* GC_malloc_many(lb) returns a NULL-terminated GC_NEXT list of distinct
 * objects of >= lb bytes, cleared beyond the link; a kept list stays intact,
 * dropped ones are collected. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

static const size_t sizes[] = {8, 16, 24, 32, 48, 100, 256, 1000, 2048};
#define NSZ (sizeof sizes / sizeof sizes[0])
#define KEEP_LISTS 4
#define MAXW 20000

void *kept[NSZ][KEEP_LISTS];   /* static roots: list heads */
size_t kept_len[NSZ][KEEP_LISTS];
GC_hidden_pointer w_drop[MAXW];
long ndrop;

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* Checks one list; returns its length. */
static size_t check_list(void *head, size_t lb) {
  static uintptr_t seen[100000];
  size_t n = 0;
  CHECK(head != NULL, "GC_malloc_many(%zu) returned NULL", lb);
  for (void *p = head; p != NULL; p = GC_NEXT(p)) {
    CHECK(n < 100000, "list too long or cyclic");
    CHECK(GC_base(p) == p, "element %zu of GC_malloc_many(%zu) list: GC_base "
          "%p != %p", n, lb, GC_base(p), p);
    CHECK(GC_size(p) >= lb, "element size %zu < %zu", GC_size(p), lb);
    if (lb > sizeof(void *))
      CHECK(all_zero((char *)p + sizeof(void *), lb - sizeof(void *)),
            "element %zu of GC_malloc_many(%zu) not cleared beyond the link",
            n, lb);
    seen[n++] = (uintptr_t)p;
  }
  qsort(seen, n, sizeof seen[0], cmp_ptr);
  for (size_t i = 1; i < n; i++)
    CHECK(seen[i] != seen[i - 1], "the same object twice in one list");
  memset(seen, 0, n * sizeof seen[0]); /* static data: would keep them */
  return n;
}

static void fill_list(void *head, size_t lb, size_t id) {
  size_t k = 0;
  for (void *p = head; p; p = GC_NEXT(p), k++)
    if (lb > sizeof(void *))
      fill_pattern((char *)p + sizeof(void *), lb - sizeof(void *),
                   id * 1000 + k);
}

static NOINLINE void build(void) {
  for (size_t s = 0; s < NSZ; s++) {
    for (int l = 0; l < KEEP_LISTS; l++) {
      void *h = GC_malloc_many(sizes[s]);
      kept_len[s][l] = check_list(h, sizes[s]);
      fill_list(h, sizes[s], s * KEEP_LISTS + l);
      kept[s][l] = h;
    }
    for (int l = 0; l < 3; l++) {
      void *h = GC_malloc_many(sizes[s]);
      check_list(h, sizes[s]);
      /* Unlink the elements, so that one element kept by accident does
       * not keep the rest of its list. */
      for (void *p = h, *next; p && ndrop < MAXW; p = next) {
        next = GC_NEXT(p);
        GC_NEXT(p) = NULL;
        if (sizes[s] > sizeof(void *))
          memset((char *)p + sizeof(void *), 0x77,
                 sizes[s] - sizeof(void *));
        watch(&w_drop[ndrop++], p);
      }
    }
  }
}

int main(void) {
  GC_INIT();
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (size_t s = 0; s < NSZ; s++)
      for (int l = 0; l < KEEP_LISTS; l++) {
        size_t k = 0, lb = sizes[s];
        for (void *p = kept[s][l]; p; p = GC_NEXT(p), k++) {
          CHECK(k < kept_len[s][l], "kept list grew");
          if (lb > sizeof(void *))
            CHECK(check_pattern((char *)p + sizeof(void *),
                                lb - sizeof(void *),
                                (s * KEEP_LISTS + l) * 1000 + k) < 0,
                  "element %zu of a kept list (size %zu) changed", k, lb);
        }
        CHECK(k == kept_len[s][l], "kept list of size %zu lost elements "
              "(%zu of %zu left)", lb, k, kept_len[s][l]);
      }
  }
  CHECK(ndrop > 100, "too few elements to judge (%ld)", ndrop);
  long dead = count_cleared(w_drop, ndrop);
  CHECK(mostly(dead, ndrop), "only %ld of %ld elements of dropped lists "
        "collected", dead, ndrop);
  PASS("bdwgc_malloc_many_lists");
}
