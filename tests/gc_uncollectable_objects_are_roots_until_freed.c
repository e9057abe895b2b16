// labels: gc threads
/* Uncollectable objects (sgc_alloc_uncollectable,
 * sgc_alloc_noscan_uncollectable):
 *  - survive collections with nothing pointing to them (their addresses
 *    are kept only in malloc'ed memory), contents intact, small and large
 *    (> 32 KiB);
 *  - the scanned ones keep what they point to alive, anywhere in them
 *    (also past the first 64 KiB of a large one); the noscan ones do not
 *    (>= 90% of such targets die);
 *  - sgc_is_uncollectable is true for them and false for ordinary objects;
 *  - sgc_free ends them: what they pointed to then dies (>= 90%);
 *  - sgc_realloc (growing, shrinking, small <-> large) keeps the object
 *    uncollectable, its kind and its contents;
 *  - 4 threads allocating and freeing uncollectable objects while another
 *    one collects lose none of them. */
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define MAGIC 0xc0ffee0000000000ull

static uint64_t *leaf(uint64_t id) {
  uint64_t *p = sgc_alloc_noscan(48);
  CHECK(p != NULL);
  for (int k = 0; k < 6; k++)
    p[k] = MAGIC ^ (id * 8 + (uint64_t)k);
  return p;
}

static int leaf_ok(const uint64_t *p, uint64_t id) {
  for (int k = 0; k < 6; k++)
    if (p[k] != (MAGIC ^ (id * 8 + (uint64_t)k)))
      return 0;
  return 1;
}

/* An uncollectable holder: word 0 its id, then pointers to leaves at the
 * word offsets in 'at', every other word a pattern. */
typedef struct {
  uint64_t *obj;
  size_t words;
  uint64_t id;
  int noscan;
  size_t at[4];
  int nat;
  uint64_t *leaves[4];
} holder;

static uint64_t pattern(uint64_t id, size_t w) {
  return (id << 24) ^ (uint64_t)w ^ 0x5555000000000000ull;
}

static void fill(holder *h) {
  uint64_t *o = h->obj;
  for (size_t w = 0; w < h->words; w++)
    o[w] = pattern(h->id, w);
  for (int k = 0; k < h->nat; k++)
    o[h->at[k]] = (uint64_t)(uintptr_t)h->leaves[k];
}

static void check_holder(const holder *h, const char *what) {
  const uint64_t *o = h->obj;
  for (size_t w = 0; w < h->words; w++) {
    int is_ptr = 0;
    for (int k = 0; k < h->nat; k++)
      if (h->at[k] == w) {
        is_ptr = 1;
        CHECKF(o[w] == (uint64_t)(uintptr_t)h->leaves[k], "%s: holder %llu "
               "word %zu changed", what, (unsigned long long)h->id, w);
      }
    if (!is_ptr)
      CHECKF(o[w] == pattern(h->id, w), "%s: uncollectable object %llu "
             "(%s, %zu words) word %zu corrupted: freed by the collector?",
             what, (unsigned long long)h->id, h->noscan ? "noscan" : "scan",
             h->words, w);
  }
  CHECKF(sgc_is_uncollectable(h->obj), "%s: object %llu is no longer "
         "uncollectable", what, (unsigned long long)h->id);
  CHECK(sgc_kind_of(h->obj) == (h->noscan ? SGC_KIND_NOSCAN : SGC_KIND_SCAN));
}

#define NSMALL 400
#define NLARGE 12
#define NH (NSMALL + NLARGE)
static holder *hs;           /* malloc'ed: hides the holders */
static void **leaf_slots;    /* weak slots of every leaf, malloc'ed */

