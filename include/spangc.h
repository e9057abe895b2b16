/*
 * spangc.h — the public interface of spangc, a garbage collector for C.
 *
 * spangc allocates from a span heap in the style of the Go runtime (size
 * classes, a per-thread cache, per-class central lists, a page heap of
 * spans).  Every call here is thread-safe unless it says otherwise.
 *
 * Memory returned by spangc is 16-byte aligned.  A request that cannot be
 * satisfied (size overflow, an absurd size, the operating system refusing
 * memory) returns NULL and sets errno to ENOMEM; spangc never crashes on
 * out-of-memory.  When the heap cannot grow (the OS refuses memory, the
 * reserved address space is used up, or sgc_set_max_heap), an allocation
 * collects and tries again before it fails (not while collections are
 * disabled, sgc_disable, unless the limit is what stops it).
 *
 * Bad pointers.  Calls that take a pointer to a spangc object (sgc_free,
 * sgc_size) abort the process with a message on stderr that names the call
 * and the pointer when the pointer is not the base of a live spangc object.
 * sgc_base, which exists to ask "is this in the heap?", never aborts.
 *
 * fork().  The child keeps a working heap: it has only the forking thread
 * (the other threads' caches are handed back) and the collector starts
 * its own threads again when needed.  spangc's fork handlers hold its
 * locks across the fork; they are installed when the library is loaded,
 * before any the program installs, so the program's prepare handlers run
 * before they take those locks and its parent and child handlers after
 * they released them (prepare handlers run in the reverse order of
 * installation, the others in order): all may call spangc.  A program
 * that loads spangc with dlopen after installing handlers of its own
 * must not call spangc from those.
 */
#ifndef SPANGC_H
#define SPANGC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SGC_API __attribute__((visibility("default")))
#define SGC_MALLOC_ATTR __attribute__((malloc, warn_unused_result)) SGC_HOT
#else
#define SGC_API
#define SGC_MALLOC_ATTR
#endif

/* The allocation calls, sgc_realloc and sgc_free are called through the
 * GOT rather than through a PLT stub (GCC's noplt; other compilers get
 * the stub): one jump less per call.  binary-trees linked with the shared
 * library ran 3-4% faster (7 and 11 alternated runs; the static library
 * was 3-4% faster still).  Those symbols are bound when the program
 * loads. */
#if defined(__has_attribute)
#if __has_attribute(noplt)
#define SGC_HOT __attribute__((noplt))
#endif
#endif
#ifndef SGC_HOT
#define SGC_HOT
#endif

/* Number of small size classes, class 0 (large objects) included.  The
 * exact class sizes are reported by sgc_read_stats(). */
#define SGC_NUM_SIZE_CLASSES 77

/* Largest object served from a size class; larger objects get a span (a run
 * of 8 KiB pages) of their own. */
#define SGC_MAX_SMALL_SIZE 32768

/*
 * sgc_init — initialise the heap.
 * Optional (the first allocation initialises), idempotent and thread-safe.
 * Reads the environment variables documented in README.md.  Aborts with a
 * message only if the address space for the heap cannot be reserved at all,
 * if one of those variables holds a value it cannot take, or, with
 * SPANGC_DEBUG=verify=1, if the OS refuses the verifier its tables (a
 * collection it could not check would pass for a verified one).
 */
SGC_API void sgc_init(void);

/*
 * sgc_alloc — allocate n bytes that may hold pointers.
 * The memory is zeroed.  n == 0 returns a unique minimal object (16 bytes),
 * never NULL.  Returns NULL with errno = ENOMEM when the request cannot be
 * satisfied.
 */
SGC_API SGC_MALLOC_ATTR void *sgc_alloc(size_t n);

/*
 * sgc_alloc_noscan — allocate n bytes that hold no pointers (bdwgc's
 * "atomic" objects).  The contents are NOT zeroed (like malloc), and the
 * collector never looks inside: a pointer stored only in a noscan object
 * does not keep its target alive.  Same size and error rules as sgc_alloc.
 */
SGC_API SGC_MALLOC_ATTR void *sgc_alloc_noscan(size_t n);

/*
 * sgc_calloc — count * size zeroed bytes that may hold pointers.
 * Returns NULL with errno = ENOMEM if count * size overflows.
 */
SGC_API SGC_MALLOC_ATTR void *sgc_calloc(size_t count, size_t size);

/*
 * sgc_realloc — resize the object whose base is p.
 * p == NULL behaves as sgc_alloc(n).  n == 0 frees p and returns NULL.
 * The new object has the same kind as p (scanned or noscan); for a scanned
 * object the bytes past the old size are zeroed.  When the object already
 * has room, p itself is returned.  Otherwise the contents are copied to a
 * new object and p is freed.  On failure returns NULL with errno = ENOMEM
 * and p is left untouched.  p must be the base of a live object (else the
 * process aborts, as with sgc_free).
 */
SGC_API SGC_HOT void *sgc_realloc(void *p, size_t n);

/*
 * sgc_free — explicitly free the object whose base is p.  Optional: the
 * collector reclaims unreachable objects by itself; freeing early only makes
 * the memory reusable sooner.  After sgc_free(p) the program must not use p
 * nor any pointer into the object.
 *   p == NULL: no effect.
 *   p not from spangc, an interior pointer, or a free slot: aborts, naming
 *   the call and the pointer.
 *   Double free: aborts ("double free"); detected by a per-process cookie
 *   written into freed objects, and with certainty in the debug build.
 * A finalizer registered on p is cancelled and does not run.
 */
SGC_API SGC_HOT void sgc_free(void *p);

/*
 * sgc_size — usable size of the object whose base is p (at least the size
 * requested; the whole size class, or whole pages for a large object).
 * p == NULL returns 0.  A pointer that is not the base of a live spangc
 * object aborts, naming the call and the pointer.
 */
SGC_API size_t sgc_size(const void *p);

/*
 * sgc_base — base address of the live heap object that contains p (p may
 * point anywhere inside it), or NULL if p is not inside a live spangc
 * object (NULL, a stack or static address, a free slot, the tail of a span).
 * Never aborts.
 */
