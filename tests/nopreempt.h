/* nopreempt.h — for tests that reach into the runtime: its locks and its
 * internal calls are taken the way the runtime takes them, inside a
 * no-preempt region, so that a collection started meanwhile by another
 * thread (in concurrent mode, by the collector's own thread) never parks
 * the test holding a lock the stop needs (rule:no-stop-holding-lock).
 * In a Debug build a test's own sgc_lock outside a region aborts naming
 * the lock and the rule (tests/CMakeLists.txt sets SPANGC_LOCKRANK).  A
 * test that held mheap.lock outside a region hung one run in about 300
 * in conc (mheap_allspans_grows_under_threads: parked in its wait for
 * the sweep, its lock wanted by the stop's snapshot). */
#ifndef SPANGC_TEST_NOPREEMPT_H
#define SPANGC_TEST_NOPREEMPT_H
#include <sched.h>
#include <time.h>

#include "spangc-int.h"

/* Enter a region (an unregistered thread enters as an outsider: no stop
 * begins until it leaves); returns the token for np_leave. */
static inline mcache *np_enter(void) { return nopreempt_enter_any(); }
static inline void np_leave(mcache *c) { nopreempt_leave_any(c); }

/* m taken inside a region of its own; np_unlock ends both. */
static inline mcache *np_lock(sgc_mutex *m) {
  mcache *c = np_enter();
  sgc_lock(m);
  return c;
}
static inline void np_unlock(sgc_mutex *m, mcache *c) {
  sgc_unlock(m);
  np_leave(c);
}

/* A statement run inside a no-preempt region of its own. */
#define NP(stmt)                                                               \
  do {                                                                         \
    mcache *np_c_ = np_enter();                                                \
    stmt;                                                                      \
    np_leave(np_c_);                                                           \
  } while (0)

/* Wait until the last collection's sweep is over, so that no other thread
 * changes the heap while a test walks it (sgc_heap_verify): sweep what is
 * left, a span at a time in a region (the sweep snapshot is read only
 * inside one, where no collection can replace it), then look at allspans
 * under mheap.lock for an in-use span not swept yet (another thread may
 * still be sweeping one it claimed, or a collection opened a new
 * generation meanwhile: sweep again); then settle_ms more for a sweeper
 * to finish with the span it just published. */
static inline void np_wait_swept(unsigned settle_ms) {
  for (;;) {
    for (;;) {
      mcache *c = np_enter();
      intptr_t r = sweepone(false);
      np_leave(c);
      if (r == -1)
        break;
    }
    bool busy = false;
    mcache *c = np_lock(&sgc_heap.lock);
    uint32_t sg = ATOMIC_LOAD(&sgc_heap.sweepgen);
    for (uint32_t k = 0; k < sgc_heap.nspan && !busy; k++) {
      mspan *s = sgc_heap.allspans[k];
      busy = ATOMIC_LOAD(&s->state) == MSPAN_INUSE &&
             ATOMIC_LOAD(&s->sweepgen) != sg;
    }
    np_unlock(&sgc_heap.lock, c);
    if (!busy)
      break;
    sched_yield();
  }
  /* The whole settle_ms: a stop's signal cuts a sleep short. */
  struct timespec ts = {settle_ms / 1000, settle_ms % 1000 * 1000000L};
  while (settle_ms && nanosleep(&ts, &ts) != 0)
    ;
}
#endif
