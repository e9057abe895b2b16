/*
 * dirty.c — the kernel's record of which heap pages were written.
 *
 * Mechanism (SPANGC_DIRTY=uffd, the default where the kernel has it): the
 * arena is registered with a userfaultfd in asynchronous write-protect
 * mode (Linux 6.7+: UFFD_FEATURE_WP_ASYNC and UFFD_FEATURE_WP_UNPOPULATED).
 * A write to a protected page is resolved inside the kernel, with no
 * signal and no handler thread: the page simply loses its protection.  A
 * PAGEMAP_SCAN ioctl on /proc/self/pagemap lists the pages that are not
 * protected, which the kernel calls "written".  No mprotect, no SIGSEGV:
 * system calls that write into the heap (read(2), recv) just work, and the
 * kernel's own writes count as writes.  Without the mechanism
 * (SPANGC_DIRTY=off, an older kernel, a seccomp filter refusing
 * userfaultfd) every listing reports "lost" and every collection is major.
 *
 * The collector protects pages itself (dirty_protect), after a listing,
 * and only those it wants watched (genprotect.c: pages holding old
 * objects).  A listing is then every page of [lo, hi) that is not
 * protected: written since its protection, never protected, never
 * populated since the arena was committed (the kernel counts a page with
 * no page-table entry as unprotected), or released.  More is listed than
 * was written, never less.  It returns false ("assume everything was
 * written") for the first listing, the first in a child of fork() (the
 * child's mappings are not registered: the registration is made again
 * there), and after any error of the kernel.
 *
 * Between a listing and the protection that follows it the world is
 * stopped: only a thread outside the stop (in a blocking region, or
 * unregistered) or the kernel acting for one could write, and such threads
 * must not store heap pointers into the heap (spangc.h); a write they make
 * there is missed, as it would race with the mark without generations.
 *
 * The kernel works in 4 KiB pages; runs are byte ranges.  Only the
 * committed arena is ever listed or protected: protecting a range installs
 * the kernel's markers in page tables even for pages never touched.
 *
 * Debian 12's kernel headers predate all of this: the few definitions
 * needed are carried below and support is detected at run time.
 *
 * Threads: every function here runs on the collecting thread (gc_lock
 * held), with the world stopped, or running before a concurrent mark
 * (dirty_track_begin and the protection that follows), or in sgc_init;
 * except the unprotect calls put off (dirty_unprotect_later), which the
 * thread that decided them makes once it let go of gc_lock
 * (dirty_unprotect_calls).  later.lock guards their list, and the
 * userfaultfd's number against them: whoever opens or closes it holds
 * that lock too, so no call is ever made on a number spangc let go of
 * and the program reused; a number the program closed itself is checked
 * before each such call (uffd_is_ours), and at every listing.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "spangc-int.h"

/* ---------------------------------------- the kernel's ABI (Linux 6.7+) */

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define SGC_UFFD_FEATURE_WP_UNPOPULATED ((uint64_t)1 << 13)
#define SGC_UFFD_FEATURE_WP_ASYNC ((uint64_t)1 << 15)

struct sgc_pm_scan_arg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
  uint64_t category_inverted, category_mask, category_anyof_mask;
  uint64_t return_mask;
};
#define SGC_PAGEMAP_SCAN _IOWR('f', 16, struct sgc_pm_scan_arg)
#define SGC_PAGE_IS_WRITTEN ((uint64_t)1 << 1)
#define SGC_PAGE_IS_PRESENT ((uint64_t)1 << 3)
#define SGC_PAGE_IS_SWAPPED ((uint64_t)1 << 4)
_Static_assert(SGC_PAGE_IS_PRESENT == DIRTY_RUN_PRESENT, "run categories");
#define SGC_PM_SCAN_WP_MATCHING ((uint64_t)1 << 0)
#define SGC_PM_SCAN_CHECK_WPASYNC ((uint64_t)1 << 1)

_Static_assert(sizeof(dirty_run) == 24, "dirty_run is the kernel's "
               "struct page_region");

/* ---------------------------------------------------------------- state */


