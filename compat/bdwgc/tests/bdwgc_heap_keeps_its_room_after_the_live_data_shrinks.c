/* bdwgc's heap never shrinks: once the live data falls, the room its
 * largest heap left is still there, and the collections come as far
 * apart as they did with the live data at its largest (or further).
 * Guile's programs live on that: ours, collecting at 1.75x whatever was
 * live last, ran 174 collections of binary trees against bdwgc's 97.
 * Here 24 MB of small objects are live while 96 MB of garbage are
 * allocated, then three quarters of them are dropped and the same garbage
 * allocated again: the second run must not collect more often than the
 * first (a goal of 1.75x the smaller live data: about four times as
 * often).  A new free-space divisor starts afresh: divisor 6 after the
 * drop collects more often than divisor 3 did.  The objects still held
 * survive.
 */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define OBJ 56                    /* + bdwgc's extra byte: 64-byte slots */
#define NLIVE ((24u << 20) / 64)  /* 24 MB live at first */
#define NGARB ((96u << 20) / 64)  /* 96 MB of garbage a run */

void **live;
void *volatile sink;

static NOINLINE GC_word garbage(void) {
  GC_word gc0 = GC_get_gc_no();
  for (unsigned i = 0; i < NGARB; i++) {
    void **p = GC_malloc(OBJ);
    CHECK(p != NULL, "allocation");
    p[0] = (void *)live;
    sink = p;
  }
  return GC_get_gc_no() - gc0;
}

int main(void) {
  GC_INIT();
  live = GC_malloc(NLIVE * sizeof(void *));
  CHECK(live != NULL, "allocation");
  for (unsigned i = 0; i < NLIVE; i++) {
    live[i] = GC_malloc(OBJ);
    CHECK(live[i] != NULL, "allocation");
    ((GC_word *)live[i])[1] = i;
  }
  GC_gcollect();
  GC_word big = garbage();
  for (unsigned i = 0; i < NLIVE; i++)
    if (i % 4 != 0)
      live[i] = NULL;
  GC_gcollect();
  GC_word small = garbage();
  GC_set_free_space_divisor(6);
  GC_word small6 = garbage();
  printf("collections over 96 MB of garbage: 24 MB live %lu, 6 MB live "
         "after 24 %lu, then divisor 6: %lu\n", (unsigned long)big,
         (unsigned long)small, (unsigned long)small6);
  CHECK(big > 0, "no collection over 96 MB of garbage");
  CHECK(small <= big, "%lu collections after the live data shrank, %lu "
        "before: the heap's room was not kept", (unsigned long)small,
        (unsigned long)big);
  CHECK(small6 > small, "divisor 6 ran %lu collections, divisor 3 %lu",
        (unsigned long)small6, (unsigned long)small);
  for (unsigned i = 0; i < NLIVE; i += 4)
    CHECK(live[i] != NULL && GC_base(live[i]) == live[i] &&
              ((GC_word *)live[i])[1] == i, "live object %u lost", i);
  PASS("bdwgc_heap_keeps_its_room_after_the_live_data_shrinks");
}
