/*
 * threads.c — the thread registry: which threads are mutators, their
 * records, and the threads spangc starts.
 *
 * A mutator is a registered thread: the main thread (registered by
 * sgc_init or its first allocation), a thread made by sgc_pthread_create,
 * one that called sgc_register_thread, or any thread that allocated (it
 * is registered on its first allocation and unregistered by a TLS
 * destructor when it exits).  A thread that never allocated and never
 * registered is unknown to the collector: its stack is not scanned.
 *
 * Each mutator has a record (mthread, from threadalloc) on the thread
 * list (allthreads): its ids (the kernel's thread id with the kernel's
 * start time, which tells a reused id apart), its stack bounds and its
 * thread pointer; world.c's stop records its registers and stack pointer
 * there.  What the kernel says of a thread (/proc/self/task) is read with
 * plain system calls, since a stopped thread may hold stdio's lock: a
 * stop asks whether a thread it waits for is gone (thread_gone).  A
 * thread started by sgc_pthread_create has its argument kept as a root
 * (world_foreach_start_root) from its record's link into 'starting' until
 * it has registered and holds the argument on its own stack.
 *
 * Locks: threads_lock guards the thread list, nthreads and the threads
 * being started.  The collector holds it for a whole stop (world.c), so a
 * running mutator waits for it inside a blocking region
 * (lock_as_blocking, here, which serves gc_lock too); world.c reads the
 * list and takes threads found gone off it with the lock held.
 * threadalloc has its own lock, which heap_atfork holds across fork.
 * Rank: lockrank.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "spangc-int.h"

/* The registry, which world.c's stop walks (threads_lock held). */
sgc_mutex threads_lock = SGC_MUTEX_INIT(THREADS);
mthread *allthreads;
int nthreads;
fixalloc threadalloc; /* the records */

/* Its lock is held across fork by heap_atfork, with the other fixallocs'
 * (world_register and world_unregister take it off the thread list). */
fixalloc *world_thread_alloc(void) { return &threadalloc; }

/* ------------------------------------------------------- registration */

static void stack_bounds(uintptr_t *lo, uintptr_t *hi) {
  pthread_attr_t a;
  void *addr;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &a) != 0 ||
      pthread_attr_getstack(&a, &addr, &size) != 0)
    sgc_fatal("cannot find the stack of thread %lu",
              (unsigned long)pthread_self());
  pthread_attr_destroy(&a);
  *lo = (uintptr_t)addr;
  *hi = (uintptr_t)addr + size;
}

/* /proc/self/task/<tid>/<name> into buf (NUL-terminated); false if it
 * cannot be read.  Plain system calls: no allocation, and no stdio lock,
 * which a stopped thread may hold. */
bool read_task_file(int tid, const char *name, char *buf,
                    size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/%s", tid, name);
  int fd;
  while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR)
    ;
  if (fd < 0)
    return false;
  ssize_t n;
  while ((n = read(fd, buf, size - 1)) < 0 && errno == EINTR)
    ;
  close(fd);
  if (n <= 0)
    return false;
  buf[n] = 0;
  return true;
}

/* Kernel thread tid's start time (clock ticks since boot) and state
 * letter, from /proc/self/task/<tid>/stat; 0 if it cannot be read. */
uint64_t thread_stat(int tid, char *state) {
  char buf[1024];
  *state = '?';
  if (!read_task_file(tid, "stat", buf, sizeof buf))
    return 0;
  const char *p = strrchr(buf, ')'); /* the name may hold anything */
  if (p == NULL || p[1] != ' ')
    return 0;
  *state = p[2];
  /* Field 3 is the state; the start time is field 22. */
  p += 2;
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p)
      p++;
  }
  return p ? strtoull(p, NULL, 10) : 0;
}

/* Has thread t exited (or is it exiting: a zombie)?  A thread whose tid
 * now names another thread (a different start time) is gone too.  Only a
 * definite answer counts: a status that cannot be read (no /proc, no file
 * descriptor left) says nothing, and the stop keeps waiting. */
bool thread_gone(const mthread *t) {
  if (syscall(SYS_tgkill, getpid(), t->ktid, 0) != 0 && errno == ESRCH)
    return true;
  char state;
  uint64_t st = thread_stat(t->ktid, &state);
  if (st == 0)
    return false;
  return state == 'Z' || state == 'X' ||
         (t->starttime != 0 && st != t->starttime);
}

