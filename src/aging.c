/*
 * aging.c — objects a minor collection keeps young, and the pages it
 * remembers for them.
 *
 * Without aging, a minor collection promotes every young object it
 * reaches: its mark stays, so only a major frees it.  A structure being
 * built when the minor comes (half a tree, held by the builder's stack)
 * is promoted whole and dies old a moment later: binary-trees' last
 * phases made a major every four or five minors for such garbage.  With
 * aging (SPANGC_AGING, on by default with generations), a minor promotes
 * only the objects that had survived a minor already, and keeps the
 * others young for one more: a structure that dies before the next minor
 * is freed by it.
 *
 * Ages come from the bitmaps there are.  A span's allocbits are its
 * allocation state at its last sweep, and the allocator never writes them
 * (the allocation cache holds what changed since), so during a minor's
 * mark an allocated object is
 *   - old: allocbit set, marked before the mark began;
 *   - young, age 1: allocbit set, unmarked (kept young by the last minor);
 *   - young, age 0: allocbit clear (allocated since its span's sweep).
 * The minor marks what it reaches, whatever the age.  Its sweep
 * (aging_sweep_keeps_young, sweep.c) then clears the marks of the reached
 * age-0 objects (marked, allocbit clear): they stay allocated, young, age
 * 1 from then on (their allocbit is the marks copied).  A reached age-1
 * object keeps its mark: promoted.  A large object's allocbit is set when
 * it is made, so large objects are promoted as before.  A major keeps no
 * object young.
 *
 * The danger: an object old after the minor (old before it, or promoted
 * by it) that points to an object kept young.  The next minor reaches
 * the young one only through it, and scans it only if its page is listed
 * (written since).  So the minor remembers such pages
 * (rule:aging-remembers): whenever a marker scanning an object that will
 * be old finds a pointer to an age-0 object (mark_word sets
 * gcwork.young_seen, the scan looks at its source: scan_range per word,
 * scan_descr per object), it notes the kernel page of the word (of a
 * descriptor object, of its base: the next minor rescans such an object
 * whole).  After the mark
 * (protect_old_pages, world stopped) a remembered page is not protected,
 * and one that was (an age-1 object promoted on a page protected since
 * the last minor) is unprotected, after every protection of that stop is
 * made: an unprotected page is in every listing, so the next minor
 * rescans its old objects.  Sources rescanned by every collection need
 * nothing: stacks, registers, data segments, user roots, fiber stacks,
 * the finalizer queue, uncollectable objects.  If the list of remembered
 * pages overflows, the next collection is major (it reaches everything).
 *
 * Checked by SPANGC_DEBUG=verify=1: after each aging minor, no old object
 * of the conservative kind points to an object kept young from a page
 * the kernel has protected (mark_verify_aging, markverify.c); and the next
 * minor's full-mark check (mark_verify_minor) would find any object lost.
 *
 * Threads: aging.enabled is set at init.  The remembered bitmap and list
 * are written by the markers during a minor's mark (an atomic or on the
 * bitmap word decides who appends; the list's index is atomic) and read
 * and emptied by the collecting thread after the mark, world stopped.
 * sweep_young is written by the collecting thread with the world stopped
 * and read by sweepers after the restart.
 */
#include <stdlib.h>
#include <string.h>

#include "spangc-int.h"

/* Remembered pages one minor may note; beyond, the next is major. */
#define REMEMBER_MAX ((uint64_t)1 << 18)

static struct {
  bool enabled;         /* SPANGC_AGING (with generations) */
  bool marking;         /* the current minor's mark ages */
  bool overflow;        /* the list overflowed: next collection major */
  uint64_t *bits;       /* one bit per kernel page of the arena */
  uintptr_t *list;      /* the pages remembered, REMEMBER_MAX at most */
  uint64_t n;           /* atomic */
  uint64_t nremembered; /* ever, pages */
  uint64_t nunprotected; /* ever, remembered pages unprotected */
  uint64_t last_n;       /* the last minor's remembered pages */
  uint64_t young_bytes;  /* ever, bytes kept young (sweeps, atomic) */
} aging SGC_NOGC;

/* The sweep generation opened by an aging minor keeps young its reached
 * age-0 objects (sweep.c). */
bool aging_sweep_young SGC_NOGC;

void aging_init(void) {
  const char *e = sgc_option("SPANGC_AGING");
  aging.enabled = true;
  if (e && *e) {
    if (strcmp(e, "0") != 0 && strcmp(e, "1") != 0)
      sgc_fatal("SPANGC_AGING=%s: expected 0 or 1", e);
    aging.enabled = strcmp(e, "1") == 0;
  }
  if (!sgc_sticky || !aging.enabled) {
    aging.enabled = false;
    return;
  }
  mheap *h = &sgc_heap;
  uintptr_t kpages = (h->arena_end - h->arena_start) / KPAGE;
  /* Touched only where pages are remembered (the kernel backs the rest
   * on demand). */
  aging.bits = os_alloc((kpages + 63) / 64 * 8);
  aging.list = os_alloc(REMEMBER_MAX * sizeof(uintptr_t));
  if (aging.bits == NULL || aging.list == NULL)
    aging.enabled = false; /* minors promote all they reach, as before */
}

