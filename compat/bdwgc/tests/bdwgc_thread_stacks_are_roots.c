/* Objects reachable only from the stack of a pthread_create'd thread
 * (sleeping, computing or allocating) survive intact through many collections
 * triggered by the main thread and by other threads. */
// labels: bdwgc threads
#include <gc.h>
#include <time.h>
#include "bdwgc_check.h"

#define NTHREADS 4
#define LEN 2000
#define NARR 100

struct node {
  struct node *next;
  uintptr_t value;
  char pad[24];
};

int ready, done_collecting, failures;
GC_hidden_pointer w[NTHREADS][LEN];

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

static NOINLINE struct node *build_list(int id) {
  struct node *head = NULL;
  for (int i = 0; i < LEN; i++) {
    struct node *n = GC_malloc(sizeof *n);
    CHECK(n != NULL, "allocation");
    n->value = (uintptr_t)id * 1000000u + (uintptr_t)i;
    fill_pattern(n->pad, sizeof n->pad, n->value);
    n->next = head;
    watch(&w[id][i], n);
    head = n;
  }
  return head;
}

static int verify(struct node *head, char **arr, int id) {
  int i = LEN - 1;
  for (struct node *n = head; n; n = n->next, i--) {
    if (i < 0 || n->value != (uintptr_t)id * 1000000u + (uintptr_t)i ||
        check_pattern(n->pad, sizeof n->pad, n->value) >= 0)
      return 0;
  }
  if (i != -1) return 0;
  for (int k = 0; k < NARR; k++)
    if (check_pattern(arr[k], 64, (size_t)id * 100 + (size_t)k) >= 0)
      return 0;
  return 1;
}

static void *thread_main(void *arg) {
  int id = (int)(intptr_t)arg;
  char *arr[NARR];                 /* pointers in this thread's frame */
  for (int k = 0; k < NARR; k++) {
    arr[k] = GC_malloc(64);
    CHECK(arr[k] != NULL, "allocation");
    fill_pattern(arr[k], 64, (size_t)id * 100 + (size_t)k);
  }
  struct node *volatile head = build_list(id);
  __atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
  int rounds = 0;
  while (!__atomic_load_n(&done_collecting, __ATOMIC_ACQUIRE)) {
    if (id == 0) {
      /* Trigger collections from this thread too. */
      for (int g = 0; g < 20000; g++)
        CHECK(GC_malloc(128) != NULL, "garbage");
    } else if (id == 1) {
      for (long g = 0; g < 1000000; g++) KEEP(g); /* busy, not blocked */
    } else {
      sleep_ms(2);
    }
    if (++rounds % 8 == 0 && !verify(head, arr, id))
      __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
  }
  if (!verify(head, arr, id))
    __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
  KEEP(arr);
  return NULL;
}

int main(void) {
  GC_INIT();
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i) == 0,
          "pthread_create");
  while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < NTHREADS) sleep_ms(1);
  GC_word gc0 = GC_get_gc_no();
  for (int r = 0; r < 25; r++) {
    GC_gcollect();
    for (int g = 0; g < 5000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    for (int id = 0; id < NTHREADS; id++)
      for (int i = 0; i < LEN; i++)
        CHECK(w[id][i] != 0, "node %d of thread %d's list collected while "
              "the thread holds it (collection round %d)", i, id, r + 1);
  }
  CHECK(GC_get_gc_no() >= gc0 + 25, "collections did not happen");
  __atomic_store_n(&done_collecting, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_join(t[i], NULL) == 0, "pthread_join");
  CHECK(failures == 0, "%d checks found a thread's stack-held objects "
        "damaged", failures);
  PASS("bdwgc_thread_stacks_are_roots");
}
