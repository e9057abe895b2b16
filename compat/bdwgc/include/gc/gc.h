/*
 * gc/gc.h -- spangc's drop-in replacement for the main header of the
 * Boehm-Demers-Weiser collector (bdwgc).
 *
 * Programs written for bdwgc include this header and link with spangc's
 * libgc.so.1.  Names, prototypes, macro values and data layouts follow
 * bdwgc 8.2.2 exactly, so that binaries built against the original headers
 * also run on spangc's library.  Behind them is spangc: a span heap in the
 * style of the Go runtime, collected by stop-the-world parallel marking from
 * conservative roots and lazy, concurrent sweeping (see <spangc.h>).
 *
 * Everything Debian's libgc1 (bdwgc 8.2.2) exports is declared and
 * defined; where spangc behaves differently from bdwgc, the comment says
 * so ("spangc:"), and compat/bdwgc/README.md lists the differences of the
 * calls that spangc can only approximate or cannot honour.
 *
 * Summary of what every client should know:
 *   - Interior pointers are always recognised, from anywhere.
 *   - Memory is 16-byte aligned.  GC_malloc'ed memory is zeroed;
 *     GC_malloc_atomic'ed memory is not and is never scanned.
 *   - There is no incremental mode.  Leak finding (GC_set_find_leak) and
 *     the debugging allocator (GC_debug_ calls) work as in bdwgc, except
 *     that a leaked object is kept for ever, never reused.
 *   - Finalizers run, as in bdwgc, on a thread that allocates (or calls
 *     GC_gcollect), unless GC_finalize_on_demand is set.
 *   - Threads that allocate are registered automatically; define
 *     GC_THREADS before including this header to have pthread_create and
 *     friends go through spangc as with bdwgc.
 *   - Misuse that bdwgc leaves undefined (freeing a pointer that is not an
 *     object's base, unbalanced GC_enable, ...) aborts with a message
 *     naming the call.
 */
#ifndef GC_H
#define GC_H

#include "gc_version.h"
#include "gc_config_macros.h"

#ifdef __cplusplus
extern "C" {
#endif

/* =====================================================================
 * Basic types
 * ===================================================================== */

/* Unsigned and signed integers as wide as a pointer. */
#if defined(_WIN64)
typedef unsigned long long GC_word;
typedef long long GC_signed_word;
#else
typedef unsigned long GC_word;
typedef long GC_signed_word;
#endif

/* Old spelling of void *, kept for source compatibility. */
typedef void *GC_PTR;

/* Result codes of the registration calls. */
#define GC_SUCCESS 0
#define GC_DUPLICATE 1     /* already registered */
#define GC_NO_THREADS 2    /* historical; never returned */
#define GC_NO_MEMORY 2     /* failed for want of memory */
#define GC_UNIMPLEMENTED 3 /* not available here */
#define GC_NOT_FOUND 4     /* nothing was registered there */

/* Library version as (major << 16) | (minor << 8) | micro.  spangc reports
 * the bdwgc interface level it implements, 8.2.2 (0x080202). */
GC_API unsigned GC_CALL GC_get_version(void);

/* =====================================================================
 * Tunables
 *
 * Each public variable below is also reachable through a setter and a
 * getter, which new code should prefer; the variables stay for programs
 * that assign them directly (before GC_INIT(), typically).  spangc reads
 * them where they take effect (GC_dont_gc and GC_free_space_divisor before
 * each collection, GC_all_interior_pointers at initialisation), so a
 * direct assignment works as a setter call does.
 * ===================================================================== */

/* Collections completed so far.  GC_get_gc_no reads it. */
GC_API GC_ATTR_DEPRECATED GC_word GC_gc_no;
GC_API GC_word GC_CALL GC_get_gc_no(void);

#ifdef GC_THREADS
/* Nonzero when collections mark with several threads (bdwgc stores the
 * number of helper marker threads).  Set when the collector initialises;
 * GC_get_parallel reads it. */
GC_API GC_ATTR_DEPRECATED int GC_parallel;
GC_API int GC_CALL GC_get_parallel(void);
#endif

/* Out-of-memory hook: when an allocation cannot be satisfied, its caller
 * gets (*GC_oom_fn)(bytes).  The hook returns NULL or an object from the
 * collected heap; the default returns NULL.  It must never be NULL. */
typedef void *(GC_CALLBACK *GC_oom_func)(size_t /* bytes_requested */);
GC_API GC_ATTR_DEPRECATED GC_oom_func GC_oom_fn;
GC_API void GC_CALL GC_set_oom_fn(GC_oom_func) GC_ATTR_NONNULL(1);
GC_API GC_oom_func GC_CALL GC_get_oom_fn(void);

/* Heap-size hook: called with the new heap size in bytes when the heap
 * has grown or shrunk.  May be NULL (the default).
 * spangc: the size is compared before each collection, and the hook is
 * called there, on the thread that triggers the collection. */
typedef void (GC_CALLBACK *GC_on_heap_resize_proc)(GC_word /* new_size */);
GC_API GC_ATTR_DEPRECATED GC_on_heap_resize_proc GC_on_heap_resize;
GC_API void GC_CALL GC_set_on_heap_resize(GC_on_heap_resize_proc);
GC_API GC_on_heap_resize_proc GC_CALL GC_get_on_heap_resize(void);

/* bdwgc: leak-finding mode (report unreachable objects never freed with
 * GC_FREE instead of reclaiming them); set before GC_INIT, or with the
 * environment variable GC_FIND_LEAK.
 * spangc: reports "Found N leaked objects:" when GC_gcollect returns,
 * before the next automatic collection, and at exit; a leaked object is
 * reported once and never reused (bdwgc frees it after the report). */
GC_API GC_ATTR_DEPRECATED int GC_find_leak;
GC_API void GC_CALL GC_set_find_leak(int);
GC_API int GC_CALL GC_get_find_leak(void);

/* Whether pointers into the middle of an object keep it alive (default 1).
 * While it is set, as in bdwgc, each object gets one byte more than asked
 * for, so that a pointer just past its end still keeps it alive.  Set it
 * before GC_INIT(); later changes are ignored with a warning.
 * spangc: every interior pointer keeps its object alive whatever the
 * value; 0 only drops the extra byte. */
GC_API GC_ATTR_DEPRECATED int GC_all_interior_pointers;
GC_API void GC_CALL GC_set_all_interior_pointers(int);
GC_API int GC_CALL GC_get_all_interior_pointers(void);

/* Nonzero: finalizers run only when the program calls
 * GC_invoke_finalizers.  With 0 (the default) ready finalizers are run by
 * the next thread that allocates or calls GC_gcollect. */
GC_API GC_ATTR_DEPRECATED int GC_finalize_on_demand;
GC_API void GC_CALL GC_set_finalize_on_demand(int);
GC_API int GC_CALL GC_get_finalize_on_demand(void);

/* Java-style finalization: objects reachable from a finalizable object are
 * kept until it has been finalized, and GC_register_finalizer_unreachable
 * is meaningful.  Default 1.
 * spangc: stored and reported; spangc always behaves as if it were set. */
GC_API GC_ATTR_DEPRECATED int GC_java_finalization;
GC_API void GC_CALL GC_set_java_finalization(int);
GC_API int GC_CALL GC_get_java_finalization(void);

/* Notifier: called when new finalizers are ready to run, so that the
 * program can call GC_invoke_finalizers from a thread of its choosing.
 * Used only with GC_finalize_on_demand.  May be NULL.
 * spangc: called by an allocating thread that finds new finalizers
 * queued. */
typedef void (GC_CALLBACK *GC_finalizer_notifier_proc)(void);
GC_API GC_ATTR_DEPRECATED GC_finalizer_notifier_proc GC_finalizer_notifier;
GC_API void GC_CALL GC_set_finalizer_notifier(GC_finalizer_notifier_proc);
GC_API GC_finalizer_notifier_proc GC_CALL GC_get_finalizer_notifier(void);

/* Nonzero: no collection happens, not even for GC_gcollect.  It counts
 * nested GC_disable calls; use GC_disable / GC_enable / GC_is_disabled
 * rather than writing it (unless GC_DONT_GC is defined, writing it
 * directly draws a deprecation warning, as with bdwgc). */
GC_API
#ifndef GC_DONT_GC
  GC_ATTR_DEPRECATED
#endif
  int GC_dont_gc;

/* bdwgc: grow the heap only when an allocation cannot be met otherwise.
 * spangc: stored and reported only; the heap grows as spangc's pacing
 * decides. */
GC_API GC_ATTR_DEPRECATED int GC_dont_expand;
GC_API void GC_CALL GC_set_dont_expand(int);
GC_API int GC_CALL GC_get_dont_expand(void);

/* bdwgc: fill the whole heap before collecting.
 * spangc: stored only; pacing is spangc's own (see
 * GC_free_space_divisor). */
GC_API GC_ATTR_DEPRECATED int GC_use_entire_heap;

/* bdwgc: partial (generational) collections between full ones.
 * spangc: stored and reported only; every collection is full. */
GC_API GC_ATTR_DEPRECATED int GC_full_freq;
GC_API void GC_CALL GC_set_full_freq(int);
GC_API int GC_CALL GC_get_full_freq(void);

/* Bytes in objects that are not candidates for collection (uncollectable
 * ones).  Maintained by the allocator. */
GC_API GC_ATTR_DEPRECATED GC_word GC_non_gc_bytes;

/* bdwgc: do not scan the data of dynamically loaded libraries (the program
 * registers its roots itself).
 * spangc: stored and reported only; the writable segments of every loaded
 * object are always scanned. */
GC_API GC_ATTR_DEPRECATED int GC_no_dls;
GC_API void GC_CALL GC_set_no_dls(int);
GC_API int GC_CALL GC_get_no_dls(void);

/* Pacing: larger values mean a smaller heap and more frequent collections
 * (default 3).
 * spangc: becomes its GOGC percentage, 300 / divisor (so the default is
 * spangc's default of 100); 0 turns automatic collection off.  A direct
 * assignment takes effect at the next collection. */
GC_API GC_ATTR_DEPRECATED GC_word GC_free_space_divisor;
GC_API void GC_CALL GC_set_free_space_divisor(GC_word);
GC_API GC_word GC_CALL GC_get_free_space_divisor(void);

/* bdwgc: collections to retry before declaring an allocation out of
 * memory.
 * spangc: stored and reported only (spangc collects once, at the heap
 * limit, before failing). */
GC_API GC_ATTR_DEPRECATED GC_word GC_max_retries;
GC_API void GC_CALL GC_set_max_retries(GC_word);
GC_API GC_word GC_CALL GC_get_max_retries(void);

/* bdwgc: cold end of the main thread's stack, settable before GC_INIT().
 * spangc: finds every stack by itself and never reads this. */
GC_API GC_ATTR_DEPRECATED char *GC_stackbottom;

/* bdwgc: skip the collection done at initialisation.
 * spangc: stored only; spangc never collects at initialisation. */
GC_API GC_ATTR_DEPRECATED int GC_dont_precollect;
GC_API void GC_CALL GC_set_dont_precollect(int);
GC_API int GC_CALL GC_get_dont_precollect(void);

/* bdwgc: pause target of incremental collection, in milliseconds.
 * spangc: stored and reported only (no incremental mode). */
GC_API GC_ATTR_DEPRECATED unsigned long GC_time_limit;
#define GC_TIME_UNLIMITED 999999 /* "no time limit" value */
GC_API void GC_CALL GC_set_time_limit(unsigned long);
GC_API unsigned long GC_CALL GC_get_time_limit(void);

/* Whether to make the collector safe across fork() with pthread_atfork
 * handlers.  Call before GC_INIT().
 * spangc: always installs its fork handlers; the call is accepted. */
GC_API void GC_CALL GC_set_handle_fork(int);

/* Nonzero: GC_gcollect also returns every free page to the operating
 * system, as GC_gcollect_and_unmap does. */
GC_API void GC_CALL GC_set_force_unmap_on_gcollect(int);
GC_API int GC_CALL GC_get_force_unmap_on_gcollect(void);

/* =====================================================================
 * Initialisation
 * ===================================================================== */

/* Initialise the collector (idempotent, thread-safe) and register the
 * calling thread.  Optional on spangc, which initialises on first use, but
 * portable programs call GC_INIT() from main. */
GC_API void GC_CALL GC_init(void);

/* Nonzero once GC_init has run (or is running). */
GC_API int GC_CALL GC_is_init_called(void);

/* =====================================================================
 * Allocation
 *
 * Every call returns NULL, after consulting GC_oom_fn, when memory cannot
 * be had.  Objects are 16-byte aligned.
 * ===================================================================== */

/* An object of the given size that may hold pointers; zeroed. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc(size_t /* size_in_bytes */);

