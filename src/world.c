/*
 * world.c — stopping the world: the suspend signal's handshake,
 * outsiders and the fork barrier.
 *
 * The mutators a stop must reach are the registered threads, on the
 * thread list that threads.c keeps (registration, the records, the
 * threads spangc starts).
 *
 * Stopping the world is cooperative safepoints plus a signal.  The
 * collector sends the suspend signal (SIGPWR unless configured otherwise;
 * signals.c chooses it and keeps the program from blocking or replacing
 * it) to every running mutator.  The handler parks the
 * thread at once (records its stack pointer and registers, posts an
 * acknowledgement, waits on its resume semaphore) unless the thread is in
 * a no-preempt region: inside the allocator, or holding any runtime lock.
 * Then it only sets 'pending', and the thread parks itself the moment the
 * region ends.  So no thread is ever stopped halfway through changing the
 * heap or holding a lock the collector needs, and a tight loop in user code
 * still stops at once: no polling in user code is needed.
 *
 * A thread in a blocking region (blocking.c) is marked BLOCKING under
 * world.mutex, under which a stop decides whom to signal: the stop scans
 * what the thread saved instead, and the thread cannot leave the region
 * until the world restarts.
 *
 * Locks: threads_lock (threads.c's thread list, held by the collector for
 * the whole stop, from before the first signal to world_start; the
 * threads a stop found gone go to deadthreads under it) and world.mutex
 * (world.stopping, the fork barrier, each thread's blocking state, which
 * blocking.c changes); their ranks: lockrank.h.  A thread waiting for
 * gc_lock does so inside a blocking region (lock_as_blocking, threads.c),
 * so a collection by another thread never waits for it.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "spangc-int.h"

#define SIG_SUSPEND sgc_suspend_sig

static mthread *deadthreads; /* exited registered; freed by world_start */
void (*sgc_test_suspend_hook)(void);

world_state world = {SGC_MUTEX_INIT(WORLD), PTHREAD_COND_INITIALIZER, 0, {{0}},
                     0, 0, 0, PTHREAD_COND_INITIALIZER, 0,
                     PTHREAD_COND_INITIALIZER}; /* its fields: spangc-int.h */

extern int world_forking;

/* Set on the collector's helper markers: they run inside a collection and
 * never wait for one. */
__thread int world_in_collector;
static __thread int outsider_depth;

/* ------------------------------------------------------------- parking */

/* Record where this thread's live stack starts and its registers, tell the
 * collector, and wait to be resumed.  Runs at the end of a no-preempt
 * region that a suspend signal interrupted. */
/* Acknowledge stop number g (once: a stop may reach a thread both by its
 * signal and by the thread entering a blocking region) and wait for the
 * restart.  The caller recorded registers and stack pointer. */
static void ack_and_wait(mthread *t, uint64_t g) {
  /* A fork barrier: answer, then carry on.  Read before answering: once
   * answered, the fork may complete and clear the flag before we look. */
  bool barrier = ATOMIC_LOAD(&world_forking) != 0;
#if SPANGC_DEBUG
  /* rule:no-stop-holding-lock: a thread parked with a runtime lock holds
   * up every thread that waits for it, and under ThreadSanitizer (which
   * holds signals back in pthread_mutex_lock) the stop itself; in a fork
   * child the lock would stay taken. */
  int r = lockrank_held_at_stop();
  if (r != LOCKRANK_NONE)
    sgc_fatal("stop the world: thread %d answers %s holding %s "
              "(rule:no-stop-holding-lock)", t->ktid,
              barrier ? "a fork barrier" : "a stop", lockrank_name(r));
#endif
  ATOMIC_STORE(&t->ack_gen, g);
  sem_post(&world.ack);
  if (barrier)
    return;
  while (sem_wait(&t->resume) != 0)
    ;
}

static void __attribute__((noinline)) park(mthread *t, uint64_t g) {
  volatile uintptr_t marker = 0;
  t->fpsize = 0;
  memset(&t->ctx_now, 0, sizeof t->ctx_now);
  getcontext(&t->ctx);
  t->sp = (uintptr_t)&marker;
  ack_and_wait(t, g);
}

