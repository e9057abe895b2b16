// labels: gc
/* A fork child in a new pid namespace can get the number its parent has
 * (both pid 1: the parent is the init of a namespace, and unshares
 * CLONE_NEWPID again before forking).  The collector must still tell the
 * child from the parent, without the pid: the child tracks its own
 * written pages (never through the parent's userfaultfd and pagemap
 * file), and the parent's record is not disturbed by what the child does.
 *   A: the child stores young objects into old holders (made old in the
 *      parent) and runs minor collections: none is lost.
 *   B: the parent stores young objects into the old holders, then the
 *      child runs collections; afterwards the parent runs minors: none of
 *      its objects is lost (a child listing through the inherited
 *      descriptors resets the parent's record of written pages).
 * The test makes the namespaces itself (unshare CLONE_NEWUSER|CLONE_NEWPID
 * before the collector starts threads, uid/gid maps as `unshare -Urpf`
 * writes them; the namespace's init runs the cases).  Where namespaces
 * are refused (containers, sanitizer threads), the same cases run with a
 * plain fork() child, and the test says so.
 * Catches: a child recognised by its pid only. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NH 64
#define NS 8

typedef struct holder {
  void *slot[NS];
} holder;

holder *volatile g_hold[NH];
static uint64_t tags[NH][NS]; /* not pointers */
static int nested;            /* unshare CLONE_NEWPID before each fork */

static void store(int r, uint64_t who) {
  for (int h = 0; h < NH; h++) {
    uint64_t tag = who | ((uint64_t)r << 32) | ((uint64_t)h << 8);
    uint64_t *y = sgc_alloc(64);
    CHECK(y != NULL);
    for (int k = 0; k < 8; k++)
      y[k] = tag ^ (uint64_t)k;
    tags[h][r % NS] = tag;
    g_hold[h]->slot[r % NS] = y;
  }
}

__attribute__((noinline)) static void store_all(uint64_t who) {
  memset(tags, 0, sizeof tags);
  for (int r = 0; r < NS; r++)
    store(r, who);
}

__attribute__((noinline)) static int lost(void) {
  int n = 0;
  for (int h = 0; h < NH; h++)
    for (int j = 0; j < NS; j++) {
      if (tags[h][j] == 0)
        continue;
      const uint64_t *y = g_hold[h]->slot[j];
      int ok = y != NULL && sgc_base(y) == y;
      for (int k = 0; ok && k < 8; k++)
        ok = y[k] == (tags[h][j] ^ (uint64_t)k);
      n += !ok;
    }
  return n;
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd >= 0) {
    if (write(fd, text, strlen(text)) < 0)
      fprintf(stderr, "%s: %s\n", path, strerror(errno));
    close(fd);
  }
}

static void pipe_write(int fd) {
  CHECK(write(fd, "x", 1) == 1);
}

/* 1 if a byte came, 0 at end of file. */
static int pipe_wait(int fd) {
  char c;
  sgc_enter_blocking();
  ssize_t n = read(fd, &c, 1);
  sgc_exit_blocking();
  return n == 1;
}

/* The child: case A, then collections whenever the parent asks (case B).
 * Exit status 0, 1 if it lost objects, 4 if its pid is not its parent's,
 * 5 if too few minors ran. */
static int child(pid_t parent, int gen, int rounds, int go, int done) {
  int status = 0;
  if (nested && getpid() != parent)
    status = 4;
  uint64_t minors = 0;
  for (int r = 0; r < rounds; r++) {
    store_all(0xc100000000000000ull | (uint64_t)r << 40);
    clear_stack();
    minors += run_minors(4);
    int n = lost();
    if (n) {
      fprintf(stderr, "case A, round %d: the child (pid %d) lost %d of %d "
              "young objects\n", r, (int)getpid(), n, NH * NS);
      status = 1;
    }
  }
  if (gen && minors < (uint64_t)rounds && status == 0)
    status = 5;
  pipe_write(done);
  while (pipe_wait(go)) {
    run_minors(4);
    pipe_write(done);
  }
  return status;
}

