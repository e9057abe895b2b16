/*
 * control.c — initialisation, bdwgc's public variables, collection
 * control, roots, statistics and callbacks.
 *
 * Programs may assign bdwgc's variables directly (GC_dont_gc = 1,
 * GC_free_space_divisor = 4, ...), so the layer reads them where they take
 * effect: the collect hook (before every collection) checks GC_dont_gc and
 * carries GC_free_space_divisor over to spangc's pacing; GC_init reads
 * GC_all_interior_pointers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat-int.h"

/* ------------------------------------------------------ the variables */

GC_word GC_gc_no;
int GC_parallel;
int GC_find_leak;
int GC_all_interior_pointers = 1;
int GC_finalize_on_demand;
int GC_java_finalization = 1;
GC_finalizer_notifier_proc GC_finalizer_notifier;
int GC_dont_gc;
int GC_dont_expand;
int GC_use_entire_heap;
int GC_full_freq = 19;
GC_word GC_non_gc_bytes;
int GC_no_dls;
GC_word GC_free_space_divisor = 3;
GC_word GC_max_retries;
char *GC_stackbottom;
int GC_dont_precollect;
unsigned long GC_time_limit = 50;
int GC_quiet;
int GC_print_stats;
void *GC_least_plausible_heap_addr;
uintptr_t compat_heap_below, compat_heap_size; /* compat-int.h */
void *GC_greatest_plausible_heap_addr;
GC_on_heap_resize_proc GC_on_heap_resize;

static void *GC_CALLBACK default_oom(size_t lb) { return NULL; }
GC_oom_func GC_oom_fn = default_oom;

static void GC_CALLBACK default_push_other_roots(void) {}
void (*GC_push_other_roots)(void) = default_push_other_roots;

static void GC_CALLBACK default_warn(char *msg, GC_word arg) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, msg, (unsigned long)arg);
  if (n > 0)
    sgc_write_all(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}
static GC_warn_proc warn_proc = default_warn;
static int force_unmap;
static GC_stop_func default_stop_func;
static int no_automatic_collection;

/* bdwgc's abort hook (GC_set_abort_func), called with the message before
 * the library aborts. */
static void GC_CALLBACK default_on_abort(const char *msg) { (void)msg; }
void (*GC_on_abort)(const char *) = default_on_abort;

/* ------------------------------------------------------------- errors */

void compat_fatal(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  sgc_write_all(2, "libgc (spangc): ", 16);
  sgc_write_all(2, buf, strlen(buf));
  sgc_write_all(2, "\n", 1);
  void (*f)(const char *) = __atomic_load_n(&GC_on_abort, __ATOMIC_ACQUIRE);
  if (f)
    f(buf);
  abort();
}

void compat_warn(const char *msg, GC_word arg) {
  GC_warn_proc w = __atomic_load_n(&warn_proc, __ATOMIC_ACQUIRE);
  w((char *)msg, arg);
}

void GC_set_warn_proc(GC_warn_proc p) {
  __atomic_store_n(&warn_proc, p ? p : default_warn, __ATOMIC_RELEASE);
}
GC_warn_proc GC_get_warn_proc(void) {
  return __atomic_load_n(&warn_proc, __ATOMIC_ACQUIRE);
}
void GC_CALLBACK GC_ignore_warn_proc(char *msg, GC_word arg) {}

void *compat_out_of_memory(size_t lb) {
  GC_oom_func f = __atomic_load_n(&GC_oom_fn, __ATOMIC_ACQUIRE);
  return f ? f(lb) : NULL;
}
void GC_set_oom_fn(GC_oom_func f) {
  __atomic_store_n(&GC_oom_fn, f, __ATOMIC_RELEASE);
}
GC_oom_func GC_get_oom_fn(void) {
  return __atomic_load_n(&GC_oom_fn, __ATOMIC_ACQUIRE);
}

/* ----------------------------------------------------- initialisation */

