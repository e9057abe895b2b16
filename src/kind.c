/*
 * kind.c — object kinds, mark procedures and typed-object descriptors.
 *
 * A kind tells the markers how to find the pointers in its objects
 * (kind_info in spangc-int.h): every word (KIND_SCAN), none (KIND_NOSCAN),
 * or a descriptor word in the encoding of spangc.h (SGC_DS_*), which may
 * name a mark procedure.  Kinds and mark procedures live in fixed tables;
 * an entry is written completely before its index is published (release
 * store of the count), and never changes after, so markers read them
 * without a lock.
 *
 * Typed objects (sgc_alloc_typed) are one kind (KIND_TYPED, reserved, so
 * that user kinds never starve it) whose descriptor is
 * "per object, in the last word": SGC_DS_PER_OBJECT at offset -8 plus the
 * object's size.  A bitmap that fits in a descriptor word is stored as
 * one; a longer one is recorded in the extended-bitmap table and named by
 * a descriptor for an internal mark procedure (PROC_EXT_BITMAP) whose env
 * is the record's index.  Arrays of typed elements (sgc_calloc_typed) use
 * PROC_ARRAY, whose env names an (element descriptor, element size)
 * record.  Records are never freed: programs make a handful of them.
 *
 * kind_lock guards the creation of kinds, procedures and records.
 */
#include <stdlib.h>

#include "spangc-int.h"

kind_info sgc_kinds[NUM_KINDS] = {
    [KIND_SCAN] = {SCAN_CONSERVATIVE, 0, 0},
    [KIND_NOSCAN] = {SCAN_NONE, 0, 0},
    /* Typed objects: the descriptor is the object's last word (a
     * per-object descriptor at offset -8, plus the object's size). */
    [KIND_TYPED] = {SCAN_DESCR, 1,
                    (uintptr_t) - (intptr_t)sizeof(uintptr_t) |
                        SGC_DS_PER_OBJECT},
};
int sgc_nkinds = KIND_FIRST_USER;
int sgc_typed_kind = KIND_TYPED;
sgc_mark_proc sgc_mark_procs[MAX_MARK_PROCS];
static int nprocs = FIRST_USER_MARK_PROC;

static sgc_mutex kind_lock = SGC_MUTEX_INIT(KIND);

/* Extended bitmaps and array records: tables of pointers that grow by
 * copying (old tables are kept: a marker may hold one). */
ext_bitmap **sgc_ext_bitmaps;
uint32_t sgc_n_ext_bitmaps;
array_descr *sgc_array_descrs;
uint32_t sgc_n_array_descrs;
static uint32_t cap_ext_bitmaps, cap_array_descrs;

static bool descr_valid(uintptr_t d) {
  if ((d & 3) != SGC_DS_PROC)
    return true;
  unsigned idx = (unsigned)(d >> SGC_DS_TAG_BITS) & (MAX_MARK_PROCS - 1);
  uintptr_t env = d >> (SGC_DS_TAG_BITS + SGC_LOG_MAX_MARK_PROCS);
  if (idx == PROC_EXT_BITMAP)
    return env < ATOMIC_LOAD(&sgc_n_ext_bitmaps);
  if (idx == PROC_ARRAY)
    return env < ATOMIC_LOAD(&sgc_n_array_descrs);
  return ATOMIC_LOAD(&sgc_mark_procs[idx]) != NULL;
}

int sgc_new_kind(uintptr_t descr, int flags) {
  sgc_ensure_init();
  /* The size is added to a length or to a per-object offset; added to a
   * bitmap or to a procedure's index and env it would make another
   * descriptor for every size (the adversarial review: a collection
   * stopped on a procedure never registered, or on a bad typed
   * descriptor). */
  bool add_size = (flags & SGC_KIND_ADD_SIZE) != 0;
  if ((flags & ~SGC_KIND_ADD_SIZE) != 0 || !descr_valid(descr) ||
      (add_size && ((descr & 3) == SGC_DS_BITMAP ||
                    (descr & 3) == SGC_DS_PROC))) {
    errno = EINVAL;
    return -1;
  }
  mcache *c = nopreempt_enter_any();
  sgc_lock(&kind_lock);
  int k = sgc_nkinds;
  if (k < NUM_KINDS) {
    sgc_kinds[k].scan = SCAN_DESCR;
    sgc_kinds[k].add_size = add_size;
    sgc_kinds[k].descr = descr;
    ATOMIC_STORE(&sgc_nkinds, k + 1);
  }
  sgc_unlock(&kind_lock);
  nopreempt_leave_any(c);
  if (k >= NUM_KINDS) {
    errno = EAGAIN;
    return -1;
  }
  return k;
}

int sgc_new_mark_proc(sgc_mark_proc proc) {
  if (proc == NULL) {
    errno = EINVAL;
    return -1;
  }
  mcache *c = nopreempt_enter_any();
  sgc_lock(&kind_lock);
  int i = nprocs;
  if (i < MAX_MARK_PROCS) {
    ATOMIC_STORE(&sgc_mark_procs[i], proc);
    nprocs = i + 1;
  }
  sgc_unlock(&kind_lock);
  nopreempt_leave_any(c);
  if (i >= MAX_MARK_PROCS) {
    errno = EAGAIN;
    return -1;
  }
  return i;
}

