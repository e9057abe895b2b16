/* gctest.h — helpers shared by the collector tests. */
#ifndef SPANGC_TEST_GCTEST_H
#define SPANGC_TEST_GCTEST_H
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "spangc.h"

/* Waits a registered thread does on the program's own locks go inside a
 * blocking region: a collection does not then wait for the waiter (whose
 * lock may be held by a stopped thread).  Natively the suspend signal
 * interrupts such waits anyway; ThreadSanitizer holds signals back inside
 * pthread_mutex_lock and pthread_barrier_wait, so without this a stop can
 * wait for ever.  The critical section itself runs outside the region:
 * heap pointers must not be moved inside one. */
static inline void lock_blocking(pthread_mutex_t *m) {
  sgc_enter_blocking();
  pthread_mutex_lock(m);
  sgc_exit_blocking();
}
static inline void barrier_blocking(pthread_barrier_t *b) {
  sgc_enter_blocking();
  pthread_barrier_wait(b);
  sgc_exit_blocking();
}

/* Wait for a forked child, at most 'seconds' by the clock (naps are
 * stretched on a loaded machine), in a blocking region so collections do
 * not wait for the waiter.  True with its status in *st; false if it was
 * still running, after killing it (a child hung in its fork handlers
 * cannot set an alarm of its own). */
static inline int wait_child_within(pid_t pid, int seconds, int *st) {
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t r;
  sgc_enter_blocking();
  while ((r = waitpid(pid, st, WNOHANG)) == 0) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - t0.tv_sec) * 1000000000L + (now.tv_nsec - t0.tv_nsec) >=
        seconds * 1000000000L)
      break;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  sgc_exit_blocking();
  if (r == pid)
    return 1;
  if (r < 0) {
    perror("waitpid");
    abort();
  }
  kill(pid, SIGKILL);
  waitpid(pid, st, 0);
  return 0;
}

/* Collect until what died has been finalized: each round collects (the
 * sweep queues the finalizers of dead objects), then runs what is queued;
 * objects a finalizer kept alive one cycle go in the next round. */
static inline void settle(void) {
  for (int k = 0; k < 3; k++) {
    sgc_collect();
    sgc_collect();
    sgc_wait_finalizers();
    sgc_run_finalizers();
  }
}

/* A fiber that touches 2 KiB of its stack, switches to the thread's own
 * stack and stays suspended for good (a dropped one is garbage holding a
 * stack).  arg: the fiber to switch to (the creator's sgc_fiber_self()). */
__attribute__((unused)) static void fiber_touch_and_park(void *arg) {
  volatile char buf[2048];
  memset((char *)buf, 1, sizeof buf);
  sgc_fiber_switch((sgc_fiber *)arg);
}

/* Overwrite the dead part of the stack so that stale copies of pointers
 * made by earlier calls do not linger there (a conservative collector
 * would keep their objects). */
__attribute__((noinline, unused)) static void clear_stack(void) {
  char buf[32 << 10];
  memset(buf, 0, sizeof buf);
  /* The barrier makes the stores observable: without it the compiler
   * drops the memset of a dead array (it did, with buf volatile and the
   * qualifier cast away: the function compiled to nothing). */
  __asm__ volatile("" : : "r"(buf) : "memory");
}

/* Generational collection: the number of minor collections so far, and
 * whether they are on (sgc_stats.generational). */
static inline uint64_t minor_count(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_minor_gc;
}
static inline int generational(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.generational;
}

/* A word no heap address has: what run_minors' garbage is filled with, so
 * that a live object whose slot was wrongly reused is seen corrupted. */
#define GARBAGE_WORD 0x6a72626701234567ull

/* Allocate garbage (scanned objects of 'size' bytes, every word
 * GARBAGE_WORD) until n more collections triggered by allocation ran:
 * minor ones when generations are on (stops after 8n + 16 collections of
 * any kind if the policy keeps choosing major ones; the caller checks the
 * count).  Never calls sgc_collect.  Returns the number of minor
 * collections that ran. */