/* The interrupted thread's vector registers live in the xsave image the
 * kernel put in the signal frame (which is on the signal stack, or below
 * the recorded stack pointer): copy it for the scanner.  At a call
 * boundary (the other ways to stop) no vector register is live.
 *
 * The image starts with the 512-byte fxsave area (XMM0-15); if the kernel
 * wrote an xsave image, the software-reserved bytes at offset 464 say so
 * and give its size, which covers the upper halves of YMM0-15 and, on
 * AVX-512 machines, ZMM0-15's upper halves and ZMM16-31. */
struct fpx_sw_bytes { /* the kernel's struct _fpx_sw_bytes */
  uint32_t magic1;
  uint32_t extended_size;
  uint64_t xfeatures;
  uint32_t xstate_size;
  uint32_t padding[7];
};
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#endif

static void save_vector_registers(mthread *t, const ucontext_t *uc) {
  const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
  size_t n = 0;
  if (fp != NULL) {
    n = 512;
    struct fpx_sw_bytes sw;
    memcpy(&sw, (const char *)fp + 464, sizeof sw);
    if (sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size > n)
      n = sw.xstate_size;
    if (n > sizeof t->fpstate)
      n = sizeof t->fpstate;
    memcpy(t->fpstate, fp, n);
  }
  t->fpsize = n;
}

/* Runs on the thread's signal stack if it has one (fibers may have small
 * stacks), so the interrupted registers and stack pointer come from the
 * signal context; the 128-byte red zone below the stack pointer may hold
 * live values of a leaf function and is scanned too. */
static void suspend_handler(int sig, siginfo_t *si, void *ucv) {
  int saved = errno;
  mcache *c = sgc_tls_cache;
  mthread *t = c ? c->thr : NULL;
  /* Ours: sent by tgkill from this process to a thread whose record says
   * a signal is on its way (taken here, once).  Anything else is the
   * program's (kill, raise, pthread_kill, another process): its own
   * action runs. */
  if (t == NULL || si == NULL || si->si_code != SI_TKILL ||
      si->si_pid != getpid() ||
      !__atomic_exchange_n(&t->sig_sent, 0, __ATOMIC_SEQ_CST)) {
    signals_chain(sig, si, ucv);
    errno = saved;
    return;
  }
  /* A signal for a stop this thread already acknowledged (it entered a
   * blocking region first) is late: ignore it. */
  uint64_t g = ATOMIC_LOAD(&t->sig_gen);
  if (ATOMIC_LOAD(&t->ack_gen) != g) {
    if (c->nopreempt) {
      /* Atomic: a stop that waits long reads it from the collecting
       * thread (report_unstopped).  Plain, the write raced with that
       * read, and ThreadSanitizer, reporting it from this handler in the
       * middle of the stop, took the loader's lock the collector holds:
       * the stop hung for ever (found by the adversarial review, in
       * conc_objects_moved_during_the_mark_survive under TSan). */
      ATOMIC_STORE_RELAXED(&c->pending, 1);
    } else {
      ATOMIC_STORE_RELAXED(&t->in_handler, 1);
      ucontext_t *uc = ucv;
      memcpy(&t->ctx, uc, sizeof t->ctx);
      save_vector_registers(t, uc);
      t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] - 128;
      /* A handler running on the thread's own stack (no signal stack; or
       * ThreadSanitizer, which calls handlers late, from its interceptors,
       * with the context of the original interruption) also records where
       * the thread is now: its current registers and everything from
       * here up. */
      volatile uintptr_t marker = 0;
      uintptr_t here = (uintptr_t)&marker;
      getcontext(&t->ctx_now);
      if (here >= t->stack_lo && here < t->stack_hi && here < t->sp)
        t->sp = here;
      if (t->sp < t->stack_lo)
        t->sp = t->stack_lo;
      test_hook_run(&sgc_test_suspend_hook);
      ATOMIC_STORE_RELAXED(&t->in_handler, 0);
      ack_and_wait(t, g);
    }
  }
  errno = saved;
}

/* A region's end found 'pending' set.  The test (ack_gen != sig_gen) and
 * the answer happen inside a no-preempt level of their own, so a signal
 * for that same stop arriving in between only sets 'pending' again
 * instead of answering a second time (ThreadSanitizer delivered it at the
 * memset in park: the stop got two acknowledgements from this thread,
 * counted one as another thread's, and the next stop ended early with a
 * thread still running).  The level is raised directly, not by
 * nopreempt_enter: this is not an entry into the runtime, and must not
 * wait at a fork barrier.  Whatever set 'pending' meanwhile is looked at
 * again after the level drops, when a new signal would park at once.
 * (rule:acks-exact) */
