// labels: heap
// env: SPANGC_SCAVENGE_MS=300
/* A free page goes back to the OS once it has been free for the scavenge
 * period, even while a span freed and reallocated again and again beside
 * it keeps merging into its run.  The run's idle time was once an average
 * weighted by unreleased pages: a one-page span freed every 0.2 ms next
 * to a 127-page idle run pulled that average back to a few tens of
 * milliseconds for ever, and the 127 pages stayed resident.
 *
 * Layout, made with the page heap's own calls (collections off):
 *   [A: 1 page][R: 127 pages][C: 128 pages], no other free page.
 * R is written (resident) and freed; then A is freed and taken again
 * (the lowest, and only, place a one-page span fits) for up to 4 s.  R's
 * pages must leave memory (mincore) well within that. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "nopreempt.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* The largest free span, 0 if none (mheap.lock taken). */
static uintptr_t largest_free_run(void) {
  mheap *h = &sgc_heap;
  uintptr_t best = 0;
  mcache *np = np_lock(&h->lock);
  for (uintptr_t a = h->arena_start; a < h->arena_used;) {
    mspan *s = h->spans[(a - h->arena_start) >> PAGE_SHIFT];
    if (s->state == MSPAN_FREE && s->npages > best)
      best = s->npages;
    a = s->base + s->npages * PAGE_SIZE;
  }
  np_unlock(&h->lock, np);
  return best;
}

static mspan *span(uintptr_t npages) {
  mspan *s;
  NP(s = mheap_alloc(npages, make_spanclass(0, KIND_NOSCAN), true));
  CHECK(s != NULL);
  return s;
}

int main(void) {
  sgc_init();
  sgc_disable();
  /* Take every free page, so the layout below is all there is. */
  for (uintptr_t n; (n = largest_free_run()) != 0;)
    span(n);
  mspan *a = span(1);   /* grows the arena by 1 MiB: 128 pages */
  mspan *r = span(127); /* the rest of that MiB */
  mspan *c = span(128); /* one more MiB, all of it */
  CHECK(r->base == a->base + PAGE_SIZE);
  CHECK(c->base == r->base + 127 * PAGE_SIZE);
  CHECK(largest_free_run() == 0);

  uintptr_t rbase = r->base;
  size_t rlen = 127 * PAGE_SIZE;
  memset((void *)rbase, 1, rlen);
  CHECK(resident_pages((void *)rbase, rlen) == rlen / (size_t)sysconf(_SC_PAGESIZE));
  NP(mheap_free(r));

  uintptr_t abase = a->base;
  double t0 = now_s(), released_at = 0;
  uint64_t rounds = 0;
  while (now_s() - t0 < 4.0) {
    NP(mheap_free(a));
    a = span(1);
    CHECK(a->base == abase); /* the lowest free page: A's own */
    memset((void *)a->base, 2, PAGE_SIZE);
    rounds++;
    if (rounds % 64 == 0 && resident_pages((void *)rbase, rlen) == 0) {
      released_at = now_s() - t0;
      break;
    }
    usleep(200);
  }
  printf("%llu rounds; R released %s %.2f s (scavenge period 0.3 s)\n",
         (unsigned long long)rounds, released_at > 0 ? "after" : "not in",
         released_at > 0 ? released_at : now_s() - t0);
  CHECKF(released_at > 0,
         "127 pages free for 4 s, merged with a churning neighbour, are "
         "still resident (%zu of %zu OS pages)",
         resident_pages((void *)rbase, rlen), rlen / (size_t)sysconf(_SC_PAGESIZE));
  (void)c;
  return 0;
}
