// labels: gc
// env: SPANGC_MARK_STACK_MAX=65536
/* With the mark stack capped at 64 KiB (16 work buffers of 255 ranges), a
 * mark overflows; the overflow passes rescan marked heap objects, which
 * would never find a stack pushed as work and dropped for want of a
 * buffer.  So no stack is dropped:
 *   (a) thousands of suspended fibers, each the only holder of an object
 *       on its stack: more stacks than the buffers hold are pushed at once
 *       after the parallel mark;
 *   (b) a thread running a fiber, its own (home) stack the only holder of
 *       an object: the home stack is pushed right after the fiber's stack
 *       filled every buffer.
 * Every object is intact and was never handed out again, with one marker
 * and with two. */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

/* Not scaled: the fibers' stacks (a) and the roots on the running fiber's
 * stack (b) must outnumber the 16 * 255 ranges the buffers hold. */
enum { NFIB = 6000, NWIDE = 6000, NTREES = 4096 };

typedef struct obj { uint64_t w[10]; } obj; /* 80 bytes */
typedef struct node { struct node *kid[4]; uint64_t key, sum; } node;

static uint64_t mix(uint64_t k) { return k * 0x9e3779b97f4a7c15ull ^ 0x77; }

static void fill(obj *o, uint64_t seed) {
  for (int i = 0; i < 10; i++)
    o->w[i] = mix(seed * 10 + (uint64_t)i);
}

static int intact(const obj *o, uint64_t seed) {
  for (int i = 0; i < 10; i++)
    if (o->w[i] != mix(seed * 10 + (uint64_t)i))
      return 0;
  return 1;
}

static node *build(int depth, uint64_t key) {
  node *n = sgc_alloc(sizeof *n);
  CHECK(n != NULL);
  n->key = key;
  n->sum = mix(key);
  if (depth > 0)
    for (int i = 0; i < 4; i++)
      n->kid[i] = build(depth - 1, key * 4 + (uint64_t)i);
  return n;
}

static long check_tree(const node *n, uint64_t key) {
  if (n == NULL)
    return 0;
  CHECKF(n->key == key && n->sum == mix(key), "tree node %llx corrupted",
         (unsigned long long)key);
  long c = 1;
  for (int i = 0; i < 4; i++)
    c += check_tree(n->kid[i], key * 4 + (uint64_t)i);
  return c;
}

/* The watched objects' addresses, hidden (~p, in memory the collector
 * does not scan): the churn reports any it is handed. */
static uintptr_t *hidden;
static int nhidden;
static unsigned char *reused; /* per watched object */

static void watch(int id, const obj *o) { hidden[id] = ~(uintptr_t)o; }

/* Allocations of the watched objects' size, written over. */
static void __attribute__((noinline)) churn(long n) {
  for (long k = 0; k < n; k++) {
    obj *volatile o = sgc_alloc(sizeof(obj));
    CHECK(o != NULL);
    memset((void *)o, 0xdd, sizeof(obj));
    uintptr_t h = ~(uintptr_t)o;
    for (int i = 0; i < nhidden; i++)
      if (hidden[i] == h)
        reused[i] = 1;
  }
}

/* The churn looks up its objects among nhidden watched ones: few in (b);
 * in (a), sorted, by binary search. */
static uintptr_t *sorted;
static int *sorted_id;
static void __attribute__((noinline)) churn_sorted(long n) {
  for (long k = 0; k < n; k++) {
    obj *volatile o = sgc_alloc(sizeof(obj));
    CHECK(o != NULL);
    memset((void *)o, 0xdd, sizeof(obj));
    uintptr_t h = ~(uintptr_t)o;
    int lo = 0, hi = NFIB;
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (sorted[mid] < h)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < NFIB && sorted[lo] == h)
      reused[sorted_id[lo]] = 1;
  }
}

/* ------------------------------------------------------ (a) suspended */

static sgc_fiber *home;
static sgc_fiber **fibs; /* the fibers, from a heap array */
static int *lost;        /* per fiber, set when resumed */

static void holder(void *arg) {
  int id = (int)(intptr_t)arg;
  obj *o = sgc_alloc(sizeof(obj));
  CHECK(o != NULL);
  fill(o, (uint64_t)id);
  watch(id, o);
  sgc_fiber_switch(home); /* o lives only on this stack meanwhile */
  lost[id] = !intact(o, (uint64_t)id);
}

static int cmp_id(const void *a, const void *b) {
  uintptr_t x = sorted[*(const int *)a], y = sorted[*(const int *)b];
  return x < y ? -1 : x > y;
}

static void __attribute__((noinline)) start_holders(void) {
  sgc_disable(); /* no collection on the fibers' small stacks */
  for (int i = 0; i < NFIB; i++) {
    fibs[i] = sgc_fiber_create(holder, (void *)(intptr_t)i, 16 << 10);
    CHECK(fibs[i] != NULL);
    sgc_fiber_switch(fibs[i]);
  }
  sgc_enable();
  /* Sort the hidden addresses for the churn's look-ups. */
  for (int i = 0; i < NFIB; i++)
    sorted[i] = hidden[i];
  for (int i = 0; i < NFIB; i++)
    sorted_id[i] = i;
  qsort(sorted_id, NFIB, sizeof *sorted_id, cmp_id);
  for (int i = 0; i < NFIB; i++)
    sorted[i] = hidden[sorted_id[i]];
}

