// labels: gc threads
/* A program that installs its own handler for the suspend signal (here
 * SIGPWR) does not displace spangc's: a registered thread computing
 * without calling into spangc is still stopped, so another thread's
 * allocations are not held up.  The program's handler is what sigaction
 * reports, and it still runs whenever the program itself sends the signal
 * (pthread_kill, raise, kill), on the thread the signal went to — not for
 * the collector's own signals.  signal() is kept the same way, and a
 * handler installed before spangc starts is kept too. */
#include <pthread.h>

#include "stoplatency.h"

#define SPIN 1.5

static atomic_int ready, done, calls, calls_before_init;
static _Thread_local volatile int my_calls; /* handlers: volatile */
static atomic_int last_code;

static void program_handler(int sig, siginfo_t *si, void *uc) {
  atomic_fetch_add(&calls, 1);
  my_calls++;
  atomic_store(&last_code, si->si_code);
}
static void early_handler(int sig) { atomic_fetch_add(&calls_before_init, 1); }
static void plain_handler(int sig) { atomic_fetch_add(&calls, 1); }

static void *spinner(void *arg) {
  void *volatile mine = sgc_alloc(64); /* registered now */
  (void)mine;
  atomic_store(&ready, 1);
  spin_for(SPIN);
  /* The program's own signal to this thread runs its handler here. */
  int before = my_calls;
  CHECK(pthread_kill(pthread_self(), SIGPWR) == 0);
  CHECKF(my_calls == before + 1, "pthread_kill(self, SIGPWR) ran the "
         "program's handler %d times", my_calls - before);
  CHECK(raise(SIGPWR) == 0);
  CHECK(my_calls == before + 2);
  atomic_store(&done, 1);
  return NULL;
}

int main(void) {
  /* Before spangc: installed directly; spangc keeps it as the program's. */
  CHECK(signal(SIGPWR, early_handler) != SIG_ERR);
  sgc_init();
  sgc_collect();
  raise(SIGPWR);
  int early_calls = atomic_load(&calls_before_init);

  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = program_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  CHECK(sigaction(SIGPWR, &sa, &old) == 0);
  struct sigaction now;
  CHECK(sigaction(SIGPWR, NULL, &now) == 0);
  CHECKF((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == program_handler,
         "sigaction does not report the program's handler");

  pthread_t t;
  CHECK(pthread_create(&t, NULL, spinner, NULL) == 0);
  while (!atomic_load(&ready))
    sched_yield();
  check_allocations_not_held_up(0.4, "a program handler for SIGPWR", &done);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  CHECK(atomic_load(&done));
  CHECKF(early_calls == 1,
         "the handler installed before sgc_init ran %d times", early_calls);
  CHECKF(!(old.sa_flags & SA_SIGINFO) && old.sa_handler == early_handler,
         "sigaction did not report the program's previous handler");
  /* Only the program's own signals reached its handler: two from the
   * spinner, none of the collections' hundreds. */
  CHECKF(atomic_load(&calls) == 2,
         "the program's handler ran %d times (collections' signals "
         "reached it?)", atomic_load(&calls));

  /* Sent from "outside" (kill: SI_USER) while collections go on. */
  CHECK(kill(getpid(), SIGPWR) == 0);
  double end = now_s() + 2;
  while (atomic_load(&calls) < 3 && now_s() < end)
    CHECK(sgc_alloc(64) != NULL);
  CHECK(atomic_load(&calls) == 3 && atomic_load(&last_code) == SI_USER);

  /* signal() is recorded the same way, and returns the previous one. */
  CHECK(signal(SIGPWR, plain_handler) == (void (*)(int))(void *)program_handler);
  raise(SIGPWR);
  CHECK(atomic_load(&calls) == 4);
  for (int i = 0; i < 5; i++)
    sgc_collect();
  CHECK(atomic_load(&calls) == 4);
  /* SIG_IGN: the program's deliveries are ignored, stops still work. */
  CHECK(signal(SIGPWR, SIG_IGN) == plain_handler);
  raise(SIGPWR);
  sgc_collect();
  CHECK(atomic_load(&calls) == 4);
  return 0;
}
