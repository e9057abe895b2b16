// labels: heap
/* Releasing a large free span looks at each of its pages about once.
 * Batches are capped at 16 MiB (scavenger.c RELEASE_PAGES), so a span of
 * G GiB is released in 64 G batches; each batch walked the span's free
 * times from its base (sgc_release_memory's pass) or its top (the
 * release down to a memory limit), so the walk was quadratic: 1.3 s for
 * 16 GiB and 12 s for 48 GiB with mheap.lock held (helper-73).  Counted
 * here by mheap.scavenge_walked, for both passes: an untouched 512 MiB
 * object freed (its pages count as free and unreleased) and released.
 * And the walk resumes only where it may: a neighbour freed while a
 * batch is out merges into the span, and its pages, below where the
 * walk stopped (lowest first) or above it (highest first), were skipped
 * by the first resuming walk (helper-74: a second sgc_release_memory
 * still found the 24 MiB neighbour; the heap stayed 25 MiB above a
 * memory limit). */
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "check.h"
#include "nopreempt.h"

#define MB ((size_t)1 << 20)
#define SPAN ((size_t)512 << 20)

static uint64_t walked(void) {
  mcache *np = np_lock(&sgc_heap.lock);
  uint64_t n = sgc_heap.scavenge_walked;
  np_unlock(&sgc_heap.lock, np);
  return n;
}

/* Free an untouched SPAN-byte object; its pages are then unreleased. */
static void free_span(void) {
  void *p = sgc_alloc_noscan(SPAN);
  CHECK(p != NULL);
  sgc_free(p);
}

/* The merge phases: the test hook holds the first batch out until the
 * main thread has freed a neighbour. */
static sem_t held, go_on;
static int hook_calls; /* atomic */
static uintptr_t mid_lo, mid_hi; /* the span whose batch is held */
static void hold_first_batch(void) {
  mspan *s = sgc_heap.scavenging; /* set by this thread, under the lock */
  if (s == NULL || s->base < mid_lo || s->base >= mid_hi ||
      ATOMIC_ADD(&hook_calls, 1) != 1)
    return;
  sem_post(&held);
  CHECK(sem_wait(&go_on) == 0);
}

static void *release_thread(void *limit) {
  if (limit != NULL)
    sgc_set_memory_limit((size_t)(uintptr_t)limit);
  else
    sgc_release_memory();
  return NULL;
}

/* Free span mid between live lo and hi (24 MiB each), release it with
 * the first batch held out while 'neighbour' is freed, then check that
 * nothing free is left unreleased (all: sgc_release_memory) or that the
 * heap keeps at most the limit's cap (the limit). */
static void merge_phase(bool lowest_first) {
  void *lo = sgc_alloc_noscan(24 * MB), *mid = sgc_alloc_noscan(100 * MB);
  void *hi = sgc_alloc_noscan(24 * MB), *guard = sgc_alloc_noscan(MB);
  CHECK(lo && mid && hi && guard);
  CHECK((uintptr_t)mid == (uintptr_t)lo + 24 * MB &&
        (uintptr_t)hi == (uintptr_t)mid + 100 * MB);
  memset(lo, 1, 24 * MB);
  memset(mid, 2, 100 * MB);
  memset(hi, 3, 24 * MB);
  mid_lo = (uintptr_t)mid;
  mid_hi = mid_lo + 100 * MB;
  sgc_free(mid);
  sgc_stats st;
  sgc_read_stats(&st);
  size_t limit = st.heap_span_bytes - 24 * MB; /* after lo or hi is freed */
  ATOMIC_STORE(&hook_calls, 0);
  ATOMIC_STORE(&sgc_test_scavenge_hook, hold_first_batch);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, release_thread,
                       lowest_first ? NULL : (void *)(uintptr_t)limit) == 0);
  CHECK(sem_wait(&held) == 0);
  /* Below where the walk up stopped; above where the walk down did. */
  sgc_free(lowest_first ? lo : hi);
  sem_post(&go_on);
  CHECK(pthread_join(t, NULL) == 0);
  ATOMIC_STORE(&sgc_test_scavenge_hook, NULL);
  sgc_read_stats(&st);
  uint64_t unreleased =
      st.free_young_bytes + st.free_idle_bytes + st.free_old_bytes;
  printf("%s: %d hook calls; %.1f MiB free unreleased, %.1f MiB in spans "
         "(limit %.1f MiB)\n", lowest_first ? "lower neighbour merged" :
         "upper neighbour merged", ATOMIC_LOAD(&hook_calls),
         unreleased / 1048576.0, st.heap_span_bytes / 1048576.0,
         limit / 1048576.0);
  if (lowest_first)
    CHECKF(unreleased == 0, "sgc_release_memory left %.1f MiB free and "
           "unreleased (a neighbour merged in during its pass)",
           unreleased / 1048576.0);
  else
    CHECKF(st.heap_span_bytes + unreleased <= limit + 16 * MB,
           "under a limit of %.1f MiB the heap keeps %.1f MiB in spans and "
           "%.1f MiB free unreleased (a neighbour merged in during the "
           "release)", limit / 1048576.0, st.heap_span_bytes / 1048576.0,
           unreleased / 1048576.0);
  sgc_set_memory_limit(0);
  sgc_free(lowest_first ? hi : lo);
  sgc_free(guard);
  sgc_heap_verify();
}

int main(void) {
  sgc_init();
  sgc_disable();
  uint64_t pages = SPAN / PAGE_SIZE;

  /* sgc_release_memory: lowest pages first. */
  free_span();
  sgc_stats s0, s1;
  sgc_read_stats(&s0);
  uint64_t w0 = walked();
  sgc_release_memory();
  uint64_t w = walked() - w0;
  sgc_read_stats(&s1);
  CHECKF(s1.released_total_bytes - s0.released_total_bytes >= SPAN,
         "released %llu bytes of the %zu MiB span",
         (unsigned long long)(s1.released_total_bytes -
                              s0.released_total_bytes), SPAN >> 20);
  printf("sgc_release_memory: %llu pages looked at for a span of %llu\n",
         (unsigned long long)w, (unsigned long long)pages);
  CHECKF(w <= 2 * pages + 4096, "sgc_release_memory looked at %llu pages "
         "of free times for a free span of %llu", (unsigned long long)w,
         (unsigned long long)pages);
  sgc_heap_verify();

  /* A memory limit below what the heap holds: highest pages first. */
  free_span();
  sgc_read_stats(&s0);
  w0 = walked();
  sgc_set_memory_limit(s0.heap_span_bytes + ((size_t)16 << 20));
  w = walked() - w0;
  printf("memory limit: %llu pages looked at for a span of %llu\n",
         (unsigned long long)w, (unsigned long long)pages);
  CHECKF(w <= 2 * pages + 4096, "the release down to a memory limit looked "
         "at %llu pages of free times for a free span of %llu",
         (unsigned long long)w, (unsigned long long)pages);
  sgc_set_memory_limit(0);
  sgc_heap_verify();

  sem_init(&held, 0, 0);
  sem_init(&go_on, 0, 0);
  sgc_release_memory();
  merge_phase(true);
  sgc_release_memory();
  merge_phase(false);
  return 0;
}
