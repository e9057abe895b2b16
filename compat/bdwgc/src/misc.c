/*
 * misc.c — the smaller parts of bdwgc 8.2's interface: output, profile
 * statistics, tuning knobs that spangc keeps without using, checked
 * pointer arithmetic, dumps, and calls that cannot be honoured on spangc
 * (each says what it does instead; README.md lists them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat-int.h"

/* ------------------------------------------------------------- output */

static int log_fd = 2;

void compat_vprintf_fd(int fd, const char *fmt, va_list ap) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n <= 0)
    return;
  sgc_write_all(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void GC_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fflush(stdout); /* keep the order of the program's own output */
  compat_vprintf_fd(1, fmt, ap);
  va_end(ap);
}

void GC_err_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  compat_vprintf_fd(2, fmt, ap);
  va_end(ap);
}

void GC_log_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  compat_vprintf_fd(__atomic_load_n(&log_fd, __ATOMIC_RELAXED), fmt, ap);
  va_end(ap);
}

void GC_set_log_fd(int fd) { __atomic_store_n(&log_fd, fd, __ATOMIC_RELAXED); }

void GC_abort_on_oom(void) {
  GC_err_printf("Insufficient memory for the allocation\n");
  exit(1);
}

/* Out of the optimiser's sight, so that GC_reachable_here(p) keeps p. */
static volatile GC_word noop_sink;
void GC_noop1(GC_word x) { noop_sink = x; }

/* --------------------------------------------------------- statistics */

GC_word compat_expl_freed;
static uint64_t expl_freed_total;   /* atomic */
static uint64_t measure_base_ns;    /* atomic; 0: not measuring */
static int measuring;               /* atomic */

void compat_count_free(size_t bytes) {
  __atomic_add_fetch(&compat_expl_freed, bytes, __ATOMIC_RELAXED);
  __atomic_add_fetch(&expl_freed_total, bytes, __ATOMIC_RELAXED);
}

size_t GC_get_expl_freed_bytes_since_gc(void) {
  return __atomic_load_n(&compat_expl_freed, __ATOMIC_RELAXED);
}

size_t GC_get_obtained_from_os_bytes(void) {
  compat_ensure_init();
  sgc_stats st;
  sgc_read_stats(&st);
  return (size_t)st.sys_bytes;
}

void GC_set_non_gc_bytes(GC_word n) {
  __atomic_store_n(&GC_non_gc_bytes, n, __ATOMIC_RELAXED);
}
GC_word GC_get_non_gc_bytes(void) {
  return __atomic_load_n(&GC_non_gc_bytes, __ATOMIC_RELAXED);
}

/* Fields are filled from one sgc_stats snapshot:
 *   heapsize_full          in-use and free spans (released ones included)
 *   free_bytes_full        of those, not in live objects
 *   unmapped_bytes         free spans returned to the system
 *   bytes_allocd_since_gc  heap growth since the last collection's end
 *   bytes_reclaimed_since_gc  what the last collection found dead
 *   reclaimed_bytes_before_gc everything freed before it (allocated, not
 *                          live, not freed explicitly, not the last one's)
 * markers_m1 is GC_parallel; the rest are the layer's own counters. */
