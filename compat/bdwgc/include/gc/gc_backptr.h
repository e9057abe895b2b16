/*
 * gc/gc_backptr.h -- back-pointer queries of bdwgc's debugging builds.
 *
 * These need a collector built to keep back pointers (bdwgc's
 * KEEP_BACK_PTRS), which Debian's libgc1 is not; like it, spangc's
 * libgc.so.1 does not define them: a program calling them does not link
 * against either library.  The declarations are here so that code that
 * includes the header and calls them only under its own configuration
 * switch compiles.
 */
#ifndef GC_BACKPTR_H
#define GC_BACKPTR_H

#ifndef GC_H
# include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* What GC_get_back_ptr_info found to reference dest. */
typedef enum {
  GC_UNREFERENCED,  /* nothing known */
  GC_NO_SPACE,      /* dest was not allocated by the debugging allocator */
  GC_REFD_FROM_ROOT,/* a root at *base_p */
  GC_REFD_FROM_REG, /* a register */
  GC_REFD_FROM_HEAP,/* the object at *base_p, at *offset_p */
  GC_FINALIZER_REFD /* its finalizer */
} GC_ref_kind;

GC_API GC_ref_kind GC_CALL GC_get_back_ptr_info(void * /* dest */,
                                                void ** /* base_p */,
                                                size_t * /* offset_p */)
    GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_generate_random_heap_address(void);
GC_API void *GC_CALL GC_generate_random_valid_address(void);
GC_API void GC_CALL GC_generate_random_backtrace(void);
GC_API void GC_CALL GC_print_backtrace(void *) GC_ATTR_NONNULL(1);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GC_BACKPTR_H */