/* Forget what a mark left listed (none unless a collection was abandoned
 * after it began). */
static void forget_remembered(void) {
  mheap *h = &sgc_heap;
  uint64_t n = ATOMIC_LOAD(&aging.n);
  if (n > REMEMBER_MAX) /* pages remembered lie below arena_used */
    memset(aging.bits, 0,
           ((ATOMIC_LOAD(&h->arena_used) - h->arena_start) / KPAGE + 63) /
               64 * 8);
  else
    for (uint64_t j = 0; j < n; j++)
      aging.bits[aging.list[j] >> 6] = 0;
  ATOMIC_STORE(&aging.n, 0);
}

bool aging_begin(bool minor) {
  if (aging.enabled && ATOMIC_LOAD(&aging.n) != 0)
    forget_remembered();
  aging.marking = minor && aging.enabled;
  aging.overflow = false;
  return aging.marking;
}

bool aging_next_major(void) { return aging.overflow; }

bool aging_enabled(void) { return aging.enabled; }

uint64_t aging_last_remembered(void) { return aging.last_n; }

void aging_note_kept(uint64_t bytes) {
  ATOMIC_ADD(&aging.young_bytes, bytes);
}

void aging_read_stats(sgc_stats *st) {
  st->aging = aging.enabled;
  st->aged_bytes = ATOMIC_LOAD(&aging.young_bytes);
  st->remembered_pages = aging.nremembered;
}

bool sgc_test_remember_off SGC_NOGC; /* tests: the verifier's catch */

void aging_remember_page(uintptr_t p) {
  mheap *h = &sgc_heap;
  if (sgc_test_remember_off)
    return;
  uintptr_t k = (p - h->arena_start) / KPAGE;
  uint64_t bit = (uint64_t)1 << (k & 63);
  if (ATOMIC_LOAD_RELAXED(&aging.bits[k >> 6]) & bit)
    return;
  if (__atomic_fetch_or(&aging.bits[k >> 6], bit, __ATOMIC_RELAXED) & bit)
    return;
  uint64_t i = __atomic_fetch_add(&aging.n, 1, __ATOMIC_RELAXED);
  if (i < REMEMBER_MAX)
    aging.list[i] = k;
}

bool aging_source_old(uintptr_t p, uintptr_t hi, uintptr_t *end) {
  mheap *h = &sgc_heap;
  uintptr_t used = ATOMIC_LOAD(&h->arena_used);
  if (p < h->arena_start) {
    *end = hi < h->arena_start ? hi : h->arena_start;
    return false;
  }
  if (p >= used) {
    *end = hi;
    return false;
  }
  mspan *s = mheap_lookup(p);
  if (s == NULL) { /* free, stack, or a span's tail: to its page's end */
    *end = (p & ~(PAGE_SIZE - 1)) + PAGE_SIZE;
    return false;
  }
  uint32_t i = mspan_obj_index(s, p);
  *end = s->base + (uintptr_t)(i + 1) * s->elemsize;
  return bitmap_get(s->allocbits, i);
}

bool aging_page_remembered(uintptr_t q) {
  mheap *h = &sgc_heap;
  if (aging.bits == NULL || ATOMIC_LOAD_RELAXED(&aging.n) == 0)
    return false;
  uintptr_t k = (q - h->arena_start) / KPAGE;
  return (aging.bits[k >> 6] >> (k & 63)) & 1;
}

static int cmp_page(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return (x > y) - (x < y);
}

/* World stopped, after protect_old_pages made its protections: the
 * remembered pages protected still are unprotected (in runs of adjacent
 * pages), so the next listing has every one; the bitmap is cleared. */
void aging_end_mark(uint8_t *page_state, bool (*is_protected)(uint8_t)) {
  mheap *h = &sgc_heap;
  if (!aging.marking)
    return;
  uint64_t n = ATOMIC_LOAD(&aging.n);
  if (n > REMEMBER_MAX) {
    aging.overflow = true; /* the list is short: next major */
    n = REMEMBER_MAX;
  }
  qsort(aging.list, n, sizeof aging.list[0], cmp_page);
  uintptr_t lo = 0, hi = 0; /* a pending run of kernel page indices */
  for (uint64_t j = 0; j < n; j++) {
    uintptr_t k = aging.list[j];
    if (j > 0 && k == aging.list[j - 1])
      continue;
    if (page_state != NULL && !is_protected(page_state[k]))
      continue;
    if (page_state != NULL)
      page_state[k] = 0; /* unprotected, level 0 */
    aging.nunprotected++;
    if (hi == k) {
      hi = k + 1;
      continue;
    }
    if (hi > lo)
      dirty_unprotect(h->arena_start + lo * KPAGE, h->arena_start + hi * KPAGE);
    lo = k;
    hi = k + 1;
  }
  if (hi > lo)
    dirty_unprotect(h->arena_start + lo * KPAGE, h->arena_start + hi * KPAGE);
  aging.nremembered += n;
  aging.last_n = n;
  forget_remembered(); /* every bit, past an overflow too */
  aging.marking = false;
}
