/* gc_inline.h: GC_MALLOC_WORDS, GC_MALLOC_ATOMIC_WORDS, GC_CONS and
 * GC_FAST_MALLOC_GRANS with a per-thread free-list array give distinct,
 * right-sized, cleared objects; structures built by several threads survive
 * collections intact and dropped objects are collected. */
// labels: bdwgc threads
/* As gc_inline.h warns, the last word of such an object may not be traced,
 * so pointers are kept out of it (GC_CONS cells hold a pointer in the car
 * only); and as the links of a pointer-free free list are not traced, the
 * rest of the atomic list is dropped after each GC_MALLOC_ATOMIC_WORDS. */
#include <gc.h>
#include <gc/gc_inline.h>
#include <time.h>
#include "bdwgc_check.h"

#define NTHREADS 3
#define LEN 4000
#define NDROP 2000

struct node {       /* GC_MALLOC_WORDS(.., 4, ..): word 3 holds no pointer */
  struct node *next;
  char *payload;    /* atomic object from GC_MALLOC_ATOMIC_WORDS */
  void *cons;       /* a GC_CONS cell: car = a big object, cdr = number */
  GC_word id;
};
struct big {        /* GC_FAST_MALLOC_GRANS, 3 granules */
  GC_word id;
  struct node *back;
  GC_word rest[4];
};

int failures, ready, go;
GC_hidden_pointer w_drop[NTHREADS][NDROP];

static void fail(const char *what) {
  fprintf(stderr, "FAIL in thread: %s\n", what);
  __atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
}
static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

static int check_list(struct node *head, int id) {
  long i = LEN - 1;
  for (struct node *n = head; n; n = n->next, i--) {
    GC_word want = (GC_word)id * 100000u + (GC_word)i;
    if (i < 0 || n->id != want) return 0;
    if (check_pattern(n->payload, 3 * sizeof(void *), want) >= 0) return 0;
    void **cell = n->cons;
    struct big *b = cell[0];
    if ((GC_word)cell[1] != want || b->id != want || b->back != n) return 0;
  }
  return i == -1;
}

static NOINLINE void drop_some(void **fl, int id) {
  for (int i = 0; i < NDROP; i++) {
    void *p;
    GC_MALLOC_WORDS(p, 4, fl);
    if (!p) { fail("GC_MALLOC_WORDS"); return; }
    GC_word *q = p;
    GC_word s = 0;
    for (int k = 0; k < 4; k++) s |= q[k];
    if (s) fail("GC_MALLOC_WORDS object not cleared");
    w_drop[id][i] = GC_HIDE_POINTER(p);
    GC_general_register_disappearing_link((void **)&w_drop[id][i], p);
  }
}

static void *thread_main(void *arg) {
  int id = (int)(intptr_t)arg;
  void *fl[GC_TINY_FREELISTS];          /* this thread's free lists */
  void *afl[GC_TINY_FREELISTS];         /* and for atomic objects */
  memset(fl, 0, sizeof fl);
  memset(afl, 0, sizeof afl);
  struct node *volatile head = NULL;
  for (long i = 0; i < LEN; i++) {
    GC_word want = (GC_word)id * 100000u + (GC_word)i;
    struct node *n;
    GC_MALLOC_WORDS(n, 4, fl);
    if (!n) { fail("GC_MALLOC_WORDS"); return NULL; }
    if (n->next || n->payload || n->cons || n->id) fail("node not cleared");
    if (GC_size(n) < 4 * sizeof(void *)) fail("node too small");
    n->id = want;
    char *pl;
    GC_MALLOC_ATOMIC_WORDS(pl, 3, afl);
    if (!pl || GC_size(pl) < 3 * sizeof(void *)) {
      fail("atomic words");
      return NULL;
    }
    fill_pattern(pl, 3 * sizeof(void *), want);
    memset(afl, 0, sizeof afl);   /* its links would not be traced */
    n->payload = pl;
    struct big *b;
    GC_FAST_MALLOC_GRANS(b, 3, fl, 0, GC_I_NORMAL,
                         GC_malloc(3 * GC_GRANULE_BYTES),
                         *(void **)b = 0);
    if (!b) { fail("GC_FAST_MALLOC_GRANS"); return NULL; }
    if (GC_size(b) < 3 * GC_GRANULE_BYTES) fail("GC_FAST_MALLOC_GRANS size");
    if (b->id || b->back || b->rest[0]) fail("granule object not cleared");
    b->id = want;
    b->back = n;
    void *cell;
    GC_CONS(cell, b, (void *)want, fl);
    if (!cell) { fail("GC_CONS"); return NULL; }
    n->cons = cell;
    n->next = head;
    head = n;
  }
  drop_some(fl, id);
  clear_stack();
  if (!check_list(head, id)) fail("list damaged right after building");
  __atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST)) {
    /* Keep allocating small garbage from the same free lists. */
    for (int k = 0; k < 2000; k++) {
      void *g;
      GC_MALLOC_WORDS(g, 2 + k % 6, fl);
      if (!g) fail("garbage allocation");
    }
    sleep_ms(1);
  }
  if (!check_list(head, id)) fail("list damaged after collections");
  return NULL;
}

int main(void) {
  GC_INIT();
  pthread_t t[NTHREADS];
  for (intptr_t i = 0; i < NTHREADS; i++)
    CHECK(pthread_create(&t[i], NULL, thread_main, (void *)i) == 0,
          "pthread_create");
  while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < NTHREADS) sleep_ms(1);
  for (int r = 0; r < 20; r++) {
    GC_gcollect();
    sleep_ms(2);
  }
  long dead = 0;
  for (int i = 0; i < NTHREADS; i++)
    dead += count_cleared(w_drop[i], NDROP);
  __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_join(t[i], NULL) == 0, "pthread_join");
  CHECK(failures == 0, "%d failures in the allocating threads", failures);
  CHECK(mostly(dead, NTHREADS * NDROP), "only %ld of %d dropped "
        "GC_MALLOC_WORDS objects collected", dead, NTHREADS * NDROP);
  PASS("bdwgc_inline_malloc_words_thread_local_lists");
}
