// labels: gc
/* A daemon-like program closes every descriptor >= 3 after collections
 * have run (close_range, or a loop where the kernel lacks it), including
 * the collector's own (its userfaultfd and pagemap file, kept at 512 and
 * up), then opens pipes until its descriptors pass 514, reusing those
 * numbers.  It keeps allocating through many collections (minor ones
 * with generations).  Its descriptors 505..520 must stay its own: the
 * same file (/proc/self/fd/N reads the same), and a byte written into
 * each pipe comes out of the other end.  Young objects stored into an
 * old structure survive the collections.
 * Catches: a collector that finds its descriptors "lost" and closes the
 * numbers it remembers (the program's files now) or goes on using them
 * (ioctl on the program's pipe), or reopens into them. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NH 32
#define NS 8
#define FIRST 505
#define LAST 520

typedef struct holder {
  void *slot[NS];
} holder;

holder *volatile g_hold[NH];
static uint64_t tags[NH][NS]; /* not pointers */
static int other_end[LAST + 2]; /* the pipe's other descriptor */
static int is_write_end[LAST + 2];
static char target[LAST + 2][128]; /* readlink of /proc/self/fd/N */

static void link_of(int fd, char *out, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, out, size - 1);
  if (n < 0)
    snprintf(out, size, "(closed: %s)", strerror(errno));
  else
    out[n] = 0;
}

__attribute__((noinline)) static void store(int r) {
  for (int h = 0; h < NH; h++) {
    uint64_t tag = 0xd1e7000000000000ull | ((uint64_t)r << 16) | (uint64_t)h;
    uint64_t *y = sgc_alloc(64);
    CHECK(y != NULL);
    for (int k = 0; k < 8; k++)
      y[k] = tag ^ (uint64_t)k;
    tags[h][r % NS] = tag;
    g_hold[h]->slot[r % NS] = y;
  }
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

/* Every descriptor of ours still names the file it named, and its pipe
 * carries a byte. */
static void check_files(const char *when) {
  for (int fd = FIRST; fd <= LAST; fd++) {
    char now[128];
    link_of(fd, now, sizeof now);
    CHECKF(strcmp(now, target[fd]) == 0,
           "%s: the program's descriptor %d was %s, is now %s", when, fd,
           target[fd], now);
  }
  for (int fd = FIRST; fd <= LAST; fd++) {
    int w = is_write_end[fd] ? fd : other_end[fd];
    int r = is_write_end[fd] ? other_end[fd] : fd;
    char c = (char)fd, got = 0;
    CHECKF(write(w, &c, 1) == 1, "%s: write(%d): %s", when, w,
           strerror(errno));
    CHECKF(read(r, &got, 1) == 1 && got == c, "%s: read(%d): %s", when, r,
           strerror(errno));
  }
}

int main(void) {
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (rl.rlim_cur < 1024) {
    rl.rlim_cur = rl.rlim_max < 1024 ? rl.rlim_max : 1024;
    setrlimit(RLIMIT_NOFILE, &rl);
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  }
  CHECKF(rl.rlim_cur > LAST + 16, "descriptor limit %llu too low",
         (unsigned long long)rl.rlim_cur);

  sgc_init();
  for (int h = 0; h < NH; h++) {
    g_hold[h] = sgc_alloc(sizeof(holder));
    CHECK(g_hold[h] != NULL);
  }
  clear_stack();
  sgc_collect(); /* the holders are old */
  run_minors(3); /* the collector's descriptors are open and in use */
  int gen = generational();
  char ours[2][128];
  link_of(512, ours[0], sizeof ours[0]);
  link_of(513, ours[1], sizeof ours[1]);

  /* Close everything >= 3, as daemons do. */
  if (syscall(SYS_close_range, 3u, ~0u, 0) != 0)
    for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
      close(fd);
  /* Open pipes until the numbers up to LAST + 1 are the program's. */
  for (;;) {
    int p[2];
    CHECKF(pipe(p) == 0, "pipe: %s", strerror(errno));
    if (p[0] <= LAST + 1) {
      other_end[p[0]] = p[1];
      is_write_end[p[0]] = 0;
    }
    if (p[1] <= LAST + 1) {
      other_end[p[1]] = p[0];
      is_write_end[p[1]] = 1;
    }
    if (p[0] > LAST && p[1] > LAST)
      break;
  }
  for (int fd = FIRST; fd <= LAST; fd++)
    link_of(fd, target[fd], sizeof target[fd]);
  check_files("before collecting");

  sgc_stats a, b;
  sgc_read_stats(&a);
  uint64_t minors = 0;
  int rounds = (int)scaled(6);
  for (int r = 0; r < rounds; r++) {
    store(r);
    clear_stack();
    minors += run_minors(4);
    CHECKF(lost() == 0, "round %d: %d young objects lost", r, lost());
    check_files("after collections");
  }
  sgc_read_stats(&b);
  printf("collector's descriptors were 512 -> %s, 513 -> %s; the program's "
         "%d..%d kept their files through %llu collections (%llu minor, "
         "generational %d)\n",
         ours[0], ours[1], FIRST, LAST,
         (unsigned long long)(b.num_gc - a.num_gc), (unsigned long long)minors,
         gen);
  if (gen)
    CHECKF(minors >= (uint64_t)rounds, "only %llu minor collections",
           (unsigned long long)minors);
  return 0;
}
