/* GC_set_mark_bit / GC_clear_mark_bit / GC_is_marked under the allocation
 * lock: GC_is_marked returns 1 after set and 0 after clear, per object;
 * collections afterwards behave normally. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

#define N 300
char *objs[N];
int failures;

static void *GC_CALLBACK flip_bits(void *arg) {
  for (int i = 0; i < N; i++) GC_clear_mark_bit(objs[i]);
  for (int i = 0; i < N; i++)
    if (GC_is_marked(objs[i]) != 0) failures++;
  for (int i = 0; i < N; i += 2) GC_set_mark_bit(objs[i]);
  for (int i = 0; i < N; i++)
    if (GC_is_marked(objs[i]) != (i % 2 == 0 ? 1 : 0)) failures++;
  for (int i = 0; i < N; i += 2) GC_clear_mark_bit(objs[i]);
  for (int i = 1; i < N; i += 2) GC_set_mark_bit(objs[i]);
  for (int i = 0; i < N; i++)
    if (GC_is_marked(objs[i]) != (i % 2 ? 1 : 0)) failures++;
  return arg;
}

int main(void) {
  GC_INIT();
  for (int i = 0; i < N; i++) {
    size_t sz = i < N / 3 ? 16 : i < 2 * N / 3 ? 200 : 5000;
    objs[i] = i % 4 == 3 ? GC_malloc_atomic(sz) : GC_malloc(sz);
    CHECK(objs[i] != NULL, "allocation");
    fill_pattern(objs[i], sz, i);
  }
  for (int r = 0; r < 3; r++) {
    failures = 0;
    CHECK(GC_call_with_alloc_lock(flip_bits, objs) == objs,
          "GC_call_with_alloc_lock result");
    CHECK(failures == 0, "%d GC_is_marked results did not match the bits "
          "just set or cleared", failures);
    for (int g = 0; g < 5000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    GC_gcollect();
    for (int i = 0; i < N; i++) {
      size_t sz = i < N / 3 ? 16 : i < 2 * N / 3 ? 200 : 5000;
      CHECK(check_pattern(objs[i], sz, i) < 0, "object %d changed", i);
    }
  }
  PASS("bdwgc_mark_bits_set_and_query");
}
