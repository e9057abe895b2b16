// labels: heap threads
// timeout: 120
// env: SPANGC_SCAVENGE_MS=20 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* Releasing free pages does not hold mheap.lock while the kernel clears
 * them (madvise took ~1 ms per 16 MiB, and every thread that wanted a
 * span meanwhile waited: 1-3.5 ms pushes on the pause test).  The
 * scavenger thread's release (every 10 ms here) is held, by the test hook,
 * with a span out of the free structures and its pages not yet released;
 * meanwhile the main thread
 *   - allocates large and small objects, which takes mheap.lock (held by
 *     the release, this waited for ever: the hook gives up after 30 s and
 *     the test fails),
 *   - frees the neighbours of the span being released (they must not
 *     merge with it while it is out),
 * and fills what it allocated, and forks: the child (whose copy of the
 * span out may hold pages the parent had not released yet) puts it back
 * and allocates zeroed memory (the debug build aborted there: the held-
 * lock check named the parent's thread).  After the release: what was allocated
 * meanwhile is intact (its pages were not among those released), the heap
 * verifies (free neighbours merged again, page counters right), and the
 * freed memory was released and can be allocated again. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "nopreempt.h"

#define BIG (1 << 20)
#define NBIG 16
#define NNEW 32

static sem_t held, go_on;
static int hook_calls; /* atomic */
static int hook_timed_out; /* atomic */
static uint64_t *volatile big[NBIG];
static uint64_t *volatile fresh[NNEW];

static void on_release(void) {
  if (ATOMIC_ADD(&hook_calls, 1) != 1)
    return; /* only the first span's release waits */
  sem_post(&held);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 30;
  while (sem_timedwait(&go_on, &ts) != 0)
    if (errno == ETIMEDOUT) {
      ATOMIC_STORE(&hook_timed_out, 1);
      return;
    }
}

static uint64_t pattern(int i, size_t w) {
  return 0x5ca7e000000000ull ^ ((uint64_t)i << 32) ^ w;
}

static size_t fresh_size(int i) { return i % 2 ? 96 : BIG / 2; }

int main(void) {
  sgc_init();
  sgc_disable();
  for (int i = 0; i < NBIG; i++) {
    big[i] = sgc_alloc_noscan(BIG);
    CHECK(big[i] != NULL);
    memset(big[i], 0x33, BIG);
  }
  sem_init(&held, 0, 0);
  sem_init(&go_on, 0, 0);
  ATOMIC_STORE(&sgc_test_scavenge_hook, on_release);
  /* Every other one freed: free spans with in-use neighbours. */
  for (int i = 1; i < NBIG; i += 2) {
    sgc_free(big[i]);
    big[i] = NULL;
  }
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t released0 = st.released_total_bytes;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 30;
  CHECK(sem_timedwait(&held, &ts) == 0);

  /* A span is out, its pages not yet released, mheap.lock free. */
  mspan *out = sgc_heap.scavenging;
  CHECK(out != NULL);
  for (int i = 0; i < NBIG; i += 2) {
    sgc_free(big[i]); /* among them the neighbours of the span out */
    big[i] = NULL;
  }
  for (int i = 0; i < NNEW; i++) {
    size_t n = fresh_size(i);
    fresh[i] = sgc_alloc_noscan(n);
    CHECK(fresh[i] != NULL);
    CHECKF(!ATOMIC_LOAD(&hook_timed_out),
           "the main thread could not allocate while a span's pages were "
           "being released (mheap.lock held across the release?)");
    CHECKF((uintptr_t)fresh[i] + n <= out->base ||
           (uintptr_t)fresh[i] >= out->base + out->npages * PAGE_SIZE,
           "object %p allocated in the span being released [%p, +%lu pages)",
           (void *)fresh[i], (void *)out->base, (unsigned long)out->npages);
    for (size_t w = 0; w < n / 8; w++)
      fresh[i][w] = pattern(i, w);
  }
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    sgc_heap_verify();
    for (int i = 0; i < 8; i++) {
      uint64_t *p = sgc_alloc(BIG);
      if (p == NULL)
        _exit(2);
      for (size_t w = 0; w < BIG / 8; w += 512)
        if (p[w] != 0)
          _exit(3);
    }
    sgc_heap_verify();
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "fork child with a span out: status %#x", status);
  sem_post(&go_on);
  /* Until the span is back. */
  for (;;) {
    sgc_read_stats(&st); /* takes mheap.lock */
    mcache *np = np_lock(&sgc_heap.lock);
    bool back = sgc_heap.scavenging == NULL;
    np_unlock(&sgc_heap.lock, np);
    if (back)
      break;
    sched_yield();
  }
  ATOMIC_STORE(&sgc_test_scavenge_hook, NULL);
  CHECKF(!ATOMIC_LOAD(&hook_timed_out),
         "the main thread could not allocate while a span's pages were "
         "being released (mheap.lock held across the release?)");
  CHECK(ATOMIC_LOAD(&hook_calls) >= 1);
  /* At least the span held out (the allocations may have reused the
   * other freed spans before the release reached them). */
  sgc_read_stats(&st);
  uint64_t released = st.released_total_bytes - released0;
  CHECKF(released >= BIG, "released %llu bytes", (unsigned long long)released);

  for (int i = 0; i < NNEW; i++)
    for (size_t w = 0; w < fresh_size(i) / 8; w++)
      CHECKF(fresh[i][w] == pattern(i, w),
             "object %d allocated during the release lost word %zu", i, w);
  sgc_heap_verify();

  /* The rest goes back too, and the memory is usable again. */
  sgc_release_memory();
  sgc_read_stats(&st);
  CHECKF(st.heap_released_bytes == st.heap_idle_bytes &&
         st.heap_idle_bytes >= (uint64_t)(NBIG / 4) * BIG,
         "released %llu of %llu free bytes",
         (unsigned long long)st.heap_released_bytes,
         (unsigned long long)st.heap_idle_bytes);
  for (int i = 0; i < NBIG; i++) {
    big[i] = sgc_alloc(BIG);
    CHECK(big[i] != NULL);
    for (size_t w = 0; w < BIG / 8; w += 512)
      CHECKF(big[i][w] == 0, "reused released memory not zero at word %zu",
             w);
    big[i][BIG / 8 - 1] = 1;
  }
  sgc_heap_verify();
  printf("released %llu bytes with the main thread allocating beside it\n",
         (unsigned long long)released);
  return 0;
}
