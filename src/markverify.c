/*
 * markverify.c — the mark verifiers (SPANGC_DEBUG=verify=1), world
 * stopped, after the mark:
 *   - mark_verify: every object that a marked object of the conservative
 *     kind points to is marked, and no free slot is marked; after an
 *     aging minor's mark, no old object it scanned points to an object it
 *     keeps young (aging.c);
 *   - mark_verify_minor: a minor collection marked everything a full mark
 *     from nothing reaches (see there for what is forgiven).
 * Both abort naming the object.  They take no lock: the world is stopped
 * and the collecting thread is the only marker left.
 */
#include <stdlib.h>

#include "mark-int.h"

/* Objects the program marked with sgc_set_mark_bit (in a root callback
 * or a mark procedure: kept, not scanned, so what only they reference
 * dies, as spangc.h promises).  Their referents are not checked: the
 * verifier aborted on gc_root_callback_and_collect_hook, whose bit-only
 * objects' leaves are meant to die.  Room reserved in sgc_init (the
 * kernel backs it as it is touched); appended by any marker through an
 * atomic index, read and emptied by mark_verify, world stopped.  Past the
 * room, no referent of a conservative object is checked in that
 * collection (said once). */
#define UNSCANNED_MAX ((uint64_t)1 << 20)
static struct {
  uintptr_t *base;
  uint64_t n; /* atomic */
  bool overflow_said;
} unscanned SGC_NOGC;

void mark_verify_init(void) {
  unscanned.base = os_alloc(UNSCANNED_MAX * sizeof(uintptr_t));
  if (unscanned.base == NULL)
    sgc_fatal("SPANGC_DEBUG=verify=1: no memory for the verifier's list "
              "of objects marked by sgc_set_mark_bit");
}

void mark_verify_note_unscanned(uintptr_t base) {
  uint64_t k = __atomic_fetch_add(&unscanned.n, 1, __ATOMIC_RELAXED);
  if (k < UNSCANNED_MAX)
    unscanned.base[k] = base;
}

static int cmp_addr(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return (x > y) - (x < y);
}

/* Is p on a page of the minor's listing (work.runs, ascending)? */
static bool listed_page(uintptr_t p) {
  uint32_t lo = 0, hi = work.nruns;
  while (lo < hi) {
    uint32_t m = lo + (hi - lo) / 2;
    if (p >= work.runs[m].hi)
      lo = m + 1;
    else if (p < work.runs[m].lo)
      hi = m;
    else
      return true;
  }
  return false;
}

/* Verifier (SPANGC_DEBUG=verify=1), world stopped, after mark: every
 * object that a marked scan object points to is marked (but those the
 * program marked with sgc_set_mark_bit), and no free slot is marked.
 * After an aging minor's mark (aging.c, rule:old-points-to-old), also: an
 * object old after it (allocated at its span's last sweep or promoted by
 * it) on a page the minor listed, so scanned by it, points to no object
 * it keeps young (marked, allocbit clear).  Only listed pages: an old
 * object the minor did not scan may hold a stale word that a young
 * object's address matches now, harmless (the minor never saw it). */
SCAN_NO_SANITIZE void mark_verify(void) {
  uint64_t nun = ATOMIC_LOAD(&unscanned.n);
  bool all_forgiven = nun > UNSCANNED_MAX;
  if (all_forgiven && !unscanned.overflow_said) {
    unscanned.overflow_said = true;
    sgc_warn("verify: over %llu objects marked by sgc_set_mark_bit in one "
             "collection; the referents of marked objects are not checked "
             "in such collections", (unsigned long long)UNSCANNED_MAX);
  }
  if (nun > 0 && !all_forgiven)
    qsort(unscanned.base, nun, sizeof(uintptr_t), cmp_addr);
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
      continue;
    for (uint32_t i = 0; i < s->nelems; i++) {
      if (!bitmap_get(s->markbits, i))
        continue;
      if (!mspan_is_allocated(s, i))
        sgc_fatal("verify: free slot %u of span %p is marked", i,
                  (void *)s->base);
      if (sgc_kinds[spanclass_kind(s->spanclass)].scan != SCAN_CONSERVATIVE)
        continue; /* descriptors: what is a pointer is theirs to say */
      uintptr_t b = s->base + (uintptr_t)i * s->elemsize;
      if (all_forgiven ||
          (nun > 0 && bsearch(&b, unscanned.base, nun, sizeof(uintptr_t),
                              cmp_addr) != NULL))
        continue;
      bool old_after = work.aging && bitmap_get(s->allocbits, i);
      for (uintptr_t p = b; p < b + s->elemsize; p += sizeof(uintptr_t)) {
        uintptr_t v = *(uintptr_t *)p;
        mspan *t = mheap_lookup(v);
        if (t == NULL || fiber_bound_word(b, p - b))
          continue;
        uint32_t j = mspan_obj_index(t, v);
        if (old_after && mspan_is_allocated(t, j) &&
            bitmap_get(t->markbits, j) && !bitmap_get(t->allocbits, j) &&
            listed_page(p))
          sgc_fatal("verify: object %p (%zu bytes, kind %d), old after "
                    "this minor and scanned by it, holds at offset %zu %p, "
                    "an object the minor keeps young (%zu bytes): the next "
                    "minor would not rescan it", (void *)b, s->elemsize,
                    spanclass_kind(s->spanclass), (size_t)(p - b),
                    (void *)v, t->elemsize);
        if (mspan_is_allocated(t, j) && !bitmap_get(t->markbits, j) &&
            !((mspan_everfreed_word(t, j >> 6) >> (j & 63)) & 1) &&
            !gen_page_was_freed(v)) {
          sgc_fatal("verify: object %p (marked, %zu bytes, kind %d) holds "
                    "at offset %zu %p, which is not marked (%zu bytes, kind "
                    "%d; %s collection)", (void *)b, s->elemsize,
                    spanclass_kind(s->spanclass), (size_t)(p - b),
                    (void *)v, t->elemsize,
                    spanclass_kind(t->spanclass),
                    work.minor ? "a minor" : "a major");
        }
      }
    }
  }
  ATOMIC_STORE(&unscanned.n, 0); /* for the next collection */
}