static struct {
  int mechanism;      /* DIRTY_* chosen at init */
  int uffd, pagemap;  /* -1 when not set up */
  pid_t pid;          /* the process that set them up */
  os_file_id pm_id;   /* the pagemap file's, to notice a program that
                         closed and reused our fd */
  bool trusted;       /* the previous listing covered every write */
  uintptr_t reg_lo, reg_hi; /* registered range */
  dirty_run *runs;    /* the last listing */
  uint32_t nruns, caprun;
  uintptr_t pr_lo, pr_hi; /* pending protect range (merged) */
  /* figures */
  uint64_t listings, lost, pages_listed, last_pages;
  uint64_t pages_protected; /* atomic: protected anew, ever */
  dirty_run pvec[128]; /* what one protecting scan reports */
} dirty SGC_NOGC = {.uffd = -1, .pagemap = -1};

/* Unprotect calls put off until gc_lock is let go (dirty_unprotect_later,
 * dirty_unprotect_calls). */
static struct {
  sgc_mutex lock; /* the list; dirty.uffd's changes */
  range_list l;
} later SGC_NOGC = {SGC_MUTEX_INIT(DIRTY_LATER)};

bool range_list_push(range_list *l, uintptr_t lo, uintptr_t hi) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 1024;
    uintptr_t (*r)[2] = os_alloc(cap * sizeof *r);
    if (r == NULL)
      return false;
    if (l->r != NULL) {
      memcpy(r, l->r, l->n * sizeof *r);
      os_free(l->r, l->cap * sizeof *r);
    }
    ATOMIC_ADD(&sgc_heap.sys_meta, (cap - l->cap) * sizeof *r);
    l->r = r;
    l->cap = cap;
  }
  l->r[l->n][0] = lo;
  l->r[l->n][1] = hi;
  ATOMIC_STORE(&l->n, l->n + 1);
  return true;
}

const char *dirty_mechanism_name(int m) {
  return m == DIRTY_UFFD ? "uffd" : "off";
}

int dirty_mechanism(void) { return dirty.mechanism; }

/* Is fd still the descriptor we opened?  A program may close it and
 * reuse the number (daemons close everything): never close or use the
 * program's file.  The pagemap file is checked by its identity; the
 * userfaultfd by its kind (every anonymous inode looks alike). */
static bool pagemap_is_ours(void) {
  return os_fd_is(dirty.pagemap, dirty.pm_id);
}

static bool uffd_is_ours(void) {
  char path[32], link[64];
  if (dirty.uffd < 0)
    return false;
  snprintf(path, sizeof path, "/proc/self/fd/%d", dirty.uffd);
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n < 0)
    return false;
  link[n] = 0;
  return strcmp(link, "anon_inode:[userfaultfd]") == 0;
}

static void teardown(void) {
  sgc_lock(&later.lock); /* no put-off call is under way on it */
  if (uffd_is_ours())
    close(dirty.uffd);
  if (pagemap_is_ours())
    close(dirty.pagemap);
  dirty.uffd = dirty.pagemap = -1;
  dirty.reg_lo = dirty.reg_hi = 0;
  sgc_unlock(&later.lock);
}

/* ------------------------------------------- populated pages (markers) */

/* The pages of a large object that hold data, so that a marker does not
 * read the rest (pagemap_populated).  A page of private anonymous memory
 * that is neither present nor swapped (no page-table entry: never touched
 * since the arena was committed or the page released) reads as zero, and
 * reading it costs a fault: 8-17 us a page on these machines, where the
 * pause test's first collection spent 4 ms with the world stopped reading
 * the untouched part of a 1.2 MB array.  Only a page with no entry is
 * skipped: a write-protected unpopulated page (the kernel's marker) and a
 * page under migration count as swapped, and are read.
 *
 * Its own descriptor of /proc/self/pagemap, not the listing's: markers
 * call this with the world stopped or running (a concurrent mark, an
 * assist) while the collecting thread may set the listing's up again.
 * Opened at the first call (markers race to it: one keeps its own), read
 * only; a fork child closes it (it names the parent's memory) and opens
 * its own at its first call.  pm_pid tells a child made without fork
 * handlers, the file's identity a descriptor the program closed and
 * reused.  Threads: pm_fd and pm_pid atomic; one thread opens, and
 * writes the identity before it publishes pm_fd (a release store); the
 * others read it only after loading pm_fd (acquire). */