int compat_initialised;
static GC_word last_divisor; /* carried over to spangc's pacing last */

static size_t env_size(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == 0)
    return 0;
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  if (*end == 'k' || *end == 'K')
    n <<= 10;
  else if (*end == 'm' || *end == 'M')
    n <<= 20;
  else if (*end == 'g' || *end == 'G')
    n <<= 30;
  return (size_t)n;
}

static sgc_mutex init_lock = SGC_MUTEX_INIT(COMPAT_INIT);

/* After fork, the locks and states that threads the child does not have
 * held are made fresh (compat_atfork_child).  Installed when the library
 * is loaded, after spangc's own handlers (fork.c installs those with a
 * constructor of higher priority), so it runs after them in the child,
 * and before any child handler the program installs, which may then use
 * the layer (rule:fork-handlers-installed-first); GC_init installs it if
 * no constructor ran.  Before GC_init it only makes fresh locks nobody
 * holds. */
static int atfork_installed; /* atomic: once only (see fork.c) */
static bool install_fork_handler_once(void) {
  int no = 0;
  if (!__atomic_compare_exchange_n(&atfork_installed, &no, 1, false,
                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return true;
  if (pthread_atfork(NULL, NULL, compat_atfork_child) == 0)
    return true;
  __atomic_store_n(&atfork_installed, 0, __ATOMIC_RELEASE);
  return false;
}
__attribute__((constructor)) static void compat_install_fork_handler(void) {
  (void)install_fork_handler_once(); /* on failure GC_init says so */
}

void compat_init(void) {
  sgc_mutex *lock = &init_lock;
  int first = 0;
  /* Held while this thread registers and runs (rule:no-stop-holding-lock):
   * a registered thread waits for it in a blocking region. */
  compat_lock(lock);
  if (!compat_initialised) {
    sgc_init();
    if (!install_fork_handler_once())
      compat_fatal("GC_init: cannot install the fork handler");
    /* bdwgc runs finalizers on the threads that allocate (or, on demand,
     * where the program calls GC_invoke_finalizers): no thread of ours. */
    sgc_set_finalizer_thread(0);
    compat_extra = GC_all_interior_pointers ? 1 : 0;
    /* The bounds are scanned roots here (this library's data): the lower
     * one is kept one byte below the arena, so that it never points at
     * (and keeps alive) the object at the arena's start. */
    void *lo, *hi;
    sgc_heap_bounds(&lo, &hi);
    compat_heap_below = (uintptr_t)lo - 1;
    compat_heap_size = (uintptr_t)hi - (uintptr_t)lo;
    GC_least_plausible_heap_addr = (char *)lo - 1;
    GC_greatest_plausible_heap_addr = hi;
    /* bdwgc's environment variables that spangc can honour. */
    size_t n;
    if ((n = env_size("GC_MAXIMUM_HEAP_SIZE")) != 0)
      sgc_set_max_heap(n);
    if ((n = env_size("GC_INITIAL_HEAP_SIZE")) != 0)
      sgc_expand_heap(n);
    if ((n = env_size("GC_FREE_SPACE_DIVISOR")) != 0)
      GC_free_space_divisor = n;
    if ((n = env_size("GC_MARKERS")) != 0)
      sgc_set_markers((int)n);
    if (getenv("GC_DONT_GC"))
      GC_dont_gc = 1;
    /* SPANGC_GOGC, if set, rules until the program picks a divisor. */
    const char *gogc = sgc_option("SPANGC_GOGC");
    if (gogc && *gogc && !getenv("GC_FREE_SPACE_DIVISOR"))
      last_divisor = GC_free_space_divisor;
    gen_hold_peak_goal();
    gen_weigh_pointer_free(4);
    /* Minors promote all they reach, unless SPANGC_AGING=1: aging kept
     * more young garbage at the minors that set the held peak goal, for
     * no time gained (Guile's binarytrees 38 -> 41 MB, against stock
     * libgc's 37; its four programs' wall times unchanged). */
    aging_set_default(false);
    compat_sync_settings();
    sgc_stats st;
    sgc_read_stats(&st);
    GC_parallel = st.markers - 1; /* bdwgc: helper markers */
    sgc_set_collect_hook(compat_collect_hook);
    sgc_set_root_callback(compat_root_callback);
    sgc_set_start_hook(compat_start_hook);
    compat_leak_init();
    int lk = sgc_new_kind(sizeof(void *), 0); /* a length descriptor */
    if (lk >= 0)
      compat_link_kind = lk;
    __atomic_store_n(&compat_initialised, 1, __ATOMIC_RELEASE);
    first = 1;
  }
  sgc_unlock(lock);
  /* bdwgc collects once at initialisation unless told not to (so
   * GC_get_gc_no() is 1 after GC_INIT); outside the lock, which other
   * threads may be waiting for. */
  if (first && !GC_dont_precollect && !GC_dont_gc)
    sgc_collect();
}

void GC_init(void) {
  compat_ensure_init();
  sgc_register_thread();
  compat_thread_registered();
}

int GC_is_init_called(void) {
  return __atomic_load_n(&compat_initialised, __ATOMIC_ACQUIRE);
}

unsigned GC_get_version(void) {
  return (GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO;
}

/* --------------------------------------------------------- collection */

/* GC_free_space_divisor d: bdwgc collects once the bytes allocated since
 * the last collection reach (2 x the bytes of pointer-holding blocks in
 * use + a quarter of the pointer-free ones + the roots) / d, so its heap
 * holds at least (1 + 2/d) x pointer-holding live data; it grows in steps
 * of 1/d of itself and never shrinks, so it ends between that and about
 * 1.33 times more (Guile's vector program, bench part programs: 98 MB
 * for about 56 MB live, 1.75x).  GOGC = 225/d (75 for bdwgc's default
 * of 3: the heap at 1.75x live) sits there; 300/d (100, the rule before)
 * put our heap at 2x plus fragmentation, and those programs at 1.15-1.2x
 * the peak RSS they have on bdwgc.  Since bdwgc's heap never shrinks, the
 * goal never falls below the largest one this GOGC gave (GC_init asks the
 * core for that: gen_hold_peak_goal).  And as bdwgc's formula does,
 * pointer-free live bytes weigh less than the others in the room (a
 * quarter: gen_weigh_pointer_free; pacer.c says why): ECL's hash tables
 * of strings, three fifths pointer-free, peaked at 1.17x bdwgc's RSS with
 * the room over all live bytes, 1.05x now. */
void compat_sync_settings(void) {
  GC_word d = __atomic_load_n(&GC_free_space_divisor, __ATOMIC_RELAXED);
  if (d == last_divisor)
    return;
  last_divisor = d;
  sgc_set_gcpercent(d == 0 ? -1 : (int)(225 / d > 0 ? 225 / d : 1));
}

static GC_word last_heap_size;

int compat_collect_hook(int forced) {
  if (!forced && (__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED) ||
                  __atomic_load_n(&no_automatic_collection, __ATOMIC_RELAXED)))
    return 1;
  compat_wait_alloc_lock();
  compat_leak_before_collection();
  compat_toggleref_decide();
  compat_sync_settings();
  GC_on_heap_resize_proc r = __atomic_load_n(&GC_on_heap_resize,
                                             __ATOMIC_ACQUIRE);
  if (r) {
    GC_word size = GC_get_heap_size();
    if (size != last_heap_size) {
      last_heap_size = size;
      r(size);
    }
  }
  return 0;
}

void compat_root_callback(void) {
  /* Once per collection, not again for SPANGC_DEBUG=verify=1's full mark
   * (GC_get_gc_no advanced twice in a minor, and the events came twice);
   * the roots either way. */
  if (!sgc_root_callback_repeated()) {
    __atomic_add_fetch(&GC_gc_no, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&compat_expl_freed, 0, __ATOMIC_RELAXED);
    compat_events_marking();
  }
  compat_toggleref_push();
  void (*push)(void) = __atomic_load_n(&GC_push_other_roots,
                                       __ATOMIC_ACQUIRE);
  if (push)
    push();
}

void GC_gcollect(void) {
  compat_ensure_init();
  compat_refuse_collect_in_call("GC_gcollect");
  if (__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED))
    return; /* bdwgc: no collection at all while disabled */
  /* The stop function of GC_set_stop_func, asked once before starting
   * (a spangc collection cannot be abandoned half-way). */
  GC_stop_func stop = __atomic_load_n(&default_stop_func, __ATOMIC_ACQUIRE);
  if (stop && stop())
    return;
  sgc_collect();
  compat_report_leaks(); /* the sweep is complete: every leak is found */
  if (force_unmap)
    sgc_release_memory();
  compat_maybe_finalize();
}

void GC_gcollect_and_unmap(void) {
  compat_ensure_init();
  compat_refuse_collect_in_call("GC_gcollect_and_unmap");
  if (__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED))
    return;
  sgc_collect();
  compat_report_leaks();
  sgc_release_memory();
  compat_maybe_finalize();
}

