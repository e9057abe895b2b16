/*
 * gc/javaxfc.h -- calls a Java runtime needs beyond gc.h, for spangc's
 * libgc.so.1.
 */
#ifndef GC_JAVAXFC_H
#define GC_JAVAXFC_H

#ifndef GC_H
# include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the finalizers still pending (Java's runFinalizersOnExit).
 * spangc: it cannot list the finalizers of objects that are still
 * reachable; it collects and runs every finalizer that becomes ready,
 * until a collection readies none. */
GC_API void GC_CALL GC_finalize_all(void);

#ifdef GC_THREADS
/* Suspending one thread from another.  spangc: not supported (its world
 * stops only for collections): GC_suspend_thread and GC_resume_thread
 * warn and do nothing, GC_is_thread_suspended returns 0 (as bdwgc does
 * for a thread it does not know). */
# ifndef GC_SUSPEND_THREAD_ID
#  define GC_SUSPEND_THREAD_ID void *
# endif
GC_API void GC_CALL GC_suspend_thread(GC_SUSPEND_THREAD_ID);
GC_API void GC_CALL GC_resume_thread(GC_SUSPEND_THREAD_ID);
GC_API int GC_CALL GC_is_thread_suspended(GC_SUSPEND_THREAD_ID);
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GC_JAVAXFC_H */
