/*
 * gc/gc_inline.h -- bdwgc's inline allocation macros, on spangc.
 *
 * The macros allocate small objects from a free-list array owned by the
 * client (GC_TINY_FREELISTS pointers, zero-initialised; one per thread in
 * threaded programs), refilling an empty list with GC_generic_malloc_many.
 * They are meant for compilers that generate C.  The code they expand to
 * behaves exactly like bdwgc's, so code compiled against either header
 * runs on spangc's library.
 *
 * The client is responsible for any extra byte it needs for pointers one
 * past the end of an object: sizes are used as given.
 */
#ifndef GC_INLINE_H
#define GC_INLINE_H

#include "gc.h"
#include "gc_tiny_fl.h"
#include "gc_mark.h" /* GC_generic_malloc, for requests too big to inline */

/* GC_EXPECT(expr, outcome): expr, with a hint that it usually equals
 * outcome. */
#if GC_GNUC_PREREQ(3, 0)
# define GC_EXPECT(expr, outcome) __builtin_expect(expr, outcome)
#else
# define GC_EXPECT(expr, outcome) (expr)
#endif

/* Internal checks of the macros below: assert() unless NDEBUG. */
#ifndef GC_ASSERT
# ifdef NDEBUG
#   define GC_ASSERT(expr)
# else
#   include <assert.h>
#   define GC_ASSERT(expr) assert(expr)
# endif
#endif

/* Hint that the memory at x is about to be written. */
#ifndef GC_PREFETCH_FOR_WRITE
# if GC_GNUC_PREREQ(3, 0) && !defined(GC_NO_PREFETCH_FOR_WRITE)
#   define GC_PREFETCH_FOR_WRITE(x) __builtin_prefetch((x), 1)
# else
#   define GC_PREFETCH_FOR_WRITE(x) (void)0
# endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The two predefined kinds, as numbered by bdwgc: pointer-free objects
 * (not scanned) and ordinary ones (scanned). */
#define GC_I_PTRFREE 0
#define GC_I_NORMAL 1

/* Store in *result a list of objects of lb bytes and kind k, linked through
 * their first words; NULL if none could be had.  Objects of a scanned
 * kind are zeroed apart from the link.  The caller must keep *result
 * reachable (it is scanned even when the objects are pointer-free). */
GC_API void GC_CALL GC_generic_malloc_many(size_t /* lb */, int /* k */,
                                           void ** /* result */);

/* Store the updated head of a free list; atomically when the client uses
 * libatomic_ops in a threaded program. */
#if defined(GC_THREADS) && defined(AO_HAVE_store)
# define GC_FAST_M_AO_STORE(my_fl, next) \
    AO_store((volatile AO_t *)(my_fl), (AO_t)(next))
#else
# define GC_FAST_M_AO_STORE(my_fl, next) (void)(*(my_fl) = (next))
#endif

/*
 * GC_FAST_MALLOC_GRANS(result, granules, tiny_fl, num_direct, kind,
 *                      default_expr, init)
 *
 * Allocate an object of `granules` granules of kind `kind` into `result`.
 *   - granules >= GC_TINY_FREELISTS: result = default_expr.
 *   - Otherwise look at entry tiny_fl[granules]:
 *     * a real object (a value above num_direct + GC_TINY_FREELISTS + 1):
 *       unlink it, evaluate `init` (which may use result), and for scanned
 *       kinds tell the collector the list head changed;
 *     * a small count (1 .. num_direct): count one more direct allocation
 *       (by granules + 1) and use default_expr; this way the first
 *       num_direct requests of a size do not build a list;
 *     * NULL or a larger count: refill the entry with
 *       GC_generic_malloc_many and look again; if it stays NULL, result is
 *       what the out-of-memory hook returns.
 * Entry 0 serves zero-byte requests with one-granule objects.
 */
