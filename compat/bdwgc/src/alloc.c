/*
 * alloc.c — bdwgc's allocation calls on spangc.
 *
 * GC_malloc is sgc_alloc of the request plus compat_extra (one byte while
 * GC_all_interior_pointers holds, as in bdwgc), then a check for queued
 * finalizers, which bdwgc runs on the allocating thread.  NULL becomes
 * whatever the program's oom function returns.  Kinds 0-3 are bdwgc's
 * fixed ones (pointer-free, normal, uncollectable, pointer-free
 * uncollectable); GC_new_kind adds spangc kinds behind higher numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat-int.h"

size_t compat_extra = 1;

compat_kind compat_kinds[COMPAT_MAX_KINDS] = {
    [GC_I_PTRFREE] = {SGC_KIND_NOSCAN, 0, 0},
    [GC_I_NORMAL] = {SGC_KIND_SCAN, 0, 1},
    [2] = {SGC_KIND_SCAN, 1, 1},
    [3] = {SGC_KIND_NOSCAN, 1, 0},
};
unsigned compat_nkinds = 4;
int compat_link_kind = SGC_KIND_NOSCAN;

static inline size_t padded(size_t lb) {
  size_t n = lb + compat_extra;
  return n < lb ? (size_t)-1 : n;
}

static inline void *done(void *p, size_t lb) {
  if (COMPAT_UNLIKELY(p == NULL))
    return compat_out_of_memory(lb);
  compat_maybe_finalize();
  return p;
}

void *GC_malloc(size_t lb) {
  compat_ensure_init();
  return compat_disclaim_check(done(sgc_alloc(padded(lb)), lb), GC_I_NORMAL);
}

void *GC_malloc_atomic(size_t lb) {
  compat_ensure_init();
  void *p = sgc_alloc_noscan(padded(lb));
  /* bdwgc leaves pointer-free objects uncleared; spangc clears two words
   * only.  Nothing promises zeroes here. */
  return compat_disclaim_check(done(p, lb), GC_I_PTRFREE);
}

static void count_uncollectable(void *p, long sign) {
  if (p)
    __atomic_add_fetch(&GC_non_gc_bytes, (GC_word)(sign * (long)sgc_size(p)),
                       __ATOMIC_RELAXED);
}

void *GC_malloc_uncollectable(size_t lb) {
  compat_ensure_init();
  /* No extra byte: uncollectable objects are roots, never found by
   * pointers (bdwgc does the same). */
  void *p = sgc_alloc_uncollectable(lb);
  count_uncollectable(p, 1);
  return done(p, lb);
}

void *GC_malloc_atomic_uncollectable(size_t lb) {
  compat_ensure_init();
  void *p = sgc_alloc_noscan_uncollectable(lb);
  count_uncollectable(p, 1);
  return done(p, lb);
}

/* spangc recognises every interior pointer, so "ignore off page" (the
 * program promises to keep a pointer near the start) changes nothing. */
void *GC_malloc_ignore_off_page(size_t lb) { return GC_malloc(lb); }
void *GC_malloc_atomic_ignore_off_page(size_t lb) {
  return GC_malloc_atomic(lb);
}

void GC_free(void *p) {
  if (p == NULL)
    return;
  compat_ensure_init();
  void *base = sgc_base(p);
  if (base == NULL)
    compat_fatal("GC_free(%p): not an allocated heap object (bad pointer, "
                 "double free, or freed by the collector)", p);
  if (base != p) { /* bdwgc frees the object it points into */
    if ((char *)p - (char *)base != (ptrdiff_t)GC_debug_header_size)
      compat_warn("GC_free: interior pointer %p taken as its object\n",
                  (GC_word)p); /* (a debugging object's body is not) */
    p = base;
  }
  compat_leak_forget(p);
  if (sgc_is_uncollectable(p))
    count_uncollectable(p, -1);
  compat_count_free(sgc_size(p));
  sgc_free(p);
}

