// labels: malloc
/* A double free aborts, naming the call and the pointer:
 *   - two threads freeing the same object at the same moment (one of
 *     them must see the other's free; small and large objects);
 *   - in the debug build, a second free after the program wrote over the
 *     freed object (its cookie gone): caught with certainty there.
 * Each case runs in a child process, many times for the races. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "spangc-int.h"

static void *target;
static pthread_barrier_t go;

static void *freer(void *arg) {
  pthread_barrier_wait(&go);
  sgc_free(target);
  return NULL;
}

static int race(size_t size) {
  sgc_init();
  pthread_barrier_init(&go, NULL, 2);
  target = sgc_alloc(size);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, freer, NULL) == 0);
  pthread_barrier_wait(&go);
  sgc_free(target);
  pthread_join(t, NULL);
  return 3; /* both frees passed: not caught */
}

static int overwritten(void) {
  sgc_init();
  uint64_t *p = sgc_alloc(64);
  sgc_free(p);
  memset(p, 0x5a, 64); /* use after free: the cookie is gone */
  sgc_free(p);
  return 3;
}

static void expect_abort(const char *self, const char *mode) {
  char out[4096];
  int st = run_self(self, mode, out, sizeof out);
  CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT &&
             strstr(out, "double free") != NULL,
         "%s: status %d (3: not caught); stderr: %s", mode, st, out);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "small") == 0)
      return race(48);
    if (strcmp(argv[1], "large") == 0)
      return race(100000);
    return overwritten();
  }
  long n = scaled(100);
  for (long i = 0; i < n; i++) {
    expect_abort(argv[0], "small");
    expect_abort(argv[0], "large");
  }
  if (sgc_debug_build)
    expect_abort(argv[0], "overwritten");
  return 0;
}
