/* With GC_set_all_interior_pointers(0) before init, GC_register_displacement(n)
 * makes p + n a valid reference: objects referenced from the heap only at
 * registered displacements survive intact; garbage is still collected. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 900
static const size_t disp[] = {0, 8, 16, 24};
#define ND (sizeof disp / sizeof disp[0])

char **holder;   /* GC_malloc'ed, so only heap references */
GC_hidden_pointer w[N], w_drop[N];

static NOINLINE void build(void) {
  holder = GC_malloc(N * sizeof(char *));
  CHECK(holder != NULL, "allocation");
  for (int i = 0; i < N; i++) {
    size_t sz = 64 + (size_t)(i % 5) * 100;
    char *p = GC_malloc(sz);
    CHECK(p != NULL, "allocation");
    fill_pattern(p, sz, i);
    holder[i] = p + disp[i % ND];
    watch(&w[i], p);
    char *d = GC_malloc(sz);
    CHECK(d != NULL, "allocation");
    watch(&w_drop[i], d);
  }
}

int main(void) {
  GC_set_all_interior_pointers(0);
  GC_INIT();
  CHECK(GC_get_all_interior_pointers() == 0,
        "GC_get_all_interior_pointers() != 0");
  for (size_t k = 1; k < ND; k++) GC_register_displacement(disp[k]);
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 3000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w[i] != 0, "object %d referenced from the heap at registered "
            "displacement %zu was collected", i, disp[i % ND]);
      size_t sz = 64 + (size_t)(i % 5) * 100;
      CHECK(check_pattern(holder[i] - disp[i % ND], sz, i) < 0,
            "object %d changed", i);
    }
  }
  long dead = count_cleared(w_drop, N);
  CHECK(mostly(dead, N), "only %ld of %d unreachable objects collected", dead,
        N);
  PASS("bdwgc_displacements_without_interior_pointers");
}