static int cases(void) {
  pid_t self = getpid();
  sgc_init();
  for (int h = 0; h < NH; h++) {
    g_hold[h] = sgc_alloc(sizeof(holder));
    CHECK(g_hold[h] != NULL);
  }
  clear_stack();
  sgc_collect(); /* the holders are old */
  run_minors(3);
  int gen = generational();
  int rounds = (int)scaled(3);

  /* Once only: a process whose next children go to a new pid namespace
   * cannot unshare again. */
  if (nested)
    CHECKF(unshare(CLONE_NEWPID) == 0, "unshare(CLONE_NEWPID) in the "
           "namespace: %s", strerror(errno));
  int go[2], done[2];
  CHECK(pipe(go) == 0 && pipe(done) == 0);
  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(go[1]), close(done[0]);
    _exit(child(self, gen, rounds, go[0], done[1]));
  }
  close(go[0]), close(done[1]);
  int ok = pipe_wait(done[0]); /* case A is over */

  /* B: the parent's writes, made before the child collects, are seen. */
  uint64_t minors = 0;
  int lostB = 0;
  for (int r = 0; ok && r < rounds && lostB == 0; r++) {
    store_all(0xfa00000000000000ull | (uint64_t)r << 40);
    clear_stack();
    pipe_write(go[1]);
    ok = pipe_wait(done[0]); /* the child collected */
    minors += run_minors(4);
    if ((lostB = lost()) != 0)
      fprintf(stderr, "case B, round %d: the parent (pid %d) lost %d of %d "
              "young objects after its child's collections\n", r,
              (int)getpid(), lostB, NH * NS);
  }
  close(go[1]);
  int status;
  sgc_enter_blocking();
  CHECK(waitpid(pid, &status, 0) == pid);
  sgc_exit_blocking();
  static const char *what[] = {
      [1] = "lost young objects (case A)",
      [4] = "its pid is not its parent's",
      [5] = "too few minor collections"};
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  CHECKF(code == 0 && lostB == 0 && ok,
         "the child: status %d: %s; the parent lost %d (case B)%s", status,
         code == 1 || code == 4 || code == 5 ? what[code]
         : code == 0                         ? "fine"
                                             : "crashed",
         lostB, ok ? "" : "; the child stopped answering");
  if (gen)
    CHECKF(minors >= (uint64_t)rounds, "only %llu minors in the parent",
           (unsigned long long)minors);
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%s: the child (its own pid %s %d) kept its young objects, and "
         "the parent its own; %llu minors, %llu majors (generational %d)\n",
         nested ? "pid namespace" : "plain fork",
         nested ? "is its parent's," : "differs from its parent's", (int)self,
         (unsigned long long)st.num_minor_gc,
         (unsigned long long)st.num_major_gc, gen);
  return 0;
}

int main(void) {
  /* Before the collector starts threads: unshare(CLONE_NEWUSER) wants a
   * single-threaded caller. */
  uid_t uid = getuid();
  gid_t gid = getgid();
  int err = 0;
  int userns = 1;
  if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) {
    err = errno;
    userns = 0;
    if (unshare(CLONE_NEWPID) != 0) /* root without user namespaces */
      userns = -1;
  }
  if (userns < 0) {
    printf("namespaces refused (unshare: %s): plain fork() children "
           "instead\n", strerror(err));
    CHECKF(err == EPERM || err == EINVAL || err == ENOSPC || err == ENOSYS,
           "unshare: %s", strerror(err));
    return cases();
  }
  if (userns) {
    char map[64];
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
    write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
    write_file("/proc/self/gid_map", map);
  }
  fflush(stdout);
  pid_t init = fork();
  CHECK(init >= 0);
  if (init == 0) {
    CHECKF(getpid() == 1, "the namespace's first process is pid %d",
           (int)getpid());
    nested = 1;
    printf("in a new pid namespace%s: pid 1\n",
           userns ? " (and user namespace)" : "");
    exit(cases());
  }
  int status;
  CHECK(waitpid(init, &status, 0) == init);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "the namespace's init failed: status %d", status);
  return 0;
}