SGC_API void *sgc_base(const void *p);

/*
 * sgc_release_memory — return every free page of the heap to the operating
 * system now (the background scavenger does it by itself for pages that
 * stay unused for a while).  Returns the number of bytes released by this
 * call.
 */
SGC_API size_t sgc_release_memory(void);

/* Per size class figures in sgc_stats. */
typedef struct sgc_class_stats {
  uint32_t size;          /* object size of the class (0 for class 0) */
  uint32_t span_pages;    /* pages per span of the class */
  uint64_t nmalloc;       /* objects allocated in this class, ever */
  uint64_t nfree;         /* objects freed (explicitly or by the collector) */
  uint64_t objects;       /* live objects now: nmalloc - nfree */
} sgc_class_stats;

/* How the collector learns which heap pages were written (sgc_stats). */
enum {
  SGC_DIRTY_OFF = 0,  /* not at all: every collection is major */
  SGC_DIRTY_UFFD = 1  /* the kernel's asynchronous write-protection */
};

typedef struct sgc_stats {
  /* Heap */
  uint64_t heap_inuse_bytes;    /* bytes in live objects (class sizes; whole pages for large) */
  uint64_t heap_span_bytes;     /* bytes in spans that are in use (objects + free slots) */
  uint64_t heap_idle_bytes;     /* bytes in free spans (released or not) */
  uint64_t heap_released_bytes; /* bytes of free spans returned to the OS and not reused */
  uint64_t sys_bytes;           /* bytes obtained from the OS: heap pages plus metadata */
  uint64_t meta_bytes;          /* of sys_bytes, metadata (spans, caches, tables) */
  uint64_t live_objects;        /* objects allocated and not yet freed */
  uint64_t spans_inuse;         /* spans holding objects */
  uint64_t total_alloc_bytes;   /* bytes allocated, ever */
  uint64_t total_allocs;        /* objects allocated, ever */
  uint64_t total_frees;         /* objects freed, ever */
  uint64_t large_allocs;        /* large objects allocated, ever (class 0) */
  uint64_t large_objects;       /* large objects live now */

  /* Collector */
  uint64_t num_gc;              /* completed collections */
  uint64_t last_pause_ns;       /* world stopped, last collection (both
                                   stops of a concurrent one) */
  uint64_t max_pause_ns;        /* longest such pause so far */
  uint64_t total_pause_ns;      /* all stops */
  uint64_t last_mark_ns;        /* mark phase of the last collection (a
                                   concurrent one's: its concurrent phase
                                   and the mark in its stops) */
  uint64_t total_mark_ns;
  uint64_t last_heap_before;    /* heap_live when the last collection began */
  uint64_t last_heap_after;     /* bytes it found live (marked) */
  uint64_t last_marked_objects; /* objects it found live */
  uint64_t last_freed_objects;  /* objects it found dead (gctrace only) */
  uint64_t heap_live;           /* pacing figure: live + allocated since */
  uint64_t next_gc;             /* heap_live that triggers the next one */
  uint64_t sweeps_background;   /* spans swept by the background sweeper */
  uint64_t sweeps_on_demand;    /* spans swept by threads that needed them
                                   swept (a span to use, a pointer to free,
                                   pages before the heap grows) */
  uint64_t sweeps_in_pause;     /* spans swept with the world stopped */
  uint64_t mark_overflows;      /* rescans after a full mark stack */
  uint64_t collections_abandoned; /* skipped: no memory for root tables */
  uint64_t finalizers_queued;   /* finalizers queued, ever */
  uint64_t finalizers_run;      /* finalizers that returned, ever */
  uint64_t fibers_live;         /* fibers not finished and not collected */
  uint64_t fibers_created;      /* fibers created, ever */
  uint64_t fibers_finished;     /* fibers whose function returned, ever */
  uint64_t stack_bytes;         /* bytes of spans holding fiber stacks */
  uint64_t stack_released_bytes;/* stack bytes returned by shrinking, ever */
  uint64_t num_minor_gc;        /* of num_gc, minor (generational) ones */
  uint64_t num_major_gc;        /* of num_gc, major (whole-heap) ones */
  uint64_t dirty_listings;      /* listings of written pages, ever */
  uint64_t dirty_pages_listed;  /* 4 KiB pages they reported written, ever */
  uint64_t dirty_last_pages;    /* of those, at the last collection */
  uint64_t dirty_lost;          /* listings that could not be trusted
                                   (first one, after fork, kernel error) */
  int32_t dirty_tracking;       /* SGC_DIRTY_*: how written pages are known */
  int32_t generational;         /* 1: minor collections are on */
  int32_t gcpercent;            /* GOGC; -1 when off */
  int32_t markers;              /* marker threads per collection */

  sgc_class_stats by_class[SGC_NUM_SIZE_CLASSES];

  /* Arena and free pages.  Appended after by_class so that every field
   * above keeps its offset (programs read sgc_stats by field; the
   * library fills as many bytes as the program's sgc_stats has: see
   * sgc_read_stats).  "Idle" ages are per page: the time since the page
   * itself was freed. */
  uint64_t arena_committed_bytes; /* arena made usable: spans of every state */
  uint64_t arena_grows;           /* times the arena was extended, ever */
  uint64_t peak_span_bytes;       /* most pages in in-use and stack spans at once */
  uint64_t free_runs;             /* free spans (maximal runs of free pages) */
  uint64_t free_largest_run_bytes;/* the largest free run (vs heap_idle_bytes: fragmentation) */
  uint64_t free_young_bytes;      /* free, not released, idle < 1 s */
  uint64_t free_idle_bytes;       /* free, not released, idle 1 s .. scavenge period */
  uint64_t free_old_bytes;        /* free, not released, idle >= scavenge period */
  uint64_t released_total_bytes;  /* free bytes returned to the OS by the scavenger and
                                     sgc_release_memory, ever */
  uint64_t scavenge_period_ns;    /* SPANGC_SCAVENGE_MS; 0: no scavenger thread */
  uint64_t stack_pool_bytes;      /* of stack_bytes, pool spans (stacks up to 256 KiB) */
  uint64_t stack_pool_free_bytes; /* of stack_pool_bytes, stacks not in use */
  uint64_t sweeps_proportional;   /* spans swept by allocating threads paying
                                     their share of the sweep (sweeps_on_demand
                                     counts those that needed a span swept) */
  /* Soft memory limit (sgc_set_memory_limit).  Appended, like the above. */
  uint64_t memory_limit;          /* bytes; 0: none */
  uint64_t memory_held_bytes;     /* what the limit bounds: committed arena -
                                     released pages + meta_bytes */
  uint64_t limit_lowered_goals;   /* collections whose next goal the limit lowered */
  uint64_t limit_goal_unlimited;  /* the last goal GOGC alone would have set
                                     (UINT64_MAX with GOGC off) */
  uint64_t limit_collections_put_off; /* times the CPU cap put a collection off */
  uint64_t prompt_released_bytes; /* free bytes released for the limit or after
                                     the live heap shrank, ever */
  uint64_t sweep_ns;              /* wall time spent sweeping outside stops, by
                                     every thread (background sweeper,
                                     proportional and demand sweeping), ever */
  uint64_t idle_collections;      /* major collections run because none ran
                                     for the idle interval (a slowly
                                     allocating program whose heap may have
                                     shrunk) */
  /* Concurrent marking (SPANGC_CONCURRENT).  Appended, like the above. */
  uint64_t num_concurrent_gc;     /* of num_major_gc, mostly-concurrent ones */
  uint64_t concurrent_mark_ns;    /* their concurrent phases' wall time, ever */
  int32_t concurrent;             /* 1: major collections mark concurrently */
  uint64_t concurrent_assists;    /* times an allocating thread helped a
                                     concurrent mark (ahead of its pace, in
                                     a pre-cleaning round, or past the
                                     goal instead of waiting) */
  uint64_t concurrent_assist_ns;  /* wall time those assists took, ever */
  /* Dirty-page tracking.  Appended, like the above. */
  uint64_t dirty_pages_protected; /* 4 KiB pages the collector write-protected
                                     anew (not protected before: written
                                     since, or never protected), ever */
  /* Aging (SPANGC_AGING).  Appended, like the above. */
  int32_t aging;                  /* 1: minors keep first survivors young */
  uint64_t aged_bytes;            /* bytes minors kept young, ever */
  uint64_t aging_promoted;        /* objects minors promoted at their first
                                     minor because an old object pointed to
                                     them, ever */
} sgc_stats;