__attribute__((noinline)) static void make_holders(void) {
  for (int i = 0; i < NH; i++) {
    holder *h = &hs[i];
    h->id = (uint64_t)i + 1;
    h->noscan = i % 4 == 3;
    size_t n = i < NSMALL ? 16 + (size_t)(i % 50) * 24
                          : 40000 + (size_t)(i - NSMALL) * 30000;
    h->obj = h->noscan ? sgc_alloc_noscan_uncollectable(n)
                       : sgc_alloc_uncollectable(n);
    CHECK(h->obj != NULL);
    h->words = n / 8;
    h->nat = h->words >= 4 ? 3 : 1;
    h->at[0] = h->words - 1;
    if (h->nat > 1) {
      h->at[1] = 1;
      h->at[2] = h->words > 9000 ? 9000 : h->words / 2; /* past 64 KiB */
    }
    for (int k = 0; k < h->nat; k++) {
      h->leaves[k] = leaf(h->id * 4 + (uint64_t)k);
      leaf_slots[i * 4 + k] = h->leaves[k];
    }
    fill(h);
  }
}

static void churn(long n) {
  for (long i = 0; i < n; i++) {
    uint64_t *p = sgc_alloc_noscan(48);
    CHECK(p != NULL);
    memset(p, 0xEE, 48);
    void *q = sgc_alloc(16 + (size_t)(i % 64) * 16);
    CHECK(q != NULL);
    memset(q, 0x11, 16);
  }
}

/* Weak slots of leaves of scanned holders must stay (exact); of noscan
 * ones, mostly be cleared. */
static void check_all(const char *what) {
  for (int i = 0; i < NH; i++) {
    holder *h = &hs[i];
    if (h->obj == NULL)
      continue;
    check_holder(h, what);
    if (h->noscan)
      continue;
    for (int k = 0; k < h->nat; k++) {
      CHECKF(leaf_slots[i * 4 + k] == h->leaves[k], "%s: leaf %d of "
             "uncollectable object %llu was collected", what, k,
             (unsigned long long)h->id);
      CHECKF(leaf_ok(h->leaves[k], h->id * 4 + (uint64_t)k), "%s: leaf %d "
             "of uncollectable object %llu corrupted", what, k,
             (unsigned long long)h->id);
    }
  }
}

static int count_cleared(int want_noscan, int freed_only, int *total) {
  int cleared = 0;
  *total = 0;
  for (int i = 0; i < NH; i++) {
    holder *h = &hs[i];
    if (h->noscan != want_noscan || (freed_only && h->obj != NULL))
      continue;
    for (int k = 0; k < h->nat; k++) {
      (*total)++;
      cleared += leaf_slots[i * 4 + k] == NULL;
    }
  }
  return cleared;
}

/* ---------------------------------------------------------- realloc */

__attribute__((noinline)) static void realloc_cases(void) {
  static const size_t sizes[] = {64, 4000, 48, 40000, 100000, 200, 33000, 24};
  long reps = scaled(20) < 4 ? 4 : scaled(20);
  for (int noscan = 0; noscan <= 1; noscan++) {
    for (int rep = 0; rep < reps; rep++) {
      size_t n = sizes[0];
      uint64_t *p = noscan ? sgc_alloc_noscan_uncollectable(n)
                           : sgc_alloc_uncollectable(n);
      CHECK(p != NULL);
      uint64_t id = 1000000 + (uint64_t)rep * 2 + (uint64_t)noscan;
      p[0] = id;
      p[1] = ~id;
      /* Its address lives only in this malloc'ed box. */
      uintptr_t *box = malloc(sizeof *box);
      CHECK(box != NULL);
      *box = (uintptr_t)p ^ 0xffff;
      p = NULL;
      for (size_t s = 1; s < sizeof sizes / sizeof sizes[0]; s++) {
        clear_stack();
        sgc_collect();
        churn(2000);
        uint64_t *q = (uint64_t *)(*box ^ 0xffff);
        CHECKF(q[0] == id && q[1] == ~id, "realloc'ed uncollectable object "
               "lost before step %zu", s);
        CHECK(sgc_is_uncollectable(q));
        q = sgc_realloc(q, sizes[s]);
        CHECK(q != NULL);
        CHECKF(sgc_is_uncollectable(q), "sgc_realloc(.., %zu) dropped "
               "uncollectability", sizes[s]);
        CHECKF(sgc_kind_of(q) == (noscan ? SGC_KIND_NOSCAN : SGC_KIND_SCAN),
               "sgc_realloc changed the kind");
        CHECK(q[0] == id && q[1] == ~id);
        *box = (uintptr_t)q ^ 0xffff;
      }
      clear_stack();
      sgc_collect();
      churn(2000);
      uint64_t *q = (uint64_t *)(*box ^ 0xffff);
      CHECK(q[0] == id && q[1] == ~id && sgc_is_uncollectable(q));
      sgc_free(q);
      free(box);
    }
  }
}

