/* GC_general_register_disappearing_link: GC_SUCCESS then GC_DUPLICATE (the
 * last object counts); links clear once the object is unreachable, before its
 * finalizer, never while reachable; GC_register_disappearing_link(&field);
 * GC_unregister_disappearing_link returns 1 / 0. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 1000
#define TSIZE 40

struct holder {
  void *field;          /* registered with GC_register_disappearing_link */
  intptr_t index;
};

GC_hidden_pointer w_dead[N], w_live[N], w_unreg[N], w_fin[N], w_retarget[N];
char *live[N];
int unreg_fin, fin_saw_link, fin_calls, holder_fin, holder_field_set;

static void GC_CALLBACK fin_check_link(void *obj, void *cd) {
  intptr_t i = (intptr_t)cd;
  fin_calls++;
  if (i >= 0 && i < N && w_fin[i] != 0) fin_saw_link++;
}
static void GC_CALLBACK fin_unreg(void *obj, void *cd) { unreg_fin++; }
static void GC_CALLBACK fin_holder(void *obj, void *cd) {
  struct holder *h = obj;
  holder_fin++;
  if (h->field != NULL) holder_field_set++;
}

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    char *d = GC_malloc(TSIZE), *l = GC_malloc(TSIZE), *u = GC_malloc(TSIZE),
         *f = GC_malloc(TSIZE);
    CHECK(d && l && u && f, "allocation");
    fill_pattern(l, TSIZE, i);
    live[i] = l;
    watch(&w_dead[i], d);
    watch(&w_live[i], l);
    /* A second registration of the same link: GC_DUPLICATE. */
    int r = GC_general_register_disappearing_link((void **)&w_dead[i], d);
    CHECK(r == GC_DUPLICATE, "re-registering a link returned %d", r);
    /* Registered with a reachable object, then with an unreachable one:
     * only the last counts. */
    char *d2 = GC_malloc(TSIZE);
    CHECK(d2 != NULL, "allocation");
    watch(&w_retarget[i], l);
    r = GC_general_register_disappearing_link((void **)&w_retarget[i], d2);
    CHECK(r == GC_DUPLICATE, "re-registering a link returned %d", r);
    r = GC_general_register_disappearing_link((void **)&w_live[i], l);
    CHECK(r == GC_DUPLICATE, "re-registering a link returned %d", r);

    watch(&w_unreg[i], u);
    GC_register_finalizer(u, fin_unreg, NULL, NULL, NULL);
    CHECK(GC_unregister_disappearing_link((void **)&w_unreg[i]) == 1,
          "GC_unregister_disappearing_link of a registered link != 1");
    CHECK(GC_unregister_disappearing_link((void **)&w_unreg[i]) == 0,
          "GC_unregister_disappearing_link of an unregistered link != 0");

    watch(&w_fin[i], f);
    GC_register_finalizer(f, fin_check_link, (void *)(intptr_t)i, NULL, NULL);

    struct holder *h = GC_malloc(sizeof *h);
    CHECK(h != NULL, "allocation");
    h->index = i;
    h->field = GC_malloc(16);
    r = GC_register_disappearing_link(&h->field);
    CHECK(r == GC_SUCCESS, "GC_register_disappearing_link returned %d", r);
    r = GC_register_disappearing_link(&h->field);
    CHECK(r == GC_DUPLICATE, "GC_register_disappearing_link twice: %d", r);
    GC_register_finalizer(h, fin_holder, NULL, NULL, NULL);
  }
}

int main(void) {
  GC_INIT();
  GC_set_finalize_on_demand(1);
  int local;
  GC_hidden_pointer never = 0;
  CHECK(GC_unregister_disappearing_link((void **)&never) == 0,
        "unregistering a never-registered link != 0");
  KEEP(&local);

  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w_live[i] == GC_HIDE_POINTER(live[i]), "a link to a reachable "
            "object was cleared or changed (index %d, collection %d)", i,
            round + 1);
      CHECK(check_pattern(live[i], TSIZE, i) < 0, "reachable object changed");
    }
  }
  long dead = count_cleared(w_dead, N);
  CHECK(mostly(dead, N), "only %ld of %d links to unreachable objects "
        "cleared", dead, N);
  dead = count_cleared(w_retarget, N);
  CHECK(mostly(dead, N), "only %ld of %d links re-registered with an "
        "unreachable object cleared", dead, N);
  CHECK(count_cleared(w_unreg, N) == 0,
        "an unregistered link was cleared");
  CHECK(mostly(unreg_fin, N), "only %d of %d objects with unregistered links "
        "were found unreachable", unreg_fin, N);
  CHECK(mostly(fin_calls, N), "only %d of %d finalizers ran", fin_calls, N);
  CHECK(fin_saw_link == 0, "%d finalizers ran while a link to their object "
        "was not yet cleared", fin_saw_link);
  CHECK(mostly(holder_fin, N), "only %d of %d holders finalized", holder_fin,
        N);
  CHECK(holder_field_set == 0, "%d holders still had their registered field "
        "set when finalized", holder_field_set);
  PASS("bdwgc_disappearing_links_clear");
}
