// labels: gc
/* sgc_disable stops automatic collections (num_gc does not move while the
 * program allocates a lot; nested: two disables need two enables), while
 * sgc_collect still collects; sgc_enable resumes them.  After sgc_collect
 * the per-cycle figures are sane: num_gc + 1, a non-zero pause that adds
 * up in total_pause_ns, max_pause_ns >= last, a mark no longer than the
 * stops and the concurrent phase, last_heap_after about the
 * live bytes, last_marked_objects at least the live objects.
 * SPANGC_DEBUG=gctrace=1 prints two lines per collection on stderr, one
 * starting with "gc <n> " and the heap's, "heap <n>: arena " (checked on
 * a child process through a pipe). */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

#define OBJ 1024
#define NLIVE (10 * 1024) /* 10 MiB live */

void **volatile g_live;

static void *nothing(void *arg) { return arg; }

static uint64_t num_gc(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

__attribute__((noinline)) static void garbage(long bytes) {
  for (long done = 0; done < bytes; done += OBJ) {
    char *volatile p = sgc_alloc(OBJ);
    CHECK(p != NULL);
    p[0] = 1;
  }
}

/* The child of the gctrace check: exactly 5 collections. */
static int child(void) {
  sgc_init();
  sgc_disable();
  for (int i = 0; i < 5; i++) {
    garbage(1 << 20);
    sgc_collect();
  }
  return 0;
}

static void check_gctrace(const char *self) {
  int fd[2];
  CHECK(pipe(fd) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fd[1], 2);
    close(fd[0]);
    close(fd[1]);
    setenv("SPANGC_DEBUG", "gctrace=1", 1);
    execl(self, self, "gctrace-child", (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  char buf[16384];
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd[0], buf + n, sizeof buf - 1 - n);
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  buf[n] = 0;
  close(fd[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "gctrace child failed: %s", buf);
  int lines = 0, heaplines = 0;
  for (char *line = buf, *next; *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = 0;
    else
      next = line + strlen(line);
    if (strncmp(line, "heap ", 5) == 0) {
      heaplines++;
      CHECKF(atoi(line + 5) == heaplines && strstr(line, ": arena "),
             "gctrace heap line %d reads \"%s\"", heaplines, line);
      continue;
    }
    if (strncmp(line, "gc ", 3) != 0)
      continue;
    lines++;
    CHECKF(atoi(line + 3) == lines, "gctrace line %d reads \"%s\"", lines,
           line);
  }
  CHECKF(lines == 5, "%d gctrace lines for 5 collections; stderr was:\n%s",
         lines, buf);
  CHECKF(heaplines == 5, "%d gctrace heap lines for 5 collections", heaplines);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "gctrace-child") == 0)
    return child();
  /* Before sgc_init: no threads of the collector exist yet. */
  check_gctrace("/proc/self/exe");

  sgc_init();
  g_live = sgc_alloc(NLIVE * sizeof(void *));
  CHECK(g_live != NULL);
  for (long i = 0; i < NLIVE; i++) {
    g_live[i] = sgc_alloc(OBJ);
    CHECK(g_live[i] != NULL);
  }

  /* Disabled: no automatic collection however much is allocated. */
  long lots = scaled(400L << 20);
  sgc_disable();
  sgc_disable();
  /* A collection under way when sgc_disable came finishes (a concurrent
   * one, SPANGC_CONCURRENT=1: the allocations above may have started
   * one), and sgc_read_stats does not wait for it: wait for it here
   * (sgc_call_without_collections waits for a collection's end), or it
   * ends during the garbage and counts as one "while disabled" (make
   * check's conc configuration, 5 runs in 8, once sgc_read_stats stopped
   * waiting). */
  sgc_call_without_collections(nothing, NULL);
  uint64_t n0 = num_gc();
  garbage(lots);
  CHECKF(num_gc() == n0, "%llu collections while disabled",
         (unsigned long long)(num_gc() - n0));
  sgc_enable(); /* still disabled once */
  garbage(lots);
  CHECKF(num_gc() == n0, "%llu collections while disabled (nested)",
         (unsigned long long)(num_gc() - n0));

  /* sgc_collect works while disabled, and fills in the figures. */
  sgc_stats a, b;
  sgc_read_stats(&a);
  sgc_collect();
  sgc_read_stats(&b);
  CHECK(b.num_gc == a.num_gc + 1);
  CHECKF(b.last_pause_ns > 0 && b.last_pause_ns < 10000000000ull,
         "last pause %llu ns", (unsigned long long)b.last_pause_ns);
  CHECK(b.total_pause_ns == a.total_pause_ns + b.last_pause_ns);
  CHECK(b.max_pause_ns >= b.last_pause_ns);
  CHECK(b.max_pause_ns >= a.max_pause_ns);
  /* A concurrent collection (SPANGC_CONCURRENT=1, a mark expected to
   * take 2 ms or more) marks outside its stops too. */
  CHECKF(b.last_mark_ns <=
             b.last_pause_ns + (b.concurrent_mark_ns - a.concurrent_mark_ns),
         "mark %llu ns, stops %llu ns, concurrent phase %llu ns",
         (unsigned long long)b.last_mark_ns,
         (unsigned long long)b.last_pause_ns,
         (unsigned long long)(b.concurrent_mark_ns - a.concurrent_mark_ns));
  CHECK(b.total_mark_ns >= b.last_mark_ns);
  uint64_t live = (uint64_t)NLIVE * OBJ + NLIVE * sizeof(void *);
  CHECKF(b.last_heap_after >= live && b.last_heap_after < live + (8u << 20),
         "last_heap_after %llu for %llu bytes live",
         (unsigned long long)b.last_heap_after, (unsigned long long)live);
  CHECKF(b.last_heap_before >= b.last_heap_after,
         "heap before %llu < after %llu",
         (unsigned long long)b.last_heap_before,
         (unsigned long long)b.last_heap_after);
  CHECKF(b.last_heap_before >= (uint64_t)lots,
         "heap before the collection %llu, though %ld bytes were allocated "
         "since the last one", (unsigned long long)b.last_heap_before,
         2 * lots);
  CHECKF(b.last_marked_objects >= NLIVE + 1, "%llu objects marked",
         (unsigned long long)b.last_marked_objects);
  CHECK(b.next_gc >= b.last_heap_after);
  CHECK(b.gcpercent == 100);

  /* Enabled again: allocation triggers collections by itself. */
  sgc_enable();
  n0 = num_gc();
  garbage(scaled(200L << 20));
  CHECKF(num_gc() > n0, "no automatic collection after sgc_enable");
  /* An extra enable does not go below zero (stays enabled). */
  sgc_enable();
  n0 = num_gc();
  garbage(scaled(200L << 20));
  CHECK(num_gc() > n0);

  for (long i = 0; i < NLIVE; i++)
    CHECK(sgc_base(g_live[i]) == g_live[i]);
  return 0;
}
