// labels: gc
/* spangc's own registered threads hold no roots while they do spangc's
 * work (world-int.h, mthread.noroots): what their stacks and registers
 * keep are spans' bases, freed slots, finalized objects' addresses, and
 * the heap puts new objects there.  Taken for roots, they kept whatever
 * came there next: sweep_parked_spans_never_grow_the_heap_or_fail_an_
 * allocation failed one run in 400 under load, a 40 MB object laid over
 * swept spans kept alive by the background sweeper through the
 * collection that was to make room for the next round.  Here the address
 * of an unreachable object is put in the saved registers of the
 * background sweeper, the finalizer thread, and the concurrent collector
 * when it runs, each found by its thread name while it waits for work in
 * a blocking region, before a collection: the object must be found dead
 * (its finalizer queued). */
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
  /* The test reads and writes the threads' records without their lock. */
  printf("skipped: peeks into another thread's record (ThreadSanitizer)\n");
  return 0;
#endif
  sgc_init();
  /* Collections start the sweeper (it sweeps after each). */
  for (int k = 0; k < 3; k++)
    sgc_collect();
  /* A finalizer starts the finalizer thread; the concurrent collector
   * runs after the first collection with SPANGC_CONCURRENT=1. */
  uintptr_t first = make_target();
  (void)first;
  sgc_collect();
  sgc_run_finalizers();
  static const char *const names[] = {"spangc-sweep", "spangc-final",
                                      "spangc-conc"};
  int want = conc_enabled() ? 3 : 2;
  mthread *own[3] = {NULL, NULL, NULL};
  int have = 0;
  for (int tries = 0; have < want && tries < 300; tries++) {
    nfound = 0;
    world_foreach_thread(note, NULL);
    have = 0;
    for (int i = 0; i < want; i++) {
      own[i] = NULL;
      for (int k = 0; k < nfound; k++) {
        char name[32];
        task_name(found[k]->ktid, name, sizeof name);
        if (strcmp(name, names[i]) == 0 &&
            ATOMIC_LOAD(&found[k]->state) == THR_BLOCKING)
          own[i] = found[k];
      }
      have += own[i] != NULL;
    }
    if (have < want)
      usleep(10000);
  }
  for (int i = 0; i < want; i++)
    CHECKF(own[i] != NULL, "no thread named %s waiting among %d registered "
           "threads", names[i], nfound);
  uintptr_t hidden = make_target();
  clear_stack();
  sgc_stats before, after;
  sgc_read_stats(&before);
  for (int i = 0; i < want; i++)
    plant(own[i], hidden);
  clear_stack();
  sgc_collect();
  sgc_read_stats(&after);
  printf("finalizers queued by the collection: %llu\n",
         (unsigned long long)(after.finalizers_queued -
                              before.finalizers_queued));
  CHECKF(after.finalizers_queued > before.finalizers_queued,
         "the object whose address was in the registers of %s, %s%s%s was "
         "kept", names[0], names[1], want > 2 ? " and " : "",
         want > 2 ? names[2] : "");
  return 0;
}