/* Append p to a growing table of pointers-or-records (kind_lock held). */
static bool grow(void **table, uint32_t n, uint32_t *cap, size_t elem) {
  SGC_ASSERT_HELD(&kind_lock);
  if (n < *cap)
    return true;
  uint32_t ncap = *cap ? *cap * 2 : 64;
  /* Not malloc: this runs in a no-preempt region, and a stopped thread
   * may hold malloc's lock. */
  void *t = os_alloc((size_t)ncap * elem);
  if (t == NULL)
    return false;
  if (*table)
    memcpy(t, *table, (size_t)n * elem); /* the old table stays valid */
  ATOMIC_STORE(table, t);
  *cap = ncap;
  return true;
}

uintptr_t sgc_make_descriptor(const uintptr_t *bitmap, size_t nwords) {
  size_t last = 0; /* one past the last pointer word */
  for (size_t i = 0; i < nwords; i++)
    if ((bitmap[i / 64] >> (i % 64)) & 1)
      last = i + 1;
  if (last == 0)
    return SGC_DS_LENGTH; /* nothing to scan */
  bool all = true;
  for (size_t i = 0; i < last && all; i++)
    all = (bitmap[i / 64] >> (i % 64)) & 1;
  if (all)
    return (uintptr_t)last * sizeof(uintptr_t) | SGC_DS_LENGTH;
  if (last <= 64 - SGC_DS_TAG_BITS) {
    uintptr_t d = SGC_DS_BITMAP;
    for (size_t i = 0; i < last; i++)
      if ((bitmap[i / 64] >> (i % 64)) & 1)
        d |= (uintptr_t)1 << (63 - i);
    return d;
  }
  size_t words = (last + 63) / 64;
  /* Out of memory for the record: scanning every word up to the last
   * pointer is conservative, never wrong. */
  uintptr_t fallback = (uintptr_t)last * sizeof(uintptr_t) | SGC_DS_LENGTH;
  ext_bitmap *e = malloc(sizeof *e + words * sizeof(uintptr_t));
  if (e == NULL)
    return fallback;
  e->nwords = last;
  memcpy(e->bits, bitmap, words * sizeof(uintptr_t));
  if (last % 64)
    e->bits[words - 1] &= ((uintptr_t)1 << (last % 64)) - 1;
  mcache *c = nopreempt_enter_any();
  sgc_lock(&kind_lock);
  uint32_t idx = sgc_n_ext_bitmaps;
  bool ok = grow((void **)&sgc_ext_bitmaps, idx, &cap_ext_bitmaps,
                 sizeof(ext_bitmap *));
  if (ok) {
    sgc_ext_bitmaps[idx] = e;
    ATOMIC_STORE(&sgc_n_ext_bitmaps, idx + 1);
  }
  sgc_unlock(&kind_lock);
  nopreempt_leave_any(c);
  if (!ok) {
    free(e);
    return fallback;
  }
  return SGC_MAKE_PROC(PROC_EXT_BITMAP, idx);
}

/* Allocate n bytes plus a descriptor word of the typed kind; the
 * descriptor goes in the object's last word. */
static void *alloc_with_descr(size_t n, uintptr_t descr) {
  int k = KIND_TYPED;
  size_t total;
  if (__builtin_add_overflow(n, sizeof(uintptr_t), &total)) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = sgc_alloc_kind(total, k);
  if (p == NULL)
    return NULL;
  /* Until this store the word is 0, a descriptor that scans nothing: the
   * object is all zeroes until the caller gets it. */
  size_t size = alloc_rounded_size(total);
  ATOMIC_STORE_RELAXED((uintptr_t *)((char *)p + size - sizeof(uintptr_t)),
                       descr);
  return p;
}

void *sgc_alloc_typed(size_t n, uintptr_t descr) {
  if (!descr_valid(descr)) {
    errno = EINVAL;
    return NULL;
  }
  return alloc_with_descr(n, descr);
}

void *sgc_calloc_typed(size_t count, size_t size, uintptr_t descr) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  if (!descr_valid(descr)) {
    errno = EINVAL;
    return NULL;
  }
  if (size < sizeof(uintptr_t) || count <= 1)
    return alloc_with_descr(n, descr);
  mcache *c = nopreempt_enter_any();
  sgc_lock(&kind_lock);
  uint32_t idx;
  for (idx = 0; idx < sgc_n_array_descrs; idx++)
    if (sgc_array_descrs[idx].descr == descr &&
        sgc_array_descrs[idx].elemsize == size)
      break;
  bool ok = true;
  if (idx == sgc_n_array_descrs) {
    ok = grow((void **)&sgc_array_descrs, idx, &cap_array_descrs,
              sizeof(array_descr));
    if (ok) {
      sgc_array_descrs[idx] = (array_descr){descr, size};
      ATOMIC_STORE(&sgc_n_array_descrs, idx + 1);
    }
  }
  sgc_unlock(&kind_lock);
  nopreempt_leave_any(c);
  if (!ok) {
    errno = ENOMEM;
    return NULL;
  }
  return alloc_with_descr(n, SGC_MAKE_PROC(PROC_ARRAY, idx));
}

int sgc_kind_of(const void *p) {
  uint32_t i;
  mcache *c = nopreempt_enter_any();
  mspan *s = object_span("sgc_kind_of", p, &i);
  int k = spanclass_kind(s->spanclass);
  nopreempt_leave_any(c);
  return k;
}
