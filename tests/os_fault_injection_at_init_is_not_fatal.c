// labels: heap
// env: SPANGC_FAIL_MMAP=1
/* The very first request for memory fails (the first thread's cache is
 * the first thing initialisation asks for).  spangc.h: "spangc never
 * crashes on out-of-memory", and sgc_init aborts "only if the address
 * space for the heap cannot be reserved at all".  So the first allocation
 * either succeeds or returns NULL with ENOMEM, and the process goes on:
 * the next allocations succeed.  Skipped with SPANGC_DEBUG=verify=1: the
 * verifier's tables are then among the first requests, and refused they
 * end the process by design (spangc.h, sgc_init). */
#include <errno.h>

#include "check.h"
#include "spangc-int.h"

int main(void) {
  if (test_verifying()) {
    printf("skipped: the verifier needs its memory (sgc_init)\n");
    return 0;
  }
  errno = 0;
  char *p = sgc_alloc(100);
  CHECKF(p != NULL || errno == ENOMEM, "NULL with errno %d", errno);
  char *q = NULL;
  for (int i = 0; i < 3 && q == NULL; i++)
    q = sgc_alloc(100);
  CHECK(q != NULL);
  memset(q, 1, 100);
  char *r = sgc_alloc(1 << 20);
  CHECK(r != NULL);
  memset(r, 2, 1 << 20);
  CHECK(sgc_base(q + 50) == q);
  CHECK(sgc_base(r + 50) == r);
  sgc_heap_verify();
  printf("survived a refused first request (first allocation %s)\n",
         p ? "succeeded" : "failed");
  return 0;
}
