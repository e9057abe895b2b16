// stock-fails: bdwgc frees each leaked object once it reported it, and the
// next allocations of its size reuse it; spangc keeps leaked objects, so a
// program that still reaches one in a way the collector cannot see (here a
// hidden pointer) finds it intact and runs on.
/* Leak-finding mode never reuses a leaked object: after the report, the
 * program allocates many objects of the same size and fills them; the
 * leaked objects, reached through hidden pointers, still hold what was
 * written to them, and are not reported a second time. */
#include <gc.h>

#include "bdwgc_check.h"

#define N 32 /* under bdwgc's 40 reports per collection */
GC_hidden_pointer hidden[N]; /* roots that hide what they point at */

static NOINLINE void leak(void) {
  for (int i = 0; i < N; i++) {
    char *p = GC_malloc(48);
    fill_pattern(p, 48, (size_t)i);
    hidden[i] = GC_HIDE_POINTER(p);
  }
}

static int child(void) {
  GC_set_find_leak(1);
  GC_INIT();
  leak();
  clear_stack();
  GC_gcollect();
  fprintf(stderr, "-- reported\n");
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 20000; i++) {
      char *q = GC_malloc(48);
      memset(q, 0xee, 48);
      GC_free(q); /* freed, so not a leak itself */
    }
    GC_gcollect();
  }
  long bad = 0;
  for (int i = 0; i < N; i++)
    bad += check_pattern(GC_REVEAL_POINTER(hidden[i]), 48, (size_t)i) >= 0;
  fprintf(stderr, "-- %ld of %d kept objects overwritten\n", bad, N);
  return bad != 0;
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child();
  static char out[1 << 16];
  int st = run_self_capture("child", NULL, out, sizeof out);
  const char *after = strstr(out, "-- reported");
  int k = 0;
  const char *f = strstr(out, "Found ");
  CHECK(f && sscanf(f, "Found %d leaked objects:", &k) == 1 && after &&
            f < after, "no report:\n%s", out);
  printf("%d reported\n", k);
  CHECK(mostly(k, N), "%d of %d reported:\n%s", k, N, out);
  CHECK(strstr(after, "leaked objects") == NULL, "reported again:\n%s", out);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "leaked objects were reused:\n%s", out);
  PASS("bdwgc_find_leak_keeps_leaked_objects_intact");
}
