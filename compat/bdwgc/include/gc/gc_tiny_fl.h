/*
 * gc/gc_tiny_fl.h -- granule size and "tiny" free-list geometry, as baked
 * into code that uses the inline allocators of <gc/gc_inline.h>.
 *
 * Allocation sizes are rounded up to whole granules of two pointers
 * (16 bytes on 64-bit targets).  A tiny free-list array, private to the
 * client, has GC_TINY_FREELISTS entries; entry i holds objects of i
 * granules (entry 0 serves zero-byte requests with one-granule objects).
 * These numbers are part of bdwgc's binary interface and match it; do not
 * override them in code shared with other clients of the library.
 */
#ifndef GC_TINY_FL_H
#define GC_TINY_FL_H

#ifndef GC_GRANULE_BYTES
# if defined(__LP64__) || defined(_LP64) || defined(_WIN64) \
     || (defined(__x86_64__) && !defined(__ILP32__)) \
     || defined(__s390x__) || defined(__alpha__) || defined(__powerpc64__) \
     || defined(__arch64__)
#   define GC_GRANULE_BYTES 16
# else
#   define GC_GRANULE_BYTES 8
# endif
# define GC_GRANULE_WORDS 2 /* pointers per granule */
#endif

/* Words (pointers) to granules, rounding down. */
#if GC_GRANULE_WORDS == 2
# define GC_WORDS_TO_GRANULES(n) ((n) >> 1)
#else
# define GC_WORDS_TO_GRANULES(n) ((n) * sizeof(void *) / GC_GRANULE_BYTES)
#endif

/* Entries of a tiny free-list array: sizes 0 .. 384 bytes with 16-byte
 * granules, 0 .. 256 bytes with 8-byte ones. */
#ifndef GC_TINY_FREELISTS
# if GC_GRANULE_BYTES == 16
#   define GC_TINY_FREELISTS 25
# else
#   define GC_TINY_FREELISTS 33
# endif
#endif

/* Size in bytes of the objects kept in free-list entry i. */
#define GC_RAW_BYTES_FROM_INDEX(i) ((i) * GC_GRANULE_BYTES)

#endif /* GC_TINY_FL_H */
