// labels: malloc
/* A large object of a scanned kind, on arena pages nothing has touched yet,
 * is resident when sgc_alloc returns: the allocator wrote it (outside its
 * no-preempt region), so the first mark that reads it does not fault its
 * pages in one by one with the world stopped (4.5 ms for a 1.2 MB array on
 * the machines this was measured on, the pause test's worst push).
 * Pointer-free large objects are not written (no mark reads them), nor are
 * fresh scanned ones above 4 MiB (a big array the program leaves mostly
 * unwritten stays cheap in RSS; reused ones of 32 MiB and more are cleared
 * by release, malloc_large_reuse_stays_unwritten). */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

int main(void) {
  sgc_init();
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);

  size_t n = (size_t)1200 << 10;
  uintptr_t *a = sgc_alloc(n);
  CHECK(a != NULL);
  size_t res = resident_pages(a, n);
  printf("scanned %zu KiB: %zu of %zu pages resident\n", n >> 10, res,
         n / pg);
  CHECKF(res == n / pg, "a fresh scanned object of %zu bytes has %zu of its "
         "%zu pages resident", n, res, n / pg);
  for (size_t i = 0; i < n / sizeof *a; i++)
    CHECKF(a[i] == 0, "word %zu of the new object is %#lx", i,
           (unsigned long)a[i]);

  char *b = sgc_alloc_noscan(n);
  CHECK(b != NULL);
  res = resident_pages(b, n);
  printf("pointer-free %zu KiB: %zu pages resident\n", n >> 10, res);
  CHECKF(res <= 2, "a fresh pointer-free object has %zu pages resident: the "
         "allocator wrote it", res);

  size_t big = (size_t)64 << 20;
  char *c = sgc_alloc(big);
  CHECK(c != NULL);
  res = resident_pages(c, big);
  printf("scanned %zu MiB: %zu pages resident\n", big >> 20, res);
  CHECKF(res * pg < ((size_t)1 << 20), "a fresh 64 MiB scanned object has "
         "%zu KiB resident: the allocator wrote it", res * pg >> 10);

  /* They stay usable and collectable. */
  a[7] = (uintptr_t)b;
  sgc_collect();
  CHECK(sgc_base(b) == b);
  return 0;
}