__attribute__((noinline, unused)) static uint64_t
run_minors_sized(int n, size_t size) {
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t m0 = st.num_minor_gc, g0 = st.num_gc;
  int gen = st.generational;
  for (long i = 1;; i++) {
    uint64_t *p = (uint64_t *)sgc_alloc(size);
    if (p != NULL)
      for (size_t w = 0; w < size / sizeof *p; w++)
        p[w] = GARBAGE_WORD;
    if ((i & 1023) == 0) {
      sgc_read_stats(&st);
      if (gen ? st.num_minor_gc - m0 >= (uint64_t)n
              : st.num_gc - g0 >= (uint64_t)n)
        break;
      if (st.num_gc - g0 >= 8 * (uint64_t)n + 16)
        break;
    }
  }
  return st.num_minor_gc - m0;
}
static inline uint64_t run_minors(int n) { return run_minors_sized(n, 64); }

/* Sweep what the last collection left unswept (automatic collections
 * sweep lazily): the finalizers of what it found dead are queued then. */
static inline void finish_sweep(void) {
  while (sgc_collect_a_little())
    ;
}
/* A tagged young object for the generational tests: a 64-byte scanned
 * object holding its tag, the tag's complement, a pointer to a 32-byte
 * pointer-free child and words derived from the tag, so that a lost
 * object, a reused slot or a lost child shows as a wrong word.  NULL when
 * either allocation fails (tests of the heap limit count those). */
__attribute__((unused)) static uint64_t *tagged_try_new(uint64_t tag) {
  uint64_t *y = (uint64_t *)sgc_alloc(64);
  uint64_t *c = y ? (uint64_t *)sgc_alloc_noscan(32) : NULL;
  if (c == NULL)
    return NULL;
  c[0] = ~tag;
  c[1] = tag * 7;
  c[2] = tag ^ 0x5555;
  c[3] = tag + 1;
  y[0] = tag;
  y[1] = ~tag;
  y[2] = (uint64_t)(uintptr_t)c;
  for (int w = 3; w < 8; w++)
    y[w] = tag * (uint64_t)w;
  return y;
}

/* tagged_try_new, aborting, saying so, when memory runs out. */
__attribute__((unused)) static uint64_t *tagged_new(uint64_t tag) {
  uint64_t *y = tagged_try_new(tag);
  if (y == NULL) {
    fprintf(stderr, "tagged_new: out of memory\n");
    abort();
  }
  return y;
}

/* Whether y is still the object tagged_new(tag) made, child included. */
__attribute__((unused)) static int tagged_intact(const uint64_t *y,
                                                 uint64_t tag) {
  if (y == NULL || sgc_base(y) != y || y[0] != tag || y[1] != ~tag)
    return 0;
  for (int w = 3; w < 8; w++)
    if (y[w] != tag * (uint64_t)w)
      return 0;
  const uint64_t *c = (const uint64_t *)(uintptr_t)y[2];
  return c != NULL && sgc_base(c) == c && c[0] == ~tag && c[1] == tag * 7 &&
         c[2] == (tag ^ 0x5555) && c[3] == tag + 1;
}

/* ---- mostly-concurrent marking (the conc_ tests) ---------------------- */

/* SPANGC_CONCURRENT=1 forced, then sgc_init.  Returns 0, having said
 * "skipped", where major collections cannot mark concurrently here (no
 * write tracking in this kernel): the test passes without running. */
__attribute__((unused)) static int conc_init_or_skip(void) {
  setenv("SPANGC_CONCURRENT", "1", 1);
  sgc_init();
  sgc_stats st;
  sgc_read_stats(&st);
  if (!st.concurrent) {
    printf("skipped: no concurrent marking here (write tracking: %d)\n",
           st.dirty_tracking);
    return 0;
  }
  return 1;
}

