/* Calls bdwgc accepts and carries on from, where a stricter library
 * would abort:
 *   - GC_INIT collects once (GC_get_gc_no() is at least 1 afterwards);
 *   - GC_register_finalizer on an interior pointer registers the
 *     finalizer of the object it points into, called with that pointer;
 *   - GC_free on an interior pointer frees the object it points into;
 *   - an unbalanced GC_enable leaves collection disabled until a
 *     GC_disable balances it;
 *   - GC_invoke_finalizers called from inside a finalizer drains the
 *     queue. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

static int ran, inner;
static GC_word last_obj;
static void fin(void *obj, void *cd) {
  ran++;
  last_obj = GC_HIDE_POINTER(obj);
  if (cd)
    inner += GC_invoke_finalizers();
}
static void quiet(char *msg, GC_word arg) {}

static NOINLINE void make_finalizable(int n) {
  for (int i = 0; i < n; i++) {
    void *p = GC_MALLOC(32);
    GC_REGISTER_FINALIZER(p, fin, (void *)1, 0, 0);
  }
}

/* Many objects, each with a finalizer registered on an interior pointer
 * (p + 8): "must die" is statistical, as conservative roots may keep a
 * few (AddressSanitizer's larger frames kept the one object the first
 * version used in 3 runs of 5). */
#define NINT 64
static GC_word interior_ptr[NINT]; /* hidden */
static int interior_ok;            /* finalizers called with p + 8 */
static void fin_interior(void *obj, void *cd) {
  (void)cd;
  ran++;
  for (int i = 0; i < NINT; i++)
    if (interior_ptr[i] == GC_HIDE_POINTER(obj))
      interior_ok++;
}
static NOINLINE void interior_finalizer(void) {
  for (int i = 0; i < NINT; i++) {
    char *p = GC_MALLOC(64);
    interior_ptr[i] = GC_HIDE_POINTER(p + 8);
    GC_REGISTER_FINALIZER(p + 8, fin_interior, NULL, 0, 0);
  }
}

int main(void) {
  GC_INIT();
  GC_set_warn_proc(quiet);
  CHECK(GC_get_gc_no() >= 1, "GC_get_gc_no() = %lu after GC_INIT",
        (unsigned long)GC_get_gc_no());
  GC_set_finalize_on_demand(1);

  interior_finalizer();
  clear_stack();
  for (int i = 0; i < 3; i++)
    GC_gcollect();
  int n = GC_invoke_finalizers();
  CHECK(n == ran && ran >= NINT * DEAD_FRACTION && interior_ok == ran,
        "finalizers registered on interior pointers: %d of %d ran, %d with "
        "the pointer registered", ran, NINT, interior_ok);
  ran = 0;

  char *q = GC_MALLOC(64);
  GC_free(q + 16); /* frees the object q points into: no abort */
  q = GC_MALLOC(64);
  CHECK(q != NULL, "allocation after GC_free of an interior pointer");

  GC_enable(); /* unbalanced */
  CHECK(GC_is_disabled(), "collection enabled after an unbalanced GC_enable");
  GC_word before = GC_get_gc_no();
  for (int i = 0; i < 200000; i++) {
    void *volatile g = GC_MALLOC(100);
    (void)g;
  }
  CHECK(GC_get_gc_no() == before, "%lu collections while disabled",
        (unsigned long)(GC_get_gc_no() - before));
  GC_disable(); /* balances it */
  CHECK(!GC_is_disabled(), "collection still disabled");

  make_finalizable(50);
  clear_stack();
  for (int i = 0; i < 3; i++)
    GC_gcollect();
  int outer = GC_invoke_finalizers();
  /* Most of them (a stale stack copy may keep one), each once, most by
   * the inner call. */
  CHECK(mostly(ran, 50) && outer + inner == ran && inner > outer,
        "finalizers: %d ran, %d by the outer call, %d by the inner one", ran,
        outer, inner);
  PASS("bdwgc_lenient_calls_carry_on");
}