/* ---------------------------------------------------------- threads */

#define NTHREADS 4
#define TSLOTS 64
static int stop_collector; /* atomic */
static long collections_done; /* atomic: the collector thread's so far */
static long thread_ops[NTHREADS];

typedef struct { uint64_t *obj; size_t words; uint64_t id; } tslot;

static void tcheck(const tslot *s) {
  CHECKF(sgc_is_uncollectable(s->obj), "thread object %llx lost its bit",
         (unsigned long long)s->id);
  const uint64_t *o = s->obj;
  CHECKF(o[0] == s->id, "thread object %llx lost (word 0 %llx)",
         (unsigned long long)s->id, (unsigned long long)o[0]);
  for (size_t w = 2; w < s->words; w++)
    CHECKF(o[w] == pattern(s->id, w), "thread object %llx word %zu "
           "corrupted", (unsigned long long)s->id, w);
  if (o[1] != 0)
    CHECKF(leaf_ok((const uint64_t *)(uintptr_t)o[1], s->id),
           "thread object %llx: its leaf was collected",
           (unsigned long long)s->id);
}

static void *mutator(void *arg) {
  long t = (long)(intptr_t)arg;
  /* The table is malloc'ed: the objects are reachable from nowhere. */
  tslot *slots = calloc(TSLOTS, sizeof *slots);
  CHECK(slots != NULL);
  uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1), seq = 0;
  long iters = scaled(60000);
  /* And until the collector thread has collected twice beside them (on a
   * loaded machine the threads once finished before it ran at all). */
  for (long it = 0;
       it < iters || __atomic_load_n(&collections_done, __ATOMIC_RELAXED) < 2;
       it++) {
    xorshift64(&rng);
    tslot *s = &slots[rng % TSLOTS];
    if (s->obj != NULL) {
      tcheck(s);
      sgc_free(s->obj);
      s->obj = NULL;
    }
    if ((rng >> 20) % 4 == 0)
      continue;
    size_t n = (rng >> 24) % 100 == 0 ? 33000 + (rng >> 40) % 20000
                                      : 16 + (rng >> 32) % 500;
    int noscan = (rng >> 8) % 3 == 0;
    uint64_t *o = noscan ? sgc_alloc_noscan_uncollectable(n)
                         : sgc_alloc_uncollectable(n);
    CHECK(o != NULL);
    s->id = (uint64_t)t << 48 | ++seq;
    s->words = n / 8;
    o[0] = s->id;
    o[1] = noscan ? 0 : (uint64_t)(uintptr_t)leaf(s->id);
    for (size_t w = 2; w < s->words; w++)
      o[w] = pattern(s->id, w);
    s->obj = o;
    /* Garbage, so that lost objects get reused. */
    void *g = sgc_alloc(16 + (rng >> 50) % 300);
    CHECK(g != NULL);
    memset(g, 0xCC, 16);
    thread_ops[t]++;
  }
  for (int i = 0; i < TSLOTS; i++)
    if (slots[i].obj != NULL) {
      tcheck(&slots[i]);
      sgc_free(slots[i].obj);
    }
  free(slots);
  return NULL;
}

