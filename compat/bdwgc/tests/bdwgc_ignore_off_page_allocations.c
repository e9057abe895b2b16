/* GC_malloc_ignore_off_page / _atomic_ignore_off_page: large objects (the
 * former cleared) live while a pointer into their first 256 bytes is kept, in
 * the heap or static data, keep their contents, and are collected when
 * dropped. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 24
static const size_t sizes[] = {100000, 300000, 1 << 20};
#define NSZ 3

char *kept_base[N];             /* static root: base pointers */
char **kept_in_heap;            /* GC_malloc'ed: base + 200 */
size_t kept_size[N];
#define ND 60
GC_hidden_pointer w_kept[N], w_drop[ND];

static NOINLINE void build(void) {
  kept_in_heap = GC_malloc(N * sizeof(char *));
  CHECK(kept_in_heap != NULL, "GC_malloc");
  for (int i = 0; i < N; i++) {
    size_t sz = sizes[i % NSZ];
    int atomic = (i / NSZ) % 2;
    char *p = atomic ? GC_malloc_atomic_ignore_off_page(sz)
                     : GC_malloc_ignore_off_page(sz);
    CHECK(p != NULL, "ignore_off_page allocation of %zu failed", sz);
    CHECK(GC_size(p) >= sz, "GC_size %zu < %zu", GC_size(p), sz);
    CHECK(GC_base(p) == p, "GC_base(p) != p");
    CHECK(GC_base(p + sz - 1) == p, "GC_base(last byte) != p");
    if (!atomic)
      CHECK(all_zero(p, sz), "GC_malloc_ignore_off_page(%zu) not cleared",
            sz);
    fill_pattern(p, sz, i);
    kept_size[i] = sz;
    if (i % 2) kept_base[i] = p;
    else kept_in_heap[i] = p + 200;
    watch(&w_kept[i], p);
  }
  for (int i = 0; i < ND; i++) {
    size_t sz = sizes[i % NSZ];
    int atomic = (i / NSZ) % 2;
    char *d = atomic ? GC_malloc_atomic_ignore_off_page(sz)
                     : GC_malloc_ignore_off_page(sz);
    CHECK(d != NULL, "allocation failed");
    memset(d, 0x33, sz);
    watch(&w_drop[i], d);
  }
}

static char *kept(int i) {
  return i % 2 ? kept_base[i] : kept_in_heap[i] - 200;
}

int main(void) {
  GC_INIT();
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w_kept[i] != 0, "kept large object %d collected (collection %d)",
            i, round + 1);
      long bad = check_pattern(kept(i), kept_size[i], i);
      CHECK(bad < 0, "kept large object %d changed at byte %ld", i, bad);
    }
  }
  long dead = count_cleared(w_drop, ND);
  CHECK(mostly(dead, ND), "only %ld of %d unreferenced large objects "
        "collected", dead, ND);
  PASS("bdwgc_ignore_off_page_allocations");
}