static size_t fill_prof_stats(struct GC_prof_stats_s *out, size_t size) {
  compat_ensure_init();
  sgc_stats st;
  sgc_read_stats(&st);
  struct GC_prof_stats_s s;
  uint64_t heap = st.heap_span_bytes + st.heap_idle_bytes;
  uint64_t inuse = st.heap_inuse_bytes < heap ? st.heap_inuse_bytes : heap;
  s.heapsize_full = heap;
  s.free_bytes_full = heap - inuse;
  s.unmapped_bytes = st.heap_released_bytes;
  s.bytes_allocd_since_gc = GC_get_bytes_since_gc();
  s.allocd_bytes_before_gc = st.total_alloc_bytes > s.bytes_allocd_since_gc
                                 ? st.total_alloc_bytes - s.bytes_allocd_since_gc
                                 : 0;
  s.non_gc_bytes = GC_get_non_gc_bytes();
  s.gc_no = GC_get_gc_no();
  s.markers_m1 = (GC_word)GC_parallel;
  s.bytes_reclaimed_since_gc = st.last_heap_before > st.last_heap_after
                                   ? st.last_heap_before - st.last_heap_after
                                   : 0;
  uint64_t expl = __atomic_load_n(&expl_freed_total, __ATOMIC_RELAXED);
  uint64_t freed = st.total_alloc_bytes > inuse ? st.total_alloc_bytes - inuse : 0;
  uint64_t sub = expl + s.bytes_reclaimed_since_gc;
  s.reclaimed_bytes_before_gc = freed > sub ? freed - sub : 0;
  s.expl_freed_bytes_since_gc = GC_get_expl_freed_bytes_since_gc();
  s.obtained_from_os_bytes = st.sys_bytes;
  if (size <= sizeof s) {
    memcpy(out, &s, size);
    return size;
  }
  /* A newer caller's structure: the fields unknown here are all ones. */
  memcpy(out, &s, sizeof s);
  memset((char *)out + sizeof s, 0xff, size - sizeof s);
  return sizeof s;
}

size_t GC_get_prof_stats(struct GC_prof_stats_s *out, size_t size) {
  return fill_prof_stats(out, size);
}
/* sgc_read_stats needs no lock of the caller's: the same call. */
size_t GC_get_prof_stats_unsafe(struct GC_prof_stats_s *out, size_t size) {
  return fill_prof_stats(out, size);
}

void GC_start_performance_measurement(void) {
  compat_ensure_init();
  sgc_stats st;
  sgc_read_stats(&st);
  __atomic_store_n(&measure_base_ns, st.total_pause_ns, __ATOMIC_RELAXED);
  __atomic_store_n(&measuring, 1, __ATOMIC_RELEASE);
}

/* Time the world was stopped (spangc's pauses: marking; sweeping runs
 * concurrently and is not counted). */
unsigned long GC_get_full_gc_total_time(void) {
  if (!__atomic_load_n(&measuring, __ATOMIC_ACQUIRE))
    return 0;
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t base = __atomic_load_n(&measure_base_ns, __ATOMIC_RELAXED);
  return (unsigned long)((st.total_pause_ns - base) / 1000000u);
}

/* Object sizes, as GC_size reports them, of a request of i bytes. */
size_t GC_get_size_map_at(int i) {
  compat_ensure_init();
  if (i < 0)
    return (size_t)-1;
  size_t n = (size_t)i + compat_extra;
  if (n > SGC_MAX_SMALL_SIZE)
    return (size_t)-1;
  static uint32_t sizes[SGC_NUM_SIZE_CLASSES];
  if (__atomic_load_n(&sizes[SGC_NUM_SIZE_CLASSES - 1], __ATOMIC_ACQUIRE) == 0) {
    sgc_stats *st = malloc(sizeof *st);
    if (st == NULL)
      return (size_t)-1;
    sgc_read_stats(st);
    for (int c = 1; c < SGC_NUM_SIZE_CLASSES - 1; c++)
      __atomic_store_n(&sizes[c], st->by_class[c].size, __ATOMIC_RELAXED);
    __atomic_store_n(&sizes[SGC_NUM_SIZE_CLASSES - 1],
                     st->by_class[SGC_NUM_SIZE_CLASSES - 1].size,
                     __ATOMIC_RELEASE);
    free(st);
  }
  if (n == 0)
    n = 1;
  for (int c = 1; c < SGC_NUM_SIZE_CLASSES; c++)
    if (sizes[c] >= n)
      return sizes[c];
  return (size_t)-1;
}

/* ---------------------------------------- knobs kept without effect */

