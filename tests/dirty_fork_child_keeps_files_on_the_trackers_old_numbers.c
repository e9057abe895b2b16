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

static int is_pagemap(const char *link) {
  size_t n = strlen(link);
  return strncmp(link, "/proc/", 6) == 0 && n > 8 &&
         strcmp(link + n - 8, "/pagemap") == 0;
}

/* spangc's pagemap files: the tracker's and the markers' (which pages of
 * a large object hold data). */
static int pfds[2], npfd;

/* Every number still holds the program's file. */
static int files_intact(int ufd) {
  struct stat a, b;
  if (fstat(ufd, &a) != 0 || !S_ISFIFO(a.st_mode))
    return 0;
  for (int k = 0; k < npfd; k++)
    if (fstat(pfds[k], &b) != 0 || !S_ISCHR(b.st_mode))
      return 0;
  return 1;
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
static void *volatile big; /* a large scanned object: the markers read
                              only its pages that hold data */

int main(void) {
  sgc_init();
  objs = sgc_alloc(N * sizeof(void *));
  CHECK(objs != NULL);
  for (int i = 0; i < N; i++)
    objs[i] = tagged_new((uint64_t)i);
  big = sgc_alloc(8 << 20);
  CHECK(big != NULL);
  ((void **)big)[0] = objs[0];
  sgc_collect();
  run_minors(2);
  int ufd = find_fd_linking(link_is_uffd, 0);
  for (int fd = find_fd_linking(is_pagemap, 0); fd >= 0 && npfd < 2;
       fd = find_fd_linking(is_pagemap, fd + 1))
    pfds[npfd++] = fd;
  if (ufd < 0 || npfd == 0) {
    printf("skipped: spangc holds no userfaultfd and pagemap file here "
           "(write tracking off)\n");
    return 0;
  }
  int pp[2];
  CHECK(pipe(pp) == 0);
  close(ufd);
  take_number(pp[0], ufd);
  for (int k = 0; k < npfd; k++) {
    close(pfds[k]);
    take_number(open("/dev/null", O_RDONLY), pfds[k]);
  }
  CHECK(files_intact(ufd));

  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    int ok = files_intact(ufd);
    run_minors(2);
    sgc_collect();
    ok = ok && files_intact(ufd);
    for (int i = 0; i < N; i++)
      ok = ok && tagged_intact(objs[i], (uint64_t)i);
    _exit(ok ? 0 : 1);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    CHECK(errno == EINTR);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "the child lost the program's files on spangc's old numbers "
         "(%d and %d pagemap numbers), or objects (status %#x)", ufd, npfd,
         status);

  /* The parent's next listing opens new descriptors, closing none of the
   * program's; the pipe still carries data. */
  run_minors(2);
  sgc_collect();
  CHECK(files_intact(ufd));
  CHECK(write(pp[1], "x", 1) == 1);
  char c = 0;
  CHECK(read(ufd, &c, 1) == 1 && c == 'x');
  for (int i = 0; i < N; i++)
    CHECKF(tagged_intact(objs[i], (uint64_t)i), "object %d lost", i);
  printf("the child and the parent kept the pipe on %d and /dev/null on "
         "%d pagemap numbers\n", ufd, npfd);
  return 0;
}
