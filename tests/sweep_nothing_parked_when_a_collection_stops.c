// labels: gc
// env: SPANGC_DEBUG=verify=1
// timeout: 300
/* No span is parked for its class (rule:parked-spans-bounded) when a
 * collection's stop opens the next sweep generation: one still parked
 * then is unswept, out of reach of every give-back, for a whole cycle.
 * collect() gives them back before the stop, but the sweep may not be
 * finished there (a concurrent cycle completes it afterwards; an
 * explicit collection may come mid-sweep) and the sweepers park again
 * meanwhile, so the stop gives back the rest; the verifier (and the debug
 * build's assertion in sweep_start) checks that none is left.  From
 * helper-53's review: 1 KiB garbage until an automatic collection, then
 * at once sgc_collect, beside a thread allocating; without the give-back
 * in the stop, the concurrent mode left up to 999 pages parked there in
 * every run. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"

#define NX (1u << 17)
static void **xs;
static volatile int stop;

static uint64_t ngc(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

static void *other(void *a) {
  (void)a;
  while (!stop) {
    volatile char *p = sgc_alloc(512);
    CHECK(p != NULL);
    p[0] = 1;
  }
  return NULL;
}

int main(void) {
  sgc_init();
  /* 64-byte spans a quarter full: room for a cycle of 64-byte garbage in
   * their holes, without a span from the heap. */
  xs = quarter_full_spans(NX, 64);
  pthread_t th;
  CHECK(sgc_pthread_create(&th, NULL, other, NULL) == 0);
  for (int r = 0; r < 40; r++) {
    uint64_t g = ngc();
    for (long i = 0;; i++) {
      volatile char *p = sgc_alloc(1024);
      CHECK(p != NULL);
      p[0] = 1;
      if (i % 256 == 0 && ngc() != g)
        break;
    }
    sgc_collect(); /* the verifier aborts if a span is parked in its stop */
  }
  stop = 1;
  CHECK(pthread_join(th, NULL) == 0);
  for (unsigned i = 0; i < NX; i++)
    CHECK(xs[i] != NULL && *(volatile char *)xs[i] == 0);
  printf("%llu collections, none with a parked span in its stop\n",
         (unsigned long long)ngc());
  return 0;
}