int GC_try_to_collect(GC_stop_func stop) {
  compat_ensure_init();
  /* A spangc collection cannot be abandoned half-way: the stop function
   * is asked once, before it starts. */
  if (__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED) || (stop && stop()))
    return 0;
  GC_gcollect();
  return 1;
}

int GC_collect_a_little(void) {
  compat_ensure_init();
  int more = sgc_collect_a_little();
  compat_maybe_finalize();
  return more;
}

void GC_disable(void) {
  compat_ensure_init();
  __atomic_add_fetch(&GC_dont_gc, 1, __ATOMIC_RELAXED);
}

/* An unbalanced GC_enable leaves GC_dont_gc negative, which disables
 * collection, as in bdwgc (a later GC_disable enables it again). */
void GC_enable(void) {
  compat_ensure_init();
  if (__atomic_sub_fetch(&GC_dont_gc, 1, __ATOMIC_RELAXED) < 0)
    compat_warn("GC_enable without GC_disable (GC_dont_gc is now %ld): "
                "collection is disabled\n",
                (GC_word)__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED));
}

int GC_is_disabled(void) {
  return __atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED) != 0;
}

/* spangc's minor collections are generational on the kernel's record of
 * written pages, whether or not the program asks (SPANGC_GENERATIONAL=0
 * turns them off): they need no GC_end_stubborn_change or
 * GC_ptr_store_and_dirty, which stay plain stores.  As in bdwgc, the mode
 * reads as on once the program enabled it, if the collector has it. */