/*
 * sgc_read_stats — fill *s with a consistent-enough snapshot of the heap's
 * figures.  Counters owned by other threads' caches are read without
 * stopping them, so a figure may lag by the allocations in flight during
 * the call.  s must not be NULL (the call aborts, naming itself).
 *
 * A macro: it passes the size of the caller's sgc_stats to
 * sgc_read_stats_size, which fills that many bytes and no more.  Fields
 * are only ever appended to sgc_stats, so a program built against an
 * older spangc.h gets every field it knows, and a program built against a
 * newer one than the library finds the fields the library does not know
 * zeroed; sgc_read_stats_size returns the library's own
 * sizeof(sgc_stats), so such a program can tell which they are.
 */
SGC_API size_t sgc_read_stats_size(sgc_stats *s, size_t size);
#define sgc_read_stats(s) ((void)sgc_read_stats_size((s), sizeof *(s)))

/* ==================================================================
 * The collector
 *
 * Objects that are no longer reachable are freed automatically.  A
 * collection stops the world, marks from the roots in parallel and then
 * sweeps concurrently.  Roots: the data and bss of the program and of every
 * loaded shared object, the stacks, registers and thread-local variables
 * (__thread, _Thread_local; also those of dlopen'ed libraries) of
 * registered threads, ranges added with sgc_add_roots, and the finalizer
 * queue.  Scanning is conservative: any aligned word that points anywhere
 * inside an object keeps it alive.  Not scanned: the initial-exec TLS of a
 * library loaded with dlopen, in threads that existed before the dlopen.
 *
 * Generations.  Where the kernel can report which pages were written
 * (userfaultfd asynchronous write-protection with PAGEMAP_SCAN, Linux
 * 6.7+), most collections are minor: objects that survived a collection
 * stay marked ("old"), and a minor collection marks from the roots and
 * from the old objects on pages written since the previous collection,
 * reaching only objects allocated since then; the others are major (the
 * whole heap, as without generations).  No write barrier is needed: the
 * kernel records every write, the program's and its own (read(2) into
 * the heap included), with one exception: a write the kernel or a device
 * makes through pages it pinned beforehand (io_uring registered buffers,
 * O_DIRECT requests in flight, RDMA memory regions) is not seen.  Do not
 * keep the only pointer to a heap object in such a buffer, or register
 * the buffer as a root (sgc_add_roots) for as long as it is pinned.
 * sgc_collect is always major.  An old object that
 * became unreachable is freed by the next major collection, and so are
 * its finalizer and weak slots processed then.  SPANGC_GENERATIONAL=0
 * turns minor collections off; SPANGC_DIRTY=off turns the tracking off
 * (and with it minor collections).  sgc_stats says which is in use.
 *
 * Concurrent marking.  With SPANGC_CONCURRENT=1 (and the tracking on), a
 * major collection marks while the program runs and stops it twice,
 * briefly: to start, and to finish (the roots and the pages written
 * meanwhile are read again); sgc_collect then runs the marking on the
 * calling thread while the others go on.  The pinned-buffer exception
 * above applies to it as well.  While such a collection runs,
 * sgc_call_without_collections waits for its end; sgc_read_stats does
 * not: it reports the collections finished before it, with the heap's
 * figures and the settings of the moment.
 *
 * A collection that cannot get memory for its tables of roots is skipped
 * (nothing is freed; sgc_stats.collections_abandoned counts it): running
 * out of memory never aborts a collection.
 * ================================================================== */

