/* GC_get_suspend_signal / GC_get_thr_restart_signal give a valid signal or
 * -1, stable; GC_pthread_sigmask works like pthread_sigmask, yet a thread
 * blocking every signal is still stopped for collections, keeping its
 * objects. */
// labels: bdwgc threads
#include <gc.h>
#include <signal.h>
#include <time.h>
#include "bdwgc_check.h"

#define LEN 2000
struct node { struct node *next; uintptr_t v; };

int ready, go, failures;
GC_hidden_pointer w[LEN];

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

static NOINLINE void busy(long n) {   /* running, not in a system call */
  for (long k = 0; k < n; k++) KEEP(k);
}

static void *masked_thread(void *arg) {
  sigset_t all, old, now;
  sigfillset(&all);
  if (pthread_sigmask(SIG_BLOCK, &all, &old) != 0) {
    __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
    return NULL;
  }
  pthread_sigmask(SIG_BLOCK, NULL, &now);
  if (!sigismember(&now, SIGTERM) || !sigismember(&now, SIGUSR1) ||
      sigismember(&old, SIGTERM)) {
    fprintf(stderr, "FAIL: pthread_sigmask did not block/report signals\n");
    __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
  }
  struct node *volatile head = NULL;
  for (int i = 0; i < LEN; i++) {
    struct node *n = GC_malloc(sizeof *n);
    if (!n) break;
    n->v = (uintptr_t)i * 3u;
    n->next = head;
    w[i] = GC_HIDE_POINTER(n);
    GC_general_register_disappearing_link((void **)&w[i], n);
    head = n;
  }
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
  long spins = 0;
  while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST)) {
    if (++spins % 4 == 0) sleep_ms(1);           /* blocked in a syscall */
    else busy(200000);
  }
  int i = LEN - 1;
  for (struct node *n = head; n; n = n->next, i--)
    if (i < 0 || n->v != (uintptr_t)i * 3u) break;
  if (i != -1) {
    fprintf(stderr, "FAIL: list of the all-signals-blocked thread damaged\n");
    __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return NULL;
}

int main(void) {
  GC_INIT();
  int s = GC_get_suspend_signal(), r = GC_get_thr_restart_signal();
  CHECK(s == -1 || (s > 0 && s < NSIG), "GC_get_suspend_signal() = %d", s);
  CHECK(r == -1 || (r > 0 && r < NSIG), "GC_get_thr_restart_signal() = %d",
        r);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, masked_thread, NULL) == 0, "pthread_create");
  while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST)) sleep_ms(1);
  for (int k = 0; k < 20; k++) {
    for (int g = 0; g < 3000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    GC_gcollect();
    for (int i = 0; i < LEN; i++)
      CHECK(w[i] != 0, "node %d held by a thread with all signals blocked "
            "collected", i);
  }
  CHECK(GC_get_suspend_signal() == s && GC_get_thr_restart_signal() == r,
        "the signal numbers changed");
  __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
  CHECK(pthread_join(t, NULL) == 0, "pthread_join");
  CHECK(failures == 0, "%d failures in the masked thread", failures);

  /* The main thread too. */
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  CHECK(pthread_sigmask(SIG_BLOCK, &set, &old) == 0, "pthread_sigmask");
  CHECK(GC_pthread_sigmask(SIG_BLOCK, NULL, &set) == 0 &&
            sigismember(&set, SIGUSR2), "SIGUSR2 not blocked");
  GC_gcollect();
  CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0, "restore mask");
  PASS("bdwgc_signals_and_sigmask");
}
