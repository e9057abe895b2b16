/*
 * markroot.c — the mark's roots: the table of root jobs, and setting up a
 * mark (mark_prepare).
 *
 * Roots are spread over the markers dynamically: a table of root jobs
 * (work.jobs) and an atomic cursor (work.jobidx) from which each marker
 * takes the next (mark_worker, mark.c, calls run_job).  A job is one of
 *   - a range of memory: a chunk of a loaded object's writable segments
 *     (data, bss; the runtime's own section cut out), of a user root
 *     (roots.c) or of a thread's start-up root, 256 KiB at most;
 *   - a stopped thread: its saved registers, its stack from its stack
 *     pointer up, its thread-local storage, its running fiber;
 *   - the finalizer queue (finalizer.c);
 *   - a chunk of 4096 spans of the snapshot: their uncollectable objects
 *     and finalizers' args;
 *   - with generations, in a minor collection: 256 KiB of pages written
 *     since the last collection, whose old objects are scanned again.
 * The root callback (sgc_set_root_callback) runs in mark_prepare, on the
 * collecting thread, before the other markers start.
 *
 * The loaded objects' segments and thread-local storage modules are
 * recorded by mark_record_segments while the collector holds the dynamic
 * loader's lock (collect.c).
 *
 * Threads: everything here but run_job (and what it calls) runs on the
 * collecting thread with the world stopped, before the markers start; the
 * table and the recorded segments are then only read.  A span's
 * speciallock is taken while its finalizers' args are marked.
 */
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mark-int.h"

extern char __start_spangc_nogc[] __attribute__((visibility("hidden")));
extern char __stop_spangc_nogc[] __attribute__((visibility("hidden")));

/* Out of memory for a table of roots: the collection cannot see all of
 * its roots and is abandoned (mark_prepare returns false). */
static bool tables_oom SGC_NOGC;

static void add_job(int kind, uintptr_t lo, uintptr_t hi, void *p) {
  if (work.njobs == work.capjobs) {
    uint32_t cap = work.capjobs ? work.capjobs * 2 : 1024;
    rootjob *j = os_alloc(cap * sizeof(rootjob));
    if (j == NULL) {
      tables_oom = true;
      return;
    }
    if (work.jobs) {
      memcpy(j, work.jobs, work.njobs * sizeof(rootjob));
      os_free(work.jobs, work.capjobs * sizeof(rootjob));
    }
    work.jobs = j;
    work.capjobs = cap;
  }
  work.jobs[work.njobs++] = (rootjob){kind, lo, hi, p};
}

/* A range of memory to scan as a root, cut in 256 KiB jobs, with the
 * runtime's own section (spangc_nogc) cut out. */
static void add_range_job(uintptr_t lo, uintptr_t hi, void *unused) {
  uintptr_t xlo = (uintptr_t)__start_spangc_nogc;
  uintptr_t xhi = (uintptr_t)__stop_spangc_nogc;
  if (lo < xhi && xlo < hi) {
    if (lo < xlo)
      add_range_job(lo, xlo, NULL);
    if (xhi < hi)
      add_range_job(xhi, hi, NULL);
    return;
  }
  for (uintptr_t p = lo; p < hi; p += 256 << 10)
    add_job(ROOT_RANGE, p, hi - p > (256 << 10) ? p + (256 << 10) : hi, NULL);
}

/* What the loaded objects contribute to the roots, recorded by
 * mark_record_segments while the collector holds the dynamic loader's
 * lock (see collect.c: the world is stopped from inside dl_iterate_phdr,
 * so no stopped thread can hold that lock, and nothing is loaded or
 * unloaded until the world restarts): their writable segments [lo, hi),
 * and the modules with thread-local storage (module id, size of its
 * block). */
typedef struct pairs {
  uintptr_t (*r)[2];
  uint32_t n, cap;
} pairs;
static pairs segs SGC_NOGC, tlsmods SGC_NOGC;

void mark_segments_reset(void) {
  segs.n = 0;
  tlsmods.n = 0;
  tables_oom = false;
}