static GC_word allocd_bytes_per_finalizer = 10000;
static size_t min_bytes_allocd;
static int rate = 10;
static int max_prior_attempts = 1;
static int manual_vdb_allowed = 1;
static struct GC_timeval_s time_limit_tv = {50, 0};

void GC_set_allocd_bytes_per_finalizer(GC_word v) {
  allocd_bytes_per_finalizer = v;
}
GC_word GC_get_allocd_bytes_per_finalizer(void) {
  return allocd_bytes_per_finalizer;
}
void GC_set_min_bytes_allocd(size_t v) { min_bytes_allocd = v ? v : 1; }
size_t GC_get_min_bytes_allocd(void) { return min_bytes_allocd; }
void GC_set_rate(int v) { rate = v; }
int GC_get_rate(void) { return rate; }
void GC_set_max_prior_attempts(int v) { max_prior_attempts = v; }
int GC_get_max_prior_attempts(void) { return max_prior_attempts; }
void GC_set_manual_vdb_allowed(int v) { manual_vdb_allowed = v; }
int GC_get_manual_vdb_allowed(void) { return manual_vdb_allowed; }

void GC_set_time_limit_tv(struct GC_timeval_s tv) {
  time_limit_tv = tv;
  GC_time_limit = tv.tv_ms;
}
struct GC_timeval_s GC_get_time_limit_tv(void) {
  struct GC_timeval_s tv = time_limit_tv;
  tv.tv_ms = GC_time_limit; /* GC_set_time_limit changes it too */
  if (tv.tv_ms == GC_TIME_UNLIMITED)
    tv.tv_nsec = 0;
  return tv;
}

/* Marker threads: spangc's, set now or at initialisation. */
static unsigned markers_wanted;
void GC_set_markers_count(unsigned n) {
  if (n == 0)
    return;
  markers_wanted = n;
  sgc_set_markers((int)n);
}

/* spangc never maps the heap executable: the call cannot be honoured. */
void GC_set_pages_executable(int v) {
  if (v)
    compat_warn("libgc (spangc): executable heap pages are not supported "
                "(%lu)\n", (GC_word)v);
}
int GC_get_pages_executable(void) { return 0; }

/* The kernel tracks written pages; nothing is write-protected. */
int GC_incremental_protection_needs(void) { return GC_PROTECTS_NONE; }
void GC_start_incremental_collection(void) { GC_collect_a_little(); }

/* spangc's own atfork handlers keep the heap consistent across fork(). */
void GC_atfork_prepare(void) { compat_ensure_init(); }
void GC_atfork_parent(void) {}
void GC_atfork_child(void) {}

/* The layer's fork child handler (installed by compat_init). */
void compat_atfork_child(void) {
  compat_locks_atfork_child();
  compat_alloc_lock_atfork_child();
  compat_toggleref_atfork_child();
  compat_events_atfork_child();
}
void GC_deinit(void) {}
void GC_clear_exclusion_table(void) {}
void GC_register_has_static_roots_callback(GC_has_static_roots_func f) {
  (void)f; /* spangc scans every writable segment; no filter */
}
void GC_register_altstack(void *a, GC_word b, void *c, GC_word d) {}

/* Stubborn objects are plain ones in bdwgc 8.2 too. */
void *GC_malloc_stubborn(size_t lb) { return GC_malloc(lb); }
void GC_change_stubborn(const void *p) { (void)p; }
void GC_debug_change_stubborn(const void *p) { (void)p; }
void *GC_debug_malloc_replacement(size_t lb) { return GC_malloc(lb); }
void *GC_debug_realloc_replacement(void *p, size_t lb) {
  return GC_realloc(p, lb);
}

/* Allocation counters that bdwgc's C++ allocators adjust for memory they
 * manage themselves; spangc counts its own allocations. */
void GC_incr_bytes_allocd(size_t n) { (void)n; }
void GC_incr_bytes_freed(size_t n) { (void)n; }


