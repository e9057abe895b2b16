/* GC_call_with_alloc_lock's fn may allocate on our libgc.so.1 (no
 * collection starts while fn runs: one that falls due waits until fn
 * returns), and GC_gcollect there aborts naming the call.  Both hung
 * before: the allocation's collection waited for the read hold its own
 * thread had (found by session 22's adversarial review).  Not a bdwgc
 * behaviour (so not named bdwgc_*, and not run against the stock libgc,
 * where allocating in fn deadlocks on the allocation lock).
 * Finalizers queued when fn allocates do not run inside fn (one that
 * calls GC_gcollect, as bdwgc allows, aborted there: session 23's
 * review) but at the first allocation after it. */
#include <gc.h>
#include <signal.h>
#include <string.h>

#include "bdwgc_check.h"

#define NOBJ 512
#define OBJ (64 << 10)

static unsigned char **objs;
static GC_word gcs_during;

static void *GC_CALLBACK allocate_a_lot(void *arg) {
  GC_word before = GC_get_gc_no();
  for (int i = 0; i < NOBJ; i++) {
    objs[i] = GC_MALLOC_ATOMIC(OBJ);
    CHECK(objs[i] != NULL, "GC_MALLOC_ATOMIC inside fn failed");
    memset(objs[i], i & 0xff, OBJ);
    void *volatile garbage = GC_MALLOC(OBJ);
    (void)garbage;
  }
  gcs_during = GC_get_gc_no() - before;
  return arg;
}

static void *GC_CALLBACK collect_inside(void *arg) {
  GC_gcollect();
  return arg;
}

static int finalized;
static int finalized_inside;
static int inside_fn;

static void GC_CALLBACK collecting_finalizer(void *obj, void *cd) {
  (void)obj;
  (void)cd;
  finalized++;
  finalized_inside += inside_fn;
  GC_gcollect(); /* allowed in a finalizer */
}

static void *GC_CALLBACK allocate_little(void *arg) {
  inside_fn = 1;
  for (int i = 0; i < 1000; i++) {
    void *volatile p = GC_MALLOC(32);
    (void)p;
  }
  inside_fn = 0;
  return arg;
}

__attribute__((noinline)) static void make_finalizable_garbage(void) {
  for (int i = 0; i < 100; i++) {
    void *o = GC_MALLOC(64);
    GC_REGISTER_FINALIZER(o, collecting_finalizer, NULL, NULL, NULL);
  }
}

static void finalizers_wait_for_fn(void) {
  GC_set_finalize_on_demand(1);
  make_finalizable_garbage();
  clear_stack();
  GC_gcollect(); /* queued, not run: on demand */
  CHECK(GC_should_invoke_finalizers(), "no finalizer queued");
  GC_set_finalize_on_demand(0);
  GC_call_with_alloc_lock(allocate_little, NULL);
  CHECK(finalized_inside == 0, "%d finalizers ran inside fn",
        finalized_inside);
  for (int i = 0; i < 100 && finalized == 0; i++) {
    void *volatile p = GC_MALLOC(32);
    (void)p;
  }
  CHECK(finalized > 0, "no finalizer ran after fn returned");
}

int main(int argc, char **argv) {
  GC_INIT();
  finalizers_wait_for_fn();
  if (argc > 1 && strcmp(argv[1], "collect") == 0) {
    GC_call_with_alloc_lock(collect_inside, NULL);
    return 3; /* did not abort */
  }
  objs = GC_MALLOC(NOBJ * sizeof *objs);
  CHECK(objs != NULL, "GC_MALLOC");
  CHECK(GC_call_with_alloc_lock(allocate_a_lot, objs) == objs,
        "GC_call_with_alloc_lock's result");
  CHECK(gcs_during == 0, "%lu collections ran inside fn",
        (unsigned long)gcs_during);
  for (int i = 0; i < NOBJ; i++)
    for (int k = 0; k < OBJ; k += 4096)
      CHECK(objs[i][k] == (unsigned char)(i & 0xff), "object %d changed", i);
  GC_word after = GC_get_gc_no();
  for (int i = 0; i < 4096 && GC_get_gc_no() == after; i++) {
    void *volatile garbage = GC_MALLOC(OBJ);
    (void)garbage;
  }
  CHECK(GC_get_gc_no() > after, "no collection after fn returned");
  char out[4096];
  int st = run_self_capture("collect", NULL, out, sizeof out);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
        "GC_gcollect inside fn: status %#x, output:\n%s", st, out);
  CHECK(strstr(out, "GC_gcollect") &&
            strstr(out, "inside GC_call_with_alloc_lock"),
        "the abort does not name the call:\n%s", out);
  printf("fn allocated %d MiB with no collection; GC_gcollect in fn "
         "aborts naming the call\n", NOBJ * OBJ * 2 >> 20);
  return 0;
}
