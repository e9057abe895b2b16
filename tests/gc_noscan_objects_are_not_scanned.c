// labels: gc
/* A pointer stored only inside a sgc_alloc_noscan object (small or large)
 * does not keep its target alive: the targets are finalized.  The same
 * pointer stored inside a sgc_alloc object keeps every target alive and
 * intact. */
#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define N 1000
#define LARGE_N 40

enum { T_NOSCAN, T_SCAN, T_NOSCAN_LARGE, T_SCAN_LARGE, T_N };
static long finalized[T_N]; /* atomic */

/* The holders are reachable from here; the targets only from the holders. */
void **volatile g_holder[T_N][N];

static void on_finalize(void *obj, void *arg) {
  (void)obj;
  ATOMIC_ADD(&finalized[(intptr_t)arg], 1);
}

static void *target(int kind, long i) {
  long *t = sgc_alloc(64);
  CHECK(t != NULL);
  t[0] = kind;
  t[1] = i;
  t[7] = ~i;
  CHECK(sgc_set_finalizer(t, on_finalize, (void *)(intptr_t)kind) == 0);
  return t;
}

__attribute__((noinline)) static void make_all(void) {
  for (long i = 0; i < N; i++) {
    void **h = sgc_alloc_noscan(64);
    CHECK(h != NULL);
    memset(h, 0, 64);
    h[3] = target(T_NOSCAN, i);
    g_holder[T_NOSCAN][i] = h;

    h = sgc_alloc(64);
    CHECK(h != NULL);
    h[3] = target(T_SCAN, i);
    g_holder[T_SCAN][i] = h;
  }
  for (long i = 0; i < LARGE_N; i++) {
    void **h = sgc_alloc_noscan(100000);
    CHECK(h != NULL);
    memset(h, 0, 100000);
    h[9000] = target(T_NOSCAN_LARGE, i);
    g_holder[T_NOSCAN_LARGE][i] = h;

    h = sgc_alloc(100000);
    CHECK(h != NULL);
    h[9000] = target(T_SCAN_LARGE, i);
    g_holder[T_SCAN_LARGE][i] = h;
  }
}

int main(void) {
  sgc_init();
  make_all();
  clear_stack();
  for (int k = 0; k < 3; k++) {
    sgc_collect();
    sgc_collect();
    sgc_wait_finalizers();
    sgc_run_finalizers();
  }
  long fn = ATOMIC_LOAD(&finalized[T_NOSCAN]);
  long fnl = ATOMIC_LOAD(&finalized[T_NOSCAN_LARGE]);
  printf("targets finalized: noscan %ld/%d, large noscan %ld/%d\n", fn, N,
         fnl, LARGE_N);
  CHECKF(ATOMIC_LOAD(&finalized[T_SCAN]) == 0,
         "%ld targets held by scanned objects finalized",
         ATOMIC_LOAD(&finalized[T_SCAN]));
  CHECKF(ATOMIC_LOAD(&finalized[T_SCAN_LARGE]) == 0,
         "%ld targets held by large scanned objects finalized",
         ATOMIC_LOAD(&finalized[T_SCAN_LARGE]));
  CHECKF(fn >= N * 9 / 10, "only %ld of %d targets held by noscan objects "
         "finalized", fn, N);
  CHECKF(fnl >= LARGE_N * 9 / 10, "only %ld of %d targets held by large "
         "noscan objects finalized", fnl, LARGE_N);
  for (long i = 0; i < N; i++) {
    long *t = g_holder[T_SCAN][i][3];
    CHECK(t[0] == T_SCAN && t[1] == i && t[7] == ~i);
  }
  for (long i = 0; i < LARGE_N; i++) {
    long *t = g_holder[T_SCAN_LARGE][i][9000];
    CHECK(t[0] == T_SCAN_LARGE && t[1] == i && t[7] == ~i);
  }
  return 0;
}