/* bdwgc's free-list heads; spangc keeps its own lists, so these lists
 * stay empty (a program reading them finds nothing to take). */
static void *empty_lists[4][GC_TINY_FREELISTS + 1 > 129 ? GC_TINY_FREELISTS + 1
                                                           : 129];
void **GC_objfreelist_ptr = empty_lists[0];
void **GC_aobjfreelist_ptr = empty_lists[1];
void **GC_uobjfreelist_ptr = empty_lists[2];
void **GC_auobjfreelist_ptr = empty_lists[3];
char GC_arrays[COMPAT_GC_ARRAYS_SIZE];

/* ----------------------------------------- checked pointer arithmetic */

static void GC_CALLBACK default_same_obj_print(void *p, void *q) {
  compat_fatal("GC_same_obj(%p, %p): the pointers are not in the same "
               "object", p, q);
}
static void GC_CALLBACK default_displacement_print(void *p) {
  compat_fatal("GC_is_valid_displacement(%p): not a pointer into an "
               "object", p);
}
static void GC_CALLBACK default_visible_print(void *p) {
  compat_fatal("GC_is_visible(%p): the collector does not see this "
               "address", p);
}
void(GC_CALLBACK *GC_same_obj_print_proc)(void *, void *) =
    default_same_obj_print;
void(GC_CALLBACK *GC_is_valid_displacement_print_proc)(void *) =
    default_displacement_print;
void(GC_CALLBACK *GC_is_visible_print_proc)(void *) = default_visible_print;

/* p and q in the same heap object (or p not in the heap at all): p.  An
 * object's one-past-the-end address counts as in it (GC_all_interior_
 * pointers makes it a valid pointer). */
void *GC_same_obj(void *p, void *q) {
  compat_ensure_init();
  void *bp = sgc_base(p);
  if (bp == NULL) {
    if (sgc_is_heap_ptr(p)) /* into a free slot or a span's tail */
      GC_same_obj_print_proc(p, q);
    return p;
  }
  size_t size = sgc_size(bp);
  if ((uintptr_t)q < (uintptr_t)bp || (uintptr_t)q > (uintptr_t)bp + size)
    GC_same_obj_print_proc(p, q);
  return p;
}

void *GC_pre_incr(void **pp, ptrdiff_t n) {
  void *old = *pp;
  void *p = (char *)old + n;
  GC_same_obj(p, old);
  *pp = p;
  return p;
}

void *GC_post_incr(void **pp, ptrdiff_t n) {
  void *old = *pp;
  void *p = (char *)old + n;
  GC_same_obj(p, old);
  *pp = p;
  return old;
}

void *GC_is_valid_displacement(void *p) {
  compat_ensure_init();
  if (sgc_is_heap_ptr(p) && sgc_base(p) == NULL)
    GC_is_valid_displacement_print_proc(p);
  return p;
}

/* ------------------------------------------------------------- dumps */

void GC_dump_named(const char *name) {
  if (name)
    GC_printf("***GC Dump %s\n", name);
  GC_dump();
}

void GC_dump_regions(void) {
  compat_ensure_init();
  void *lo, *hi;
  sgc_heap_bounds(&lo, &hi);
  sgc_stats st;
  sgc_read_stats(&st);
  GC_printf("***spangc heap region: [%p, %p)\n"
            "  committed %llu bytes in %llu extension(s); in-use spans %llu "
            "bytes, free %llu bytes in %llu run(s) (largest %llu), "
            "released %llu\n",
            lo, hi, (unsigned long long)st.arena_committed_bytes,
            (unsigned long long)st.arena_grows,
            (unsigned long long)st.heap_span_bytes,
            (unsigned long long)st.heap_idle_bytes,
            (unsigned long long)st.free_runs,
            (unsigned long long)st.free_largest_run_bytes,
            (unsigned long long)st.heap_released_bytes);
}