void world_park_pending(mcache *c) {
  mthread *t = c->thr;
  do {
    c->nopreempt++; /* a level of its own, not an entry */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    ATOMIC_STORE_RELAXED(&c->pending, 0); /* see suspend_handler */
    uint64_t g = ATOMIC_LOAD(&t->sig_gen);
    if (ATOMIC_LOAD(&t->ack_gen) != g)
      park(t, g);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    c->nopreempt--; /* a level of its own, not an entry */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
  } while (c->pending);
}

/* Where this library (or the program linking it statically) is loaded,
 * for the stop's message: a futex address as an offset into the file,
 * which nm resolves after the process is gone. */
static uintptr_t self_base;
static const char *self_file;

void world_init(void) {
  Dl_info di;
  if (dladdr((void *)&world, &di) && di.dli_fbase) {
    self_base = (uintptr_t)di.dli_fbase;
    const char *slash = di.dli_fname ? strrchr(di.dli_fname, '/') : NULL;
    self_file = slash ? slash + 1 : di.dli_fname;
  }
  sem_init(&world.ack, 0, 0);
  fixalloc_init(&threadalloc, sizeof(mthread), NULL, NULL,
                &sgc_heap.sys_meta, true);
  signals_init(suspend_handler);
}

/* ------------------------------------------------------ stop and start */

/* ------------------------------------------------------------ outsiders
 *
 * A thread that is not registered has no no-preempt region a stop could
 * wait for, yet some calls it may make (sgc_size, sgc_base, ...) look at
 * a span and may sweep it.  Such a thread is an outsider: while it is in
 * one of those calls, no stop may begin (a stop would find the span half
 * swept, or sweep it a second time).  It counts itself in; a stop first
 * bars new outsiders, then waits until the count drops to zero.  The two
 * sides use the store-then-load (Dekker) pattern on seq_cst atomics, so
 * one of them always sees the other.  Regions nest. */
static void world_outsider_leave_count(void);

void world_outsider_enter(void) {
  if (world_in_collector || outsider_depth++ > 0)
    return;
  for (;;) {
    __atomic_add_fetch(&world.outsiders, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&world.barred, __ATOMIC_SEQ_CST))
      return;
    world_outsider_leave_count();
    sgc_lock(&world.mutex);
    while (__atomic_load_n(&world.barred, __ATOMIC_SEQ_CST))
      sgc_cond_wait(&world.cond, &world.mutex);
    sgc_unlock(&world.mutex);
  }
}

static void world_outsider_leave_count(void) {
  if (__atomic_sub_fetch(&world.outsiders, 1, __ATOMIC_SEQ_CST) == 0 &&
      __atomic_load_n(&world.barred, __ATOMIC_SEQ_CST)) {
    sgc_lock(&world.mutex);
    pthread_cond_broadcast(&world.outsiders_gone);
    sgc_unlock(&world.mutex);
  }
}

void world_outsider_leave(void) {
  if (world_in_collector || --outsider_depth > 0)
    return;
  world_outsider_leave_count();
}

/* Bar new outsiders and wait for those inside to leave. */
static void bar_outsiders(void) {
  __atomic_store_n(&world.barred, 1, __ATOMIC_SEQ_CST);
  sgc_lock(&world.mutex);
  while (__atomic_load_n(&world.outsiders, __ATOMIC_SEQ_CST) != 0)
    sgc_cond_wait(&world.outsiders_gone, &world.mutex);
  sgc_unlock(&world.mutex);
}

/* ------------------------------------------------------ stop and start */

/* Does kernel thread tid block signal sig?  -1 if it cannot be told. */
static int thread_blocks_signal(int tid, int sig) {
  char buf[2048];
  if (!read_task_file(tid, "status", buf, sizeof buf))
    return -1;
  const char *p = strstr(buf, "SigBlk:");
  if (p == NULL)
    return -1;
  unsigned long long mask = strtoull(p + 7, NULL, 16);
  return (int)((mask >> (sig - 1)) & 1);
}

/* A stop that has waited STOP_WARN_NS for some thread says which, once. */
#define STOP_WARN_NS 100000000ull