static int high_fd(int fd);
static int pm_fd = -2;  /* atomic: -2 not opened yet, -3 being opened,
                           -1 unusable */
static pid_t pm_pid;    /* atomic: the process that opened pm_fd */
static os_file_id pm_fid; /* its identity, set before pm_fd is published */

static int populated_fd(void) {
  int fd = ATOMIC_LOAD(&pm_fd);
  int expect = -2;
  /* One thread opens (-3 meanwhile: the others read objects whole). */
  if (fd != -2 || !__atomic_compare_exchange_n(&pm_fd, &expect, -3, false,
                                               __ATOMIC_SEQ_CST,
                                               __ATOMIC_SEQ_CST))
    return fd == -2 ? -1 : fd;
  int nfd = high_fd(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (nfd >= 0 && !os_fd_id(nfd, &pm_fid)) {
    close(nfd);
    nfd = -1;
  }
  if (nfd >= 0)
    ATOMIC_STORE(&pm_pid, getpid());
  ATOMIC_STORE(&pm_fd, nfd); /* publishes the identity (release) */
  return nfd;
}

/* The parent's file, closed in the child unless the program closed it and
 * reused the number (then it is the program's file). */
static void populated_atfork_child(void) {
  int fd = ATOMIC_LOAD(&pm_fd);
  if (os_fd_is(fd, pm_fid))
    close(fd);
  ATOMIC_STORE(&pm_fd, -2);
}

/* With the world running, a call covers WP_CALL_MAX at most, and a short
 * sleep follows it.  One call holds the process's mmap lock for reading
 * throughout: a thread that maps memory meanwhile (the arena grows, a
 * stack is made: the lock for writing) waits for all of it, a pause of
 * the program with the world running (45 ms when one call unprotected a
 * 700 MB heap).  A waiting writer is woken when the lock is let go, but
 * the kernel lets readers take it before the writer has run, for up to
 * about 4 ms (the pause test: pushes of 8-11 ms blocked in mprotect, with
 * 4 MiB calls back to back), hence the sleep.  A call also holds up the
 * program's own write faults: on this project's virtual machines a fault
 * taken while a call is under way waits for the call (the guest's
 * page-table updates trap to the host); 8 MiB calls took 0.3-0.9 ms, and
 * every first write to a protected page during the protection of a
 * 200 MB heap took 1-1.5 ms (the pause test, scanned, concurrent: 60-75
 * pushes over 1 ms a run, each a write fault on the window array).
 * 2 MiB calls: about 12 such pushes, the same total time and 99.9th
 * percentile; 256 KiB calls made the run 30% longer (a call and a sleep
 * per 64 pages). */
#define WP_CALL_MAX ((uintptr_t)2 << 20)
static void call_gap(void) {
  struct timespec ts = {0, 20000}; /* 20 us */
  nanosleep(&ts, NULL);
}

/* A listing call, with the world running, covers DIRTY_LIST_CALL_MAX (64
 * MiB) at most, and the short sleep follows it, for WP_CALL_MAX's
 * reasons: a listing only reads the page tables, 3-8 us a MiB, but the
 * pre-cleaning rounds list the whole arena, and one call over a 300 MB
 * heap held the mmap lock 1-4 ms while the pause test's allocating thread
 * waited to map a metadata chunk (its slowest pushes, concurrent,
 * pointer-free; conc_precleaning_listings_let_go_of_the_mmap_lock).  10
 * alternated runs each: 16 MiB calls took the pointer-free worst push's
 * median from 0.79 to 0.33 ms, but the scanned one's from 0.67 to 1.08
 * ms (the rounds, longer by their sleeps, left more pages to the final
 * stop); 64 MiB calls: 0.33 and 0.75 ms. */
void (*sgc_test_listing_call_hook)(uintptr_t lo, uintptr_t hi, bool running);

/* The end of one call over [lo, hi): at most 'max' on from lo with the
 * world running (WP_CALL_MAX, DIRTY_LIST_CALL_MAX), the whole range with
 * it stopped (nobody maps memory then). */
static uintptr_t call_end(uintptr_t lo, uintptr_t hi, uintptr_t max,
                          bool running) {
  return running && hi - lo > max ? lo + max : hi;
}

static void note_listing_call(uintptr_t lo, uintptr_t hi, bool running) {
  void (*hook)(uintptr_t, uintptr_t, bool) =
      ATOMIC_LOAD(&sgc_test_listing_call_hook);
  if (hook)
    hook(lo, hi, running);
}

/* With the world running, a call covers DIRTY_LIST_CALL_MAX at most, and
 * a call cut there sleeps (call_gap) before it returns: the callers go on
 * from *walked, and a thread mapping memory meanwhile waits for one call
 * at most (a marker reading a 1 GB object held the mmap lock for its
 * whole walk, as the listings did; scan()). */
int pagemap_populated(uintptr_t lo, uintptr_t hi, dirty_run *runs, int max,
                      uintptr_t *walked) {
  int fd = populated_fd();
  /* Still ours, in this process: a program may close every descriptor
   * and reuse the number (then the answer could be another file's). */
  if (fd < 0 || ATOMIC_LOAD(&pm_pid) != getpid() || !os_fd_is(fd, pm_fid))
    return -1;
  bool running = !world_is_stopped();
  uintptr_t e = call_end(lo, hi, DIRTY_LIST_CALL_MAX, running);
  note_listing_call(lo, e, running);
  struct sgc_pm_scan_arg a = {
      .size = sizeof a,
      .start = lo, .end = e,
      .vec = (uint64_t)(uintptr_t)runs, .vec_len = (uint64_t)max,
      .category_anyof_mask = SGC_PAGE_IS_PRESENT | SGC_PAGE_IS_SWAPPED,
      .return_mask = SGC_PAGE_IS_PRESENT | SGC_PAGE_IS_SWAPPED};
  long n;
  while ((n = ioctl(fd, SGC_PAGEMAP_SCAN, &a)) < 0 && errno == EINTR)
    ;
  if (n < 0 || a.walk_end <= lo || a.walk_end > e)
    return -1;
  *walked = a.walk_end;
  if (e < hi && a.walk_end == e)
    call_gap();
  return (int)n;
}

/* In the child of fork() (fork.c), before anything else runs: the
 * descriptors are the parent's registration, still ours to close; the
 * child's mappings are registered again at its first listing. */
void dirty_atfork_child(void) {
  populated_atfork_child();
  /* The calls put off were the parent's (its descriptor, its pages): the
   * child's pages are not registered, so nothing of theirs is protected. */
  ATOMIC_STORE(&later.l.n, 0);
  if (dirty.mechanism == DIRTY_OFF)
    return;
  /* Unless the program closed them and reused the numbers: then they are
   * its files, which the child keeps (the adversarial review: a daemon
   * that closed every descriptor and opened its own lost one in every
   * child). */
  if (uffd_is_ours())
    close(dirty.uffd);
  if (pagemap_is_ours())
    close(dirty.pagemap);
  dirty.uffd = dirty.pagemap = -1;
  dirty.trusted = false;
}

/* Keep our descriptors away from the low numbers that programs close and
 * reuse (daemons closing 0..N, dup2 onto 0-2). */
static int high_fd(int fd) {
  if (fd < 0)
    return fd;
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 512);
  if (h < 0)
    return fd;
  close(fd);
  return h;
}

