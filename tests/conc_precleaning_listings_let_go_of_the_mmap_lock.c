// labels: conc
/* A listing of written pages (PAGEMAP_SCAN) holds the process's mmap lock
 * for its whole range, and a thread that maps memory meanwhile (the
 * arena's growth, a metadata chunk, a thread's stack) waits for all of
 * it.  The pre-cleaning rounds of a concurrent collection list the whole
 * arena with the world running: one call over a 300 MB heap held the
 * pause test's allocating thread 1-4 ms.  So, with the world running, no
 * listing call covers more than DIRTY_LIST_CALL_MAX; with it stopped the
 * calls may be as long as they like.  Here a heap of about three times
 * that is collected concurrently while a second thread keeps writing
 * pointers into it (so the rounds have pages to list); every call's range
 * is recorded, and every object keeps its contents.  The markers' reading
 * of a large object's populated pages is such a call too: two objects of
 * three times that size, one written on a page every MiB, the other on
 * 20 pages in each 64 MiB (its runs span several calls before they reach
 * the most one object may push), hold the only references to a set of
 * small objects. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

typedef struct obj {
  uint64_t tag;
  struct obj *peer; /* written by the second thread during the mark */
  uint64_t pad[6];
} obj;

#define NOBJ ((long)(3 * DIRTY_LIST_CALL_MAX / sizeof(obj)))
obj **volatile objs; /* root */
#define BIG (3 * DIRTY_LIST_CALL_MAX)
#define NBIG ((long)(BIG >> 20))
obj **volatile big; /* root: a word every MiB holds a small object */
#define SPARSE_STEP (DIRTY_LIST_CALL_MAX / 20)
#define NSPARSE ((long)(BIG / SPARSE_STEP))
obj **volatile sparse; /* root: a word every SPARSE_STEP likewise */

static uintptr_t longest_running, longest_stopped; /* atomic */
static uint64_t running_calls, running_bytes;       /* atomic */
static void record(uintptr_t lo, uintptr_t hi, bool running) {
  uintptr_t len = hi - lo, *m = running ? &longest_running : &longest_stopped;
  uintptr_t cur = ATOMIC_LOAD(m);
  while (len > cur && !__atomic_compare_exchange_n(m, &cur, len, false,
                                                   __ATOMIC_SEQ_CST,
                                                   __ATOMIC_SEQ_CST))
    ;
  if (running) {
    ATOMIC_ADD(&running_calls, 1);
    ATOMIC_ADD(&running_bytes, (uint64_t)len);
  }
}

static int stop; /* atomic */
static void *writer(void *arg) {
  (void)arg;
  uint64_t x = 88172645463325252ull;
  while (!ATOMIC_LOAD(&stop)) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    long i = (long)(x % (uint64_t)NOBJ), j = (long)((x >> 20) % (uint64_t)NOBJ);
    objs[i]->peer = objs[j];
  }
  return NULL;
}

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  objs = sgc_alloc((size_t)NOBJ * sizeof(obj *));
  CHECK(objs != NULL);
  for (long i = 0; i < NOBJ; i++) {
    obj *o = sgc_alloc(sizeof *o);
    CHECK(o != NULL);
    o->tag = (uint64_t)i * 2654435761u + 1;
    objs[i] = o;
  }
  big = sgc_alloc(BIG);
  CHECK(big != NULL);
  for (long k = 0; k < NBIG; k++) {
    obj *o = sgc_alloc(sizeof *o);
    CHECK(o != NULL);
    o->tag = ~(uint64_t)k;
    big[(k << 20) / sizeof(obj *)] = o;
  }
  sparse = sgc_alloc(BIG);
  CHECK(sparse != NULL);
  for (long k = 0; k < NSPARSE; k++) {
    obj *o = sgc_alloc(sizeof *o);
    CHECK(o != NULL);
    o->tag = (uint64_t)k << 32 | 0x5a;
    sparse[(size_t)k * SPARSE_STEP / sizeof(obj *)] = o;
  }
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, writer, NULL) == 0);
  ATOMIC_STORE(&sgc_test_listing_call_hook, record);
  for (int c = 0; c < 3; c++)
    sgc_collect(); /* concurrent whatever the heap */
  ATOMIC_STORE(&sgc_test_listing_call_hook, NULL);
  ATOMIC_STORE(&stop, 1);
  CHECK(pthread_join(t, NULL) == 0);

  uint64_t calls = ATOMIC_LOAD(&running_calls);
  uint64_t bytes = ATOMIC_LOAD(&running_bytes);
  uintptr_t longest = ATOMIC_LOAD(&longest_running);
  printf("listing calls with the world running: %llu, %.1f MiB in all, the "
         "longest %.1f MiB; with it stopped, the longest %.1f MiB\n",
         (unsigned long long)calls, bytes / 1048576.0, longest / 1048576.0,
         ATOMIC_LOAD(&longest_stopped) / 1048576.0);
  CHECKF(calls > 0, "no listing with the world running in three "
                    "concurrent collections");
  CHECKF(bytes > DIRTY_LIST_CALL_MAX,
         "the running listings covered %.1f MiB: too little to tell",
         bytes / 1048576.0);
  CHECKF(longest <= DIRTY_LIST_CALL_MAX,
         "a listing call covered %.1f MiB with the world running (at most "
         "%.0f MiB: a thread mapping memory waits for all of it)",
         longest / 1048576.0, DIRTY_LIST_CALL_MAX / 1048576.0);
  for (long i = 0; i < NOBJ; i++)
    CHECKF(objs[i]->tag == (uint64_t)i * 2654435761u + 1,
           "object %ld lost its contents", i);
  for (long k = 0; k < NBIG; k++)
    CHECKF(big[(k << 20) / sizeof(obj *)]->tag == ~(uint64_t)k,
           "the object held at MiB %ld of the large one lost its contents",
           k);
  for (long k = 0; k < NSPARSE; k++)
    CHECKF(sparse[(size_t)k * SPARSE_STEP / sizeof(obj *)]->tag ==
               ((uint64_t)k << 32 | 0x5a),
           "the object held by page %ld of the sparse large one lost its "
           "contents", k);
  return 0;
}
