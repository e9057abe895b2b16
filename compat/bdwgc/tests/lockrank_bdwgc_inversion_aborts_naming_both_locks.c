/* The bdwgc layer's locks are ranked in the runtime's one lock table
 * (src/lockrank.h), so the debug build checks the order they are taken in
 * against each other and against the core's: a thread taking one out of
 * order aborts with a message naming both locks.  Each case runs in a
 * child process of its own:
 *   - GC_toggleref_add while holding GC_alloc_lock: the toggle-ref table
 *     ranks before the allocation lock (its callback may allocate, and the
 *     collection that starts waits for the allocation lock);
 *   - GC_add_roots from the start callback, which runs holding the
 *     collector's gc_lock: the layer's root list ranks before every core
 *     lock (GC_remove_roots holds it around sgc_call_without_collections).
 * The orders the layer uses must not abort: the root list, GC_init_gcj_malloc
 * and collections under GC_alloc_lock, the allocation lock taken again by
 * its holder (it is recursive: only the first acquisition is checked), a
 * collection by a holder of GC_alloc_lock while toggle references exist
 * (the table is then only tried), and a toggle-ref callback that collects.
 * The release build does not check: there the wrong orders are only shown
 * not to abort (one thread: nothing waits), and the test says it skipped
 * the checks.  Not a bdwgc behaviour, so not run against the stock libgc
 * (not named bdwgc_*; see CMakeLists.txt). */
#include <signal.h>
#include <string.h>

#include <gc.h>
#include <gc/gc_gcj.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

static char area[256];
static void *kept[64];

static GC_ToggleRefStatus GC_CALLBACK strong(void *p) {
  (void)p;
  return GC_TOGGLE_REF_STRONG;
}

static int collected_inside;
static GC_ToggleRefStatus GC_CALLBACK collecting(void *p) {
  (void)p;
  if (!collected_inside++) {
    for (int i = 0; i < 1000; i++)
      KEEP(GC_malloc(64));
    GC_gcollect(); /* a collection from inside the table's lock */
  }
  return GC_TOGGLE_REF_STRONG;
}

static void GC_CALLBACK start_adds_roots(void) {
  GC_add_roots(area, area + sizeof area);
}

static void *GC_CALLBACK inner(void *cd) { return cd; }
static void *GC_CALLBACK outer(void *cd) {
  return GC_call_with_alloc_lock(inner, cd);
}

static void add_togglerefs(GC_toggleref_func f) {
  GC_set_toggleref_func(f);
  for (int i = 0; i < 64; i++) {
    kept[i] = GC_malloc(32);
    CHECK(GC_toggleref_add(kept[i], 1) == GC_SUCCESS, "GC_toggleref_add");
  }
}

static int child(const char *mode) {
  GC_INIT();
  if (strcmp(mode, "alloc-lock-then-toggleref") == 0) {
    GC_set_toggleref_func(strong);
    void *obj = GC_malloc(32);
    GC_alloc_lock();
    GC_toggleref_add(obj, 1);
    GC_alloc_unlock();
  } else if (strcmp(mode, "start-callback-adds-roots") == 0) {
    GC_set_start_callback(start_adds_roots);
    GC_gcollect();
  } else if (strcmp(mode, "alloc-lock-then-roots") == 0) {
    GC_alloc_lock();
    GC_add_roots(area, area + sizeof area);
    GC_remove_roots(area, area + sizeof area);
    GC_alloc_unlock();
  } else if (strcmp(mode, "alloc-lock-again") == 0) {
    GC_alloc_lock();
    CHECK(GC_call_with_alloc_lock(outer, area) == area, "nested call");
    GC_alloc_lock();
    GC_alloc_unlock();
    GC_alloc_unlock();
    CHECK(GC_call_with_alloc_lock(outer, area) == area, "nested call");
  } else if (strcmp(mode, "gcj-setup") == 0) {
    GC_init_gcj_malloc(0, NULL);
    GC_init_gcj_malloc(0, NULL);
  } else if (strcmp(mode, "alloc-lock-holder-collects") == 0) {
    add_togglerefs(strong);
    GC_alloc_lock();
    for (int i = 0; i < 1000; i++)
      KEEP(GC_malloc(64));
    GC_gcollect();
    GC_alloc_unlock();
  } else if (strcmp(mode, "toggleref-callback-collects") == 0) {
    add_togglerefs(collecting);
    GC_gcollect();
    CHECK(collected_inside > 0, "the callback was not asked");
  } else {
    return 2;
  }
  printf("%s: done\n", mode);
  return 0;
}

/* Runs mode in a child; returns whether it aborted (its output in out). */
static int aborts(const char *mode, char *out, size_t n) {
  int st = run_self_capture(mode, NULL, out, n);
  if (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)
    return 1;
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status %d; output: %s",
        mode, st, out);
  return 0;
}

/* Used by the debug build only. */
static __attribute__((unused)) void expect_abort(const char *mode,
                                                 const char *want1,
                                                 const char *want2) {
  char out[4096];
  CHECK(aborts(mode, out, sizeof out), "%s did not abort: %s", mode, out);
  CHECK(strstr(out, "lock order") && strstr(out, want1) && strstr(out, want2),
        "%s: the message does not name %s and %s: %s", mode, want1, want2,
        out);
  fprintf(stderr, "%s: %s", mode, out);
}

static void expect_no_abort(const char *mode) {
  char out[4096];
  CHECK(!aborts(mode, out, sizeof out), "%s aborted: %s", mode, out);
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child(argv[1]);
  expect_no_abort("alloc-lock-then-roots");
  expect_no_abort("alloc-lock-again");
  expect_no_abort("gcj-setup");
  expect_no_abort("alloc-lock-holder-collects");
  expect_no_abort("toggleref-callback-collects");
#if !SPANGC_DEBUG /* the build's definition: the library's too */
  expect_no_abort("alloc-lock-then-toggleref");
  expect_no_abort("start-callback-adds-roots");
  printf("lockrank_bdwgc_inversion_aborts_naming_both_locks: skipped: the "
         "release build does not check the lock order (only the debug "
         "build, SPANGC_DEBUG=1, does)\n");
  return 0;
#else
  expect_abort("alloc-lock-then-toggleref",
               "taking bdwgc.toggleref_lock (rank",
               "while holding bdwgc.alloc_lock (rank");
  expect_abort("start-callback-adds-roots", "taking bdwgc.roots_lock (rank",
               "while holding gc_lock (rank");
  PASS("lockrank_bdwgc_inversion_aborts_naming_both_locks");
#endif
}
