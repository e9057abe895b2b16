/* GC_gcollect and GC_gcollect_and_unmap run a full collection (gc_no goes up,
 * unreachable objects are finalized and their links cleared, live ones are
 * untouched); a GC_collect_a_little loop ends with 0. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 1000
#define NKEEP 500
GC_hidden_pointer w[N];
int finalized[N];
char *kept[NKEEP];
intptr_t phase; /* finalizers of objects of older phases are ignored */

static void GC_CALLBACK on_fin(void *obj, void *cd) {
  intptr_t i = (intptr_t)cd - phase * N;
  if (i >= 0 && i < N) finalized[i]++;
}

/* Forget the objects of this phase that were not collected. */
static void end_phase(void) {
  for (int i = 0; i < N; i++)
    if (w[i]) GC_unregister_disappearing_link((void **)&w[i]);
  phase++;
}

static NOINLINE void make_garbage(void) {
  for (int i = 0; i < N; i++) {
    char *p = GC_malloc(16 + i % 200);
    CHECK(p != NULL, "allocation");
    finalized[i] = 0;
    GC_register_finalizer(p, on_fin, (void *)(phase * N + i), NULL, NULL);
    watch(&w[i], p);
  }
}

static void check_kept(void) {
  for (int i = 0; i < NKEEP; i++)
    CHECK(check_pattern(kept[i], 100, i) < 0, "kept object %d changed", i);
}

static void run(void (*collect_fn)(void), const char *name) {
  make_garbage();
  clear_stack();
  for (int r = 0; r < 3; r++) {
    GC_word before = GC_get_gc_no();
    collect_fn();
    CHECK(GC_get_gc_no() > before, "%s did not advance GC_get_gc_no (%lu)",
          name, (unsigned long)before);
    GC_invoke_finalizers();
  }
  long nfin = 0, dead = count_cleared(w, N);
  for (int i = 0; i < N; i++) {
    CHECK(finalized[i] <= 1, "a finalizer ran %d times", finalized[i]);
    nfin += finalized[i];
  }
  CHECK(mostly(nfin, N), "after 3 x %s only %ld of %d unreachable objects "
        "were finalized", name, nfin, N);
  CHECK(mostly(dead, N), "after 3 x %s only %ld of %d disappearing links "
        "were cleared", name, dead, N);
  check_kept();
  end_phase();
}

int main(void) {
  GC_INIT();
  for (int i = 0; i < NKEEP; i++) {
    kept[i] = GC_malloc(100);
    CHECK(kept[i] != NULL, "allocation");
    fill_pattern(kept[i], 100, i);
  }
  run(GC_gcollect, "GC_gcollect");
  run(GC_gcollect_and_unmap, "GC_gcollect_and_unmap");

  for (int r = 0; r < 3; r++) {
    make_garbage();
    clear_stack();
    long steps = 0;
    while (GC_collect_a_little()) {
      CHECK(++steps < 1000000, "GC_collect_a_little never returned 0");
    }
    check_kept();
    end_phase();
  }
  PASS("bdwgc_gcollect_reclaims_unreachable");
}