static int incremental_on;
void GC_enable_incremental(void) {
  compat_ensure_init();
  sgc_stats st;
  sgc_read_stats(&st);
  __atomic_store_n(&incremental_on, st.generational != 0, __ATOMIC_RELAXED);
}
int GC_is_incremental_mode(void) {
  return __atomic_load_n(&incremental_on, __ATOMIC_RELAXED);
}

int GC_expand_hp(size_t bytes) {
  compat_ensure_init();
  return sgc_expand_heap(bytes) == 0;
}

void GC_set_max_heap_size(GC_word n) {
  compat_ensure_init();
  sgc_set_max_heap((size_t)n);
}

void GC_set_free_space_divisor(GC_word d) {
  __atomic_store_n(&GC_free_space_divisor, d, __ATOMIC_RELAXED);
  if (GC_is_init_called())
    compat_sync_settings();
}
GC_word GC_get_free_space_divisor(void) { return GC_free_space_divisor; }

void GC_set_time_limit(unsigned long ms) { GC_time_limit = ms; }
unsigned long GC_get_time_limit(void) { return GC_time_limit; }

void GC_set_all_interior_pointers(int v) {
  if (GC_is_init_called()) {
    if ((v != 0) != (compat_extra != 0))
      compat_warn("GC_set_all_interior_pointers after GC_init is ignored "
                  "(%lu)\n", (GC_word)v);
    return;
  }
  GC_all_interior_pointers = v != 0;
}
int GC_get_all_interior_pointers(void) { return GC_all_interior_pointers; }