/* An object that holds no pointers: never scanned, NOT zeroed. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_atomic(size_t /* size_in_bytes */);

/* Copy of a NUL-terminated string, in a pointer-free object. */
GC_API GC_ATTR_MALLOC char *GC_CALL GC_strdup(const char *);

/* Copy of at most n bytes of a string, NUL-terminated, pointer-free. */
GC_API GC_ATTR_MALLOC char *GC_CALL
    GC_strndup(const char *, size_t) GC_ATTR_NONNULL(1);

/* An object that is scanned like a root and never collected; it lives
 * until GC_free.  Counted in GC_non_gc_bytes. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_uncollectable(size_t /* size_in_bytes */);

/* As GC_malloc_uncollectable, but the object holds no pointers (not
 * scanned, not zeroed). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_atomic_uncollectable(size_t /* size_in_bytes */);

/* bdwgc: a large object that is kept alive only by pointers to its first
 * page, which lowers the chance of false retention.
 * spangc: the same as GC_malloc / GC_malloc_atomic (any interior pointer
 * keeps the object alive). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_ignore_off_page(size_t /* lb */);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_atomic_ignore_off_page(size_t /* lb */);

/* An object (may hold pointers, zeroed) whose address is a multiple of
 * align, a power of two; NULL for another alignment.
 * spangc: for alignments above 8 KiB the result may point inside a larger
 * object; pass GC_base of it to GC_free or GC_realloc. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(2) void *GC_CALL
    GC_memalign(size_t /* align */, size_t /* lb */);

/* posix_memalign on the collected heap: stores the object in *memptr and
 * returns 0, or returns EINVAL (bad alignment) or ENOMEM. */
GC_API int GC_CALL GC_posix_memalign(void ** /* memptr */,
                                     size_t /* align */,
                                     size_t /* lb */) GC_ATTR_NONNULL(1);

/* Many objects of the same size at once (spangc: about 4 KiB worth),
 * returned as a list linked through their first words (see GC_NEXT).
 * Objects may hold pointers and are zeroed apart from the link. */
GC_API GC_ATTR_MALLOC void *GC_CALL GC_malloc_many(size_t /* lb */);
#define GC_NEXT(p) (*(void **)(p)) /* the list element after p */

/* Resize an object, keeping its kind (scanned or not) and contents up to
 * the smaller size; growth of a scanned object is zeroed.  NULL old object:
 * behaves as GC_malloc.  Size 0: frees the object, returns NULL.  On
 * failure returns NULL and leaves the old object alone. */
GC_API void *GC_CALL GC_realloc(void * /* old_object */,
                                size_t /* new_size_in_bytes */)
    GC_ATTR_ALLOC_SIZE(2);

