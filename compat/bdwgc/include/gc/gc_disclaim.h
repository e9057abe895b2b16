/*
 * gc/gc_disclaim.h -- callbacks on objects about to be reclaimed, for
 * spangc's libgc.so.1.
 *
 * spangc: its collector has no callback at reclaim time, so both calls
 * are built on its finalizers (unordered ones, which keep what the object
 * references alive until the callback ran):
 *   - the callback runs where finalizers run (on a thread that allocates,
 *     or in GC_invoke_finalizers with GC_finalize_on_demand), after the
 *     collection that found the object unreachable, not during it;
 *   - the object's memory is reclaimed by a later collection (if the
 *     callback did not make it reachable again);
 *   - what the object references is always kept for the callback, as if
 *     mark_from_all were nonzero.
 */
#ifndef GC_DISCLAIM_H
#define GC_DISCLAIM_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets up GC_finalized_malloc; call it once, after GC_INIT. */
GC_API void GC_CALL GC_init_finalized_malloc(void);

/* Asked about each object of a kind that became unreachable: nonzero
 * keeps the object for another cycle. */
typedef int(GC_CALLBACK *GC_disclaim_proc)(void * /* obj */);

/* proc is asked about every object of kind that is allocated afterwards
 * (spangc: objects allocated before the call are not covered).  GC_free
 * frees an object without asking. */
GC_API void GC_CALL GC_register_disclaim_proc(int /* kind */,
                                              GC_disclaim_proc /* proc */,
                                              int /* mark_from_all */)
    GC_ATTR_NONNULL(2);

/* What GC_finalized_malloc calls: proc(obj, cd). */
struct GC_finalizer_closure {
  GC_finalization_proc proc;
  void *cd;
};

/* size bytes (zeroed) that fc->proc is called on once they become
 * unreachable; the object is then reclaimed (proc must not make it
 * reachable again).  fc must stay valid until then; if it is a heap
 * object it is kept alive by the object.  The object starts one word
 * after its base (GC_base returns that word's address) and GC_size is a
 * word more than asked for. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_finalized_malloc(size_t /* size */,
                        const struct GC_finalizer_closure * /* fc */)
    GC_ATTR_NONNULL(2);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GC_DISCLAIM_H */