/* conc_init_or_skip, and skipped too without generations. */
__attribute__((unused)) static int conc_gen_init_or_skip(void) {
  if (!conc_init_or_skip())
    return 0;
  if (!generational()) {
    printf("skipped: generations are off\n");
    return 0;
  }
  return 1;
}

/* SPANGC_CONCURRENT=0 forced (majors stop the world), then sgc_init.
 * Returns 0, having said "skipped", without generations: for the tests
 * of the generational policy's stop-the-world rules. */
__attribute__((unused)) static int stw_gen_init_or_skip(void) {
  setenv("SPANGC_CONCURRENT", "0", 1);
  sgc_init();
  if (!generational()) {
    printf("skipped: generations are off\n");
    return 0;
  }
  return 1;
}

/* sgc_init, then 0, having said "skipped", unless generations and aging
 * (aging.c) are on; *st: the stats read. */
__attribute__((unused)) static int aging_init_or_skip(sgc_stats *st) {
  sgc_init();
  sgc_read_stats(st);
  if (!st->generational || !st->aging) {
    printf("skipped: generations (%d) or aging (%d) off\n", st->generational,
           st->aging);
    return 0;
  }
  return 1;
}

/* The name of task 'tid' of this process (/proc/self/task/<tid>/comm,
 * as prctl(PR_SET_NAME) set it) into name; "" if it cannot be read. */
__attribute__((unused)) static void task_name(long tid, char *name,
                                              size_t n) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
  name[0] = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  if (fgets(name, (int)n, f) == NULL)
    name[0] = 0;
  fclose(f);
  name[strcspn(name, "\n")] = 0;
}

/* Monotonic seconds, for tests that run for a time. */
/* Minor page faults of the whole process so far (getrusage): counts the
 * first write to each write-protected page, among others. */
__attribute__((unused)) static long minor_faults(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) {
    perror("getrusage");
    abort();
  }
  return ru.ru_minflt;
}

/* Index of the first of 64 objects filling a kernel page, in order, for
 * each such page among a[0..n) (64-byte objects), into first[]; returns
 * how many. */
__attribute__((unused)) static int whole_pages(void *const *a, int n,
                                               int *first) {
  int k = 0;
  for (int i = 0; i + 64 <= n; i++) {
    uintptr_t p = (uintptr_t)a[i];
    if (p % 4096 != 0 || (uintptr_t)a[i + 63] != p + 63 * 64)
      continue;
    first[k++] = i;
    i += 63;
  }
  return k;
}

/* Minor faults taken writing v to the word at byte offset off of object
 * objs[first[k] + 5], for each k < n: a word well inside each of n kernel
 * pages the caller found filled by objs[first[k]], objs[first[k] + 1], ...
 * (whether each page was still write-protected). */
__attribute__((unused)) static long
faults_writing_pages(void *const *objs, const int *first, int n, size_t off,
                     uint64_t v) {
  long f0 = minor_faults();
  for (int k = 0; k < n; k++)
    *(volatile uint64_t *)((char *)objs[first[k] + 5] + off) = v;
  return minor_faults() - f0;
}

/* Marsaglia's xorshift64: the tests' cheap reproducible random numbers
 * (state must start non-zero). */
static inline uint64_t xorshift64(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static inline double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* A registered thread that runs collections back to back (concurrent ones
 * under conc_init_or_skip) until collector_loop_stop. */
__attribute__((unused)) static int collector_loop_stopping; /* atomic */
__attribute__((unused)) static void *collector_loop_main(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&collector_loop_stopping, __ATOMIC_RELAXED))
    sgc_collect();
  return NULL;
}
__attribute__((unused)) static pthread_t collector_loop_start(void) {
  pthread_t t;
  __atomic_store_n(&collector_loop_stopping, 0, __ATOMIC_RELAXED);
  if (sgc_pthread_create(&t, NULL, collector_loop_main, NULL) != 0) {
    fprintf(stderr, "collector_loop_start: cannot create the thread\n");
    abort();
  }
  return t;
}
__attribute__((unused)) static void collector_loop_stop(pthread_t t) {
  __atomic_store_n(&collector_loop_stopping, 1, __ATOMIC_RELAXED);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
}

