// labels: gc
/* fork() from inside sgc_call_without_collections(fn) is refused with an
 * abort that names the call, one and two calls deep, while another thread
 * allocates.  (It used to abort in the Debug build with "taking hold_lock
 * again while holding it" and to wait for itself for ever in Release:
 * the fork handlers keep every thread out of such calls across a fork, so
 * that no child starts with another thread's fn half done.)  A fork after
 * the call returns works as usual. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"

static int stop; /* atomic */

static void *churn(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    void *volatile p = sgc_alloc(64);
    CHECK(p != NULL);
  }
  return NULL;
}

static void *fork_in_fn(void *arg) {
  (void)arg;
  pid_t pid = fork(); /* aborts before it forks */
  if (pid == 0)
    _exit(3);
  return (void *)(intptr_t)pid;
}

static void *nested(void *arg) {
  return sgc_call_without_collections(fork_in_fn, arg);
}

static int refused(const char *self, const char *mode, const char *depth) {
  char out[4096];
  int st = run_self(self, mode, out, sizeof out);
  CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
         "%s: status %#x, stderr: %s", mode, st, out);
  CHECKF(strstr(out, "fork() called inside sgc_call_without_collections") &&
             strstr(out, depth),
         "%s: no message naming the call; stderr: %s", mode, out);
  return 0;
}

int main(int argc, char **argv) {
  sgc_init();
  if (argc > 1) { /* the child cases: expected to abort */
    pthread_t t;
    CHECK(sgc_pthread_create(&t, NULL, churn, NULL) == 0);
    sgc_collect();
    if (strcmp(argv[1], "one") == 0)
      sgc_call_without_collections(fork_in_fn, NULL);
    else
      sgc_call_without_collections(nested, NULL);
    fprintf(stderr, "the fork was not refused\n");
    return 0;
  }
  refused(argv[0], "one", "(1 deep");
  refused(argv[0], "two", "(2 deep");
  /* After the call, fork works. */
  pid_t pid = fork();
  if (pid == 0) {
    sgc_collect();
    _exit(0);
  }
  int st = -1;
  CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "plain fork: status %#x", st);
  printf("fork() inside sgc_call_without_collections refused, one and two "
         "calls deep, naming the call; fork after the call works\n");
  return 0;
}
