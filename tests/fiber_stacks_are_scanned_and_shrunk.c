// labels: fiber threads
/* Fibers keep their stacks' objects alive across collections; a finished
 * fiber returns to the fiber that last switched to it; a suspended fiber
 * using a small part of its stack gets the rest returned by the next
 * collection; unreachable fibers lose their stacks. */
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

typedef struct node { struct node *next; long value; uint64_t sum; } node;
static sgc_fiber *home;

static uint64_t mix(long v) { return (uint64_t)v * 0x9e3779b97f4a7c15ull ^ 0xabcdef; }

/* Builds a list referenced only from this fiber's stack, touches 64 KiB
 * of stack once, then yields many times, checking the list each time. */
static void __attribute__((noinline)) touch_stack(void) {
  volatile char big[64 << 10];
  for (size_t i = 0; i < sizeof big; i += 512)
    big[i] = (char)i;
}

static void worker(void *arg) {
  long id = (long)(intptr_t)arg;
  node *list = NULL;
  for (long i = 0; i < 50; i++) {
    node *n = sgc_alloc(sizeof *n);
    n->next = list;
    n->value = id * 1000 + i;
    n->sum = mix(n->value);
    list = n;
  }
  touch_stack();
  for (int round = 0; round < 4; round++) {
    sgc_fiber_switch(home);
    long i = 49;
    for (node *n = list; n; n = n->next, i--)
      CHECKF(n->value == id * 1000 + i && n->sum == mix(n->value),
             "fiber %ld node %ld corrupted", id, i);
    CHECK(i == -1);
  }
}

static int returned;
static void short_fiber(void *arg) { returned = (int)(intptr_t)arg; }

static void __attribute__((noinline)) make_garbage_fibers(int n) {
  for (int i = 0; i < n; i++) {
    sgc_fiber *f = sgc_fiber_create(short_fiber, NULL, 32 << 10);
    CHECK(f != NULL);
  }
}

int main(void) {
  sgc_init();
  home = sgc_fiber_self();
  CHECK(home != NULL);

  /* Return to caller. */
  sgc_fiber *s = sgc_fiber_create(short_fiber, (void *)(intptr_t)7, 0);
  CHECK(s && !sgc_fiber_finished(s));
  sgc_fiber_switch(s);
  CHECK(returned == 7 && sgc_fiber_finished(s));

  enum { N = 64 };
  sgc_fiber **fs = sgc_alloc(N * sizeof *fs);
  for (long i = 0; i < N; i++) {
    fs[i] = sgc_fiber_create(worker, (void *)(intptr_t)i, 128 << 10);
    CHECK(fs[i] != NULL);
  }
  sgc_stats st;
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < N; i++)
      sgc_fiber_switch(fs[i]);
    /* Churn so the lists would be reused if they were not kept. */
    for (int k = 0; k < 20000; k++) {
      node *volatile junk = sgc_alloc(sizeof(node));
      CHECK(junk != NULL);
    }
    sgc_collect();
    sgc_read_stats(&st);
  }
  for (int i = 0; i < N; i++)
    CHECK(sgc_fiber_finished(fs[i]));
  CHECKF(st.stack_released_bytes >= (uint64_t)N * 32 * 1024,
         "released %llu", (unsigned long long)st.stack_released_bytes);

  /* Their stacks count toward the next collection: none runs before the
   * one this checks. */
  sgc_disable();
  make_garbage_fibers(200);
  sgc_enable();
  sgc_read_stats(&st);
  uint64_t live_before = st.fibers_live;
  sgc_collect();
  sgc_read_stats(&st);
  CHECKF(st.fibers_live + 150 <= live_before, "live %llu -> %llu",
         (unsigned long long)live_before, (unsigned long long)st.fibers_live);
  sgc_heap_verify();
  printf("fibers: released %llu stack bytes, %llu live\n",
         (unsigned long long)st.stack_released_bytes,
         (unsigned long long)st.fibers_live);
  return 0;
}
