/*
 * gc/gc_pthread_redirects.h -- spangc's thread wrappers with bdwgc's names.
 *
 * Reached from <gc/gc.h> when GC_THREADS is defined; including it directly
 * includes <gc/gc.h> first.  It declares the GC_pthread_* and GC_dlopen
 * wrappers and, unless GC_NO_THREAD_REDIRECTS (or GC_USE_LD_WRAP) is
 * defined, redirects the corresponding names to them with macros, so that
 * a program's own calls go through spangc:
 *
 *   pthread_create   the new thread is registered with spangc before its
 *                    start routine runs, and its argument stays reachable
 *                    in between;
 *   pthread_join     waits without holding up collections (the caller
 *                    is in blocking state meanwhile);
 *   pthread_detach,  as the system calls; spangc forgets a thread when it
 *   pthread_exit     exits, however it exits;
 *   pthread_sigmask  the signal spangc stops threads with
 *                    (GC_get_suspend_signal) is never blocked, whatever
 *                    the mask asks, in any thread (libgc.so.1's own
 *                    pthread_sigmask does the same for registered
 *                    threads without the redirect);
 *   dlopen           the new library's data is scanned from the next
 *                    collection on.
 *
 *   pthread_cancel   as the system call (unless GC_NO_PTHREAD_CANCEL).
 *
 * Define GC_NO_DLOPEN or GC_NO_PTHREAD_SIGMASK to leave dlopen or
 * pthread_sigmask alone.  With GC_PTHREAD_REDIRECTS_ONLY only the macros
 * are produced, not the declarations.
 */
#ifndef GC_PTHREAD_REDIRECTS_H
#define GC_PTHREAD_REDIRECTS_H

#ifndef GC_H
# include "gc.h" /* declares the redirects itself when GC_THREADS is on */
#endif

#ifdef GC_PTHREADS

#ifndef GC_PTHREAD_REDIRECTS_ONLY

/* The system declarations come first, untouched by the macros below. */
# include <pthread.h>
# ifndef GC_NO_DLOPEN
#   include <dlfcn.h>
# endif
# ifndef GC_NO_PTHREAD_SIGMASK
#   include <signal.h>
# endif

# ifdef __cplusplus
extern "C" {
# endif

# ifndef GC_NO_DLOPEN
/* dlopen(path, mode), with the collector aware of the new library. */
GC_API void *GC_dlopen(const char * /* path */, int /* mode */);
# endif

# ifndef GC_NO_PTHREAD_SIGMASK
  /* Declared only where <signal.h> provides sigset_t. */
#   if defined(GC_PTHREAD_SIGMASK_NEEDED) || defined(_BSD_SOURCE) \
       || defined(_GNU_SOURCE) \
       || (defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 199506L) \
       || (defined(_XOPEN_SOURCE) && _XOPEN_SOURCE >= 500)
/* pthread_sigmask that keeps spangc's stop signal deliverable. */
GC_API int GC_pthread_sigmask(int /* how */, const sigset_t *,
                              sigset_t * /* oset */);
#   endif
# endif

# ifndef GC_PTHREAD_CREATE_CONST
#   define GC_PTHREAD_CREATE_CONST const /* qualifier of the attr argument */
# endif

/* The thread type of javaxfc.h's calls. */
# ifndef GC_SUSPEND_THREAD_ID
#   define GC_SUSPEND_THREAD_ID pthread_t
# endif

/* pthread_create whose thread is registered with spangc from its start. */
GC_API int GC_pthread_create(pthread_t *,
                             GC_PTHREAD_CREATE_CONST pthread_attr_t *,
                             void *(*)(void *), void * /* arg */);

/* pthread_join (waiting in blocking state) and pthread_detach. */
GC_API int GC_pthread_join(pthread_t, void ** /* retval */);
GC_API int GC_pthread_detach(pthread_t);

# ifndef GC_NO_PTHREAD_CANCEL
/* pthread_cancel. */
GC_API int GC_pthread_cancel(pthread_t);
# endif

# if defined(GC_HAVE_PTHREAD_EXIT) && !defined(GC_PTHREAD_EXIT_DECLARED)
#   define GC_PTHREAD_EXIT_DECLARED
/* pthread_exit; spangc forgets the thread as it exits. */
GC_API void GC_pthread_exit(void *) GC_PTHREAD_EXIT_ATTRIBUTE;
# endif

# ifdef __cplusplus
} /* extern "C" */
# endif

#endif /* !GC_PTHREAD_REDIRECTS_ONLY */

#if !defined(GC_NO_THREAD_REDIRECTS) && !defined(GC_USE_LD_WRAP)
  /* A system header may define some of these as macros: replace them. */
# undef pthread_create
# define pthread_create GC_pthread_create
# undef pthread_join
# define pthread_join GC_pthread_join
# undef pthread_detach
# define pthread_detach GC_pthread_detach
# ifndef GC_NO_PTHREAD_CANCEL
#   undef pthread_cancel
#   define pthread_cancel GC_pthread_cancel
# endif
# ifdef GC_HAVE_PTHREAD_EXIT
#   undef pthread_exit
#   define pthread_exit GC_pthread_exit
# endif
# ifndef GC_NO_PTHREAD_SIGMASK
#   undef pthread_sigmask
#   define pthread_sigmask GC_pthread_sigmask
# endif
# ifndef GC_NO_DLOPEN
#   undef dlopen
#   define dlopen GC_dlopen
# endif
#endif /* !GC_NO_THREAD_REDIRECTS && !GC_USE_LD_WRAP */

#endif /* GC_PTHREADS */

#endif /* GC_PTHREAD_REDIRECTS_H */
