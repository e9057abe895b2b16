// labels: world
/* fork() while a thread is registering, inside the allocator of thread
 * records.  A thread takes that allocator's lock before it is on the
 * thread list (registering) and after it left it (unregistering), where
 * the fork barrier does not reach it; the fork handlers did not take the
 * lock, so a fork at that moment gave the child the lock held by a thread
 * that does not exist there, and the child hung in its own fork handler
 * as it freed the other threads' records (world_fork_while_threads_exit
 * hung 1 run in 65 under load: a thread exiting was preempted inside
 * fixalloc_free).
 *
 * Here the window is made wide: this program's own mmap (which the static
 * library's calls bind to) sleeps 150 ms when the registering thread maps
 * a 64 KiB chunk, which the thread-record allocator does under its lock
 * when its chunk is used up (as does the caches' allocator, whose lock
 * the fork handlers take).  Threads register one after the other, kept
 * alive so the chunks run out, and each time one sleeps in that mmap the
 * main thread forks; each child must come out of fork, collect and
 * allocate.  Not run under a sanitizer: it replaces mmap, which the
 * sanitizers intercept. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define CHUNK (64 << 10) /* fixalloc's chunk */
#define NTHREADS 32 /* enough for a few chunks of thread records */

static atomic_int slow_tid;  /* the thread whose chunk mappings sleep */
static atomic_int in_map;    /* that thread sleeps in one now */
static atomic_int slowed;    /* how many times it did */

#if !TEST_ASAN && !TEST_TSAN
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (len == CHUNK && (int)syscall(SYS_gettid) == atomic_load(&slow_tid)) {
    atomic_fetch_add(&slowed, 1);
    atomic_store(&in_map, 1);
    struct timespec ts = {0, 150 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
    atomic_store(&in_map, 0);
  }
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
#endif

static atomic_int registered; /* threads done registering */
static int release_fds[2];    /* closed at the end: the threads return */

static void wait_release(void) {
  char c;
  sgc_enter_blocking();
  while (read(release_fds[0], &c, 1) < 0 && errno == EINTR)
    ;
  sgc_exit_blocking();
}

static void *registrant(void *arg) {
  (void)arg;
  atomic_store(&slow_tid, (int)syscall(SYS_gettid));
  CHECK(sgc_register_thread() == 0);
  atomic_store(&slow_tid, 0);
  atomic_fetch_add(&registered, 1);
  void *volatile p = sgc_alloc(64);
  (void)p;
  wait_release(); /* stays registered: later threads need new records */
  return NULL;
}

/* Fork now; the child must come out of fork and use its heap. */
static void fork_and_check(int k) {
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    alarm(20);
    sgc_collect();
    void *volatile q = NULL;
    for (int i = 0; i < 100; i++)
      q = sgc_alloc(48);
    (void)q;
    sgc_collect();
    _exit(0);
  }
  /* A child hung inside fork() cannot set an alarm: time it out here. */
  int st = 0;
  CHECKF(wait_child_within(pid, 10, &st),
         "fork %d, while a thread was registering: the child hung for "
         "10 s (in its fork handlers?)", k);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
         "fork %d: child status %#x", k, st);
}

int main(void) {
  if (TEST_ASAN || TEST_TSAN) {
    puts("skipped under a sanitizer (the test replaces mmap)");
    return 0;
  }
  sgc_init();
  CHECK(pipe(release_fds) == 0);
  pthread_t t[NTHREADS];
  int forks = 0, seen = 0;
  for (int i = 0; i < NTHREADS; i++) {
    CHECK(pthread_create(&t[i], NULL, registrant, NULL) == 0);
    /* Until it registered: fork once in each sleeping chunk mapping (the
     * caches' and the records' may come one after the other). */
    while (atomic_load(&registered) < i + 1) {
      if (atomic_load(&in_map)) {
        int s = atomic_load(&slowed);
        if (s != seen) {
          seen = s;
          fork_and_check(forks++);
        }
      }
      sched_yield();
    }
  }
  close(release_fds[1]);
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(t[i], NULL);
  CHECKF(forks >= 2, "only %d forks during slow chunk mappings", forks);
  printf("%d threads registered; %d forks while one mapped a chunk (%d "
         "slowed mappings)\n", NTHREADS, forks, atomic_load(&slowed));
  return 0;
}