/* A userfaultfd in asynchronous write-protect mode and the pagemap file;
 * false if the kernel lacks either. */
static bool setup(void) {
  teardown();
  int fd = (int)syscall(SYS_userfaultfd,
                        O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
  if (fd < 0)
    return false;
  struct uffdio_api api = {
      .api = UFFD_API,
      .features = SGC_UFFD_FEATURE_WP_ASYNC | SGC_UFFD_FEATURE_WP_UNPOPULATED};
  if (ioctl(fd, UFFDIO_API, &api) != 0 ||
      (api.features & SGC_UFFD_FEATURE_WP_ASYNC) == 0) {
    close(fd);
    return false;
  }
  int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm < 0) {
    close(fd);
    return false;
  }
  fd = high_fd(fd);
  sgc_lock(&later.lock);
  dirty.uffd = fd;
  sgc_unlock(&later.lock);
  dirty.pagemap = high_fd(pm);
  os_fd_id(dirty.pagemap, &dirty.pm_id);
  dirty.pid = getpid();
  return true;
}

/* Register [lo, hi) for write protection (once per range: the arena is
 * one reservation, registered whole; the kernel keeps the registration
 * across mprotect of its parts). */
static bool register_range(uintptr_t lo, uintptr_t hi) {
  struct uffdio_register r = {
      .range = {.start = lo, .len = hi - lo},
      .mode = UFFDIO_REGISTER_MODE_WP};
  if (ioctl(dirty.uffd, UFFDIO_REGISTER, &r) != 0)
    return false;
  dirty.reg_lo = lo;
  dirty.reg_hi = hi;
  return true;
}

