/* gc_disclaim.h: a disclaim procedure is asked about every object of its
 * kind allocated afterwards, whichever call made it: GC_MALLOC,
 * ignore-off-page, aligned (GC_memalign, GC_posix_memalign), moved by
 * GC_REALLOC, generic, many-at-once and debug allocation.  Each unreachable object is
 * asked about once the collector finds it unreachable (at least half of
 * them after a few collections: conservative roots may keep a few). */
// labels: bdwgc
// stock-fails: bdwgc hands the procedure the start of its own block, and GC_memalign(64) returns an offset inside a larger block, which moves the tag this test reads (501 of 2000 found)
#include <gc.h>
#include <gc/gc_disclaim.h>
#include <gc/gc_mark.h>
#include <gc/gc_inline.h>
#include <string.h>
#include "bdwgc_check.h"

#define N 2000
#define NPATH 8
static int asked[NPATH];
static const char *names[NPATH] = {
    "GC_MALLOC",         "GC_malloc_ignore_off_page", "GC_memalign(64)",
    "GC_REALLOC (moved)", "GC_posix_memalign(32)",    "GC_generic_malloc",
    "GC_debug_malloc",   "GC_generic_malloc_many"};

static int GC_CALLBACK proc(void *obj) {
  long tag = ((long *)obj)[1];
  /* A debugging object is asked about through its base: the program's
   * bytes follow the debugging header. */
  long dtag = ((long *)((char *)obj + GC_get_debug_header_size()))[1];
  if (dtag == 106)
    tag = dtag;
  if (tag >= 100 && tag < 100 + NPATH)
    __atomic_add_fetch(&asked[tag - 100], 1, __ATOMIC_RELAXED);
  return 0;
}

static void __attribute__((noinline)) make(void) {
  for (int i = 0; i < N; i++) {
    long *p;
    p = GC_MALLOC(48);
    p[1] = 100;
    p = GC_malloc_ignore_off_page(48);
    p[1] = 101;
    p = GC_memalign(64, 48);
    p[1] = 102;
    p = GC_MALLOC(24);
    p = GC_REALLOC(p, 2000);
    p[1] = 103;
    void *q;
    CHECK(GC_posix_memalign(&q, 32, 48) == 0, "GC_posix_memalign");
    ((long *)q)[1] = 104;
    p = GC_generic_malloc(48, GC_I_NORMAL);
    p[1] = 105;
    p = GC_debug_malloc(48, GC_EXTRAS);
    p[1] = 106;
  }
  for (int got = 0; got < N;) {
    void *list = NULL;
    GC_generic_malloc_many(48, GC_I_NORMAL, &list);
    for (long *o = list; o != NULL && got < N; o = *(long **)o, got++)
      o[1] = 107;
  }
}

int main(void) {
  GC_INIT();
  GC_register_disclaim_proc(GC_I_NORMAL, proc, 1);
  make();
  char clear[65536];
  memset(clear, 0, sizeof clear);
  __asm__ volatile("" ::"r"(clear) : "memory");
  for (int i = 0; i < 6; i++) {
    GC_gcollect();
    GC_invoke_finalizers();
  }
  int bad = 0;
  for (int i = 0; i < NPATH; i++) {
    printf("%-28s asked about %4d of %d\n", names[i], asked[i], N);
    bad += asked[i] < N / 2;
  }
  CHECK(bad == 0, "%d allocation paths were not asked about", bad);
  PASS("bdwgc_disclaim_asks_about_every_allocation_path");
}
