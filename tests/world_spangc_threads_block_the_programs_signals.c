// labels: world threads
/* spangc's own threads are born with the program's signals blocked
 * (os.c os_start_detached): a process-directed signal goes to a thread of
 * the program's, where its handler expects to run, and never to the
 * background sweeper or the concurrent collector, whose stacks are no
 * roots (a handler there could hold an object in its frame through a
 * stop: the adversarial review of the noroots commit).  The registered
 * ones keep the suspend signal deliverable, and every one the
 * synchronous faults.  Read from /proc/self/task/<tid>/status (SigBlk)
 * for each thread whose name starts with "spangc-". */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static void nothing(void *p, void *arg) {
  (void)p;
  (void)arg;
}

static int has(unsigned long long mask, int sig) {
  return (int)((mask >> (sig - 1)) & 1);
}

int main(void) {
  sgc_init();
  /* The sweeper, the finalizer thread, the markers (and the concurrent
   * collector with SPANGC_CONCURRENT=1) are made by now. */
  sgc_set_finalizer(sgc_alloc(64), nothing, NULL);
  for (int k = 0; k < 3; k++)
    sgc_collect();
  sgc_run_finalizers();
  usleep(50000);
  DIR *d = opendir("/proc/self/task");
  CHECK(d != NULL);
  int seen = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char path[320], line[256], name[32];
    task_name(atol(e->d_name), name, sizeof name);
    if (strncmp(name, "spangc-", 7) != 0)
      continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue;
    unsigned long long blk = 0;
    int got = 0;
    while (fgets(line, sizeof line, f) != NULL)
      if (sscanf(line, "SigBlk: %llx", &blk) == 1)
        got = 1;
    fclose(f);
    CHECK(got);
    printf("%s (task %s): SigBlk %016llx\n", name, e->d_name, blk);
    static const int program[] = {SIGUSR1, SIGUSR2, SIGINT, SIGTERM,
                                  SIGALRM, SIGCHLD, SIGPIPE, SIGHUP};
    for (size_t k = 0; k < sizeof program / sizeof program[0]; k++)
      CHECKF(has(blk, program[k]), "%s does not block signal %d", name,
             program[k]);
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t k = 0; k < sizeof faults / sizeof faults[0]; k++)
      CHECKF(!has(blk, faults[k]), "%s blocks fault signal %d", name,
             faults[k]);
    /* Registered ones: the sweeper, the finalizer thread, the collector. */
    if (strcmp(name, "spangc-sweep") == 0 ||
        strcmp(name, "spangc-final") == 0 || strcmp(name, "spangc-conc") == 0)
      CHECKF(!has(blk, sgc_suspend_sig), "%s blocks the suspend signal %d",
             name, sgc_suspend_sig);
    seen++;
  }
  closedir(d);
  CHECKF(seen >= 2, "only %d threads named spangc-*", seen);
  return 0;
}