static void *collector(void *arg) {
  (void)arg;
  long n = 0;
  while (!__atomic_load_n(&stop_collector, __ATOMIC_RELAXED)) {
    sgc_collect();
    n++;
    __atomic_store_n(&collections_done, n, __ATOMIC_RELAXED);
    /* A breather, so that the mutators progress on a loaded machine. */
    sgc_enter_blocking();
    usleep(200);
    sgc_exit_blocking();
  }
  return (void *)(intptr_t)n;
}

int main(void) {
  sgc_init();
  hs = calloc(NH, sizeof *hs);
  leaf_slots = calloc(NH * 4, sizeof(void *));
  CHECK(hs && leaf_slots);

  /* Ordinary objects are not uncollectable. */
  void *o1 = sgc_alloc(32), *o2 = sgc_alloc_noscan(32), *o3 = sgc_alloc(50000);
  CHECK(o1 && o2 && o3);
  CHECK(!sgc_is_uncollectable(o1) && !sgc_is_uncollectable(o2) &&
        !sgc_is_uncollectable(o3));

  /* No collection before the slots are registered: it would free the
   * leaves of noscan holders (as it should), and registering their slots
   * would then abort.  The first collection may come early
   * (SPANGC_CONCURRENT=1 starts it at half the first goal). */
  sgc_disable();
  make_holders();
  for (int i = 0; i < NH; i++)
    for (int k = 0; k < hs[i].nat; k++)
      CHECK(sgc_register_weak(&leaf_slots[i * 4 + k],
                              leaf_slots[i * 4 + k]) == 0);
  sgc_enable();
  clear_stack();
  for (int r = 0; r < 6; r++) {
    settle();
    churn(scaled(30000));
    check_all("with no pointer to them");
  }
  int total, cleared = count_cleared(1, 0, &total);
  printf("noscan uncollectable: %d of %d targets collected\n", cleared, total);
  CHECKF(cleared >= total * 9 / 10, "only %d of %d objects referenced only "
         "from noscan uncollectable objects were collected", cleared, total);

  /* Free half of the scanned ones: their leaves die now. */
  for (int i = 0; i < NH; i++)
    if (!hs[i].noscan && i % 2 == 0) {
      sgc_free(hs[i].obj);
      hs[i].obj = NULL;
    }
  clear_stack();
  settle();
  churn(scaled(30000));
  settle();
  check_all("after freeing half");
  cleared = count_cleared(0, 1, &total);
  printf("freed uncollectable: %d of %d targets collected\n", cleared, total);
  CHECKF(cleared >= total * 9 / 10, "only %d of %d objects referenced from "
         "freed uncollectable objects were collected", cleared, total);

  realloc_cases();
  check_all("after the realloc cases");

  /* Threads. */
  pthread_t th[NTHREADS], col;
  for (long t = 0; t < NTHREADS; t++)
    CHECK(sgc_pthread_create(&th[t], NULL, mutator, (void *)(intptr_t)t) ==
          0);
  CHECK(sgc_pthread_create(&col, NULL, collector, NULL) == 0);
  for (int t = 0; t < NTHREADS; t++) {
    sgc_enter_blocking();
    pthread_join(th[t], NULL);
    sgc_exit_blocking();
  }
  __atomic_store_n(&stop_collector, 1, __ATOMIC_RELAXED);
  void *ncol;
  sgc_enter_blocking();
  pthread_join(col, &ncol);
  sgc_exit_blocking();
  long ops = 0;
  for (int t = 0; t < NTHREADS; t++)
    ops += thread_ops[t];
  printf("threads: %ld uncollectable allocations, %ld concurrent "
         "collections, none lost\n", ops, (long)(intptr_t)ncol);
  CHECK((long)(intptr_t)ncol > 0);

  settle();
  check_all("at the end");
  return 0;
}
