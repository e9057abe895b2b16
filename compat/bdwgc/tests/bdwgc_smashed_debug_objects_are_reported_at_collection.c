/* A collection checks the live debugging objects: one whose bytes were
 * written past its end, or just before its start, is reported as
 * smashed ("GC_check_heap_block: found N smashed heap objects:", then a
 * line naming the object with its file, line and size), intact ones are
 * not, and the program runs on. */
#include <gc.h>

#include "bdwgc_check.h"

void *held[64]; /* roots */

static int child(void) {
  GC_INIT();
  int line = __LINE__ + 2;
  for (int i = 0; i < 64; i++)
    held[i] = GC_debug_malloc(24 + (size_t)i, __FILE__, __LINE__);
  char *end = held[10], *start = held[20];
  memset(end + 34, 0x5a, 6 + sizeof(void *)); /* through the word after */
  memset(start - sizeof(void *), 0x5a, sizeof(void *));
  fprintf(stderr, "-- smashed %p %p line %d\n", (void *)end, (void *)start,
          line);
  GC_gcollect();
  fprintf(stderr, "-- again\n");
  GC_gcollect();
  for (int i = 0; i < 64; i++)
    if (i != 10 && i != 20)
      GC_debug_free(held[i]);
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
  void *e, *s;
  int line;
  const char *m = strstr(out, "-- smashed "), *again = strstr(out, "-- again");
  CHECK(m && again && sscanf(m, "-- smashed %p %p line %d", &e, &s, &line) == 3,
        "%s", out);
  const char *hdr = strstr(m, "GC_check_heap_block: found ");
  int n = 0;
  CHECK(hdr && hdr < again &&
            sscanf(hdr, "GC_check_heap_block: found %d smashed", &n) == 1,
        "no report:\n%s", out);
  CHECK(n == 2, "%d smashed objects reported:\n%s", n, out);
  char a[64], fl[400];
  snprintf(fl, sizeof fl, "%s:%d, sz= 34)", __FILE__, line);
  snprintf(a, sizeof a, "in or near object at %p (", e);
  const char *ne[] = {a, fl, NULL};
  CHECK(count_lines(hdr, again, ne) == 1, "end overrun not named:\n%s", out);
  snprintf(fl, sizeof fl, "%s:%d, sz= 44)", __FILE__, line);
  snprintf(a, sizeof a, "in or near object at %p (", s);
  const char *ns[] = {a, fl, NULL};
  CHECK(count_lines(hdr, again, ns) == 1, "underrun not named:\n%s", out);
  /* (bdwgc reports them again at every collection; so does spangc.)
   * Intact objects pass GC_debug_free silently. */
  CHECK(strstr(again, "GC_debug_free") == NULL, "%s", out);
  PASS("bdwgc_smashed_debug_objects_are_reported_at_collection");
}
