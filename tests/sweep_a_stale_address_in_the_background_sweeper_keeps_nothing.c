// labels: gc
/* The background sweeper's stack and registers are no roots (sweep.c,
 * mthread.noroots): what they hold are spans' bases and the slots it
 * freed, and the heap puts new objects at those addresses.  Taken for
 * roots, they kept whatever came there next:
 * sweep_parked_spans_never_grow_the_heap_or_fail_an_allocation failed one
 * run in 400 under load, a 40 MB object laid over swept spans kept alive
 * through the collection that was to make room for the next round.  Here
 * the address of an unreachable object is put in the saved registers of
 * the sweeper (found by its thread name, waiting for work in a blocking
 * region), and of the concurrent collector when it runs (whose stack is
 * no root either, but while it runs the program's hooks), before a
 * collection: the object must be found dead (its finalizer queued). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"
#include "world-int.h"

static mthread *found[64];
static int nfound;

static void note(mthread *t, void *arg) {
  (void)arg;
  if (nfound < 64)
    found[nfound++] = t;
}

static void thread_name(mthread *t, char *name, size_t n) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", t->ktid);
  name[0] = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  if (fgets(name, (int)n, f) == NULL)
    name[0] = 0;
  fclose(f);
  name[strcspn(name, "\n")] = 0;
}

static void nothing(void *p, void *arg) {
  (void)p;
  (void)arg;
}

/* The object, made and left in a frame of its own: only its address,
 * inverted, comes back. */
__attribute__((noinline)) static uintptr_t make_target(void) {
  void *p = sgc_alloc_noscan(1 << 20);
  CHECK(p != NULL);
  sgc_set_finalizer(p, nothing, NULL);
  return ~(uintptr_t)p;
}

/* Its registers as saved when it blocked (world_enter_blocking): a copy,
 * rewritten at its next blocking region; no collection runs before the
 * stop that follows, so it waits still.  In a frame of its own, so the
 * address does not stay in the caller's registers. */
__attribute__((noinline)) static void plant(mthread *t, uintptr_t hidden) {
  t->ctx.uc_mcontext.gregs[REG_R15] = (greg_t)~hidden;
}

int main(void) {
#if TEST_TSAN
  /* The test reads and writes the sweeper's record without its lock. */
  printf("skipped: peeks into another thread's record (ThreadSanitizer)\n");
  return 0;
#endif
  sgc_init();
  /* Collections start the sweeper (it sweeps after each). */
  for (int k = 0; k < 3; k++)
    sgc_collect();
  /* The sweeper, and the concurrent collector if it was started (it
   * is after the first collection, with SPANGC_CONCURRENT=1). */
  mthread *sweeper = NULL, *conc = NULL;
  bool want_conc = conc_enabled();
  for (int tries = 0; tries < 200; tries++) {
    nfound = 0;
    world_foreach_thread(note, NULL);
    for (int k = 0; k < nfound; k++) {
      char name[32];
      thread_name(found[k], name, sizeof name);
      if (ATOMIC_LOAD(&found[k]->state) != THR_BLOCKING)
        continue;
      if (strcmp(name, "spangc-sweep") == 0)
        sweeper = found[k];
      if (strcmp(name, "spangc-conc") == 0)
        conc = found[k];
    }
    if (sweeper != NULL && (conc != NULL || !want_conc))
      break;
    usleep(10000);
  }
  CHECKF(sweeper != NULL, "no background sweeper named spangc-sweep waiting "
         "among %d registered threads", nfound);
  CHECKF(conc != NULL || !want_conc, "no concurrent collector named "
         "spangc-conc waiting among %d registered threads", nfound);
  uintptr_t hidden = make_target();
  clear_stack();
  sgc_stats before, after;
  sgc_read_stats(&before);
  plant(sweeper, hidden);
  if (conc != NULL)
    plant(conc, hidden);
  clear_stack();
  sgc_collect();
  sgc_read_stats(&after);
  printf("finalizers queued by the collection: %llu\n",
         (unsigned long long)(after.finalizers_queued -
                              before.finalizers_queued));
  CHECKF(after.finalizers_queued > before.finalizers_queued,
         "the object whose address was in the background sweeper's%s "
         "registers was kept", conc ? " and the concurrent collector's" : "");
  return 0;
}
