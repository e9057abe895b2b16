// labels: gc
/* A fiber remembers the fiber that last switched to it (where control
 * goes when its function returns) and its function's argument, and keeps
 * both alive while it may still run.  Once its function has returned it
 * needs neither: a finished fiber the program still references must not
 * keep them, or a chain of finished fibers, each switched to by the one
 * before (a scheduler that starts each task from the previous one), would
 * keep every fiber and every argument of the chain.
 *
 * Here the thread's own stack switches to P; P creates F with argument
 * A and switches to it; F returns (back to P), then P returns (back to the
 * thread).  The program keeps only F.  P and A, and P's own argument,
 * must then be collected: weak slots on them are cleared.  F itself stays
 * (its weak slot is not cleared) and says it has finished.  Then the same
 * for a chain of 200 fibers, each created and switched to by the one
 * before, of which the program keeps only the last: every other fiber
 * and argument goes. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

enum { CHAIN = 200 };

static sgc_fiber *kept;      /* the only reference the program keeps */
/* Weak slots, in malloc'ed memory the collector does not scan. */
typedef struct slots {
  void *p, *f, *a, *pa;
  void *chain[CHAIN], *chain_arg[CHAIN];
} slots;
static slots *w;
#define weak_p w->p
#define weak_f w->f
#define weak_a w->a
#define weak_pa w->pa
#define weak_chain w->chain
#define weak_chain_arg w->chain_arg

static void watch(void **slot, void *obj) {
  *slot = obj;
  CHECK(sgc_register_weak(slot, obj) == 0);
}
static int ran_f, ran_p;

static void f_body(void *arg) {
  CHECK(arg != NULL && ((uint64_t *)arg)[0] == 0xf00d);
  ran_f = 1;
}

static void p_body(void *arg) {
  CHECK(arg != NULL && ((uint64_t *)arg)[0] == 0xbeef);
  uint64_t *a = sgc_alloc(64);
  CHECK(a != NULL);
  a[0] = 0xf00d;
  sgc_fiber *f = sgc_fiber_create(f_body, a, 0);
  CHECK(f != NULL);
  kept = f;
  watch(&weak_f, f);
  watch(&weak_a, a);
  watch(&weak_p, sgc_fiber_self());
  sgc_fiber_switch(f); /* f returns here */
  CHECK(sgc_fiber_finished(f));
  ran_p = 1;
}

static void __attribute__((noinline)) run_pair(void) {
  uint64_t *pa = sgc_alloc(64);
  CHECK(pa != NULL);
  pa[0] = 0xbeef;
  watch(&weak_pa, pa);
  sgc_fiber *p = sgc_fiber_create(p_body, pa, 0);
  CHECK(p != NULL);
  sgc_fiber_switch(p); /* p returns here */
  CHECK(sgc_fiber_finished(p));
}

/* Link k of the chain: creates link k+1 and switches to it. */
static void link_body(void *arg) {
  long k = (long)((uint64_t *)arg)[0];
  if (k + 1 == CHAIN)
    return;
  uint64_t *a = sgc_alloc(64);
  CHECK(a != NULL);
  a[0] = (uint64_t)(k + 1);
  sgc_fiber *next = sgc_fiber_create(link_body, a, 16 << 10);
  CHECK(next != NULL);
  watch(&weak_chain[k + 1], next);
  watch(&weak_chain_arg[k + 1], a);
  if (k + 1 == CHAIN - 1)
    kept = next;
  sgc_fiber_switch(next);
}

static void __attribute__((noinline)) run_chain(void) {
  uint64_t *a = sgc_alloc(64);
  CHECK(a != NULL);
  a[0] = 0;
  sgc_fiber *first = sgc_fiber_create(link_body, a, 16 << 10);
  CHECK(first != NULL);
  watch(&weak_chain[0], first);
  watch(&weak_chain_arg[0], a);
  sgc_fiber_switch(first);
  CHECK(sgc_fiber_finished(first));
}

/* Each scenario runs on a thread of its own, which then exits: stale
 * copies of the fibers' addresses in its registers and stack (the debug
 * build leaves many) go with it, and only what the fibers themselves keep
 * is left to keep anything. */
static void *run(void *fn) {
  ((void (*)(void))fn)();
  return NULL;
}
static void run_on_a_thread(void (*fn)(void)) {
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, run, (void *)fn) == 0);
  CHECK(pthread_join(t, NULL) == 0);
}

static void collect_clean(void) {
  clear_stack();
  for (int i = 0; i < 3; i++)
    sgc_collect();
}

int main(void) {
  sgc_init();
  w = calloc(1, sizeof *w);
  CHECK(w != NULL);
  run_on_a_thread(run_pair);
  CHECK(ran_f && ran_p);
  collect_clean();
  CHECKF(weak_f == kept && kept != NULL, "the finished fiber the program "
         "keeps was collected");
  CHECK(sgc_fiber_finished(kept));
  CHECKF(weak_p == NULL, "the finished fiber's caller (a finished fiber "
         "nothing else references) is kept");
  CHECKF(weak_pa == NULL, "the caller's argument is kept");
  CHECKF(weak_a == NULL, "the finished fiber's argument is kept");

  kept = NULL;
  run_on_a_thread(run_chain);
  collect_clean();
  CHECKF(weak_chain[CHAIN - 1] == kept && kept != NULL,
         "the last fiber of the chain, which the program keeps, was "
         "collected");
  int left = 0, args_left = 0;
  for (int k = 0; k < CHAIN - 1; k++)
    left += weak_chain[k] != NULL;
  for (int k = 0; k < CHAIN; k++)
    args_left += weak_chain_arg[k] != NULL;
  CHECKF(left == 0 && args_left == 0, "of a chain of %d finished fibers of "
         "which only the last is kept, %d other fibers and %d arguments "
         "are kept", CHAIN, left, args_left);
  printf("finished fibers keep neither the fiber that switched to them nor "
         "their argument (pair, and a chain of %d)\n", CHAIN);
  return 0;
}
