// labels: heap threads
// timeout: 120
/* The waits around a span out (scavenger.c, mheap.c alloc_span_locked)
 * sleep; they do not spin on sched_yield.  On one CPU, a thread at
 * real-time priority that yields gives the CPU to no ordinary thread, so:
 *   - a releaser at SCHED_FIFO, handing its span to an allocation that
 *     waits for it, spun until the kernel's real-time throttling stopped
 *     it (helper-73: 1050 ms for a 100 ms release, against 106 ms when the
 *     hand-over had a 1 ms bound),
 *   - an allocation at SCHED_FIFO waiting for a span held by an ordinary
 *     releaser spun the same second, the releaser never getting the CPU
 *     to put the span back.
 * Each phase pins both threads to the same CPU, holds one 16 MiB batch
 * of a 48 MiB free span out HOLD_MS (the test hook) and allocates 12
 * MiB beside it.  Without the permission to use SCHED_FIFO (no
 * CAP_SYS_NICE) the test says so and checks the plain case only. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

#define MB ((size_t)1 << 20)
#define HOLD_MS 100

static sem_t held;
static int hooked; /* atomic */
static int fifo_releaser, fifo_waiter;
static int no_fifo; /* atomic: setting SCHED_FIFO was refused */

static void on_release(void) {
  mspan *s = sgc_heap.scavenging;
  if (s == NULL || s->npages * PAGE_SIZE < 8 * MB || ATOMIC_ADD(&hooked, 1) != 1)
    return;
  sem_post(&held);
  struct timespec ts = {0, HOLD_MS * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void pin_and_rank(int fifo) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  CHECK(pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0);
  if (fifo) {
    struct sched_param sp = {.sched_priority = 10};
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
      ATOMIC_STORE(&no_fifo, 1);
  }
}

static double released_ms, allocated_ms;

static void *releaser(void *arg) {
  (void)arg;
  pin_and_rank(fifo_releaser);
  uint64_t t0 = os_nanotime();
  sgc_release_memory();
  released_ms = (os_nanotime() - t0) / 1e6;
  return NULL;
}

static void *waiter(void *arg) {
  (void)arg;
  pin_and_rank(fifo_waiter);
  sem_wait(&held);
  uint64_t t0 = os_nanotime();
  void *p = sgc_alloc_noscan(12 * MB);
  allocated_ms = (os_nanotime() - t0) / 1e6;
  CHECK(p != NULL);
  sgc_free(p);
  return NULL;
}

static void phase(const char *name, int rel_fifo, int wait_fifo) {
  unsigned char *c = sgc_alloc_noscan(48 * MB);
  CHECK(c != NULL);
  memset(c, 0x5a, 48 * MB); /* pages the release has work to do on */
  sgc_free(c);
  fifo_releaser = rel_fifo;
  fifo_waiter = wait_fifo;
  ATOMIC_STORE(&hooked, 0);
  ATOMIC_STORE(&sgc_test_scavenge_hook, on_release);
  pthread_t r, w;
  CHECK(sgc_pthread_create(&w, NULL, waiter, NULL) == 0);
  CHECK(sgc_pthread_create(&r, NULL, releaser, NULL) == 0);
  CHECK(pthread_join(r, NULL) == 0);
  CHECK(pthread_join(w, NULL) == 0);
  ATOMIC_STORE(&sgc_test_scavenge_hook, NULL);
  printf("%s: release %.0f ms, allocation %.0f ms (hold %d ms)\n", name,
         released_ms, allocated_ms, HOLD_MS);
  CHECKF(released_ms < HOLD_MS * 6 && allocated_ms < HOLD_MS * 6,
         "%s: the release took %.0f ms and the allocation %.0f ms for a "
         "batch held out %d ms", name, released_ms, allocated_ms, HOLD_MS);
  sgc_heap_verify();
}

int main(void) {
  sgc_init();
  sgc_disable();
  sem_init(&held, 0, 0);
  phase("both ordinary", 0, 0);
  phase("real-time releaser", 1, 0);
  phase("real-time waiter", 0, 1);
  if (ATOMIC_LOAD(&no_fifo))
    printf("SCHED_FIFO refused (no CAP_SYS_NICE): the real-time phases ran "
           "at ordinary priority\n");
  return 0;
}