/*
 * Threads.  A thread is scanned only if it is registered.  The thread that
 * calls sgc_init (or first allocates) is registered; so is every thread
 * started with sgc_pthread_create, and every thread that allocates (on its
 * first allocation; it is unregistered when it exits).  A thread that
 * never allocated nor registered is unknown: its stack is not scanned, so
 * it must not be the only holder of a pointer into the heap.
 *
 * sgc_register_thread — register the calling thread now (idempotent).
 *   Returns 0, or ENOMEM.
 * sgc_unregister_thread — forget the calling thread: its stack is no
 *   longer scanned.  Must not be called inside a blocking region.  The
 *   thread may register again later.
 * sgc_pthread_create — pthread_create for a thread that is registered
 *   before fn runs; arg stays reachable in between.  Same returns (EAGAIN
 *   too when there is no memory for the new thread's records).
 */
SGC_API int sgc_register_thread(void);
SGC_API void sgc_unregister_thread(void);
SGC_API int sgc_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                               void *(*fn)(void *), void *arg);

/*
 * Blocking regions (Go's entersyscall/exitsyscall).  Between
 * sgc_enter_blocking() and sgc_exit_blocking() a thread is not stopped by
 * collections, so it may block or compute for long; the pointers it held
 * on its stack and in its registers when it entered are still scanned.
 * Inside the region it must not touch the spangc heap nor call any sgc_
 * function (other than sgc_exit_blocking), nor store heap pointers where
 * they would be the only reference.  sgc_exit_blocking waits while a
 * collection has the world stopped, then returns; the thread may allocate
 * at once.  Misuse (nesting, exit without enter) aborts with a message.
 * On a thread that is not registered and cannot be (out of memory) the
 * region does nothing: no collection knows that thread.
 * Good practice: wait on the program's own locks, barriers and condition
 * variables inside a blocking region (and run the critical section
 * outside it).  Natively a stop interrupts such waits anyway, but under
 * ThreadSanitizer the stop signal is held back during pthread_mutex_lock
 * and pthread_barrier_wait, and a stop would wait for ever.
 */
SGC_API void sgc_enter_blocking(void);
SGC_API void sgc_exit_blocking(void);

/*
 * Signals.  A collection stops every registered thread outside a blocking
 * region by sending it the suspend signal: SIGPWR, or the one named by
 * SPANGC_SUSPEND_SIGNAL (a number, a name such as SIGUSR2, or SIGRTMIN+n)
 * or chosen with sgc_set_suspend_signal before the first sgc_ call.
 * spangc keeps that signal working whatever the program does through the
 * C library: libspangc.so (and libgc.so.1) define these calls, which win
 * where the library comes before the C library in the dynamic linker's
 * order (linked with -lspangc, or LD_PRELOAD; not when the library is
 * only another library's dependency loaded after libc), and a program
 * linked with libspangc.a binds its calls to the archive's definitions:
 *   - pthread_sigmask, sigprocmask, and the masks of ppoll, pselect and
 *     epoll_pwait[2] never block it in a registered thread (unregistered
 *     threads are left alone); the mask a handler runs with (sa_mask)
 *     never holds it;
 *   - sigaction, signal, sysv_signal and bsd_signal for it record the
 *     program's action instead of replacing spangc's handler; sigaction
 *     reports that action back, and spangc's handler runs it for every
 *     delivery that is not a stop (kill, raise, pthread_kill).  SIG_DFL
 *     and SIG_IGN both mean such deliveries are ignored; the program's
 *     SA_RESTART is not honoured (spangc's handler restarts calls);
 *   - pause, sigsuspend, sigwait, sigwaitinfo and sigtimedwait in a
 *     registered thread wait inside a blocking region (collections do not
 *     interrupt them; handlers that run meanwhile must not allocate, as
 *     ever in a handler) and never return the suspend signal; signalfd
 *     never reads it.
 * Not covered: raw system calls (syscall(SYS_rt_sigprocmask, ...)), and
 * the obsolete sigblock, sigsetmask, sighold, sigset, sigignore and
 * sigpause.  A thread that blocks the signal that way cannot be stopped:
 * after 100 ms the collection prints a warning naming it and goes on
 * waiting.
 *
 * What a stop does to a thread outside a blocking region: the signal
 * interrupts it wherever it is, for a moment.  Calls that the kernel
 * restarts (spangc's handler has SA_RESTART) carry on unseen: read, write
 * and ioctl on slow devices, open of a FIFO, wait and waitpid, accept,
 * connect, recv and send without a socket timeout, flock and F_SETLKW,
 * sem_wait, pthread_mutex_lock, pthread_cond_wait and
 * pthread_cond_timedwait (glibc retries), futex waits without a timeout.
 * These return early, failing with EINTR as with any handled signal, and
 * the program must retry them: nanosleep and clock_nanosleep (resume with
 * the remaining time), usleep, sleep (returns the seconds left), poll,
 * ppoll, select, pselect, epoll_wait, epoll_pwait, sem_timedwait,
 * sem_clockwait, futex waits with a timeout, recv/accept and send/connect
 * on a socket with SO_RCVTIMEO/SO_SNDTIMEO, msgrcv, msgsnd, semop,
 * semtimedop and io_getevents.  (pause, sigsuspend, sigwaitinfo and
 * sigtimedwait are interposed, see above, and do not.)  A thread inside
 * a blocking region is never signalled, so the calls it makes there never
 * see EINTR from spangc: wrap long waits in sgc_enter_blocking and
 * sgc_exit_blocking.  spangc's own waits retry on EINTR.
 *
 * sgc_set_suspend_signal — use sig to stop threads.  Returns 0, EINVAL
 *   (not a signal that can do it: SIGKILL, SIGSTOP, the fault signals
 *   SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT, and the C
 *   library's own 32 and 33), or EBUSY (spangc is initialised and uses
 *   another signal).  The program's choice wins over SPANGC_SUSPEND_SIGNAL.
 * sgc_get_suspend_signal — the signal in use (or to be used).
 */
