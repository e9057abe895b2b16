// labels: gc threads
/* Aging (aging.c): a structure a minor collection finds alive, made
 * since the collection before, is kept young, not promoted; once dropped,
 * the next minor frees it, with no major in between.  Here a list of 4096
 * scanned nodes (256 KiB) is alive at one minor (a root holds it), then
 * dropped; a weak slot on each of its first 64 nodes must be cleared by
 * the next minor (at least 90%: a stale stack word may keep a few), and
 * sgc_stats.aged_bytes grows by the list's size at the first.  Without
 * aging the first minor promotes the list, and only a major frees it (the
 * slots stay set).  A round is run again (16 rounds at most, one must
 * pass) if a major ran (the policy may choose one) or if the second minor
 * kept the whole list: under ASan, 6 to 8 runs in 20 on a loaded machine
 * found it reachable at the second minor (it marked all 4096 nodes
 * again) with no word pointing into it left on the stack above 64 KiB
 * below the stack pointer, in the data segments or in static TLS
 * afterwards: a stale copy in a register or below the stack pointer at
 * the stop, which a conservative collector must keep.  Without aging
 * every round keeps the list.  Skipped without generations or with
 * SPANGC_AGING=0. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NODES 4096
#define WEAK 64

typedef struct lnode {
  struct lnode *next;
  uint64_t pad[7];
} lnode;

static lnode *volatile held; /* the list, a root through the global */

__attribute__((noinline)) static void build(void **slots) {
  lnode *head = NULL;
  for (int i = 0; i < NODES; i++) {
    lnode *n = sgc_alloc(sizeof *n);
    CHECK(n != NULL);
    n->next = head;
    head = n;
    if (i >= NODES - WEAK) {
      slots[NODES - 1 - i] = n;
      CHECK(sgc_register_weak(&slots[NODES - 1 - i], n) == 0);
    }
  }
  held = head;
}

int main(void) {
  sgc_stats st0, st1, st2;
  if (!aging_init_or_skip(&st0))
    return 0;
  void **slots = malloc(WEAK * sizeof *slots); /* not scanned */
  CHECK(slots != NULL);
  run_minors(2); /* past the first collections' growth */
  for (int round = 0;; round++) {
    CHECKF(round < 16, "in each of 16 rounds a major ran or the second minor "
           "kept the dropped list");
    build(slots);
    clear_stack();
    sgc_read_stats(&st0);
    CHECK(run_minors(1) == 1);
    finish_sweep(); /* kept-young bytes are counted by the sweep */
    sgc_read_stats(&st1);
    held = NULL;
    clear_stack();
    CHECK(run_minors(1) == 1);
    sgc_read_stats(&st2);
    if (st2.num_major_gc != st0.num_major_gc) {
      for (int i = 0; i < WEAK; i++)
        sgc_unregister_weak(&slots[i]);
      continue;
    }
    int cleared = 0;
    for (int i = 0; i < WEAK; i++) {
      cleared += slots[i] == NULL;
      sgc_unregister_weak(&slots[i]);
    }
    printf("round %d: %llu bytes kept young at the first minor, %d of %d "
           "slots cleared by the second\n", round,
           (unsigned long long)(st1.aged_bytes - st0.aged_bytes), cleared,
           WEAK);
    CHECKF(st1.aged_bytes - st0.aged_bytes >= NODES * sizeof(lnode),
           "the first minor kept %llu bytes young, less than the list",
           (unsigned long long)(st1.aged_bytes - st0.aged_bytes));
    if (cleared * 10 < WEAK * 9)
      continue; /* kept: see above */
    break;
  }
  free(slots);
  return 0;
}
