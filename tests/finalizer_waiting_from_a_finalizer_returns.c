// labels: gc threads
/* sgc_wait_finalizers called from a finalizer (spangc.h): it runs the
 * queued finalizers itself, waits for the others running, and returns;
 * it waited for its own caller for ever before (the adversarial review
 * of session 51).  Ten objects with finalizers, each of which waits;
 * on the finalizer thread, then run by the program with the thread
 * disabled.  An alarm ends a hang. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 10

static int ran; /* atomic */

static void waits(void *obj, void *arg) {
  (void)obj;
  (void)arg;
  sgc_wait_finalizers();
  __atomic_add_fetch(&ran, 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) static void make(void) {
  for (int i = 0; i < N; i++) {
    void *p = sgc_alloc(64);
    CHECK(p != NULL);
    CHECK(sgc_set_finalizer(p, waits, NULL) == 0);
  }
}

static void round_of(void) {
  make();
  clear_stack();
  for (int k = 0; k < 4 && sgc_finalizers_pending() < N; k++)
    sgc_collect();
}

int main(void) {
  sgc_init();
  alarm(60);
  /* On the finalizer thread. */
  round_of();
  sgc_wait_finalizers();
  CHECKF(__atomic_load_n(&ran, __ATOMIC_RELAXED) >= N / 2,
         "%d finalizers of %d ran", ran, N);
  /* Run by the program. */
  sgc_wait_finalizers();
  int before = __atomic_load_n(&ran, __ATOMIC_RELAXED);
  sgc_set_finalizer_thread(0);
  round_of();
  sgc_run_finalizers();
  int now = __atomic_load_n(&ran, __ATOMIC_RELAXED);
  printf("finalizers that waited: %d, then %d run by the program\n", before,
         now - before);
  CHECKF(now - before >= N / 2, "%d finalizers of %d ran", now - before, N);
  return 0;
}
