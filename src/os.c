/*
 * os.c — every conversation with the operating system about memory, and
 * the start of the collector's own background threads.
 *
 * The heap reserves one large range of address space (PROT_NONE,
 * MAP_NORESERVE) and commits it in chunks as it grows; metadata comes from
 * separate anonymous mappings.  Free pages are given back with
 * madvise(MADV_DONTNEED), after which they read as zero; many runs at once
 * with process_madvise (os_release_runs; gathered by an os_runs set).
 *
 * Fault injection: with SPANGC_FAIL_MMAP=N in the environment, the Nth
 * request that asks the OS for memory (commit or alloc, counted from 1)
 * fails as if the OS had refused; with N+, that one and every later one
 * (memory that has run out: an allocation collects and tries again first,
 * so a single refusal no longer fails one).  Tests move the point with
 * os_fault_injection_set.  The counter and the point are atomic.
 *
 * Thread starts: 'starts' counts the threads made by os_start_detached or
 * sgc_pthread_create that have not yet reached their start function
 * (atomic; a fork bars new ones and waits for those under way:
 * os_atfork).  design.md: rule:fork-waits-for-starts.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "spangc-int.h"

static uint64_t fail_at;   /* atomic; 0: never */
static int fail_on;        /* atomic: every request from fail_at fails */
static uint64_t nrequests; /* atomic */

void os_init_fault_injection(void) {
  const char *e = sgc_option("SPANGC_FAIL_MMAP");
  if (e && *e) {
    char *end;
    uint64_t n = strtoull(e, &end, 10);
    os_fault_injection_set(n, *end == '+');
  }
}

void os_fault_injection_set(uint64_t at, bool onwards) {
  ATOMIC_STORE(&fail_on, onwards ? 1 : 0);
  ATOMIC_STORE(&fail_at, at);
}

static bool injected_failure(void) {
  uint64_t n = ATOMIC_ADD(&nrequests, 1);
  uint64_t at = ATOMIC_LOAD_RELAXED(&fail_at);
  return at != 0 && (n == at || (n > at && ATOMIC_LOAD_RELAXED(&fail_on)));
}

uint64_t os_requests(void) { return ATOMIC_LOAD(&nrequests); }