SGC_API int sgc_set_suspend_signal(int sig);
SGC_API int sgc_get_suspend_signal(void);

/*
 * Roots.  sgc_add_roots(lo, hi) makes every aligned word in [lo, hi) a root
 * (for memory spangc cannot find by itself: malloc'ed or mmap'ed blocks
 * holding pointers to the heap).  Overlapping ranges merge.  Returns 0,
 * EINVAL (lo NULL or lo >= hi) or ENOMEM.  sgc_remove_roots(lo, hi) stops
 * scanning whatever part of the registered ranges lies in [lo, hi).
 */
SGC_API int sgc_add_roots(void *lo, void *hi);
SGC_API void sgc_remove_roots(void *lo, void *hi);

/*
 * Control.
 * sgc_collect — a full (major) collection now; returns when it is complete:
 *   marked and swept, so what it freed is free (and counted so in the
 *   statistics) on return.  Automatic collections sweep lazily instead.
 * sgc_disable / sgc_enable — nestable: while disabled, no collection is
 *   triggered by allocation (sgc_collect still collects; so does reaching
 *   the sgc_set_max_heap limit).  sgc_disable returns once a collection
 *   under way (a concurrent one runs beside the program) has ended.
 * sgc_set_gcpercent — GOGC: collect when the heap reaches live * (1 +
 *   percent/100).  Negative turns automatic collection off.  Returns the
 *   old value.  The environment variable SPANGC_GOGC (a number, or "off")
 *   sets the initial value; the default is 100.
 * sgc_set_max_heap — a hard limit on the bytes of in-use spans, fiber
 *   stacks included (0: none).  An allocation or sgc_fiber_create that
 *   would exceed it collects, then fails with NULL and errno ENOMEM if it
 *   still would.  Environment: SPANGC_MAX_HEAP.
 * sgc_set_markers — marker threads per collection (>= 1; the default is
 *   the number of CPUs; environment SPANGC_MARKERS).  EINVAL if n < 1.
 */
SGC_API void sgc_collect(void);
SGC_API void sgc_disable(void);
SGC_API void sgc_enable(void);
SGC_API int sgc_set_gcpercent(int percent);
SGC_API void sgc_set_max_heap(size_t bytes);
SGC_API int sgc_set_markers(int n);

/*
 * sgc_set_memory_limit — a soft limit on every byte the collector holds
 *   from the OS: spans in use, free pages not yet released, metadata
 *   (sgc_stats.memory_held_bytes).  0: none.  Returns the previous limit.
 *   Near the limit, collections come sooner (the goal is lowered so that
 *   goal plus overhead stays under the limit) and free pages go back to
 *   the OS at once.  It never fails an allocation: a program whose live
 *   data exceeds the limit goes over it (up to the GOGC goal at most), and
 *   the collections the limit adds are held to about half of the wall
 *   time instead of running back to back.  Combines
 *   with GOGC (the lower goal wins; with GOGC off, collections run only
 *   near the limit) and with sgc_set_max_heap (still the hard limit on
 *   in-use spans).  Environment: SPANGC_MEMLIMIT (bytes, with an optional
 *   K, M, G, KiB, MiB or GiB suffix; anything else stops the program at
 *   start, saying why).
 */
SGC_API size_t sgc_set_memory_limit(size_t bytes);

/*
 * Finalizers.  sgc_set_finalizer(p, fn, arg): when the object whose base is
 * p becomes unreachable, fn(p, arg) runs on the finalizer thread (started
 * with the first finalizer).  The object and everything it references stay
 * alive until fn has returned; fn may make the object reachable again.  An
 * object referenced by another finalizable object is finalized in a later
 * cycle than its referrer (topological order); a cycle of finalizable
 * objects is never collected.  fn NULL removes p's finalizer; a second call
 * replaces it.  arg is kept alive while the finalizer is registered.
 * Returns 0, EINVAL (p NULL) or ENOMEM; aborts if p is not the base of a
 * live object.  sgc_free(p) cancels the finalizer.
 *
 * sgc_run_finalizers — run the queued finalizers on the calling thread;
 *   returns how many ran.
 * sgc_wait_finalizers — wait until the queue is empty and no finalizer is
 *   running (returns at once if the finalizer thread is disabled).  Called
 *   from a finalizer, it runs the queued ones itself, then waits for the
 *   others running, not for its caller.
 * sgc_finalizers_pending — number of queued finalizers.
 * sgc_set_finalizer_thread(0) — never start the finalizer thread, and if
 *   it runs, let it take no more finalizers (one it took finishes): the
 *   program runs them with sgc_run_finalizers; 1 re-allows it.
 */
SGC_API int sgc_set_finalizer(void *p, void (*fn)(void *obj, void *arg),
                              void *arg);
SGC_API size_t sgc_run_finalizers(void);
SGC_API void sgc_wait_finalizers(void);
SGC_API size_t sgc_finalizers_pending(void);
SGC_API void sgc_set_finalizer_thread(int enabled);

/*
 * Weak slots (bdwgc's disappearing links).  sgc_register_weak(slot, obj):
 * when the object whose base is obj becomes unreachable, *slot is set to
 * NULL (if it still holds obj), before any finalizer of obj runs.  The
 * slot itself must not keep obj alive: put it in memory the collector does
 * not scan (a noscan object, malloc'ed memory not added as a root).  If the
 * slot lies inside a heap object that dies, the registration is dropped.
 * Registering a slot again re-targets it.  Returns 0, EINVAL or ENOMEM;
 * aborts if obj is not the base of a live object.
 * sgc_unregister_weak(slot) returns 0, or ENOENT if slot was not registered.
 */
SGC_API int sgc_register_weak(void **slot, void *obj);
SGC_API int sgc_unregister_weak(void **slot);

