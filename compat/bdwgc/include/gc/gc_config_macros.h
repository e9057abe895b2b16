/*
 * gc/gc_config_macros.h -- compiler and thread configuration for spangc's
 * bdwgc-compatible headers.
 *
 * Part of spangc's drop-in replacement for the Boehm-Demers-Weiser
 * collector (libgc.so.1, bdwgc 8.2.2 ABI).  Normally reached through
 * <gc/gc.h>; it is harmless to include it directly.
 *
 * What it settles:
 *   - GC_API / GC_CALL / GC_CALLBACK, the decorations of every declaration;
 *   - the GC_ATTR_* attribute shorthands (malloc, alloc_size, nonnull, ...);
 *   - whether thread support is on: GC_THREADS (or GC_LINUX_THREADS /
 *     LINUX_THREADS) turns on GC_PTHREADS, which makes <gc/gc.h> declare the
 *     GC_pthread_* wrappers and redirect the pthread calls to them.
 *
 * Only x86-64 (and other LP64 / ILP32) Linux with gcc or clang is targeted;
 * the many other platforms bdwgc knows about are not recognised here.
 */
#ifndef SPANGC_GC_CONFIG_MACROS_H
#define SPANGC_GC_CONFIG_MACROS_H

#include <stddef.h> /* size_t, ptrdiff_t, offsetof */

/* GC_GNUC_PREREQ(major, minor): true when compiled by GCC (or a compiler
 * claiming to be GCC, such as clang) of at least that version. */
#if defined(__GNUC__) && defined(__GNUC_MINOR__)
# define GC_GNUC_PREREQ(major, minor) \
    ((__GNUC__ << 16) + __GNUC_MINOR__ >= ((major) << 16) + (minor))
#else
# define GC_GNUC_PREREQ(major, minor) 0
#endif

/* ---- Threads ----------------------------------------------------------
 * The client asks for thread support by defining GC_THREADS before the
 * first GC header (the older spellings GC_LINUX_THREADS and LINUX_THREADS
 * are accepted too).  GC_PTHREADS is derived from that and cannot be
 * requested on its own, as in bdwgc. */
#if defined(LINUX_THREADS) && !defined(GC_LINUX_THREADS)
# define GC_LINUX_THREADS
#endif
#if defined(GC_LINUX_THREADS) && !defined(GC_THREADS)
# define GC_THREADS
#endif
#if defined(GC_THREADS) && defined(__linux__) && !defined(GC_LINUX_THREADS)
# define GC_LINUX_THREADS
#endif

#undef GC_PTHREADS
#ifdef GC_THREADS
# define GC_PTHREADS
# ifndef _REENTRANT
#   define _REENTRANT 1
# endif
#endif

#ifdef GC_PTHREADS
  /* pthread_exit is wrapped (GC_pthread_exit), and never returns. */
# if !defined(GC_HAVE_PTHREAD_EXIT) && !defined(__ANDROID__)
#   define GC_HAVE_PTHREAD_EXIT
#   if GC_GNUC_PREREQ(2, 7)
#     define GC_PTHREAD_EXIT_ATTRIBUTE __attribute__((__noreturn__))
#   else
#     define GC_PTHREAD_EXIT_ATTRIBUTE
#   endif
# endif
  /* pthread_cancel is redirected to GC_pthread_cancel where pthread_exit
   * is (as bdwgc does on Linux); define GC_NO_PTHREAD_CANCEL to leave it
   * alone.  A cancelled thread is forgotten by spangc through its
   * thread-exit hook either way. */
# if !defined(GC_HAVE_PTHREAD_EXIT) && !defined(GC_NO_PTHREAD_CANCEL)
#   define GC_NO_PTHREAD_CANCEL
# endif
#endif

/* ---- Declaration decorations ------------------------------------------
 * GC_API starts every exported declaration.  The library is built with
 * hidden visibility by default, so the attribute keeps these names
 * exported; for a client it changes nothing.  A client (or the library)
 * may predefine GC_API, GC_CALL or GC_CALLBACK. */