static void suspended_fibers(int markers) {
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t overflows = st.mark_overflows;
  nhidden = 0; /* churn_sorted watches them */
  memset(reused, 0, NFIB);
  memset(lost, 0, NFIB * sizeof *lost);
  start_holders();
  clear_stack();
  for (int round = 0; round < 4; round++) {
    sgc_collect();
    churn_sorted(scaled(100000));
  }
  sgc_read_stats(&st);
  CHECKF(st.mark_overflows > overflows, "(a) the mark stack never overflowed");
  int nlost = 0, nreused = 0;
  for (int i = 0; i < NFIB; i++) {
    sgc_fiber_switch(fibs[i]);
    CHECK(sgc_fiber_finished(fibs[i]));
    nlost += lost[i];
    nreused += reused[i];
  }
  CHECKF(nlost == 0 && nreused == 0,
         "(a) %d markers: %d of %d objects held only on suspended fibers' "
         "stacks were freed (%d handed out again)", markers, nlost, NFIB,
         nreused);
  memset(fibs, 0, NFIB * sizeof *fibs);
  printf("(a) %d markers: %d fibers' objects intact, %llu overflows\n",
         markers, NFIB, (unsigned long long)(st.mark_overflows - overflows));
}

/* --------------------------------------------------------- (b) home */

static int home_lost;
static uint64_t home_overflows;

/* Runs on the thread's fiber: roots the fiber's stack alone holds fill
 * every work buffer at each collection, then the home stack is pushed. */
static void collector(void *arg) {
  (void)arg;
  node *wide[NWIDE];
  for (int i = 0; i < NWIDE; i++)
    wide[i] = build(2, (uint64_t)i + 1);
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t before = st.mark_overflows;
  for (int round = 0; round < 3; round++) {
    sgc_collect();
    churn(scaled(100000));
  }
  sgc_read_stats(&st);
  home_overflows = st.mark_overflows - before;
  long seen = 0;
  for (int i = 0; i < NWIDE; i++)
    seen += check_tree(wide[i], (uint64_t)i + 1);
  CHECK(seen == (long)NWIDE * 21);
}

static obj *__attribute__((noinline)) make_watched(void) {
  obj *x = sgc_alloc(sizeof(obj));
  CHECK(x != NULL);
  fill(x, 0xabcdef);
  watch(0, x);
  return x;
}

static void *home_thread(void *arg) {
  (void)arg;
  obj *x = make_watched(); /* on this stack only */
  sgc_fiber *f = sgc_fiber_create(collector, NULL, 256 << 10);
  CHECK(f != NULL);
  sgc_fiber_switch(f); /* the fiber finishes, coming back here */
  CHECK(sgc_fiber_finished(f));
  home_lost = !intact(x, 0xabcdef);
  return NULL;
}

static void home_stack(int markers) {
  nhidden = 1;
  reused[0] = 0;
  home_lost = 0;
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, home_thread, NULL) == 0);
  sgc_enter_blocking();
  CHECK(pthread_join(t, NULL) == 0);
  sgc_exit_blocking();
  nhidden = 0;
  CHECKF(home_overflows > 0, "(b) the mark stack never overflowed");
  CHECKF(!home_lost && !reused[0],
         "(b) %d markers: the object held only on the home stack of a thread "
         "running a fiber was freed%s", markers,
         reused[0] ? " and handed out again" : "");
  printf("(b) %d markers: home stack's object intact, %llu overflows\n",
         markers, (unsigned long long)home_overflows);
}

/* ------------------------------------------------------------- main */

static node **trees;

int main(void) {
  sgc_init();
  home = sgc_fiber_self();
  hidden = calloc(NFIB, sizeof *hidden);
  reused = calloc(NFIB, 1);
  lost = calloc(NFIB, sizeof *lost);
  sorted = calloc(NFIB, sizeof *sorted);
  sorted_id = calloc(NFIB, sizeof *sorted_id);
  CHECK(hidden && reused && lost && sorted && sorted_id);
  fibs = sgc_alloc(NFIB * sizeof *fibs);
  CHECK(fibs != NULL);
  /* A wide live structure: the parallel mark overflows too. */
  trees = sgc_alloc(NTREES * sizeof *trees);
  CHECK(trees != NULL);
  for (int i = 0; i < NTREES; i++)
    trees[i] = build(2, (uint64_t)i + 1);

  for (int markers = 1; markers <= 2; markers++) {
    CHECK(sgc_set_markers(markers) == 0);
    suspended_fibers(markers);
    home_stack(markers);
  }
  long seen = 0;
  for (int i = 0; i < NTREES; i++)
    seen += check_tree(trees[i], (uint64_t)i + 1);
  CHECK(seen == (long)NTREES * 21);
  return 0;
}
