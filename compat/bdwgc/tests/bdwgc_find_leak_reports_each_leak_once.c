/* Leak-finding mode (GC_set_find_leak before GC_INIT, or the environment
 * variable GC_FIND_LEAK): a collection reports the objects that became
 * unreachable without being freed, under "Found N leaked objects:", one
 * line each: a GC_debug_ allocation with its file, line, requested size
 * and kind, another object with its address and (approximate) size.  Each
 * leak is reported once; freed objects (GC_free, GC_debug_free, the old
 * object of GC_debug_realloc) and reachable ones are not reported; the
 * program runs on.  At exit, leak mode collects once more, so a program
 * that never calls GC_gcollect gets its report too. */
#include <gc.h>

#include "bdwgc_check.h"

static int line_debug, line_atomic, line_strdup, line_realloc, line_kept;
void *kept[3]; /* roots */

static NOINLINE void leak_some(void) {
  for (int i = 0; i < 5; i++) {
    line_debug = __LINE__ + 1;
    char *p = GC_debug_malloc(24, __FILE__, __LINE__);
    memset(p, 1, 24);
  }
  for (int i = 0; i < 3; i++) {
    line_atomic = __LINE__ + 1;
    GC_debug_malloc_atomic(100, __FILE__, __LINE__);
  }
  for (int i = 0; i < 4; i++)
    GC_malloc(40);
  line_strdup = __LINE__ + 1;
  GC_debug_strdup("hello", __FILE__, __LINE__);
  void *r = GC_debug_malloc(10, __FILE__, __LINE__);
  line_realloc = __LINE__ + 1;
  r = GC_debug_realloc(r, 200, __FILE__, __LINE__);
  /* Freed ones are not leaks. */
  GC_free(GC_malloc(40));
  GC_debug_free(GC_debug_malloc(48, __FILE__, __LINE__));
  for (int i = 0; i < 3; i++) {
    line_kept = __LINE__ + 1;
    kept[i] = GC_debug_malloc(33, __FILE__, __LINE__);
  }
}

static int child(const char *mode) {
  if (strcmp(mode, "set") == 0)
    GC_set_find_leak(1);
  GC_INIT();
  if (GC_get_find_leak() != 1) {
    fprintf(stderr, "GC_get_find_leak() = %d\n", GC_get_find_leak());
    return 1;
  }
  leak_some();
  clear_stack();
  fprintf(stderr, "-- lines %d %d %d %d %d\n", line_debug, line_atomic,
          line_strdup, line_realloc, line_kept);
  if (strcmp(mode, "exit") == 0)
    return 0; /* the report comes from the collection at exit */
  GC_gcollect();
  fprintf(stderr, "-- second collection\n");
  GC_gcollect();
  GC_gcollect();
  fprintf(stderr, "-- end\n");
  for (int i = 0; i < 3; i++)
    if (kept[i] == NULL || ((char *)kept[i])[0] != 0)
      return 2;
  return 0;
}

static int lines(const char *a, const char *b, const char *file_line,
                 const char *what) {
  const char *n[] = {file_line, what, NULL};
  return count_lines(a, b, n);
}

static void check_report(const char *mode, const char *env) {
  static char out[65536];
  int st = run_self_capture(mode, env, out, sizeof out);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child status %#x:\n%s",
        mode, st, out);
  const char *second = strstr(out, "-- second collection");
  CHECK(strcmp(mode, "exit") == 0 || second, "%s: no second collection:\n%s",
        mode, out);
  /* Everything is reported by the first collection (or at exit). */
  const char *hdr[] = {"Found ", " leaked objects:", NULL};
  int total = 0, nhdr = 0;
  for (const char *h = out; (h = strstr(h, "Found ")) && (!second || h < second);
       h++) {
    int k;
    if (sscanf(h, "Found %d leaked objects:", &k) == 1) {
      total += k;
      nhdr++;
    }
  }
  CHECK(nhdr >= 1 && count_lines(out, second, hdr) == nhdr,
        "%s: no report:\n%s", mode, out);
  const char *lp = strstr(out, "-- lines ");
  CHECK(lp && sscanf(lp, "-- lines %d %d %d %d %d", &line_debug,
                     &line_atomic, &line_strdup, &line_realloc,
                     &line_kept) == 5, "%s: no lines:\n%s", mode, out);
  char fl[5][400];
  const int *ln[] = {&line_debug, &line_atomic, &line_strdup, &line_realloc,
                     &line_kept};
  for (int i = 0; i < 5; i++)
    snprintf(fl[i], sizeof fl[i], "%s:%d,", __FILE__, *ln[i]);
  int n24 = lines(out, second, fl[0], "sz= 24, NORMAL)");
  int n100 = lines(out, second, fl[1], "sz= 100, PTRFREE)");
  int nstr = lines(out, second, fl[2], "sz= 6, PTRFREE)");
  int nre = lines(out, second, fl[3], "sz= 200, NORMAL)");
  int nkept = lines(out, NULL, fl[4], "sz= 33");
  const char *plain_n[] = {"object at ", " bytes (composite)", NULL};
  int nplain = 0;
  for (const char *l = out; (l = strstr(l, "object at ")) &&
                            (!second || l < second); l++) {
    unsigned long sz;
    void *a;
    if (sscanf(l, "object at %p of appr. %lu bytes (composite)", &a, &sz) ==
        2) {
      CHECK(sz >= 40 && sz <= 64, "%s: a 40-byte object reported as %lu",
            mode, sz);
      nplain++;
    }
  }
  CHECK(count_lines(out, second, plain_n) == nplain, "%s", out);
  printf("%s: %d reported (%d debug 24, %d debug 100, %d strdup, %d "
         "realloc, %d plain 40)\n", mode, total, n24, n100, nstr, nre,
         nplain);
  CHECK(n24 == 5 && n100 == 3 && nstr == 1 && nre == 1 && nplain == 4,
        "%s: wrong report:\n%s", mode, out);
  CHECK(total == 14, "%s: %d leaks reported, expected 14:\n%s", mode, total,
        out);
  CHECK(nkept == 0, "%s: a reachable object was reported:\n%s", mode, out);
  /* Once each: later collections report nothing more. */
  CHECK(!second || strstr(second, "leaked objects") == NULL,
        "%s: reported again:\n%s", mode, out);
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child(argv[1]);
  check_report("set", NULL);
  check_report("env", "GC_FIND_LEAK=1");
  check_report("exit", "GC_FIND_LEAK=1");
  PASS("bdwgc_find_leak_reports_each_leak_once");
}
