// labels: heap
// timeout: 120
/* A heap of many small free runs between live objects (a program that
 * dropped most of its data) goes back to the OS in a few system calls,
 * not one per run: each call ends with a flush of the TLBs of every CPU
 * running the program (80-90 us here with a second thread running), and
 * the shrink benchmark's 900 MB of 72 KiB runs took 0.9 s to release one
 * run at a time, the heap lock held meanwhile (the program's allocations
 * stalled 200-300 ms).  Checked: the runs' pages are really gone
 * (mincore) and read back as zero when allocated again; the live objects
 * between them are intact; the number of release calls is at most one per
 * batch of runs when the kernel takes a vector (process_madvise on the
 * process itself, Linux 6.16), one per run otherwise (then said so). */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "spangc-int.h"

#define N 3000
#define SIZE (40 << 10) /* a span of its own, 5 pages */

static uint64_t *obj[N];

static uint64_t pattern(int i, size_t w) {
  return 0x7e1ea5e000000000ull ^ ((uint64_t)i << 24) ^ w;
}

int main(void) {
  sgc_init();
  sgc_disable();
  sgc_release_memory(); /* nothing idle left from start-up */
  for (int i = 0; i < N; i++) {
    obj[i] = sgc_alloc(SIZE);
    CHECK(obj[i] != NULL);
    for (size_t w = 0; w < SIZE / 8; w++)
      obj[i][w] = pattern(i, w);
  }
  /* Every other one freed: N/2 free runs, each between live spans. */
  void *freed[N / 2];
  for (int i = 1; i < N; i += 2) {
    freed[i / 2] = obj[i];
    sgc_free(obj[i]);
    obj[i] = NULL;
  }
  uint64_t calls0 = os_release_calls();
  size_t released = sgc_release_memory();
  uint64_t calls = os_release_calls() - calls0;
  CHECKF(released >= (size_t)(N / 2) * SIZE, "released %zu bytes of %zu freed",
         released, (size_t)(N / 2) * SIZE);

  size_t still = 0;
  for (int i = 0; i < N / 2; i++)
    still += resident_pages(freed[i], SIZE);
  CHECKF(still == 0, "%zu pages of the released runs still resident", still);
  for (int i = 0; i < N; i += 2)
    for (size_t w = 0; w < SIZE / 8; w++)
      CHECKF(obj[i][w] == pattern(i, w), "live object %d lost word %zu", i, w);

  /* One call per run would be N/2 calls; the scavenger gathers up to
   * 256 small runs a call.  Kernels before 6.16 (no process_madvise of
   * MADV_DONTNEED on the process itself, or no PIDFD_SELF) release run by
   * run: only correctness is checked there. */
  uint64_t batches = (N / 2 + 99) / 100;
  int refusal = os_release_batch_refusal();
  if (release_batching_expected(refusal)) {
    CHECKF(refusal == 0, "process_madvise refused with errno %d", refusal);
    CHECKF(calls <= batches + 4,
           "%llu release calls for %d runs (one per run: no batching)",
           (unsigned long long)calls, N / 2);
  }

  /* The released memory comes back zeroed. */
  for (int i = 1; i < N; i += 2) {
    obj[i] = sgc_alloc(SIZE);
    CHECK(obj[i] != NULL);
    for (size_t w = 0; w < SIZE / 8; w++)
      CHECKF(obj[i][w] == 0, "reused released memory not zero (object %d, "
             "word %zu)", i, w);
  }
  sgc_heap_verify();
  printf("%d runs released in %llu calls\n", N / 2, (unsigned long long)calls);
  return 0;
}
