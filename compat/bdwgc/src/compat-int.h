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
 * Locks: every lock of the layer is an sgc_mutex (sgc_rmutex for the
 * recursive allocation lock) ranked in the runtime's one table,
 * src/lockrank.h, among the core's locks (docs/design.md section 2): the
 * initialisation, the toggle-ref table, the allocation lock and the root
 * list come before every core lock (each is held around calls into the
 * core); gcj's set-up, the kind table's growth and the thread records sit
 * between the core's (they are held around kind_lock and threads_lock and
 * waited for with compat_lock, which takes world.mutex after them); the
 * debugging allocator's dbg.lock is a leaf after the core's (the reclaim
 * hook takes it in any sweep).  The debug build checks the order.
 */
#ifndef SPANGC_COMPAT_INT_H
#define SPANGC_COMPAT_INT_H

#define GC_THREADS 1
#define GC_BUILD 1 /* the library's view of the headers */
#define GC_NO_THREAD_REDIRECTS 1
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "lockrank.h" /* the core's ranked lock types (CMake: spangc_lockrank) */

#include "gc/gc.h"
#include "gc/gc_mark.h"
#include "gc/gc_typed.h"
#include "gc/gc_inline.h"
#include "gc/gc_gcj.h"

/* spangc's reader of its own environment variables (src/options.c: every
 * SPANGC_ variable is read through it), part of the library this layer is
 * linked into. */
const char *sgc_option(const char *name);
/* Fork child handlers: state other threads may have left held. */
void compat_atfork_child(void);
void compat_alloc_lock_atfork_child(void);
void compat_locks_atfork_child(void);
void compat_kinds_atfork_child(void);
void compat_gcj_atfork_child(void);
void compat_threads_atfork_child(void);
void compat_toggleref_atfork_child(void);
void compat_events_atfork_child(void);
/* All of buf to fd, retrying after EINTR (src/throw.c; stdio would drop
 * text a stop's signal interrupts). */
void sgc_write_all(int fd, const char *buf, size_t n);
/* The core's pacing keeps the largest goal it gave, as bdwgc's heap never
 * shrinks (src/generation.c, held_goal). */
void gen_hold_peak_goal(void);
void gen_weigh_pointer_free(uint32_t div);
/* Minors promote all they reach unless SPANGC_AGING says (src/aging.c). */
void aging_set_default(bool on);
#include "gc/gc_disclaim.h"
#include "gc/javaxfc.h"
#include "spangc.h"

/* Exported as data by bdwgc 8.2 (older headers declared it; programs
 * still assign it), though gc_mark.h now offers GC_set_push_other_roots. */
GC_API void (*GC_push_other_roots)(void);
/* Likewise exported by bdwgc 8.2 without a public declaration. */
GC_API void (*GC_on_abort)(const char *);
GC_API void GC_CALL GC_noop1(GC_word); /* declared for other compilers */
GC_API void GC_printf(const char *, ...);
GC_API void GC_err_printf(const char *, ...);
GC_API void GC_log_printf(const char *, ...);
GC_API void GC_CALL GC_incr_bytes_allocd(size_t);
GC_API void GC_CALL GC_incr_bytes_freed(size_t);
GC_API void **GC_objfreelist_ptr;
GC_API void **GC_aobjfreelist_ptr;
GC_API void **GC_uobjfreelist_ptr;
GC_API void **GC_auobjfreelist_ptr;
/* bdwgc's internal state, exported as one object (programs never use it;
 * the size is stock's, so that a copy relocation against it fits). */
#define COMPAT_GC_ARRAYS_SIZE 0x2c9f0
GC_API char GC_arrays[COMPAT_GC_ARRAYS_SIZE];

#define COMPAT_LIKELY(x) __builtin_expect(!!(x), 1)
#define COMPAT_UNLIKELY(x) __builtin_expect(!!(x), 0)

extern int compat_initialised; /* atomic */
/* The collector's address reservation, [below + 1, below + 1 + size):
 * written by compat_init before it publishes compat_initialised.  This
 * library's data is scanned as a root, so the bound kept is one byte
 * below the arena: the arena's start itself would keep the object there
 * alive (as GC_least_plausible_heap_addr is kept below it too). */
extern uintptr_t compat_heap_below, compat_heap_size;
void compat_init(void);
static inline void compat_ensure_init(void) {
  if (COMPAT_UNLIKELY(!__atomic_load_n(&compat_initialised, __ATOMIC_ACQUIRE)))
    compat_init();
}

