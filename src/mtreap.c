/*
 * mtreap.c — the treap of free spans: the page heap's free runs (mheap.c)
 * ordered by base address, so that mheap.c takes the lowest-addressed one
 * that fits in one descent.
 *
 * Owns no state of its own: the treap is mheap.freetree, its priorities
 * come from mheap.treap_seed, its links are the spans' tleft, tright,
 * tprio and tmax; all are mheap.lock's, which every caller holds.
 */
#include "spangc-int.h"

/* ----------------------------------------------------------------- treap */

/* Every free span is in one treap ordered by base address.  Each node
 * also records tmax, the most pages of any span in its subtree, so the
 * lowest-addressed span of at least n pages is found in one descent. */

static inline void treap_fix(mspan *t) {
  uintptr_t m = t->npages;
  if (t->tleft && t->tleft->tmax > m)
    m = t->tleft->tmax;
  if (t->tright && t->tright->tmax > m)
    m = t->tright->tmax;
  t->tmax = m;
}

/* Every base in a is below every base in b. */
static mspan *treap_merge(mspan *a, mspan *b) {
  if (a == NULL)
    return b;
  if (b == NULL)
    return a;
  if (a->tprio > b->tprio) {
    a->tright = treap_merge(a->tright, b);
    treap_fix(a);
    return a;
  }
  b->tleft = treap_merge(a, b->tleft);
  treap_fix(b);
  return b;
}

/* Split t into spans below base (*l) and the rest (*r). */
static void treap_split(mspan *t, uintptr_t base, mspan **l, mspan **r) {
  if (t == NULL) {
    *l = *r = NULL;
  } else if (t->base < base) {
    treap_split(t->tright, base, &t->tright, r);
    treap_fix(t);
    *l = t;
  } else {
    treap_split(t->tleft, base, l, &t->tleft);
    treap_fix(t);
    *r = t;
  }
}

void treap_insert(mheap *h, mspan *s) {
  h->treap_seed ^= h->treap_seed << 13;
  h->treap_seed ^= h->treap_seed >> 7;
  h->treap_seed ^= h->treap_seed << 17;
  s->tprio = (uint32_t)h->treap_seed;
  s->tleft = s->tright = NULL;
  s->tmax = s->npages;
  mspan *l, *r;
  treap_split(h->freetree, s->base, &l, &r);
  h->freetree = treap_merge(treap_merge(l, s), r);
}

mspan *treap_remove(mspan *t, mspan *s) {
  SGC_ASSERT(t != NULL);
  if (t == s) {
    mspan *m = treap_merge(t->tleft, t->tright);
    s->tleft = s->tright = NULL;
    return m;
  }
  if (s->base < t->base)
    t->tleft = treap_remove(t->tleft, s);
  else
    t->tright = treap_remove(t->tright, s);
  treap_fix(t);
  return t;
}

/* The free span of at least npages pages at the lowest address. */
mspan *treap_first_fit(mheap *h, uintptr_t npages) {
  mspan *t = h->freetree;
  if (t == NULL || t->tmax < npages)
    return NULL;
  for (;;) {
    if (t->tleft && t->tleft->tmax >= npages)
      t = t->tleft;
    else if (t->npages >= npages)
      return t;
    else
      t = t->tright; /* its tmax is >= npages: t's is and no other part's */
  }
}
