// labels: gc threads
/* Specials and uncollectable objects that appear during a concurrent
 * mark, in a heap that had none at its first stop (SPANGC_CONCURRENT=1,
 * set here).  A stop skips its passes over every span for them when
 * mheap.nrootspans is 0 (rule:rootspans-counted); the first stop of
 * these collections finds 0, and while the phase runs (held open by
 * sgc_test_conc_phase_hook) another thread registers a finalizer whose
 * argument only the finalizer record references, and allocates an
 * uncollectable object that alone references another object.  The final
 * stop must count them: both referenced objects survive, contents
 * intact, while their freed neighbours' slots are reused by new
 * allocations, over several collections.  Catches: a count read once per
 * collection (at its first stop), or a span counted after its special
 * was linked. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define ROUNDS 6
#define PAT 0x5a5a5a5a5a5a5a5aull

static int go, done;                 /* atomic */
static void *volatile objs[ROUNDS];  /* finalizable, reachable */
static void **volatile uncoll[ROUNDS];
static uintptr_t hidden_arg[ROUNDS], hidden_kept[ROUNDS]; /* ~pointer */
static int round_no;

static void fin(void *obj, void *arg) {
  (void)obj;
  (void)arg;
}

static uint64_t *pattern_object(void) {
  uint64_t *p = sgc_alloc_noscan(64);
  CHECK(p != NULL);
  for (int i = 0; i < 8; i++)
    p[i] = PAT ^ (uint64_t)i;
  return p;
}

static void check_pattern(const uint64_t *p, const char *what, int r) {
  for (int i = 0; i < 8; i++)
    CHECKF(p[i] == (PAT ^ (uint64_t)i),
           "round %d: %s %p lost (word %d is %#llx)", r, what, (void *)p, i,
           (unsigned long long)p[i]);
}

/* Runs on the collecting thread with the concurrent phase open. */
static void during_the_mark(void) {
  if (__atomic_load_n(&go, __ATOMIC_SEQ_CST))
    return; /* one per sgc_collect */
  __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
  double t0 = now_seconds();
  while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST) && now_seconds() - t0 < 10)
    sched_yield();
}

static void *registrar(void *unused) {
  (void)unused;
  sgc_register_thread();
  for (int r = 0; r < ROUNDS; r++) {
    while (__atomic_load_n(&round_no, __ATOMIC_SEQ_CST) != r ||
           !__atomic_load_n(&go, __ATOMIC_SEQ_CST))
      sched_yield();
    objs[r] = sgc_alloc(32);
    uint64_t *arg = pattern_object();
    CHECK(sgc_set_finalizer(objs[r], fin, arg) == 0);
    hidden_arg[r] = ~(uintptr_t)arg;
    uint64_t *kept = pattern_object();
    uncoll[r] = sgc_alloc_uncollectable(sizeof(void *));
    CHECK(uncoll[r] != NULL);
    uncoll[r][0] = kept;
    hidden_kept[r] = ~(uintptr_t)kept;
    arg = kept = NULL;
    __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

int main(void) {
  setenv("SPANGC_GENERATIONAL", "0", 1);
  if (!conc_init_or_skip())
    return 0;
  sgc_stats st0;
  sgc_read_stats(&st0);
  __atomic_store_n(&sgc_test_conc_phase_hook, during_the_mark,
                   __ATOMIC_SEQ_CST);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, registrar, NULL) == 0);
  for (int r = 0; r < ROUNDS; r++) {
    /* No special and no uncollectable object before the first round's
     * collection: none counted at its first stop. */
    if (r == 0)
      CHECK(ATOMIC_LOAD(&sgc_heap.nrootspans) == 0);
    __atomic_store_n(&go, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&done, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&round_no, r, __ATOMIC_SEQ_CST);
    sgc_collect();
    CHECKF(__atomic_load_n(&done, __ATOMIC_SEQ_CST),
           "round %d: the registrar did not run during the mark", r);
    /* Reuse what died: garbage of the same size class, collected. */
    for (int k = 0; k < 20000; k++)
      memset(sgc_alloc_noscan(64), 0xee, 64);
    sgc_collect();
    for (int q = 0; q <= r; q++) {
      check_pattern((const uint64_t *)~hidden_arg[q], "finalizer argument",
                    q);
      check_pattern((const uint64_t *)~hidden_kept[q],
                    "object of an uncollectable one", q);
    }
  }
  pthread_join(t, NULL);
  __atomic_store_n(&sgc_test_conc_phase_hook, NULL, __ATOMIC_SEQ_CST);
  sgc_stats st;
  sgc_read_stats(&st);
  CHECK(st.num_concurrent_gc > st0.num_concurrent_gc);
  printf("ok: %d rounds, %llu concurrent collections\n", ROUNDS,
         (unsigned long long)(st.num_concurrent_gc - st0.num_concurrent_gc));
  return 0;
}
