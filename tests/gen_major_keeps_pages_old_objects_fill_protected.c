// labels: gc
/* Generational protection, the other side of
 * gen_major_unprotects_pages_it_frees_slots_on: a major collection
 * unprotects only the pages whose old objects it found dead.  Old 64-byte
 * objects fill whole kernel pages; on each page of every other stretch
 * of 16 such pages one object dies.  After the major, a write to each
 * page that old objects still fill must fault (it stays protected, so the
 * next minor lists it only if written), and a write to each page with the
 * dead object must not.  (A
 * first version merged the pages to unprotect across the full pages
 * between them: no fault at all on the full pages, and the first minor
 * after the major rescanned nine times the old objects.)  Counted with
 * getrusage's minor faults; checked with generations on only (with
 * generations off nothing is protected after a collection).  Every object
 * keeps its contents through the minors that follow. */
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
static int full_first[N / 64], part_first[N / 64];

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

  /* Kernel pages made of 64 of our objects in a row; one object dies on
   * each of 16 pages in a row, then none on the next 16, and so on. */
  static int first[N / 64];
  int pages = whole_pages((void *const *)objs, N, first);
  int nfull = 0, npart = 0;
  for (int k = 0; k < pages; k++) {
    if (k / 16 % 2 == 0) {
      part_first[npart++] = first[k];
      objs[first[k] + 17] = NULL;
    } else {
      full_first[nfull++] = first[k];
    }
  }
  CHECKF(nfull > 100 && npart > 100, "%d full and %d other pages found",
         nfull, npart);
  clear_stack();
  sgc_collect();

  long f_full = faults_writing_pages((void *const *)objs, full_first, nfull,
                                     offsetof(obj, val), 42);
  long f_part = faults_writing_pages((void *const *)objs, part_first, npart,
                                     offsetof(obj, val), 43);
  int gen = generational();
  fprintf(stderr,
          "%s: %ld faults writing %d pages old objects fill, %ld writing "
          "%d with a dead object\n",
          gen ? "generational" : "generations off", f_full, nfull, f_part,
          npart);
  if (gen) {
    CHECKF(f_full >= nfull / 4 * 3,
           "pages old objects fill were unprotected by the major: %ld "
           "faults on %d of them", f_full, nfull);
    CHECKF(f_part <= npart / 4,
           "%ld faults on %d pages the major found a dead object on",
           f_part, npart);
  }

  run_minors(4);
  for (int i = 0; i < N; i++)
    if (objs[i] != NULL)
      CHECKF(objs[i]->val[6] == (uint64_t)i, "object %d lost", i);
  return 0;
}
