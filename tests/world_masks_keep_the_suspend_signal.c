// labels: gc threads
/* A registered thread that blocks every signal — with pthread_sigmask,
 * with sigprocmask, or by running a handler whose sa_mask holds every
 * signal — and then computes without calling into spangc is still stopped
 * by collections: another thread's allocations are not held up.  The
 * masks still block every other signal, and an unregistered thread may
 * block the suspend signal. */
#include <pthread.h>

#include "stoplatency.h"

#define SPIN 1.5

static atomic_int ready, done;
static const char *mask_wrong; /* checked by main once the thread is done */

static void check_blocks_all_but_suspend(const char *how) {
  sigset_t now;
  CHECK(pthread_sigmask(SIG_BLOCK, NULL, &now) == 0);
  if (!sigismember(&now, SIGUSR1) || !sigismember(&now, SIGTERM) ||
      !sigismember(&now, SIGRTMIN + 2))
    mask_wrong = "did not block the other signals";
  if (sigismember(&now, sgc_get_suspend_signal()))
    mask_wrong = "blocked the suspend signal of a registered thread";
}

static void *with_pthread_sigmask(void *arg) {
  void *volatile mine = sgc_alloc(64); /* registered now */
  (void)mine;
  sigset_t all, old;
  sigfillset(&all);
  CHECK(pthread_sigmask(SIG_SETMASK, &all, &old) == 0);
  check_blocks_all_but_suspend("pthread_sigmask");
  atomic_store(&ready, 1);
  spin_for(SPIN);
  atomic_store(&done, 1);
  CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
  return NULL;
}

static void *with_sigprocmask(void *arg) {
  void *volatile mine = sgc_alloc(64);
  (void)mine;
  sigset_t all, old;
  sigfillset(&all);
  CHECK(sigprocmask(SIG_BLOCK, &all, &old) == 0);
  check_blocks_all_but_suspend("sigprocmask");
  atomic_store(&ready, 1);
  spin_for(SPIN);
  atomic_store(&done, 1);
  CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
  return NULL;
}

static atomic_int handled;
static void spinning_handler(int sig) {
  atomic_store(&ready, 1);
  spin_for(SPIN); /* with every signal in sa_mask blocked */
  atomic_store(&done, 1);
  atomic_store(&handled, 1);
}

static void *in_masking_handler(void *arg) {
  void *volatile mine = sgc_alloc(64);
  (void)mine;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = spinning_handler;
  sigfillset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
  CHECK(pthread_kill(pthread_self(), SIGUSR1) == 0);
  CHECK(atomic_load(&handled));
  /* The handler's mask still holds the program's other signals. */
  struct sigaction now;
  CHECK(sigaction(SIGUSR1, NULL, &now) == 0);
  CHECK(sigismember(&now.sa_mask, SIGTERM) && sigismember(&now.sa_mask, SIGUSR2));
  CHECK(sigaction(SIGUSR1, &old, NULL) == 0);
  return NULL;
}

static void run_case(void *(*fn)(void *), const char *what) {
  atomic_store(&ready, 0);
  atomic_store(&done, 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fn, NULL) == 0);
  while (!atomic_load(&ready))
    sched_yield();
  check_allocations_not_held_up(0.4, what, &done);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  CHECK(atomic_load(&done));
  CHECKF(mask_wrong == NULL, "%s %s", what, mask_wrong);
}

/* Never registered: its mask is its own. */
static void *unregistered(void *arg) {
  sigset_t all, now;
  sigfillset(&all);
  CHECK(pthread_sigmask(SIG_BLOCK, &all, NULL) == 0);
  CHECK(pthread_sigmask(SIG_BLOCK, NULL, &now) == 0);
  CHECKF(sigismember(&now, sgc_get_suspend_signal()),
         "an unregistered thread could not block the suspend signal");
  CHECK(!sgc_thread_is_registered());
  return NULL;
}

int main(int argc, char **argv) {
  sgc_init();
  sgc_collect(); /* markers started */
  int only = argc > 1 ? atoi(argv[1]) : 0; /* one case, to try it alone */
  if (only == 0 || only == 1)
    run_case(with_pthread_sigmask, "pthread_sigmask(SIG_SETMASK, all)");
  if (only == 0 || only == 2)
    run_case(with_sigprocmask, "sigprocmask(SIG_BLOCK, all)");
  /* ThreadSanitizer calls a handler late, from its own code, and runs no
   * other handler (the stop's) until this one returns. */
  if ((only == 0 || only == 3) && !TEST_TSAN)
    run_case(in_masking_handler, "a handler with a full sa_mask");
  pthread_t t;
  CHECK(pthread_create(&t, NULL, unregistered, NULL) == 0);
  pthread_join(t, NULL);
  return 0;
}
