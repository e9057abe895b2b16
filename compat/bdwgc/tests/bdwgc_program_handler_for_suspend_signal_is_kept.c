/* A program that installs its own handler for the suspend signal
 * (GC_get_suspend_signal(), SIGPWR) does not displace the collector's: a
 * thread computing without calling the collector is still stopped, so
 * another thread's allocations are not held up; sigaction reports the
 * program's handler, and it runs whenever the program itself sends the
 * signal, never for collections. */
// labels: bdwgc threads
// stock-fails: bdwgc's suspend handler is replaced by the program's, and the stop waits for the spinning thread (1.5 s; for ever in a longer loop)
#include <gc.h>
#include <pthread.h>
#include <signal.h>
#include "bdwgc_check.h"
#include "bdwgc_stoplatency.h"

#define SPIN 1.5

int ready, done, calls, thread_calls;
static __thread volatile int my_calls;

static void program_handler(int sig, siginfo_t *si, void *uc) {
  __atomic_fetch_add(&calls, 1, __ATOMIC_SEQ_CST);
  my_calls++;
}

static void *spinner(void *arg) {
  void *volatile mine = GC_MALLOC(64);
  KEEP(mine);
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  spin_for(SPIN);
  int before = my_calls;
  pthread_kill(pthread_self(), GC_get_suspend_signal());
  thread_calls = my_calls - before;
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

int main(void) {
#ifdef STOP_TSAN
  /* TSan's sigaction interceptor comes before libgc.so.1's: the
   * program's handler displaces spangc's in TSan's own table. */
  printf("skipped under ThreadSanitizer\n");
  return 0;
#endif
  GC_INIT();
  GC_gcollect();
  int sus = GC_get_suspend_signal();
  CHECK(sus > 0, "GC_get_suspend_signal() = %d", sus);
  struct sigaction sa, now;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = program_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  CHECK(sigaction(sus, &sa, NULL) == 0, "sigaction");
  CHECK(sigaction(sus, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
            now.sa_sigaction == program_handler,
        "sigaction does not report the program's handler");
  pthread_t t;
  CHECK(pthread_create(&t, NULL, spinner, NULL) == 0, "pthread_create");
  while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST)) sched_yield();
  check_allocations_not_held_up(0.4, "a program handler for the suspend "
                                "signal", &done);
  CHECK(pthread_join(t, NULL) == 0, "pthread_join");
  CHECK(thread_calls == 1, "pthread_kill(self) ran the program's handler "
        "%d times", thread_calls);
  for (int i = 0; i < 5; i++) GC_gcollect();
  CHECK(calls == 1, "the program's handler ran %d times (for collections?)",
        calls);
  raise(sus);
  CHECK(calls == 2, "raise did not run the program's handler");
  PASS("bdwgc_program_handler_for_suspend_signal_is_kept");
}
