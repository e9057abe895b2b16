/*
 * roots.c — roots registered by the program (sgc_add_roots).
 *
 * A sorted array of disjoint [lo, hi) ranges, guarded by roots_lock.  The
 * collector reads it with the world stopped; a mutator changes it inside a
 * no-preempt region, so it is never stopped holding the lock.  Adding a
 * range that overlaps registered ones merges them; removing cuts the given
 * range out of whatever it overlaps (the bdwgc layer keeps its own list to
 * give GC_remove_roots bdwgc's meaning: whole ranges inside [lo, hi)).
 */
#include <stdlib.h>

#include "spangc-int.h"

typedef struct { uintptr_t lo, hi; } range;

static sgc_mutex roots_lock = SGC_MUTEX_INIT(ROOTS);
static range *roots;
static size_t nroots, caproots;

static bool reserve(size_t n) {
  if (n <= caproots)
    return true;
  size_t cap = caproots ? caproots * 2 : 64;
  while (cap < n)
    cap *= 2;
  range *r = os_alloc(cap * sizeof(range));
  if (r == NULL)
    return false;
  if (roots) {
    memcpy(r, roots, nroots * sizeof(range));
    os_free(roots, caproots * sizeof(range));
  }
  roots = r;
  caproots = cap;
  return true;
}

int sgc_add_roots(void *lo, void *hi) {
  uintptr_t l = (uintptr_t)lo, h = (uintptr_t)hi;
  if (lo == NULL || l >= h)
    return EINVAL;
  sgc_ensure_init();
  mcache *c = nopreempt_enter_any();
  sgc_lock(&roots_lock);
  int err = 0;
  if (!reserve(nroots + 1)) {
    err = ENOMEM;
    goto out;
  }
  /* Merge with every range it overlaps or touches. */
  size_t i = 0;
  while (i < nroots && roots[i].hi < l)
    i++;
  size_t j = i;
  while (j < nroots && roots[j].lo <= h) {
    if (roots[j].lo < l)
      l = roots[j].lo;
    if (roots[j].hi > h)
      h = roots[j].hi;
    j++;
  }
  memmove(&roots[i + 1], &roots[j], (nroots - j) * sizeof(range));
  roots[i] = (range){l, h};
  nroots = nroots - (j - i) + 1;
out:
  sgc_unlock(&roots_lock);
  nopreempt_leave_any(c);
  return err;
}

void sgc_remove_roots(void *lo, void *hi) {
  uintptr_t l = (uintptr_t)lo, h = (uintptr_t)hi;
  if (l >= h || !ATOMIC_LOAD(&sgc_initialised))
    return;
  mcache *c = nopreempt_enter_any();
  sgc_lock(&roots_lock);
  for (size_t i = 0; i < nroots;) {
    range r = roots[i];
    if (r.hi <= l || h <= r.lo) {
      i++;
      continue;
    }
    if (r.lo < l && h < r.hi) { /* split in two */
      if (!reserve(nroots + 1)) {
        /* Keep the whole range: retaining too much is safe. */
        i++;
        continue;
      }
      memmove(&roots[i + 2], &roots[i + 1],
              (nroots - i - 1) * sizeof(range));
      roots[i] = (range){r.lo, l};
      roots[i + 1] = (range){h, r.hi};
      nroots++;
      i += 2;
    } else if (r.lo < l) {
      roots[i++].hi = l;
    } else if (h < r.hi) {
      roots[i++].lo = h;
    } else {
      memmove(&roots[i], &roots[i + 1], (nroots - i - 1) * sizeof(range));
      nroots--;
    }
  }
  sgc_unlock(&roots_lock);
  nopreempt_leave_any(c);
}

void roots_atfork(int phase) {
  if (phase == FORK_PREPARE)
    sgc_lock(&roots_lock);
  else
    sgc_unlock(&roots_lock);
}

void roots_foreach(void (*fn)(uintptr_t, uintptr_t, void *), void *arg) {
  sgc_lock(&roots_lock);
  for (size_t i = 0; i < nroots; i++)
    fn(roots[i].lo, roots[i].hi, arg);
  sgc_unlock(&roots_lock);
}
