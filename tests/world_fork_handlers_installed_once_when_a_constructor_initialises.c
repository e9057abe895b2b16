// labels: world
/* A constructor of the program with a higher priority than spangc's own
 * (which installs the fork handlers at load time) allocates, so
 * sgc_init runs first and installs them; the library's constructor then
 * must not install them again.  Installed twice, each prepare handler ran
 * twice on the forking thread and the second waited for the gc_lock the
 * first held: the first fork hung (helper-60).  Forks twice under an
 * alarm, the child allocating and collecting. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

static void *early;

__attribute__((constructor(150))) static void allocate_early(void) {
  early = sgc_alloc(100); /* initialises spangc before its constructors */
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "fork hung: the handlers ran twice\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(3);
}

int main(void) {
  CHECK(early != NULL);
  signal(SIGALRM, on_alarm);
  alarm(60);
  for (int i = 0; i < 2; i++) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      void *q = sgc_alloc(64);
      sgc_collect();
      _exit(q != NULL && sgc_size(early) >= 100 ? 0 : 4);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
  }
  alarm(0);
  printf("spangc initialised by an early constructor: its fork handlers "
         "were installed once, and forks work\n");
  return 0;
}
