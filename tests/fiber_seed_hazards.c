// labels: fiber threads
// timeout: 600
/* The allspans hazards with fibers: threads that leave blocking regions
 * (during stops) and create fibers at once; fibers created from
 * finalizers and from other threads while collections run; allspans grown
 * by stack spans while the markers work; many fibers alive across many
 * collections, each keeping a small object graph referenced only from its
 * stack, all verified. */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "nopreempt.h"

typedef struct node { struct node *l, *r; uint64_t key, sum; } node;
static uint64_t mix(uint64_t k) { return k * 0x9e3779b97f4a7c15ull ^ 0x5bd1e995; }

static node *tree(int depth, uint64_t key) {
  node *n = sgc_alloc(sizeof *n);
  CHECK(n != NULL);
  n->key = key;
  n->sum = mix(key);
  if (depth > 0) {
    n->l = tree(depth - 1, key * 2);
    n->r = tree(depth - 1, key * 2 + 1);
  }
  return n;
}
static long check_tree(const node *n, uint64_t key) {
  if (n == NULL)
    return 0;
  CHECKF(n->key == key && n->sum == mix(key), "node %llx corrupted",
         (unsigned long long)key);
  return 1 + check_tree(n->l, key * 2) + check_tree(n->r, key * 2 + 1);
}

/* Each fiber: a tree referenced only from its stack, checked every time
 * it is resumed, until told to stop. */
typedef struct fctl { sgc_fiber *back; volatile int stop; uint64_t key; long checks; } fctl;
static void keeper(void *arg) {
  fctl *c = arg;
  node *t = tree(2, c->key);
  while (!c->stop) {
    CHECK(check_tree(t, c->key) == 7);
    c->checks++;
    sgc_fiber_switch(c->back);
  }
}

static int stop_threads; /* atomic */
static long created_by_threads;

/* Leaves a blocking region (often while the world is stopped) and creates
 * and runs a fiber at once. */
static void *blocker(void *arg) {
  long n = 0;
  fctl *c = sgc_alloc(sizeof *c);
  while (!__atomic_load_n(&stop_threads, __ATOMIC_RELAXED)) {
    sgc_enter_blocking();
    usleep(200);
    sgc_exit_blocking();
    c->back = sgc_fiber_self();
    c->stop = 0;
    c->key = (uint64_t)(uintptr_t)arg * 1000000 + (uint64_t)n;
    sgc_fiber *f = sgc_fiber_create(keeper, c, 16 << 10);
    CHECK(f != NULL);
    sgc_fiber_switch(f);
    sgc_fiber_switch(f);
    c->stop = 1;
    sgc_fiber_switch(f);
    CHECK(sgc_fiber_finished(f) && c->checks == 2);
    c->checks = 0;
    n++;
  }
  __atomic_add_fetch(&created_by_threads, n, __ATOMIC_RELAXED);
  return NULL;
}

static long fin_fibers;
static void short_fn(void *arg) { *(long *)arg += 1; }
static void finalizer(void *obj, void *arg) {
  /* A fiber created and run from the finalizer thread. */
  long *cell = sgc_alloc(sizeof *cell);
  sgc_fiber *f = sgc_fiber_create(short_fn, cell, 16 << 10);
  CHECK(f != NULL);
  sgc_fiber_switch(f);
  CHECK(*cell == 1);
  __atomic_add_fetch(&fin_fibers, 1, __ATOMIC_RELAXED);
}

/* While the markers work: take more stack spans than allspans has room
 * for, so the array is replaced under the markers' snapshot. */
static mspan *hook_spans[4096];
static int nhook;
static void grow_during_mark(void) {
  int want = (int)(sgc_heap.nspancap - sgc_heap.nspan) + 8;
  for (int i = 0; i < want && nhook < 4096; i++) {
    mspan *s = mheap_alloc_stack(1);
    CHECK(s != NULL);
    memset((void *)s->base, 0x5a, PAGE_SIZE);
    hook_spans[nhook++] = s;
  }
}

int main(void) {
  sgc_init();
  sgc_fiber *self = sgc_fiber_self();
  int nf = (int)scaled(40000);
  /* Each collection scans every fiber's stack: 100000 x 1000 took over
   * 600 s on a slow day on 2 cores.  250 still hooks the mark six times
   * and resumes each fiber about 15 times. */
  int cycles = (int)scaled(250);
  sgc_fiber **fs = sgc_alloc((size_t)nf * sizeof *fs);
  fctl *ctl = sgc_alloc((size_t)nf * sizeof *ctl);
  for (int i = 0; i < nf; i++) {
    ctl[i].back = self;
    ctl[i].key = (uint64_t)i + 1;
    fs[i] = sgc_fiber_create(keeper, &ctl[i], 16 << 10);
    CHECK(fs[i] != NULL);
    sgc_fiber_switch(fs[i]);
  }
  pthread_t th[3];
  for (long i = 0; i < 3; i++)
    CHECK(sgc_pthread_create(&th[i], NULL, blocker, (void *)(i + 1)) == 0);

  for (int c = 0; c < cycles; c++) {
    /* A few objects with finalizers each cycle. */
    for (int k = 0; k < 4; k++)
      sgc_set_finalizer(sgc_alloc(32), finalizer, NULL);
    if (c % 50 == 0) {
      ATOMIC_STORE(&sgc_test_mark_hook, grow_during_mark);
      sgc_collect();
      ATOMIC_STORE(&sgc_test_mark_hook, NULL);
      for (int i = 0; i < nhook; i++) { /* not freed, contents intact */
        CHECK(hook_spans[i]->state == MSPAN_STACK);
        CHECK(((unsigned char *)hook_spans[i]->base)[PAGE_SIZE - 1] == 0x5a);
        NP(mheap_free_stack(hook_spans[i]));
      }
      nhook = 0;
    } else {
      sgc_collect();
    }
    /* Resume a slice of the fibers: each checks its tree. */
    for (int i = c % 16; i < nf; i += 16)
      sgc_fiber_switch(fs[i]);
  }
  __atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < 3; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < nf; i++) {
    ctl[i].stop = 1;
    sgc_fiber_switch(fs[i]);
    CHECK(sgc_fiber_finished(fs[i]));
  }
  sgc_wait_finalizers();
  sgc_collect();
  sgc_heap_verify();
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%d fibers x %d collections verified; %ld fibers from blocking "
         "threads, %ld from finalizers; %llu collections\n", nf, cycles,
         created_by_threads, fin_fibers, (unsigned long long)st.num_gc);
  CHECK(created_by_threads > 0);
  return 0;
}