void dirty_init(void) {
  const char *e = sgc_option("SPANGC_DIRTY");
  dirty.mechanism = DIRTY_OFF;
  if (e && *e && strcmp(e, "off") != 0 && strcmp(e, "uffd") != 0)
    sgc_fatal("SPANGC_DIRTY=%s: expected 'uffd' or 'off'", e);
  if (e && strcmp(e, "off") == 0)
    return;
  mheap *h = &sgc_heap;
  if (!setup())
    goto refused;
  if (!register_range(h->arena_start, h->arena_end))
    goto refused;
  /* Probe PAGEMAP_SCAN once on an empty range of the reservation. */
  struct sgc_pm_scan_arg a = {
      .size = sizeof a, .flags = SGC_PM_SCAN_CHECK_WPASYNC,
      .start = h->arena_start, .end = h->arena_start,
      .category_mask = SGC_PAGE_IS_WRITTEN,
      .return_mask = SGC_PAGE_IS_WRITTEN};
  long probe;
  while ((probe = ioctl(dirty.pagemap, SGC_PAGEMAP_SCAN, &a)) < 0 &&
         errno == EINTR)
    ;
  if (probe < 0)
    goto refused;
  dirty.mechanism = DIRTY_UFFD;
  return;
refused:
  teardown();
  if (e && strcmp(e, "uffd") == 0)
    sgc_warn("SPANGC_DIRTY=uffd: the kernel refuses asynchronous "
             "write-protection (userfaultfd WP_ASYNC, PAGEMAP_SCAN: Linux "
             "6.7+); every collection is major");
}

/* Are our descriptors still ours, in this process?  A child of fork()
 * is told apart by its pid, and, where the pid says nothing (a child in a
 * new pid namespace may get the parent's number, and raw clone() runs no
 * fork handler), by /proc/self/pagemap: a process's own pagemap file is
 * not its parent's. */
static bool still_ours(void) {
  if (dirty.pid != getpid())
    return false; /* a child of fork(): nothing is registered here */
  os_file_id self;
  if (!pagemap_is_ours() || !uffd_is_ours())
    return false;
  return os_path_id("/proc/self/pagemap", &self) &&
         os_same_file(self, dirty.pm_id);
}

/* The arena registered in this process: on first use here (a fork
 * child, or after an error) the registration is made again (*again set).
 * False if it cannot be: the record is lost. */
static bool ensure_registered(bool *again) {
  *again = false;
  if (dirty.uffd >= 0 && still_ours())
    return true;
  *again = true;
  if (setup() &&
      register_range(sgc_heap.arena_start, sgc_heap.arena_end))
    return true;
  teardown();
  dirty.lost++;
  dirty.trusted = false;
  return false;
}

static bool grow_runs(void) {
  uint32_t cap = dirty.caprun ? dirty.caprun * 2 : 4096;
  dirty_run *r = os_alloc(cap * sizeof *r);
  if (r == NULL)
    return false;
  if (dirty.runs) {
    memcpy(r, dirty.runs, dirty.nruns * sizeof *r);
    os_free(dirty.runs, dirty.caprun * sizeof *r);
  }
  ATOMIC_ADD(&sgc_heap.sys_meta, (cap - dirty.caprun) * sizeof *r);
  dirty.runs = r;
  dirty.caprun = cap;
  return true;
}

