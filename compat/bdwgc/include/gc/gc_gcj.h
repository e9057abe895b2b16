/*
 * gc/gc_gcj.h -- objects laid out as the gcj (GNU Java) runtime laid them
 * out, for spangc's libgc.so.1.
 *
 * The first word of such an object points to its class's method table
 * (its "vtable"); the second word of that table is a mark descriptor
 * (gc_mark.h's encoding) saying where the object's pointers are.  The
 * collector reads it for every object it marks, so the table must stay
 * valid (and reachable, if it is itself a heap object) while the object
 * lives.  An object whose first word is still 0 is not scanned.
 */
#ifndef GC_GCJ_H
#define GC_GCJ_H

#ifndef GC_H
# include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Sets up gcj allocation; call it once, after GC_INIT.  mp is the mark
 * procedure (a GC_mark_proc) that the index mp_index (below
 * GC_RESERVED_MARK_PROCS; GC_GCJ_RESERVED_MARK_PROC_INDEX is the usual
 * choice) stands for in descriptors made with GC_MAKE_PROC; it may be 0.
 * spangc: indices 1 and 2 are its own; asking for them aborts. */
GC_API void GC_CALL GC_init_gcj_malloc(int /* mp_index */,
                                       void * /* mp, a GC_mark_proc */);

/* lb zeroed bytes whose first word is set to vtable_ptr. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_gcj_malloc(size_t /* lb */, void * /* vtable_ptr */);
/* The same; spangc has no debugging objects (no header is added). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_gcj_malloc(size_t /* lb */, void * /* vtable_ptr */,
                        GC_EXTRA_PARAMS);
/* The same; the program keeps a pointer near the object's start. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_gcj_malloc_ignore_off_page(size_t /* lb */, void * /* vtable_ptr */);

/* The kind numbers of gcj objects (for GC_generic_malloc and friends);
 * set by GC_init_gcj_malloc. */
GC_API int GC_gcj_kind;
GC_API int GC_gcj_debug_kind;

#ifdef GC_DEBUG
# define GC_GCJ_MALLOC(s, d) GC_debug_gcj_malloc(s, d, GC_EXTRAS)
# define GC_GCJ_MALLOC_IGNORE_OFF_PAGE(s, d) \
    GC_debug_gcj_malloc(s, d, GC_EXTRAS)
#else
# define GC_GCJ_MALLOC(s, d) GC_gcj_malloc(s, d)
# define GC_GCJ_MALLOC_IGNORE_OFF_PAGE(s, d) \
    GC_gcj_malloc_ignore_off_page(s, d)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GC_GCJ_H */
