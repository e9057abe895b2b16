/* GC_set_no_dls(1) before init (GC_get_no_dls reports it): explicitly added
 * static ranges and the stack still keep their objects alive and intact, and
 * garbage is still collected. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 500
struct node { struct node *next; char payload[40]; };

struct node *registered[N];      /* added with GC_add_roots */
GC_hidden_pointer w_reg[N], w_drop[N];

static NOINLINE void drop_some(void) {
  for (int i = 0; i < N; i++) {
    struct node *n = GC_malloc(sizeof *n);
    CHECK(n != NULL, "allocation");
    watch(&w_drop[i], n);
  }
}

int main(void) {
  GC_set_no_dls(1);
  CHECK(GC_get_no_dls() == 1, "GC_get_no_dls() != 1 after GC_set_no_dls(1)");
  GC_INIT();
  CHECK(GC_get_no_dls() == 1, "GC_get_no_dls() changed by GC_INIT");
  GC_add_roots(registered, registered + N);

  struct node *on_stack[32];
  for (int i = 0; i < N; i++) {
    struct node *a = GC_malloc(sizeof *a), *b = GC_malloc(sizeof *b);
    CHECK(a && b, "allocation");
    fill_pattern(a->payload, sizeof a->payload, i);
    fill_pattern(b->payload, sizeof b->payload, N + i);
    a->next = b;
    registered[i] = a;
    watch(&w_reg[i], b);
    if (i < 32) on_stack[i] = b;
  }
  drop_some();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w_reg[i] != 0, "object reachable from an added root collected");
      CHECK(check_pattern(registered[i]->payload, 40, i) < 0 &&
                check_pattern(registered[i]->next->payload, 40, N + i) < 0,
            "object reachable from an added root changed");
    }
    for (int i = 0; i < 32; i++)
      CHECK(check_pattern(on_stack[i]->payload, 40, N + i) < 0,
            "stack-held object changed");
  }
  long dead = count_cleared(w_drop, N);
  CHECK(mostly(dead, N), "only %ld of %d unreachable objects collected", dead,
        N);
  PASS("bdwgc_no_dls_with_explicit_roots");
}