/*
 * sgc_set_finalizer_ex — sgc_set_finalizer with an ordering mode, which
 *   also reports the finalizer it replaces (*oldfn, *oldarg; NULL if none;
 *   either pointer may be NULL).  fn NULL removes the finalizer.  Modes:
 *   SGC_FIN_ORDERED     as sgc_set_finalizer: everything the object points
 *                       to (itself included) stays alive, so a finalizable
 *                       object referenced by another one is finalized in
 *                       a later cycle, and one pointing to itself never.
 *   SGC_FIN_IGNORE_SELF as ORDERED, but pointers from the object into
 *                       itself do not count.
 *   SGC_FIN_NO_ORDER    the object is finalized as soon as it is
 *                       unreachable from roots and ordinary objects, even
 *                       if other finalizable objects point to it; what it
 *                       points to is kept alive until its finalizer ran.
 *   SGC_FIN_UNREACHABLE as ORDERED, and also not while any finalizable
 *                       object (NO_ORDER ones included) reaches it.
 *   Returns 0, EINVAL (p NULL or mode unknown) or ENOMEM; aborts if p is
 *   not the base of a live object.
 */
enum {
  SGC_FIN_ORDERED = 0,
  SGC_FIN_IGNORE_SELF = 1,
  SGC_FIN_NO_ORDER = 2,
  SGC_FIN_UNREACHABLE = 3
};
SGC_API int sgc_set_finalizer_ex(void *p, void (*fn)(void *obj, void *arg),
                                 void *arg, int mode,
                                 void (**oldfn)(void *obj, void *arg),
                                 void **oldarg);
/*
 * sgc_finalizers_ready — nonzero if some finalizer is queued (one atomic
 *   load: cheap enough for an allocation path).
 * sgc_finalizers_queued — finalizers queued since the program started.
 */
SGC_API int sgc_finalizers_ready(void);
SGC_API uint64_t sgc_finalizers_queued(void);

/*
 * sgc_register_link — bdwgc's disappearing link: when obj becomes
 *   unreachable, *slot is set to NULL whatever it holds (so the slot may
 *   keep obj hidden, e.g. as ~obj).  Returns 0, EEXIST if slot was
 *   registered already (it now targets obj), EINVAL or ENOMEM; aborts if
 *   obj is not the base of a live object.  sgc_unregister_weak ends it.
 * sgc_move_weak — the registration of slot 'from' (weak slot or link) now
 *   concerns slot 'to'.  Returns 0, ENOENT (from not registered), EEXIST
 *   (to already registered; nothing changes) or EINVAL.
 */
SGC_API int sgc_register_link(void **slot, void *obj);
SGC_API int sgc_move_weak(void **from, void **to);

/* ==================================================================
 * Object kinds, descriptors and mark procedures (for language runtimes)
 * ================================================================== */

/*
 * A kind says how the collector finds the pointers in an object.  Kind 0
 * (SGC_KIND_SCAN) is every word of the object (sgc_alloc); kind 1
 * (SGC_KIND_NOSCAN) is none (sgc_alloc_noscan); sgc_new_kind makes more,
 * each described by a descriptor word, in the encoding bdwgc's gc_mark.h
 * made common (the low two bits are a tag):
 *   SGC_DS_LENGTH     the first (descr) bytes of the object, every word.
 *   SGC_DS_BITMAP     bit 63 stands for word 0, bit 62 for word 1, ... (61
 *                     words at most); set bits are the pointer words.
 *   SGC_DS_PROC       a mark procedure: SGC_MAKE_PROC(index, env) with the
 *                     index from sgc_new_mark_proc and an env of up to 56
 *                     bits handed to the procedure.
 *   SGC_DS_PER_OBJECT the descriptor is in the object: at byte offset
 *                     (descr - SGC_DS_PER_OBJECT) if descr is non-negative
 *                     as a signed word; otherwise in its first word's
 *                     target ("type"), at offset
 *                     -(descr - SGC_DS_PER_OBJECT + SGC_INDIR_PER_OBJ_BIAS).
 * With SGC_KIND_ADD_SIZE the object's size in bytes is added to the kind's
 * descriptor first (SGC_DS_LENGTH with 0: the whole object).
 */
#define SGC_DS_TAG_BITS 2
#define SGC_DS_LENGTH 0
#define SGC_DS_BITMAP 1
#define SGC_DS_PROC 2
#define SGC_DS_PER_OBJECT 3
#define SGC_INDIR_PER_OBJ_BIAS 0x10
#define SGC_LOG_MAX_MARK_PROCS 6
#define SGC_MAKE_PROC(index, env)                                             \
  (((((uintptr_t)(env) << SGC_LOG_MAX_MARK_PROCS) | (uintptr_t)(index))       \
    << SGC_DS_TAG_BITS) | SGC_DS_PROC)
enum { SGC_KIND_SCAN = 0, SGC_KIND_NOSCAN = 1, SGC_MAX_KINDS = 16 };
#define SGC_KIND_ADD_SIZE 1

/*
 * sgc_new_kind — a new kind; returns its number (3..SGC_MAX_KINDS-1: kind 2
 *   is typed objects', see sgc_alloc_typed), or
 *   -1 with errno EAGAIN when every kind is taken or EINVAL for a
 *   descriptor naming an unregistered mark procedure, an unknown flag, or
 *   SGC_KIND_ADD_SIZE with a bitmap or procedure descriptor (the size is
 *   added to a length or a per-object offset only).
 * sgc_alloc_kind — n zeroed bytes of kind 'kind' (aborts on an unknown
 *   kind).  Same size and error rules as sgc_alloc.
 * sgc_kind_of — the kind of the object whose base is p.
 */
SGC_API int sgc_new_kind(uintptr_t descr, int flags);
SGC_API SGC_MALLOC_ATTR void *sgc_alloc_kind(size_t n, int kind);
SGC_API int sgc_kind_of(const void *p);

/*
 * sgc_alloc_many — up to max objects of n bytes and kind 'kind' at once,
 *   cleared as sgc_alloc_kind clears them, stored in out[0..k); returns k,
 *   which is max unless memory ran out (then k may be 0, errno ENOMEM).
 *   Cheaper than k calls: one entry into the allocator for a run of free
 *   slots.  A collection may happen while out fills, so out must be
 *   memory the collector scans (the caller's stack, a heap object of a
 *   scanned kind).  Aborts on an unknown kind, as sgc_alloc_kind does.
 */
