// labels: world threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* fork() while other registered threads are inside malloc: the C library
 * takes every malloc arena lock after the fork handlers, so the fork must
 * not leave a thread parked while it holds one (a stop of the world at
 * fork once hung on the first fork).  The fork waits only until no thread
 * is inside spangc; the others keep running.  Children allocate, collect
 * and verify their heap. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"


static atomic_int stop;

static void *mallocer(void *arg) {
  void *v[64] = {0};
  unsigned r = (unsigned)(uintptr_t)arg;
  long n = 0;
  while (!atomic_load(&stop)) {
    r = r * 1103515245u + 12345u;
    free(v[r % 64]);
    v[r % 64] = malloc(16 + (r >> 16) % 4000);
    if (++n % 64 == 0) { /* and into spangc now and then */
      void *volatile p = sgc_alloc(32 + (r >> 8) % 500);
      (void)p;
    }
  }
  for (int i = 0; i < 64; i++)
    free(v[i]);
  return NULL;
}

int main(void) {
  alarm(120); /* a hung fork fails the test */
  sgc_init();
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, mallocer, (void *)(uintptr_t)(i + 1)) == 0);
  /* 300 forks under ThreadSanitizer too (whatever the scale): its late
   * signal delivery found a fork that waited for ever (1 run in 5 at 30
   * forks: rule:fork-barrier) and a thread answering one stop twice (1
   * run in 15 at 300: rule:acks-exact). */
  long n = TEST_TSAN ? 300 : scaled(300);
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      /* Under a sanitizer the child only exits: its allocator is not
       * fork-safe (a lock held by a thread inside malloc at the fork stays
       * held in the child, and the child's first thread creation hangs). */
      if (i % 50 == 0 && !(TEST_ASAN || TEST_TSAN)) {
        for (int k = 0; k < 20000; k++) {
          void *volatile p = sgc_alloc(64);
          (void)p;
        }
        sgc_collect();
        sgc_heap_verify();
      }
      _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %ld: status %d", i,
           st);
  }
  atomic_store(&stop, 1);
  sgc_enter_blocking();
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  sgc_exit_blocking();
  printf("%ld forks while two threads used malloc\n", n);
  return 0;
}