/* Sleep ms milliseconds, the whole time: a signal (a stop's) that
 * interrupts the sleep does not shorten it. */
__attribute__((unused)) static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* The threads of this process (/proc/self/task); aborts if unreadable. */
__attribute__((unused)) static int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) {
    perror("opendir /proc/self/task");
    abort();
  }
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

/* The thread count once it has not changed for 200 ms (at most 10 s):
 * spangc makes its own threads as it starts, in the background. */
__attribute__((unused)) static int settled_thread_count(void) {
  int n = thread_count(), same = 0;
  for (int i = 0; i < 1000 && same < 20; i++) {
    nap_ms(10);
    int m = thread_count();
    same = m == n ? same + 1 : 0;
    n = m;
  }
  return n;
}

/* The first descriptor from 'from' on whose /proc/self/fd link satisfies
 * match, or -1: finds the files spangc holds (its userfaultfd, its
 * pagemap files), which tests close and reuse as a program may. */
__attribute__((unused)) static int find_fd_linking(
    int (*match)(const char *link), int from) {
  for (int fd = from; fd < 4096; fd++) {
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
__attribute__((unused)) static int link_is_uffd(const char *link) {
  return strcmp(link, "anon_inode:[userfaultfd]") == 0;
}

/* Poll (1 ms naps) until *flag is set or 'seconds' pass; 1 if it was
 * set.  The conc_ tests' threads and phase hooks wait for each other so. */
__attribute__((unused)) static int wait_flag(int *flag, double seconds) {
  double t0 = now_seconds();
  while (!__atomic_load_n(flag, __ATOMIC_SEQ_CST)) {
    if (now_seconds() - t0 > seconds)
      return 0;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  return 1;
}
__attribute__((unused)) static void set_flag(int *flag) {
  __atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
}
/* pthread_join from a registered thread, in a blocking region. */
__attribute__((unused)) static void join_blocking(pthread_t t) {
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
}
/* n 64-byte objects held from an array (returned): something to mark. */
__attribute__((unused)) static void **small_live_set(int n) {
  void **live = (void **)sgc_alloc((size_t)n * sizeof(void *));
  if (live == NULL) {
    fprintf(stderr, "small_live_set: out of memory\n");
    abort();
  }
  for (int i = 0; i < n; i++)
    if ((live[i] = sgc_alloc(64)) == NULL) {
      fprintf(stderr, "small_live_set: out of memory\n");
      abort();
    }
  return live;
}
__attribute__((unused)) static int small_live_set_intact(void **live, int n) {
  for (int i = 0; i < n; i++)
    if (sgc_base(live[i]) != live[i])
      return 0;
  return 1;
}

/* conc_init_or_skip, then a small live set collected once and the
 * figures after it in *before; NULL (the test skips) without concurrent
 * marking. */
__attribute__((unused)) static void **conc_setup_or_skip(sgc_stats *before) {
  if (!conc_init_or_skip())
    return NULL;
  void **live = small_live_set(4096);
  sgc_collect();
  sgc_read_stats(before);
  return live;
}
/* A concurrent collection (sgc_collect) with phase_hook as
 * sgc_test_conc_phase_hook, while a registered thread runs fn; returns
 * once both are done.  The hook and fn meet through flags (wait_flag). */
extern void (*sgc_test_conc_phase_hook)(void);
__attribute__((unused)) static void conc_collect_beside(void *(*fn)(void *),
                                                        void (*phase_hook)(void)) {
  pthread_t t;
  if (sgc_pthread_create(&t, NULL, fn, NULL) != 0) {
    fprintf(stderr, "conc_collect_beside: cannot create the thread\n");
    abort();
  }
  sgc_test_conc_phase_hook = phase_hook;
  sgc_collect();
  sgc_test_conc_phase_hook = NULL;
  join_blocking(t);
}

/* A list node of the conc_ tests carrying a pointer-free tag blob (id,
 * ~id): a node freed while reachable, and its slot reused, shows as a
 * wrong blob.  blob_node_new(size) allocates size bytes (at least the
 * node's), blob_node_check aborts naming a node that was lost. */
typedef struct blob_node {
  struct blob_node *next;
  uint64_t *blob; /* noscan: id, ~id */
  uint64_t id;
} blob_node;
__attribute__((unused)) static uint64_t blob_node_next_id = 1; /* atomic */
__attribute__((unused)) static blob_node *blob_node_new(size_t size) {
  blob_node *n = (blob_node *)sgc_alloc(size);
  uint64_t *b = (uint64_t *)sgc_alloc_noscan(16);
  if (n == NULL || b == NULL) {
    fprintf(stderr, "blob_node_new: out of memory\n");
    abort();
  }
  uint64_t id = __atomic_fetch_add(&blob_node_next_id, 1, __ATOMIC_RELAXED);
  b[0] = id;
  b[1] = ~id;
  n->id = id;
  n->blob = b;
  return n;
}
__attribute__((unused)) static void blob_node_check(const blob_node *n) {
  if (n->blob == NULL || n->blob[0] != n->id || n->blob[1] != ~n->id) {
    fprintf(stderr, "node %p (id %llu) lost: blob %p\n", (const void *)n,
            (unsigned long long)n->id, (void *)n->blob);
    abort();
  }
}

/* The conc_ tests' old array: nslot pointers, every fourth a fresh node,
 * made old by a collection.  Their writers store into it. */
__attribute__((unused)) static blob_node *volatile *blob_node_old_array(
    long nslot) {
  blob_node *volatile *a =
      (blob_node *volatile *)sgc_alloc((size_t)nslot * sizeof(void *));
  if (a == NULL) {
    fprintf(stderr, "blob_node_old_array: out of memory\n");
    abort();
  }
  for (long k = 0; k < nslot; k += 4)
    a[k] = blob_node_new(32);
  sgc_collect();
  return a;
}

/* One store of the conc_ tests' writers: a fresh node into slot k of an
 * old array (the node there before checked first, read whole: the
 * stores are release, the loads acquire, as other writers share the
 * array), then ngarbage 128-byte objects thrown away through *sink.
 * Keeps the array's pages written all over during a mark. */
__attribute__((unused)) static void blob_node_replace(
    blob_node *volatile *slots, long k, int ngarbage, void **sink) {
  blob_node *old = __atomic_load_n(&slots[k], __ATOMIC_ACQUIRE);
  if (old)
    blob_node_check(old);
  /* The fresh node is reachable only through the old array's page. */
  __atomic_store_n(&slots[k], blob_node_new(32), __ATOMIC_RELEASE);
  for (int g = 0; g < ngarbage; g++)
    __atomic_store_n(sink, sgc_alloc(128), __ATOMIC_RELAXED);
}

/* A root array of n objects of 'size', each kept out of four allocated
 * (the rest garbage at the next collection, which this runs): spans of
 * that size a quarter full, with holes that a later cycle of the same
 * size fills without a span from the heap.  Returns the array. */
static inline void **quarter_full_spans(unsigned n, size_t size) {
  void **xs = calloc(n, sizeof *xs);
  CHECK(xs != NULL && sgc_add_roots(xs, xs + n) == 0);
  for (unsigned i = 0; i < 4 * n; i++) {
    void *p = sgc_alloc(size);
    CHECK(p != NULL);
    if ((i & 3) == 0)
      xs[i / 4] = p;
  }
  sgc_collect();
  return xs;
}

#endif
