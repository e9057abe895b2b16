/*
 * gc/gc_typed.h -- allocation with an exact pointer layout, on spangc.
 *
 * A program describes which words of a type may hold pointers with a
 * bitmap, turns it into a descriptor once per type with
 * GC_make_descriptor, and allocates objects with that descriptor; the
 * collector then scans only those words.  For a type T with pointer
 * fields f1, f2:
 *
 *     GC_word bm[GC_BITMAP_SIZE(T)] = { 0 };
 *     GC_set_bit(bm, GC_WORD_OFFSET(T, f1));
 *     GC_set_bit(bm, GC_WORD_OFFSET(T, f2));
 *     GC_descr d = GC_make_descriptor(bm, GC_WORD_LEN(T));
 *     T *p = (T *)GC_MALLOC_EXPLICITLY_TYPED(sizeof(T), d);
 *
 * Bit i of the bitmap (bit i % GC_WORDSZ of word i / GC_WORDSZ, least
 * significant first) stands for word i of the object.
 */
#ifndef GC_TYPED_H
#define GC_TYPED_H

#ifndef GC_H
# include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A layout bitmap: an array of words. */
typedef GC_word *GC_bitmap;

/* Bits per word. */
#define GC_WORDSZ (8 * sizeof(GC_word))

/* Read / set bit index of bitmap bm. */
#define GC_get_bit(bm, index) \
  (((bm)[(index) / GC_WORDSZ] >> ((index) % GC_WORDSZ)) & 1)
#define GC_set_bit(bm, index) \
  ((bm)[(index) / GC_WORDSZ] |= (GC_word)1 << ((index) % GC_WORDSZ))

/* Word index of field f in type t, words in t, and words of bitmap needed
 * for t. */
#define GC_WORD_OFFSET(t, f) (offsetof(t, f) / sizeof(GC_word))
#define GC_WORD_LEN(t) (sizeof(t) / sizeof(GC_word))
#define GC_BITMAP_SIZE(t) ((GC_WORD_LEN(t) + GC_WORDSZ - 1) / GC_WORDSZ)

/* A layout descriptor, as made by GC_make_descriptor. */
typedef GC_word GC_descr;

/* Descriptor for objects whose first len words are laid out as in bm (set
 * bit: may hold a pointer); words past len hold no pointers.  Call once
 * per type.  If memory for the descriptor runs out, the result is a
 * conservative one (every word scanned). */
GC_API GC_descr GC_CALL GC_make_descriptor(const GC_word * /* bm */,
                                           size_t /* len */);

/* A zeroed object of size_in_bytes (at least len words of d) scanned as d
 * says.  It must not be passed to GC_realloc. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_explicitly_typed(size_t /* size_in_bytes */, GC_descr /* d */);

/* The same, for a large object kept alive by pointers to its first page.
 * spangc: identical to GC_malloc_explicitly_typed. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_explicitly_typed_ignore_off_page(size_t /* size_in_bytes */,
                                               GC_descr /* d */);

/* A zeroed array of nelements elements of element_size_in_bytes (a
 * multiple of the pointer size), each scanned as d says. */
GC_API GC_ATTR_MALLOC GC_ATTR_CALLOC_SIZE(1, 2) void *GC_CALL
    GC_calloc_explicitly_typed(size_t /* nelements */,
                               size_t /* element_size_in_bytes */,
                               GC_descr /* d */);

/* Typed allocation macros.  With GC_DEBUG the descriptor is evaluated and
 * dropped, and the object comes from GC_MALLOC (scanned entirely), as in
 * bdwgc. */
#ifdef GC_DEBUG
# define GC_MALLOC_EXPLICITLY_TYPED(bytes, d) ((void)(d), GC_MALLOC(bytes))
# define GC_CALLOC_EXPLICITLY_TYPED(n, bytes, d) \
    ((void)(d), GC_MALLOC((n) * (bytes)))
#else
# define GC_MALLOC_EXPLICITLY_TYPED(bytes, d) \
    GC_malloc_explicitly_typed(bytes, d)
# define GC_CALLOC_EXPLICITLY_TYPED(n, bytes, d) \
    GC_calloc_explicitly_typed(n, bytes, d)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GC_TYPED_H */
