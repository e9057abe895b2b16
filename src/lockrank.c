/*
 * lockrank.c — the names of the lock ranks (lockrank.h's table) and, in
 * debug builds, the per-thread check of the lock order.
 *
 * Owns each thread's record of the ranks it holds: per rank, how many
 * locks and the address of the last one taken.  Nothing is shared between
 * threads.  A fork child is a copy of the forking thread, record included,
 * so it stays right as long as the child releases (or resets with
 * sgc_mutex_reset_held / sgc_rwlock_reset_held) what the prepare handlers
 * took.  Signal handlers take no runtime lock (a thread holding one is in
 * a no-preempt region, and the suspend handler only sets 'pending' there),
 * and rec_lock is taken with every signal blocked, so the record is never
 * changed by a handler half-way through an update.
 *
 * Also sgc_lock_pass, for long walks done in slices under one lock: the
 * waiter count it reads (sgc_mutex.waiters) is a hint kept by
 * sgc_lock_counted.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "spangc-int.h"

static const char *const names[LOCKRANK_COUNT] = {
    [LOCKRANK_NONE] = "(no lock)",
#define NAME(id, name, guards) [LOCKRANK_##id] = name,
    SGC_LOCK_RANKS(NAME)
#undef NAME
};

const char *lockrank_name(int rank) {
  if (rank <= LOCKRANK_NONE || rank >= LOCKRANK_COUNT)
    return "(unranked lock)";
  return names[rank];
}

typedef struct held_ranks {
  unsigned count[LOCKRANK_COUNT];
  const void *last[LOCKRANK_COUNT];
} held_ranks;
static __thread held_ranks held __attribute__((tls_model("initial-exec")));

static int highest_held(void) {
  for (int r = LOCKRANK_COUNT - 1; r > LOCKRANK_NONE; r--)
    if (held.count[r] > 0)
      return r;
  return LOCKRANK_NONE;
}

/* The bdwgc layer's locks are the program's: held across program code
 * (GC_alloc_lock, a toggle-ref callback, pthread_create) and waited for
 * only in a blocking region (compat_lock), where a waiter answers stops. */
static bool waited_for_blocking(int rank) {
  switch (rank) {
  case LOCKRANK_COMPAT_INIT:
  case LOCKRANK_COMPAT_TOGGLEREF:
  case LOCKRANK_COMPAT_ALLOC:
  case LOCKRANK_COMPAT_ROOTS:
  case LOCKRANK_COMPAT_GCJ:
  case LOCKRANK_COMPAT_KINDS:
  case LOCKRANK_COMPAT_THREADS:
    return true;
  default:
    return false;
  }
}

int lockrank_held_at_stop(void) {
  for (int r = LOCKRANK_COUNT - 1; r > LOCKRANK_NONE; r--)
    if (held.count[r] > 0 && !waited_for_blocking(r))
      return r;
  return LOCKRANK_NONE;
}

__thread int lockrank_stops_kept_away;

/* Is the calling thread where no stop can park it: unregistered (never
 * stopped), in a no-preempt region or a blocking region, the collector,
 * in a mark assist, or holding gc_lock or hold_lock (no stop can begin)? */
static bool stops_kept_away(void) {
  mcache *c = sgc_tls_cache;
  return c == NULL || c->thr == NULL || c->nopreempt > 0 ||
         world_in_collector || lockrank_stops_kept_away > 0 ||
         c->thr->state == THR_BLOCKING || held.count[LOCKRANK_GC] > 0 ||
         held.count[LOCKRANK_HOLD] > 0;
}

/* rule:no-stop-holding-lock, checked where the lock is taken rather than
 * only when a stop happens to land while it is held: a registered thread
 * takes a lock the collector needs only inside a no-preempt region.  Not
 * bound: the thread that collects (it holds gc_lock and is the one that
 * stops the others), the helper markers, threads in a blocking region
 * and unregistered ones (neither is stopped), mark assists
 * (LOCKRANK_STOPS_KEPT_AWAY), a thread holding hold_lock (in
 * sgc_call_without_collections: no collection or fork, and so no stop,
 * can begin), the locks waited for in blocking regions or taken before
 * gc_lock (init_lock, hold_lock, gc_lock itself), and rec_lock (held
 * with every signal blocked: the suspend signal waits). */
static void check_preemptible(const void *lock, int rank) {
  if (rank <= LOCKRANK_GC || rank == LOCKRANK_REC ||
      waited_for_blocking(rank) || stops_kept_away())
    return;
  sgc_fatal("taking %s (rank %d) at %p outside a no-preempt region: a stop "
            "could park this thread holding it (rule:no-stop-holding-lock)",
            lockrank_name(rank), rank, lock);
}

