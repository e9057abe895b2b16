/* With GC_set_java_finalization(1), a GC_register_finalizer_unreachable
 * finalizer never runs while its object is reachable from a _no_order
 * finalizable object (not in the referrer's collection, not while it is
 * resurrected), and does run for objects nothing reaches. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 300

struct obj {
  struct obj *ref;
  intptr_t index;
  intptr_t resurrect;
};

int round_no = 1;
int n_round[N], u_round[N], lone_round[N];
int u_calls, lone_calls, n_calls;
struct obj *saved[N];      /* referrers that resurrect themselves */
int bad;

static void GC_CALLBACK fin_referrer(void *p, void *cd) {
  struct obj *o = p;
  if (o->index < 0 || o->index >= N) { bad++; return; }
  n_round[o->index] = round_no;
  n_calls++;
  if (o->resurrect) saved[o->index] = o;
}
static void GC_CALLBACK fin_unreachable(void *p, void *cd) {
  struct obj *o = p;
  if (o->index < 0 || o->index >= N) { bad++; return; }
  u_round[o->index] = round_no;
  u_calls++;
}
static void GC_CALLBACK fin_lone(void *p, void *cd) {
  struct obj *o = p;
  if (o->index < 0 || o->index >= N) { bad++; return; }
  lone_round[o->index] = round_no;
  lone_calls++;
}

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    struct obj *n = GC_malloc(sizeof *n), *u = GC_malloc(sizeof *u),
               *l = GC_malloc(sizeof *l);
    CHECK(n && u && l, "allocation");
    n->index = u->index = l->index = i;
    n->ref = u;
    n->resurrect = i % 2;
    GC_register_finalizer_no_order(n, fin_referrer, NULL, NULL, NULL);
    GC_register_finalizer_unreachable(u, fin_unreachable, NULL, NULL, NULL);
    GC_register_finalizer_unreachable(l, fin_lone, NULL, NULL, NULL);
  }
}

/* Finalizers are invoked right after each collection, with no allocation
 * in between: stock bdwgc 8.2 puts a queued "unreachable" finalizer back
 * into its table when another collection runs before it was invoked. */
static void rounds(int n) {
  for (int k = 0; k < n; k++, round_no++) {
    GC_gcollect();
    GC_invoke_finalizers();
  }
}

int main(void) {
  GC_set_java_finalization(1);
  GC_INIT();
  CHECK(GC_get_java_finalization() == 1, "GC_get_java_finalization() != 1");
  GC_set_finalize_on_demand(1);
  build();
  clear_stack();
  rounds(8);
  CHECK(bad == 0, "finalizer got a wrong object");
  CHECK(mostly(lone_calls, N), "only %d of %d unreachable objects without "
        "referrers were finalized", lone_calls, N);
  CHECK(mostly(n_calls, N), "only %d of %d unordered finalizers ran", n_calls,
        N);
  int eventually = 0, dropped = 0;
  for (int i = 0; i < N; i++) {
    if (u_round[i])
      CHECK(n_round[i] && n_round[i] < u_round[i],
            "object %d finalized in round %d, while reachable from an "
            "unordered finalizable object finalized in round %d", i,
            u_round[i], n_round[i]);
    if (i % 2) {
      CHECK(u_round[i] == 0 || !saved[i],
            "object %d finalized although its referrer was resurrected", i);
    } else if (n_round[i]) {
      dropped++;
      eventually += u_round[i] != 0;
    }
  }
  /* Stock bdwgc 8.2 keeps a good part of the finalized, dropped referrers
   * (and so their targets) alive for a long time, so only a third of these
   * is required. */
  CHECK(3 * eventually >= dropped, "only %d of %d objects whose referrer "
        "was finalized and dropped were finalized", eventually, dropped);
  for (int i = 0; i < N; i++)
    if (saved[i]) CHECK(saved[i]->ref && saved[i]->ref->index == i,
                        "object kept by a resurrected referrer damaged");
  PASS("bdwgc_finalizer_unreachable_with_java_finalization");
}