#define GC_FAST_MALLOC_GRANS(result, granules, tiny_fl, num_direct, kind, \
                             default_expr, init) \
  do { \
    if (GC_EXPECT((granules) >= GC_TINY_FREELISTS, 0)) { \
      result = (default_expr); \
    } else { \
      void **gc_fl_slot_ = (tiny_fl) + (granules); \
      void *gc_fl_head_ = *gc_fl_slot_; \
      for (;;) { \
        if (GC_EXPECT((GC_word)gc_fl_head_ \
                      > (num_direct) + GC_TINY_FREELISTS + 1, 1)) { \
          void *gc_fl_rest_ = *(void **)gc_fl_head_; \
          result = gc_fl_head_; \
          GC_FAST_M_AO_STORE(gc_fl_slot_, gc_fl_rest_); \
          init; \
          GC_PREFETCH_FOR_WRITE(gc_fl_rest_); \
          if ((kind) != GC_I_PTRFREE) { \
            GC_end_stubborn_change(gc_fl_slot_); \
            GC_reachable_here(gc_fl_rest_); \
          } \
          GC_ASSERT(GC_size(result) >= (granules) * GC_GRANULE_BYTES); \
          GC_ASSERT((kind) == GC_I_PTRFREE \
                    || ((GC_word *)(result))[1] == 0); \
          break; \
        } \
        if (gc_fl_head_ != 0 \
            && (GC_signed_word)gc_fl_head_ - (GC_signed_word)(num_direct) \
                   <= 0) { \
          GC_FAST_M_AO_STORE(gc_fl_slot_, \
                             (char *)gc_fl_head_ + (granules) + 1); \
          result = (default_expr); \
          break; \
        } \
        GC_generic_malloc_many((granules) == 0 \
                                   ? GC_GRANULE_BYTES \
                                   : GC_RAW_BYTES_FROM_INDEX(granules), \
                               kind, gc_fl_slot_); \
        gc_fl_head_ = *gc_fl_slot_; \
        if (gc_fl_head_ == 0) { \
          result = (*GC_get_oom_fn())((granules) * GC_GRANULE_BYTES); \
          break; \
        } \
      } \
    } \
  } while (0)

/* Granules needed for n words, rounding up. */
#define GC_WORDS_TO_WHOLE_GRANULES(n) \
  GC_WORDS_TO_GRANULES((n) + GC_GRANULE_WORDS - 1)

/* Allocate n words (not bytes) of kind `kind` into result from tiny_fl,
 * evaluating init on success.  Takes no lock: tiny_fl must be private to
 * the calling thread (or the program single-threaded) and start zeroed. */
#define GC_MALLOC_WORDS_KIND(result, n, tiny_fl, kind, init) \
  do { \
    size_t gc_words_grans_ = GC_WORDS_TO_WHOLE_GRANULES(n); \
    GC_FAST_MALLOC_GRANS(result, gc_words_grans_, tiny_fl, 0, kind, \
                         GC_generic_malloc(gc_words_grans_ \
                                               * GC_GRANULE_BYTES, \
                                           kind), \
                         init); \
  } while (0)

/* n words that may hold pointers; the first word (the list link) is
 * cleared, so the whole object is zero. */
#define GC_MALLOC_WORDS(result, n, tiny_fl) \
  GC_MALLOC_WORDS_KIND(result, n, tiny_fl, GC_I_NORMAL, \
                       *(void **)(result) = 0)

/* n pointer-free words (contents undefined). */
#define GC_MALLOC_ATOMIC_WORDS(result, n, tiny_fl) \
  GC_MALLOC_WORDS_KIND(result, n, tiny_fl, GC_I_PTRFREE, (void)0)

/* A two-word cell holding first and second (result is NULL if memory ran
 * out). */
#define GC_CONS(result, first, second, tiny_fl) \
  do { \
    void *gc_cons_car_ = (void *)(first); \
    void *gc_cons_cdr_ = (void *)(second); \
    GC_MALLOC_WORDS_KIND(result, 2, tiny_fl, GC_I_NORMAL, (void)0); \
    if ((result) != 0) { \
      *(void **)(result) = gc_cons_car_; \
      GC_PTR_STORE_AND_DIRTY((void **)(result) + 1, gc_cons_cdr_); \
      GC_reachable_here(gc_cons_car_); \
    } \
  } while (0)

/* An object of kind k (GC_I_PTRFREE, GC_I_NORMAL, or one made with
 * GC_new_kind), as GC_generic_malloc. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_kind(size_t /* lb */, int /* k */);
#ifdef GC_THREADS
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_kind_global(size_t /* lb */, int /* k */);
#else
# define GC_malloc_kind_global GC_malloc_kind
#endif

/* Prints what is known of the free list of a kind and size.  spangc:
 * keeps no bdwgc free lists; prints the size class the request maps to. */
GC_API void GC_CALL GC_print_free_list(int /* kind */,
                                       size_t /* sz_in_granules */);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GC_INLINE_H */
