// labels: gc
/* A program may close spangc's descriptors (daemons close every one) and
 * reuse their numbers for files of its own.  Then they are its files:
 * fork()'s child handler, which closes the parent's userfaultfd and
 * pagemap file in the child, must leave them open, and so must the
 * parent's next listing, which finds its descriptors gone and opens new
 * ones.  Here the userfaultfd's number becomes a pipe and the pagemap
 * file's /dev/null; the child and the parent check both after
 * collecting.
 * Catches: dirty_atfork_child closing whatever held the numbers (the
 * adversarial review of the calls put off until gc_lock is let go). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

/* The descriptor whose /proc/self/fd link satisfies match, or -1. */
static int find_fd(int (*match)(const char *link)) {
  for (int fd = 0; fd < 4096; fd++) {
    char path[64], link[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
      continue;
    link[n] = 0;
    if (match(link))
      return fd;
  }
  return -1;
}

static int is_uffd(const char *link) {
  return strcmp(link, "anon_inode:[userfaultfd]") == 0;
}

static int is_pagemap(const char *link) {
  size_t n = strlen(link);
  return strncmp(link, "/proc/", 6) == 0 && n > 8 &&
         strcmp(link + n - 8, "/pagemap") == 0;
}

/* Both numbers still hold the program's files. */
static int files_intact(int ufd, int pfd) {
  struct stat a, b;
  return fstat(ufd, &a) == 0 && S_ISFIFO(a.st_mode) && fstat(pfd, &b) == 0 &&
         S_ISCHR(b.st_mode);
}

/* Put the program's file f on number n (closing whatever was there). */
static void take_number(int f, int n) {
  CHECK(f >= 0);
  CHECK(dup2(f, n) == n);
  if (f != n)
    close(f);
}

#define N 20000
static void *volatile *objs;

int main(void) {
  sgc_init();
  objs = sgc_alloc(N * sizeof(void *));
  CHECK(objs != NULL);
  for (int i = 0; i < N; i++)
    objs[i] = tagged_new((uint64_t)i);
  sgc_collect();
  run_minors(2);
  int ufd = find_fd(is_uffd), pfd = find_fd(is_pagemap);
  if (ufd < 0 || pfd < 0) {
    printf("skipped: spangc holds no userfaultfd and pagemap file here "
           "(write tracking off)\n");
    return 0;
  }
  int pp[2];
  CHECK(pipe(pp) == 0);
  close(ufd);
  take_number(pp[0], ufd);
  close(pfd);
  take_number(open("/dev/null", O_RDONLY), pfd);
  CHECK(files_intact(ufd, pfd));

  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    int ok = files_intact(ufd, pfd);
    run_minors(2);
    sgc_collect();
    ok = ok && files_intact(ufd, pfd);
    for (int i = 0; i < N; i++)
      ok = ok && tagged_intact(objs[i], (uint64_t)i);
    _exit(ok ? 0 : 1);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    CHECK(errno == EINTR);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "the child lost the program's files on spangc's old numbers "
         "(%d, %d), or objects (status %#x)", ufd, pfd, status);

  /* The parent's next listing opens new descriptors, closing none of the
   * program's; the pipe still carries data. */
  run_minors(2);
  sgc_collect();
  CHECK(files_intact(ufd, pfd));
  CHECK(write(pp[1], "x", 1) == 1);
  char c = 0;
  CHECK(read(ufd, &c, 1) == 1 && c == 'x');
  for (int i = 0; i < N; i++)
    CHECKF(tagged_intact(objs[i], (uint64_t)i), "object %d lost", i);
  printf("the child and the parent kept the pipe on %d and /dev/null on "
         "%d\n", ufd, pfd);
  return 0;
}
