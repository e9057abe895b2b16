// labels: gc threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* Thread-specific-data destructors run in rounds at thread exit, and one
 * that allocates registers the thread again.  The runtime's destructor
 * unregisters the thread each time it runs and stays armed for the next
 * round, so a thread never exits registered unless something allocates in
 * the very last round after it; and a thread that does exit registered is
 * found gone by the next stop, which says so and goes on (it once waited
 * for ever for an answer from a thread that no longer existed):
 *   - a key made before sgc_init (its destructor runs before the
 *     runtime's in each round) that allocates in every round;
 *   - a key made after sgc_init that allocates in every round but the
 *     last, in threads that allocated before and in threads whose first
 *     allocation is in the destructor;
 *   - (in a child process) the same key allocating in the last round too:
 *     collections afterwards finish, with a warning naming the thread. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

/* Under ThreadSanitizer, its own destructor tears the thread's state down
 * in the last round: nothing may run after it, so the rounds used here
 * stop one earlier and the "last round" case is not run. */
#if TEST_TSAN
#define LAST_ROUND (PTHREAD_DESTRUCTOR_ITERATIONS - 1)
#else
#define LAST_ROUND PTHREAD_DESTRUCTOR_ITERATIONS
#endif

static pthread_key_t early_key, late_key;
static __thread int rounds;
static int late_alloc_rounds; /* the late key allocates in rounds <= this */

static void early_dtor(void *v) {
  ++rounds;
  void *volatile p = sgc_alloc(100);
  CHECK(p != NULL);
  if (rounds < LAST_ROUND)
    pthread_setspecific(early_key, (void *)1);
}

static void late_dtor(void *v) {
  ++rounds;
  if (rounds <= late_alloc_rounds) {
    void *volatile p = sgc_alloc(100);
    CHECK(p != NULL);
  }
  if (rounds < LAST_ROUND)
    pthread_setspecific(late_key, (void *)1);
}

static int allocate_first = 1;
static void *with_key(void *key) {
  if (allocate_first) {
    void *volatile p = sgc_alloc(64); /* registered now */
    (void)p;
  }
  pthread_setspecific(*(pthread_key_t *)key, (void *)1);
  return NULL;
}

static void run_threads(pthread_key_t *key, int n) {
  for (int i = 0; i < n; i++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, with_key, key) == 0);
    sgc_enter_blocking();
    pthread_join(t, NULL);
    sgc_exit_blocking();
    for (int k = 0; k < 3; k++)
      sgc_collect();
  }
}

int main(int argc, char **argv) {
  CHECK(pthread_key_create(&early_key, early_dtor) == 0);
  /* A stop waiting for a thread that is gone fails the test.  Under TSan
   * the run takes 25 s alone on 2 CPUs, and passed 60 s beside a loaded
   * machine's other tests (session 50): a hang is for ever either way. */
  alarm(TEST_TSAN ? 240 : 60);
  sgc_init();
  CHECK(pthread_key_create(&late_key, late_dtor) == 0);
  if (argc > 1 && strcmp(argv[1], "rounds") == 0) {
    run_threads(&early_key, 20);
    late_alloc_rounds = LAST_ROUND - 1;
    run_threads(&late_key, 20);
    allocate_first = 0;
    run_threads(&late_key, 20);
    return 0;
  }
  if (argc > 1) { /* the last round allocates too */
    late_alloc_rounds = LAST_ROUND;
    allocate_first = argv[1][0] == 'a';
    run_threads(&late_key, 3);
    return 0;
  }
  /* Every thread unregistered itself: no stop finds one gone. */
  char out[8192];
  int st = run_self(argv[0], "rounds", out, sizeof out);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(out, "spangc") == NULL,
         "allocating destructors: status %d; stderr: %s", st, out);
  if (TEST_TSAN)
    return 0;
  const char *modes[] = {"allocated", "first-in-destructor"};
  for (int m = 0; m < 2; m++) {
    st = run_self(argv[0], modes[m], out, sizeof out);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "%s: status %d; stderr: %s", modes[m], st, out);
    CHECKF(strstr(out, "exited while registered") != NULL,
           "%s: no warning about the thread that exited registered; "
           "stderr: %s", modes[m], out);
  }
  return 0;
}
