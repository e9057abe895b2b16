// labels: fiber
/* A thread inside a blocking region is scanned from the stack pointer it
 * entered the region with, on the stack it ran then; a fiber switch there
 * would leave that pointer on a stack the thread no longer runs, and the
 * collector would scan the wrong range.  spangc.h forbids sgc_ calls in a
 * blocking region; sgc_fiber_switch checks, and aborts naming the fiber
 * (it used to switch without a word), and so does the switch back when a
 * fiber's function returns inside a region (helper-63: the next
 * collection aborted, naming neither).  The switch runs in a child (this
 * program again with an argument); the parent checks the signal and the
 * message. */
#include <signal.h>
#include <string.h>

#include "check.h"
#include "spangc.h"

static sgc_fiber *home;

static void back(void *arg) { sgc_fiber_switch(home); }

/* Its function returns, inside a region: the switch back aborts too. */
static void finish_blocking(void *arg) { sgc_enter_blocking(); }

static int child_finish(void) {
  sgc_init();
  home = sgc_fiber_self();
  sgc_fiber *f = sgc_fiber_create(finish_blocking, NULL, 0);
  CHECK(f != NULL);
  fprintf(stderr, "fiber %p\n", (void *)f);
  sgc_fiber_switch(f); /* must abort as f finishes */
  fprintf(stderr, "finished inside a blocking region\n");
  return 0;
}

static int child(void) {
  sgc_init();
  home = sgc_fiber_self();
  sgc_fiber *f = sgc_fiber_create(back, NULL, 0);
  CHECK(f != NULL);
  fprintf(stderr, "fiber %p\n", (void *)f);
  sgc_enter_blocking();
  sgc_fiber_switch(f); /* must abort */
  sgc_exit_blocking();
  fprintf(stderr, "switched inside a blocking region\n");
  return 0;
}

static void expect_abort(const char *self, const char *mode) {
  char out[4096];
  int status = run_self(self, mode, out, sizeof out);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
         "%s: child status %#x, output:\n%s", mode, status, out);
  char fiber_s[64];
  CHECKF(sscanf(out, "fiber %63s", fiber_s) == 1, "output:\n%s", out);
  CHECKF(strstr(out, "inside a blocking region") != NULL, "output:\n%s", out);
  CHECKF(strstr(out, fiber_s) != NULL, "%s: message does not name %s:\n%s",
         mode, fiber_s, out);
}

int main(int argc, char **argv) {
  if (argc > 1)
    return strcmp(argv[1], "finish") == 0 ? child_finish() : child();
  expect_abort(argv[0], "switch");
  expect_abort(argv[0], "finish");
  printf("fiber_switch_inside_a_blocking_region_aborts: ok\n");
  return 0;
}
