/* GC_register_finalizer finalizes in topological order: for A -> B (-> C)
 * A first, B (intact) in a later collection; finalizers run once with their
 * object and client data; resurrected objects stay intact and are finalized
 * again only after a new registration. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define NCHAIN 300
#define LEN 3
#define NOBJ (NCHAIN * LEN)
#define NRES 200
#define PAYLOAD 48

struct obj {
  struct obj *next;
  intptr_t id;
  unsigned char payload[PAYLOAD];
};

GC_hidden_pointer addr[NOBJ];
int fin_round[NOBJ];      /* 0: not finalized; else the round it ran in */
int fin_count[NOBJ];
int round_no = 1;
int bad_arg, bad_order, bad_contents;

static void GC_CALLBACK on_fin(void *p, void *cd) {
  intptr_t id = (intptr_t)cd;
  struct obj *o = p;
  if (id < 0 || id >= NOBJ || p != GC_REVEAL_POINTER(addr[id]) ||
      o->id != id) {
    bad_arg++;
    return;
  }
  fin_count[id]++;
  fin_round[id] = round_no;
  if (check_pattern(o->payload, PAYLOAD, id) >= 0) bad_contents++;
  /* The successor must not have been finalized, and must be intact. */
  if (o->next) {
    intptr_t nid = o->next->id;
    if (nid != id + 1 || fin_round[nid] != 0) bad_order++;
    if (check_pattern(o->next->payload, PAYLOAD, nid) >= 0) bad_contents++;
  }
}

/* Resurrection. */
struct obj *resurrected[NRES];
GC_hidden_pointer res_addr[NRES];
int res_count[NRES];

static void GC_CALLBACK resurrect(void *p, void *cd) {
  intptr_t i = (intptr_t)cd;
  if (i < 0 || i >= NRES || p != GC_REVEAL_POINTER(res_addr[i])) {
    bad_arg++;
    return;
  }
  res_count[i]++;
  resurrected[i] = p;
}

static NOINLINE void build(void) {
  for (int c = 0; c < NCHAIN; c++) {
    struct obj *prev = NULL;
    for (int k = LEN - 1; k >= 0; k--) {
      intptr_t id = c * LEN + k;
      struct obj *o = GC_malloc(sizeof *o);
      CHECK(o != NULL, "allocation");
      o->id = id;
      o->next = prev;
      fill_pattern(o->payload, PAYLOAD, id);
      addr[id] = GC_HIDE_POINTER(o);
      GC_register_finalizer(o, on_fin, (void *)id, NULL, NULL);
      prev = o;
    }
  }
  for (int i = 0; i < NRES; i++) {
    struct obj *o = GC_malloc(sizeof *o);
    CHECK(o != NULL, "allocation");
    o->id = 100000 + i;
    fill_pattern(o->payload, PAYLOAD, 100000 + i);
    res_addr[i] = GC_HIDE_POINTER(o);
    GC_register_finalizer(o, resurrect, (void *)(intptr_t)i, NULL, NULL);
  }
}

int main(void) {
  GC_INIT();
  GC_set_finalize_on_demand(1);
  build();
  clear_stack();
  for (; round_no <= 12; round_no++) {
    GC_gcollect();
    GC_invoke_finalizers();
  }
  CHECK(bad_arg == 0, "%d finalizers got a wrong object or client data",
        bad_arg);
  CHECK(bad_order == 0, "%d objects were finalized after (or in the same "
        "collection as) an object they point to", bad_order);
  CHECK(bad_contents == 0, "%d objects were damaged when finalized",
        bad_contents);
  long done = 0;
  for (int id = 0; id < NOBJ; id++) {
    CHECK(fin_count[id] <= 1, "object %d finalized %d times", id,
          fin_count[id]);
    done += fin_count[id];
    if (id % LEN && fin_round[id])
      CHECK(fin_round[id - 1] && fin_round[id - 1] < fin_round[id],
            "object %d finalized in round %d, its referrer in round %d", id,
            fin_round[id], fin_round[id - 1]);
  }
  CHECK(mostly(done, NOBJ), "only %ld of %d objects in unreachable chains "
        "finalized", done, NOBJ);

  /* Resurrected objects: intact, usable, never finalized again. */
  long nres = 0;
  for (int i = 0; i < NRES; i++) nres += res_count[i];
  CHECK(mostly(nres, NRES), "only %ld of %d resurrecting finalizers ran",
        nres, NRES);
  for (round_no = 100; round_no < 110; round_no++) {
    for (int g = 0; g < 2000; g++) CHECK(GC_malloc(48) != NULL, "garbage");
    GC_gcollect();
    GC_invoke_finalizers();
    for (int i = 0; i < NRES; i++) {
      CHECK(res_count[i] <= 1, "resurrected object %d finalized again", i);
      if (resurrected[i]) {
        CHECK(resurrected[i]->id == 100000 + i &&
                  check_pattern(resurrected[i]->payload, PAYLOAD,
                                100000 + i) < 0,
              "resurrected object %d damaged", i);
      }
    }
  }
  /* A new registration on a resurrected object runs when it is dropped. */
  int n_rereg = 0;
  for (int i = 0; i < NRES; i++)
    if (resurrected[i]) {
      GC_finalization_proc ofn = resurrect;
      GC_register_finalizer(resurrected[i], resurrect, (void *)(intptr_t)i,
                            &ofn, NULL);
      CHECK(ofn == 0, "a finalizer stayed registered after it ran");
      resurrected[i] = NULL;
      n_rereg++;
    }
  clear_stack();
  collect(3);
  long again = 0;
  for (int i = 0; i < NRES; i++) again += res_count[i] == 2;
  CHECK(mostly(again, n_rereg), "only %ld of %d re-registered finalizers ran",
        again, n_rereg);
  PASS("bdwgc_finalizers_run_in_topological_order");
}
