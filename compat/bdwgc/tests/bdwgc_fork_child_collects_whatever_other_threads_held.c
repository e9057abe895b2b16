/* A fork child collects whatever other threads of the parent were doing in
 * the bdwgc layer at the fork: holding the allocation lock (GC_alloc_lock,
 * GC_call_with_alloc_lock), reporting a collection's events, adding
 * toggle references, adding and removing roots, making threads.  Those
 * threads do not exist in the child; their locks and half-reported events
 * must not make the child wait for ever (each child has 5 s for a
 * collection, some allocation, adding and removing a root range and
 * making a thread; before the layer reset its roots and threads locks in
 * the child, most children hung in GC_add_roots). */
// labels: bdwgc
#include <gc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bdwgc_check.h"

static volatile int stop;

static void *locker(void *arg) {
  (void)arg;
  while (!stop) {
    GC_alloc_lock();
    usleep(1000);
    GC_alloc_unlock();
    usleep(100);
  }
  return NULL;
}

static void GC_CALLBACK slow_event(GC_EventType e) {
  if (e == GC_EVENT_RECLAIM_END)
    usleep(1000);
}

static void *collector(void *arg) {
  (void)arg;
  while (!stop)
    GC_gcollect();
  return NULL;
}

void *rootspace[64]; /* a range added and removed as roots */

static void *rooter(void *arg) {
  (void)arg;
  while (!stop) {
    GC_add_roots(rootspace, rootspace + 64);
    GC_remove_roots(rootspace, rootspace + 64);
  }
  return NULL;
}

static void *noop(void *arg) { return arg; }

static void *spawner(void *arg) {
  (void)arg;
  while (!stop) {
    pthread_t t;
    CHECK(GC_pthread_create(&t, NULL, noop, NULL) == 0, "thread");
    CHECK(GC_pthread_join(t, NULL) == 0, "join");
  }
  return NULL;
}

static GC_ToggleRefStatus GC_CALLBACK keep_strong(void *obj) {
  (void)obj;
  return GC_TOGGLE_REF_STRONG;
}

static void *toggler(void *arg) {
  (void)arg;
  while (!stop) {
    void *p = GC_MALLOC(32);
    CHECK(p != NULL, "allocation");
    CHECK(GC_toggleref_add(p, 1) == GC_SUCCESS, "GC_toggleref_add");
    usleep(200);
  }
  return NULL;
}

int main(void) {
  GC_INIT();
  GC_set_on_collection_event(slow_event);
  GC_set_toggleref_func(keep_strong);
  pthread_t t[5];
  CHECK(GC_pthread_create(&t[0], NULL, locker, NULL) == 0, "thread");
  CHECK(GC_pthread_create(&t[1], NULL, collector, NULL) == 0, "thread");
  CHECK(GC_pthread_create(&t[2], NULL, toggler, NULL) == 0, "thread");
  CHECK(GC_pthread_create(&t[3], NULL, rooter, NULL) == 0, "thread");
  CHECK(GC_pthread_create(&t[4], NULL, spawner, NULL) == 0, "thread");
  int hung = 0, failed = 0, n = 40;
  for (int i = 0; i < n; i++) {
    usleep(2000);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      if (BDWGC_SANITIZED)
        _exit(0);
      alarm(5);
      GC_gcollect();
      for (int k = 0; k < 20000; k++) {
        void *volatile p = GC_MALLOC(64);
        (void)p;
      }
      GC_gcollect();
      GC_add_roots(rootspace, rootspace + 64);
      GC_remove_roots(rootspace, rootspace + 64);
      pthread_t c;
      if (GC_pthread_create(&c, NULL, noop, NULL) != 0 ||
          GC_pthread_join(c, NULL) != 0)
        _exit(2);
      GC_gcollect();
      _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
      hung++;
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      failed++;
  }
  stop = 1;
  for (int i = 0; i < 5; i++)
    GC_pthread_join(t[i], NULL);
  CHECK(hung == 0, "%d of %d fork children hung", hung, n);
  CHECK(failed == 0, "%d of %d fork children failed", failed, n);
  PASS("bdwgc_fork_child_collects_whatever_other_threads_held");
}
