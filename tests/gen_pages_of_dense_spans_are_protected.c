// labels: gc
/* A page with a free slot is normally left unprotected (the allocator
 * would fault writing it) and its old objects are rescanned at every
 * minor.  A span its sweep leaves dense (under an eighth of its slots
 * free) is not allocated into (rule:dense-spans-kept), so its pages are
 * protected like full ones once a collection lists them: old 64-byte
 * objects fill whole kernel pages, one dies on every page, a major
 * unprotects them all (it freed a slot on each), and after a few minors a
 * write to each page must fault again (protected), while the minors'
 * garbage went elsewhere.  Before the rule: no fault at all, and ECL's
 * vector program rescanned nearly all of its 3M old objects at every
 * minor.  Every object keeps its contents through the minors. */
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 200000

typedef struct obj {
  struct obj *next;
  uint64_t val[7];
} obj;

obj **volatile objs; /* root */
static int first[N / 64];

int main(void) {
  _Static_assert(sizeof(obj) == 64, "obj is 64 bytes");
  sgc_init();
  objs = sgc_alloc(N * sizeof(obj *));
  CHECK(objs != NULL);
  for (int i = 0; i < N; i++) {
    objs[i] = sgc_alloc(sizeof(obj));
    CHECK(objs[i] != NULL);
    objs[i]->val[6] = (uint64_t)i;
  }
  sgc_collect();
  run_minors(4); /* old, and their pages protected */

  /* Kernel pages made of 64 of our objects in a row: one dies on each. */
  int npages = whole_pages((void *const *)objs, N, first);
  for (int k = 0; k < npages; k++)
    objs[first[k] + 17] = NULL;
  CHECKF(npages > 1000, "%d pages found", npages);
  clear_stack();
  sgc_collect(); /* frees a slot on every page: unprotects them */
  long f_after_major = faults_writing_pages((void *const *)objs, first,
                                            npages, offsetof(obj, val), 42);
  run_minors(6);
  long f_after_minors = faults_writing_pages((void *const *)objs, first,
                                             npages, offsetof(obj, val), 43);
  int gen = generational();
  fprintf(stderr,
          "%s: writing %d pages with one free slot each: %ld faults after "
          "the major, %ld after 6 minors\n",
          gen ? "generational" : "generations off", npages, f_after_major,
          f_after_minors);
  if (gen)
    CHECKF(f_after_minors >= npages / 4 * 3,
           "pages of dense spans stayed unprotected: %ld faults on %d",
           f_after_minors, npages);

  run_minors(4);
  for (int i = 0; i < N; i++)
    if (objs[i] != NULL)
      CHECKF(objs[i]->val[6] == (uint64_t)i, "object %d lost", i);
  return 0;
}
