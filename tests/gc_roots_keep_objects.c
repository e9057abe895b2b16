// labels: gc threads
/* Every kind of root keeps its objects alive, and nothing else does.
 * Objects referenced only from the data section, the bss, a local of
 * main, a sgc_add_roots range in malloc'ed memory, the stack of a
 * registered thread parked in a blocking region, and the stack of a
 * registered thread running a loop are never finalized by a collection
 * and keep their contents.  Objects nobody references are finalized
 * (most of them: a stale stack word may keep a few), and so are the
 * objects of the malloc'ed range once sgc_remove_roots dropped it. */
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

enum { K_DATA, K_BSS, K_STACK, K_ROOTS, K_TBLOCK, K_TRUN, K_GARBAGE, K_N };
static const char *kind_name[K_N] = {"data",           "bss",
                                     "main's stack",   "sgc_add_roots",
                                     "blocked thread", "running thread",
                                     "garbage"};

#define NKEEP 64    /* per kept kind */
#define NROOTS 1000 /* objects held by the malloc'ed root range */
#define NGARBAGE 2000
#define OBJ_WORDS 8

static long finalized[K_N]; /* atomic */

static uint64_t pattern(int kind, long i, int w) {
  /* High bits set: never a heap address. */
  return 0xF1E2000000000000ull ^ ((uint64_t)kind << 40) ^ ((uint64_t)i << 8) ^
         (uint64_t)w;
}

static void on_finalize(void *obj, void *arg) {
  (void)obj;
  ATOMIC_ADD(&finalized[(intptr_t)arg], 1);
}

/* A finalizable object of the given kind, filled with its pattern. */
static uint64_t *make(int kind, long i) {
  uint64_t *p = sgc_alloc(OBJ_WORDS * sizeof(uint64_t));
  CHECK(p != NULL);
  for (int w = 0; w < OBJ_WORDS; w++)
    p[w] = pattern(kind, i, w);
  CHECK(sgc_set_finalizer(p, on_finalize, (void *)(intptr_t)kind) == 0);
  return p;
}

static int intact(const uint64_t *p, int kind, long i) {
  for (int w = 0; w < OBJ_WORDS; w++)
    if (p[w] != pattern(kind, i, w))
      return 0;
  return 1;
}

/* Roots under test.  g_data has a non-zero initialiser: it lives in .data. */
uint64_t *volatile g_data[NKEEP] = {(uint64_t *)1};
uint64_t *volatile g_bss[NKEEP];

__attribute__((noinline)) static void make_globals(void) {
  for (long i = 0; i < NKEEP; i++) {
    g_data[i] = make(K_DATA, i);
    g_bss[i] = make(K_BSS, i);
  }
}

__attribute__((noinline)) static void make_roots(uint64_t **block) {
  for (long i = 0; i < NROOTS; i++)
    block[i] = make(K_ROOTS, i);
}

__attribute__((noinline)) static void make_garbage(void) {
  for (long i = 0; i < NGARBAGE; i++) {
    (void)make(K_GARBAGE, i);
  }
}

/* ------------------------------------------------------------ threads */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int blocked_ready, running_ready, release_blocked; /* mu */
static int stop_running;                                  /* atomic */
static long thread_bad[K_N];                              /* atomic */

__attribute__((noinline)) static void thread_fill(uint64_t *volatile *held,
                                                  int kind) {
  for (long i = 0; i < NKEEP; i++)
    held[i] = make(kind, i);
}

static void *blocked_thread(void *arg) {
  (void)arg;
  uint64_t *volatile held[NKEEP];
  thread_fill(held, K_TBLOCK);
  lock_blocking(&mu);
  blocked_ready = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);

  sgc_enter_blocking();
  pthread_mutex_lock(&mu);
  while (!release_blocked)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  sgc_exit_blocking();

  for (long i = 0; i < NKEEP; i++)
    if (!intact(held[i], K_TBLOCK, i))
      ATOMIC_ADD(&thread_bad[K_TBLOCK], 1);
  return NULL;
}

static void *running_thread(void *arg) {
  (void)arg;
  uint64_t *volatile held[NKEEP];
  thread_fill(held, K_TRUN);
  lock_blocking(&mu);
  running_ready = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  long n = 0;
  while (!ATOMIC_LOAD(&stop_running)) {
    long i = n++ % NKEEP;
    if (!intact(held[i], K_TRUN, i))
      ATOMIC_ADD(&thread_bad[K_TRUN], 1);
    if (n % 64 == 0) { /* some garbage, and a chance to be stopped */
      void *volatile g = sgc_alloc(48);
      (void)g;
      sched_yield();
    }
  }
  for (long i = 0; i < NKEEP; i++)
    if (!intact(held[i], K_TRUN, i))
      ATOMIC_ADD(&thread_bad[K_TRUN], 1);
  return NULL;
}

