// labels: gc
/* A large scanned object the program wrote only here and there (a big
 * table filled slowly, a window array) is marked without reading its
 * untouched pages: they read as zero, and reading one costs a fault with
 * the world stopped (the pause test's first collection: 4 ms for the
 * untouched part of a 1.2 MB array).  The markers ask the kernel which
 * pages hold data (dirty.c, pagemap_populated) and push only those.
 * Checks, over majors, minors (the object old, its untouched pages listed
 * at every collection) and a concurrent major:
 *   - every object the written pages point to survives, including one
 *     stored by the kernel (read(2) from a pipe into an untouched page:
 *     present from then on, so scanned) and one stored after the object
 *     became old;
 *   - the untouched pages stay unpopulated (mincore), which fails if a
 *     mark reads them (a read maps the zero page: resident).
 * Skipped where the kernel cannot tell (PAGEMAP_SCAN, Linux 6.7+), and the
 * residency check with SPANGC_DEBUG=verify=1 (the verifier reads every
 * word of every marked object). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define BIG ((size_t)8 << 20)
#define KP 4096
#define NW 6 /* pages written, by the program or the kernel */

/* Does this kernel have the PAGEMAP_SCAN ioctl (Linux 6.7+)?  Asked on
 * an empty range, with the kernel's struct pm_scan_arg (Debian 12's
 * headers lack it). */
static int pagemap_scan_works(void) {
  struct {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t cat_inverted, cat_mask, cat_anyof, return_mask;
  } a = {.size = sizeof a, .start = 0x10000, .end = 0x10000,
         .cat_anyof = 1 << 3, .return_mask = 1 << 3};
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  int ok = ioctl(fd, _IOWR('f', 16, a), &a) == 0;
  close(fd);
  return ok;
}

static void **volatile big;
static void *sink; /* garbage goes through here */

int main(void) {
  sgc_init();
  /* A fresh large object: the arena's new memory is not touched by the
   * allocator (known zero). */
  big = sgc_alloc(BIG);
  CHECK(big != NULL);
  if (!pagemap_scan_works()) {
    printf("skipped: the kernel cannot list populated pages here\n");
    return 0;
  }
  int verify = test_verifying();
  size_t before = resident_pages((void *)big, BIG);
  /* Pointers on a few pages spread over the object. */
  size_t page[NW] = {0, 1, 700, 1024, 2047, 1500};
  uint64_t tag = 0x7a11e000u;
  for (int i = 0; i < NW - 2; i++)
    big[page[i] * KP / sizeof(void *) + 3] = tagged_new(tag + (uint64_t)i);
  /* The kernel stores one: read(2) of a pointer into an untouched page. */
  int fd[2];
  CHECK(pipe(fd) == 0);
  void *viakernel = tagged_new(tag + NW - 2);
  CHECK(write(fd[1], &viakernel, sizeof viakernel) == sizeof viakernel);
  viakernel = NULL;
  CHECK(read(fd[0], &big[page[NW - 2] * KP / sizeof(void *) + 5],
             sizeof(void *)) == sizeof(void *));
  close(fd[0]);
  close(fd[1]);
  size_t written = resident_pages((void *)big, BIG);
  /* Majors, then minors with the object old, garbage in between. */
  for (int round = 0; round < 6; round++) {
    if (round == 2) /* stored into an untouched page of the old object */
      big[page[NW - 1] * KP / sizeof(void *) + 7] =
          tagged_new(tag + NW - 1);
    if (round < 2 || round == 4) {
      sgc_collect();
    } else {
      run_minors(2);
    }
    for (int i = 0; i < 20000; i++)
      __atomic_store_n(&sink, sgc_alloc(64), __ATOMIC_RELAXED);
  }
  sgc_collect();
  for (int i = 0; i < NW; i++) {
    size_t w = page[i] * KP / sizeof(void *) +
               (i == NW - 2 ? 5 : i == NW - 1 ? 7 : 3);
    CHECKF(tagged_intact(big[w], tag + (uint64_t)i),
           "object %d, held from page %zu of the large object, was lost", i,
           page[i]);
  }
  size_t after = resident_pages((void *)big, BIG);
  printf("resident pages of the %zu MiB object: %zu fresh, %zu after the "
         "program's writes, %zu after the collections\n",
         BIG >> 20, before, written, after);
  /* The pages written, and two for slack (a collection may come between
   * the allocation and the writes, so "written" is no baseline). */
  if (!verify)
    CHECKF(after <= before + NW + 2,
           "the collections read untouched pages: %zu resident, %d were "
           "written",
           after, NW);
  printf("ok\n");
  return 0;
}
