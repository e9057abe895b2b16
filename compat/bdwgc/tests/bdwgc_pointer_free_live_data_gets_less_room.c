/* bdwgc sizes its heap by what a collection must scan: pointer-free
 * (GC_malloc_atomic) live bytes count for an eighth of pointer-holding
 * ones in the room it leaves before the next collection.  The same
 * garbage allocated over 32 MB of live strings runs at least twice as
 * many collections as over 32 MB of live pointer-holding objects. */
// labels: bdwgc
#include <string.h>
#include <gc.h>
#include "bdwgc_check.h"

#define LIVE_OBJS 32768
#define LIVE_SIZE 1024 /* 32 MB of live data */

void *live[LIVE_OBJS];

static NOINLINE GC_word garbage(void) {
  GC_gcollect();
  GC_word gc0 = GC_get_gc_no();
  for (int i = 0; i < 200000; i++) { /* ~200 MB of pointer-holding garbage */
    void **p = GC_malloc(1024);
    CHECK(p != NULL, "allocation");
    p[0] = p;
  }
  return GC_get_gc_no() - gc0;
}

static NOINLINE void fill(int atomic) {
  for (int i = 0; i < LIVE_OBJS; i++) {
    char *p = atomic ? GC_malloc_atomic(LIVE_SIZE) : GC_malloc(LIVE_SIZE);
    CHECK(p != NULL, "allocation");
    memset(p, atomic ? 'x' : 0, LIVE_SIZE);
    live[i] = p;
  }
}

int main(void) {
  GC_INIT();
  /* Strings first: a heap grown for the larger room is not shrunk again
   * (bdwgc's never is; the layer holds its largest goal). */
  fill(1);
  GC_word strings = garbage();
  memset(live, 0, sizeof live);
  GC_gcollect();
  fill(0);
  GC_word objects = garbage();
  printf("collections over 32 MB live: pointer-free %lu, pointer-holding "
         "%lu\n", (unsigned long)strings, (unsigned long)objects);
  CHECK(objects > 0, "no collection over 200 MB of garbage");
  CHECK(strings >= 2 * objects,
        "over pointer-free live data %lu collections, over pointer-holding "
        "%lu: the room does not discount pointer-free bytes",
        (unsigned long)strings, (unsigned long)objects);
  PASS("bdwgc_pointer_free_live_data_gets_less_room");
}