void *GC_realloc(void *p, size_t lb) {
  compat_ensure_init();
  if (p == NULL)
    return GC_malloc(lb);
  if (lb == 0) {
    GC_free(p);
    return NULL;
  }
  void *base = sgc_base(p);
  if (base != p)
    compat_fatal("GC_realloc(%p, %zu): not the start of an allocated heap "
                 "object%s", p, lb, base ? " (interior pointer)" : "");
  int unc = sgc_is_uncollectable(p);
  size_t before = unc ? sgc_size(p) : 0;
  compat_leak_forget(p); /* a debugging object's header is plain data now */
  void *q = sgc_realloc(p, unc ? lb : padded(lb));
  if (q == NULL)
    return compat_out_of_memory(lb);
  if (unc)
    __atomic_add_fetch(&GC_non_gc_bytes, (GC_word)(sgc_size(q) - before),
                       __ATOMIC_RELAXED);
  /* Moved: the new object is one of its kind allocated now, which its
   * kind's disclaim procedure is asked about (gc_disclaim.h). */
  if (q != p && !unc) {
    int k = compat_kind_of(q);
    if (k >= 0)
      compat_disclaim_check(q, k);
  }
  compat_maybe_finalize();
  return q;
}

char *GC_strdup(const char *s) {
  if (s == NULL)
    return NULL;
  size_t n = strlen(s);
  char *p = GC_malloc_atomic(n + 1);
  if (p)
    memcpy(p, s, n + 1);
  return p;
}

char *GC_strndup(const char *s, size_t n) {
  if (s == NULL)
    return NULL;
  size_t len = strnlen(s, n);
  char *p = GC_malloc_atomic(len + 1);
  if (p) {
    memcpy(p, s, len);
    p[len] = 0;
  }
  return p;
}

/* Size classes whose objects all start at a multiple of an alignment:
 * spans start on 8 KiB pages, so a class size that is a multiple of the
 * alignment (up to 8 KiB) gives aligned objects. */
static size_t class_sizes[SGC_NUM_SIZE_CLASSES];

static void read_class_sizes(void) {
  if (class_sizes[1])
    return;
  sgc_stats *st = malloc(sizeof *st);
  if (st == NULL)
    return;
  sgc_read_stats(st);
  for (int c = 1; c < SGC_NUM_SIZE_CLASSES; c++)
    class_sizes[c] = st->by_class[c].size;
  free(st);
}