/* spangc recognises every interior pointer: registering one is implied. */
void GC_register_displacement(size_t n) { compat_ensure_init(); }
void GC_debug_register_displacement(size_t n) { compat_ensure_init(); }

/* spangc always scans the writable segments of every loaded object;
 * GC_no_dls only keeps its value. */
void GC_set_no_dls(int v) { GC_no_dls = v; }
int GC_get_no_dls(void) { return GC_no_dls; }

void GC_set_dont_expand(int v) { GC_dont_expand = v; }
int GC_get_dont_expand(void) { return GC_dont_expand; }
void GC_set_full_freq(int v) { GC_full_freq = v; }
int GC_get_full_freq(void) { return GC_full_freq; }
void GC_set_max_retries(GC_word v) { GC_max_retries = v; }
GC_word GC_get_max_retries(void) { return GC_max_retries; }
void GC_set_dont_precollect(int v) { GC_dont_precollect = v; }
int GC_get_dont_precollect(void) { return GC_dont_precollect; }
void GC_set_force_unmap_on_gcollect(int v) { force_unmap = v != 0; }
int GC_get_force_unmap_on_gcollect(void) { return force_unmap; }
/* fork() is always handled (spangc's atfork handlers). */
void GC_set_handle_fork(int v) {}


int GC_get_parallel(void) {
  compat_ensure_init();
  return GC_parallel;
}
/* spangc starts its marker threads when a collection needs them. */
void GC_start_mark_threads(void) { compat_ensure_init(); }

void GC_set_on_heap_resize(GC_on_heap_resize_proc f) {
  __atomic_store_n(&GC_on_heap_resize, f, __ATOMIC_RELEASE);
}
GC_on_heap_resize_proc GC_get_on_heap_resize(void) {
  return __atomic_load_n(&GC_on_heap_resize, __ATOMIC_ACQUIRE);
}

void GC_set_stop_func(GC_stop_func f) {
  __atomic_store_n(&default_stop_func, f, __ATOMIC_RELEASE);
}
GC_stop_func GC_get_stop_func(void) {
  return __atomic_load_n(&default_stop_func, __ATOMIC_ACQUIRE);
}

void GC_set_disable_automatic_collection(int v) {
  __atomic_store_n(&no_automatic_collection, v != 0, __ATOMIC_RELAXED);
}
int GC_get_disable_automatic_collection(void) {
  return __atomic_load_n(&no_automatic_collection, __ATOMIC_RELAXED);
}

