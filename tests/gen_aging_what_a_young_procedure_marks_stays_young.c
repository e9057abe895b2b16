// labels: gc
/* Aging (aging.c), rule:old-points-to-old: an object a young object's
 * mark procedure marks with sgc_set_mark_bit stays young, as what it
 * points to does.  Holders of a procedure kind (young) each keep an
 * object O by sgc_set_mark_bit(O) and sgc_push_range over O (bdwgc's
 * GC_set_mark_bit with GC_push_all); O points to a young tagged object
 * T.  After the minor that reaches them, the holders are dropped and the
 * O's moved to roots; T must stay intact across 40 more minors.  The
 * second adversarial review of aging found sgc_set_mark_bit promoting O
 * whatever marked it, while the range was scanned as the young holder's,
 * so T stayed young under an old O whose page was then protected, and
 * was freed (528 of 4096 in 1 run of 30; the verifier stopped 4 runs of
 * 24).  With one marker the order is fixed: the written pages' jobs pass
 * over the O's (allocated first, so lower), still unmarked, before a
 * holder's procedure marks them, and every run lost them all.  Skipped
 * without generations or aging. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define N 4096

typedef struct holder {
  uint64_t *obj;
  uint64_t pad[7];
} holder;

holder *volatile held[N];  /* roots: the holders, then nothing */
uint64_t *volatile objs[N]; /* roots: the O's, once the holders go */

static sgc_mark_entry *proc(uintptr_t *addr, sgc_mark_entry *top,
                            sgc_mark_entry *limit, uintptr_t env) {
  (void)limit, (void)env;
  holder *h = (holder *)addr;
  if (h->obj != NULL) {
    sgc_set_mark_bit(h->obj);
    sgc_push_range(h->obj, h->obj + 8);
  }
  return top;
}

__attribute__((noinline)) static void build(int kind) {
  uint64_t **os = malloc(N * sizeof *os);
  CHECK(os != NULL);
  for (int i = 0; i < N; i++) {
    os[i] = sgc_alloc(64);
    CHECK(os[i] != NULL);
  }
  for (int i = 0; i < N; i++)
    os[i][0] = (uint64_t)(uintptr_t)tagged_new(1000 + (uint64_t)i);
  for (int i = 0; i < N; i++) {
    holder *h = sgc_alloc_kind(sizeof *h, kind);
    CHECK(h != NULL);
    h->obj = os[i];
    held[i] = h;
  }
  free(os);
}

int main(void) {
  setenv("SPANGC_MARKERS", "1", 1); /* the order described above */
  sgc_stats st;
  if (!aging_init_or_skip(&st))
    return 0;
  sgc_test_probe_off = true; /* full pages protected at once */
  int idx = sgc_new_mark_proc(proc);
  CHECK(idx >= 0);
  int kind = sgc_new_kind(SGC_MAKE_PROC(idx, 0), 0);
  CHECK(kind >= 0);
  run_minors(2);
  build(kind);
  clear_stack();
  CHECK(run_minors(1) == 1);
  for (int i = 0; i < N; i++) {
    objs[i] = held[i]->obj;
    held[i] = NULL;
  }
  clear_stack();
  run_minors_sized(40, 64);
  int lost = 0;
  for (int i = 0; i < N; i++)
    lost += !tagged_intact((uint64_t *)(uintptr_t)objs[i][0],
                           1000 + (uint64_t)i);
  printf("%d of %d objects kept through a young procedure's mark lost\n",
         lost, N);
  CHECKF(lost == 0, "%d of %d young objects lost", lost, N);
  return 0;
}
