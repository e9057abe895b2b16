// labels: gc threads
/* sgc_set_finalizer_thread(0) after the finalizer thread started leaves
 * the queued finalizers to the program (spangc.h): the thread ran a first
 * batch; disabled, it lets a second batch wait in the queue for 200 ms
 * (the count queued and the count run unchanged, exact), and
 * sgc_run_finalizers then runs every one of them on the program's
 * thread; enabled again, the thread wakes and runs a third batch
 * (sgc_wait_finalizers returns with them run).  An alarm ends a hang.
 * Catches: the running thread taking finalizers while disabled (it never
 * looked at the setting once started: the second batch ran on it, and
 * finalizer_waiting_from_a_finalizer_returns counted 0 of 10 run by the
 * program in one CI run). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 10

static int ran, ran_on_main; /* atomic */
static pthread_t main_thread;

static void count(void *obj, void *arg) {
  (void)obj, (void)arg;
  __atomic_add_fetch(&ran, 1, __ATOMIC_RELAXED);
  if (pthread_equal(pthread_self(), main_thread))
    __atomic_add_fetch(&ran_on_main, 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) static void make(void) {
  for (int i = 0; i < N; i++) {
    void *p = sgc_alloc(64);
    CHECK(p != NULL);
    CHECK(sgc_set_finalizer(p, count, NULL) == 0);
  }
}

/* A batch made and found dead; returns how many were queued. */
static size_t batch(void) {
  make();
  clear_stack();
  for (int k = 0; k < 4 && sgc_finalizers_pending() < N; k++)
    sgc_collect();
  return sgc_finalizers_pending();
}

int main(void) {
  sgc_init();
  main_thread = pthread_self();
  alarm(60);
  batch();
  sgc_wait_finalizers();
  int first = __atomic_load_n(&ran, __ATOMIC_RELAXED);
  CHECKF(first >= N / 2 && ran_on_main == 0,
         "the thread ran %d of %d (%d on the program's thread)", first, N,
         ran_on_main);

  sgc_set_finalizer_thread(0);
  size_t queued = batch();
  CHECKF(queued >= N / 2, "%zu of %d finalizers queued", queued, N);
  usleep(200 * 1000);
  CHECKF(sgc_finalizers_pending() == queued &&
             __atomic_load_n(&ran, __ATOMIC_RELAXED) == first,
         "disabled, the thread took finalizers: %zu of %zu still queued, "
         "%d run", sgc_finalizers_pending(), queued,
         __atomic_load_n(&ran, __ATOMIC_RELAXED) - first);
  size_t run = sgc_run_finalizers();
  CHECKF(run == queued && ran_on_main == (int)queued,
         "the program ran %zu of %zu (%d on its thread)", run, queued,
         ran_on_main);

  sgc_set_finalizer_thread(1);
  int before = __atomic_load_n(&ran, __ATOMIC_RELAXED);
  size_t third = batch();
  sgc_wait_finalizers();
  int after = __atomic_load_n(&ran, __ATOMIC_RELAXED);
  CHECKF(after - before >= (int)third && ran_on_main == (int)queued,
         "enabled again, the thread ran %d of %zu", after - before, third);
  printf("thread ran %d, then the program %zu, then the thread %d\n", first,
         run, after - before);
  return 0;
}
