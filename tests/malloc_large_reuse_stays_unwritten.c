// labels: malloc
/* A large scanned object allocated where a freed one was reads as zero,
 * without the allocator writing every page of it: allocating, freeing and
 * allocating 512 MiB that the program barely touches keeps the resident
 * set small (it once grew by the whole object). */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

static size_t resident(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  CHECK(f != NULL);
  unsigned long size, res;
  CHECK(fscanf(f, "%lu %lu", &size, &res) == 2);
  fclose(f);
  return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

int main(void) {
  sgc_init();
  size_t n = (size_t)512 << 20;
  char *p = sgc_alloc(n);
  CHECK(p != NULL);
  for (size_t off = 0; off < n; off += (size_t)1 << 20)
    p[off + 123] = 7; /* dirty one page in each MiB */
  uintptr_t where = (uintptr_t)p;
  sgc_free(p);
  size_t before = resident();
  char *q = sgc_alloc(n);
  CHECK(q != NULL);
  size_t after = resident();
  printf("reused the span: %s; resident %+.1f MiB\n",
         (uintptr_t)q == where ? "yes" : "no",
         ((double)after - (double)before) / 1048576.0);
  for (size_t off = 0; off < n; off += (size_t)1 << 20)
    CHECKF(q[off + 123] == 0, "byte %zu of the new object is not zero",
           off + 123);
  CHECKF(after < before + ((size_t)64 << 20),
         "allocating %zu MiB made %.1f MiB resident", n >> 20,
         ((double)after - (double)before) / 1048576.0);
  return 0;
}