static void pairs_add(pairs *t, uintptr_t a, uintptr_t b) {
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    uintptr_t(*r)[2] = os_alloc(cap * sizeof *r);
    if (r == NULL) {
      tables_oom = true;
      return;
    }
    if (t->r) {
      memcpy(r, t->r, t->n * sizeof *r);
      os_free(t->r, t->cap * sizeof *r);
    }
    t->r = r;
    t->cap = cap;
  }
  t->r[t->n][0] = a;
  t->r[t->n][1] = b;
  t->n++;
}

void mark_record_segments(struct dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_TLS && info->dlpi_tls_modid != 0 && ph->p_memsz)
      pairs_add(&tlsmods, info->dlpi_tls_modid, ph->p_memsz);
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
      continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    pairs_add(&segs, lo, lo + ph->p_memsz);
  }
}

/* A thread's thread-local storage, found through the C library's dynamic
 * thread vector (glibc, x86-64): the TCB's second word points at entry 1
 * of an array of 16-byte entries; entry -1 holds the array's length and
 * entry k the address of module k's block in this thread, or -1 until the
 * thread first touches it.  That covers the static TLS of the executable
 * and of the libraries loaded at start-up (the main thread's included,
 * which lies outside its stack), and the blocks of dlopen'ed libraries,
 * which the C library allocates on first use.  Only modules loaded now
 * are scanned: a dlclose'd module's blocks are garbage.  See design.md,
 * "Roots", for the hazards. */
#define DTV_MAX_LEN ((uintptr_t)1 << 20) /* more is a vector being replaced */
typedef struct dtv_entry {
  uintptr_t val, to_free;
} dtv_entry;

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TLS_OTHER_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TLS_OTHER_MALLOC 1
#endif

/* /proc/self/mem, kept once opened (mem.fd, atomic: -2 not opened yet,
 * -3 being opened, -1 unusable).  Before each use its identity is checked
 * against this process's file: in a child of fork() the inherited one is
 * the parent's memory (read there, a blocking thread's TLS would be the
 * parent's words at those addresses, and the child's objects only it
 * references freed), and a program may close ours and reuse the number.
 * Then another is opened; the old number is closed only if it holds the
 * file we opened (the parent's, inherited), never the program's.  The
 * identity is written while mem.fd is -3 and read after loading it.
 * A program thread that puts another file on the number while a
 * collection reads through it (dup2 onto it, the world running beside a
 * blocking thread) is not defended against: the check narrows that
 * window, it cannot close it (design.md, "Roots"). */
static struct {
  int fd;
  os_file_id id; /* its fields atomic */
} mem = {.fd = -2};

static os_file_id mem_id(void) {
  os_file_id id = {ATOMIC_LOAD_RELAXED(&mem.id.dev),
                   ATOMIC_LOAD_RELAXED(&mem.id.ino)};
  return id;
}

