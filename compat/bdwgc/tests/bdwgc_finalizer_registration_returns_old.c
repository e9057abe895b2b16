/* GC_register_finalizer(_...) report the replaced finalizer and client data
 * in *ofn and *ocd (NULL at first), only the last one runs, NULL removes it,
 * non-heap addresses are ignored; client data lives until the finalizer ran. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 600
#define CDSIZE 32

int calls_f1, calls_f2, calls_f3, calls_bad;
int cd_damaged;
GC_hidden_pointer w_obj[N], w_cd[N];
int static_target;

static void GC_CALLBACK f1(void *obj, void *cd) { calls_f1++; }
static void GC_CALLBACK f2(void *obj, void *cd) {
  intptr_t i = (intptr_t)cd;
  if (i < 0 || i >= N) calls_bad++;
  calls_f2++;
}
static void GC_CALLBACK f3(void *obj, void *cd) {
  /* cd is a GC object: it must be intact now. */
  intptr_t i = *(intptr_t *)cd;
  if (i < 0 || i >= N ||
      check_pattern((char *)cd + sizeof(intptr_t), CDSIZE - sizeof(intptr_t),
                    i) >= 0)
    cd_damaged++;
  calls_f3++;
}
static void GC_CALLBACK never(void *obj, void *cd) { calls_bad++; }

typedef void (GC_CALL *reg_fn)(void *, GC_finalization_proc, void *,
                               GC_finalization_proc *, void **);
static const reg_fn regs[] = {GC_register_finalizer,
                              GC_register_finalizer_ignore_self,
                              GC_register_finalizer_no_order};

enum { REPLACED, REMOVED, CLIENT_DATA, NPHASE };

static NOINLINE void build(int phase) {
  for (int i = 0; i < N; i++) {
    char *p = GC_malloc(24);
    CHECK(p != NULL, "allocation");
    GC_finalization_proc ofn = never;
    void *ocd = &ofn;
    reg_fn first = regs[i % 3], second = regs[(i + 1) % 3];
    if (phase == CLIENT_DATA) {
      intptr_t *cd = GC_malloc(CDSIZE);
      CHECK(cd != NULL, "allocation");
      *cd = i;
      fill_pattern(cd + 1, CDSIZE - sizeof(intptr_t), i);
      first(p, f3, cd, &ofn, &ocd);
      CHECK(ofn == NULL && ocd == NULL, "first registration: old finalizer "
            "%p, old client data %p", (void *)ofn, ocd);
      watch(&w_cd[i], cd);
    } else {
      first(p, f1, (void *)(intptr_t)(i + 1000), &ofn, &ocd);
      CHECK(ofn == NULL && ocd == NULL, "first registration: old finalizer "
            "%p, old client data %p", (void *)ofn, ocd);
      second(p, phase == REMOVED ? NULL : f2, (void *)(intptr_t)i, &ofn,
             &ocd);
      CHECK(ofn == f1 && ocd == (void *)(intptr_t)(i + 1000),
            "second registration did not report the first one");
      if (phase == REMOVED) {
        /* Removing again reports nothing registered. */
        GC_register_finalizer(p, NULL, NULL, &ofn, &ocd);
        CHECK(ofn == NULL && ocd == NULL, "removal left a finalizer behind");
      } else {
        /* Re-registering the same one reports it. */
        GC_finalization_proc ofn2;
        void *ocd2;
        second(p, f2, (void *)(intptr_t)i, &ofn2, &ocd2);
        CHECK(ofn2 == f2 && ocd2 == (void *)(intptr_t)i,
              "re-registration did not report the current finalizer");
      }
    }
    watch(&w_obj[i], p);
  }
}

static void unwatch(GC_hidden_pointer *w) {
  for (int i = 0; i < N; i++)
    if (w[i]) GC_unregister_disappearing_link((void **)&w[i]);
}

int main(void) {
  GC_INIT();
  GC_set_finalize_on_demand(1);

  /* Outside the heap: ignored, reports NULL. */
  GC_finalization_proc ofn = f1;
  void *ocd = &ofn;
  int local;
  GC_register_finalizer(&static_target, never, NULL, &ofn, &ocd);
  CHECK(ofn == NULL && ocd == NULL, "static address: *ofn/*ocd not NULL");
  ofn = f1;
  ocd = &ofn;
  GC_register_finalizer(&local, never, NULL, &ofn, &ocd);
  CHECK(ofn == NULL && ocd == NULL, "stack address: *ofn/*ocd not NULL");
  KEEP(&local);

  /* Replaced: only the second finalizer runs. */
  build(REPLACED);
  clear_stack();
  collect(4);
  CHECK(calls_f1 == 0, "a replaced finalizer ran %d times", calls_f1);
  CHECK(calls_bad == 0, "a finalizer got wrong client data");
  CHECK(mostly(calls_f2, N), "only %d of %d replacing finalizers ran",
        calls_f2, N);
  CHECK(calls_f2 <= N, "more finalizer calls than objects");
  unwatch(w_obj);

  /* Removed: objects collected, no finalizer. */
  int f2_before = calls_f2;
  build(REMOVED);
  clear_stack();
  collect(4);
  CHECK(calls_f1 == 0 && calls_f2 == f2_before && calls_bad == 0,
        "a finalizer ran after it was removed");
  long dead = count_cleared(w_obj, N);
  CHECK(mostly(dead, N), "only %ld of %d objects whose finalizer was removed "
        "were collected", dead, N);
  unwatch(w_obj);

  /* Client data stays alive until its finalizer ran. */
  build(CLIENT_DATA);
  clear_stack();
  for (int r = 0; r < 4; r++) {
    GC_gcollect(); /* finalizers now queued, not run (on demand) */
    for (int i = 0; i < N; i++)
      CHECK(w_cd[i] != 0, "client data %d collected before its finalizer "
            "ran", i);
  }
  GC_invoke_finalizers();
  CHECK(cd_damaged == 0, "%d finalizers found their client data damaged",
        cd_damaged);
  CHECK(mostly(calls_f3, N), "only %d of %d finalizers ran", calls_f3, N);
  collect(3);
  dead = count_cleared(w_cd, N);
  CHECK(mostly(dead, N), "only %ld of %d client data objects collected after "
        "their finalizers ran", dead, N);
  PASS("bdwgc_finalizer_registration_returns_old");
}