#ifndef GC_API
# if defined(__GNUC__) && !defined(GC_NO_VISIBILITY)
#   define GC_API extern __attribute__((__visibility__("default")))
# else
#   define GC_API extern
# endif
#endif
#ifndef GC_CALL
# define GC_CALL             /* the default calling convention */
#endif
#ifndef GC_CALLBACK
# define GC_CALLBACK GC_CALL /* convention of client-supplied callbacks */
#endif

/* ---- Attribute shorthands ----------------------------------------------
 * Each expands to nothing on a compiler that lacks the attribute. */
#ifndef GC_ATTR_MALLOC
# if defined(GC_OOM_FUNC_RETURNS_ALIAS)
    /* the out-of-memory hook may hand back an existing object */
#   define GC_ATTR_MALLOC
# elif GC_GNUC_PREREQ(3, 1)
#   define GC_ATTR_MALLOC __attribute__((__malloc__))
# else
#   define GC_ATTR_MALLOC
# endif
#endif

#ifndef GC_ATTR_ALLOC_SIZE
# undef GC_ATTR_CALLOC_SIZE
# if defined(__clang__)
#   if defined(__has_attribute)
#     if __has_attribute(__alloc_size__)
#       define GC_ATTR_ALLOC_SIZE(argnum) \
          __attribute__((__alloc_size__(argnum)))
#       define GC_ATTR_CALLOC_SIZE(n, s) __attribute__((__alloc_size__(n, s)))
#     endif
#   endif
# elif GC_GNUC_PREREQ(4, 3) && !defined(__ICC)
#   define GC_ATTR_ALLOC_SIZE(argnum) __attribute__((__alloc_size__(argnum)))
#   define GC_ATTR_CALLOC_SIZE(n, s) __attribute__((__alloc_size__(n, s)))
# endif
# ifndef GC_ATTR_ALLOC_SIZE
#   define GC_ATTR_ALLOC_SIZE(argnum)
# endif
#endif
#ifndef GC_ATTR_CALLOC_SIZE
# define GC_ATTR_CALLOC_SIZE(n, s)
#endif

#ifndef GC_ATTR_NONNULL
# if GC_GNUC_PREREQ(4, 0)
#   define GC_ATTR_NONNULL(argnum) __attribute__((__nonnull__(argnum)))
# else
#   define GC_ATTR_NONNULL(argnum)
# endif
#endif

#ifndef GC_ATTR_CONST
# if GC_GNUC_PREREQ(4, 0)
#   define GC_ATTR_CONST __attribute__((__const__))
# else
#   define GC_ATTR_CONST
# endif
#endif

/* The public variables are marked deprecated (use the setters and
 * getters), as in bdwgc; the mark is dropped when building the library. */
#ifndef GC_ATTR_DEPRECATED
# if defined(GC_BUILD)
#   define GC_ATTR_DEPRECATED
# elif GC_GNUC_PREREQ(4, 0)
#   define GC_ATTR_DEPRECATED __attribute__((__deprecated__))
# else
#   define GC_ATTR_DEPRECATED
# endif
#endif

/* ---- C++ helpers (used by C++ wrappers written against bdwgc) ---------- */
#ifdef __cplusplus
# ifndef GC_ATTR_EXPLICIT
#   if __cplusplus >= 201103L && !defined(__clang__)
#     define GC_ATTR_EXPLICIT explicit
#   else
#     define GC_ATTR_EXPLICIT
#   endif
# endif
# ifndef GC_NOEXCEPT
#   if __cplusplus >= 201103L
#     define GC_NOEXCEPT noexcept
#   else
#     define GC_NOEXCEPT throw()
#   endif
# endif
#endif

#endif /* SPANGC_GC_CONFIG_MACROS_H */