/* The runtime lock whose futex word is at a, or NULL. */
static const char *lock_at(uintptr_t a) {
  static const struct {
    const void *m;
    const char *name;
  } named[] = {{&gc_lock.m, "gc_lock"},
               {&threads_lock.m, "threads_lock"},
               {&world.mutex.m, "world.mutex"},
               {&sgc_heap.lock.m, "mheap.lock"}};
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (a == (uintptr_t)named[i].m)
      return named[i].name;
  uintptr_t c0 = (uintptr_t)&sgc_heap.central[0];
  if (a >= c0 && a < (uintptr_t)&sgc_heap.central[NUM_SPANCLASSES])
    return "an mcentral lock";
  return NULL;
}

/* Where kernel thread tid is, for that message, from
 * /proc/self/task/<tid>/syscall: running, or the system call it waits
 * in (for a futex, the runtime lock when it is one). */
static void describe_wait(int tid, char *out, size_t size) {
  char buf[256];
  long nr;
  unsigned long a0 = 0;
  if (!read_task_file(tid, "syscall", buf, sizeof buf)) {
    snprintf(out, size, "where it is cannot be read");
    return;
  }
  if (strncmp(buf, "running", 7) == 0) {
    snprintf(out, size, "it is running, in no system call");
    return;
  }
  if (sscanf(buf, "%ld %lx", &nr, &a0) < 1) {
    snprintf(out, size, "where it is cannot be read");
    return;
  }
  const char *lock = nr == SYS_futex ? lock_at(a0) : NULL;
  if (nr == -1) /* preempted outside the kernel */
    snprintf(out, size, "it is in no system call");
  else if (lock)
    snprintf(out, size, "it waits for %s (futex at %#lx)", lock, a0);
  else if (nr == SYS_futex && self_file && a0 > self_base &&
           a0 - self_base < ((uintptr_t)1 << 30))
    snprintf(out, size, "it waits on the futex at %#lx, %s+%#lx", a0,
             self_file, (unsigned long)(a0 - self_base));
  else if (nr == SYS_futex)
    snprintf(out, size, "it waits on the futex at %#lx", a0);
  else
    snprintf(out, size, "it is in system call %ld", nr);
}

static void report_unstopped(uint64_t g) {
  int intact = signals_handler_intact();
  for (mthread *t = allthreads; t; t = t->next) {
    if (!t->signalled || t->exited || ATOMIC_LOAD(&t->ack_gen) == g)
      continue;
    int b = thread_blocks_signal(t->ktid, SIG_SUSPEND);
    /* 'pending' is the thread's own, set by its handler: read racily,
     * for a message only. */
    bool inside = ATOMIC_LOAD_RELAXED(&t->cache->pending) != 0;
    /* Inside the handler the kernel blocks the signal too (SigBlk says
     * so), but the program is not to blame: the thread is slow to park,
     * most often on a loaded machine. */
    bool handling = ATOMIC_LOAD_RELAXED(&t->in_handler) != 0;
    char name[32], why[200];
    signals_name(SIG_SUSPEND, name, sizeof name);
    if (handling)
      snprintf(why, sizeof why, "it is in spangc's suspend handler and has "
               "not parked yet (not scheduled: is the machine loaded?)");
    else if (inside)
      snprintf(why, sizeof why, "it is inside spangc (a no-preempt region: "
               "a large allocation clearing its pages, a sweep, or a read "
               "of the figures) and stops when it leaves");
    else if (b == 1)
      snprintf(why, sizeof why, "it blocks the suspend signal (%s) behind "
               "spangc's back, for example with a raw rt_sigprocmask "
               "system call", name);
    else if (intact == 0)
      snprintf(why, sizeof why, "the handler of the suspend signal (%s) "
               "was replaced behind spangc's back (a raw rt_sigaction "
               "system call?)", name);
    else if (b == 0)
      snprintf(why, sizeof why, "the signal (%s) is deliverable: is a "
               "handler of the program running for long on that thread?",
               name);
    else
      snprintf(why, sizeof why, "its status cannot be read");
    char where[128];
    describe_wait(t->ktid, where, sizeof where);
    sgc_warn("stop the world: thread %d (pthread %lu) has not stopped after "
             "%llu ms; %s (%s); still waiting", t->ktid, (unsigned long)t->tid,
             STOP_WARN_NS / 1000000, why, where);
  }
}

