// labels: gc threads
/* Thread-specific-data destructors run in rounds at thread exit; a
 * destructor that allocates registers the thread again.  The runtime
 * unregisters an exiting thread only in the last round, so a thread never
 * exits registered (the next stop would signal a thread that is gone):
 *   - a key made before sgc_init (its destructor runs before the
 *     runtime's in each round) that allocates in every round, the last
 *     one included;
 *   - a key made after sgc_init that allocates in every round but the
 *     last.
 * Collections after such threads exit must work.  A destructor that
 * allocates after the runtime's last round is an error said plainly
 * (checked in a child process). */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

/* The runtime's last round (one earlier under ThreadSanitizer, whose own
 * destructor takes the last round: nothing may allocate after it). */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(TEST_TSAN)
#define LAST_ROUND (PTHREAD_DESTRUCTOR_ITERATIONS - 1)
#else
#define LAST_ROUND PTHREAD_DESTRUCTOR_ITERATIONS
#endif

static pthread_key_t early_key, late_key;
static __thread int rounds;
static int late_alloc_rounds; /* the late key allocates in rounds < this */

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

static void *with_key(void *key) {
  void *volatile p = sgc_alloc(64); /* registered */
  (void)p;
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
  alarm(30);  /* a stop waiting for a thread that is gone fails the test */
  sgc_init();
  CHECK(pthread_key_create(&late_key, late_dtor) == 0);
  if (argc > 1) {
    late_alloc_rounds = LAST_ROUND; /* too late */
    run_threads(&late_key, 1);
    return 0;
  }
  run_threads(&early_key, 20);
  late_alloc_rounds = LAST_ROUND - 1;
  run_threads(&late_key, 20);
  CHECK(sgc_thread_is_registered());
  char out[4096];
  int st = run_self(argv[0], "too-late", out, sizeof out);
  CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
             strstr(out, "after the last round of destructors") != NULL,
         "an allocation after the last destructor round: status %d, "
         "stderr: %s", st, out);
  return 0;
}