SGC_API size_t sgc_alloc_many(size_t n, int kind, void **out, size_t max);

/*
 * Mark procedures.  While marking, the collector calls
 *   proc(addr, top, limit, env)
 * for each reachable object whose descriptor is SGC_MAKE_PROC(index, env);
 * addr is the object's base.  The procedure reports what it references by
 * marking with sgc_mark_and_push(p, top, limit, src) (returns the new top;
 * p may be anything: non-heap values are ignored) and/or by pushing ranges:
 * (++top)->start = lo, top->descr = a descriptor for lo (SGC_DS_LENGTH: a
 * byte count), while top < limit; if it has more, it calls
 * top = sgc_mark_stack_overflow(top), which makes the collector run the
 * procedure again later.  It returns top.  It must not call the dynamic
 * loader (see sgc_set_root_callback).  It runs on a marker thread with
 * the world stopped, possibly on several threads at once: it must not
 * allocate, lock, or touch anything but the object and immutable data.
 * sgc_new_mark_proc returns the index (8..63), or -1 (errno EAGAIN).
 * sgc_set_mark_bit / sgc_clear_mark_bit / sgc_is_marked — the mark of the
 *   object containing p
 *   (marking one keeps it alive through this collection without scanning
 *   it); for use inside mark procedures and root callbacks.  With
 *   generations, old objects (those that survived a collection) read as
 *   marked until the next major collection, and during a minor one
 *   sgc_clear_mark_bit does nothing (between collections it makes the
 *   next collection major).  Between collections the object's span is
 *   swept first, so a clear never frees a live object and a set never
 *   keeps a dead one; without generations the sweep clears the marks, so
 *   sgc_is_marked then answers 0.
 */
typedef struct sgc_mark_entry {
  void *start;
  uintptr_t descr;
} sgc_mark_entry;
typedef sgc_mark_entry *(*sgc_mark_proc)(uintptr_t *addr, sgc_mark_entry *top,
                                         sgc_mark_entry *limit, uintptr_t env);
SGC_API int sgc_new_mark_proc(sgc_mark_proc proc);
SGC_API sgc_mark_entry *sgc_mark_and_push(void *p, sgc_mark_entry *top,
                                          sgc_mark_entry *limit, void **src);
SGC_API sgc_mark_entry *sgc_mark_stack_overflow(sgc_mark_entry *top);
SGC_API void sgc_set_mark_bit(const void *p);
SGC_API void sgc_clear_mark_bit(const void *p);
SGC_API int sgc_is_marked(const void *p);

/*
 * Typed objects.  sgc_make_descriptor(bitmap, nwords) describes an object
 * whose word i is a pointer iff bit i of bitmap (bit i%64 of bitmap[i/64])
 * is set, for i < nwords; later words hold none.  If a long bitmap cannot
 * be recorded (no memory), the descriptor scans every word up to the last
 * pointer word instead: less precise, never wrong.
 * sgc_alloc_typed(n, d) allocates n zeroed bytes scanned by d (one more
 * word is used, after the n bytes, for d).  sgc_calloc_typed(count, size,
 * d) allocates an array of count elements of size bytes, each scanned by
 * d.  Both follow sgc_alloc's size and error rules.
 */
SGC_API uintptr_t sgc_make_descriptor(const uintptr_t *bitmap, size_t nwords);
SGC_API SGC_MALLOC_ATTR void *sgc_alloc_typed(size_t n, uintptr_t descr);
SGC_API SGC_MALLOC_ATTR void *sgc_calloc_typed(size_t count, size_t size,
                                               uintptr_t descr);

/*
 * Uncollectable objects: roots (scanned) that the collector never frees;
 * only sgc_free ends them.  Same size and error rules as sgc_alloc.
 * sgc_is_uncollectable(p) for the base of a live object.
 */
SGC_API SGC_MALLOC_ATTR void *sgc_alloc_uncollectable(size_t n);
SGC_API SGC_MALLOC_ATTR void *sgc_alloc_noscan_uncollectable(size_t n);
SGC_API int sgc_is_uncollectable(const void *p);

/*
 * Collection hooks.
 * sgc_set_root_callback(fn) — fn() runs once per collection while roots
 *   are marked (world stopped, on the collecting thread; with
 *   SPANGC_DEBUG=verify=1 once more after a minor or concurrent one, for
 *   the verifier's full mark); it may call
 *   sgc_push_range(lo, hi) (every word of [lo, hi) is a root for this
 *   collection), sgc_mark_and_push and sgc_set_mark_bit.  It must not
 *   allocate or lock, nor call the dynamic loader (dlopen, dlsym, dladdr,
 *   dl_iterate_phdr: the collector holds the loader's lock, and a thread
 *   inside dlopen may wait for it).  Returns the previous callback.
 * sgc_root_callback_repeated() — inside the root callback: 1 when this is
 *   its second run in the collection (the verifier's full mark), 0 when it
 *   is the collection's own.  A callback whose work must happen once per
 *   collection (counting collections, reporting events) does it only
 *   when this is 0, and pushes its roots either way.
 * sgc_set_collect_hook(fn) — fn(forced) runs on the triggering thread
 *   before each collection, outside the collector's locks (it may call
 *   spangc but not allocate); with SPANGC_CONCURRENT=1 that thread is
 *   spangc's collector thread (spangc-conc) for a collection the heap's
 *   growth starts, whose thread-locals are roots as any registered
 *   thread's.  forced is nonzero for sgc_collect and for
 *   an allocation that reached the sgc_set_max_heap limit.  For any other
 *   collection (one an allocation triggered, the heap unable to grow
 *   included) a nonzero return skips it.  Returns the previous hook.
 * sgc_set_start_hook(fn) — fn() runs once at the start of every
 *   collection, on the collecting thread, holding the collector's lock,
 *   before the world stops: it must not allocate, lock, or call spangc.
 *   Returns the previous hook.
 * sgc_push_range aborts when called outside a root callback or a mark
 *   procedure.
 */