/* Thread t exited while registered (for example, a thread-specific-data
 * destructor allocated after the runtime's own had unregistered it): it
 * holds nothing any more.  Counted as stopped and dropped. */
static void drop_dead(mthread *t) {
  t->exited = 1;
  sgc_warn("stop the world: thread %d exited while registered (did a "
           "thread-specific-data destructor allocate after spangc's own "
           "ran?); dropped from the thread list", t->ktid);
}

static void unlink_thread(mthread *t) {
  thread_list_remove(t);
  t->next = deadthreads;
  deadthreads = t;
}

/* Ask thread t for an answer: its record says a signal is on its way
 * (the handler takes that, once, and so tells our signal from the
 * program's), then the signal, by kernel id (pthread_kill on a thread
 * that exited registered, and may have been joined, is undefined).
 * False if the thread is gone. */
static bool send_suspend(mthread *t, pid_t pid) {
  __atomic_store_n(&t->sig_sent, 1, __ATOMIC_SEQ_CST);
  if (syscall(SYS_tgkill, pid, t->ktid, SIG_SUSPEND) == 0)
    return true;
  if (errno != ESRCH)
    sgc_fatal("stop the world: cannot signal thread %d (errno %d)", t->ktid,
              errno);
  return false;
}

static void wait_acks(int n, uint64_t g) {
  bool warned = false;
  uint64_t start = os_nanotime();
  pid_t pid = getpid();
  while (n > 0) {
    /* A signalled thread that exited while registered never answers. */
    if (os_nanotime() - start >= 20000000)
      for (mthread *t = allthreads; t; t = t->next)
        if (t->signalled && !t->exited && ATOMIC_LOAD(&t->ack_gen) != g &&
            thread_gone(t)) {
          drop_dead(t);
          n--;
        }
    if (n == 0)
      break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20000000; /* look again every 20 ms */
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    if (sem_timedwait(&world.ack, &ts) == 0) {
      n--;
      continue;
    }
    /* 20 ms without an answer: the signal again, to each thread that
     * has not answered.  One delivery can be lost on the way: under
     * ThreadSanitizer a thread just started sat in its nanosleep loop
     * for ever with the stop's signal never handed to our handler
     * (conc_stop_waits_for_a_stats_reader_not_parked_holding_its_lock, 1
     * run in 200).  A second one is harmless: the handler ignores a
     * signal for a stop already answered, and one that outlives its stop
     * answers the next (it finds that stop's sig_gen; the next stop's own
     * signal then finds sig_sent taken and is ignored), as a late one
     * always could. */
    for (mthread *t = allthreads; t; t = t->next)
      if (t->signalled && !t->exited && ATOMIC_LOAD(&t->ack_gen) != g &&
          !send_suspend(t, pid)) {
        drop_dead(t);
        n--;
      }
    if (!warned && os_nanotime() - start >= STOP_WARN_NS) {
      warned = true;
      report_unstopped(g);
    }
  }
}

/* Signal every running mutator but self and wait for each to answer
 * (threads_lock held): by parking (a stop), or by leaving the runtime (a
 * fork barrier, world_forking set). */
static void signal_and_wait(mthread *self, bool stop) {
  sgc_lock(&world.mutex);
  if (stop)
    ATOMIC_STORE_RELAXED(&world.stopping, 1);
  else
    world.barrier = 1;
  uint64_t g = ++world.gen;
  int n = 0;
  for (mthread *t = allthreads; t; t = t->next) {
    /* A thread already waiting at the fork barrier is out of the runtime
     * until the fork ends: nothing to ask of it. */
    t->signalled = t != self && t->state == THR_RUNNING &&
                   !(!stop && t->fork_waiting);
    t->self_acked = 0;
    if (t->signalled)
      ATOMIC_STORE(&t->sig_gen, g);
    n += t->signalled;
  }
  sgc_unlock(&world.mutex);
  pid_t pid = getpid();
  for (mthread *t = allthreads; t; t = t->next)
    if (t->signalled && !send_suspend(t, pid)) {
      drop_dead(t);
      n--;
    }
  wait_acks(n, g);
  /* The count is complete: every signalled thread must have answered
   * this round.  One that did not means some thread answered twice, and
   * the collector would scan a running stack: stop here instead of losing
   * objects later (rule:acks-exact). */
  for (mthread *t = allthreads; t; t = t->next)
    if (t->signalled && !t->exited && ATOMIC_LOAD(&t->ack_gen) != g)
      sgc_fatal("stop the world: thread %d counted as answering %s %llu, "
                "but its last answer was to %llu (an acknowledgement was "
                "posted twice)", t->ktid, stop ? "stop" : "fork barrier",
                (unsigned long long)g,
                (unsigned long long)ATOMIC_LOAD(&t->ack_gen));
  /* Threads found gone leave the list now, before the collector walks
   * it; their records go once the world runs again. */
  for (mthread *t = allthreads, *next; t; t = next) {
    next = t->next;
    if (t->exited)
      unlink_thread(t);
  }
}

