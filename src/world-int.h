/*
 * world-int.h — the threads and the stops: mthread, fibers, stopping and
 * starting the world, blocking regions, outsiders; the fork handlers'
 * phases; the machine-level switches (machine.c).  Part of the internal
 * header: included by spangc-int.h, after the heap's types, never on its
 * own.  What each lock guards: lockrank.h.
 */
#ifndef SPANGC_WORLD_INT_H
#define SPANGC_WORLD_INT_H
#ifndef SPANGC_INT_H
#error "world-int.h is part of spangc-int.h: include that"
#endif

/* ------------------------------------------------------------------ world */

#include <semaphore.h>
#include <ucontext.h>

enum { THR_RUNNING = 0, THR_BLOCKING = 1 };
typedef struct gcwork gcwork;

/* A fiber (fiber.c).  A heap object (scanned: arg and caller stay alive),
 * except a thread's own stack, which is a fiber embedded in its mthread
 * ("home").  While suspended, its registers are pushed on its stack and sp
 * is saved here; the collector scans [sp, hi). */
enum { FIBER_CREATED, FIBER_RUNNING, FIBER_SUSPENDED, FIBER_FINISHED };
struct sgc_fiber {
  uint32_t magic;
  int state;
  void (*fn)(void *);
  void *arg;
  struct sgc_fiber *caller; /* the fiber that last switched to this one */
  uintptr_t sp;             /* saved stack pointer while not running */
  uintptr_t lo, hi;         /* usable stack; a guard page lies below lo */
  mspan *span;              /* stack span (a pool span or its own) */
  int order;                /* stack pool order, or -1 for its own span */
  uint32_t regidx;          /* index in the fiber registry */
  struct mthread *thread;   /* running on (home: owner) */
  uint8_t shrunk;           /* unused stack pages were returned */
  uint8_t guarded;          /* its guard page is protected */
  uint8_t scanned;          /* this collection */
  void *tsan_fiber;         /* ThreadSanitizer's fiber, in TSan builds */
  /* sgc_call_without_collections calls it is inside, and the thread the
   * first was entered on (written by the thread it runs on). */
  uint32_t holds;
  pthread_t hold_tid;
};

/* A registered thread (a mutator).  Linked in the thread list under
 * threads_lock; 'state', 'sp' and 'ctx' change under world.mutex (blocking
 * regions) or while the thread is parked. */
typedef struct mthread {
  struct mthread *next, *prev;
  mcache *cache;
  pthread_t tid;
  int ktid;                     /* the kernel's thread id */
  uint64_t starttime;           /* the kernel's, to tell a reused ktid */
  int exited;                   /* exited registered (world.c) */
  uintptr_t stack_lo, stack_hi; /* the stack grows down from stack_hi */
  uintptr_t tcb;                /* its thread pointer (markroot.c: TLS) */
  uintptr_t sp;                 /* lowest live address while stopped */
  ucontext_t ctx;               /* registers while stopped */
  ucontext_t ctx_now;           /* the handler's own, when it runs late */
  /* Vector registers at a signal stop (the kernel's xsave image): code
   * compiled with -O2 moves pointers through XMM/YMM registers. */
  unsigned char fpstate[4096] __attribute__((aligned(64)));
  size_t fpsize;
  int state;
  int signalled;        /* sent the signal of the current stop */
  int self_acked;       /* acknowledged it by entering a blocking region */
  int fork_waiting;     /* waiting in world_fork_wait (world.mutex) */
  uint64_t sig_gen;     /* stop number of the last signal (atomic) */
  uint64_t ack_gen;     /* stop number last acknowledged (atomic) */
  int sig_sent;         /* a stop's signal is on its way (atomic) */
  int in_handler;       /* inside the suspend handler, not yet parked
                           (atomic; for the slow-stop message only) */
  int explicit_reg; /* sgc_register_thread was called */
  /* One of spangc's own threads, running no program code where a stop
   * can land: its stack and registers are no roots (markroot.c); its TLS
   * is, as every registered thread's (a hook's thread-locals).  Its
   * program signals are blocked (os_start_detached).  Set by the
   * background sweeper for good (the reclaim hook runs in its no-preempt
   * regions), by the concurrent collector but while it runs the collect
   * and start hooks (gc.c program_code_begin), by the finalizer thread
   * while it waits for work (finalizers are program code).  Set and
   * cleared by the thread itself (atomic); read by markers in a stop,
   * which the thread cannot be running through. */
  int noroots;
  sem_t resume;
  struct sgc_fiber home;   /* the thread's own stack as a fiber */
  struct sgc_fiber *cur;   /* the fiber running on this thread */
  struct sgc_fiber *dead;  /* a finished fiber whose stack is to free */
  void *altstack;          /* signal stack (stack overflow, suspension) */
  int altstack_checked;
} mthread;

/* Tests: called by the suspend handler of a thread about to park, after
 * it recorded its registers (async-signal-safe code only). */
extern void (*sgc_test_suspend_hook)(void);