/* One PAGEMAP_SCAN pass over [lo, hi), appending runs; false on error. */
static bool scan(uintptr_t lo, uintptr_t hi) {
  bool running = !world_is_stopped();
  while (lo < hi) {
    if (dirty.nruns == dirty.caprun && !grow_runs())
      return false;
    uintptr_t e = call_end(lo, hi, DIRTY_LIST_CALL_MAX, running);
    note_listing_call(lo, e, running);
    struct sgc_pm_scan_arg a = {
        .size = sizeof a,
        .flags = SGC_PM_SCAN_CHECK_WPASYNC,
        .start = lo, .end = e,
        .vec = (uint64_t)(uintptr_t)(dirty.runs + dirty.nruns),
        .vec_len = dirty.caprun - dirty.nruns,
        .category_mask = SGC_PAGE_IS_WRITTEN,
        .return_mask = SGC_PAGE_IS_WRITTEN | SGC_PAGE_IS_PRESENT};
    long n = ioctl(dirty.pagemap, SGC_PAGEMAP_SCAN, &a);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    dirty.nruns += (uint32_t)n;
    if (a.walk_end <= lo || a.walk_end > e)
      return false; /* no progress: do not loop for ever */
    lo = a.walk_end;
    if (a.walk_end == e && lo < hi && running)
      call_gap();
  }
  return true;
}

/* Lists at least every page written since it was protected
 * (rule:list-more-never-less), in each range next gives (ascending). */
bool dirty_list_ranges(bool (*next)(void *arg, uintptr_t *lo, uintptr_t *hi),
                       void *arg, const dirty_run **runs, uint32_t *n) {
  dirty.nruns = 0;
  *runs = dirty.runs;
  *n = 0;
  if (dirty.mechanism == DIRTY_OFF)
    return false;
  bool trusted = dirty.trusted;
  bool again = false;
  if (!ensure_registered(&again))
    return false;
  if (again) /* nothing before the new registration was recorded */
    trusted = false;
  bool ok = true;
  uintptr_t lo, hi;
  while (ok && next(arg, &lo, &hi))
    ok = scan(lo, hi);
  dirty.listings++;
  if (!ok) {
    /* A listing cut short: not to be trusted, and the registration is
     * made again at the next one. */
    teardown();
    dirty.lost++;
    dirty.trusted = false;
    dirty.nruns = 0;
    return false;
  }
  uint64_t pages = 0;
  for (uint32_t k = 0; k < dirty.nruns; k++)
    pages += (dirty.runs[k].hi - dirty.runs[k].lo) >> 12;
  dirty.last_pages = pages;
  dirty.pages_listed += pages;
  dirty.trusted = true;
  *runs = dirty.runs;
  *n = dirty.nruns;
  if (!trusted)
    dirty.lost++;
  return trusted;
}

static bool one_range(void *arg, uintptr_t *lo, uintptr_t *hi) {
  uintptr_t *r = arg;
  if (r[0] >= r[1])
    return false;
  *lo = r[0];
  *hi = r[1];
  r[0] = r[1];
  return true;
}

bool dirty_list(uintptr_t lo, uintptr_t hi, const dirty_run **runs,
                uint32_t *n) {
  uintptr_t r[2] = {lo, hi};
  return dirty_list_ranges(one_range, r, runs, n);
}

uint32_t dirty_merge_runs(uintptr_t gap) {
  uint32_t n = 0;
  for (uint32_t k = 0; k < dirty.nruns; k++) {
    if (n > 0 && dirty.runs[k].lo - dirty.runs[n - 1].hi <= gap) {
      dirty.runs[n - 1].hi = dirty.runs[k].hi;
      dirty.runs[n - 1].categories |= dirty.runs[k].categories;
    } else {
      dirty.runs[n++] = dirty.runs[k];
    }
  }
  dirty.nruns = n;
  return n;
}

bool dirty_track_begin(void) {
  bool again;
  if (dirty.mechanism == DIRTY_OFF || !ensure_registered(&again))
    return false;
  /* What the caller protects next is watched from then on; the listing
   * that ends the concurrent mark is its record, and that collection
   * marks everything again (rule:protect-before-scan). */
  dirty.trusted = true;
  return true;
}


