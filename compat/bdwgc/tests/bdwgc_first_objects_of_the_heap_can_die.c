/* The first objects a program allocates die like any other: nothing the
 * library keeps (its own data is scanned as a root, as the program's is)
 * holds the address of the heap's lowest object.  Catches a bound of the
 * heap kept as a plain variable equal to the heap's start, which pointed
 * at the first object allocated and kept it, and all it references,
 * alive for ever (a binary-trees program kept its 64 MB stretch tree so). */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 64

void *links[N]; /* disappearing links, one per object */

static NOINLINE void make(void) {
  for (int i = 0; i < N; i++) {
    void **p = GC_MALLOC(2 * sizeof(void *));
    CHECK(p != NULL, "GC_MALLOC failed");
    links[i] = p;
    CHECK(GC_general_register_disappearing_link(&links[i], p) == 0,
          "GC_general_register_disappearing_link(%d)", i);
    links[i] = (void *)~(uintptr_t)p; /* hidden: not a pointer to p */
  }
}

int main(void) {
  GC_INIT();
  make(); /* the program's first allocations */
  /* The lowest of them: the one at the heap's start, if any is. */
  int low = 0;
  for (int i = 1; i < N; i++)
    if (~(uintptr_t)links[i] < ~(uintptr_t)links[low])
      low = i;
  clear_stack();
  for (int k = 0; k < 3; k++)
    GC_gcollect();
  int dead = 0;
  for (int i = 0; i < N; i++)
    dead += links[i] == NULL;
  CHECK(links[low] == NULL,
        "the lowest of the first %d objects survived (%d of them died)", N,
        dead);
  CHECK(mostly(dead, N), "only %d of the first %d objects died", dead, N);
  printf("first objects: %d of %d died, the lowest among them\n", dead, N);
  return 0;
}
