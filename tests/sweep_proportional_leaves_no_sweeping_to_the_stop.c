// labels: gc threads
// env: SPANGC_DEBUG=nobgsweep=1
/* Proportional sweeping: with the background sweeper idle, the threads
 * that allocate sweep the previous cycle's spans in proportion to what
 * they allocate, so by the time the next collection triggers nothing is
 * left for its stop.  The live structure uses a size class the messages
 * do not (so no refill of the messages' class sweeps its spans) and the
 * heap does not grow (every message span keeps live messages, so no sweep
 * before growth happens either): only sweep_pay sweeps the structure's
 * spans before the stop.  Checked over automatic
 * collections (minor and major ones with generations on): no span swept
 * inside a stop, spans swept by the proportional path, the structure
 * intact; and the time that sweeping took is counted (sweep_ns, which
 * the memory limit's CPU cap adds to the collector's share), no more
 * than the wall time the three threads had. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define NODE 48 /* the structure's class */
typedef struct node {
  struct node *next;
  uint64_t tag[4];
} node;

static node *volatile g_head;
static atomic_int stop;

static void build(long n) {
  node *h = NULL;
  for (long i = 0; i < n; i++) {
    node *x = sgc_alloc(NODE);
    CHECK(x != NULL);
    x->next = h;
    for (int k = 0; k < 4; k++)
      x->tag[k] = (uint64_t)i * 4 + (uint64_t)k;
    h = x;
  }
  g_head = h;
}

static long intact(long n) {
  long i = n - 1, bad = 0;
  for (node *x = g_head; x; x = x->next, i--)
    for (int k = 0; k < 4; k++)
      bad += x->tag[k] != (uint64_t)i * 4 + (uint64_t)k;
  return bad + (i != -1);
}

/* A window of 1 KiB messages, replaced round robin (as in the pause
 * test): every span of the class keeps live objects, so refills find free
 * slots by sweeping their own class and the heap never needs to grow. */
static void *churn(void *arg) {
  long w = scaled(8000);
  void **win = calloc((size_t)w, sizeof *win);
  CHECK(win != NULL);
  void *volatile *keep = (void *volatile *)win;
  sgc_add_roots(win, win + w);
  unsigned r = (unsigned)(uintptr_t)arg;
  for (long i = 0; !atomic_load(&stop); i++) {
    r = r * 1103515245u + 12345u;
    void *p = sgc_alloc_noscan(1024);
    CHECK(p != NULL);
    keep[(i * 7919 + (r >> 20)) % w] = p;
  }
  sgc_remove_roots(win, win + w);
  free(win);
  return NULL;
}

int main(void) {
  sgc_init();
  long n = scaled(400000); /* ~19 MB at full scale: thousands of spans */
  build(n);
  sgc_collect(); /* the structure is old, its spans full */
  sgc_stats a, b;
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 7)) ==
          0);
  /* Two automatic collections first: the generation sgc_collect opened
   * was swept by it; from here on every generation comes from an
   * automatic collection. */
  sgc_read_stats(&a);
  do {
    usleep(1000);
    sgc_read_stats(&b);
  } while (b.num_gc < a.num_gc + 2);
  sgc_read_stats(&a);
  uint64_t t0 = os_nanotime();
  int ncoll = (int)scaled(12) < 4 ? 4 : (int)scaled(12);
  do {
    usleep(1000);
    sgc_read_stats(&b);
  } while (b.num_gc < a.num_gc + (uint64_t)ncoll);
  uint64_t wall = os_nanotime() - t0;
  atomic_store(&stop, 1);
  sgc_enter_blocking();
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  sgc_exit_blocking();

  uint64_t colls = b.num_gc - a.num_gc;
  uint64_t in_stop = b.sweeps_in_pause - a.sweeps_in_pause;
  uint64_t prop = b.sweeps_proportional - a.sweeps_proportional;
  printf("%llu collections: %llu spans swept in stops, %llu by allocating "
         "threads paying their share, %llu on demand, %llu in the "
         "background\n",
         (unsigned long long)colls, (unsigned long long)in_stop,
         (unsigned long long)prop,
         (unsigned long long)(b.sweeps_on_demand - a.sweeps_on_demand),
         (unsigned long long)(b.sweeps_background - a.sweeps_background));
  CHECKF(in_stop == 0, "%llu spans were left for the stops to sweep",
         (unsigned long long)in_stop);
  CHECKF(prop > 0, "no span was swept by the proportional path");
  CHECKF(b.sweeps_background == a.sweeps_background,
         "the background sweeper ran although idled");
  uint64_t swept_ns = b.sweep_ns - a.sweep_ns;
  printf("sweeping took %.1f ms of %.1f ms\n", swept_ns / 1e6, wall / 1e6);
  CHECKF(swept_ns > 0, "%llu spans swept and no sweep time counted",
         (unsigned long long)prop);
  CHECKF(swept_ns <= 3 * wall, "%llu ns of sweeping counted in %llu ns of "
         "wall time by 3 threads", (unsigned long long)swept_ns,
         (unsigned long long)wall);
  CHECKF(intact(n) == 0, "the structure was damaged");
  return 0;
}
