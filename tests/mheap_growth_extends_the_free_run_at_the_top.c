// labels: heap
/* When no free run fits, the arena grows only by what the free run at its
 * top lacks (at least 1 MiB at a time): that run and the new pages make
 * one.  It once grew by the whole request and left the top run beside it,
 * so a program asking for a large object now and then committed up to the
 * object's size more than it needed each time (issue #21: the arena
 * outgrew the pages in use).
 *
 * Page heap calls, collections off: every free page taken, then one page
 * (the arena grows 1 MiB, 127 pages stay free at the top), then 200 pages:
 * the arena must grow by 1 MiB, not 200 pages, and the 200 pages must
 * start right after the first page. */
#include <stdint.h>

#include "check.h"
#include "nopreempt.h"

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
  mheap *h = &sgc_heap;
  for (uintptr_t n; (n = largest_free_run()) != 0;)
    span(n);
  mspan *a = span(1);
  CHECK(largest_free_run() == HEAP_GROW_MIN / PAGE_SIZE - 1);
  uintptr_t before = h->arena_used;
  mspan *b = span(200);
  uintptr_t grown = h->arena_used - before;
  printf("200 pages with 127 free at the top: the arena grew %lu KiB\n",
         (unsigned long)(grown >> 10));
  CHECK(b->base == a->base + PAGE_SIZE);
  CHECKF(grown == HEAP_GROW_MIN, "grew %lu KiB for the 73 pages missing",
         (unsigned long)(grown >> 10));
  sgc_heap_verify();
  return 0;
}