/* Lock m; a registered thread that finds it taken waits inside a blocking
 * region, so that a collection never waits for it while m's holder is
 * stopped (a free m is taken at once, with no region: entering one costs
 * more than the lock).  Leaving the region takes world.mutex: m's rank
 * must be below it. */
void compat_lock(sgc_mutex *m);
/* Abort naming call if this thread is inside GC_call_with_alloc_lock's
 * fn: a collection started there would wait for fn's end for ever. */
void compat_refuse_collect_in_call(const char *call);

/* Aborts with "libgc (spangc): <message>". */
_Noreturn void compat_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Through the program's warn proc (GC_set_warn_proc). */
void compat_warn(const char *msg, GC_word arg);

/* Bytes added to every request: 1 while GC_all_interior_pointers is set,
 * so that a pointer just past an object's end still points into it. */
extern size_t compat_extra;

/* Collection events (events.c).  The start hook and root callback
 * report the first half of a collection; the rest is pending (nonzero)
 * until compat_flush_events reports it, on the next allocation,
 * GC_gcollect's return, or the next collection's start. */
extern int compat_events_pending; /* atomic */
void compat_flush_events(void);
void compat_start_hook(void);
void compat_events_marking(void);
/* The layer's record of registered threads, for the thread events. */
void compat_thread_registered(void);
void compat_thread_unregistered(void);
void compat_thread_blocking(int blocked);

/* Finalizers run by the allocating thread (bdwgc's default), unless
 * GC_finalize_on_demand; called on every allocation.  It also reports
 * the pending collection events. */
void compat_finalize_slow(void);
/* Does the calling thread hold the allocation lock (GC_alloc_lock, or
 * inside GC_call_with_alloc_lock's fn)? */
bool compat_holds_alloc_lock(void);
static inline void compat_maybe_finalize(void) {
  if (COMPAT_UNLIKELY(__atomic_load_n(&compat_events_pending,
                                      __ATOMIC_RELAXED)))
    compat_flush_events();
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
  int first_word_scanned; /* for a kind with a descriptor: the list link
                             of GC_generic_malloc_many keeps the next one */
} compat_kind;
extern compat_kind compat_kinds[COMPAT_MAX_KINDS];
/* The spangc kind of pointer-free objects handed out in lists by
 * GC_generic_malloc_many: only the first word (the list link) is scanned,
 * so the list keeps its objects until the program takes them. */
extern int compat_link_kind;
extern unsigned compat_nkinds; /* atomic */
void *compat_alloc_kind(size_t lb, int k);
/* Appends a kind (spangc kind sk) to the table; returns its number. */
unsigned compat_add_kind(int sk, const char *call, GC_word descr, int adjust);
/* The bdwgc kind of the object whose base is p (-1 if none fits). */
int compat_kind_of(const void *p);

/* Disclaim procedures by bdwgc kind (disclaim.c); bit k of the mask is
 * set while kind k has one.  compat_disclaim_new(p, k) arranges for the
 * procedure of kind k to be asked about the new object p. */
extern unsigned compat_disclaim_mask; /* atomic */
void compat_disclaim_new(void *p, int k);
static inline void *compat_disclaim_check(void *p, int k) {
  if (COMPAT_UNLIKELY(__atomic_load_n(&compat_disclaim_mask,
                                      __ATOMIC_RELAXED) & (1u << k)) && p)
    compat_disclaim_new(p, k);
  return p;
}

/* Bytes freed with GC_free since the last collection (reset by the root
 * callback), and in all. */
extern GC_word compat_expl_freed; /* atomic */
void compat_count_free(size_t bytes);

/* Toggle references (toggleref.c): decided before each collection,
 * strong ones pushed as roots during it. */
void compat_toggleref_decide(void);
void compat_toggleref_push(void);

/* GC_alloc_lock's lock; a collection asked for waits until it is free
 * (unless the asking thread holds it). */
void compat_wait_alloc_lock(void);
/* Whether the calling thread holds GC_alloc_lock's lock. */
int compat_alloc_lock_mine(void);

/* Leak finding and the debugging allocator (leak.c). */
void compat_leak_init(void);
void compat_leak_before_collection(void);
void compat_report_leaks(void);
void compat_leak_forget(void *base);

/* The printf-style output of the layer (misc.c). */
void compat_vprintf_fd(int fd, const char *fmt, va_list ap);

/* Collections counted by the root callback (GC_gc_no). */
void compat_root_callback(void);
int compat_collect_hook(int forced);
void compat_sync_settings(void);

#endif
