// labels: fiber
/* A fiber that overflows its stack does not corrupt memory: it runs into
 * the guard page and the process aborts with a message naming the fiber.
 * The overflow happens in a child (this program run again with an
 * argument); the parent checks the signal and the message. */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

static sgc_fiber *victim;

__attribute__((noinline)) static long deep(long n) {
  volatile char pad[200];
  pad[0] = (char)n;
  return n == 0 ? pad[0] : deep(n - 1) + pad[0];
}

static void overflow(void *arg) { deep(1L << 30); }

static int child(void) {
  sgc_init();
  victim = sgc_fiber_create(overflow, NULL, 32 << 10);
  CHECK(victim != NULL);
  fprintf(stderr, "victim %p\n", (void *)victim);
  sgc_fiber_switch(victim);
  return 0; /* not reached */
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child();
  char out[4096];
  int status = run_self(argv[0], "child", out, sizeof out);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
         "child status %#x, output:\n%s", status, out);
  char victim_s[64];
  CHECKF(sscanf(out, "victim %63s", victim_s) == 1, "output:\n%s", out);
  CHECKF(strstr(out, "overflowed its stack") != NULL, "output:\n%s", out);
  CHECKF(strstr(out, victim_s) != NULL, "message does not name %s:\n%s",
         victim_s, out);
  printf("overflow reported: %s", strstr(out, "spangc:"));
  return 0;
}