void *os_reserve(size_t size) {
  void *p = mmap(NULL, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

bool os_commit(void *addr, size_t size) {
  if (injected_failure())
    return false;
  return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0;
}

/* The reservation's pages covering the bytes [lo, hi) of a table (the
 * heap's per-page tables, allspans): a page the entries share with
 * their neighbours' is committed already, and committing twice is
 * harmless. */
bool os_commit_covering(const void *lo, const void *hi) {
  uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)lo & ~(pg - 1);
  uintptr_t b = ((uintptr_t)hi + pg - 1) & ~(pg - 1);
  return os_commit((void *)a, b - a);
}

static bool file_id_of(int r, const struct stat *st, os_file_id *id) {
  if (r != 0)
    return false;
  id->dev = (uint64_t)st->st_dev;
  id->ino = (uint64_t)st->st_ino;
  return true;
}

bool os_fd_id(int fd, os_file_id *id) {
  struct stat st;
  return fd >= 0 && file_id_of(fstat(fd, &st), &st, id);
}

bool os_path_id(const char *path, os_file_id *id) {
  struct stat st;
  return file_id_of(stat(path, &st), &st, id);
}

bool os_fd_is(int fd, os_file_id id) {
  os_file_id now;
  return os_fd_id(fd, &now) && os_same_file(now, id);
}

void *os_alloc(size_t size) {
  if (injected_failure())
    return NULL;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void os_free(void *addr, size_t size) { munmap(addr, size); }

static uint64_t nrelease_calls; /* atomic */

uint64_t os_release_calls(void) { return ATOMIC_LOAD(&nrelease_calls); }

void os_release(void *addr, size_t size) {
  ATOMIC_ADD(&nrelease_calls, 1);
  madvise(addr, size, MADV_DONTNEED);
}

/* Many runs in one call.  Each madvise ends with a flush of the TLBs of
 * every CPU running a thread of the process: on this paravirtualised
 * guest, with the program running on the other CPU, 80-90 us a call,
 * most of the cost of releasing a heap of small free runs (the shrink
 * run's 900 MB of 72 KiB runs took 0.9 s, the scavenger's time nearly
 * all in that flush).  process_madvise with the calling process's own
 * pidfd accepts MADV_DONTNEED since Linux 6.13 and flushes once for the
 * whole vector since 6.16: 230 MB of such runs, 290 ms one by one, 36 ms
 * 64 at a time.  PIDFD_SELF_THREAD_GROUP (6.15) names the process
 * without holding a descriptor.  A refusal (an older kernel: EINVAL,
 * EBADF, ENOSYS; a seccomp filter: EPERM) turns it off for good and the
 * runs go one by one (os_release_batch_refusal says why); a short count
 * (the kernel stops at about 2 GiB, or at a run it could not advise)
 * sends the rest to another call. */
#define PIDFD_SELF_THREAD_GROUP_ (-10001)
#define RELEASE_IOV_MAX 1024 /* the kernel's UIO_MAXIOV */
static int batch_refusal; /* atomic: the errno that turned batching off */

int os_release_batch_refusal(void) {
  return ATOMIC_LOAD_RELAXED(&batch_refusal);
}

void os_release_runs(const struct iovec *run, size_t n) {
  int saved = errno; /* a refusal is no failure of the caller's call */
  size_t k = 0;
  /* The kernel advises at most about 2 GiB a call: what it did not reach
   * goes to another call, the run it cut short by itself. */
  while (n - k > 1 && n - k <= RELEASE_IOV_MAX &&
         !ATOMIC_LOAD_RELAXED(&batch_refusal)) {
    ATOMIC_ADD(&nrelease_calls, 1);
    long r = syscall(SYS_process_madvise, PIDFD_SELF_THREAD_GROUP_, run + k,
                     n - k, MADV_DONTNEED, 0);
    if (r < 0) {
      if (errno != ENOMEM && errno != EAGAIN && errno != EINTR)
        ATOMIC_STORE_RELAXED(&batch_refusal, errno);
      break;
    }
    if (r == 0)
      break;
    size_t done = (size_t)r;
    for (; k < n && done >= run[k].iov_len; k++)
      done -= run[k].iov_len;
    if (k < n && done != 0) {
      os_release((char *)run[k].iov_base + done, run[k].iov_len - done);
      k++;
    }
  }
  for (; k < n; k++)
    os_release(run[k].iov_base, run[k].iov_len);
  errno = saved;
}

void os_runs_flush(os_runs *r) {
  os_release_runs(r->run, r->n);
  r->n = 0;
}

void os_runs_add(os_runs *r, uintptr_t addr, uintptr_t len) {
  if (r->n == OS_RUNS)
    os_runs_flush(r);
  r->run[r->n].iov_base = (void *)addr;
  r->run[r->n].iov_len = len;
  r->n++;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
static int populate_off; /* atomic: the kernel refused the advice */

/* Make the pages of [addr, addr+size) resident and writable in one call:
 * on a paravirtualised guest each first-touch fault costs 9-14 us a page
 * (the page-table update traps), one call 5-7 us a page, 8 KiB at a time
 * as at 1 MiB.  Only an optimisation: a refusal (an older kernel, no
 * memory now) leaves the pages to be faulted in on first touch, as
 * before; ENOMEM is not remembered. */
void os_populate(void *addr, size_t size) {
  if (ATOMIC_LOAD_RELAXED(&populate_off))
    return;
  if (madvise(addr, size, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
    ATOMIC_STORE_RELAXED(&populate_off, 1);
}

uint64_t os_nanotime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Yielding alone is no wait for a thread at real-time priority: it gives
 * its CPU to no ordinary thread, and the one it waits for, ordinary and on
 * the same CPU, would run only when the kernel's real-time throttling
 * stops the waiter (about 50 ms a second: an sgc_free waited 3 s for a
 * sweep of 100 ms, sweep_free_waits_sleep_beside_a_realtime_thread).  So
 * after OS_WAIT_YIELDS yields (what a wait on a thread running on another
 * CPU takes), each step sleeps OS_WAIT_SLEEP_NS. */
#define OS_WAIT_YIELDS 64
#define OS_WAIT_SLEEP_NS 50000
void os_wait_step(unsigned *n) {
  if (*n < OS_WAIT_YIELDS) {
    (*n)++;
    sched_yield();
    return;
  }
  struct timespec ts = {0, OS_WAIT_SLEEP_NS};
  nanosleep(&ts, NULL);
}

/* ------------------------------------------------------ thread starts */

/* Between pthread_create and its start function a new thread runs the
 * C library's and a sanitizer runtime's set-up, which allocate (its
 * stack's attributes, a sanitizer's thread record).  glibc forks its own
 * malloc safely, but an allocator that does not (the allocator of clang
 * 14's AddressSanitizer) leaves a fork child a lock that such a thread
 * held, and the child hangs at its next allocation of that size.  So a
 * fork waits until no thread the runtime made is in that stretch.
 *
 * No lock: a creator may be a mutator outside any no-preempt region,
 * which must not be stopped holding one (rule:no-stop-holding-lock).
 * The creator counts itself in, then looks for a fork; the forking
 * thread raises its flag, then looks at the count (both sequentially
 * consistent): either the creator sees the flag, counts itself out and
 * waits for the fork's end, or the fork sees the count and waits for the
 * start to reach its function.  Both waits are short sleeps: forks and
 * thread starts are rare. */
static int starts;         /* atomic: threads between create and start */
static int starts_barred;  /* atomic: a fork is under way */

static void starts_nap(void) {
  struct timespec ts = {0, 50000};
  nanosleep(&ts, NULL);
}

void (*os_test_starting)(int counted);

static void os_thread_starting(void) {
  for (;;) {
    /* Atomic: a test sets and clears it while threads start (TSan). */
    void (*hook)(int) = ATOMIC_LOAD(&os_test_starting);
    if (hook)
      hook(0);
    __atomic_add_fetch(&starts, 1, __ATOMIC_SEQ_CST);
    hook = ATOMIC_LOAD(&os_test_starting);
    if (hook)
      hook(1);
    if (!__atomic_load_n(&starts_barred, __ATOMIC_SEQ_CST))
      return;
    __atomic_sub_fetch(&starts, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&starts_barred, __ATOMIC_SEQ_CST))
      starts_nap();
  }
}

void os_thread_started(void) {
  int was = __atomic_fetch_sub(&starts, 1, __ATOMIC_SEQ_CST);
  SGC_ASSERT(was > 0);
  (void)was;
}

int os_thread_create(pthread_t *t, const pthread_attr_t *a,
                     void *(*fn)(void *), void *arg) {
  os_thread_starting();
  int err = pthread_create(t, a, fn, arg);
  if (err != 0)
    os_thread_started(); /* no thread will */
  return err;
}

/* Prepare (the last handler): bar new starts, wait for those under way
 * (they need nothing the fork holds to reach their function); the
 * parent and the child lift the bar.  The child first sets the count to
 * zero: a creator that arrived after the wait counts itself in and out
 * again, and a fork between the two gave the child a count of one that
 * no thread there would take back, so the child's own next fork waited
 * for ever (helper-58, holding a creator there with gdb;
 * world_fork_child_forks_again_after_a_creator_counted_in). */
void os_atfork(int phase) {
  if (phase == FORK_PREPARE) {
    __atomic_store_n(&starts_barred, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&starts, __ATOMIC_SEQ_CST) != 0)
      starts_nap();
    return;
  }
  if (phase == FORK_CHILD)
    __atomic_store_n(&starts, 0, __ATOMIC_SEQ_CST); /* only this thread */
  __atomic_store_n(&starts_barred, 0, __ATOMIC_SEQ_CST);
}

/* Handing fn, arg and the name to the new thread: a slot here, not the
 * C heap.  The new thread runs while a stop may hold threads that own
 * the allocator's arena locks: a free() there (its first, which sets up
 * its cache) waited for such a lock, and a collection waited for that
 * marker helper for ever (the adversarial review of session 51, one run
 * in 40 with mallocing threads and one arena). */
#define DETACHED_SLOTS 128
static struct {
  int used; /* atomic */
  void *(*fn)(void *);
  void *arg;
  const char *name;
} detached_slots[DETACHED_SLOTS] SGC_NOGC;

static void *detached_main(void *p) {
  int k = (int)(intptr_t)p;
  void *(*fn)(void *) = detached_slots[k].fn;
  void *arg = detached_slots[k].arg;
  const char *name = detached_slots[k].name;
  ATOMIC_STORE(&detached_slots[k].used, 0);
  /* Named for top, ps -L, gdb and /proc/<pid>/task/<tid>/comm. */
  prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
  os_thread_started();
  return fn(arg);
}

static int detached_slot_take(void) {
  unsigned n = 0;
  for (;;) {
    for (int k = 0; k < DETACHED_SLOTS; k++)
      if (!ATOMIC_LOAD_RELAXED(&detached_slots[k].used) &&
          !__atomic_exchange_n(&detached_slots[k].used, 1, __ATOMIC_ACQUIRE))
        return k;
    os_wait_step(&n); /* as many threads starting at once: rare */
  }
}

/* Start fn(arg) on a new detached thread named 'name' (at most 15
 * characters: the kernel's limit), with a stack of stack_size bytes (0:
 * the default).  Returns 0, or the error pthread_create (or the
 * attributes) reported, typically EAGAIN when threads or memory run out:
 * then nothing was started and the caller goes on without the thread,
 * saying what that costs.  The thread starts with every signal blocked
 * but the synchronous ones and the suspend signal (signals_block_program)
 * and is not registered with the collector: fn registers itself if it
 * must take part in stops.  Never called in a stop: pthread_create takes
 * libc locks a stopped thread may hold; nor does the new thread touch
 * the C heap before fn (detached_slots). */
int os_start_detached(void *(*fn)(void *), void *arg, size_t stack_size,
                      const char *name) {
  pthread_attr_t a;
  pthread_t t;
  int err = pthread_attr_init(&a);
  if (err != 0)
    return err;
  err = pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  if (err == 0 && stack_size != 0)
    err = pthread_attr_setstacksize(&a, stack_size);
  int k = detached_slot_take();
  detached_slots[k].fn = fn;
  detached_slots[k].arg = arg;
  detached_slots[k].name = name;
  /* Born with the program's signals blocked (signals_block_program): a
   * handler of the program's on one of these threads could hold an
   * object in its frame while a stop skips the stack (noroots), and the
   * program expects its signals on its own threads anyway.  Blocked here
   * and inherited, so no signal lands before the new thread could block
   * it; the suspend signal stays deliverable to this thread, which
   * pthread_create may keep waiting for a C library lock a stopped thread
   * holds (blocking it too hung a collection: the same review). */
  sigset_t old;
  signals_block_program(&old);
  if (err == 0)
    err = os_thread_create(&t, &a, detached_main, (void *)(intptr_t)k);
  signals_restore_mask(&old);
  if (err != 0)
    ATOMIC_STORE(&detached_slots[k].used, 0);
  pthread_attr_destroy(&a);
  return err;
}
