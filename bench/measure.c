/* measure — run a command and report its wall time, CPU time and peak RSS.
 *
 *   measure [-o FILE] [-m RSS_MB] [-t SECONDS] -- command [args...]
 *
 * The command's stdout and stderr pass through untouched.  One line
 *   wall_s=W user_s=U sys_s=S cpu_s=C maxrss_kb=K exit=E killed=none|rss|timeout
 * is appended to FILE (default: stderr).  CPU time and peak RSS come from
 * wait4()'s rusage; wall time from CLOCK_MONOTONIC around fork/wait4.
 *
 * Safety net: a watchdog thread samples the child's resident set every 20 ms
 * (/proc/PID/statm) and kills the child's process group when it exceeds
 * -m RSS_MB, or when the run exceeds -t SECONDS.  (An address-space limit,
 * ulimit -v, would break collectors that reserve a large virtual heap up
 * front; an RSS watchdog does not.)  Exit status: the child's, 128+signal
 * if it was killed by a signal, 125 if measure itself failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;
static long rss_limit_kb; /* 0: none */
static double timeout_s;  /* 0: none */
static atomic_int killed; /* 0 none, 1 rss, 2 timeout */
static atomic_int done;
static struct timespec t0;

static double since(const struct timespec *a) {
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}

static long rss_kb(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long size = 0, res = 0;
  int n = fscanf(f, "%ld %ld", &size, &res);
  fclose(f);
  if (n != 2) return -1;
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *watchdog(void *arg) {
  (void)arg;
  struct timespec nap = {0, 20 * 1000 * 1000};
  while (!atomic_load(&done)) {
    nanosleep(&nap, NULL);
    if (atomic_load(&done)) break;
    int why = 0;
    if (rss_limit_kb > 0) {
      long r = rss_kb(child);
      if (r > rss_limit_kb) why = 1;
    }
    if (!why && timeout_s > 0 && since(&t0) > timeout_s) why = 2;
    if (why) {
      atomic_store(&killed, why);
      fprintf(stderr, "measure: killing pid %d: %s\n", (int)child,
              why == 1 ? "resident set over the limit" : "timeout");
      kill(-child, SIGKILL);
      kill(child, SIGKILL);
      break;
    }
  }
  return NULL;
}

static void usage(void) {
  fprintf(stderr, "usage: measure [-o FILE] [-m RSS_MB] [-t SECONDS] -- command [args...]\n");
  exit(125);
}

int main(int argc, char **argv) {
  const char *out = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "+o:m:t:")) != -1) {
    switch (opt) {
    case 'o': out = optarg; break;
    case 'm': rss_limit_kb = atol(optarg) * 1024; break;
    case 't': timeout_s = atof(optarg); break;
    default: usage();
    }
  }
  if (optind >= argc) usage();
  char **cmd = argv + optind;

  fflush(NULL);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  child = fork();
  if (child < 0) { perror("measure: fork"); return 125; }
  if (child == 0) {
    setpgid(0, 0); /* own group so the watchdog can kill helpers too */
    execvp(cmd[0], cmd);
    fprintf(stderr, "measure: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  setpgid(child, child); /* also from the parent: no race with the watchdog */

  pthread_t wd;
  int have_wd = (rss_limit_kb > 0 || timeout_s > 0) && pthread_create(&wd, NULL, watchdog, NULL) == 0;

  int status = 0;
  struct rusage ru;
  pid_t r;
  do r = wait4(child, &status, 0, &ru);
  while (r < 0 && errno == EINTR);
  double wall = since(&t0);
  atomic_store(&done, 1);
  if (have_wd) pthread_join(wd, NULL);
  if (r < 0) { perror("measure: wait4"); return 125; }

  double user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  double sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 125;
  static const char *kname[] = {"none", "rss", "timeout"};

  FILE *f = out ? fopen(out, "a") : stderr;
  if (!f) { perror("measure: output file"); f = stderr; }
  fprintf(f, "wall_s=%.4f user_s=%.4f sys_s=%.4f cpu_s=%.4f maxrss_kb=%ld exit=%d killed=%s\n",
          wall, user, sys, user + sys, ru.ru_maxrss, code, kname[atomic_load(&killed)]);
  if (f != stderr) fclose(f);
  return code;
}