/* Verifier of a minor collection, or of the final stop of a concurrent
 * one (SPANGC_DEBUG=verify=1), world stopped, its mark complete: the marks are
 * put aside, a full mark is made from nothing on one marker, and every object
 * it marks must have been marked by the minor collection (old, or reached from
 * the roots and the written pages); then the minor's marks are put back, so
 * that the collection goes on exactly as it would have. */
/* The verifier found object i of span s reached by the full mark and not
 * by the minor one.  A bug shows as an object the minor marked (old, or
 * reached) that references it: named, then abort; so does a missed object
 * nothing in the heap references (a root the minor did not follow).
 * Forgiven: a missed object referenced only by other missed objects
 * (judged on their own) and by fiber stack bounds (a stack's end is the
 * next span's first object: full marks keep it, by conservatism). */
static const char *verify_what; /* "a minor collection", ... */

SCAN_NO_SANITIZE static void report_minor_miss(mspan *s, uint32_t i,
                                               mspan **spans, uint32_t n,
                                               uint64_t (*saved)[BITMAP_WORDS]) {
  uintptr_t x = s->base + (uintptr_t)i * s->elemsize;
  bool referenced = false;
  for (uint32_t k = 0; k < n; k++) {
    mspan *t = spans[k];
    if (ATOMIC_LOAD(&t->state) != MSPAN_INUSE || spanclass_noscan(t->spanclass))
      continue;
    for (uint32_t o = 0; o < t->nelems; o++) {
      if (!bitmap_get(t->markbits, o))
        continue;
      uintptr_t b = t->base + (uintptr_t)o * t->elemsize;
      for (uintptr_t p = b; p + 8 <= b + t->elemsize; p += 8) {
        uintptr_t v = *(uintptr_t *)p;
        if (v - x >= s->elemsize)
          continue;
        referenced = true;
        if (!bitmap_get(saved[k], o) || fiber_bound_word(b, p - b))
          continue;
        sgc_fatal("verify: %s left object %p (%zu bytes) "
                  "unmarked, which a full mark reaches; the object %p "
                  "(%zu bytes, kind %d, %s by it) holds %p at "
                  "offset %zu", verify_what, (void *)x, s->elemsize, (void *)b,
                  t->elemsize, spanclass_kind(t->spanclass),
                  bitmap_get(saved[k], o) ? "marked" : "unmarked",
                  (void *)v, (size_t)(p - b));
      }
    }
  }
  if (referenced)
    return;
  sgc_fatal("verify: %s left object %p (%zu bytes) "
            "unmarked, which a full mark reaches from a root", verify_what,
            (void *)x, s->elemsize);
}

void mark_verify_minor(const char *what) {
  verify_what = what;
  uint32_t n = work.nspan;
  mspan **spans = work.spans;
  size_t bytes = (size_t)n * sizeof spans[0]->markbits;
  uint64_t(*saved)[BITMAP_WORDS] = os_alloc(bytes ? bytes : 1);
  if (saved == NULL) {
    sgc_warn("verify: no memory to check a minor collection; not checked");
    return;
  }
  for (uint32_t k = 0; k < n; k++)
    if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE) {
      memcpy(saved[k], spans[k]->markbits, sizeof saved[k]);
      /* From nothing (without generations mark_prepare would not clear
       * them: after a concurrent mark it is called that way too). */
      memset(spans[k]->markbits, 0, sizeof spans[k]->markbits);
    }
  fibers_reset_scanned(false);
  bool aging = work.aging;
  const dirty_run *runs = work.runs;
  uint32_t nruns = work.nruns;
  gen_cycle full = {.minor = false};
  ATOMIC_STORE_RELAXED(&sgc_root_callback_again, true);
  bool prepared = mark_prepare(spans, n, 1, &full);
  ATOMIC_STORE_RELAXED(&sgc_root_callback_again, false);
  if (!prepared) {
    sgc_warn("verify: no memory for the full mark; minor not checked");
  } else {
    mark_result r = {0};
    mark_worker(&r);
    mark_overflow_passes(&r);
    work.minor = true; /* mark_prepare said otherwise */
    for (uint32_t k = 0; k < n; k++) {
      mspan *s = spans[k];
      if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
        continue;
      for (uint32_t j = 0; j < BITMAP_WORDS; j++) {
        uint64_t missed =
            s->markbits[j] & ~saved[k][j] & ~mspan_everfreed_word(s, j);
        if (missed && (gen_span_has_freed_pages(s) || s->freedeferred))
          missed = 0; /* the span reuses a large object's freed pages, or
                         is one sgc_free gave back during the mark */
        for (; missed; missed &= missed - 1)
          report_minor_miss(s, j * 64 + (uint32_t)__builtin_ctzll(missed),
                            spans, n, saved);
      }
    }
  }
  work.aging = aging; /* for the finalizers' marking to come */
  work.runs = runs;
  work.nruns = nruns;
  for (uint32_t k = 0; k < n; k++)
    if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE)
      memcpy(spans[k]->markbits, saved[k], sizeof saved[k]);
  fibers_reset_scanned(true);
  os_free(saved, bytes ? bytes : 1);
}

