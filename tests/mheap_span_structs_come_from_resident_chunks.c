// labels: heap
/* Span structs are carved from chunks made resident when they are mapped
 * (fixalloc.c, os_populate): the first write to each struct does not
 * fault.  On a paravirtualised guest each first-touch fault traps to the
 * host, and one taken while the other CPU is busy (a concurrent mark)
 * could hold the allocating thread for milliseconds: they were the pause
 * test's slowest pushes under SPANGC_CONCURRENT=1 (62% of its page faults
 * were first writes to fresh span structs in mheap_new_span).  Here: make
 * spans until a new chunk is being carved, then ask the kernel (mincore)
 * whether its pages not yet handed out are resident.  Before, they were
 * not. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

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
  long page = sysconf(_SC_PAGESIZE);
  int checked = 0;
  /* Large objects: a span (and a struct) each.  Check whenever a chunk
   * has several untouched pages left. */
  for (int i = 0; i < N && checked < 3; i++) {
    size_t before;
    sgc_lock(&f->lock);
    before = f->nchunk;
    sgc_unlock(&f->lock);
    keep[i] = sgc_alloc_noscan(MAX_SMALL_SIZE + 1);
    CHECK(keep[i] != NULL);
    sgc_lock(&f->lock);
    uintptr_t lo = (uintptr_t)f->chunk, hi = lo + f->nchunk;
    bool fresh = f->nchunk > before; /* a new chunk was just mapped */
    sgc_unlock(&f->lock);
    lo = (lo + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    if (!fresh || hi < lo + 4 * (uintptr_t)page)
      continue;
    size_t npages = (hi - lo) / (uintptr_t)page;
    unsigned char vec[4096];
    if (npages > sizeof vec)
      npages = sizeof vec;
    CHECK(mincore((void *)lo, npages * (size_t)page, vec) == 0);
    size_t absent = 0;
    for (size_t k = 0; k < npages; k++)
      absent += !(vec[k] & 1);
    CHECKF(absent == 0, "chunk %#lx: %zu of its %zu pages not yet carved "
           "are not resident", (unsigned long)lo, absent, npages);
    printf("chunk at %#lx: %zu uncarved pages, all resident\n",
           (unsigned long)lo, npages);
    checked++;
  }
  CHECKF(checked > 0, "no new chunk of span structs was mapped");
  return 0;
}