/* Unprotect [lo, hi): UFFDIO_WRITEPROTECT with mode 0 (protecting is
 * protect_written's).  If the kernel refuses, the pages stay protected,
 * which only lists them at their first write: nothing is missed.  About
 * 17 us a MiB of populated pages: the kernel rewrites every entry of the
 * range. */
static void unprotect_range(uintptr_t lo, uintptr_t hi) {
  if (dirty.uffd < 0 || lo >= hi)
    return;
  bool running = !world_is_stopped();
  for (uintptr_t p = lo; p < hi;) {
    uintptr_t e = call_end(p, hi, WP_CALL_MAX, running);
    struct uffdio_writeprotect w = {.range = {.start = p, .len = e - p},
                                    .mode = 0};
    while (ioctl(dirty.uffd, UFFDIO_WRITEPROTECT, &w) != 0)
      if (errno != EINTR)
        return;
    p = e;
    if (p < hi)
      call_gap();
  }
}

/* Protect every page of [lo, hi): a PAGEMAP_SCAN that write-protects the
 * pages it finds written (PM_SCAN_WP_MATCHING), i.e. exactly those not
 * protected now -- written since their protection, never protected,
 * never populated, released.  The result is UFFDIO_WRITEPROTECT's, but
 * the kernel changes only those entries: a concurrent cycle protects the
 * whole heap before its mark (concurrent.c), and most of it is still
 * protected from the cycle before.  Measured here (256 MB populated, 2 MiB
 * calls): nothing written 0.4 ms against 5-6 ms, one page in 64 written
 * 9 ms against 14, all written 11 ms against 15-17.  Fewer changed
 * entries also means fewer of the program's faults held up and fewer TLB
 * flushes interrupting it (the guest's page-table updates trap to the
 * host).  The pages it protected are counted (sgc_stats).  False if the
 * kernel refused (only lists more: the pages left unprotected are listed
 * next time). */
static bool protect_written(uintptr_t lo, uintptr_t hi) {
  if (dirty.uffd < 0 || dirty.pagemap < 0 || lo >= hi)
    return false;
  bool running = !world_is_stopped();
  for (uintptr_t p = lo; p < hi;) {
    uintptr_t e = call_end(p, hi, WP_CALL_MAX, running);
    struct sgc_pm_scan_arg a = {
        .size = sizeof a,
        .flags = SGC_PM_SCAN_WP_MATCHING | SGC_PM_SCAN_CHECK_WPASYNC,
        .start = p, .end = e,
        .vec = (uint64_t)(uintptr_t)dirty.pvec,
        .vec_len = sizeof dirty.pvec / sizeof dirty.pvec[0],
        .category_mask = SGC_PAGE_IS_WRITTEN,
        .return_mask = SGC_PAGE_IS_WRITTEN};
    long n = ioctl(dirty.pagemap, SGC_PAGEMAP_SCAN, &a);
    if (n < 0) {
      if (errno == EINTR) /* protecting again is harmless */
        continue;
      return false;
    }
    uint64_t pages = 0;
    for (long k = 0; k < n; k++)
      pages += (dirty.pvec[k].hi - dirty.pvec[k].lo) >> 12;
    ATOMIC_ADD(&dirty.pages_protected, pages);
    if (a.walk_end <= p || a.walk_end > e)
      return false; /* no progress: do not loop for ever */
    /* Short of e: the report filled up, the walk goes on from there. */
    bool whole = a.walk_end == e;
    p = a.walk_end;
    if (whole && p < hi)
      call_gap();
  }
  return true;
}

static void protect_now(uintptr_t lo, uintptr_t hi) {
  if (protect_written(lo, hi))
    gen_note_protected(lo, hi);
}

void dirty_unprotect(uintptr_t lo, uintptr_t hi) { unprotect_range(lo, hi); }

/* Put off (gc_lock held): the call is made by dirty_unprotect_calls,
 * after the caller let go of gc_lock, so that a collection never waits
 * for it (rule:unprotect-calls-after-gc-lock).  At once if there is no
 * room to note it. */
