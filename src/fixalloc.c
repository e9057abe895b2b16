/*
 * fixalloc.c — a free-list allocator for fixed-size metadata.
 *
 * mspan structs, mcaches and specials live outside the arena, so the
 * conservative scanner never mistakes them for heap objects.  Memory comes
 * from the OS in 64 KiB chunks, or, for an allocator that asks
 * (fixalloc_grow_chunks: the span structs), in chunks doubling from 64 KiB
 * to 1 MiB (each mmap waits for the process's mmap lock, which the
 * kernel's write tracking holds while the collector runs beside the
 * program: a 400 MB heap's 50000 span structs in 64 KiB chunks held the
 * pause test's allocating thread up there for 2-3 ms several times a run).
 * A chunk is made resident 128 KiB at a time as the carving reaches it
 * (os_populate: one call instead of a first-touch fault per page, each of
 * which traps to the host on a paravirtualised guest and can wait there
 * for milliseconds while the other CPU is busy, as in a concurrent mark),
 * and is never returned: a recycled struct is pushed on the free list.
 * Because mspan structs are never unmapped, a stale pointer to one (from
 * mheap.spans or a snapshot of allspans) always points to readable memory
 * whose state field tells what it is now.  For that reason mspan structs
 * are not cleared when recycled (a sweeper may be reading the state of a
 * dead one through its snapshot): allspans.c (mheap_new_span) and mheap.c
 * reset their fields one by one.
 *
 * Each fixalloc has its own lock (fixalloc.lock in lockrank.h).
 */
#include "spangc-int.h"

#define FIXALLOC_CHUNK (64 << 10)
#define FIXALLOC_CHUNK_MAX (1 << 20)
/* A chunk is made resident this much at a time, as the carving reaches
 * it: 1 MiB at once took 1.2-1.8 ms of one push of the pause test. */
#define FIXALLOC_POPULATE (128 << 10)

void fixalloc_grow_chunks(fixalloc *f) { f->growing = true; }

void fixalloc_init(fixalloc *f, size_t size, void (*first)(void *, void *),
                   void *arg, uint64_t *sys, bool zero) {
  memset(f, 0, sizeof *f);
  f->zero = zero;
  /* Objects keep the alignment of their size class: 64 for a size that
   * is a multiple of 64 (cache-line aligned types), else 16. */
  f->size = (size + 15) & ~(size_t)15;
  f->first = first;
  f->arg = arg;
  f->sys = sys;
  sgc_mutex_init(&f->lock, LOCKRANK_FIXALLOC);
}

void *fixalloc_alloc(fixalloc *f) {
  sgc_lock(&f->lock);
  void *p = f->list;
  if (p != NULL) {
    f->list = *(void **)p;
    f->inuse++;
    sgc_unlock(&f->lock);
    if (f->zero)
      memset(p, 0, f->size);
    return p;
  }
  if (f->nchunk < f->size) {
    size_t n = f->nextchunk ? f->nextchunk : FIXALLOC_CHUNK;
    char *c = os_alloc(n);
    if (c == NULL && n > FIXALLOC_CHUNK) /* a smaller one may do */
      c = os_alloc(n = FIXALLOC_CHUNK);
    if (c == NULL) {
      sgc_unlock(&f->lock);
      return NULL;
    }
    if (f->sys)
      ATOMIC_ADD(f->sys, n);
    f->chunk = c;
    f->nchunk = n;
    f->ready = c;
    if (f->growing && n < FIXALLOC_CHUNK_MAX)
      f->nextchunk = n * 2;
  }
  p = f->chunk;
  if (f->chunk + f->size > f->ready) {
    char *end = f->chunk + f->nchunk;
    char *to = f->ready + FIXALLOC_POPULATE < end ? f->ready + FIXALLOC_POPULATE
                                                  : end;
    os_populate(f->ready, (size_t)(to - f->ready));
    f->ready = to;
  }
  f->chunk += f->size;
  f->nchunk -= f->size;
  if (f->first)
    f->first(f->arg, p);
  f->inuse++;
  sgc_unlock(&f->lock);
  return p; /* fresh from mmap: already zero */
}

void fixalloc_free(fixalloc *f, void *p) {
  sgc_lock(&f->lock);
  *(void **)p = f->list;
  f->list = p;
  f->inuse--;
  sgc_unlock(&f->lock);
}

/* A fork child must not inherit an allocator's lock held by a thread that
 * does not exist there: it would wait for it for ever (or, were the lock
 * reset, find the chunk half carved). */
void fixalloc_atfork(fixalloc **fs, int n, int phase) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && (uintptr_t)fs[j - 1] > (uintptr_t)fs[j]; j--) {
      fixalloc *t = fs[j];
      fs[j] = fs[j - 1];
      fs[j - 1] = t;
    }
  if (phase == FORK_PREPARE)
    for (int i = 0; i < n; i++)
      sgc_lock(&fs[i]->lock);
  else
    for (int i = n - 1; i >= 0; i--)
      sgc_unlock(&fs[i]->lock);
}
