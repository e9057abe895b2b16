// labels: gc
// env: SPANGC_MARK_STACK_MAX=131072
/* A large scanned object whose data lies in thousands of separate page
 * runs (written on every other page), with a small mark stack
 * (SPANGC_MARK_STACK_MAX=131072, set by make check): pushing each run as
 * a work item overflowed the stack, and the overflow passes, which drain
 * only between objects, overflowed again on the same object in every
 * pass, for ever (the adversarial review of 12cfc07: a collection that
 * never ended, world stopped).  An object of more runs than
 * push_populated takes is pushed whole.  Checks: the collections end and
 * every object the written pages point to survives. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"

#define BIG ((size_t)64 << 20)
#define KP 4096
#define NPG (BIG / KP)

static void **volatile big;

int main(void) {
  setenv("SPANGC_DIRTY", "off", 0); /* where it hung first; any mode can */
  sgc_init();
  big = sgc_alloc(BIG);
  CHECK(big != NULL);
  for (size_t pg = 0; pg < NPG; pg += 2)
    big[pg * KP / sizeof(void *)] = tagged_new(pg);
  for (int i = 0; i < 3; i++)
    sgc_collect();
  for (size_t pg = 0; pg < NPG; pg += 2)
    CHECKF(tagged_intact(big[pg * KP / sizeof(void *)], pg),
           "the object held from page %zu was lost", pg);
  sgc_stats st;
  sgc_read_stats(&st);
  printf("ok: %zu runs of one page, %llu collections\n", NPG / 2,
         (unsigned long long)st.num_gc);
  return 0;
}
