// labels: heap
// env: SPANGC_SCAVENGE_MS=0
/* A release pass (mheap_scavenge) reads the clock once, then drops
 * mheap.lock around each span's release.  Pages freed meanwhile carry a
 * free time after the pass's clock: they have been idle for no time at
 * all, and must not be released by that pass.  The unsigned "now - freed"
 * wrapped to a huge idle time, so a span freed while the pass released
 * another was released at once (a page freed and given back to the OS
 * in the same breath: the next allocation there faults it in again).
 * Here an old free span below is released with the hook holding its
 * release; meanwhile an object above it is freed; the pass goes on up the
 * arena and must leave the new free span's pages alone, while the old
 * span's are released. */
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "nopreempt.h"

#define BIG (2 << 20) /* above RELEASE_UNLOCKED_MIN: released unlocked */

static uint64_t *volatile old_one, *volatile keep, *volatile new_one;
static int hook_calls; /* atomic */

static void on_release(void) {
  if (ATOMIC_ADD(&hook_calls, 1) != 1)
    return;
  sgc_free(new_one); /* freed after the pass read the clock */
}

static bool released(uint64_t *p) {
  mheap *h = &sgc_heap;
  mcache *np = np_lock(&h->lock);
  uintptr_t k = ((uintptr_t)p - h->arena_start) >> PAGE_SHIFT;
  bool r = h->freetime[k] == 0 &&
           ATOMIC_LOAD(&h->spans[k]->state) == MSPAN_FREE;
  np_unlock(&h->lock, np);
  return r;
}

int main(void) {
  sgc_init();
  sgc_disable();
  old_one = sgc_alloc_noscan(BIG);
  keep = sgc_alloc_noscan(BIG); /* between them: no merging */
  new_one = sgc_alloc_noscan(BIG);
  CHECK(old_one && keep && new_one);
  CHECK((uintptr_t)old_one < (uintptr_t)keep &&
        (uintptr_t)keep < (uintptr_t)new_one);
  memset(old_one, 1, BIG);
  memset(keep, 2, BIG);
  memset(new_one, 3, BIG);
  sgc_free(old_one);
  struct timespec ts = {0, 300 * 1000000};
  nanosleep(&ts, NULL); /* old_one's pages idle for 300 ms */

  ATOMIC_STORE(&sgc_test_scavenge_hook, on_release);
  size_t n;
  NP(n = mheap_scavenge((uint64_t)200 * 1000000)); /* idle >= 200 ms */
  ATOMIC_STORE(&sgc_test_scavenge_hook, NULL);
  CHECKF(ATOMIC_LOAD(&hook_calls) >= 1, "no release ran unlocked");
  CHECKF(released(old_one), "the old free span was not released");
  CHECKF(!released(new_one),
         "pages freed during the pass (idle for no time) were released "
         "by it (%zu bytes released in all)", n);
  sgc_heap_verify();
  for (size_t w = 0; w < BIG / 8; w += 512)
    CHECK(keep[w] == 0x0202020202020202ull);
  printf("ok: %zu bytes released, the span freed during the pass kept\n", n);
  return 0;
}