/* The same rule for a lock taken in a blocking region (where the check
 * above lets it be) and still held when the thread leaves the region:
 * from there on a stop may park it.  Held with gc_lock, hold_lock or
 * threads_lock (lock_as_blocking's), no stop can begin. */
void lockrank_check_unblocked(void) {
  int r = lockrank_held_at_stop();
  if (r <= LOCKRANK_GC || held.count[LOCKRANK_THREADS] > 0 ||
      stops_kept_away())
    return;
  sgc_fatal("leaving a blocking region holding %s (rank %d), outside a "
            "no-preempt region: a stop could park this thread holding it "
            "(rule:no-stop-holding-lock)",
            lockrank_name(r), r);
}

void lockrank_acquire(const void *lock, int rank, bool shared) {
  if (rank <= LOCKRANK_NONE || rank >= LOCKRANK_COUNT)
    sgc_fatal("lock order: taking a lock with no rank (%d) at %p", rank,
              lock);
  check_preemptible(lock, rank);
  int top = highest_held();
  bool ok = rank > top ||
            (rank == top && ((uintptr_t)lock > (uintptr_t)held.last[rank] ||
                             (shared && lock == held.last[rank])));
  if (!ok) {
    if (rank == top && lock == held.last[rank])
      sgc_fatal("lock order: taking %s (rank %d) again while holding it",
                lockrank_name(rank), rank);
    if (rank == top)
      sgc_fatal("lock order: taking %s (rank %d) at %p while holding %s "
                "(rank %d) at %p: locks of one rank nest only in address "
                "order", lockrank_name(rank), rank, lock, lockrank_name(top),
                top, held.last[top]);
    sgc_fatal("lock order: taking %s (rank %d) while holding %s (rank %d)",
              lockrank_name(rank), rank, lockrank_name(top), top);
  }
  held.count[rank]++;
  held.last[rank] = lock;
}

void lockrank_acquired_try(const void *lock, int rank) {
  if (rank <= LOCKRANK_NONE || rank >= LOCKRANK_COUNT)
    sgc_fatal("lock order: took a lock with no rank (%d) at %p", rank, lock);
  check_preemptible(lock, rank);
  held.count[rank]++;
  if ((uintptr_t)lock > (uintptr_t)held.last[rank])
    held.last[rank] = lock;
}

void lockrank_release(const void *lock, int rank) {
  if (rank <= LOCKRANK_NONE || rank >= LOCKRANK_COUNT ||
      held.count[rank] == 0)
    sgc_fatal("lock order: releasing %s (rank %d) at %p, which this thread "
              "does not hold", lockrank_name(rank), rank, lock);
  if (--held.count[rank] == 0)
    held.last[rank] = NULL;
}

void lockrank_assert_held(const sgc_mutex *m, const char *file, int line) {
#ifdef __GLIBC__
  bool mine = m->m.__data.__owner == (int)syscall(SYS_gettid);
#else
  bool mine = m->rank > LOCKRANK_NONE && m->rank < LOCKRANK_COUNT &&
              held.count[m->rank] > 0;
#endif
  if (!mine)
    sgc_fatal("lock order: %s (rank %d) is not held by the calling thread "
              "(%s:%d)", lockrank_name(m->rank), m->rank, file, line);
}

void lockrank_test_take_in_order(sgc_mutex *a, sgc_mutex *b) {
  sgc_lock(a);
  sgc_lock(b);
  sgc_unlock(b);
  sgc_unlock(a);
}

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* sgc_lock_pass spins PASS_SPIN_NS for the waiters it saw, then yields
 * and sleeps (os_wait_step) until PASS_WAIT_NS: on these virtual machines
 * the wake-up of a waiter's idle CPU can take longer than a spin.  With a
 * 50 us spin alone, the concurrent collector's clearing of mark bits
 * (mheap_clear_marks) once kept the pause test's allocating thread
 * waiting for mheap.lock through 0.9 ms of passes (perf on the monotonic
 * clock: a 1.6 ms push). */
#define PASS_SPIN_NS 10000
#define PASS_WAIT_NS 500000

/* The mutex alone is let go and taken back: for the order checker this
 * thread holds m throughout (the caller's build, not this file's, decides
 * whether it keeps a record: a test built without one failed here). */
void sgc_lock_pass(sgc_mutex *m) {
  int waiting = __atomic_load_n(&m->waiters, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&m->m);
  if (waiting > 0) {
    uint64_t t0 = os_nanotime(), now = t0;
    unsigned steps = 0;
    while (__atomic_load_n(&m->waiters, __ATOMIC_RELAXED) >= waiting &&
           now - t0 < PASS_WAIT_NS) {
      if (now - t0 < PASS_SPIN_NS)
        spin_pause();
      else
        os_wait_step(&steps);
      now = os_nanotime();
    }
  }
  pthread_mutex_lock(&m->m);
}
