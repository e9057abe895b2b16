/* GC_debug_free checks the object it is given: a debugging object whose
 * bytes were written past its end is reported as smashed ("GC_debug_free:
 * found smashed location at ... in or near object at P (file:line, sz=
 * N)"), a second GC_debug_free of the same object is reported naming it,
 * and GC_debug_free of an object without debugging information says so;
 * none of these stops the program, which keeps allocating and
 * collecting. */
#include <gc.h>

#include "bdwgc_check.h"

void *held[4]; /* roots */

static int child(void) {
  GC_INIT();
  char *p = GC_debug_malloc(16, __FILE__, __LINE__);
  held[0] = p;
  char *volatile w = p; /* (the compiler would see the overrun) */
  memset(w, 0x5a, 16 + sizeof(void *)); /* one word past the end */
  fprintf(stderr, "-- smashed %p line %d\n", (void *)p, __LINE__ - 4);
  GC_debug_free(p);
  char *q = GC_debug_malloc(16, __FILE__, __LINE__);
  held[1] = q;
  GC_debug_free(q);
  fprintf(stderr, "-- double %p\n", (void *)q);
  GC_debug_free(q);
  char *r = GC_malloc(16);
  held[2] = r;
  fprintf(stderr, "-- plain %p\n", (void *)r);
  GC_debug_free(r);
  for (int i = 0; i < 1000; i++)
    GC_debug_malloc(100, __FILE__, __LINE__);
  GC_gcollect();
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
  void *p, *q, *r;
  int line;
  const char *s = strstr(out, "-- smashed "), *d = strstr(out, "-- double "),
             *pl = strstr(out, "-- plain ");
  CHECK(s && sscanf(s, "-- smashed %p line %d", &p, &line) == 2, "%s", out);
  CHECK(d && sscanf(d, "-- double %p", &q) == 1, "%s", out);
  CHECK(pl && sscanf(pl, "-- plain %p", &r) == 1, "%s", out);
  char a[64], fl[400];
  snprintf(a, sizeof a, "in or near object at %p (", p);
  snprintf(fl, sizeof fl, "%s:%d, sz= 16)", __FILE__, line);
  const char *sm[] = {"GC_debug_free: found smashed location at ", a, fl, NULL};
  CHECK(count_lines(s, d, sm) == 1, "smashed object not reported:\n%s", out);
  /* The double free names the object (bdwgc: "found previously
   * deallocated (?) object at ... in or near object at Q"). */
  snprintf(a, sizeof a, "%p", q);
  const char *df[] = {"GC_debug_free", a, NULL};
  CHECK(count_lines(d, pl, df) == 1, "double free not reported:\n%s", out);
  snprintf(a, sizeof a, "GC_debug_free called on pointer %p w/o debugging "
           "info", r);
  const char *pf[] = {a, NULL};
  CHECK(count_lines(pl, NULL, pf) == 1, "plain object not reported:\n%s", out);
  CHECK(strstr(out, "GC_check_heap_block") == NULL,
        "freed objects were checked as live ones:\n%s", out);
  PASS("bdwgc_debug_free_reports_smashed_and_double_free");
}
