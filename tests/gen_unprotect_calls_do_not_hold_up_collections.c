// labels: gc threads
// env: SPANGC_DEBUG=verify=1
/* After a major collection its walk decides which protected pages to
 * unprotect (old objects died there: the allocator will write them); the
 * unprotect calls themselves are made by the collecting thread once it
 * has let go of gc_lock, so a collection another thread starts meanwhile
 * does not wait for them (made under gc_lock, they took 15-20 ms after
 * each of GCBench's concurrent majors while the program waited for its
 * next minor: 1.35x the stop-the-world wall time).  Here the test hook
 * holds the first call until a second thread has stored young objects
 * into old ones, run collections (minor ones when the policy allows) and
 * a major, all to their end; then the calls go on.  Every object keeps
 * its contents through more minors and a major, with the verifier
 * checking each minor (SPANGC_DEBUG=verify=1).  With tracking off, or
 * with neither generations nor the concurrent mark, no walk is made: the
 * hook is never called, which is said, not failed. */
#include <errno.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define N 64000

typedef struct obj {
  uint64_t tag;
  uint64_t *young; /* a tagged young object, stored by the second thread */
  uint64_t pad[6];
} obj;

obj **volatile objs; /* root */
static sem_t go, done;
static int held;           /* atomic: the hook held a call */
static int other_finished; /* atomic */

static void hold_first_call(void) {
  int expected = 0;
  if (!__atomic_compare_exchange_n(&held, &expected, 1, false,
                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    return;
  CHECK(sem_post(&go) == 0);
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += 60;
  while (sem_timedwait(&done, &t) != 0) {
    CHECKF(errno == EINTR, "the second thread's collections did not end "
                           "within 60 s: they waited for the unprotect calls");
  }
}

static void *other(void *arg) {
  (void)arg;
  while (sem_wait(&go) != 0)
    CHECK(errno == EINTR);
  for (int i = 0; i < N; i += 7)
    if (objs[i] != NULL)
      objs[i]->young = tagged_new((uint64_t)i);
  run_minors(2);
  sgc_collect();
  __atomic_store_n(&other_finished, 1, __ATOMIC_SEQ_CST);
  CHECK(sem_post(&done) == 0);
  return NULL;
}

int main(void) {
  sgc_init();
  CHECK(sem_init(&go, 0, 0) == 0 && sem_init(&done, 0, 0) == 0);
  objs = sgc_alloc(N * sizeof(obj *));
  CHECK(objs != NULL);
  for (int i = 0; i < N; i++) {
    objs[i] = sgc_alloc(sizeof(obj));
    CHECK(objs[i] != NULL);
    objs[i]->tag = (uint64_t)i;
  }
  sgc_collect();
  run_minors(3);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, other, NULL) == 0);

  /* Half the old objects die, one in two: the major's walk has pages to
   * unprotect all over the heap. */
  for (int i = 1; i < N; i += 2)
    objs[i] = NULL;
  clear_stack();
  ATOMIC_STORE(&sgc_test_unprotect_calls_hook, hold_first_call);
  sgc_collect();
  ATOMIC_STORE(&sgc_test_unprotect_calls_hook, NULL);
  int was_held = __atomic_load_n(&held, __ATOMIC_SEQ_CST);
  if (!was_held) /* no walk: let the other thread run all the same */
    CHECK(sem_post(&go) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(__atomic_load_n(&other_finished, __ATOMIC_SEQ_CST));
  sgc_stats st;
  sgc_read_stats(&st);
  fprintf(stderr, "%s, tracking %s: %s\n",
          st.generational ? "generational" : "generations off",
          st.dirty_tracking != SGC_DIRTY_OFF ? "on" : "off",
          was_held ? "a collection ran while the unprotect calls waited"
                   : "no unprotect call was made (no walk in this mode)");

  run_minors(4);
  sgc_collect();
  for (int i = 0; i < N; i++) {
    if (i % 2 == 1) {
      CHECK(objs[i] == NULL);
      continue;
    }
    CHECKF(objs[i]->tag == (uint64_t)i, "object %d lost", i);
    if (i % 7 == 0)
      CHECKF(objs[i]->young != NULL && tagged_intact(objs[i]->young, (uint64_t)i),
             "young object of %d lost", i);
  }
  return 0;
}
