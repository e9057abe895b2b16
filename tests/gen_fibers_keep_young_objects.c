// labels: gc fiber
/* Generational collection and fibers: a suspended fiber's stack is a root
 * of every collection, minor ones included, whether the fiber's object is
 * old or young.
 *  - Old fibers: NFIB fibers are created, run until they suspend, then
 *    made old by minor collections (they are reachable from g_fib).  Each
 *    round, every one is resumed, builds a list of young objects whose
 *    only reference is a local variable on its own stack, and suspends;
 *    minor collections run (their garbage reuses any wrongly freed slot);
 *    each is resumed again and checks its list (values and checksums,
 *    exact) before building the next one.  ROUNDS rounds.
 *  - Young fibers: each round, right after the collections, a new fiber
 *    is created (so it is young at the next collection), builds a list
 *    the same way, suspends, and is resumed after minor collections to
 *    check it; then it returns.
 * Minor collections must actually run when generations are on, with no
 * major one among them; with SPANGC_GENERATIONAL=0 or SPANGC_DIRTY=off the
 * same checks hold across ordinary collections.
 * Catches: minor collections not scanning the stacks of suspended fibers
 * whose objects were marked (old) before the mark began (fiber.c's
 * fibers_scan_marked skipping them: the old fibers' lists are freed);
 * fiber stacks not scanned by minor collections at all (both kinds). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NFIB 8
#define LEN 32    /* nodes per list */
#define ROUNDS 40
#define MINORS 2  /* per round */

typedef struct node {
  struct node *next;
  uint64_t value, sum;
  uint64_t pad[5]; /* 64 bytes: run_minors' garbage size */
} node;

static sgc_fiber *home;
sgc_fiber *volatile g_fib[NFIB]; /* roots: the old fibers */
sgc_fiber *volatile g_yfib;      /* root: this round's young fiber */
static volatile int cur_round;
static long checked[NFIB + 1];   /* lists checked, per fiber (NFIB: young) */

static uint64_t mix(uint64_t v) {
  return v * 0x9e3779b97f4a7c15ull ^ 0xabcdef0123ull;
}
static uint64_t value_of(long id, int round, long i) {
  return ((uint64_t)id << 40) | ((uint64_t)round << 16) | (uint64_t)i;
}

static node *build(long id, int round) {
  node *list = NULL;
  for (long i = 0; i < LEN; i++) {
    node *n = sgc_alloc(sizeof *n);
    CHECK(n != NULL);
    n->next = list;
    n->value = value_of(id, round, i);
    n->sum = mix(n->value);
    for (int w = 0; w < 5; w++)
      n->pad[w] = n->sum + (uint64_t)w;
    list = n;
  }
  return list;
}

static void check_list(const node *list, long id, int round) {
  long i = LEN - 1;
  for (const node *n = list; n != NULL; n = n->next, i--) {
    CHECKF(i >= 0 && sgc_base(n) == n && n->value == value_of(id, round, i) &&
               n->sum == mix(n->value) && n->pad[4] == n->sum + 4,
           "%s fiber %ld, round %d: node %ld of the list kept only by its "
           "stack is corrupted (value %#llx)", id == NFIB ? "young" : "old",
           id, round, i, (unsigned long long)n->value);
  }
  CHECKF(i == -1, "fiber %ld, round %d: the list has %ld nodes missing", id,
         round, i + 1);
  checked[id]++;
}

/* An old fiber: suspends once (to be promoted), then each resume checks
 * the previous list and builds the next one, kept only in 'list'. */
static void old_fiber(void *arg) {
  long id = (long)(intptr_t)arg;
  sgc_fiber_switch(home);
  node *list = NULL;
  int round = -1;
  for (;;) {
    if (list != NULL)
      check_list(list, id, round);
    if (cur_round >= ROUNDS)
      return;
    round = cur_round;
    list = build(id, round);
    sgc_fiber_switch(home);
  }
}

static void young_fiber(void *arg) {
  (void)arg;
  int round = cur_round;
  node *list = build(NFIB, round);
  sgc_fiber_switch(home);
  check_list(list, NFIB, round);
}

__attribute__((noinline)) static void make_fibers(void) {
  for (long id = 0; id < NFIB; id++) {
    g_fib[id] = sgc_fiber_create(old_fiber, (void *)(intptr_t)id, 64 << 10);
    CHECK(g_fib[id] != NULL);
    sgc_fiber_switch(g_fib[id]);
  }
}

__attribute__((noinline)) static void resume_all(void) {
  for (long id = 0; id < NFIB; id++)
    sgc_fiber_switch(g_fib[id]);
}

__attribute__((noinline)) static void start_young(void) {
  g_yfib = sgc_fiber_create(young_fiber, NULL, 64 << 10);
  CHECK(g_yfib != NULL);
  sgc_fiber_switch(g_yfib);
}

int main(void) {
  sgc_init();
  home = sgc_fiber_self();
  CHECK(home != NULL);
  make_fibers();
  clear_stack();
  int gen = generational();
  uint64_t minors = run_minors(2); /* the fibers are old */
  sgc_stats st0, st;
  sgc_read_stats(&st0);

  for (int r = 0; r < ROUNDS; r++) {
    cur_round = r;
    resume_all(); /* check round r-1's lists, build round r's */
    start_young(); /* created after the last collection: young */
    clear_stack();
    minors += run_minors(MINORS);
    sgc_fiber_switch(g_yfib); /* checks its list and returns */
    CHECK(sgc_fiber_finished(g_yfib));
    g_yfib = NULL;
  }
  cur_round = ROUNDS;
  resume_all(); /* check the last lists; the fibers return */
  for (long id = 0; id < NFIB; id++) {
    CHECK(sgc_fiber_finished(g_fib[id]));
    CHECKF(checked[id] == ROUNDS, "old fiber %ld checked %ld lists", id,
           checked[id]);
  }
  CHECK(checked[NFIB] == ROUNDS);
  sgc_read_stats(&st);
  printf("%d rounds: %llu minor collections, %llu major among them\n", ROUNDS,
         (unsigned long long)minors,
         (unsigned long long)(st.num_major_gc - st0.num_major_gc));
  if (gen) {
    CHECKF(minors >= 2 + (uint64_t)ROUNDS * MINORS, "only %llu minor "
           "collections ran", (unsigned long long)minors);
    CHECKF(st.num_major_gc == st0.num_major_gc, "a major collection ran "
           "among the minors: the checks need minors only");
  }
  return 0;
}
