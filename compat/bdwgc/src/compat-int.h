/*
 * compat-int.h — what the files of the bdwgc layer share.
 *
 * The layer (libgc.so.1) is bdwgc's interface over spangc's native calls:
 * each GC_ call is a few lines that translate arguments, results and
 * error conventions.  State of its own is small: bdwgc's public variables
 * (which programs may assign directly, so the layer reads them where they
 * matter), the kind table mapping bdwgc kind numbers to spangc kinds, the
 * callbacks, and the roots added with GC_add_roots (for GC_clear_roots).
 *
 * Locks (leaves, taken with compat_lock): the kind table's growth, the
 * root list and GC_call_with_alloc_lock's lock (control.c), the thread
 * records (threads.c).
 */
#ifndef SPANGC_COMPAT_INT_H
#define SPANGC_COMPAT_INT_H

#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "gc/gc.h"
#include "gc/gc_mark.h"
#include "gc/gc_typed.h"
#include "gc/gc_inline.h"
#include "spangc.h"

/* Exported as data by bdwgc 8.2 (older headers declared it; programs
 * still assign it), though gc_mark.h now offers GC_set_push_other_roots. */
GC_API void (*GC_push_other_roots)(void);

#define COMPAT_LIKELY(x) __builtin_expect(!!(x), 1)
#define COMPAT_UNLIKELY(x) __builtin_expect(!!(x), 0)

extern int compat_initialised; /* atomic */
void compat_init(void);
static inline void compat_ensure_init(void) {
  if (COMPAT_UNLIKELY(!__atomic_load_n(&compat_initialised, __ATOMIC_ACQUIRE)))
    compat_init();
}

/* Lock m; a registered thread waits inside a blocking region, so that a
 * collection never waits for it while m's holder is stopped. */
void compat_lock(pthread_mutex_t *m);

/* Aborts with "libgc (spangc): <message>". */
_Noreturn void compat_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Through the program's warn proc (GC_set_warn_proc). */
void compat_warn(const char *msg, GC_word arg);

/* Bytes added to every request: 1 while GC_all_interior_pointers is set,
 * so that a pointer just past an object's end still points into it. */
extern size_t compat_extra;

/* Finalizers run by the allocating thread (bdwgc's default), unless
 * GC_finalize_on_demand; called on every allocation. */
void compat_finalize_slow(void);
static inline void compat_maybe_finalize(void) {
  if (COMPAT_UNLIKELY(sgc_finalizers_ready()))
    compat_finalize_slow();
}

/* An allocation returned NULL: what the oom function says. */
void *compat_out_of_memory(size_t lb);

/* bdwgc kind number -> spangc kind and uncollectability. */
#define COMPAT_MAX_KINDS 16
typedef struct compat_kind {
  int sgc_kind;
  int uncollectable;
} compat_kind;
extern compat_kind compat_kinds[COMPAT_MAX_KINDS];
/* The spangc kind of pointer-free objects handed out in lists by
 * GC_generic_malloc_many: only the first word (the list link) is scanned,
 * so the list keeps its objects until the program takes them. */
extern int compat_link_kind;
extern unsigned compat_nkinds; /* atomic */
void *compat_alloc_kind(size_t lb, int k);

/* Collections counted by the root callback (GC_gc_no). */
void compat_root_callback(void);
int compat_collect_hook(int forced);
void compat_sync_settings(void);

#endif
