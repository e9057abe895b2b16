// labels: heap threads
// timeout: 120
/* While the scavenger releases a free span's pages it holds that span out
 * of the free structures, without mheap.lock (scavenger.c).  An
 * allocation that finds no other free run big enough waits for the span
 * to come back rather than growing the arena: growing there made the
 * committed arena creep up under load (the short soak, beside other
 * processes: 282-329 MB committed for a peak of 177-189 MB in use, the
 * largest free run 90-150 MB but out at the time of each growth).
 *
 * Here a helper thread's sgc_release_memory is held, by the test hook,
 * for 300 ms with the only big free span out; the main thread allocates
 * an object that fits only there.  It must not grow the arena, and gets
 * its object once the span is back; the heap verifies; and an allocation
 * no free run could hold still grows the arena at once. */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "spangc-int.h"

#define BIG ((size_t)16 << 20)
#define WANT ((size_t)12 << 20)

static sem_t held;
static int held_once; /* atomic */

static void on_release(void) {
  /* Runs on the releasing thread, the span set out under mheap.lock. */
  mspan *s = sgc_heap.scavenging;
  if (s == NULL || s->npages * PAGE_SIZE < WANT ||
      ATOMIC_ADD(&held_once, 1) != 1)
    return;
  sem_post(&held);
  struct timespec ts = {0, 300 * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void *releaser(void *arg) {
  (void)arg;
  sgc_release_memory();
  return NULL;
}

int main(void) {
  sgc_init();
  sgc_disable();
  unsigned char *big = sgc_alloc_noscan(BIG);
  CHECK(big != NULL);
  memset(big, 0x5a, BIG); /* pages the release has work to do on */
  sgc_free(big);
  sem_init(&held, 0, 0);
  sgc_test_scavenge_hook = on_release;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, releaser, NULL) == 0);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 30;
  CHECKF(sem_timedwait(&held, &ts) == 0, "the free span was never released");

  sgc_stats a, b;
  sgc_read_stats(&a);
  uint64_t t0 = os_nanotime();
  unsigned char *p = sgc_alloc_noscan(WANT);
  uint64_t waited = os_nanotime() - t0;
  CHECK(p != NULL);
  sgc_read_stats(&b);
  CHECKF(b.arena_committed_bytes == a.arena_committed_bytes,
         "the arena grew from %.1f to %.1f MB while a free span of %zu MB "
         "was out for its release",
         a.arena_committed_bytes / 1048576.0,
         b.arena_committed_bytes / 1048576.0, BIG >> 20);
  for (size_t i = 0; i < WANT; i += 4096)
    CHECKF(p[i] == 0, "byte %zu of the new object is %#x, not zero", i, p[i]);
  memset(p, 0x77, WANT);
  CHECK(pthread_join(t, NULL) == 0);
  sgc_test_scavenge_hook = NULL;
  sgc_heap_verify();

  /* Nothing out, nothing free that fits: the arena grows. */
  sgc_read_stats(&a);
  unsigned char *q = sgc_alloc_noscan(BIG * 2);
  CHECK(q != NULL);
  sgc_read_stats(&b);
  CHECK(b.arena_committed_bytes > a.arena_committed_bytes);
  for (size_t i = 0; i < WANT; i += 4096)
    CHECK(p[i] == 0x77);
  printf("the allocation waited %.1f ms for the span being released\n",
         waited / 1e6);
  return 0;
}