void world_stop(mthread *self) {
  bar_outsiders();
  /* Taken before any signal: its holder is never asked to stop
   * (rule:no-stop-holding-lock). */
  sgc_lock(&threads_lock);
  signal_and_wait(self, true);
}

/* ------------------------------------------------------- fork barrier
 *
 * fork() must not stop the world: after the prepare handlers the C
 * library takes its own locks (every malloc arena, the stdio list), and a
 * thread parked while holding one would hang the fork.  What the child
 * needs is that no thread is inside the runtime: not in a no-preempt
 * region (half-way through a span, holding a runtime lock) and not an
 * outsider in the middle of a sweep.  So the forking thread raises
 * world_forking and signals every running mutator; one outside a region
 * answers from its handler and carries on, one inside answers when the
 * region ends; from then on a thread entering a region (nopreempt_enter)
 * waits until the fork is over.  Threads keep running user code, so the
 * C library's locks are released as usual. */
int world_forking; /* atomic */
static mthread *forker; /* atomic: the thread raising the barrier */

/* Called from nopreempt_enter, at its first level: the thread holds
 * nothing yet, which is all the fork needs of it, so it answers the fork
 * itself and waits for the fork's end without leaving the region.
 *
 * Under world.mutex it is marked fork_waiting (a barrier raised later
 * does not signal it), and if the barrier already signalled it and no
 * answer was given, it acknowledges here.  The signal, if it comes now,
 * finds the thread inside the region and only sets c->pending (nothing
 * is posted twice: a handler answering between our test and our post
 * would give the fork a surplus acknowledgement, and a later stop would
 * end before a thread had stopped); when the region ends, the late
 * signal is seen as answered.  Parking never happens inside
 * pthread_cond_wait either, where world.mutex would be held and
 * world_start's broadcast would wait for the parked thread.
 *
 * Found under ThreadSanitizer, which runs handlers late (at interceptors
 * and atomic operations): the fork waited for ever for a thread that
 * waited here.  (rule:acks-exact, rule:fork-barrier) */
void world_fork_wait(mcache *c) {
  mthread *t = c->thr;
  if (t == ATOMIC_LOAD(&forker))
    return; /* the forking thread's own handlers */
  sgc_lock(&world.mutex);
  t->fork_waiting = 1;
  uint64_t g = ATOMIC_LOAD(&t->sig_gen);
  if (world.barrier && t->signalled && g == world.gen &&
      ATOMIC_LOAD(&t->ack_gen) != g) {
    t->self_acked = 1;
    ATOMIC_STORE(&t->ack_gen, g);
    sem_post(&world.ack);
  }
  while (ATOMIC_LOAD(&world_forking))
    sgc_cond_wait(&world.fork_done, &world.mutex);
  t->fork_waiting = 0;
  sgc_unlock(&world.mutex);
}

static void free_dead(mthread *dead);

/* rule:fork-barrier */
static void fork_barrier_begin(mthread *self) {
  bar_outsiders();
  sgc_lock(&threads_lock);
  ATOMIC_STORE(&forker, self);
  __atomic_store_n(&world_forking, 1, __ATOMIC_SEQ_CST);
  signal_and_wait(self, false);
}

static void fork_barrier_end(void) {
  sgc_lock(&world.mutex);
  world.barrier = 0;
  for (mthread *t = allthreads; t; t = t->next)
    t->signalled = t->self_acked = 0;
  ATOMIC_STORE(&forker, NULL);
  __atomic_store_n(&world_forking, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&world.barred, 0, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&world.cond); /* outsiders */
  pthread_cond_broadcast(&world.fork_done);
  sgc_unlock(&world.mutex);
  mthread *dead = deadthreads;
  deadthreads = NULL;
  sgc_unlock(&threads_lock);
  free_dead(dead);
}