void *GC_memalign(size_t align, size_t lb) {
  compat_ensure_init();
  if (align <= 16)
    return GC_malloc(lb);
  if (align & (align - 1))
    return NULL;
  size_t n = padded(lb);
  if (n > SGC_MAX_SMALL_SIZE && align <= 8192)
    return GC_malloc(lb); /* large objects start on a page */
  if (align <= 8192) {
    read_class_sizes();
    for (int c = 1; c < SGC_NUM_SIZE_CLASSES; c++)
      if (class_sizes[c] >= n && class_sizes[c] % align == 0)
        return compat_disclaim_check(done(sgc_alloc(class_sizes[c]), lb),
                                     GC_I_NORMAL);
    return GC_malloc(SGC_MAX_SMALL_SIZE + 1 > n ? SGC_MAX_SMALL_SIZE + 1 : n);
  }
  /* Larger alignments: an interior pointer of a larger object (it keeps
   * the object alive; GC_base finds the object).  GC_free and GC_realloc
   * need the object's base. */
  size_t total = n + align;
  if (total < n)
    return compat_out_of_memory(lb);
  char *p = GC_malloc(total);
  if (p == NULL)
    return NULL;
  return (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

int GC_posix_memalign(void **memptr, size_t align, size_t lb) {
  if (align < sizeof(void *) || (align & (align - 1)))
    return EINVAL;
  void *p = GC_memalign(align, lb);
  if (p == NULL)
    return ENOMEM;
  *memptr = p;
  return 0;
}

/* Adds the extra byte, as GC_malloc does; GC_generic_malloc_many does
 * not. */
void *GC_malloc_many(size_t lb) {
  void *list = NULL;
  GC_generic_malloc_many(padded(lb), GC_I_NORMAL, &list);
  return list;
}

void *GC_base(void *p) {
  compat_ensure_init();
  return sgc_base(p);
}

size_t GC_size(const void *p) {
  compat_ensure_init();
  void *b = sgc_base(p);
  return b ? sgc_size(b) : 0;
}

/* bdwgc answers from the block's header alone: nonzero for any address in
 * its heap, free blocks included.  Ours answers for the collector's
 * address reservation (sgc_heap_bounds), which holds every heap object,
 * now and later, and nothing else (no other mapping can lie there): two
 * compares, no load of the span table or of a span.  Guile asks at every
 * set-car! and set-cdr! (its test that a pair is mutable, not a literal of
 * compiled code), where the exact answer, sgc_is_heap_ptr's two dependent
 * loads, cost it 4% of its time on a list-heavy program. */
int GC_is_heap_ptr(const void *p) {
  compat_ensure_init();
  return (uintptr_t)p - compat_heap_below - 1 < compat_heap_size;
}

/* Everything the program can hold is scanned by spangc (stacks, static
 * data, heap objects of scanned kinds, added roots): accepted as visible;
 * GC_is_visible_print_proc is never called. */
void *GC_is_visible(void *p) { return p; }
/* The kernel records the write (design.md, "Dirty pages and generations"). */
void GC_end_stubborn_change(const void *p) {}
void GC_ptr_store_and_dirty(void *p, const void *q) {
  *(const void **)p = q;
}

/* ------------------------------------------------------------- kinds */

void *compat_alloc_kind(size_t lb, int k) {
  compat_ensure_init();
  if (k < 0 || (unsigned)k >= __atomic_load_n(&compat_nkinds, __ATOMIC_ACQUIRE))
    compat_fatal("GC_generic_malloc(%zu, %d): no such kind", lb, k);
  compat_kind ck = compat_kinds[k];
  void *p;
  if (ck.uncollectable) {
    p = ck.sgc_kind == SGC_KIND_NOSCAN ? sgc_alloc_noscan_uncollectable(lb)
                                       : sgc_alloc_uncollectable(lb);
    count_uncollectable(p, 1);
  } else {
    p = sgc_alloc_kind(padded(lb), ck.sgc_kind);
  }
  return compat_disclaim_check(done(p, lb), k);
}

void *GC_malloc_kind(size_t lb, int k) { return compat_alloc_kind(lb, k); }
void *GC_malloc_kind_global(size_t lb, int k) {
  return compat_alloc_kind(lb, k);
}
/* Kinds 2 and 3 (and the ones made uncollectable) are uncollectable in
 * the table already: compat_alloc_kind serves every kind. */
void *GC_generic_or_special_malloc(size_t lb, int k) {
  return compat_alloc_kind(lb, k);
}

/* The bdwgc kind of an object: the first table entry with its spangc
 * kind and collectability (objects of the link kind are pointer-free
 * ones handed out by GC_generic_malloc_many). */
int compat_kind_of(const void *p) {
  int sk = sgc_kind_of(p);
  if (sk == compat_link_kind)
    sk = SGC_KIND_NOSCAN;
  int unc = sgc_is_uncollectable(p);
  unsigned n = __atomic_load_n(&compat_nkinds, __ATOMIC_ACQUIRE);
  for (unsigned i = 0; i < n; i++)
    if (compat_kinds[i].sgc_kind == sk && compat_kinds[i].uncollectable == unc)
      return (int)i;
  return -1;
}

int GC_get_kind_and_size(const void *p, size_t *psize) {
  compat_ensure_init();
  void *b = sgc_base(p);
  if (b == NULL) {
    if (psize)
      *psize = 0;
    return -1;
  }
  if (psize)
    *psize = sgc_size(b);
  int k = compat_kind_of(b);
  /* Typed objects (gc_typed.h) have no bdwgc kind number of their own in
   * the table; they are scanned objects. */
  return k >= 0 ? k : GC_I_NORMAL;
}

void *GC_generic_malloc(size_t lb, int k) { return compat_alloc_kind(lb, k); }
void *GC_generic_malloc_ignore_off_page(size_t lb, int k) {
  return compat_alloc_kind(lb, k);
}
void *GC_generic_malloc_uncollectable(size_t lb, int k) {
  compat_ensure_init();
  if (k < 0 || (unsigned)k >= __atomic_load_n(&compat_nkinds, __ATOMIC_ACQUIRE))
    compat_fatal("GC_generic_malloc_uncollectable(%zu, %d): no such kind",
                 lb, k);
  if (compat_kinds[k].sgc_kind == SGC_KIND_NOSCAN)
    return GC_malloc_atomic_uncollectable(lb);
  if (compat_kinds[k].sgc_kind == SGC_KIND_SCAN)
    return GC_malloc_uncollectable(lb);
  compat_fatal("GC_generic_malloc_uncollectable(%zu, %d): spangc has no "
               "uncollectable objects of a kind with a descriptor", lb, k);
}

/* A list of objects linked through their first word; as many as fill
 * about 4 KiB (at least one), at most MANY_MAX.  lb is the objects' whole
 * size: the inline allocators of gc_inline.h ask for
 * GC_RAW_BYTES_FROM_INDEX(granules), which holds the extra byte of
 * all-interior-pointers mode already, so no byte is added here (adding
 * one made a 16-byte GC_CONS cell take 32 bytes).  The one-at-a-time
 * path, like bdwgc's, allocates as GC_generic_malloc does.
 * While the list is built the objects are held in an array on this
 * stack, which is scanned: a collection during the loop must not free the
 * first ones (later iterations could get them back: a list with a cycle).
 * Objects of a pointer-free kind get the link kind, whose first word is
 * scanned: the program keeps such lists (gc_inline.h, Guile's per-thread
 * free lists) through their heads only, for as long as it likes, so every
 * link must keep the next object. */
#define MANY_MAX 256
void GC_generic_malloc_many(size_t lb, int k, void **result) {
  size_t each = lb ? lb : 1; /* the size a run's objects are asked for */
  size_t n = each >= 2048 ? 1 : 4096 / each;
  if (n > MANY_MAX)
    n = MANY_MAX;
  void *held[MANY_MAX];
  size_t got = 0;
  int known = k >= 0 && (unsigned)k < __atomic_load_n(&compat_nkinds,
                                                       __ATOMIC_ACQUIRE);
  int linked = known && compat_kinds[k].sgc_kind == SGC_KIND_NOSCAN &&
               !compat_kinds[k].uncollectable;
  /* A kind whose descriptor may leave the first word unscanned (gcj
   * objects read it as their vtable; bitmaps without word 0; mark
   * procedures) cannot hold a list: one object at a time. */
  if (known && !linked && !compat_kinds[k].first_word_scanned)
    n = 1;
  if (linked || (known && !compat_kinds[k].uncollectable)) {
    /* One entry into the allocator for the run (Guile refills its
     * per-thread free lists here: one call per object cost it a fifth of
     * its time). */
    compat_ensure_init();
    got = sgc_alloc_many(each,
                         linked ? compat_link_kind : compat_kinds[k].sgc_kind,
                         held, n);
    if (got == 0) {
      *result = NULL;
      compat_out_of_memory(lb);
      return;
    }
    if (COMPAT_UNLIKELY(__atomic_load_n(&compat_disclaim_mask,
                                        __ATOMIC_RELAXED) & (1u << k)))
      for (size_t i = 0; i < got; i++)
        compat_disclaim_new(held[i], k);
    compat_maybe_finalize();
  } else {
    while (got < n) {
      void *p = compat_alloc_kind(lb, k);
      if (p == NULL)
        break;
      held[got++] = p;
    }
  }
  void *list = NULL;
  while (got > 0) {
    void *p = held[--got];
    *(void **)p = list;
    list = p;
  }
  *result = list;
}

void **GC_new_free_list(void) {
  /* Programs only hand this to GC_new_kind; spangc keeps its own lists,
   * so it stays empty (an inline allocator finds nothing and calls
   * GC_generic_malloc_many). */
  void **fl = calloc(GC_TINY_FREELISTS + 1 > 129 ? GC_TINY_FREELISTS + 1 : 129,
                     sizeof(void *));
  if (fl == NULL)
    compat_fatal("GC_new_free_list: out of memory");
  return fl;
}

unsigned GC_new_kind(void **fl, GC_word descr, int adjust, int clear) {
  compat_ensure_init();
  int k = sgc_new_kind((uintptr_t)descr, adjust ? SGC_KIND_ADD_SIZE : 0);
  if (k < 0)
    compat_fatal("GC_new_kind(descr %#lx, adjust %d): %s",
                 (unsigned long)descr, adjust,
                 errno != EINVAL ? "too many kinds"
                 : adjust && (descr & GC_DS_TAGS) != GC_DS_LENGTH &&
                         (descr & GC_DS_TAGS) != GC_DS_PER_OBJECT
                     ? "the size can be added to a length or a per-object "
                       "offset only"
                     : "the descriptor names an unknown mark procedure");
  return compat_add_kind(k, "GC_new_kind", descr, adjust);
}

/* Whether objects of a kind with descriptor d have their first word
 * scanned, whatever their contents. */
static int scans_first_word(GC_word d, int adjust) {
  switch (d & GC_DS_TAGS) {
  case GC_DS_LENGTH:
    return adjust || d >= sizeof(void *);
  case GC_DS_BITMAP:
    return (d >> (8 * sizeof(GC_word) - 1)) & 1;
  default:
    return 0;
  }
}

static sgc_mutex kinds_lock = SGC_MUTEX_INIT(COMPAT_KINDS);

/* In a fork child: a thread the child does not have may have held it. */
void compat_kinds_atfork_child(void) {
  kinds_lock = (sgc_mutex)SGC_MUTEX_INIT(COMPAT_KINDS);
}

unsigned compat_add_kind(int sk, const char *call, GC_word descr,
                         int adjust) {
  sgc_mutex *lock = &kinds_lock;
  compat_lock(lock);
  unsigned i = compat_nkinds;
  if (i >= COMPAT_MAX_KINDS) {
    sgc_unlock(lock);
    compat_fatal("%s: too many kinds", call);
  }
  compat_kinds[i] = (compat_kind){sk, 0, scans_first_word(descr, adjust)};
  __atomic_store_n(&compat_nkinds, i + 1, __ATOMIC_RELEASE);
  sgc_unlock(lock);
  return i;
}

unsigned GC_new_proc(GC_mark_proc proc) {
  compat_ensure_init();
  int i = sgc_new_mark_proc((sgc_mark_proc)proc);
  if (i < 0)
    compat_fatal("GC_new_proc: too many mark procedures");
  return (unsigned)i;
}

/* ------------------------------------------------------------- typed */

GC_descr GC_make_descriptor(const GC_word *bm, size_t len) {
  compat_ensure_init();
  return (GC_descr)sgc_make_descriptor((const uintptr_t *)bm, len);
}

void *GC_malloc_explicitly_typed(size_t lb, GC_descr d) {
  compat_ensure_init();
  return done(sgc_alloc_typed(lb, (uintptr_t)d), lb);
}

void *GC_malloc_explicitly_typed_ignore_off_page(size_t lb, GC_descr d) {
  return GC_malloc_explicitly_typed(lb, d);
}

void *GC_calloc_explicitly_typed(size_t n, size_t lb, GC_descr d) {
  compat_ensure_init();
  return done(sgc_calloc_typed(n, lb, (uintptr_t)d), n * lb);
}

/* ------------------------------------------------- debugging variants */
/* The debugging allocator is leak.c's; these two have nothing to check. */

void GC_debug_end_stubborn_change(const void *p) {}
void GC_debug_ptr_store_and_dirty(void *p, const void *q) {
  *(const void **)p = q;
}