void GC_set_abort_func(GC_abort_func f) {
  __atomic_store_n(&GC_on_abort, f, __ATOMIC_RELEASE);
}
GC_abort_func GC_get_abort_func(void) {
  return __atomic_load_n(&GC_on_abort, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------------- roots */

typedef struct root_range {
  struct root_range *next;
  void *lo, *hi;
} root_range;
static root_range *roots;
static sgc_mutex roots_lock = SGC_MUTEX_INIT(COMPAT_ROOTS);

void compat_lock(sgc_mutex *m) {
  if (sgc_lock_if_free(m))
    return; /* nothing to wait for: no blocking region needed */
  if (sgc_thread_is_registered() && !sgc_in_blocking()) {
    sgc_enter_blocking();
    sgc_lock(m);
    sgc_exit_blocking();
  } else {
    sgc_lock(m);
  }
}

void GC_add_roots(void *lo, void *hi) {
  compat_ensure_init();
  if ((uintptr_t)lo >= (uintptr_t)hi)
    return; /* an empty range: nothing to scan */
  root_range *r = malloc(sizeof *r);
  if (r == NULL)
    compat_fatal("GC_add_roots(%p, %p): out of memory", lo, hi);
  r->lo = lo;
  r->hi = hi;
  compat_lock(&roots_lock);
  int err = sgc_add_roots(lo, hi);
  if (err)
    compat_fatal("GC_add_roots(%p, %p): %s", lo, hi, strerror(err));
  r->next = roots;
  /* The fork barrier may park this thread at any instruction and a fork
   * child walk the list (compat_locks_atfork_child): r is complete before
   * it is linked.  Left to the compiler, the two stores came in either
   * order, and a child walked into r's uninitialised next (SIGSEGV in
   * GC_remove_roots, 3 runs in 30 of
   * bdwgc_fork_child_collects_whatever_other_threads_held). */
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  roots = r;
  sgc_unlock(&roots_lock);
}

/* bdwgc removes the added ranges that lie wholly inside [lo, hi) and
 * leaves the others alone.  spangc merges overlapping ranges, so after
 * cutting the removed ones out, the remaining ones they overlapped are
 * added again — with no collection in between (a collection there would
 * miss what only the overlap holds). */
typedef struct remove_args {
  void *lo, *hi;
  root_range *gone;
  int failed;
} remove_args;

static void *cut_and_restore(void *arg) {
  remove_args *a = arg;
  for (root_range *g = a->gone; g; g = g->next)
    sgc_remove_roots(g->lo, g->hi);
  for (root_range *r = roots; r; r = r->next)
    for (root_range *g = a->gone; g; g = g->next)
      if ((uintptr_t)r->lo < (uintptr_t)g->hi &&
          (uintptr_t)g->lo < (uintptr_t)r->hi) {
        if (sgc_add_roots(r->lo, r->hi) != 0)
          a->failed = 1;
        break;
      }
  return NULL;
}

void GC_remove_roots(void *lo, void *hi) {
  compat_ensure_init();
  compat_lock(&roots_lock);
  root_range *gone = NULL;
  for (root_range **pp = &roots; *pp;) {
    root_range *r = *pp;
    if ((uintptr_t)r->lo >= (uintptr_t)lo && (uintptr_t)r->hi <= (uintptr_t)hi) {
      *pp = r->next;
      __atomic_signal_fence(__ATOMIC_SEQ_CST); /* unlinked first: above */
      r->next = gone;
      gone = r;
    } else {
      pp = &r->next;
    }
  }
  remove_args a = {lo, hi, gone, 0};
  if (gone)
    sgc_call_without_collections(cut_and_restore, &a);
  if (a.failed)
    compat_fatal("GC_remove_roots(%p, %p): out of memory", lo, hi);
  sgc_unlock(&roots_lock);
  while (gone) {
    root_range *next = gone->next;
    free(gone);
    gone = next;
  }
}

void GC_clear_roots(void) {
  compat_ensure_init();
  compat_lock(&roots_lock);
  root_range *all = roots;
  roots = NULL;
  for (root_range *r = all; r; r = r->next)
    sgc_remove_roots(r->lo, r->hi);
  sgc_unlock(&roots_lock);
  while (all) {
    root_range *next = all->next;
    free(all);
    all = next;
  }
}

/* Scanning a static range that the program would rather exclude is only
 * slower, never wrong: accepted, and the range is still scanned. */
void GC_exclude_static_roots(void *lo, void *hi) { compat_ensure_init(); }

/* -------------------------------------------------- the allocation lock */

/* bdwgc runs fn holding its allocation lock, which keeps the collector
 * out (a hidden pointer fn reveals cannot have been cleared meanwhile)
 * and other callers too.  Here: no collection starts while fn runs
 * (sgc_call_without_collections), and a recursive lock excludes the other
 * callers.  As in bdwgc, fn must not allocate.  The lock is an
 * sgc_rmutex: its holder may take it again (GC_call_with_alloc_lock
 * inside GC_alloc_lock, or nested), and only the first acquisition is
 * checked against the lock order (bdwgc.alloc_lock, before hold_lock). */
static sgc_rmutex alloc_lock = SGC_RMUTEX_INIT(COMPAT_ALLOC);

/* In a fork child: the layer's short-held locks, which only threads the
 * child does not have can hold at the fork (none is held across a call
 * that could fork): the fork barrier may have parked one inside
 * GC_add_roots, GC_new_kind, GC_pthread_create... and the child's first
 * such call waited for it for ever (roots: found by the adversarial
 * review, 25 children of 40).  What the lock guarded may be half updated
 * then; for the root table that only keeps a range scanned (added to
 * spangc, not yet to the layer's list, or the other way round for a
 * removal), since GC_remove_roots' cut and restore runs inside
 * sgc_call_without_collections, which no thread is inside at a fork; the
 * list itself is walkable at every instruction (its stores are ordered
 * with signal fences, GC_add_roots). */
void compat_locks_atfork_child(void) {
  init_lock = (sgc_mutex)SGC_MUTEX_INIT(COMPAT_INIT);
  roots_lock = (sgc_mutex)SGC_MUTEX_INIT(COMPAT_ROOTS);
  compat_kinds_atfork_child();
  compat_gcj_atfork_child();
  compat_threads_atfork_child();
}

/* In a fork child: the lock may have been held by a thread the child does
 * not have (and the child's collections wait for it): made fresh.  The
 * forking thread may hold it itself (it forked between GC_alloc_lock and
 * GC_alloc_unlock; a fork inside GC_call_with_alloc_lock is refused):
 * then it keeps it, as deep as before, and releases it as it would have
 * in the parent (its lock-order record still has it). */
void compat_alloc_lock_atfork_child(void) {
  if (!sgc_rmutex_mine(&alloc_lock)) {
    alloc_lock = (sgc_rmutex)SGC_RMUTEX_INIT(COMPAT_ALLOC);
    return;
  }
  sgc_mutex_reset_still_held(&alloc_lock.m);
}

bool compat_holds_alloc_lock(void) { return sgc_rmutex_mine(&alloc_lock); }

/* How deep this thread is in GC_call_with_alloc_lock's fn. */
static __thread int in_alloc_lock_call;

void *GC_call_with_alloc_lock(GC_fn_type fn, void *cd) {
  compat_ensure_init();
  void *r;
  in_alloc_lock_call++;
  if (sgc_rlock_with(&alloc_lock, compat_lock) == 1)
    r = sgc_call_without_collections(fn, cd);
  else
    r = fn(cd);
  in_alloc_lock_call--;
  sgc_runlock(&alloc_lock);
  return r;
}

void compat_refuse_collect_in_call(const char *call) {
  if (in_alloc_lock_call > 0)
    compat_fatal("%s: called inside GC_call_with_alloc_lock's fn, where no "
                 "collection can start before fn returns", call);
}

/* GC_alloc_lock and GC_alloc_unlock hold the same lock without a call to
 * bracket, so sgc_call_without_collections cannot serve: instead a
 * collection asked for by another thread waits (in the collect hook)
 * until the lock is free.  A collection already asked for when the lock
 * is taken is not waited for. */
void GC_alloc_lock(void) {
  compat_ensure_init();
  sgc_rlock_with(&alloc_lock, compat_lock);
}

void GC_alloc_unlock(void) {
  if (!sgc_rmutex_mine(&alloc_lock))
    compat_fatal("GC_alloc_unlock: the calling thread does not hold the "
                 "allocation lock");
  sgc_runlock(&alloc_lock);
}

int compat_alloc_lock_mine(void) { return sgc_rmutex_mine(&alloc_lock); }

void compat_wait_alloc_lock(void) {
  if (sgc_rmutex_mine(&alloc_lock))
    return; /* this thread holds it */
  compat_lock(&alloc_lock.m);
  sgc_unlock(&alloc_lock.m);
}

/* ----------------------------------------------------------- statistics */

static void read_stats(sgc_stats *st) {
  compat_ensure_init();
  sgc_read_stats(st);
}

static size_t heap_size_of(const sgc_stats *st) {
  return (size_t)(st->heap_span_bytes + st->heap_idle_bytes -
                  st->heap_released_bytes);
}

static size_t free_bytes_of(const sgc_stats *st) {
  uint64_t inuse = st->heap_inuse_bytes;
  uint64_t heap = heap_size_of(st);
  return inuse < heap ? (size_t)(heap - inuse) : 0;
}

GC_word GC_get_gc_no(void) {
  return __atomic_load_n(&GC_gc_no, __ATOMIC_RELAXED);
}

size_t GC_get_heap_size(void) {
  sgc_stats st;
  read_stats(&st);
  return heap_size_of(&st);
}

size_t GC_get_free_bytes(void) {
  sgc_stats st;
  read_stats(&st);
  return free_bytes_of(&st);
}

size_t GC_get_unmapped_bytes(void) {
  sgc_stats st;
  read_stats(&st);
  return (size_t)st.heap_released_bytes;
}

/* Heap growth since the last collection's end (whole spans), but never
 * more than was allocated in all. */
static size_t since_gc_of(const sgc_stats *st) {
  uint64_t since = st->heap_live > st->last_heap_after
                       ? st->heap_live - st->last_heap_after
                       : 0;
  return (size_t)(since < st->total_alloc_bytes ? since
                                                : st->total_alloc_bytes);
}

size_t GC_get_bytes_since_gc(void) {
  sgc_stats st;
  read_stats(&st);
  return since_gc_of(&st);
}

size_t GC_get_total_bytes(void) {
  sgc_stats st;
  read_stats(&st);
  return (size_t)st.total_alloc_bytes;
}

size_t GC_get_memory_use(void) {
  sgc_stats st;
  read_stats(&st);
  return heap_size_of(&st) - free_bytes_of(&st);
}

void GC_get_heap_usage_safe(GC_word *heap_size, GC_word *free_bytes,
                            GC_word *unmapped, GC_word *since_gc,
                            GC_word *total) {
  sgc_stats st;
  read_stats(&st);
  if (heap_size)
    *heap_size = heap_size_of(&st);
  if (free_bytes)
    *free_bytes = free_bytes_of(&st);
  if (unmapped)
    *unmapped = st.heap_released_bytes;
  if (since_gc)
    *since_gc = since_gc_of(&st);
  if (total)
    *total = st.total_alloc_bytes;
}

void GC_dump(void) {
  sgc_stats st;
  read_stats(&st);
  printf("***spangc heap (bdwgc interface)\n"
         "heap size %zu bytes, free %zu, unmapped %llu, in use %llu\n"
         "collections %llu, last pause %.3f ms, max pause %.3f ms\n"
         "live objects %llu, allocated %llu bytes in total, %llu spans\n"
         "size classes (size: objects live / allocated):\n",
         heap_size_of(&st), free_bytes_of(&st),
         (unsigned long long)st.heap_released_bytes,
         (unsigned long long)st.heap_inuse_bytes,
         (unsigned long long)st.num_gc, st.last_pause_ns / 1e6,
         st.max_pause_ns / 1e6, (unsigned long long)st.live_objects,
         (unsigned long long)st.total_alloc_bytes,
         (unsigned long long)st.spans_inuse);
  for (int c = 0; c < SGC_NUM_SIZE_CLASSES; c++)
    if (st.by_class[c].nmalloc)
      printf("  %6llu: %llu / %llu\n",
             c ? (unsigned long long)st.by_class[c].size : 0ull,
             (unsigned long long)st.by_class[c].objects,
             (unsigned long long)st.by_class[c].nmalloc);
  fflush(stdout);
}