/* Free an object explicitly (optional; the collector frees unreachable
 * objects).  GC_free(NULL) does nothing.  The object must not have a
 * finalizer or disappearing links registered.
 * spangc: a pointer that is not the base of a live object aborts the
 * program with a message, where bdwgc's behaviour is undefined. */
GC_API void GC_CALL GC_free(void *);

/* Base address of the heap object that contains p (anywhere inside it),
 * or NULL if p is not inside one.
 * spangc: NULL also for a slot that is free (bdwgc may return the base of
 * a freed object).  As in bdwgc, the base of an object from a GC_debug_
 * call is its header, GC_debug_header_size bytes before the address it
 * returned. */
GC_API void *GC_CALL GC_base(void * /* displaced_pointer */);

/* Nonzero if p points into the collected heap.  spangc: anywhere in the
 * collector's address reservation, free and not yet used pages included
 * (bdwgc: anywhere in its heap blocks, free ones included). */
GC_API int GC_CALL GC_is_heap_ptr(const void *);

/* Usable size in bytes of the object whose base is given (at least the
 * size requested).
 * spangc: any pointer into the object will do; 0 outside the heap. */
GC_API size_t GC_CALL GC_size(const void * /* obj_addr */)
    GC_ATTR_NONNULL(1);

/* Historical "stubborn" allocation: now plain allocation. */
#define GC_MALLOC_STUBBORN(sz) GC_MALLOC(sz)
#define GC_NEW_STUBBORN(t) GC_NEW(t)
#define GC_CHANGE_STUBBORN(p) ((void)(p))

/* Write-barrier notifications for bdwgc's manual-dirty-bit incremental
 * mode: "this object was changed" and "store q at p, then notify".
 * spangc: no incremental mode, so GC_end_stubborn_change does nothing and
 * GC_ptr_store_and_dirty is a plain pointer store. */
GC_API void GC_CALL GC_end_stubborn_change(const void *) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_ptr_store_and_dirty(void * /* p */,
                                           const void * /* q */);

/* =====================================================================
 * Debugging allocation
 *
 * bdwgc's GC_debug_ calls wrap each object in a header recording the
 * allocation site and check it for overwrites.  The GC_MALLOC family of
 * macros below switches to them when GC_DEBUG is defined; the site is
 * passed as GC_EXTRAS (__FILE__, __LINE__).
 * spangc: the same (a 32-byte header, a guard word past the object; each
 * collection checks the live ones).  GC_debug_free of a pointer into no
 * object is reported and ignored where bdwgc aborts.
 * ===================================================================== */

#define GC_EXTRAS __FILE__, __LINE__
#define GC_EXTRA_PARAMS const char *s, int i

GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc(size_t /* size_in_bytes */, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc_atomic(size_t /* size_in_bytes */, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC char *GC_CALL
    GC_debug_strdup(const char *, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC char *GC_CALL
    GC_debug_strndup(const char *, size_t, GC_EXTRA_PARAMS)
    GC_ATTR_NONNULL(1);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc_uncollectable(size_t /* size_in_bytes */,
                                  GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc_atomic_uncollectable(size_t /* size_in_bytes */,
                                         GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc_ignore_off_page(size_t /* size_in_bytes */,
                                    GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc_atomic_ignore_off_page(size_t /* size_in_bytes */,
                                           GC_EXTRA_PARAMS);
GC_API void GC_CALL GC_debug_free(void *);
GC_API void *GC_CALL GC_debug_realloc(void * /* old_object */,
                                      size_t /* new_size_in_bytes */,
                                      GC_EXTRA_PARAMS) GC_ATTR_ALLOC_SIZE(2);
GC_API void GC_CALL GC_debug_end_stubborn_change(const void *)
    GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_ptr_store_and_dirty(void * /* p */,
                                                 const void * /* q */);

/* Counterpart of GC_register_displacement for programs using the debug
 * calls.  spangc: does nothing, like GC_register_displacement. */
GC_API void GC_CALL GC_debug_register_displacement(size_t /* n */);

#ifdef GC_DEBUG_REPLACEMENT
# error "GC_DEBUG_REPLACEMENT is not supported by spangc's libgc (no GC_debug_malloc_replacement)"
#endif

/* The allocation macros: the plain calls normally, the GC_debug_ ones with
 * the call site when GC_DEBUG is defined. */
#ifdef GC_DEBUG
# define GC_MALLOC(sz) GC_debug_malloc(sz, GC_EXTRAS)
# define GC_MALLOC_ATOMIC(sz) GC_debug_malloc_atomic(sz, GC_EXTRAS)
# define GC_MALLOC_UNCOLLECTABLE(sz) \
    GC_debug_malloc_uncollectable(sz, GC_EXTRAS)
# define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz) \
    GC_debug_malloc_atomic_uncollectable(sz, GC_EXTRAS)
# define GC_MALLOC_IGNORE_OFF_PAGE(sz) \
    GC_debug_malloc_ignore_off_page(sz, GC_EXTRAS)
# define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz) \
    GC_debug_malloc_atomic_ignore_off_page(sz, GC_EXTRAS)
# define GC_REALLOC(old, sz) GC_debug_realloc(old, sz, GC_EXTRAS)
# define GC_STRDUP(s) GC_debug_strdup(s, GC_EXTRAS)
# define GC_STRNDUP(s, sz) GC_debug_strndup(s, sz, GC_EXTRAS)
# define GC_FREE(p) GC_debug_free(p)
# define GC_REGISTER_FINALIZER(p, f, d, of, od) \
    GC_debug_register_finalizer(p, f, d, of, od)
# define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_debug_register_finalizer_ignore_self(p, f, d, of, od)
# define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_debug_register_finalizer_no_order(p, f, d, of, od)
# define GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od) \
    GC_debug_register_finalizer_unreachable(p, f, d, of, od)
# define GC_END_STUBBORN_CHANGE(p) GC_debug_end_stubborn_change(p)
# define GC_PTR_STORE_AND_DIRTY(p, q) GC_debug_ptr_store_and_dirty(p, q)
# define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) \
    GC_general_register_disappearing_link(link, GC_base((void *)(obj)))
# define GC_REGISTER_DISPLACEMENT(n) GC_debug_register_displacement(n)
#else
# define GC_MALLOC(sz) GC_malloc(sz)
# define GC_MALLOC_ATOMIC(sz) GC_malloc_atomic(sz)
# define GC_MALLOC_UNCOLLECTABLE(sz) GC_malloc_uncollectable(sz)
# define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz) GC_malloc_atomic_uncollectable(sz)
# define GC_MALLOC_IGNORE_OFF_PAGE(sz) GC_malloc_ignore_off_page(sz)
# define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz) \
    GC_malloc_atomic_ignore_off_page(sz)
# define GC_REALLOC(old, sz) GC_realloc(old, sz)
# define GC_STRDUP(s) GC_strdup(s)
# define GC_STRNDUP(s, sz) GC_strndup(s, sz)
# define GC_FREE(p) GC_free(p)
# define GC_REGISTER_FINALIZER(p, f, d, of, od) \
    GC_register_finalizer(p, f, d, of, od)
# define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_register_finalizer_ignore_self(p, f, d, of, od)
# define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_register_finalizer_no_order(p, f, d, of, od)
# define GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od) \
    GC_register_finalizer_unreachable(p, f, d, of, od)
# define GC_END_STUBBORN_CHANGE(p) GC_end_stubborn_change(p)
# define GC_PTR_STORE_AND_DIRTY(p, q) GC_ptr_store_and_dirty(p, q)
# define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) \
    GC_general_register_disappearing_link(link, obj)
# define GC_REGISTER_DISPLACEMENT(n) GC_register_displacement(n)
#endif

/* Typed shorthands: allocate one t.  They may return NULL. */
#define GC_NEW(t) ((t *)GC_MALLOC(sizeof(t)))
#define GC_NEW_ATOMIC(t) ((t *)GC_MALLOC_ATOMIC(sizeof(t)))
#define GC_NEW_UNCOLLECTABLE(t) ((t *)GC_MALLOC_UNCOLLECTABLE(sizeof(t)))

/* =====================================================================
 * Collection control
 * ===================================================================== */

/* A full collection now.  Returns when it is complete (marked and swept),
 * after running the finalizers it made ready (unless
 * GC_finalize_on_demand).  Does nothing while collection is disabled
 * (GC_disable, GC_dont_gc). */
GC_API void GC_CALL GC_gcollect(void);

/* GC_gcollect, then give every free page back to the operating system. */
GC_API void GC_CALL GC_gcollect_and_unmap(void);

/* A full collection that may be abandoned when stop_func returns nonzero.
 * Returns 1 if it completed, 0 if it was abandoned or collection is
 * disabled.
 * spangc: a collection cannot stop half-way; stop_func is asked once,
 * before the collection starts. */
typedef int (GC_CALLBACK *GC_stop_func)(void);
GC_API int GC_CALL GC_try_to_collect(GC_stop_func /* stop_func */)
    GC_ATTR_NONNULL(1);

/* A little collector work; returns nonzero while there is more to do.
 * spangc: sweeps part of what the last collection left unswept (and runs
 * ready finalizers). */
GC_API int GC_CALL GC_collect_a_little(void);

/* Disable / re-enable collection.  The calls nest: collection is enabled
 * again when every GC_disable has been matched by a GC_enable.
 * GC_is_disabled is nonzero while it is disabled.
 * spangc: a GC_enable without a matching GC_disable aborts. */
GC_API void GC_CALL GC_disable(void);
GC_API void GC_CALL GC_enable(void);
GC_API int GC_CALL GC_is_disabled(void);

/* bdwgc: switch to incremental/generational collection.
 * spangc: has neither; GC_enable_incremental only initialises the
 * collector and GC_is_incremental_mode always returns 0. */
GC_API void GC_CALL GC_enable_incremental(void);
GC_API int GC_CALL GC_is_incremental_mode(void);

/* Grow the heap by about n bytes now, ahead of need.  Returns 1 on
 * success, 0 on failure. */
GC_API int GC_CALL GC_expand_hp(size_t /* number_of_bytes */);

/* Cap the heap at n bytes (0: no cap, the default).  An allocation that
 * would pass the cap collects first and then fails. */
GC_API void GC_CALL GC_set_max_heap_size(GC_word /* n */);

/* Run fn(client_data) holding the "allocation lock"; returns fn's result.
 * spangc: the lock is a recursive one that excludes other
 * GC_call_with_alloc_lock callers and GC_alloc_lock holders; as in bdwgc,
 * no collection starts while fn runs (one under way finishes first), so
 * a pointer fn reveals from a hidden one stays valid.  Other threads
 * allocate meanwhile.  fn may allocate too (unlike bdwgc, where that
 * deadlocks): a collection that falls due waits until fn returns.  fn
 * must not call GC_gcollect: that aborts naming the call. */
typedef void *(GC_CALLBACK *GC_fn_type)(void * /* client_data */);
GC_API void *GC_CALL GC_call_with_alloc_lock(GC_fn_type /* fn */,
                                             void * /* client_data */)
    GC_ATTR_NONNULL(1);

/* Print a summary of the collector's state on standard output.
 * spangc: its own statistics; the format is not bdwgc's. */
GC_API void GC_CALL GC_dump(void);

/* =====================================================================
 * Roots
 * ===================================================================== */

/* Scan [low, high) as a root area (memory the collector cannot find by
 * itself, such as malloc'ed or mmap'ed blocks holding pointers to the
 * collected heap).  Overlapping areas merge. */
GC_API void GC_CALL GC_add_roots(void * /* low_address */,
                                 void * /* high_address_plus_1 */);

/* Stop scanning the registered root areas that lie within [low, high). */
GC_API void GC_CALL GC_remove_roots(void * /* low_address */,
                                    void * /* high_address_plus_1 */);

/* Forget every root area added with GC_add_roots. */
GC_API void GC_CALL GC_clear_roots(void);

/* bdwgc: never scan [low, high), static data it would otherwise scan.
 * spangc: accepted, but the range is still scanned (only slower, never
 * wrong). */
GC_API void GC_CALL GC_exclude_static_roots(void * /* low_address */,
                                            void * /* high_address_plus_1 */);

/* bdwgc: also treat p + n as a pointer to an object p.
 * spangc: does nothing; every interior pointer counts already. */
GC_API void GC_CALL GC_register_displacement(size_t /* n */);

/* =====================================================================
 * Statistics
 *
 * The single-figure getters do not take the allocation lock;
 * GC_get_heap_usage_safe reads its figures together.
 * ===================================================================== */

/* Bytes of heap the collector holds from the system, excluding what has
 * been returned to it. */
GC_API size_t GC_CALL GC_get_heap_size(void);

/* Bytes of that heap not in use by objects (a lower bound). */
GC_API size_t GC_CALL GC_get_free_bytes(void);

/* Bytes of free heap returned to the operating system. */
GC_API size_t GC_CALL GC_get_unmapped_bytes(void);

/* Bytes allocated since the last collection. */
GC_API size_t GC_CALL GC_get_bytes_since_gc(void);

/* Bytes allocated since the program started (wraps around). */
GC_API size_t GC_CALL GC_get_total_bytes(void);

/* The five figures above at once, consistently; any pointer may be NULL. */
GC_API void GC_CALL GC_get_heap_usage_safe(GC_word * /* pheap_size */,
                                           GC_word * /* pfree_bytes */,
                                           GC_word * /* punmapped_bytes */,
                                           GC_word * /* pbytes_since_gc */,
                                           GC_word * /* ptotal_bytes */);

/* Bytes in all allocated blocks (objects and the unused space of their
 * blocks). */
GC_API size_t GC_CALL GC_get_memory_use(void);

/* =====================================================================
 * Finalization and disappearing links
 * ===================================================================== */

/* A finalizer: called as fn(obj, client_data) once obj is unreachable. */
typedef void (GC_CALLBACK *GC_finalization_proc)(void * /* obj */,
                                                 void * /* client_data */);

/* Register fn(obj, cd) to run when obj (the base of a heap object) becomes
 * unreachable; fn NULL removes the registration.  The previous finalizer
 * and its data are stored in *ofn and *ocd when those are not NULL.  An
 * object outside the heap is ignored (*ofn and *ocd become NULL).
 * Everything obj references, cd included, stays alive until fn has run.
 * The four variants differ in how finalizable objects order each other:
 *   GC_register_finalizer             a finalizable object reachable from
 *       another is finalized after it; cycles are never finalized;
 *   ..._ignore_self                   as above, but pointers from the
 *       object to itself do not count;
 *   ..._no_order                      no ordering: finalized as soon as
 *       unreachable from roots and ordinary objects;
 *   ..._unreachable                   run only once the object is
 *       unreachable even from other finalizable objects.
 * spangc: ..._unreachable orders like GC_register_finalizer, so its
 * finalizer never runs earlier than bdwgc's would, but may run later.  An
 * interior pointer as obj aborts with a message. */
GC_API void GC_CALL GC_register_finalizer(void * /* obj */,
                                          GC_finalization_proc /* fn */,
                                          void * /* cd */,
                                          GC_finalization_proc * /* ofn */,
                                          void ** /* ocd */)
    GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_ignore_self(
    void * /* obj */, GC_finalization_proc /* fn */, void * /* cd */,
    GC_finalization_proc * /* ofn */, void ** /* ocd */) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_no_order(
    void * /* obj */, GC_finalization_proc /* fn */, void * /* cd */,
    GC_finalization_proc * /* ofn */, void ** /* ocd */) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_unreachable(
    void * /* obj */, GC_finalization_proc /* fn */, void * /* cd */,
    GC_finalization_proc * /* ofn */, void ** /* ocd */) GC_ATTR_NONNULL(1);

/* The same for objects from the GC_debug_ calls.
 * spangc: identical to the plain calls. */
GC_API void GC_CALL GC_debug_register_finalizer(
    void * /* obj */, GC_finalization_proc /* fn */, void * /* cd */,
    GC_finalization_proc * /* ofn */, void ** /* ocd */) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_ignore_self(
    void * /* obj */, GC_finalization_proc /* fn */, void * /* cd */,
    GC_finalization_proc * /* ofn */, void ** /* ocd */) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_no_order(
    void * /* obj */, GC_finalization_proc /* fn */, void * /* cd */,
    GC_finalization_proc * /* ofn */, void ** /* ocd */) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_unreachable(
    void * /* obj */, GC_finalization_proc /* fn */, void * /* cd */,
    GC_finalization_proc * /* ofn */, void ** /* ocd */) GC_ATTR_NONNULL(1);

/* Run the finalizers that are ready, on the calling thread; returns how
 * many ran. */
GC_API int GC_CALL GC_invoke_finalizers(void);

/* Nonzero if some finalizers are ready to run. */
GC_API int GC_CALL GC_should_invoke_finalizers(void);

/* Disappearing link: set *link to NULL when obj (the base of a heap
 * object) becomes unreachable, before any finalizer decision is made.
 * *link itself does not keep obj alive only if it is hidden
 * (GC_HIDE_POINTER) or lies in memory that is not scanned.  The
 * registration ends with GC_unregister_disappearing_link, when *link has
 * been cleared, or when the object holding link dies.  Returns GC_SUCCESS,
 * GC_DUPLICATE (link already registered, now with obj) or GC_NO_MEMORY.
 * spangc: an obj that is not the base of a heap object, or a misaligned
 * link, aborts with a message. */
GC_API int GC_CALL GC_general_register_disappearing_link(
    void ** /* link */, const void * /* obj */)
    GC_ATTR_NONNULL(1) GC_ATTR_NONNULL(2);

/* As above, for the heap object that contains link itself: *link is
 * cleared when that object becomes unreachable.  spangc: a link outside
 * the heap aborts with a message. */
GC_API int GC_CALL GC_register_disappearing_link(void ** /* link */)
    GC_ATTR_NONNULL(1);

/* End the registration of link.  Returns 1 if it was registered, else 0. */
GC_API int GC_CALL GC_unregister_disappearing_link(void ** /* link */);

/* Move the registration of link to new_link (same target object).
 * Returns GC_SUCCESS, GC_NOT_FOUND (link not registered) or GC_DUPLICATE
 * (new_link registered already; never when new_link == link, which may be
 * used to test whether link is registered). */
GC_API int GC_CALL GC_move_disappearing_link(void ** /* link */,
                                             void ** /* new_link */)
    GC_ATTR_NONNULL(2);

/* =====================================================================
 * Hidden pointers and keeping objects alive
 * ===================================================================== */

/* A pointer disguised so that the collector does not see it (bitwise
 * complement), for use with disappearing links. */
typedef GC_word GC_hidden_pointer;
#define GC_HIDE_POINTER(p) (~(GC_hidden_pointer)(p))
#define GC_REVEAL_POINTER(p) ((void *)GC_HIDE_POINTER(p))
#if defined(I_HIDE_POINTERS) || defined(GC_I_HIDE_POINTERS)
# define HIDE_POINTER(p) GC_HIDE_POINTER(p)
# define REVEAL_POINTER(p) GC_REVEAL_POINTER(p)
#endif

/* GC_reachable_here(ptr): ptr is treated as live at this point of the
 * program (the compiler cannot drop it earlier).  Costs no call. */
#if defined(__GNUC__) && !defined(__INTEL_COMPILER)
# define GC_reachable_here(ptr) \
    __asm__ __volatile__(" " : : "X"(ptr) : "memory")
#else
  /* Other compilers: a call that does nothing with its argument, out of
   * the compiler's sight. */
  GC_API void GC_CALL GC_noop1(GC_word);
# define GC_reachable_here(ptr) GC_noop1((GC_word)(ptr))
#endif

/* =====================================================================
 * Warnings
 * ===================================================================== */

/* Warning hook: called as proc(msg, arg) where msg is a printf format with
 * one GC_word conversion.  Must not be NULL.  GC_ignore_warn_proc drops
 * every warning. */
typedef void (GC_CALLBACK *GC_warn_proc)(char * /* msg */, GC_word /* arg */);
GC_API void GC_CALL GC_set_warn_proc(GC_warn_proc /* p */) GC_ATTR_NONNULL(1);
GC_API GC_warn_proc GC_CALL GC_get_warn_proc(void);
GC_API void GC_CALLBACK GC_ignore_warn_proc(char *, GC_word);

/* =====================================================================
 * Threads and stacks
 * ===================================================================== */

/* The cold end of a thread's stack. */
struct GC_stack_base {
  void *mem_base; /* the stack's highest address (it grows down) */
#if defined(__e2k__) || defined(__ia64) || defined(__ia64__) \
    || defined(_M_IA64)
  void *reg_base; /* cold end of the register stack */
#endif
};

typedef void *(GC_CALLBACK *GC_stack_base_func)(
    struct GC_stack_base * /* sb */, void * /* arg */);

/* Call fn(sb, arg) with sb describing a point of the calling thread's
 * stack near this call; returns fn's result. */
GC_API void *GC_CALL GC_call_with_stack_base(GC_stack_base_func /* fn */,
                                             void * /* arg */)
    GC_ATTR_NONNULL(1);

/* Fill *sb with the cold end of the calling thread's stack.  Returns
 * GC_SUCCESS, or GC_UNIMPLEMENTED if it cannot be found. */
GC_API int GC_CALL GC_get_stack_base(struct GC_stack_base *)
    GC_ATTR_NONNULL(1);

/* Start the helper marker threads now instead of at the first collection.
 * spangc: starts them at its first collection anyway; the call is
 * accepted. */
GC_API void GC_CALL GC_start_mark_threads(void);

#ifdef GC_THREADS
/* Use the given signal to stop threads for collections (SIGPWR by
 * default, as bdwgc's on Linux; SPANGC_SUSPEND_SIGNAL in the environment
 * also sets it).  No effect after GC_init (a warning); a signal that
 * cannot do it (SIGKILL, SIGSTOP, SIGSEGV and the other fault signals,
 * glibc's own) aborts with a message.  GC_INIT applies GC_SIG_SUSPEND. */
GC_API void GC_CALL GC_set_suspend_signal(int);

/* bdwgc: the signal that resumes stopped threads.  spangc resumes them
 * without a signal: accepted and ignored.  GC_INIT applies
 * GC_SIG_THR_RESTART. */
GC_API void GC_CALL GC_set_thr_restart_signal(int);

/* Signal used to stop threads for a collection.  spangc keeps it
 * deliverable in registered threads whatever mask they set (its
 * pthread_sigmask, sigprocmask, sigaction... leave it alone), and a
 * handler the program installs for it runs for deliveries that are not
 * collections. */
GC_API int GC_CALL GC_get_suspend_signal(void);

/* Signal used to resume stopped threads.  spangc resumes them without a
 * signal, so this returns -1. */
GC_API int GC_CALL GC_get_thr_restart_signal(void);

/* bdwgc: allow threads to call GC_register_my_thread.
 * spangc: any thread may register at any time; this only initialises the
 * collector. */
GC_API void GC_CALL GC_allow_register_threads(void);

/* Register the calling thread so that its stack is scanned and it is
 * stopped for collections.  sb gives its stack's cold end.  Returns
 * GC_SUCCESS, GC_DUPLICATE if it was registered already, or GC_NO_MEMORY.
 * spangc: finds the stack by itself (sb is not used).  A thread is also
 * registered by its first allocation; threads from GC_pthread_create are
 * registered before their function runs. */
GC_API int GC_CALL GC_register_my_thread(const struct GC_stack_base *)
    GC_ATTR_NONNULL(1);

/* Nonzero if the calling thread is registered. */
GC_API int GC_CALL GC_thread_is_registered(void);

/* Unregister the calling thread: its stack is no longer scanned, and it
 * must not touch the collected heap until it registers again.  Returns
 * GC_SUCCESS.  Not allowed inside GC_do_blocking (spangc aborts). */
GC_API int GC_CALL GC_unregister_my_thread(void);
#endif /* GC_THREADS */

/* Run fn(client_data) in "blocking" state: the thread is not stopped by
 * collections, so fn may block for long, but fn must not touch the
 * collected heap or call GC_ functions (except GC_call_with_gc_active).
 * What the thread's stack held on entry is still scanned.  Returns fn's
 * result.  spangc: an unregistered caller is registered first. */
GC_API void *GC_CALL GC_do_blocking(GC_fn_type /* fn */,
                                    void * /* client_data */)
    GC_ATTR_NONNULL(1);

/* Inside GC_do_blocking: run fn(client_data) back in the normal state,
 * where it may use the collected heap.  Outside: just call fn.  Returns
 * fn's result. */
GC_API void *GC_CALL GC_call_with_gc_active(GC_fn_type /* fn */,
                                            void * /* client_data */)
    GC_ATTR_NONNULL(1);

/* =====================================================================
 * Pointer checks
 * ===================================================================== */

/* bdwgc: check that p and q point into the same heap object, and return
 * p (abort if not).
 * spangc: returns p without checking. */
GC_API void *GC_CALL GC_same_obj(void * /* p */, void * /* q */);

/* bdwgc: check that the location p is one the collector scans, and return
 * p (abort if not).
 * spangc: returns p without checking. */
GC_API void *GC_CALL GC_is_visible(void * /* p */);

/* Pointer arithmetic helpers.  With GC_DEBUG (and a compiler with
 * __typeof__), GC_PTR_ADD passes the result through GC_same_obj and
 * GC_PTR_STORE the target through GC_is_visible.
 * spangc: the increment forms are plain arithmetic even with GC_DEBUG, and
 * GC_PTR_STORE does not check the stored value (bdwgc checks both through
 * calls that spangc's libgc does not provide). */
#if defined(GC_DEBUG) && defined(__GNUC__)
# define GC_PTR_ADD3(x, n, type_of_result) \
    ((type_of_result)GC_same_obj((x) + (n), (x)))
# define GC_PTR_ADD(x, n) GC_PTR_ADD3(x, n, __typeof__(x))
#else
# define GC_PTR_ADD(x, n) ((x) + (n))
#endif
#define GC_PRE_INCR(x, n) ((x) += (n))
#define GC_POST_INCR(x) ((x)++)
#define GC_POST_DECR(x) ((x)--)
#ifdef GC_DEBUG
# define GC_PTR_STORE(p, q) \
    (*(void **)GC_is_visible((void *)(p)) = (void *)(q))
#else
# define GC_PTR_STORE(p, q) (*(void **)(p) = (void *)(q))
#endif

/* =====================================================================
 * GC_INIT()
 *
 * Portable programs call GC_INIT() from main before other GC_ calls.  Some
 * configuration macros, when defined on the command line, are applied
 * around GC_init():
 *   before: GC_DONT_EXPAND, GC_FORCE_UNMAP_ON_GCOLLECT, GC_DONT_GC or
 *           GC_MAX_RETRIES, GC_ALLOCD_BYTES_PER_FINALIZER (kept, no
 *           effect), GC_FREE_SPACE_DIVISOR, GC_FULL_FREQ, GC_TIME_LIMIT,
 *           GC_MAXIMUM_HEAP_SIZE;
 *   after:  GC_IGNORE_WARN, GC_INITIAL_HEAP_SIZE.
 * With GC_THREADS, GC_MARKERS (spangc's marker threads), GC_SIG_SUSPEND
 * and GC_SIG_THR_RESTART are applied before, too.
 * ===================================================================== */

#if defined(GC_SIG_SUSPEND) && defined(GC_THREADS)
# define GC_INIT_CONF_SUSPEND_SIGNAL GC_set_suspend_signal(GC_SIG_SUSPEND)
#else
# define GC_INIT_CONF_SUSPEND_SIGNAL (void)0
#endif
#if defined(GC_SIG_THR_RESTART) && defined(GC_THREADS)
# define GC_INIT_CONF_THR_RESTART_SIGNAL \
    GC_set_thr_restart_signal(GC_SIG_THR_RESTART)
#else
# define GC_INIT_CONF_THR_RESTART_SIGNAL (void)0
#endif

#ifdef GC_DONT_EXPAND
# define GC_INIT_CONF_DONT_EXPAND GC_set_dont_expand(1)
#else
# define GC_INIT_CONF_DONT_EXPAND (void)0
#endif
#ifdef GC_FORCE_UNMAP_ON_GCOLLECT
# define GC_INIT_CONF_FORCE_UNMAP_ON_GCOLLECT GC_set_force_unmap_on_gcollect(1)
#else
# define GC_INIT_CONF_FORCE_UNMAP_ON_GCOLLECT (void)0
#endif
#if defined(GC_DONT_GC)
# define GC_INIT_CONF_MAX_RETRIES (void)(GC_dont_gc = 1)
#elif defined(GC_MAX_RETRIES)
# define GC_INIT_CONF_MAX_RETRIES GC_set_max_retries(GC_MAX_RETRIES)
#else
# define GC_INIT_CONF_MAX_RETRIES (void)0
#endif
#ifdef GC_FREE_SPACE_DIVISOR
# define GC_INIT_CONF_FREE_SPACE_DIVISOR \
    GC_set_free_space_divisor(GC_FREE_SPACE_DIVISOR)
#else
# define GC_INIT_CONF_FREE_SPACE_DIVISOR (void)0
#endif
#ifdef GC_ALLOCD_BYTES_PER_FINALIZER
# define GC_INIT_CONF_ALLOCD_BYTES_PER_FINALIZER \
    GC_set_allocd_bytes_per_finalizer(GC_ALLOCD_BYTES_PER_FINALIZER)
#else
# define GC_INIT_CONF_ALLOCD_BYTES_PER_FINALIZER (void)0
#endif
/* Marker threads: spangc's marker count. */
#if defined(GC_MARKERS) && defined(GC_THREADS)
# define GC_INIT_CONF_MARKERS GC_set_markers_count(GC_MARKERS)
#else
# define GC_INIT_CONF_MARKERS (void)0
#endif
#ifdef GC_FULL_FREQ
# define GC_INIT_CONF_FULL_FREQ GC_set_full_freq(GC_FULL_FREQ)
#else
# define GC_INIT_CONF_FULL_FREQ (void)0
#endif
#ifdef GC_TIME_LIMIT
# define GC_INIT_CONF_TIME_LIMIT GC_set_time_limit(GC_TIME_LIMIT)
#else
# define GC_INIT_CONF_TIME_LIMIT (void)0
#endif
#ifdef GC_MAXIMUM_HEAP_SIZE
# define GC_INIT_CONF_MAXIMUM_HEAP_SIZE \
    GC_set_max_heap_size(GC_MAXIMUM_HEAP_SIZE)
#else
# define GC_INIT_CONF_MAXIMUM_HEAP_SIZE (void)0
#endif
#ifdef GC_IGNORE_WARN
# define GC_INIT_CONF_IGNORE_WARN GC_set_warn_proc(GC_ignore_warn_proc)
#else
# define GC_INIT_CONF_IGNORE_WARN (void)0
#endif
#ifdef GC_INITIAL_HEAP_SIZE
  /* Grow the heap to at least GC_INITIAL_HEAP_SIZE bytes. */
# define GC_INIT_CONF_INITIAL_HEAP_SIZE \
    { \
      size_t gc_init_heap_now_ = GC_get_heap_size(); \
      if (gc_init_heap_now_ < (GC_INITIAL_HEAP_SIZE)) \
        (void)GC_expand_hp((GC_INITIAL_HEAP_SIZE) - gc_init_heap_now_); \
    }
#else
# define GC_INIT_CONF_INITIAL_HEAP_SIZE (void)0
#endif

/* ==================================================================
 * The rest of bdwgc 8.2's gc.h interface.  libgc.so.1 exports all of it,
 * so that programs built against the stock headers start; where spangc
 * cannot do what bdwgc does, the comment says "spangc:" and what it does
 * instead (compat/bdwgc/README.md lists these in one place).
 * ================================================================== */

/* Collection events, reported to one callback in this order for every
 * collection: START, PRE_STOP_WORLD, POST_STOP_WORLD, MARK_START, MARK_END,
 * PRE_START_WORLD, POST_START_WORLD, RECLAIM_START, RECLAIM_END, END.
 * spangc: START and PRE_STOP_WORLD come before the world stops,
 * POST_STOP_WORLD and MARK_START while it is stopped; the six others are
 * reported together once marking is over and the world runs again (for
 * an explicit collection before GC_gcollect returns, otherwise on the
 * next allocation or collection of any thread), and RECLAIM_* bracket
 * nothing: sweeping is lazy.  The callback must not allocate. */
typedef enum {
  GC_EVENT_START,
  GC_EVENT_MARK_START,
  GC_EVENT_MARK_END,
  GC_EVENT_RECLAIM_START,
  GC_EVENT_RECLAIM_END,
  GC_EVENT_END,
  GC_EVENT_PRE_STOP_WORLD,
  GC_EVENT_POST_STOP_WORLD,
  GC_EVENT_PRE_START_WORLD,
  GC_EVENT_POST_START_WORLD,
  GC_EVENT_THREAD_SUSPENDED,
  GC_EVENT_THREAD_UNSUSPENDED
} GC_EventType;
typedef void(GC_CALLBACK *GC_on_collection_event_proc)(GC_EventType);
GC_API void GC_CALL GC_set_on_collection_event(GC_on_collection_event_proc);
GC_API GC_on_collection_event_proc GC_CALL GC_get_on_collection_event(void);

#if defined(GC_THREADS)
/* THREAD_SUSPENDED / THREAD_UNSUSPENDED with the pthread_t (as a pointer)
 * of each thread a collection stops.  spangc: reported for the threads
 * the layer knows (registered by GC_INIT, GC_register_my_thread or
 * GC_pthread_create, and not inside GC_do_blocking), at POST_STOP_WORLD
 * and PRE_START_WORLD time respectively. */
typedef void(GC_CALLBACK *GC_on_thread_event_proc)(GC_EventType,
                                                   void * /* thread_id */);
GC_API void GC_CALL GC_set_on_thread_event(GC_on_thread_event_proc);
GC_API GC_on_thread_event_proc GC_CALL GC_get_on_thread_event(void);
#endif

/* Marker threads (GC_MARKERS at GC_INIT): before initialisation. */
GC_API void GC_CALL GC_set_markers_count(unsigned);

GC_API void GC_CALL GC_set_non_gc_bytes(GC_word);
GC_API GC_word GC_CALL GC_get_non_gc_bytes(void);

/* Time limits of incremental steps: kept, not used (spangc: no
 * incremental marking). */
struct GC_timeval_s {
  unsigned long tv_ms;
  unsigned long tv_nsec;
};
GC_API void GC_CALL GC_set_time_limit_tv(struct GC_timeval_s);
GC_API struct GC_timeval_s GC_CALL GC_get_time_limit_tv(void);

/* Tuning knobs of bdwgc's heuristics: kept and reported, without effect
 * on spangc's pacing (spangc: GC_free_space_divisor is what counts). */
GC_API void GC_CALL GC_set_allocd_bytes_per_finalizer(GC_word);
GC_API GC_word GC_CALL GC_get_allocd_bytes_per_finalizer(void);
GC_API void GC_CALL GC_set_min_bytes_allocd(size_t);
GC_API size_t GC_CALL GC_get_min_bytes_allocd(void);
GC_API void GC_CALL GC_set_rate(int);
GC_API int GC_CALL GC_get_rate(void);
GC_API void GC_CALL GC_set_max_prior_attempts(int);
GC_API int GC_CALL GC_get_max_prior_attempts(void);

/* Total milliseconds of stopped world since the measurement started (0
 * before). */
GC_API void GC_CALL GC_start_performance_measurement(void);
GC_API unsigned long GC_CALL GC_get_full_gc_total_time(void);

/* spangc: the heap is never executable; GC_set_pages_executable(1) is
 * refused with a warning and the getter stays 0. */
GC_API void GC_CALL GC_set_pages_executable(int);
GC_API int GC_CALL GC_get_pages_executable(void);

/* While set, allocation never starts a collection (GC_gcollect still
 * collects). */
GC_API void GC_CALL GC_set_disable_automatic_collection(int);
GC_API int GC_CALL GC_get_disable_automatic_collection(void);

/* spangc handles fork() by itself; these are accepted and do nothing. */
GC_API void GC_CALL GC_atfork_prepare(void);
GC_API void GC_CALL GC_atfork_parent(void);
GC_API void GC_CALL GC_atfork_child(void);

/* spangc: does nothing (the heap lives as long as the process). */
GC_API void GC_CALL GC_deinit(void);

/* Stubborn objects are ordinary ones, as in bdwgc 8.2. */
GC_API GC_ATTR_DEPRECATED GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_stubborn(size_t);
GC_API GC_ATTR_DEPRECATED void GC_CALL GC_change_stubborn(const void *);
GC_API GC_ATTR_DEPRECATED GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc_stubborn(size_t, GC_EXTRA_PARAMS);
GC_API GC_ATTR_DEPRECATED void GC_CALL GC_debug_change_stubborn(const void *);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_malloc_replacement(size_t);
GC_API GC_ATTR_ALLOC_SIZE(2) void *GC_CALL
    GC_debug_realloc_replacement(void *, size_t);

/* Static exclusions are not used by spangc (scanning an excluded range
 * is slower, never wrong); clearing them is accepted. */
GC_API void GC_CALL GC_clear_exclusion_table(void);

/* The stop function GC_gcollect consults (asked once, before the
 * collection starts: spangc cannot abandon one half-way). */
GC_API void GC_CALL GC_set_stop_func(GC_stop_func) GC_ATTR_NONNULL(1);
GC_API GC_stop_func GC_CALL GC_get_stop_func(void);

GC_API size_t GC_CALL GC_get_expl_freed_bytes_since_gc(void);
GC_API size_t GC_CALL GC_get_obtained_from_os_bytes(void);

/* Statistics in one call.  The structure may grow at its end: a caller
 * passes the size it knows; fields the library does not know are set to
 * all ones.  Returns the bytes filled with known values. */
struct GC_prof_stats_s {
  GC_word heapsize_full;            /* heap bytes, unmapped ones included */
  GC_word free_bytes_full;          /* free bytes, unmapped ones included */
  GC_word unmapped_bytes;           /* as GC_get_unmapped_bytes() */
  GC_word bytes_allocd_since_gc;    /* as GC_get_bytes_since_gc() */
  GC_word allocd_bytes_before_gc;   /* total allocated before that */
  GC_word non_gc_bytes;             /* as GC_get_non_gc_bytes() */
  GC_word gc_no;                    /* as GC_get_gc_no() */
  GC_word markers_m1;               /* helper marker threads */
  GC_word bytes_reclaimed_since_gc; /* found free by the last collection */
  GC_word reclaimed_bytes_before_gc;/* reclaimed by the ones before it */
  GC_word expl_freed_bytes_since_gc;/* freed by GC_free since then */
  GC_word obtained_from_os_bytes;   /* memory obtained from the system */
};
GC_API size_t GC_CALL GC_get_prof_stats(struct GC_prof_stats_s *,
                                        size_t /* stats_sz */);
#ifdef GC_THREADS
GC_API size_t GC_CALL GC_get_prof_stats_unsafe(struct GC_prof_stats_s *,
                                               size_t /* stats_sz */);
#endif

/* The object size a request of i bytes gets, or (size_t)-1 past the
 * small sizes. */
GC_API size_t GC_CALL GC_get_size_map_at(int i);

/* Kept and reported; spangc tracks written pages with the kernel and
 * needs no GC_ptr_store_and_dirty calls. */
GC_API void GC_CALL GC_set_manual_vdb_allowed(int);
GC_API int GC_CALL GC_get_manual_vdb_allowed(void);

#define GC_PROTECTS_POINTER_HEAP 1
#define GC_PROTECTS_PTRFREE_HEAP 2
#define GC_PROTECTS_STATIC_DATA 4
#define GC_PROTECTS_STACK 8
#define GC_PROTECTS_NONE 0
/* spangc write-protects nothing: GC_PROTECTS_NONE. */
GC_API int GC_CALL GC_incremental_protection_needs(void);
/* A step of collection work (as GC_collect_a_little). */
GC_API void GC_CALL GC_start_incremental_collection(void);

/* Long links: cleared when the object is reclaimed.  spangc: cleared as
 * the short ones are, when the object becomes unreachable, before its
 * finalizer (if any) runs; a slot registered as both short and long link
 * holds one registration. */
GC_API int GC_CALL GC_register_long_link(void ** /* link */,
                                         const void * /* obj */)
    GC_ATTR_NONNULL(1) GC_ATTR_NONNULL(2);
GC_API int GC_CALL GC_move_long_link(void **, void **)
    GC_ATTR_NONNULL(2);
GC_API int GC_CALL GC_unregister_long_link(void **);

/* Toggle references: before every collection the callback decides, for
 * each registered object, whether the table holds it strongly (a root),
 * weakly (cleared when it dies) or not at all (dropped). */
typedef enum {
  GC_TOGGLE_REF_DROP,
  GC_TOGGLE_REF_STRONG,
  GC_TOGGLE_REF_WEAK
} GC_ToggleRefStatus;
typedef GC_ToggleRefStatus(GC_CALLBACK *GC_toggleref_func)(void * /* obj */);
GC_API void GC_CALL GC_set_toggleref_func(GC_toggleref_func);
GC_API GC_toggleref_func GC_CALL GC_get_toggleref_func(void);
GC_API int GC_CALL GC_toggleref_add(void * /* obj */, int /* is_strong */)
    GC_ATTR_NONNULL(1);

/* Called with each object whose finalizer is about to run.  spangc: just
 * before the finalizer runs rather than when it is queued, and only for
 * finalizers registered while a proc was set. */
typedef void(GC_CALLBACK *GC_await_finalize_proc)(void * /* obj */);
GC_API void GC_CALL GC_set_await_finalize_proc(GC_await_finalize_proc);
GC_API GC_await_finalize_proc GC_CALL GC_get_await_finalize_proc(void);


/* Where GC_log_printf writes (default: stderr). */
GC_API void GC_CALL GC_set_log_fd(int);

/* Called with the message before the library aborts. */
typedef void(GC_CALLBACK *GC_abort_func)(const char * /* msg */);
GC_API void GC_CALL GC_set_abort_func(GC_abort_func) GC_ATTR_NONNULL(1);
GC_API GC_abort_func GC_CALL GC_get_abort_func(void);
/* Reports that memory ran out and ends the process. */
GC_API void GC_CALL GC_abort_on_oom(void);

#ifdef GC_THREADS
/* The lock of GC_call_with_alloc_lock, not reentrant.  spangc: it
 * excludes the other holders; a collection waits for it only if it is
 * held when the collection is asked for. */
GC_API void GC_CALL GC_alloc_lock(void);
GC_API void GC_CALL GC_alloc_unlock(void);
#else
# define GC_alloc_lock() (void)0
# define GC_alloc_unlock() (void)0
#endif

/* spangc: signal handlers never run on an alternate stack of interest
 * to the collector (its handler does not scan them); accepted, no
 * effect. */
#ifdef GC_THREADS
GC_API void GC_CALL GC_register_altstack(void *, GC_word, void *, GC_word);
#endif

#ifdef GC_THREADS
/* spangc: not supported (the world stops only for a collection);
 * both only warn. */
GC_API void GC_CALL GC_stop_world_external(void);
GC_API void GC_CALL GC_start_world_external(void);
#endif

/* The calling thread's stack base and a handle for GC_set_stackbottom.
 * spangc finds stacks by itself: GC_set_stackbottom is accepted and has
 * no effect. */
GC_API void *GC_CALL GC_get_my_stackbottom(struct GC_stack_base *)
    GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_set_stackbottom(void *, const struct GC_stack_base *)
    GC_ATTR_NONNULL(2);

/* Pointer arithmetic that checks that the result stays inside the
 * object: GC_same_obj_print_proc is called when it does not. */
GC_API void *GC_CALL GC_pre_incr(void **, ptrdiff_t) GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_post_incr(void **, ptrdiff_t) GC_ATTR_NONNULL(1);
/* p itself; calls GC_is_valid_displacement_print_proc if p points into
 * the heap but not into an object. */
GC_API void *GC_CALL GC_is_valid_displacement(void *);
GC_API void(GC_CALLBACK *GC_same_obj_print_proc)(void *, void *);
GC_API void(GC_CALLBACK *GC_is_valid_displacement_print_proc)(void *);
GC_API void(GC_CALLBACK *GC_is_visible_print_proc)(void *);

GC_API void GC_CALL GC_dump_named(const char *);
GC_API void GC_CALL GC_dump_regions(void);
GC_API void GC_CALL GC_dump_finalization(void);

/* spangc: scans the writable segments of every loaded object and has no
 * per-segment filter; the callback is kept and never called. */
typedef int(GC_CALLBACK *GC_has_static_roots_func)(const char *, void *,
                                                   size_t);
GC_API void GC_CALL
    GC_register_has_static_roots_callback(GC_has_static_roots_func);


/* A compound statement, as in bdwgc, so that both "GC_INIT();" and a bare
 * "GC_INIT()" are valid statements. */
#define GC_INIT()                               \
  {                                             \
    GC_INIT_CONF_DONT_EXPAND;                   \
    GC_INIT_CONF_FORCE_UNMAP_ON_GCOLLECT;       \
    GC_INIT_CONF_MAX_RETRIES;                   \
    GC_INIT_CONF_ALLOCD_BYTES_PER_FINALIZER;    \
    GC_INIT_CONF_FREE_SPACE_DIVISOR;            \
    GC_INIT_CONF_FULL_FREQ;                     \
    GC_INIT_CONF_TIME_LIMIT;                    \
    GC_INIT_CONF_MARKERS;                       \
    GC_INIT_CONF_SUSPEND_SIGNAL;                \
    GC_INIT_CONF_THR_RESTART_SIGNAL;            \
    GC_INIT_CONF_MAXIMUM_HEAP_SIZE;             \
    GC_init();                                  \
    GC_INIT_CONF_IGNORE_WARN;                   \
    GC_INIT_CONF_INITIAL_HEAP_SIZE;             \
  }

#ifdef __cplusplus
} /* extern "C" */
#endif

/* With thread support, declare the GC_pthread_* wrappers and redirect the
 * pthread calls to them. */
#ifdef GC_PTHREADS
# include "gc_pthread_redirects.h"
#endif

#endif /* GC_H */
