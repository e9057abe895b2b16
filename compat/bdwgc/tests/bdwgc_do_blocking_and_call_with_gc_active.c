/* GC_do_blocking(fn) returns fn's result; others collect while a thread is
 * blocked in it and its frames below the call stay roots; inside,
 * GC_call_with_gc_active (and a nested GC_do_blocking) works and the active
 * frames' objects survive. */
// labels: bdwgc threads
#include <gc.h>
#include <time.h>
#include "bdwgc_check.h"

#define LEN 2000
struct node { struct node *next; uintptr_t v; };

int stage;                 /* set by the worker: 1 blocked, 2 active */
int go;                    /* set by main: 1 leave blocked, 2 leave active */
int failures;
GC_hidden_pointer wl[LEN], wm[LEN];

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}
static void fail(const char *what) {
  fprintf(stderr, "FAIL in worker: %s\n", what);
  __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
}

static NOINLINE struct node *make_list(GC_hidden_pointer *w, uintptr_t salt) {
  struct node *head = NULL;
  for (int i = 0; i < LEN; i++) {
    struct node *n = GC_malloc(sizeof *n);
    if (!n) { fail("allocation"); return head; }
    n->v = (uintptr_t)i ^ salt;
    n->next = head;
    w[i] = GC_HIDE_POINTER(n);
    GC_general_register_disappearing_link((void **)&w[i], n);
    head = n;
  }
  return head;
}
static int list_ok(struct node *head, uintptr_t salt) {
  int i = LEN - 1;
  for (struct node *n = head; n; n = n->next, i--)
    if (i < 0 || n->v != ((uintptr_t)i ^ salt)) return 0;
  return i == -1;
}

static void *GC_CALLBACK short_block(void *arg) {
  sleep_ms(1);
  return (void *)((uintptr_t)arg + 1);
}

static void *GC_CALLBACK active_part(void *arg) {
  struct node *volatile m = make_list(wm, 0x55);
  if (GC_do_blocking(short_block, arg) != (void *)((uintptr_t)arg + 1))
    fail("nested GC_do_blocking result");
  __atomic_store_n(&stage, 2, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&go, __ATOMIC_SEQ_CST) < 2) sleep_ms(1);
  if (!list_ok(m, 0x55)) fail("list held by an active frame damaged");
  return (void *)((uintptr_t)arg + 2);
}

static void *GC_CALLBACK blocked_part(void *arg) {
  __atomic_store_n(&stage, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&go, __ATOMIC_SEQ_CST) < 1) sleep_ms(1);
  void *r = GC_call_with_gc_active(active_part, arg);
  if (r != (void *)((uintptr_t)arg + 2)) fail("GC_call_with_gc_active result");
  return (void *)((uintptr_t)arg + 3);
}

static void *worker(void *arg) {
  struct node *volatile l = make_list(wl, 0xaa);
  void *r = GC_do_blocking(blocked_part, arg);
  if (r != (void *)((uintptr_t)arg + 3)) fail("GC_do_blocking result");
  if (!list_ok(l, 0xaa)) fail("list held below GC_do_blocking damaged");
  return NULL;
}

static void collect_and_check(GC_hidden_pointer *w, const char *what) {
  for (int r = 0; r < 10; r++) {
    for (int g = 0; g < 3000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    GC_gcollect();
    for (int i = 0; i < LEN; i++)
      CHECK(wl[i] != 0, "%s: node %d held below GC_do_blocking collected",
            what, i);
    if (w)
      for (int i = 0; i < LEN; i++)
        CHECK(w[i] != 0, "%s: node %d held by an active frame collected",
              what, i);
  }
}

int main(void) {
  GC_INIT();
  CHECK(GC_do_blocking(short_block, (void *)16) == (void *)17,
        "GC_do_blocking on the main thread");
  pthread_t t;
  CHECK(pthread_create(&t, NULL, worker, (void *)64) == 0, "pthread_create");
  while (__atomic_load_n(&stage, __ATOMIC_SEQ_CST) < 1) sleep_ms(1);
  collect_and_check(NULL, "worker blocked");
  __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&stage, __ATOMIC_SEQ_CST) < 2) sleep_ms(1);
  collect_and_check(wm, "worker active inside GC_do_blocking");
  __atomic_store_n(&go, 2, __ATOMIC_SEQ_CST);
  CHECK(pthread_join(t, NULL) == 0, "pthread_join");
  CHECK(failures == 0, "%d failures in the worker", failures);
  PASS("bdwgc_do_blocking_and_call_with_gc_active");
}
