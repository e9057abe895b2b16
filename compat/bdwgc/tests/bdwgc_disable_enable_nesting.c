/* GC_disable/GC_enable nest: no collection (not even GC_gcollect, however
 * much is allocated) until they balance; GC_is_disabled and GC_dont_gc report
 * it and GC_dont_gc = 1 does the same; enabled, allocation alone collects. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 600
GC_hidden_pointer w[N];
int nfin;

static void GC_CALLBACK on_fin(void *obj, void *cd) { nfin++; }

static NOINLINE void make_garbage(void) {
  for (int i = 0; i < N; i++) {
    char *p = GC_malloc(32);
    CHECK(p != NULL, "allocation");
    GC_register_finalizer(p, on_fin, NULL, NULL, NULL);
    watch(&w[i], p);
  }
}

static NOINLINE void churn(size_t bytes) {
  for (size_t done = 0; done < bytes; done += 4096) {
    void *p = GC_malloc(4096);
    CHECK(p != NULL, "allocation while disabled failed");
  }
}

static void expect_no_collection(const char *state) {
  GC_word gc0 = GC_get_gc_no();
  int fin0 = nfin;
  GC_gcollect();
  GC_invoke_finalizers();
  churn(64u << 20);
  GC_gcollect();
  GC_invoke_finalizers();
  CHECK(GC_get_gc_no() == gc0, "%s: a collection ran (gc_no %lu -> %lu)",
        state, (unsigned long)gc0, (unsigned long)GC_get_gc_no());
  CHECK(nfin == fin0 && count_cleared(w, N) == 0,
        "%s: unreachable objects were collected", state);
}

int main(void) {
  GC_INIT();
  GC_set_finalize_on_demand(1);
  CHECK(!GC_is_disabled(), "disabled at start");
  make_garbage();
  clear_stack();

  GC_disable();
  CHECK(GC_is_disabled(), "GC_is_disabled() == 0 after GC_disable");
  CHECK(GC_dont_gc != 0, "GC_dont_gc == 0 after GC_disable");
  GC_disable();
  GC_enable();
  CHECK(GC_is_disabled(), "one GC_enable undid two GC_disable calls");
  expect_no_collection("after 2 x GC_disable, 1 x GC_enable");
  GC_enable();
  CHECK(!GC_is_disabled(), "still disabled after matching GC_enable");
  CHECK(GC_dont_gc == 0, "GC_dont_gc != 0 after matching GC_enable");

  GC_dont_gc = 1; /* deprecated, but documented to stop collections */
  CHECK(GC_is_disabled(), "GC_is_disabled() ignores GC_dont_gc = 1");
  expect_no_collection("with GC_dont_gc = 1");
  GC_dont_gc = 0;
  CHECK(!GC_is_disabled(), "GC_is_disabled() after GC_dont_gc = 0");

  GC_word gc0 = GC_get_gc_no();
  collect(2);
  CHECK(GC_get_gc_no() >= gc0 + 2, "GC_gcollect did not collect when enabled");
  CHECK(mostly(nfin, N) && mostly(count_cleared(w, N), N),
        "re-enabled collection found only %d of %d unreachable objects", nfin,
        N);

  /* Allocation alone triggers collections. */
  gc0 = GC_get_gc_no();
  churn(256u << 20);
  CHECK(GC_get_gc_no() > gc0, "256 MB of garbage allocated without any "
        "collection");
  PASS("bdwgc_disable_enable_nesting");
}
