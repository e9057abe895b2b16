// labels: gc
// env: SPANGC_MARK_STACK_MAX=16384
// timeout: 120
/* Many marked large objects, each with its data in a few page runs, and a
 * mark stack of four buffers (SPANGC_MARK_STACK_MAX=16384).  An overflow
 * pass rescans every marked object; it pushed a large object's runs as
 * work items, the buffers filled at the same place of the same walk in
 * every pass, the rest of that object's runs found no buffer, and the
 * next pass began again: a collection that never ended, world stopped
 * (found while looking at the small-cap livelock left by session 21's
 * review).  An overflow pass now reads each object itself, pushing only
 * what it marks.  Checks: the collections end, and every object the
 * written pages point to survives them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"

#define OBJ ((size_t)512 << 10) /* over POPULATED_MIN: read by runs */
#define NOBJ 400
#define KP 4096
#define STEP 6                  /* one page written in six: 22 runs */

static void ***volatile objs;

static void **slot(size_t o, size_t pg) {
  return &objs[o][pg * KP / sizeof(void *)];
}

int main(void) {
  sgc_init();
  objs = sgc_alloc(NOBJ * sizeof(void *));
  CHECK(objs != NULL);
  for (size_t o = 0; o < NOBJ; o++) {
    objs[o] = sgc_alloc(OBJ);
    CHECK(objs[o] != NULL);
    for (size_t pg = 0; pg < OBJ / KP; pg += STEP)
      *slot(o, pg) = tagged_new(o * 1000 + pg);
  }
  for (int i = 0; i < 3; i++)
    sgc_collect();
  for (size_t o = 0; o < NOBJ; o++)
    for (size_t pg = 0; pg < OBJ / KP; pg += STEP)
      CHECKF(tagged_intact(*slot(o, pg), o * 1000 + pg),
             "the object held from page %zu of object %zu was lost", pg, o);
  sgc_stats st;
  sgc_read_stats(&st);
  printf("ok: %d objects of %zu runs, %llu collections\n", NOBJ,
         (OBJ / KP + STEP - 1) / STEP, (unsigned long long)st.num_gc);
  return 0;
}
