/* The bdwgc layer turns aging off (control.c, GC_init): its minor
 * collections promote every young object they reach, as bdwgc's
 * generational mode does, unless SPANGC_AGING=1 asks for aging.  A child
 * keeps a 16 MB list and allocates 200 MB of short-lived lists; it runs
 * with SPANGC_DEBUG=gctrace=1, whose minor lines carry "promoted by old
 * objects" only when the minor aged.  Without SPANGC_AGING: minors, none
 * aging; with SPANGC_AGING=1: aging minors.  Skipped when the child's
 * trace shows no minor collection (generations off, no written-page
 * tracking) or no trace at all (stock libgc).
 * Catches: GC_init leaving the core's default (aging on) in place, or
 * overriding a SPANGC_AGING the user set. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gc.h>

#include "bdwgc_check.h"

extern char **environ;

struct node {
  struct node *next;
  long pad[3];
};

struct node *keep; /* a root: not static (see bdwgc_check.h) */

static int child(void) {
  GC_INIT();
  for (int i = 0; i < 16 << 20 >> 5; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    CHECK(n != NULL, "allocation failed");
    n->next = keep;
    keep = n;
  }
  for (int r = 0; r < 200; r++) { /* 1 MB lists, each dropped */
    struct node *l = NULL;
    for (int i = 0; i < 1 << 20 >> 5; i++) {
      struct node *n = GC_MALLOC(sizeof *n);
      CHECK(n != NULL, "allocation failed");
      n->next = l;
      l = n;
    }
  }
  return 0;
}

/* Run this program as the child, with gctrace and SPANGC_AGING=aging
 * (unset if NULL); count its trace's lines. */
static void run(const char *self, const char *aging, int *traced,
                int *minors, int *aging_minors) {
  static char *env[256];
  static char agevar[64];
  int n = 0;
  for (char **e = environ; *e && n < 250; e++)
    if (strncmp(*e, "SPANGC_AGING=", 13) != 0 &&
        strncmp(*e, "SPANGC_DEBUG=", 13) != 0)
      env[n++] = *e;
  env[n++] = "SPANGC_DEBUG=gctrace=1";
  if (aging) {
    snprintf(agevar, sizeof agevar, "SPANGC_AGING=%s", aging);
    env[n++] = agevar;
  }
  env[n] = NULL;
  int fd[2];
  CHECK(pipe(fd) == 0, "pipe: %s", strerror(errno));
  pid_t pid = fork();
  CHECK(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(fd[1], 2);
    close(fd[0]);
    close(fd[1]);
    execle(self, self, "child", (char *)NULL, env);
    _exit(127);
  }
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  CHECK(f != NULL, "fdopen: %s", strerror(errno));
  char line[2048];
  *traced = *minors = *aging_minors = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "spangc: gctrace:", 16) == 0)
      *traced = 1;
    if (strncmp(line, "gc ", 3) == 0 && strstr(line, " minor,")) {
      ++*minors;
      if (strstr(line, "promoted by old objects"))
        ++*aging_minors;
    }
  }
  fclose(f);
  int st;
  CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "the child (SPANGC_AGING=%s) failed: status %d", aging ? aging : "",
        st);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0)
    return child();
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  CHECK(len > 0, "readlink /proc/self/exe: %s", strerror(errno));
  self[len] = 0;
  int traced, minors, aging_minors;
  run(self, NULL, &traced, &minors, &aging_minors);
  printf("default: %d minors, %d aging\n", minors, aging_minors);
  if (!traced || minors == 0) {
    printf("skipped: %s\n", traced ? "no minor collections" : "no gctrace");
    return 0;
  }
  CHECK(aging_minors == 0, "%d of %d minors aged without SPANGC_AGING",
        aging_minors, minors);
  run(self, "1", &traced, &minors, &aging_minors);
  printf("SPANGC_AGING=1: %d minors, %d aging\n", minors, aging_minors);
  CHECK(minors > 0 && aging_minors == minors,
        "%d of %d minors aged with SPANGC_AGING=1", aging_minors, minors);
  return 0;
}
