// labels: gc threads
/* The collect hook (sgc_set_collect_hook) runs on the thread that starts
 * a collection: with concurrent marking, the collector's own thread
 * (spangc-conc), whose stack and registers are no roots outside the hook
 * (world-int.h, noroots).  Its thread-locals stay roots, as every
 * registered thread's (spangc.h).  The hook here moves the only reference
 * to an object from a global into a thread-local of the thread it runs
 * on, once it runs on one that is not the main thread; then collections
 * run: the object must stay (finalizer not run, contents whole).  Caught
 * by the adversarial review of the noroots commit: the object was freed
 * in every run when noroots skipped the thread's TLS too.  Skipped without
 * concurrent marking. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define WORDS 32
#define TAG 0x5151515151515151ull

__thread uint64_t *volatile tls_slot; /* a thread-local of any thread */
static uint64_t *volatile only;       /* the reference until it moves */
static volatile int moved, finalized;
static pid_t main_tid;

static int move_into_tls(int forced) {
  (void)forced;
  /* Only the collector's thread reads the pointer: no stale copy of it
   * on the main thread's stack. */
  if (gettid() != main_tid && !__atomic_load_n(&moved, __ATOMIC_ACQUIRE) &&
      only != NULL) {
    tls_slot = only;
    only = NULL;
    __atomic_store_n(&moved, 1, __ATOMIC_RELEASE); /* main reads it */
  }
  return 0;
}

static void note_finalized(void *p, void *arg) {
  (void)p;
  (void)arg;
  __atomic_store_n(&finalized, 1, __ATOMIC_RELEASE);
}

__attribute__((noinline)) static void make(void) {
  uint64_t *p = sgc_alloc(WORDS * sizeof(uint64_t));
  CHECK(p != NULL);
  for (int i = 0; i < WORDS; i++)
    p[i] = TAG;
  sgc_set_finalizer(p, note_finalized, NULL);
  only = p;
}

static void churn(void **keep, uint64_t n) {
  for (uint64_t j = 0; j < n; j++) {
    keep[j % 4096] = sgc_alloc(64 + (j % 7) * 16);
    CHECK(keep[j % 4096] != NULL);
  }
}

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  main_tid = gettid();
  sgc_set_collect_hook(move_into_tls);
  make();
  clear_stack();
  void **keep = sgc_alloc(sizeof(void *) * 4096);
  CHECK(keep != NULL);
  /* Until a collection the heap's growth started ran the hook on the
   * collector's thread. */
  for (uint64_t k = 0; !__atomic_load_n(&moved, __ATOMIC_ACQUIRE); k++) {
    if (k == 10000) {
      /* A heap marked in under 0.5 ms is collected with the world
       * stopped by the allocating thread (with generations off, every
       * collection here). */
      printf("skipped: no collection ran on the collector's thread\n");
      sgc_set_collect_hook(NULL);
      return 0;
    }
    churn(keep, 4096);
  }
  sgc_stats before, after;
  sgc_read_stats(&before);
  churn(keep, (uint64_t)(4000000 * test_scale()) + 100000);
  /* Collections, and every finalizer they queued run to its end (the
   * finalizer thread's too: without the wait the check could read the
   * flag before that thread had set it). */
  settle();
  sgc_read_stats(&after);
  printf("%llu collections with the object in the thread-local\n",
         (unsigned long long)(after.num_gc - before.num_gc));
  CHECKF(!__atomic_load_n(&finalized, __ATOMIC_ACQUIRE), "the object a collect hook kept in a thread-local of "
         "the collector's thread was found dead");
  sgc_set_collect_hook(NULL);
  return 0;
}
