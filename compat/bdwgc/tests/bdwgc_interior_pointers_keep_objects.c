/* With GC_set_all_interior_pointers(1) before init, a pointer to any byte of
 * an object, held in the heap or in static data, keeps it alive and intact. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 800
static const size_t sizes[] = {16, 24, 100, 1000, 5000, 70000};
#define NS (sizeof sizes / sizeof sizes[0])

char **holder;            /* GC_malloc'ed: interior pointers, heap side */
char *static_holder[N];   /* interior pointers in static data */
size_t offset[N], size[N];
GC_hidden_pointer w[N];

static NOINLINE void build(void) {
  holder = GC_malloc(N * sizeof(char *));
  CHECK(holder != NULL, "allocation");
  for (int i = 0; i < N; i++) {
    size_t sz = sizes[i % NS];
    char *p = GC_malloc(sz);
    CHECK(p != NULL, "allocation");
    fill_pattern(p, sz, i);
    size[i] = sz;
    /* first byte past the start, middle, last byte, others */
    size_t k = (size_t)i / NS % 4;
    offset[i] = k == 0 ? 1 : k == 1 ? sz / 2 : k == 2 ? sz - 1
                                               : (size_t)(i * 7) % sz;
    if (offset[i] == 0) offset[i] = 1;
    if (i % 2) holder[i] = p + offset[i];
    else static_holder[i] = p + offset[i];
    watch(&w[i], p);
  }
}

static char *obj(int i) {
  return (i % 2 ? holder[i] : static_holder[i]) - offset[i];
}

int main(void) {
  GC_set_all_interior_pointers(1);
  GC_INIT();
  CHECK(GC_get_all_interior_pointers() == 1,
        "GC_get_all_interior_pointers() != 1");
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 3000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w[i] != 0, "object %d (%zu bytes) referenced only at offset %zu "
            "from %s was collected", i, size[i], offset[i],
            i % 2 ? "the heap" : "static data");
      CHECK(check_pattern(obj(i), size[i], i) < 0, "object %d changed", i);
    }
  }
  PASS("bdwgc_interior_pointers_keep_objects");
}
