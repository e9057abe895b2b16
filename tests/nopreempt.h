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
#include "spangc-int.h"

/* Enter a region (an unregistered thread enters as an outsider: no stop
 * begins until it leaves); returns the token for np_leave. */
static inline mcache *np_enter(void) { return nopreempt_enter_any(); }
static inline void np_leave(mcache *c) { nopreempt_leave_any(c); }

/* m taken inside a region of its own; np_unlock ends both. */
static inline mcache *np_lock(sgc_mutex *m) {
  mcache *c = nopreempt_enter_any();
  sgc_lock(m);
  return c;
}
static inline void np_unlock(sgc_mutex *m, mcache *c) {
  sgc_unlock(m);
  nopreempt_leave_any(c);
}

/* A statement run inside a no-preempt region of its own. */
#define NP(stmt)                                                               \
  do {                                                                         \
    mcache *np_c_ = np_enter();                                                \
    stmt;                                                                      \
    np_leave(np_c_);                                                           \
  } while (0)
#endif
