/* Raw pthreads are unregistered until, after GC_allow_register_threads, they
 * call GC_register_my_thread (GC_get_stack_base or GC_call_with_stack_base):
 * GC_SUCCESS, then GC_DUPLICATE; their stacks are then roots until
 * GC_unregister_my_thread; re-registration works. */
// labels: bdwgc threads
#include <gc.h>
#include <time.h>
#include "bdwgc_check.h"
/* Use the raw pthread calls for these threads. */
#undef pthread_create
#undef pthread_join

#define LEN 3000
#define NTHREADS 3

struct node { struct node *next; uintptr_t v; };

int phase_ready, phase_go, failures;
GC_hidden_pointer w[NTHREADS][LEN];

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

static void fail(const char *what) {
  fprintf(stderr, "FAIL in thread: %s\n", what);
  __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
}

/* Build a list held only by this frame, wait while main collects, check. */
static NOINLINE void work(int id, int gen) {
  struct node *volatile head = NULL;
  for (int i = 0; i < LEN; i++) {
    struct node *n = GC_malloc(sizeof *n);
    if (!n) { fail("allocation"); return; }
    n->v = (uintptr_t)i * 7u + (uintptr_t)id;
    n->next = head;
    w[id][i] = GC_HIDE_POINTER(n);
    if (GC_general_register_disappearing_link((void **)&w[id][i], n) !=
        GC_SUCCESS) fail("register link");
    head = n;
  }
  __atomic_fetch_add(&phase_ready, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&phase_go, __ATOMIC_SEQ_CST) <= gen) sleep_ms(1);
  int i = LEN - 1;
  for (struct node *n = head; n; n = n->next, i--)
    if (i < 0 || n->v != (uintptr_t)i * 7u + (uintptr_t)id) {
      fail("a stack-held list of a registered thread was damaged");
      return;
    }
  if (i != -1) fail("stack-held list lost nodes");
  for (i = 0; i < LEN; i++)
    GC_unregister_disappearing_link((void **)&w[id][i]);
}

static void *GC_CALLBACK with_base(struct GC_stack_base *sb, void *arg) {
  int local;
  if (sb == NULL || sb->mem_base == NULL ||
      (char *)&local >= (char *)sb->mem_base ||
      (char *)sb->mem_base - (char *)&local > (64 << 20))
    fail("GC_call_with_stack_base passed an implausible stack base");
  if (GC_register_my_thread(sb) != GC_SUCCESS) fail("register via callback");
  if (!GC_thread_is_registered()) fail("not registered after registering");
  work((int)(intptr_t)arg, 0);
  if (GC_unregister_my_thread() != GC_SUCCESS) fail("unregister");
  return (void *)((uintptr_t)arg + 100);
}

static void *foreign(void *arg) {
  int id = (int)(intptr_t)arg;
  if (GC_thread_is_registered()) fail("raw thread registered from birth");
  if (id == 2) {
    void *r = GC_call_with_stack_base(with_base, arg);
    if (r != (void *)((uintptr_t)arg + 100))
      fail("GC_call_with_stack_base result");
    return NULL;
  }
  struct GC_stack_base sb;
  int local;
  if (GC_get_stack_base(&sb) != GC_SUCCESS) {
    fail("GC_get_stack_base");
    return NULL;
  }
  if (sb.mem_base == NULL || (char *)&local >= (char *)sb.mem_base)
    fail("GC_get_stack_base gave a base below the current frame");
  for (int gen = 0; gen < 2; gen++) {
    if (GC_register_my_thread(&sb) != GC_SUCCESS) fail("GC_register_my_thread");
    if (GC_register_my_thread(&sb) != GC_DUPLICATE)
      fail("second GC_register_my_thread did not return GC_DUPLICATE");
    if (!GC_thread_is_registered()) fail("GC_thread_is_registered() == 0");
    /* id 1 registers twice; the second time it waits with the others'
     * second generation, so only one list per thread id is live. */
    if (gen == 0 || id == 1) work(id, gen);
    if (GC_unregister_my_thread() != GC_SUCCESS) fail("unregister");
    if (GC_thread_is_registered()) fail("registered after unregistering");
  }
  KEEP(&local);
  return NULL;
}

int main(void) {
  GC_INIT();
  CHECK(GC_thread_is_registered(), "the main thread is not registered");
  GC_allow_register_threads();
  pthread_t t[NTHREADS];
  for (intptr_t i = 0; i < NTHREADS; i++)
    CHECK(pthread_create(&t[i], NULL, foreign, (void *)i) == 0,
          "pthread_create");
  /* Generation 0: all three threads. */
  while (__atomic_load_n(&phase_ready, __ATOMIC_SEQ_CST) < NTHREADS)
    sleep_ms(1);
  for (int r = 0; r < 20; r++) {
    for (int g = 0; g < 3000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    GC_gcollect();
    for (int id = 0; id < NTHREADS; id++)
      for (int i = 0; i < LEN; i++)
        CHECK(w[id][i] != 0, "node %d held by registered thread %d "
              "collected", i, id);
  }
  __atomic_store_n(&phase_go, 1, __ATOMIC_SEQ_CST);
  /* Generation 1: thread 1, registered a second time. */
  while (__atomic_load_n(&phase_ready, __ATOMIC_SEQ_CST) < NTHREADS + 1)
    sleep_ms(1);
  for (int r = 0; r < 10; r++) {
    GC_gcollect();
    for (int i = 0; i < LEN; i++)
      CHECK(w[1][i] != 0, "node %d held by a re-registered thread "
            "collected", i);
  }
  __atomic_store_n(&phase_go, 2, __ATOMIC_SEQ_CST);
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_join(t[i], NULL) == 0, "pthread_join");
  CHECK(failures == 0, "%d failures in the foreign threads", failures);
  GC_gcollect();
  PASS("bdwgc_register_foreign_thread");
}
