/* Objects referenced only from thread-local variables (__thread,
 * _Thread_local) stay alive through collections: in the main thread, in a
 * thread made with GC_pthread_create, and in a raw pthread registered with
 * GC_register_my_thread.  Each object is watched by a disappearing link,
 * which must stay set, and keeps its contents.
 * bdwgc 8.2 does not scan thread-local storage (the main thread's lies
 * outside its stack), so this test fails on the stock library. */
// labels: bdwgc threads
// stock-fails: bdwgc 8.2 does not scan thread-local storage
#include <gc.h>
#include <pthread.h>
#include "bdwgc_check.h"

#define SIZE 300
#define N 16

static __thread void *tls_objs[N];
static _Thread_local void *c11_obj;
GC_hidden_pointer links[3][N + 1];
int failures;

static NOINLINE void fill(int set) {
  for (int i = 0; i < N; i++) {
    void *p = GC_MALLOC(SIZE);
    CHECK(p != NULL, "allocation");
    fill_pattern(p, SIZE, (size_t)(set * 100 + i));
    tls_objs[i] = p;
    watch(&links[set][i], p);
  }
  c11_obj = GC_MALLOC(SIZE);
  fill_pattern(c11_obj, SIZE, (size_t)(set * 100 + N));
  watch(&links[set][N], c11_obj);
}

static NOINLINE void churn_and_collect(void) {
  clear_stack();
  for (int r = 0; r < 3; r++) {
    for (int k = 0; k < 20000; k++) {
      char *g = GC_MALLOC(SIZE);
      g[0] = 1;
    }
    GC_gcollect();
  }
}

static void verify(int set, const char *who) {
  for (int i = 0; i <= N; i++) {
    void *p = i < N ? tls_objs[i] : c11_obj;
    if (links[set][i] == 0 || check_pattern(p, SIZE, (size_t)(set * 100 + i)) >= 0) {
      fprintf(stderr, "FAIL: %s: object %d held only by a thread-local "
              "variable was collected\n", who, i);
      __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
      return;
    }
  }
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void *blocking_wait(void *want) {
  pthread_mutex_lock(&mu);
  while (phase < (int)(intptr_t)want)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void set_phase(int p) {
  pthread_mutex_lock(&mu);
  phase = p;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void *join_thread(void *t) {
#undef pthread_join
  pthread_join(*(pthread_t *)t, NULL);
  return NULL;
}

static void *worker(void *arg) {
  int set = (int)(intptr_t)arg;
  struct GC_stack_base sb;
  if (set == 2) {
    CHECK(GC_get_stack_base(&sb) == GC_SUCCESS, "GC_get_stack_base");
    CHECK(GC_register_my_thread(&sb) == GC_SUCCESS, "GC_register_my_thread");
  }
  fill(set);
  clear_stack();
  set_phase(2 * set - 1);
  GC_do_blocking(blocking_wait, (void *)(intptr_t)(2 * set));
  verify(set, set == 1 ? "GC_pthread_create thread" : "registered pthread");
  if (set == 2)
    GC_unregister_my_thread();
  return NULL;
}

static void other_thread(int set) {
  pthread_t t;
  if (set == 1) {
    CHECK(GC_pthread_create(&t, NULL, worker, (void *)(intptr_t)set) == 0,
          "GC_pthread_create");
  } else {
#undef pthread_create
    CHECK(pthread_create(&t, NULL, worker, (void *)(intptr_t)set) == 0,
          "pthread_create");
  }
  GC_do_blocking(blocking_wait, (void *)(intptr_t)(2 * set - 1));
  churn_and_collect();
  set_phase(2 * set);
  GC_do_blocking(join_thread, &t);
}

int main(void) {
  GC_INIT();
  GC_allow_register_threads();
  fill(0);
  churn_and_collect();
  verify(0, "main thread");
  other_thread(1);
  other_thread(2);
  CHECK(failures == 0, "%d thread-local object(s) collected", failures);
  PASS("bdwgc_thread_local_variables_are_roots");
}
