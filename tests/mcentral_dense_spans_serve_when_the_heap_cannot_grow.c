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

/* Room under a hard limit: the holes are filled before pages are taken,
 * and the room is left whole to large objects. */
#define ROOM (8u << 20)
#define LARGE (1u << 20)
static void with_room_under_the_hard_limit(void) {
  make_dense_spans();
  uint64_t spans = span_bytes();
  sgc_set_max_heap(spans + ROOM);
  int n = N / 16 - 16;
  for (int i = 0; i < n; i++) {
    young[i] = sgc_alloc(SIZE);
    CHECK(young[i] != NULL);
  }
  uint64_t grown = span_bytes() - spans;
  int large = 0;
  while (large < N && (young[n + large] = sgc_alloc_noscan(LARGE)) != NULL)
    large++;
  printf("room under the hard limit: spans grew by %llu bytes for %d "
         "objects the holes hold; %d large objects fitted in %u MiB\n",
         (unsigned long long)grown, n, large, ROOM >> 20);
  CHECKF(grown < (uint64_t)n * SIZE / 4, "spans grew by %llu bytes: fresh "
         "pages taken under a hard limit with free slots in dense spans",
         (unsigned long long)grown);
  CHECKF(large >= (int)(ROOM / LARGE) - 1, "only %d objects of %u bytes "
         "fitted in the %u MiB of room", large, LARGE, ROOM >> 20);
  check_objects();
  sgc_set_max_heap(0);
  for (int i = 0; i < n + large; i++)
    young[i] = NULL;
}

/* Far below a hard limit (the spans in use within an eighth of it) the
 * rule holds: new small objects take fresh pages beside the holes, which
 * then hold back at most a 64th of the limit from large objects
 * (helper-81: one fewer 1 MiB object under 64 MiB). */
static void far_below_the_hard_limit(void) {
  make_dense_spans();
  uint64_t spans = span_bytes();
  uint64_t limit = spans * 16;
  sgc_set_max_heap(limit);
  int n = N / 16 - 16;
  for (int i = 0; i < n; i++) {
    young[i] = sgc_alloc(SIZE);
    CHECK(young[i] != NULL);
  }
  uint64_t grown = span_bytes() - spans;
  int large = 0;
  while (large < N - n && (young[n + large] = sgc_alloc_noscan(LARGE)) != NULL)
    large++;
  uint64_t room = limit - spans; /* all of it, had the holes been used */
  printf("far below a %llu-byte hard limit: spans grew by %llu bytes for "
         "%d objects the holes could hold; %d large objects fitted\n",
         (unsigned long long)limit, (unsigned long long)grown, n, large);
  CHECKF(grown >= (uint64_t)n * SIZE / 2, "spans grew by %llu bytes only: "
         "the holes of dense spans were filled far below a hard limit",
         (unsigned long long)grown);
  CHECKF((uint64_t)(large + 1) * LARGE + limit / 64 >= room,
         "%d objects of %u bytes fitted in %llu bytes of room: more than a "
         "64th of the %llu-byte limit held back", large, LARGE,
         (unsigned long long)room, (unsigned long long)limit);
  check_objects();
  sgc_set_max_heap(0);
  for (int i = 0; i < n + large; i++)
    young[i] = NULL;
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
