/*
 * gc/gc_version.h -- version numbers of spangc's bdwgc-compatible headers.
 *
 * The numbers name the bdwgc release whose interface (names, prototypes,
 * macro values, data layouts) these headers reproduce: 8.2.2.  They are not
 * spangc's own version.  GC_get_version() reports the same triple from the
 * library at run time.
 *
 * A client that wants to know whether it was compiled against spangc rather
 * than the original collector can test SPANGC_BDWGC_COMPAT.
 */
#ifndef SPANGC_GC_VERSION_H
#define SPANGC_GC_VERSION_H

#define SPANGC_BDWGC_COMPAT 1

#if defined(GC_VERSION_MAJOR)
  /* Predefined by the build: it must agree with the interface we provide. */
# if GC_VERSION_MAJOR != 8 || GC_VERSION_MINOR != 2 || GC_VERSION_MICRO != 2
#   error "spangc's gc.h provides the bdwgc 8.2.2 interface; GC_VERSION_* disagree"
# endif
#else
# define GC_VERSION_MAJOR 8
# define GC_VERSION_MINOR 2
# define GC_VERSION_MICRO 2
#endif

#endif /* SPANGC_GC_VERSION_H */