mthread *world_register(mcache *c, mthread *t) {
  if (t == NULL)
    t = fixalloc_alloc(&threadalloc);
  if (t == NULL)
    return NULL;
  t->cache = c;
  t->tid = pthread_self();
  t->ktid = (int)gettid();
  /* The thread control block, through which the collector finds the
   * thread's TLS blocks: on x86-64, %fs:0 holds its own address. */
  t->tcb = machine_thread_pointer();
  char state;
  t->starttime = thread_stat(t->ktid, &state);
  /* A thread that inherited a mask blocking the suspend signal (servers
   * start threads with every signal blocked) could never be stopped; from
   * now on signals.c keeps it unblocked. */
  t->sig_sent = 0;
  signals_unblock_suspend();
  /* pthread_getattr_np allocates: under threads_lock, which fork holds,
   * so no fork child inherits an allocator lock held here (an allocator
   * that fork does not lock, as a sanitizer's: rule:fork-waits-for-starts). */
  sgc_lock(&threads_lock);
  stack_bounds(&t->stack_lo, &t->stack_hi);
  t->state = THR_RUNNING;
  sem_init(&t->resume, 0, 0);
  fiber_thread_init(t);
  /* Not yet on the list: no signal can reach this thread's handler with
   * c->thr set before it is on the list. */
  t->prev = NULL;
  t->next = allthreads;
  if (allthreads)
    allthreads->prev = t;
  allthreads = t;
  nthreads++;
  c->thr = t;
  sgc_unlock(&threads_lock);
  return t;
}

/* Take t off the thread list (threads_lock held). */
void thread_list_remove(mthread *t) {
  if (t->prev)
    t->prev->next = t->next;
  else
    allthreads = t->next;
  if (t->next)
    t->next->prev = t->prev;
  nthreads--;
}

void world_unregister(mthread *t) {
  fiber_thread_exit(t);
  /* Holding threads_lock, no collection can be under way. */
  lock_as_blocking(&threads_lock);
  thread_list_remove(t);
  t->cache->thr = NULL;
  sgc_unlock(&threads_lock);
  sem_destroy(&t->resume);
  fixalloc_free(&threadalloc, t);
}

int world_nthreads(void) {
  lock_as_blocking(&threads_lock);
  int n = nthreads;
  sgc_unlock(&threads_lock);
  return n;
}

void world_foreach_thread(void (*fn)(mthread *t, void *arg), void *arg) {
  for (mthread *t = allthreads; t; t = t->next)
    fn(t, arg);
}

/* ------------------------------------------------- waits as blocking */

/* Wait for a lock that a collector may hold while the world is stopped
 * (gc_lock, threads_lock).  A running mutator waits inside a blocking
 * region, so the stop does not wait for it in turn.  Leaving the region
 * with the lock held cannot wait long: holding it, no stop is under way. */
/* This thread is registered, running, outside any no-preempt region:
 * its waits go in a blocking region. */
static bool waits_as_blocking(void) {
  mcache *c = sgc_tls_cache;
  mthread *t = c ? c->thr : NULL;
  return t != NULL && t->state != THR_BLOCKING && !c->nopreempt;
}

void lock_as_blocking(sgc_mutex *m) {
  if (!waits_as_blocking()) {
    sgc_lock(m);
    return;
  }
  sgc_enter_blocking();
  sgc_lock(m);
  sgc_exit_blocking();
}

void run_as_blocking(void (*fn)(void)) {
  bool region = waits_as_blocking();
  if (region)
    sgc_enter_blocking();
  fn();
  if (region)
    sgc_exit_blocking();
}

void sleep_as_blocking(uint64_t ns) {
  bool region = waits_as_blocking();
  if (region)
    sgc_enter_blocking();
  struct timespec ts = {(time_t)(ns / 1000000000u),
                        (long)(ns % 1000000000u)};
  nanosleep(&ts, NULL);
  if (region)
    sgc_exit_blocking();
}

/* ----------------------------------------------------------- threads */

int sgc_register_thread(void) {
  mcache *c = mcache_get();
  if (c == NULL || c->thr == NULL)
    return ENOMEM;
  c->thr->explicit_reg = 1;
  return 0;
}

int sgc_thread_is_registered(void) {
  mcache *c = sgc_tls_cache;
  return c != NULL && c->thr != NULL;
}