/* ------------------------------------------------------------- main */

static long fin(int k) { return ATOMIC_LOAD(&finalized[k]); }

int main(void) {
  sgc_init();
  uint64_t *volatile local[NKEEP];
  for (long i = 0; i < NKEEP; i++)
    local[i] = make(K_STACK, i);
  make_globals();

  uint64_t **block = malloc(NROOTS * sizeof *block);
  CHECK(block != NULL);
  CHECK(sgc_add_roots(block, block + NROOTS) == 0);
  make_roots(block);

  pthread_t tb, tr;
  CHECK(sgc_pthread_create(&tb, NULL, blocked_thread, NULL) == 0);
  CHECK(sgc_pthread_create(&tr, NULL, running_thread, NULL) == 0);
  sgc_enter_blocking(); /* the waits are blocking; nothing is moved */
  pthread_mutex_lock(&mu);
  while (!blocked_ready || !running_ready)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  sgc_exit_blocking();

  make_garbage();
  clear_stack();

  long rounds = scaled(20);
  for (long r = 0; r < rounds; r++) {
    settle();
    for (int k = 0; k < K_GARBAGE; k++)
      CHECKF(fin(k) == 0, "round %ld: %ld objects held by %s finalized", r,
             fin(k), kind_name[k]);
    /* Garbage to make the freed memory be reused. */
    for (int i = 0; i < 2000; i++) {
      uint64_t *volatile g = sgc_alloc(OBJ_WORDS * sizeof(uint64_t));
      g[0] = 0;
    }
  }
  CHECKF(fin(K_GARBAGE) >= NGARBAGE * 9 / 10,
         "only %ld of %d unreferenced objects finalized", fin(K_GARBAGE),
         NGARBAGE);

  for (long i = 0; i < NKEEP; i++) {
    CHECKF(intact(g_data[i], K_DATA, i), "data object %ld corrupted", i);
    CHECKF(intact(g_bss[i], K_BSS, i), "bss object %ld corrupted", i);
    CHECKF(intact(local[i], K_STACK, i), "stack object %ld corrupted", i);
  }
  for (long i = 0; i < NROOTS; i++)
    CHECKF(intact(block[i], K_ROOTS, i), "root-range object %ld corrupted",
           i);

  ATOMIC_STORE(&stop_running, 1);
  lock_blocking(&mu);
  release_blocked = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  CHECK(pthread_join(tb, NULL) == 0);
  CHECK(pthread_join(tr, NULL) == 0);
  CHECKF(ATOMIC_LOAD(&thread_bad[K_TBLOCK]) == 0,
         "blocked thread saw %ld corrupted objects", thread_bad[K_TBLOCK]);
  CHECKF(ATOMIC_LOAD(&thread_bad[K_TRUN]) == 0,
         "running thread saw %ld corrupted objects", thread_bad[K_TRUN]);
  for (int k = 0; k < K_GARBAGE; k++)
    CHECKF(fin(k) == 0, "%ld objects held by %s finalized", fin(k),
           kind_name[k]);

  /* Without its root range, the malloc'ed block keeps nothing alive. */
  sgc_remove_roots(block, block + NROOTS);
  clear_stack();
  settle();
  CHECKF(fin(K_ROOTS) >= NROOTS * 9 / 10,
         "only %ld of %d objects of the removed root range finalized",
         fin(K_ROOTS), NROOTS);
  for (int k = 0; k < K_GARBAGE; k++)
    if (k != K_ROOTS && k != K_TBLOCK && k != K_TRUN)
      CHECKF(fin(k) == 0, "%ld objects held by %s finalized", fin(k),
             kind_name[k]);
  for (long i = 0; i < NKEEP; i++) {
    CHECK(intact(g_data[i], K_DATA, i));
    CHECK(intact(g_bss[i], K_BSS, i));
    CHECK(intact(local[i], K_STACK, i));
  }
  free(block);
  printf("finalized: garbage %ld/%d, removed roots %ld/%d\n", fin(K_GARBAGE),
         NGARBAGE, fin(K_ROOTS), NROOTS);
  return 0;
}
