// labels: heap
/* The page heap hands out the lowest-addressed free run that fits
 * (address-ordered first fit), whatever the sizes of the runs and the
 * order they were freed in: the heap packs towards the bottom of the
 * arena, and the runs above what the program uses stay untouched, so they
 * coalesce and the scavenger can return them.  Free spans below 128 pages
 * were once reused last-freed-first and larger ones best fit, which
 * touched runs all over the arena (issue #21: RSS stayed at the committed
 * arena).
 *
 * Layout, made with the page heap's own calls (collections off), pinned
 * spans P between the holes so they cannot coalesce:
 *   [H1: 4][P][H2: 4][P][H3: 300][P][H4: 200][P]
 * H1 then H2 freed (H2 last), H3 and H4 freed (H4 is the better fit for
 * 150 pages).  A 4-page span must come from H1, a 150-page one from H3. */
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
  for (uintptr_t n; (n = largest_free_run()) != 0;)
    span(n);
  mspan *h1 = span(4);
  span(1);
  mspan *h2 = span(4);
  span(1);
  mspan *h3 = span(300);
  span(1);
  mspan *h4 = span(200);
  mspan *last = span(1);
  uintptr_t b1 = h1->base, b2 = h2->base, b3 = h3->base, b4 = h4->base;
  CHECK(b1 < b2 && b2 < b3 && b3 < b4 && b4 < last->base);
  for (uintptr_t n; (n = largest_free_run()) != 0;) /* the arena's tail */
    span(n);

  NP(mheap_free(h1));
  NP(mheap_free(h2));
  mspan *s = span(4);
  printf("4 pages: got %s\n", s->base == b1 ? "H1 (lowest)" : "not H1");
  CHECKF(s->base == b1, "a 4-page span came from %#lx, not the lowest "
         "free run %#lx (H2, freed last, is at %#lx)", (unsigned long)s->base,
         (unsigned long)b1, (unsigned long)b2);

  NP(mheap_free(h3));
  NP(mheap_free(h4));
  s = span(150);
  printf("150 pages: got %s\n", s->base == b3 ? "H3 (lowest)" : "not H3");
  CHECKF(s->base == b3, "a 150-page span came from %#lx, not the lowest "
         "free run %#lx (H4, the best fit, is at %#lx)",
         (unsigned long)s->base, (unsigned long)b3, (unsigned long)b4);
  sgc_heap_verify();
  return 0;
}