/* Records of threads a stop found gone: their caches hand their spans
 * back (threads_lock not held). */
static void free_dead(mthread *dead) {
  while (dead) {
    mthread *next = dead->next;
    dead->cache->thr = NULL;
    mcache_destroy(dead->cache);
    sem_destroy(&dead->resume);
    fixalloc_free(&threadalloc, dead);
    dead = next;
  }
}

/* The calling thread stopped the world and has not restarted it. */
bool world_is_stopped(void) {
  return ATOMIC_LOAD_RELAXED(&world.stopping) != 0;
}

void world_start(mthread *self) {
  sgc_lock(&world.mutex);
  ATOMIC_STORE_RELAXED(&world.stopping, 0);
  __atomic_store_n(&world.barred, 0, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&world.cond);
  /* A thread that acknowledged by entering a blocking region does not
   * wait on its semaphore: it waits in sgc_exit_blocking for !stopping. */
  for (mthread *t = allthreads; t; t = t->next)
    if (t->signalled) {
      t->signalled = 0;
      if (!t->self_acked)
        sem_post(&t->resume);
      t->self_acked = 0;
    }
  sgc_unlock(&world.mutex);
  mthread *dead = deadthreads;
  deadthreads = NULL;
  sgc_unlock(&threads_lock);
  free_dead(dead);
}

/* ---------------------------------------------------------------- fork */

/* Fork happens behind a fork barrier (gc_lock held by the caller): every
 * other mutator is outside any no-preempt region and waits at the next,
 * so none holds a runtime lock or is half-way through sweeping a span. */
void world_atfork(int phase) {
  mcache *me = sgc_tls_cache;
  mthread *self = me ? me->thr : NULL;
  if (phase == FORK_PREPARE) {
    /* A thread forking from inside a blocking region keeps what it
     * recorded on entry: its registers of then may be live again once
     * the frames below return, and are found only there. */
    if (self && self->state != THR_BLOCKING) {
      volatile uintptr_t marker = 0;
      self->fpsize = 0;
      memset(&self->ctx_now, 0, sizeof self->ctx_now);
      getcontext(&self->ctx);
      self->sp = (uintptr_t)&marker;
    }
    fork_barrier_begin(self);
    return;
  }
  if (phase == FORK_PARENT) {
    fork_barrier_end();
    return;
  }
  {
    /* Only the forking thread exists in the child (threads the stop
     * found dead are freed here too). */
    mcache *self = sgc_tls_cache;
    mthread *t = allthreads;
    if (deadthreads) {
      mthread *last = deadthreads;
      while (last->next)
        last = last->next;
      last->next = t;
      t = deadthreads;
      deadthreads = NULL;
    }
    allthreads = NULL;
    nthreads = 0;
    while (t) {
      mthread *next = t->next;
      if (self && t == self->thr) {
        t->next = t->prev = NULL;
        t->tid = pthread_self();
        /* The same thread under the child's ids: stops find it by them. */
        t->ktid = (int)gettid();
        char state;
        t->starttime = thread_stat(t->ktid, &state);
        allthreads = t;
        nthreads = 1;
      } else {
        /* Its spans go back to mcentral; the locks that takes were
         * released by the other subsystems' child handlers already. */
        mcache *c = t->cache;
        c->thr = NULL;
        mcache_destroy(c);
        sem_destroy(&t->resume);
        fixalloc_free(&threadalloc, t);
      }
      t = next;
    }
    signals_atfork_child();
    ATOMIC_STORE_RELAXED(&world.stopping, 0);
    world.barrier = 0;
    world.barred = 0;
    world.outsiders = 0;
    world_forking = 0;
    ATOMIC_STORE(&forker, NULL);
    pthread_mutex_init(&world.mutex.m, NULL); /* not held by this thread */
    pthread_cond_init(&world.cond, NULL);
    pthread_cond_init(&world.outsiders_gone, NULL);
    pthread_cond_init(&world.fork_done, NULL);
    sem_init(&world.ack, 0, 0);
    sgc_unlock(&threads_lock); /* taken by world_stop */
  }
}