static int mem_file(void) {
  unsigned waits = 0;
  for (;;) {
    int fd = ATOMIC_LOAD(&mem.fd);
    if (fd == -1)
      return -1;
    if (fd == -3) { /* another marker opens it */
      os_wait_step(&waits);
      continue;
    }
    os_file_id self, kept = mem_id();
    if (!os_path_id("/proc/self/mem", &self))
      return -1;
    if (os_same_file(self, kept) && os_fd_is(fd, kept))
      return fd; /* ours, and this process's */
    if (!__atomic_compare_exchange_n(&mem.fd, &fd, -3, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      continue;
    /* Only this thread changes mem now: look again.  Between the look
     * above and the exchange, another marker may have replaced the file
     * and got the same number back (the adversarial review: it then
     * closed the other's new file, and a read in between failed). */
    kept = mem_id();
    if (os_fd_is(fd, kept)) { /* ours */
      if (os_same_file(self, kept)) {
        ATOMIC_STORE(&mem.fd, fd); /* this process's, opened by a marker */
        return fd;
      }
      close(fd); /* the parent's, inherited by this child */
    }
    int nfd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    os_file_id nid;
    if (nfd >= 0 && !os_fd_id(nfd, &nid)) {
      close(nfd);
      nfd = -1;
    }
    if (nfd >= 0) {
      ATOMIC_STORE_RELAXED(&mem.id.dev, nid.dev);
      ATOMIC_STORE_RELAXED(&mem.id.ino, nid.ino);
    }
    ATOMIC_STORE(&mem.fd, nfd);
    return nfd;
  }
}

/* Copy n bytes of this process's memory at src to dst without faulting:
 * returns how many were copied, fewer from the first page that is not
 * mapped.  process_vm_readv on our own pid, or where that is refused
 * (seccomp) /proc/self/mem (mem_file); -1 if neither can be used.  Plain
 * system calls: the world is stopped, and a stopped thread may hold a
 * lock of the C library. */
static ssize_t copy_nofault(void *dst, uintptr_t src, size_t n) {
  struct iovec l = {dst, n}, r = {(void *)src, n};
  ssize_t k = syscall(SYS_process_vm_readv, getpid(), &l, 1L, &r, 1L, 0L);
  if (k >= 0)
    return k;
  if (errno == EFAULT)
    return 0;
  int fd = mem_file();
  if (fd < 0)
    return -1;
  size_t done = 0;
  while (done < n) {
    k = pread(fd, (char *)dst + done, n - done, (off_t)(src + done));
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      break;
    done += (size_t)k;
  }
  return (ssize_t)done;
}

/* The TLS of a thread in a blocking region, which runs meanwhile: its C
 * library may free a block its vector names (the block of a closed
 * library, under a module id a newly opened one took, is freed when the
 * thread next touches TLS: glibc's _dl_update_slotinfo takes no lock we
 * hold) and may replace the vector itself.  So the vector and the blocks
 * malloc made are read only through copies that cannot fault, and malloc
 * is not asked the size of a block it may be freeing (malloc_usable_size
 * read an unmapped block's header; AddressSanitizer reported the call on
 * a freed block).  A block's end is its module's size, and in a plain
 * build also what the chunk's header says (read the same way), so a
 * stale small block is not read far past its end.  A freed block read
 * this way is garbage scanned: it can only keep objects, and only for a
 * cycle.  The static TLS blocks (no to_free) lie in the thread's own
 * mapping, which outlives the region.
 * (world_tls_of_blocking_threads_is_read_safely) */
SCAN_NO_SANITIZE static bool scan_blocking_thread_tls(gcwork *w,
                                                      const dtv_entry *dtv) {
  dtv_entry e;
  ssize_t got = copy_nofault(&e, (uintptr_t)&dtv[-1], sizeof e);
  if (got < 0)
    return false; /* no way to copy: read as a stopped thread's */
  if (got != sizeof e)
    return true; /* a vector freed and unmapped meanwhile */
  uintptr_t len = e.val;
  if (len > DTV_MAX_LEN)
    return true;
  for (uint32_t k = 0; k < tlsmods.n; k++) {
    uintptr_t id = tlsmods.r[k][0], size = tlsmods.r[k][1];
    if (id > len ||
        copy_nofault(&e, (uintptr_t)&dtv[id], sizeof e) != sizeof e)
      continue;
    uintptr_t b = e.val, from = e.to_free, end = b + size;
    if (b == 0 || b == UINTPTR_MAX || end < b)
      continue;
    if (from == 0) {
      push_or_scan(w, b, end);
      continue;
    }
#ifndef TLS_OTHER_MALLOC
    /* glibc's chunk header: the size, flag 2 for a chunk of its own
     * mapping (16 bytes of header, else 8 usable in the next chunk's). */
    uintptr_t hdr;
    if (copy_nofault(&hdr, from - sizeof hdr, sizeof hdr) != sizeof hdr)
      continue; /* unmapped: freed */
    uintptr_t csize = hdr & ~(uintptr_t)7, over = (hdr & 2) ? 16 : 8;
    if (csize <= over)
      continue;
    if (from + (csize - over) < end)
      end = from + (csize - over);
#endif
    uintptr_t buf[512];
    for (uintptr_t p = b & ~(uintptr_t)7; p < end;) {
      size_t want = end - p < sizeof buf ? end - p : sizeof buf;
      ssize_t n = copy_nofault(buf, p, want);
      if (n <= 0)
        break;
      scan_range(w, (uintptr_t)buf, (uintptr_t)buf + (size_t)n);
      if ((size_t)n < want)
        break;
      p += (size_t)n;
    }
  }
  return true;
}

SCAN_NO_SANITIZE static void scan_thread_tls(gcwork *w, mthread *t) {
  if (t->tcb == 0 || tlsmods.n == 0)
    return;
  const dtv_entry *dtv = *(dtv_entry *const *)(t->tcb + sizeof(void *));
  if (dtv == NULL)
    return;
  /* The state cannot change during a stop (sgc_exit_blocking waits). */
  if (t->state == THR_BLOCKING && scan_blocking_thread_tls(w, dtv))
    return;
  uintptr_t len = dtv[-1].val;
  if (len > DTV_MAX_LEN)
    return;
  for (uint32_t k = 0; k < tlsmods.n; k++) {
    uintptr_t id = tlsmods.r[k][0], size = tlsmods.r[k][1];
    if (id > len)
      continue;
    uintptr_t b = dtv[id].val, from = dtv[id].to_free, end = b + size;
    if (b == 0 || b == UINTPTR_MAX)
      continue;
    /* A block the C library allocated (dynamic TLS) is never read past
     * its end: an entry not yet brought up to date may still name the
     * block of a closed library whose module id a bigger one now uses. */
    if (from != 0) {
      uintptr_t fend = from + malloc_usable_size((void *)from);
      if (fend < end)
        end = fend;
    }
    if (b < end)
      push_or_scan(w, b, end);
  }
}

static void add_thread_job(mthread *t, void *arg) {
  add_job(ROOT_THREAD, 0, 0, t);
}

/* A stopped thread: its registers, the stack it runs on from its saved
 * stack pointer up, its running fiber's object, and its own stack from
 * where it left it if a fiber runs on it. */
SCAN_NO_SANITIZE static void scan_thread(gcwork *w, mthread *t) {
  /* Its TLS either way: a hook it ran may have left a pointer in a
   * thread-local (spangc.h: the TLS of registered threads is a root). */
  if (ATOMIC_LOAD_RELAXED(&t->noroots)) {
    scan_thread_tls(w, t);
    return;
  }
  scan_range(w, (uintptr_t)&t->ctx, (uintptr_t)(&t->ctx + 1));
  scan_range(w, (uintptr_t)t->fpstate, (uintptr_t)t->fpstate + t->fpsize);
  scan_range(w, (uintptr_t)&t->ctx_now, (uintptr_t)(&t->ctx_now + 1));
  uintptr_t sp = t->sp;
  if (sp < t->stack_lo || sp > t->stack_hi)
    sgc_fatal("collect: thread %lu has a stack pointer %p outside its "
              "stack [%p, %p)", (unsigned long)t->tid, (void *)sp,
              (void *)t->stack_lo, (void *)t->stack_hi);
  scan_range(w, sp, t->stack_hi);
  scan_thread_tls(w, t);
  if (t->cur != &t->home) {
    mark_word(w, (uintptr_t)t->cur);
    push_or_scan(w, t->home.sp, t->home.hi);
  }
}

/* Per-span roots of spans [lo, hi) of the snapshot: uncollectable objects
 * are marked (and so scanned), and so is every finalizer's arg.  What
 * finalizable objects reference is marked later (mark_finalizers), after
 * weak slots were cleared. */
static void scan_span_roots(gcwork *w, uint32_t lo, uint32_t hi) {
  for (uint32_t k = lo; k < hi; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
      continue;
    mspan_rare *rare = ATOMIC_LOAD_RELAXED(&s->hasuncoll) ? mspan_rare_of(s)
                                                          : NULL;
    if (rare != NULL) {
      for (uint32_t j = 0; j < BITMAP_WORDS; j++) {
        uint64_t bits = ATOMIC_LOAD_RELAXED(&rare->uncollbits[j]);
        for (; bits; bits &= bits - 1) {
          uint32_t i = j * 64 + (uint32_t)__builtin_ctzll(bits);
          mark_word(w, s->base + (uintptr_t)i * s->elemsize);
        }
      }
    }
    if (s->specials == NULL)
      continue;
    sgc_lock(&s->speciallock);
    for (special *sp = s->specials; sp; sp = sp->next) {
      if (sp->kind != SPECIAL_FINALIZER)
        continue;
      sp->doomed = 0;
      mark_word(w, (uintptr_t)sp->arg);
    }
    sgc_unlock(&s->speciallock);
  }
}

/* What sgc_set_root_callback set; run on the collecting thread. */
void (*sgc_root_callback)(void);
/* Set by the verifier around its full mark's mark_prepare (collecting
 * thread, world stopped): the callback runs a second time. */
bool sgc_root_callback_again SGC_NOGC;

int sgc_root_callback_repeated(void) {
  return ATOMIC_LOAD_RELAXED(&sgc_root_callback_again);
}

/* The marked (old) objects i..last of span s, scanned: the mark bits
 * are read a word at a time, so a span with no old object on the listed
 * pages costs a few loads (a minor of binary-trees 21 lists some 19000
 * pages, nearly all of spans allocated since the last collection, which
 * hold none: its 138 minors marked for 817 ms in all reading one bit at
 * a time, 496 ms a word at a time).  A bit a marker sets after its word
 * was read is that marker's object to scan, as it was when each bit was
 * read alone. */
SCAN_NO_SANITIZE static void scan_marked(gcwork *w, mspan *s, uint32_t i,
                                         uint32_t last) {
  for (uint32_t k = i >> 6; k <= last >> 6; k++) {
    uint64_t bits = ATOMIC_LOAD_RELAXED(&s->markbits[k]);
    if (k == i >> 6)
      bits &= ~(uint64_t)0 << (i & 63);
    if (k == last >> 6)
      bits &= ~(uint64_t)0 >> (63 - (last & 63));
    for (; bits != 0; bits &= bits - 1) {
      uint32_t j = k * 64 + (uint32_t)__builtin_ctzll(bits);
      scan_object(w, s, s->base + (uintptr_t)j * s->elemsize);
      w->ndirty++;
      w->rescanned += s->elemsize;
    }
  }
}

/* Whether this rescan pass (work.rescan_pass) has yet to scan large
 * span s's object whole; true once a pass, to the first marker to ask.
 * Each run of written pages over an object that cannot be read by part
 * (scan_object_part) would otherwise have it scanned whole again (a 64
 * MiB one written on every other page: 8192 times). */
static bool rescan_first(mspan *s) {
  uint64_t pass = ATOMIC_LOAD_RELAXED(&work.rescan_pass);
  return __atomic_exchange_n(&s->rescanpass, pass, __ATOMIC_RELAXED) != pass;
}

/* Old objects on pages written since the last collection (a minor
 * collection's roots, generation.c): every marked object of a scanned kind
 * overlapping [lo, hi) is scanned again.  Of a large object only the
 * written part is, as its kind describes it, but for one that holds its
 * descriptor or that a mark procedure traces: that one whole, once a pass
 * (rescan_first). */
/* During pre-cleaning the program runs, and mheap.c makes and frees
 * spans while they are read here: an in-use span's fields are written
 * before its state becomes INUSE (a release store) and read after it (an
 * acquire load), as in mark_word; a free span's bounds only pace the walk
 * (read once, so a torn pair cannot move it backwards).  Exempt from the
 * sanitizers like the scanning it does. */
SCAN_NO_SANITIZE static void scan_dirty(gcwork *w, uintptr_t lo, uintptr_t hi) {
  mheap *h = &sgc_heap;
  /* The arena as it is now: a pre-cleaning round protected what it
   * listed, up to the arena's end when it listed, and must rescan it all. */
  uintptr_t used = ATOMIC_LOAD(&h->arena_used);
  if (hi > used)
    hi = used;
  /* Pages of pointer-free, free and stack spans are passed over by the
   * heap's bitmap of scanned pages, 64 at a time, without reading their
   * span structs: a final stop of the pointer-free pause test listed
   * 100000 such pages, and reading a span struct for each took most of
   * its mark; a pre-cleaning slice of them took an assisting push 1.9 ms.
   * In a stop the bitmap is exact.  In a pre-cleaning round (program
   * running) a span made meanwhile may not show yet, and the round
   * protected what it listed, so a page it skips must be one it did not
   * protect (rule:preclean-protect-then-scan): protect_scanned protected
   * a page only after reading its span INUSE (acquire), which its bits
   * were set before (mheap_alloc, the state's release store), and the
   * scan comes after the protection in this thread, or in an assist that
   * took its slice under work.lock after the collector set the slices up
   * under it; so the bit of every page the round protected is seen here.
   * A span made after the page was looked at left it unprotected: the
   * page is listed again. */
  for (uintptr_t p = lo; p < hi;) {
    p = mheap_next_scanned_page(p, hi);
    if (p >= hi)
      break;
    if (p + MHEAP_PREFETCH_AHEAD < hi)
      mheap_prefetch_span(h, p + MHEAP_PREFETCH_AHEAD);
    mspan *s = ATOMIC_LOAD_RELAXED(
        &h->spans[(p - work.arena_start) >> PAGE_SHIFT]);
    uintptr_t end = (p & ~(PAGE_SIZE - 1)) + PAGE_SIZE;
    /* The state first (acquire), then each field once: a span made or
     * freed meanwhile cannot make the walk go back or stand still. */
    bool inuse = s != NULL && ATOMIC_LOAD(&s->state) == MSPAN_INUSE;
    if (s != NULL) {
      uintptr_t b = s->base, e0 = b + s->npages * PAGE_SIZE;
      if (b <= p && e0 > p)
        end = e0;
      else
        inuse = false; /* a struct reused for a span elsewhere: not p's */
    }
    if (end > hi)
      end = hi;
    if (inuse && !spanclass_noscan(s->spanclass) && p < s->limit) {
      uintptr_t e = end < s->limit ? end : s->limit;
      if (s->nelems == 1) {
        if (bitmap_get_atomic(s->markbits, 0)) {
          /* Of a conservative one only the written part; listed pages
           * of a large one may be untouched yet. */
          if (read_where_populated(s->spanclass, 1, s->elemsize))
            push_populated(w, p & ~(uintptr_t)7, e);
          else if (sgc_kinds[spanclass_kind(s->spanclass)].scan ==
                   SCAN_CONSERVATIVE)
            push(w, p & ~(uintptr_t)7, e);
          else if (!scan_object_part(w, s, p & ~(uintptr_t)7, e) &&
                   rescan_first(s)) {
            ATOMIC_ADD(&sgc_test_whole_rescans, 1);
            scan_object(w, s, s->base);
          }
          w->rescanned += e - p;
        }
      } else {
        scan_marked(w, s, mspan_obj_index(s, p), mspan_obj_index(s, e - 1));
      }
    }
    p = end;
  }
}

void run_job(gcwork *w, rootjob *j) {
  switch (j->kind) {
  case ROOT_RANGE:
    scan_range(w, j->lo, j->hi);
    break;
  case ROOT_THREAD:
    scan_thread(w, j->p);
    break;
  case ROOT_SPECIALS:
    scan_span_roots(w, (uint32_t)j->lo, (uint32_t)j->hi);
    break;
  case ROOT_FINQ:
    finalizer_scan_queue(w);
    break;
  case ROOT_DIRTY:
    scan_dirty(w, j->lo, j->hi);
    break;
  }
}

/* Rescan jobs for the marked objects on the pages of [lo, hi). */
static void add_dirty_jobs(uintptr_t lo, uintptr_t hi) {
  for (uintptr_t p = lo; p < hi; p += 256 << 10)
    add_job(ROOT_DIRTY, p, hi - p > (256 << 10) ? p + (256 << 10) : hi,
            NULL);
}

/* Old objects of a minor collection (generation.c): what is marked now. */
static void count_old(gen_cycle *g) {
  for (uint32_t k = 0; k < work.nspan; k++) {
    mspan *s = work.spans[k];
    if (ATOMIC_LOAD(&s->state) != MSPAN_INUSE)
      continue;
    uint64_t n = 0;
    for (uint32_t j = 0; j < BITMAP_WORDS; j++)
      n += bits_set(s->markbits[j]);
    g->old_objects += n;
    g->old_bytes += n * s->elemsize;
  }
}

/* Set up the mark over the snapshot: the root table.  World stopped.  A
 * major collection (g->minor false) starts from no marks at all; a minor
 * one from the old objects' marks, with the written pages as more roots. */
bool mark_prepare(mspan **spans, uint32_t nspan, int nproc, gen_cycle *g) {
  mheap *h = &sgc_heap;
  work.spans = spans;
  work.nspan = nspan;
  work.arena_start = h->arena_start;
  work.arena_used = h->arena_used;
  if (work.maxbufs == 0) {
    const char *e = sgc_option("SPANGC_MARK_STACK_MAX");
    uint64_t max = (uint64_t)64 << 20;
    if (e && *e && !memlimit_parse(e, &max))
      sgc_fatal("SPANGC_MARK_STACK_MAX=%s: expected a number of bytes with "
                "an optional K, M, G, KiB, MiB or GiB suffix (e.g. 64MiB)",
                e);
    work.maxbufs = max / sizeof(workbuf);
    if (work.maxbufs < 1) /* one, so that marking still progresses */
      work.maxbufs = 1;
  }
  /* Every span of the snapshot is swept, so its mark bits are clear,
   * unless some were set outside a mark (see mheap.stale_marks), or they
   * are old objects' (generation.c): a major collection clears them. */
  /* The final stop of a concurrent mark starts, like a minor mark, from
   * the marks there are (rule:remark-from-marks). */
  work.minor = g->minor || g->remark;
  work.aging = g->aging;
  work.runs = g->runs;
  work.nruns = g->nruns;
  if (g->minor || g->remark) {
    SGC_ASSERT(!ATOMIC_LOAD(&h->stale_marks));
    if (!g->old_counted)
      count_old(g);
  } else if (g->conc_initial && !ATOMIC_LOAD(&h->stale_marks)) {
    /* Cleared before this stop, with the program running
     * (mheap_clear_marks; rule:marks-cleared-before-the-stop). */
  } else if (ATOMIC_LOAD(&h->stale_marks) || sgc_sticky) {
    ATOMIC_STORE(&h->stale_marks, 0);
    bool sample = sgc_sticky && age_sample_begin();
    for (uint32_t k = 0; k < nspan; k++)
      if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE) {
        if (sample)
          age_sample_span(spans[k]);
        memset(spans[k]->markbits, 0, sizeof spans[k]->markbits);
      }
  }
#if SPANGC_DEBUG
  if (!g->minor && !g->remark)
    for (uint32_t k = 0; k < nspan; k++)
      if (ATOMIC_LOAD(&spans[k]->state) == MSPAN_INUSE)
        for (uint32_t j = 0; j < BITMAP_WORDS; j++)
          SGC_ASSERT(spans[k]->markbits[j] == 0);
#endif
  work.njobs = 0;
  ATOMIC_STORE(&work.jobidx, 0);
  work.nproc = nproc;
  ATOMIC_STORE_RELAXED(&work.nwait, 0);
  ATOMIC_STORE_RELAXED(&work.done, 0);
  ATOMIC_STORE(&work.overflow, 0);

  for (uint32_t k = 0; k < segs.n; k++)
    add_range_job(segs.r[k][0], segs.r[k][1], NULL);
  roots_foreach(add_range_job, NULL);
  world_foreach_start_root(add_range_job, NULL);
  world_foreach_thread(add_thread_job, NULL);
  add_job(ROOT_FINQ, 0, 0, NULL);
  /* A new rescan pass (rescan_first): the helpers start after this. */
  ATOMIC_STORE_RELAXED(&work.rescan_pass, work.rescan_pass + 1);
  if (g->remark_all) /* no record of what was written: every page */
    add_dirty_jobs(work.arena_start, work.arena_used);
  else if (g->minor || g->remark)
    for (uint32_t k = 0; k < g->nruns; k++)
      add_dirty_jobs(g->runs[k].lo, g->runs[k].hi);
  /* Only if some span has a special or an uncollectable object: the
   * pass reads every span's struct (rule:rootspans-counted). */
  if (ATOMIC_LOAD(&h->nrootspans) != 0)
    for (uint32_t k = 0; k < nspan; k += 4096)
      add_job(ROOT_SPECIALS, k, nspan - k > 4096 ? k + 4096 : nspan, NULL);
  if (tables_oom)
    return false;

  /* The root callback runs here, on the collecting thread, before the
   * helpers start; what it pushes is shared out as full buffers. */
  work.prepare_marked = 0;
  work.prepare_noscan = 0;
  work.prepare_nobj = 0;
  void (*cb)(void) = g->conc_initial ? NULL : ATOMIC_LOAD(&sgc_root_callback);
  if (cb) {
    gcwork w = {0};
    cur_work = &w;
    cb();
    cur_work = NULL;
    if (w.wbuf && w.wbuf->n)
      putfull(w.wbuf);
    else if (w.wbuf)
      putempty(w.wbuf);
    work.prepare_marked = w.marked_bytes;
    work.prepare_noscan = w.noscan_bytes;
    work.prepare_nobj = w.nobj;
    aging_add_promoted(w.npromoted);
  }
  return true;
}

/* A pre-cleaning round of a concurrent mark (concurrent.c), world
 * running: rescan the marked objects on the pages of runs (listed, then
 * protected again, by the caller) and drain what that marks. */
/* The rescan goes by slices of PRECLEAN_SLICE, taken from a shared
 * cursor by this thread and by the assists of threads the pacing holds
 * back (mark_assist, which takes slices before buffers): the rescan is
 * most of a round's work, and a thread that could only wait for it would
 * reach the goal (the pause test: 20-40 ms waits while one thread
 * rescanned 160 MB of written pages).  The runs stay valid while assists
 * are open: they are closed before the next listing. */
#define PRECLEAN_SLICE ((uintptr_t)64 * PAGE_SIZE)
static bool preclean_take(uintptr_t *lo, uintptr_t *hi) {
  sgc_lock(&work.lock);
  while (work.pc_k < work.pc_n &&
         work.pc_at >= work.pc_runs[work.pc_k].hi) {
    if (++work.pc_k < work.pc_n)
      work.pc_at = work.pc_runs[work.pc_k].lo;
  }
  bool got = work.pc_k < work.pc_n;
  if (got) {
    uintptr_t end = work.pc_runs[work.pc_k].hi;
    *lo = work.pc_at;
    *hi = end - work.pc_at > PRECLEAN_SLICE ? work.pc_at + PRECLEAN_SLICE
                                            : end;
    work.pc_at = *hi;
  }
  sgc_unlock(&work.lock);
  return got;
}

uint64_t preclean_assist(gcwork *w) {
  uintptr_t lo, hi;
  if (ATOMIC_LOAD_RELAXED(&work.pc_n) == 0 || !preclean_take(&lo, &hi))
    return 0;
  uint64_t before = w->rescanned;
  scan_dirty(w, lo, hi);
  ATOMIC_ADD(&sgc_test_assisted_slices, 1);
  /* Paid by what it rescanned, not by the slice's size: pointer-free,
   * free and unpopulated pages are listed in every round and cost
   * nothing to look over, and a slice of them once bought a thread past
   * the cap a whole allocation (the adversarial review: the heap at 2.5x
   * a GOGC 20 goal). */
  uint64_t done = w->rescanned - before;
  return done ? done : 1;
}

void mark_preclean(const dirty_run *runs, uint32_t n, mark_result *res) {
  gcwork w = {0};
  work.concurrent = true;
  work.nproc = 1;
  ATOMIC_STORE_RELAXED(&work.nwait, 0);
  ATOMIC_STORE_RELAXED(&work.done, 0);
  sgc_lock(&work.lock);
  /* A new rescan pass (rescan_first), for the assists after the lock. */
  ATOMIC_STORE_RELAXED(&work.rescan_pass, work.rescan_pass + 1);
  work.pc_runs = runs;
  work.pc_k = 0;
  work.pc_at = n ? runs[0].lo : 0;
  ATOMIC_STORE_RELAXED(&work.pc_n, n);
  sgc_unlock(&work.lock);
  /* Open after the plain writes above: an assist's putfull reads nwait
   * (no one waits in getfull but this thread, so nwait stays 0). */
  assists_open();
  test_hook_run(&sgc_test_preclean_hook);
  uintptr_t lo, hi;
  while (preclean_take(&lo, &hi)) {
    scan_dirty(&w, lo, hi);
    ATOMIC_STORE_RELAXED(&work.done, 0);
    drain(&w);
    report_progress(&w);
  }
  for (;;) {
    ATOMIC_STORE_RELAXED(&work.done, 0);
    drain(&w);
    assists_close(); /* what they held is back in the shared list */
    if (ATOMIC_LOAD(&work.full) == NULL)
      break;
  }
  sgc_lock(&work.lock);
  ATOMIC_STORE_RELAXED(&work.pc_n, 0);
  work.pc_runs = NULL;
  sgc_unlock(&work.lock);
  report_progress(&w);
  mark_take_assists(res);
  flush_deferred(&w);
  work.concurrent = false;
  if (ATOMIC_LOAD(&work.overflow))
    ATOMIC_STORE(&work.remark_all, 1);
  result_add_work(res, &w);
  res->ndirty += w.ndirty;
}
