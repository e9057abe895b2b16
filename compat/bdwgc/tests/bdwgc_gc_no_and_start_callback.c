/* GC_get_gc_no advances with every collection, explicit or automatic; the
 * GC_set_start_callback callback runs exactly once per collection, never while
 * collection is disabled or after being reset to NULL. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

long starts;
static void GC_CALLBACK on_start(void) { starts++; }

static void churn(long n) {
  for (long i = 0; i < n; i++) CHECK(GC_malloc(512) != NULL, "allocation");
}

int main(void) {
  GC_INIT();
  GC_set_start_callback(on_start);
  CHECK(GC_get_start_callback() == on_start,
        "GC_get_start_callback() != the callback set");
  GC_word gc0 = GC_get_gc_no();
  long s0 = starts;
  for (int i = 0; i < 10; i++) {
    GC_word before = GC_get_gc_no();
    long sb = starts;
    GC_gcollect();
    CHECK(GC_get_gc_no() > before, "GC_gcollect did not advance gc_no");
    CHECK(starts - sb == (long)(GC_get_gc_no() - before),
          "start callback called %ld times for %lu collections",
          starts - sb, (unsigned long)(GC_get_gc_no() - before));
  }
  GC_word mid = GC_get_gc_no();
  churn(400000);  /* 200 MB of garbage */
  CHECK(GC_get_gc_no() > mid, "allocation triggered no collection");
  CHECK(starts - s0 == (long)(GC_get_gc_no() - gc0),
        "start callback called %ld times in %lu collections", starts - s0,
        (unsigned long)(GC_get_gc_no() - gc0));

  GC_disable();
  long sd = starts;
  GC_word gd = GC_get_gc_no();
  GC_gcollect();
  churn(20000);
  CHECK(starts == sd && GC_get_gc_no() == gd, "collection while disabled");
  GC_enable();

  GC_set_start_callback(0);
  CHECK(GC_get_start_callback() == 0, "start callback not reset");
  long sn = starts;
  GC_gcollect();
  churn(100000);
  CHECK(starts == sn, "start callback called after being reset");
  PASS("bdwgc_gc_no_and_start_callback");
}
