// labels: heap
// timeout: 120
/* Dense spans (fewer than an eighth of their slots free) are kept out of
 * allocation while the heap can grow (rule:dense-spans-kept), but never
 * at the cost of an allocation: with the heap at its hard limit
 * (sgc_set_max_heap) their free slots are handed out, every one of them,
 * before an allocation fails; with room left under a hard limit they are
 * filled before fresh pages are taken, which another size class may need
 * (helper-65's case: 64-byte objects took 4 MiB of fresh pages beside
 * their holes, and four fewer 1 MiB objects fitted under the limit);
 * far below a hard limit they are kept, at the cost of at most a 64th of
 * the limit to large objects; and
 * under a binding soft memory limit (sgc_set_memory_limit) they are
 * reused rather than fresh pages taken. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "spangc-int.h"

#define SIZE 64
#define N (128 * 400) /* 400 one-page spans of 64-byte objects */

static void *volatile obj[N];
static void *volatile young[N]; /* volatile: stores kept, a root */

/* Fill N objects, drop one in 16, collect: every span 15/16 full. */
static void make_dense_spans(void) {
  for (int i = 0; i < N; i++) {
    obj[i] = sgc_alloc(SIZE);
    CHECK(obj[i] != NULL);
    *(int *)obj[i] = i;
  }
  for (int i = 0; i < N; i += 16)
    obj[i] = NULL;
  sgc_collect();
}

static void check_objects(void) {
  for (int i = 0; i < N; i++)
    if (obj[i] != NULL)
      CHECKF(*(int *)obj[i] == i, "object %d lost", i);
}

static uint64_t span_bytes(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.heap_span_bytes;
}

/* At the hard limit: all N/16 free slots are handed out, then NULL. */
static void at_the_hard_limit(void) {
  make_dense_spans();
  uint64_t spans = span_bytes();
  sgc_set_max_heap(spans);
  int got = 0;
  /* Leave a little room for a stale pointer kept by the stack. */
  for (; got < N / 16 - 16; got++) {
    young[got] = sgc_alloc(SIZE);
    CHECKF(young[got] != NULL, "allocation %d of %d failed with free slots "
                               "in dense spans", got, N / 16);
    memset(young[got], 0x5a, SIZE);
  }
  CHECKF(span_bytes() <= spans, "spans grew from %llu to %llu bytes past "
         "the limit", (unsigned long long)spans,
         (unsigned long long)span_bytes());
  printf("hard limit: %d objects in dense spans' slots\n", got);
  check_objects();
  sgc_set_max_heap(0);
  for (int i = 0; i < got; i++)
    young[i] = NULL;
}

#define ROOM (8u << 20)
#define LARGE (1u << 20)

/* Dense spans made, then a hard limit of mul times their bytes plus add,
 * as many small objects as their holes hold, and large objects until
 * one is refused. */
typedef struct {
  uint64_t spans, limit, grown; /* grown: the spans, for the small ones */
  int n, large;
} limit_run;

static limit_run fill_under_a_hard_limit(uint64_t mul, uint64_t add) {
  limit_run r;
  make_dense_spans();
  r.spans = span_bytes();
  r.limit = r.spans * mul + add;
  sgc_set_max_heap(r.limit);
  r.n = N / 16 - 16;
  for (int i = 0; i < r.n; i++) {
    young[i] = sgc_alloc(SIZE);
    CHECK(young[i] != NULL);
  }
  r.grown = span_bytes() - r.spans;
  r.large = 0;
  while (r.large < N - r.n &&
         (young[r.n + r.large] = sgc_alloc_noscan(LARGE)) != NULL)
    r.large++;
  printf("%llu-byte hard limit, %llu bytes of dense spans: spans grew by "
         "%llu bytes for %d objects the holes hold; %d large objects "
         "fitted\n", (unsigned long long)r.limit,
         (unsigned long long)r.spans, (unsigned long long)r.grown, r.n,
         r.large);
  return r;
}

static void drop_the_run(const limit_run *r) {
  check_objects();
  sgc_set_max_heap(0);
  for (int i = 0; i < r->n + r->large; i++)
    young[i] = NULL;
}

/* Room under a hard limit: the holes are filled before pages are taken,
 * and the room is left whole to large objects. */
static void with_room_under_the_hard_limit(void) {
  limit_run r = fill_under_a_hard_limit(1, ROOM);
  CHECKF(r.grown < (uint64_t)r.n * SIZE / 4, "spans grew by %llu bytes: "
         "fresh pages taken under a hard limit with free slots in dense "
         "spans", (unsigned long long)r.grown);
  CHECKF(r.large >= (int)(ROOM / LARGE) - 1, "only %d objects of %u bytes "
         "fitted in the %u MiB of room", r.large, LARGE, ROOM >> 20);
  drop_the_run(&r);
}

/* Far below a hard limit (the spans in use within an eighth of it) the
 * rule holds: new small objects take fresh pages beside the holes, which
 * then hold back at most a 64th of the limit from large objects
 * (helper-81: one fewer 1 MiB object under 64 MiB). */
static void far_below_the_hard_limit(void) {
  limit_run r = fill_under_a_hard_limit(16, 0);
  uint64_t room = r.limit - r.spans; /* all of it, had the holes been used */
  CHECKF(r.grown >= (uint64_t)r.n * SIZE / 2, "spans grew by %llu bytes "
         "only: the holes of dense spans were filled far below a hard "
         "limit", (unsigned long long)r.grown);
  CHECKF((uint64_t)(r.large + 1) * LARGE + r.limit / 64 >= room,
         "%d objects of %u bytes fitted in %llu bytes of room: more than a "
         "64th of the %llu-byte limit held back", r.large, LARGE,
         (unsigned long long)room, (unsigned long long)r.limit);
  drop_the_run(&r);
}

/* A soft limit that binds: the free slots are reused, not new pages. */
static void under_a_binding_memory_limit(void) {
  make_dense_spans();
  sgc_release_memory(); /* free pages held would leave room */
  sgc_stats st;
  sgc_read_stats(&st);
  sgc_set_memory_limit(st.memory_held_bytes + (1 << 20));
  sgc_collect(); /* the goal is computed with the limit */
  uint64_t spans = span_bytes();
  int n = N / 32;
  for (int i = 0; i < n; i++) {
    young[i] = sgc_alloc(SIZE);
    CHECK(young[i] != NULL);
  }
  uint64_t grown = span_bytes() - spans;
  printf("memory limit: spans grew by %llu bytes for %d objects\n",
         (unsigned long long)grown, n);
  /* Fresh pages for all of them would be n * SIZE (100 KiB). */
  CHECKF(grown < (uint64_t)n * SIZE / 4, "spans grew by %llu bytes: fresh "
         "pages taken with free slots in dense spans under a binding limit",
         (unsigned long long)grown);
  check_objects();
  sgc_set_memory_limit(0);
}

int main(void) {
  sgc_init();
  sgc_disable();
  at_the_hard_limit();
  for (int i = 0; i < N; i++)
    obj[i] = NULL;
  sgc_collect();
  with_room_under_the_hard_limit();
  for (int i = 0; i < N; i++)
    obj[i] = NULL;
  sgc_collect();
  far_below_the_hard_limit();
  for (int i = 0; i < N; i++)
    obj[i] = NULL;
  sgc_collect();
  under_a_binding_memory_limit();
  printf("ok\n");
  return 0;
}
