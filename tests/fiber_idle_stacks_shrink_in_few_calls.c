// labels: fiber
// timeout: 120
/* A collection shrinks the stacks of idle fibers inside its stop, and
 * gives their pages back a batch at a time, not one system call per
 * fiber: each call ends with a flush of the TLBs (80-90 us on these
 * machines with another thread running), and 100000 idle fibers, shrunk
 * one call each, held the stop 5.3 s (30000: 680 ms, batched 230 ms).
 * Checked: the pages below each idle fiber's stack pointer are gone
 * (mincore) and the fibers still run, their lists intact; the release
 * calls number at most one per batch when the kernel takes a vector
 * (process_madvise on the process itself, Linux 6.16), else one per
 * fiber (then said so). */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "spangc-int.h"

#define N 1000
#define DEEP (64 << 10)

typedef struct node { struct node *next; long value; } node;
static sgc_fiber *home;
static volatile uintptr_t deep_at[N]; /* an address deep in each stack */

static void __attribute__((noinline)) touch_stack(long id) {
  volatile char big[DEEP];
  for (size_t i = 0; i < sizeof big; i += 512)
    big[i] = (char)i;
  deep_at[id] = (uintptr_t)&big[1024];
}

static void worker(void *arg) {
  long id = (long)(intptr_t)arg;
  node *list = NULL;
  for (long i = 0; i < 8; i++) {
    node *n = sgc_alloc(sizeof *n);
    n->next = list;
    n->value = id * 100 + i;
    list = n;
  }
  touch_stack(id);
  sgc_fiber_switch(home);
  long i = 7;
  for (node *n = list; n; n = n->next, i--)
    CHECKF(n->value == id * 100 + i, "fiber %ld node %ld corrupted", id, i);
  CHECK(i == -1);
}

int main(void) {
  sgc_init();
  home = sgc_fiber_self();
  sgc_fiber **fs = sgc_alloc(N * sizeof *fs);
  CHECK(fs != NULL);
  /* No collection shrinks some of them before the one measured. */
  sgc_disable();
  for (long i = 0; i < N; i++) {
    fs[i] = sgc_fiber_create(worker, (void *)(intptr_t)i, 128 << 10);
    CHECK(fs[i] != NULL);
    sgc_fiber_switch(fs[i]); /* runs to its first switch home */
  }
  sgc_enable();
  uint64_t calls0 = os_release_calls();
  sgc_collect();
  uint64_t calls = os_release_calls() - calls0;

  size_t resident = 0;
  for (int i = 0; i < N; i++)
    resident += resident_pages((const void *)deep_at[i], 1);
  CHECKF(resident == 0, "%zu of %d idle stacks kept their deep pages",
         resident, N);

  int refusal = os_release_batch_refusal();
  if (release_batching_expected(refusal)) {
    CHECKF(refusal == 0, "process_madvise refused with errno %d", refusal);
    CHECKF(calls <= (N + 255) / 256 + 8,
           "%llu release calls for %d idle stacks",
           (unsigned long long)calls, N);
  }

  for (int i = 0; i < N; i++) {
    sgc_fiber_switch(fs[i]);
    CHECK(sgc_fiber_finished(fs[i]));
  }
  sgc_heap_verify();
  printf("%d idle stacks shrunk in %llu release calls\n", N,
         (unsigned long long)calls);
  return 0;
}