int sgc_in_blocking(void) {
  mcache *c = sgc_tls_cache;
  return c != NULL && c->thr != NULL && c->thr->state == THR_BLOCKING;
}

void sgc_unregister_thread(void) {
  mcache *c = sgc_tls_cache;
  if (c == NULL)
    return;
  if (c->thr && c->thr->state == THR_BLOCKING)
    sgc_fatal("sgc_unregister_thread: the calling thread is in a blocking "
              "region");
  mcache_thread_exit(c);
}

/* A thread being started by sgc_pthread_create: its argument is a root
 * until the new thread has it on its own (scanned) stack. */
typedef struct start_rec {
  struct start_rec *next, *prev;
  void *(*fn)(void *);
  void *arg;
  mcache *cache;  /* the new thread's records, made by its creator */
  mthread *thr;
} start_rec;
static start_rec *starting; /* threads_lock */

static void unlink_start(start_rec *r) {
  if (r->prev)
    r->prev->next = r->next;
  else
    starting = r->next;
  if (r->next)
    r->next->prev = r->prev;
}

void world_foreach_start_root(void (*fn)(uintptr_t, uintptr_t, void *),
                              void *arg) {
  for (start_rec *r = starting; r; r = r->next)
    fn((uintptr_t)&r->arg, (uintptr_t)(&r->arg + 1), arg);
}

static void thread_cleanup(void *arg) { sgc_unregister_thread(); }

static void *thread_start(void *p) {
  start_rec *r = p;
  os_thread_started();
  /* Registered with the records its creator made, so that a lack of
   * memory for them was the creator's EAGAIN.  Should registering still
   * fail, wait for memory (the argument stays a root meanwhile) rather
   * than run the thread unregistered. */
  mcache_get_prepared(r->cache, r->thr);
  for (int tries = 0; sgc_register_thread() != 0; tries++) {
    if (tries == 1000)
      sgc_fatal("sgc_pthread_create: cannot register the new thread (out "
                "of memory for 1 s)");
    struct timespec ts = {0, 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
  }
  void *(*volatile fn)(void *) = r->fn;
  void *volatile arg = r->arg;
  lock_as_blocking(&threads_lock);
  unlink_start(r);
  sgc_unlock(&threads_lock);
  free(r);
  void *ret;
  pthread_cleanup_push(thread_cleanup, NULL);
  ret = fn(arg);
  pthread_cleanup_pop(1);
  return ret;
}

int sgc_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                       void *(*fn)(void *), void *arg) {
  sgc_ensure_init();
  /* arg may be the only reference to a heap object, and r is malloc's
   * memory, which the collector does not scan: until r is in 'starting',
   * arg stays in this frame (a volatile slot, which the blocking region
   * around the lock's wait leaves in the scanned stack), and r gets it
   * only once linked under the lock, where no collection runs.
   * (world_thread_argument_is_kept_while_create_waits) */
  void *volatile arg_root = arg;
  start_rec *r = malloc(sizeof *r);
  if (r == NULL)
    return EAGAIN;
  /* The new thread's records now: out of memory is EAGAIN here, which
   * the new thread, already running, could not report (it waited, then
   * aborted; found by running the fault-injection test with memory gone
   * for good).  In a no-preempt region: they take caches_lock and
   * threadalloc's lock, which a stop needs (it walks the caches, frees
   * dead threads' records). */
  mcache *c = nopreempt_enter_any();
  r->cache = mcache_create();
  r->thr = r->cache ? fixalloc_alloc(&threadalloc) : NULL;
  if (r->thr == NULL)
    mcache_drop_prepared(r->cache, NULL);
  nopreempt_leave_any(c);
  if (r->thr == NULL) {
    free(r);
    return EAGAIN;
  }
  r->fn = fn;
  r->prev = NULL;
  lock_as_blocking(&threads_lock);
  r->arg = arg_root;
  r->next = starting;
  if (starting)
    starting->prev = r;
  starting = r;
  sgc_unlock(&threads_lock);
  int err = os_thread_create(thread, attr, thread_start, r);
  if (err != 0) {
    lock_as_blocking(&threads_lock);
    unlink_start(r);
    sgc_unlock(&threads_lock);
    mcache *c = nopreempt_enter_any();
    mcache_drop_prepared(r->cache, r->thr);
    nopreempt_leave_any(c);
    free(r);
  }
  return err;
}
