/* GC_pthread_create/join/detach/exit (direct and redirected): a thread's
 * returned GC object survives collections until the join; pthread_exit's
 * value is what join returns; detached and many short-lived threads work. */
// labels: bdwgc threads
/* gc.h does not promise it, but stock bdwgc keeps a thread's returned value
 * alive until the join (that is why it intercepts pthread_join) and programs
 * rely on it.  It does not keep a value given to pthread_exit alive, so the
 * test keeps that one in a global. */
#include <gc.h>
#include <time.h>
#include "bdwgc_check.h"

#define RSIZE 256

int detached_done;
GC_hidden_pointer w_result[8];
void *exit_results[8];   /* the values given to pthread_exit, kept alive */

static NOINLINE void *make_result(intptr_t id) {
  char *r = GC_malloc(RSIZE);
  CHECK(r != NULL, "allocation");
  fill_pattern(r, RSIZE, (size_t)id);
  watch(&w_result[id], r);
  return r;
}

static void *returns_object(void *arg) {
  return make_result((intptr_t)arg);
}

static NOINLINE void exit_deep(intptr_t id, int depth) {
  if (id < 0) return;
  if (depth > 0) exit_deep(id, depth - 1);
  exit_results[id] = make_result(id);
  pthread_exit(exit_results[id]);          /* GC_pthread_exit */
}

static void *exits_with_object(void *arg) {
  exit_deep((intptr_t)arg, 5);
  return NULL;
}

static void *detached_worker(void *arg) {
  for (int i = 0; i < 2000; i++) CHECK(GC_malloc(100) != NULL, "allocation");
  __atomic_fetch_add(&detached_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *short_lived(void *arg) {
  void *keep[16];
  for (int i = 0; i < 16; i++) {
    keep[i] = GC_malloc(48);
    CHECK(keep[i] != NULL, "allocation");
    fill_pattern(keep[i], 48, (size_t)i);
  }
  for (int i = 0; i < 500; i++) CHECK(GC_malloc(64) != NULL, "allocation");
  for (int i = 0; i < 16; i++)
    if (check_pattern(keep[i], 48, (size_t)i) >= 0) return NULL;
  return arg;
}

static void churn_and_collect(int n) {
  for (int r = 0; r < n; r++) {
    for (int g = 0; g < 3000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    clear_stack();
    GC_gcollect();
  }
}

int main(void) {
  GC_INIT();
  pthread_t t[8];
  for (intptr_t i = 0; i < 8; i++) {
    int r = i % 2 ? GC_pthread_create(&t[i], NULL, returns_object, (void *)i)
                  : pthread_create(&t[i], NULL, exits_with_object, (void *)i);
    CHECK(r == 0, "thread creation failed: %d", r);
  }
  struct timespec ms = {0, 100000000};
  nanosleep(&ms, NULL);       /* let them finish before the collections */
  churn_and_collect(10);
  for (intptr_t i = 1; i < 8; i += 2)
    CHECK(w_result[i] != 0, "the result returned by thread %ld was collected "
          "before the thread was joined", (long)i);
  for (intptr_t i = 0; i < 8; i++) {
    void *res = NULL;
    int r = i % 3 ? pthread_join(t[i], &res) : GC_pthread_join(t[i], &res);
    CHECK(r == 0, "join failed: %d", r);
    CHECK(res != NULL && GC_base(res) == res,
          "thread %ld result %p is not a heap object", (long)i, res);
    if (i % 2 == 0)
      CHECK(res == exit_results[i], "join returned %p, pthread_exit was "
            "given %p", res, exit_results[i]);
    long bad = check_pattern(res, RSIZE, (size_t)i);
    CHECK(bad < 0, "thread %ld's result was damaged at byte %ld after "
          "collections before the join", (long)i, bad);
  }

  /* Detached threads. */
  pthread_t d;
  for (int i = 0; i < 4; i++) {
    CHECK(pthread_create(&d, NULL, detached_worker, NULL) == 0, "create");
    CHECK((i % 2 ? GC_pthread_detach(d) : pthread_detach(d)) == 0, "detach");
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (int i = 0; i < 4; i++)
    CHECK(pthread_create(&d, &attr, detached_worker, NULL) == 0, "create");
  pthread_attr_destroy(&attr);
  for (int waited = 0; __atomic_load_n(&detached_done, __ATOMIC_SEQ_CST) < 8;
       waited++) {
    CHECK(waited < 10000, "detached threads did not finish");
    struct timespec one = {0, 1000000};
    nanosleep(&one, NULL);
  }
  churn_and_collect(3);

  /* Many short-lived threads, a few at a time. */
  for (int batch = 0; batch < 25; batch++) {
    pthread_t s[4];
    for (intptr_t i = 0; i < 4; i++)
      CHECK(pthread_create(&s[i], NULL, short_lived, (void *)(i + 1)) == 0,
            "create");
    if (batch % 5 == 0) GC_gcollect();
    for (intptr_t i = 0; i < 4; i++) {
      void *res;
      CHECK(pthread_join(s[i], &res) == 0, "join");
      CHECK(res == (void *)(i + 1), "a short-lived thread saw its objects "
            "damaged");
    }
  }
  churn_and_collect(2);
  PASS("bdwgc_pthread_create_join_detach_exit");
}
