/*
 * aging.c — objects a minor collection keeps young one minor more, and
 * the rule that no old object points to one.
 *
 * Without aging, a minor collection promotes every young object it
 * reaches: its mark stays, so only a major frees it.  A structure being
 * built when the minor comes (half a tree, held by the builder's stack)
 * is promoted whole and dies old a moment later: binary-trees' last
 * phases made a major every four or five minors for such garbage.  With
 * aging (SPANGC_AGING, on by default with generations), a minor promotes
 * only the objects that had survived a minor already or that an old
 * object points to, and keeps the others young for one more: a structure
 * that dies before the next minor is freed by it.
 *
 * Ages come from the bitmaps there are.  A span's allocbits are its
 * allocation state at its last sweep, and the allocator never writes them
 * (the allocation cache holds what changed since), so during a minor's
 * mark an allocated object is
 *   - old: allocbit set, marked before the mark began;
 *   - young, age 1: allocbit set, unmarked (kept young by the last minor);
 *   - young, age 0: allocbit clear (allocated since its span's sweep).
 * The minor marks what it reaches, whatever the age.  Its sweep
 * (aging_sweep_young, sweep.c) then clears the marks of the reached
 * age-0 objects (marked, allocbit clear): they stay allocated, young, age
 * 1 from then on (their allocbit is the marks copied).  A reached age-1
 * object keeps its mark: promoted.  A large object's allocbit is set when
 * it is made, so large objects are promoted as before.  A major keeps no
 * object young.
 *
 * The danger: an object old after the minor (old before it, or promoted
 * by it) that points to an object kept young.  The next minor reaches
 * the young one only through it, and rescans it only if its page is
 * listed (written since).  So there is none (rule:old-points-to-old): a
 * marker scanning an object that will be old (gcwork.src_old, set per
 * object by scan_range and scan_descr: its allocbit, or a large span)
 * promotes every age-0 object it finds, marked already or not, by setting
 * its allocbit (mark_word).  The allocator never reads an allocbit of an
 * allocated object, and the sweep that follows overwrites them all.  A
 * promoted object then scans as old, so what it points to is promoted
 * too: the structures old objects hold are promoted whole at once, as
 * without aging, and only what the stacks, registers, data segments and
 * other young objects alone hold is kept young.  A marker that promotes
 * an object another one marked already (which may have scanned it as
 * young) pushes it again, to be scanned as old.  Sources scanned at every
 * collection may hold pointers to objects kept young: stacks, registers,
 * data segments, user roots, every reachable suspended fiber's stack, the
 * finalizer queue and what it holds, finalizers' arguments, and an
 * uncollectable object while it is young (once old, it is an old object
 * like the others, scanned when its page is listed).  What a mark
 * procedure marks, pushes with sgc_push_range or returns as entries
 * counts as found in its object (scanned at once), and an object marked
 * with sgc_set_mark_bit during the mark is promoted.
 *
 * Checked by SPANGC_DEBUG=verify=1: after each aging minor's mark, no
 * old object of the conservative kind on a page it listed (so scanned by
 * it) points to an object it keeps young (mark_verify,
 * markverify.c); and the next minor's full-mark check (mark_verify_minor)
 * would find any object lost.
 *
 * Threads: aging.enabled is set at init, and may be changed once by the
 * bdwgc layer's init (atomic: read by each collection as it begins); the
 * promotion count is atomic
 * (each marker adds its own once, as it ends).  aging_sweep_young is
 * written by the collecting thread with the world stopped and read by
 * sweepers after the restart.  During a minor's mark the markers set
 * allocbits atomically (and read them so); nothing else touches them
 * until the sweep, which follows the mark.
 */
#include <string.h>

#include "spangc-int.h"

static struct {
  bool enabled;         /* SPANGC_AGING (with generations) */
  uint64_t promoted;    /* atomic: age-0 objects promoted by old ones */
  uint64_t promoted_at; /* promoted, when the current minor began */
  uint64_t last;        /* the last aging minor's promotions */
  uint64_t young_bytes; /* atomic: bytes kept young by sweeps, ever */
} aging SGC_NOGC;

/* The sweep generation opened by an aging minor keeps young its reached
 * age-0 objects (sweep.c). */
bool aging_sweep_young SGC_NOGC;
bool sgc_test_promote_off SGC_NOGC; /* tests: the verifier's catch */

void aging_init(void) {
  const char *e = sgc_option("SPANGC_AGING");
  aging.enabled = true;
  if (e && *e) {
    if (strcmp(e, "0") != 0 && strcmp(e, "1") != 0)
      sgc_fatal("SPANGC_AGING=%s: expected 0 or 1", e);
    aging.enabled = strcmp(e, "1") == 0;
  }
  if (!sgc_sticky)
    aging.enabled = false;
}

bool aging_enabled(void) { return ATOMIC_LOAD_RELAXED(&aging.enabled); }

void aging_set_default(bool on) {
  const char *e = sgc_option("SPANGC_AGING");
  if (sgc_sticky && !(e && *e))
    ATOMIC_STORE_RELAXED(&aging.enabled, on);
}

bool aging_begin(bool minor) {
  aging.promoted_at = ATOMIC_LOAD(&aging.promoted);
  return minor && ATOMIC_LOAD_RELAXED(&aging.enabled);
}

void aging_end(void) {
  aging.last = ATOMIC_LOAD(&aging.promoted) - aging.promoted_at;
}

uint64_t aging_last_promoted(void) { return aging.last; }

void aging_add_promoted(uint64_t n) {
  if (n != 0)
    ATOMIC_ADD(&aging.promoted, n);
}

void aging_note_kept(uint64_t bytes) {
  ATOMIC_ADD(&aging.young_bytes, bytes);
}

void aging_read_stats(sgc_stats *st) {
  st->aging = ATOMIC_LOAD_RELAXED(&aging.enabled);
  st->aged_bytes = ATOMIC_LOAD(&aging.young_bytes);
  st->aging_promoted = ATOMIC_LOAD(&aging.promoted);
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
  /* Sequentially consistent: see mark_word's mark. */
  return !sgc_test_promote_off &&
         ((__atomic_load_n(&s->allocbits[i >> 6], __ATOMIC_SEQ_CST) >>
           (i & 63)) & 1);
}