void dirty_unprotect_later(uintptr_t lo, uintptr_t hi) {
  if (lo >= hi || dirty.uffd < 0)
    return;
  sgc_lock(&later.lock);
  if (!range_list_push(&later.l, lo, hi))
    unprotect_range(lo, hi);
  sgc_unlock(&later.lock);
}

void (*sgc_test_unprotect_calls_hook)(void);

/* The calls put off, made now, one at a time under later.lock, each of
 * WP_CALL_MAX at most (a fork, or a collection closing the descriptor,
 * waits for one call at most), with the short sleep (call_gap) after a
 * whole one (a thread waiting to map memory gets the mmap lock).  No
 * gc_lock; a registered caller is in a blocking region (world-int.h's
 * run_as_blocking): a stop may come meanwhile and need later.lock. */
void dirty_unprotect_calls(void) {
  while (ATOMIC_LOAD_RELAXED(&later.l.n) != 0) {
    test_hook_run(&sgc_test_unprotect_calls_hook);
    sgc_lock(&later.lock);
    if (later.l.n == 0) {
      sgc_unlock(&later.lock);
      return;
    }
    /* The program may have closed our descriptor and reused its number
     * (spangc's own closing waits for this lock): no call on its file.
     * The pages stay protected, which only lists them at their first
     * write; the next listing finds the descriptor gone and makes
     * another (ensure_registered). */
    if (!uffd_is_ours()) {
      ATOMIC_STORE(&later.l.n, 0);
      sgc_unlock(&later.lock);
      return;
    }
    size_t k = later.l.n - 1;
    uintptr_t lo = later.l.r[k][0], hi = later.l.r[k][1];
    bool whole = hi - lo > WP_CALL_MAX;
    if (whole) { /* the top of the range; the rest stays listed */
      lo = hi - WP_CALL_MAX;
      later.l.r[k][1] = lo;
    } else {
      ATOMIC_STORE(&later.l.n, k);
    }
    unprotect_range(lo, hi);
    sgc_unlock(&later.lock);
    if (whole)
      call_gap();
  }
}

/* fork.c: taken before a fork (after the heap's locks), so that no call
 * is under way across it; released after (in the child, whose list
 * dirty_atfork_child then empties). */
void dirty_atfork(int phase) {
  if (phase == FORK_PREPARE)
    sgc_lock(&later.lock);
  else
    sgc_unlock(&later.lock);
}

/* Ranges come in address order.  Close ones are merged into one call:
 * protecting the pages between them too only costs a fault if the
 * program writes them. */
#define PROTECT_GAP ((uintptr_t)64 << 10)

static void protect_merging(uintptr_t lo, uintptr_t hi, uintptr_t gap) {
  if (lo >= hi || dirty.mechanism == DIRTY_OFF)
    return;
  if (dirty.pr_hi != 0 && lo >= dirty.pr_lo && lo <= dirty.pr_hi + gap) {
    if (hi > dirty.pr_hi)
      dirty.pr_hi = hi;
    return;
  }
  dirty_protect_flush();
  dirty.pr_lo = lo;
  dirty.pr_hi = hi;
}

void dirty_protect(uintptr_t lo, uintptr_t hi) {
  protect_merging(lo, hi, PROTECT_GAP);
}

/* With the program running, only what the caller will rescan may be
 * protected: a page between two listed runs may have been written since
 * the listing, and protecting it would lose that write.  So ranges are
 * merged only when they touch (rule:preclean-protect-then-scan). */
void dirty_protect_exact(uintptr_t lo, uintptr_t hi) {
  protect_merging(lo, hi, 0);
}

void dirty_protect_flush(void) {
  if (dirty.pr_hi != 0)
    protect_now(dirty.pr_lo, dirty.pr_hi);
  dirty.pr_lo = dirty.pr_hi = 0;
}

void dirty_read_stats(sgc_stats *st) {
  st->dirty_tracking = dirty.mechanism;
  st->dirty_listings = dirty.listings;
  st->dirty_pages_listed = dirty.pages_listed;
  st->dirty_last_pages = dirty.last_pages;
  st->dirty_lost = dirty.lost;
  st->dirty_pages_protected = ATOMIC_LOAD(&dirty.pages_protected);
}

uint64_t dirty_last_pages(void) { return dirty.last_pages; }
