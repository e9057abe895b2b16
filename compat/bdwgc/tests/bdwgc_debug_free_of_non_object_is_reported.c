// stock-fails: bdwgc aborts ("Invalid pointer passed to free()"); spangc
// reports the pointer and carries on, as for the other GC_debug_free
// mistakes.
/* GC_debug_free of a pointer that is not a heap object (a static
 * variable, a stack address) is reported on stderr, naming the pointer,
 * and otherwise ignored: the program runs on. */
#include <gc.h>

#include "bdwgc_check.h"

int not_heap[4];

static int child(void) {
  GC_INIT();
  int on_stack = 0;
  fprintf(stderr, "-- static %p stack %p\n", (void *)&not_heap[1],
          (void *)&on_stack);
  GC_debug_free(&not_heap[1]);
  GC_debug_free(&on_stack);
  void *p = GC_debug_malloc(10, __FILE__, __LINE__);
  GC_debug_free(p);
  GC_gcollect();
  fprintf(stderr, "-- alive\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child();
  static char out[1 << 16];
  int st = run_self_capture("child", NULL, out, sizeof out);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x:\n%s", st,
        out);
  CHECK(strstr(out, "-- alive"), "the program stopped:\n%s", out);
  void *a, *b;
  const char *m = strstr(out, "-- static ");
  CHECK(m && sscanf(m, "-- static %p stack %p", &a, &b) == 2, "%s", out);
  char sa[32], sb[32];
  snprintf(sa, sizeof sa, "%p", a);
  snprintf(sb, sizeof sb, "%p", b);
  const char *na[] = {"GC_debug_free", sa, NULL}, *nb[] = {"GC_debug_free",
                                                          sb, NULL};
  CHECK(count_lines(m, NULL, na) == 1 && count_lines(m, NULL, nb) == 1,
        "not reported:\n%s", out);
  const char *any[] = {"GC_debug_free", NULL};
  CHECK(count_lines(m, NULL, any) == 2, "a valid free was reported:\n%s",
        out);
  PASS("bdwgc_debug_free_of_non_object_is_reported");
}
