// labels: heap
/* Span structs are carved from chunks made resident ahead of the carving
 * (fixalloc.c, os_populate, 128 KiB at a time): the first write to each
 * struct does not fault.  On a paravirtualised guest each first-touch fault
 * traps to the host, and one taken while the other CPU is busy (a
 * concurrent mark) could hold the allocating thread for milliseconds: they
 * were the pause test's slowest pushes under SPANGC_CONCURRENT=1 (62% of
 * its page faults were first writes to fresh span structs in
 * mheap_new_span).  Here: make spans, and after each ask the kernel
 * (mincore) whether the pages made resident ahead of the carving are (a
 * chunk just mapped: 64 KiB at least).  Before, a new chunk's uncarved
 * pages were not. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "nopreempt.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define N 4000

void *keep[N]; /* global: the stores stay, the objects live */

int main(void) {
  /* A kernel without MADV_POPULATE_WRITE faults the pages in as before
   * (os_populate is an optimisation): nothing to check. */
  void *probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(probe != MAP_FAILED);
  if (madvise(probe, 4096, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
    printf("SKIP: no MADV_POPULATE_WRITE\n");
    return 0;
  }
  munmap(probe, 4096);

  sgc_init();
  fixalloc *f = &sgc_heap.spanalloc;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  int fresh_checked = 0, ahead_checked = 0;
  /* Large objects: a span (and a struct) each.  After each, the pages
   * between the carving point and what was made resident are resident;
   * and a chunk just mapped is resident for its first 64 KiB at least. */
  for (int i = 0; i < N; i++) {
    mcache *np = np_lock(&f->lock);
    size_t before = f->nchunk;
    np_unlock(&f->lock, np);
    keep[i] = sgc_alloc_noscan(MAX_SMALL_SIZE + 1);
    CHECK(keep[i] != NULL);
    np = np_lock(&f->lock);
    uintptr_t carve = (uintptr_t)f->chunk, end = carve + f->nchunk;
    uintptr_t ready = (uintptr_t)f->ready;
    bool fresh = f->nchunk > before; /* a new chunk was just mapped */
    np_unlock(&f->lock, np);
    CHECKF(ready >= carve, "resident up to %#lx, carving at %#lx",
           (unsigned long)ready, (unsigned long)carve);
    uintptr_t lo = (carve + page - 1) & ~(page - 1);
    uintptr_t hi = (ready < end ? ready : end) & ~(page - 1);
    if (fresh)
      CHECKF(hi >= lo + 16 * page || hi >= (end & ~(page - 1)),
             "fresh chunk: resident only to %#lx from %#lx",
             (unsigned long)hi, (unsigned long)lo);
    if (hi <= lo)
      continue;
    size_t npages = (hi - lo) / page;
    unsigned char vec[64];
    if (npages > sizeof vec)
      npages = sizeof vec;
    CHECK(mincore((void *)lo, npages * page, vec) == 0);
    size_t absent = 0;
    for (size_t k = 0; k < npages; k++)
      absent += !(vec[k] & 1);
    CHECKF(absent == 0, "chunk at %#lx: %zu of the %zu pages made resident "
           "ahead of the carving are not", (unsigned long)lo, absent, npages);
    fresh_checked += fresh;
    ahead_checked++;
  }
  printf("%d fresh chunks, %d allocations checked\n", fresh_checked,
         ahead_checked);
  CHECKF(fresh_checked >= 3, "only %d new chunks of span structs were "
         "mapped", fresh_checked);
  return 0;
}
