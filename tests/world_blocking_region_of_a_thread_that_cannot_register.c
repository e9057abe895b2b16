// labels: world threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* A thread that is not registered enters a blocking region: that
 * registers it, and when there is no memory for its records (here every
 * request refused, os_fault_injection_set) the region does nothing — no
 * stop knows the thread — instead of aborting (spangc.h).
 *   - enter and exit without memory: the thread stays unregistered, and
 *     with memory back the next region registers it;
 *   - nesting is still caught: a second sgc_enter_blocking inside such a
 *     region aborts naming the call, even once memory came back (the
 *     first version registered the thread there and entered a real
 *     region; found by the adversarial review). */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

/* Memory gone: every request refused, and the caches' pool emptied
 * (its free records would register a thread without a request). */
static mcache *hoard[1 << 14];
static int nhoard;
static int step; /* atomic: the thread's turn, then the main thread's */

static void memory_gone(void) {
  os_fault_injection_set(os_requests() + 1, true);
  mcache *me = nopreempt_enter_any();
  while (nhoard < (int)(sizeof hoard / sizeof hoard[0]) &&
         (hoard[nhoard] = mcache_create()) != NULL)
    nhoard++;
  nopreempt_leave_any(me);
  CHECKF(nhoard < (int)(sizeof hoard / sizeof hoard[0]),
         "the caches' pool never ran out");
}

static void memory_back(void) {
  os_fault_injection_set(0, false);
  mcache *me = nopreempt_enter_any();
  while (nhoard > 0)
    mcache_destroy(hoard[--nhoard]);
  nopreempt_leave_any(me);
}

static void wait_turn(int want) {
  while (__atomic_load_n(&step, __ATOMIC_ACQUIRE) != want)
    sched_yield();
}

static void *pair(void *arg) {
  sgc_enter_blocking();
  sgc_exit_blocking();
  CHECKF(!sgc_thread_is_registered(),
         "registered with no memory for its records");
  __atomic_store_n(&step, 1, __ATOMIC_RELEASE);
  wait_turn(2); /* memory back */
  sgc_enter_blocking();
  sgc_exit_blocking();
  CHECKF(sgc_thread_is_registered(), "a blocking region with memory back "
         "did not register the thread");
  void *volatile p = sgc_alloc(64); /* a mutator now */
  CHECK(p != NULL);
  sgc_unregister_thread();
  return NULL;
}

static void *nester(void *arg) {
  sgc_enter_blocking();
  __atomic_store_n(&step, 1, __ATOMIC_RELEASE);
  wait_turn(2); /* memory back */
  sgc_enter_blocking(); /* aborts */
  fprintf(stderr, "nesting not caught\n");
  return NULL;
}

/* Runs fn on a thread that is not registered, with memory gone until the
 * thread has made its first region. */
static void run_thread(void *(*fn)(void *)) {
  pthread_t t;
  __atomic_store_n(&step, 0, __ATOMIC_RELEASE);
  memory_gone();
  CHECK(pthread_create(&t, NULL, fn, NULL) == 0);
  wait_turn(1);
  memory_back();
  __atomic_store_n(&step, 2, __ATOMIC_RELEASE);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
}

int main(int argc, char **argv) {
  sgc_init();
  if (argc > 1) {
    run_thread(nester);
    return 0;
  }
  run_thread(pair);
  sgc_collect();
  char out[4096];
  int st = run_self(argv[0], "nest", out, sizeof out);
  CHECKF(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0),
         "nesting inside a region without registration: status %d: %s", st,
         out);
  CHECKF(strstr(out, "sgc_enter_blocking: the calling thread is already in "
                     "a blocking region") != NULL,
         "no message naming the call; stderr: %s", out);
  return 0;
}
