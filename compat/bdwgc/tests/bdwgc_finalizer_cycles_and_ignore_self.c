/* Cycles: GC_register_finalizer never finalizes self- or 2-cycles;
 * _ignore_self finalizes self-referencing objects but not 2-cycles; _no_order
 * finalizes all cycles; a cycle broken by GC_register_disappearing_link is
 * finalized in order. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 300
enum { SELF_ORDERED, SELF_IGNORE_SELF, PAIR_IGNORE_SELF, PAIR_NO_ORDER,
       PAIR_BROKEN_BY_LINK, NG };
static const char *const gname[NG] = {
    "self-referencing, GC_register_finalizer",
    "self-referencing, GC_register_finalizer_ignore_self",
    "2-cycle, GC_register_finalizer_ignore_self",
    "2-cycle, GC_register_finalizer_no_order",
    "2-cycle broken by a disappearing link, GC_register_finalizer"};

struct obj {
  struct obj *link;   /* self, or the partner */
  struct obj *back;   /* partner (broken-cycle group) */
  intptr_t group, index;
};

int nfin[NG][2];          /* per group, per object of a pair */
int round_fin[NG][N][2];  /* round in which each object was finalized */
int round_no = 1;
int back_not_cleared;

static void GC_CALLBACK on_fin(void *p, void *cd) {
  struct obj *o = p;
  intptr_t g = o->group, i = o->index, k = (intptr_t)cd;
  if (g < 0 || g >= NG || i < 0 || i >= N || k < 0 || k > 1) return;
  nfin[g][k]++;
  round_fin[g][i][k] = round_no;
  if (g == PAIR_BROKEN_BY_LINK && k == 1 && o->back != NULL)
    back_not_cleared++;
}

static void GC_CALLBACK quiet(char *msg, GC_word arg) {}

static NOINLINE void build(void) {
  for (int g = 0; g < NG; g++)
    for (int i = 0; i < N; i++) {
      struct obj *a = GC_malloc(sizeof *a), *b = GC_malloc(sizeof *b);
      CHECK(a && b, "allocation");
      a->group = b->group = g;
      a->index = b->index = i;
      switch (g) {
        case SELF_ORDERED:
          a->link = a;
          GC_register_finalizer(a, on_fin, (void *)0, NULL, NULL);
          break;
        case SELF_IGNORE_SELF:
          a->link = a;
          GC_register_finalizer_ignore_self(a, on_fin, (void *)0, NULL, NULL);
          break;
        case PAIR_IGNORE_SELF:
          a->link = b;
          b->link = a;
          GC_register_finalizer_ignore_self(a, on_fin, (void *)0, NULL, NULL);
          GC_register_finalizer_ignore_self(b, on_fin, (void *)1, NULL, NULL);
          break;
        case PAIR_NO_ORDER:
          a->link = b;
          b->link = a;
          GC_register_finalizer_no_order(a, on_fin, (void *)0, NULL, NULL);
          GC_register_finalizer_no_order(b, on_fin, (void *)1, NULL, NULL);
          break;
        case PAIR_BROKEN_BY_LINK: {
          a->link = b;
          b->back = a; /* b -> a does not count: it disappears first */
          int r = GC_register_disappearing_link((void **)&b->back);
          CHECK(r == GC_SUCCESS, "GC_register_disappearing_link: %d", r);
          r = GC_register_disappearing_link((void **)&b->back);
          CHECK(r == GC_DUPLICATE, "registering the same link twice: %d", r);
          GC_register_finalizer(a, on_fin, (void *)0, NULL, NULL);
          GC_register_finalizer(b, on_fin, (void *)1, NULL, NULL);
          break;
        }
      }
    }
}

int main(void) {
  GC_INIT();
  GC_set_warn_proc(quiet);
  GC_set_finalize_on_demand(1);
  build();
  clear_stack();
  for (; round_no <= 10; round_no++) {
    for (int g = 0; g < 1000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    GC_gcollect();
    GC_invoke_finalizers();
  }
  int total[NG];
  for (int g = 0; g < NG; g++) total[g] = nfin[g][0] + nfin[g][1];
  CHECK(total[SELF_ORDERED] == 0, "%s: %d finalized", gname[SELF_ORDERED],
        total[SELF_ORDERED]);
  CHECK(total[PAIR_IGNORE_SELF] == 0, "%s: %d finalized",
        gname[PAIR_IGNORE_SELF], total[PAIR_IGNORE_SELF]);
  CHECK(mostly(total[SELF_IGNORE_SELF], N), "%s: only %d of %d finalized",
        gname[SELF_IGNORE_SELF], total[SELF_IGNORE_SELF], N);
  CHECK(mostly(total[PAIR_NO_ORDER], 2 * N), "%s: only %d of %d finalized",
        gname[PAIR_NO_ORDER], total[PAIR_NO_ORDER], 2 * N);
  CHECK(mostly(total[PAIR_BROKEN_BY_LINK], 2 * N),
        "%s: only %d of %d finalized", gname[PAIR_BROKEN_BY_LINK],
        total[PAIR_BROKEN_BY_LINK], 2 * N);
  CHECK(back_not_cleared == 0, "%d disappearing links were not cleared "
        "before finalization", back_not_cleared);
  for (int i = 0; i < N; i++) {
    int ra = round_fin[PAIR_BROKEN_BY_LINK][i][0];
    int rb = round_fin[PAIR_BROKEN_BY_LINK][i][1];
    CHECK(!rb || (ra && ra < rb), "broken cycle %d: the pointed-to object "
          "was finalized in round %d, its referrer in round %d", i, rb, ra);
  }
  PASS("bdwgc_finalizer_cycles_and_ignore_self");
}
