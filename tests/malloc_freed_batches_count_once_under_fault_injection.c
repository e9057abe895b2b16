// labels: malloc
/* Freed objects go to central batches; when the OS refuses the memory for
 * a batch's record, the objects are dropped as a collection would drop
 * them, and counted once: after every object is freed and collected, the
 * live count is back where it started, at each failing request in turn
 * (SPANGC_FAIL_MMAP=N, in a child process per N).  Skipped with
 * SPANGC_DEBUG=verify=1, where a refused request for the verifier's
 * tables ends the process by design (spangc.h, sgc_init). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "spangc.h"

enum { N = 20000 };

static int child(void) {
  sgc_init();
  sgc_collect();
  sgc_stats st0, st1;
  sgc_read_stats(&st0);
  void **held = sgc_alloc(N * sizeof(void *));
  if (held == NULL)
    return 0; /* refused: nothing to check */
  int n = 0;
  for (; n < N; n++)
    if ((held[n] = sgc_alloc(64)) == NULL)
      break;
  for (int i = 0; i < n; i++)
    sgc_free(held[i]);
  sgc_free(held);
  sgc_collect();
  sgc_collect();
  sgc_read_stats(&st1);
  CHECKF(st1.live_objects <= st0.live_objects + 16,
         "live objects %llu after freeing everything (%llu before)",
         (unsigned long long)st1.live_objects,
         (unsigned long long)st0.live_objects);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child();
  if (test_verifying()) {
    printf("skipped: the verifier needs its memory (sgc_init)\n");
    return 0;
  }
  char out[4096];
  for (int fail = 1; fail <= 40; fail++) {
    char v[16];
    snprintf(v, sizeof v, "%d", fail);
    setenv("SPANGC_FAIL_MMAP", v, 1);
    int st = run_self(argv[0], "child", out, sizeof out);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "SPANGC_FAIL_MMAP=%d: status %d: %s", fail, st, out);
  }
  return 0;
}