void GC_dump_finalization(void) {
  compat_ensure_init();
  sgc_stats st;
  sgc_read_stats(&st);
  GC_printf("***spangc finalization: %zu ready to run, %llu queued and "
            "%llu run in all\n",
            sgc_finalizers_pending(),
            (unsigned long long)st.finalizers_queued,
            (unsigned long long)st.finalizers_run);
}

void GC_print_free_list(int kind, size_t granules) {
  compat_ensure_init();
  GC_printf("spangc keeps no bdwgc free lists: kind %d, %zu granule(s) "
            "(%zu bytes) is served from the %zu-byte size class\n",
            kind, granules, granules * GC_GRANULE_BYTES,
            GC_get_size_map_at((int)(granules * GC_GRANULE_BYTES)));
}

/* ------------------------------------------------------------ threads */

void *GC_get_my_stackbottom(struct GC_stack_base *sb) {
  compat_ensure_init();
  if (GC_get_stack_base(sb) != GC_SUCCESS)
    sb->mem_base = NULL;
  return (void *)pthread_self();
}

/* spangc reads each thread's stack bounds itself. */
void GC_set_stackbottom(void *handle, const struct GC_stack_base *sb) {
  (void)handle;
  (void)sb;
}

static int warned_suspend, warned_world, warned_enumerate;
static void warn_once(int *flag, const char *msg) {
  if (!__atomic_exchange_n(flag, 1, __ATOMIC_RELAXED))
    compat_warn(msg, 0);
}

/* spangc stops threads only for its collections: these cannot be
 * honoured; they warn (once) and do nothing. */
void GC_suspend_thread(pthread_t thread) {
  warn_once(&warned_suspend, "libgc (spangc): GC_suspend_thread is not "
                             "supported; the thread keeps running\n");
}
void GC_resume_thread(pthread_t thread) {}
int GC_is_thread_suspended(pthread_t thread) { return 0; }
void GC_stop_world_external(void) {
  warn_once(&warned_world, "libgc (spangc): GC_stop_world_external is not "
                           "supported; the world keeps running\n");
}
void GC_start_world_external(void) {}

int GC_pthread_cancel(pthread_t t) { return pthread_cancel(t); }

/* ------------------------------------------------- gc_mark.h helpers */

void **GC_new_free_list_inner(void) { return GC_new_free_list(); }
unsigned GC_new_kind_inner(void **fl, GC_word d, int adjust, int clear) {
  return GC_new_kind(fl, d, adjust, clear);
}
unsigned GC_new_proc_inner(GC_mark_proc p) { return GC_new_proc(p); }

static GC_describe_type_fn describe_fns[COMPAT_MAX_KINDS];
void GC_register_describe_type_fn(int kind, GC_describe_type_fn fn) {
  if (kind >= 0 && kind < COMPAT_MAX_KINDS)
    describe_fns[kind] = fn;
}

/* Overwrites a few KiB of the stack below the caller. */
__attribute__((noinline)) void *GC_clear_stack(void *arg) {
  volatile char buf[4096];
  memset((char *)buf, 0, sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
  return arg;
}

void GC_push_finalizer_structures(void) {}
int GC_is_tmp_root(void *p) { (void)p; return 0; }

void GC_enumerate_reachable_objects_inner(GC_reachable_object_proc proc,
                                          void *cd) {
  (void)proc;
  (void)cd;
  warn_once(&warned_enumerate, "libgc (spangc): "
            "GC_enumerate_reachable_objects_inner is not supported; no "
            "object is reported\n");
}

/* Everything a collection can make ready, until one makes nothing
 * ready.  Finalizers of objects still reachable cannot be found. */
void GC_finalize_all(void) {
  compat_ensure_init();
  compat_refuse_collect_in_call("GC_finalize_all");
  for (int round = 0; round < 16; round++) {
    sgc_collect();
    compat_flush_events();
    if (GC_invoke_finalizers() == 0 && !sgc_finalizers_ready())
      break;
  }
}