SGC_API void (*sgc_set_root_callback(void (*fn)(void)))(void);
SGC_API int sgc_root_callback_repeated(void);
SGC_API void sgc_push_range(void *lo, void *hi);
SGC_API int (*sgc_set_collect_hook(int (*fn)(int forced)))(int);
SGC_API void (*sgc_set_start_hook(void (*fn)(void)))(void);

/*
 * sgc_set_reclaim_hook(fn) — fn(obj, size, kind) is asked about every
 *   object a collection found unreachable, just before the sweep would
 *   reclaim it (objects freed with sgc_free and objects a finalizer keeps
 *   are not asked about).  It runs on whichever thread sweeps the object's
 *   span (the background sweeper, an allocating thread, or the collector
 *   with the world stopped), inside a region where no collection starts;
 *   it must not allocate, call spangc, or wait for another thread (a lock
 *   of its own is fine if every other holder takes it inside
 *   sgc_call_without_collections).  The
 *   object's contents are intact.  A nonzero return keeps the object for
 *   ever: it is never reclaimed, reused, or asked about again, and what it
 *   references is kept only if reachable otherwise (sgc_free releases
 *   it).  NULL removes the hook; without one the sweep costs nothing more.
 *   Returns the previous hook.  (Leak detection: the bdwgc layer.)
 */
typedef int (*sgc_reclaim_hook_fn)(void *obj, size_t size, int kind);
SGC_API sgc_reclaim_hook_fn sgc_set_reclaim_hook(sgc_reclaim_hook_fn fn);

/*
 * sgc_thread_is_registered — nonzero if the calling thread is a mutator.
 * sgc_in_blocking — nonzero inside a blocking region.
 * sgc_is_heap_ptr — nonzero if p points into an in-use span of the heap
 *   (an object or a free slot), never aborts.
 * sgc_expand_heap — grow the heap by at least bytes of free pages now, and
 *   let allocation-triggered collections wait until that much more is in
 *   use.  Returns 0, or ENOMEM (no memory, or the heap would exceed the
 *   sgc_set_max_heap limit).
 * sgc_heap_bounds — [*lo, *hi) contains every heap object, now and later.
 * sgc_collect_a_little — sweep some of the heap left unswept by the last
 *   collection; returns nonzero while some is left.  With nothing left to
 *   sweep and the heap at its goal, it runs the collection that the next
 *   allocation would have started.
 */
SGC_API int sgc_thread_is_registered(void);
SGC_API int sgc_in_blocking(void);
SGC_API int sgc_is_heap_ptr(const void *p);
SGC_API int sgc_expand_heap(size_t bytes);
SGC_API void sgc_heap_bounds(void **lo, void **hi);
SGC_API int sgc_collect_a_little(void);

/*
 * sgc_call_without_collections — fn(arg), during which no collection
 *   starts (one under way finishes first); returns fn's result.  For code
 *   that turns a hidden pointer (e.g. the ~p a link slot holds) back into
 *   a pointer: no collection can clear the link between the read and the
 *   use.  fn may allocate: a collection that falls due meanwhile waits
 *   until fn returns (the heap goes past its goal; at SPANGC_MAX_HEAP the
 *   allocation fails).  fn must not call sgc_collect: that aborts naming
 *   the call.  Several threads may run such calls at once, and calls may
 *   nest; a collection waiting to start holds new (outermost) calls back
 *   until it has run, so overlapping calls cannot keep it out for ever:
 *   fn must not wait for another thread that is about to make such a
 *   call.
 *   sgc_collect_a_little called from fn only sweeps.
 *   fn must not fork(): that aborts naming the call (the child could
 *   otherwise start with another thread's fn half done).
 *   fn returns on the thread that called: a fiber suspended inside fn
 *   can be resumed on that thread only (a switch to it elsewhere aborts,
 *   naming the fiber), and that thread must not exit before fn returns
 *   (its exit aborts: no collection could start again).  fn must return:
 *   leaving it by longjmp, a C++ exception or thread cancellation keeps
 *   collections out for ever.
 */
SGC_API void *sgc_call_without_collections(void *(*fn)(void *), void *arg);

/* ==================================================================
 * Fibers: user-level contexts whose stacks live in the heap
 * ================================================================== */

typedef struct sgc_fiber sgc_fiber;

/*
 * sgc_fiber_create — a fiber that will run fn(arg) on a stack of
 *   stack_size bytes (0: 256 KiB) with a guard page below it.  It starts
 *   when something switches to it.  The fiber is a collectable object: keep
 *   a pointer to it while you intend to switch to it; an unreachable fiber
 *   (finished or not) has its stack freed by the next collection.  arg, and
 *   the fiber that last switched to it, are kept alive by the fiber until
 *   its function returns.  Returns NULL with errno EINVAL (fn NULL) or
 *   ENOMEM.  The stack cannot grow: overflowing it aborts with a message
 *   naming the fiber.
 * sgc_fiber_switch — suspend the running fiber (or the thread's own stack)
 *   and run 'to' on the calling thread.  Returns when something switches
 *   back.  A fiber runs on whichever registered thread switches to it.
 *   Aborts, naming the fiber, if 'to' is running (here or on another
 *   thread), has finished, is not a fiber, or is another thread's own stack.
 *   When a fiber's function returns, control goes back to the fiber that
 *   last switched to it (which must then be resumable on this thread).
 * sgc_fiber_self — the running fiber; on a thread's own stack, a fiber
 *   standing for that stack, which only that thread can switch to.
 * sgc_fiber_finished — nonzero once f's function has returned.
 * A thread must be back on its own stack when it exits.
 */
SGC_API sgc_fiber *sgc_fiber_create(void (*fn)(void *), void *arg,
                                    size_t stack_size);
SGC_API void sgc_fiber_switch(sgc_fiber *to);
SGC_API sgc_fiber *sgc_fiber_self(void);
SGC_API int sgc_fiber_finished(const sgc_fiber *f);

#ifdef __cplusplus
}
#endif
#endif /* SPANGC_H */