void fiber_thread_init(mthread *t);  /* home fiber of a new thread */
void fiber_thread_exit(mthread *t);
/* sgc_call_without_collections: the running fiber enters a call (its
 * fiber; NULL on a thread's own stack, which never moves, or on an
 * unregistered thread) and returns from it. */
struct sgc_fiber *fiber_hold_begin(void);
void fiber_hold_end(struct sgc_fiber *f);
/* Collector hooks, world stopped: scan suspended reachable fibers until no
 * new one is found; then free the stacks of dead fibers and shrink idle
 * ones. */
bool fibers_scan_marked(gcwork *w);
/* Set every fiber's "scanned this collection" flag: to 0, or (after a
 * complete mark) to whether the mark scanned it. */
void fibers_reset_scanned(bool from_marks);
/* Is the word at offset off of heap object obj a fiber's stack bound or
 * saved stack pointer?  Not a reference: its stack's end is the next
 * span's first object (the verifier, world stopped). */
bool fiber_bound_word(uintptr_t obj, size_t off);
void fibers_after_mark(uint64_t *released);
/* obj is kept unmarked for its finalizer: scan its stack if it is a
 * suspended fiber (world stopped). */
void fiber_scan_kept(gcwork *w, uintptr_t obj, size_t size);
void mark_push_range(gcwork *w, uintptr_t lo, uintptr_t hi);
/* Scan [lo, hi) now, ignoring words that point into [xlo, xlo + xsize). */
void mark_scan_range_except(gcwork *w, uintptr_t lo, uintptr_t hi,
                            uintptr_t xlo, size_t xsize);
bool mark_is_marked(uintptr_t p);

/* signals.c: the suspend signal (chosen by signals_init, which installs
 * the handler), the program's own action for it, and the interposers
 * that keep it deliverable in registered threads. */
#include <signal.h>
extern int sgc_suspend_sig;
void signals_init(void (*handler)(int, siginfo_t *, void *));
void signals_chain(int sig, siginfo_t *si, void *uc);
void signals_unblock_suspend(void);
/* This thread's mask: every signal but the synchronous faults and the
 * suspend signal blocked (the previous one in *old), for making spangc's
 * own threads; and back. */
void signals_block_program(sigset_t *old);
void signals_restore_mask(const sigset_t *old);
int signals_handler_intact(void);
const char *signals_name(int sig, char *buf, size_t size);
void signals_atfork_child(void);

/* The world's state (world.c; blocking.c's regions take its mutex too). */
typedef struct world_state {
  sgc_mutex mutex;
  pthread_cond_t cond;
  int stopping;
  sem_t ack;
  uint64_t gen; /* number of the current or last stop */
  /* Outsiders (see world_outsider_enter): how many are inside a region,
   * and whether a stop bars new ones (both seq_cst atomics). */
  int outsiders;
  int barred;
  pthread_cond_t outsiders_gone; /* with mutex */
  int barrier; /* a fork barrier is being raised (mutex) */
  pthread_cond_t fork_done; /* with mutex: world_forking went back to 0 */
} world_state;
extern world_state world;

void world_init(void);
/* The calling thread, with record t (NULL: made now); NULL if out of
 * memory. */
mthread *world_register(mcache *c, mthread *t);
void world_unregister(mthread *t);
/* Stop every other mutator (gc_lock held) / restart them. */
void world_stop(mthread *self);
void world_start(mthread *self);
void world_park_pending(mcache *c);
/* Call fn for each registered thread (world stopped). */
void world_foreach_thread(void (*fn)(mthread *t, void *arg), void *arg);
/* Roots held by threads being started (world stopped). */
void world_foreach_start_root(void (*fn)(uintptr_t lo, uintptr_t hi, void *),
                              void *arg);
int world_nthreads(void);
/* For the thread that stops the world: is it stopped now? */
bool world_is_stopped(void);
/* The first address in [p, hi) on a page of an in-use span of a scanned
 * kind (mheap.scanpages), or hi.  With the world running, a span made
 * meanwhile may not show yet: see scan_dirty for when that is safe. */
uintptr_t mheap_next_scanned_page(uintptr_t p, uintptr_t hi);
/* The first address in [p, hi) on a page of no in-use scanned span, or
 * hi (same caveat). */
uintptr_t mheap_next_unscanned_page(uintptr_t p, uintptr_t hi);
/* threads.c, the thread registry: its list and records, which world.c's
 * stop reads and changes too (threads_lock held); and the waits made in
 * a blocking region. */
extern sgc_mutex threads_lock;
extern mthread *allthreads;
extern int nthreads;
extern fixalloc threadalloc;
void thread_list_remove(mthread *t); /* threads_lock held */
/* /proc/self/task/<tid>/<name> into buf; false if it cannot be read. */
bool read_task_file(int tid, const char *name, char *buf, size_t size);
/* Kernel thread tid's start time (0: unknown) and state letter. */
uint64_t thread_stat(int tid, char *state);
bool thread_gone(const mthread *t); /* exited, or its tid names another */
void lock_as_blocking(sgc_mutex *m);
/* Sleep ns, in a blocking region as lock_as_blocking waits. */
void sleep_as_blocking(uint64_t ns);
/* fn(), in a blocking region as lock_as_blocking waits: fn touches no
 * object and may wait for a lock a stop takes. */
void run_as_blocking(void (*fn)(void));
/* sgc_enter_blocking's body, in blocking.c (machine.c's entry passes the
 * caller's callee-saved registers: r15, r14, r13, r12, rbx, rbp, return
 * address). */
void world_enter_blocking(const uintptr_t *saved);

/* A fork is under way (world.c, "fork barrier"): a thread entering the
 * runtime waits in world_fork_wait until it is over.  A thread sees the
 * flag from its first entry after the fork's signal reached it. */
extern int world_forking;
void world_fork_wait(mcache *c);

/* Runtime locks are taken only inside a no-preempt region, so a stop
 * never parks a thread that holds one (rule:no-stop-holding-lock). */
/* The steps, without a call: nopreempt_try_enter enters and says false
 * while the fork barrier is up; nopreempt_leave_quick leaves and says
 * true when a stop is pending.  The allocation fast path (malloc.c's
 * alloc_any) uses them as they are, so that it saves no register: it
 * makes the calls below itself, as tail calls (seeing the barrier up, it
 * leaves and goes the general way, whose nopreempt_enter waits). */
static inline bool nopreempt_try_enter(mcache *c) {
  c->nopreempt++;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  return likely(!ATOMIC_LOAD_RELAXED(&world_forking));
}
static inline bool nopreempt_leave_quick(mcache *c) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  return --c->nopreempt == 0 && unlikely(c->pending);
}
static inline void nopreempt_enter(mcache *c) {
  if (unlikely(!nopreempt_try_enter(c)) && c->nopreempt == 1)
    world_fork_wait(c);
}
static inline void nopreempt_leave(mcache *c) {
  if (nopreempt_leave_quick(c))
    world_park_pending(c);
}
/* Out of the no-preempt region for a while, from inside the allocator
 * (to collect or to assist), holding no runtime lock: a stop pending is
 * answered first.  Returns the depth to step back in with. */
static inline int nopreempt_step_out(mcache *c) {
  int np = c->nopreempt;
  c->nopreempt = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (c->pending)
    world_park_pending(c);
  return np;
}
/* Back in, np deep.  A re-entry is an entry: a fork barrier raised while
 * the thread was out (and answered by its handler, out there) holds it
 * here until the fork is over (rule:fork-barrier).  Restoring the depth
 * without looking let a thread run on into mheap_alloc during the fork:
 * the child inherited a span published in allspans but on no central
 * list, and its sweeper crashed unlinking it. */
static inline void nopreempt_step_in(mcache *c, int np) {
  c->nopreempt = np;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (unlikely(ATOMIC_LOAD_RELAXED(&world_forking)))
    world_fork_wait(c);
}
/* Unregistered threads in calls that look at spans (world.c). */
extern __thread int world_in_collector;
void world_outsider_enter(void);
void world_outsider_leave(void);
/* For entry points that may run on an unregistered thread: a registered
 * one enters a no-preempt region; another one enters as an outsider, so
 * no stop begins until it leaves.  Returns the token for leaving. */
static inline mcache *nopreempt_enter_any(void) {
  mcache *c = sgc_tls_cache;
  if (c && c->thr) {
    nopreempt_enter(c);
    return c;
  }
  world_outsider_enter();
  return NULL;
}
static inline void nopreempt_leave_any(mcache *c) {
  if (c)
    nopreempt_leave(c);
  else
    world_outsider_leave();
}

/* ------------------------------------------------------------------ fork */

/* pthread_atfork phases.  Each subsystem takes its locks in PREPARE (in
 * the order of the lock table, lockrank.h), releases them in PARENT, and in
 * CHILD releases them and forgets the threads that do not exist in the child.
 */
enum { FORK_PREPARE, FORK_PARENT, FORK_CHILD };
void fork_init(void);
void init_atfork(int phase); /* malloc.c: init_lock, first and last */
void gc_atfork(int phase);
void gc_atfork_threads(int phase);
void world_atfork(int phase);
/* The thread records' allocator: its lock is taken by heap_atfork with the
 * other allocators' (a thread takes it outside the fork barrier's reach). */
fixalloc *world_thread_alloc(void);
void heap_atfork(int phase);
void os_atfork(int phase);
void caches_atfork(int phase);
void finalizer_atfork(int phase);
void roots_atfork(int phase);

/* --------------------------------------------------------------- machine */

/* machine.c (x86-64).  Run fn(arg) on the stack whose top is 'top'
 * (16-byte aligned). */
void call_on_stack(void (*fn)(void *), void *arg, void *top);
/* Save rbp rbx r12-r15 and the SSE/x87 control words on the current
 * stack, store rsp in *save_sp, load load_sp and pop the same. */
void fiber_swap(uintptr_t *save_sp, uintptr_t load_sp);
/* A fiber's first switch lands here, with the fiber in r12 and a 16-byte
 * aligned stack; it calls fiber_main (fiber.c). */
void fiber_entry(void);
/* The calling thread's thread pointer (%fs:0, the address of its TCB). */
uintptr_t machine_thread_pointer(void);

#endif /* SPANGC_WORLD_INT_H */
