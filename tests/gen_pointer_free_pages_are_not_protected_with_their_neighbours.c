// labels: gc
/* Generational protection merges a short stretch of pages it does not
 * want protected into the call that protects the old pages around them
 * (genprotect.c, skip_page): for a page of scanned objects that saves its
 * rescans while it is not written.  A page of pointer-free objects is
 * never rescanned, so protecting it saves nothing and costs a fault when
 * the program (or the allocator, filling its free slots) writes it: ECL
 * filling hash tables of strings made 5200 such faults in a 3 s run, its
 * strings' pages lying between pages of old conses.
 *
 * Here spans of scanned and of pointer-free 64-byte objects alternate in
 * the heap, all kept alive.  After a major and a few minors (the old
 * scanned pages protected), writing a word of each pointer-free page must
 * not fault, and writing each page that old scanned objects fill must (so
 * the first check means something).  Counted with getrusage's minor
 * faults; with generations off nothing is protected, and only the
 * contents are checked.
 *
 * A concurrent major (SPANGC_CONCURRENT=1) protects the scanned spans for
 * its mark with the program running, merging across short stretches of
 * other pages (concurrent.c, protect_scanned: each call interrupts the
 * program's CPUs there).  So with it on, the pointer-free pages are
 * written once after the major, then the minors run, and the count is
 * taken only if no major ran among them (else again, a few times); the
 * minors' own protection (the defect) is then not exercised there, only
 * that they do not protect those pages again. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 100000

typedef struct obj {
  struct obj *next;
  uint64_t val[7];
} obj;

obj **volatile scanned;   /* roots */
uint64_t **volatile plain;
static int scan_first[N / 64], plain_first[N / 64];


int main(void) {
  sgc_init();
  scanned = sgc_alloc(N * sizeof(obj *));
  plain = sgc_alloc(N * sizeof(uint64_t *));
  CHECK(scanned != NULL && plain != NULL);
  for (int i = 0; i < N; i++) {
    scanned[i] = sgc_alloc(sizeof(obj));
    plain[i] = sgc_alloc_noscan(64);
    CHECK(scanned[i] != NULL && plain[i] != NULL);
    scanned[i]->val[6] = (uint64_t)i;
    memset(plain[i], 0, 64);
    plain[i][7] = (uint64_t)i;
  }
  sgc_collect();
  int nscan = whole_pages((void **)scanned, N, scan_first);
  int nplain = whole_pages((void **)plain, N, plain_first);
  CHECKF(nscan > 100 && nplain > 100, "%d scanned and %d pointer-free pages",
         nscan, nplain);

  long f_plain = 0;
  sgc_stats st;
  sgc_read_stats(&st);
  int conc = st.concurrent;
  for (int attempt = 0;; attempt++) {
    if (conc) /* what the concurrent major protected */
      faults_writing_pages((void *const *)plain, plain_first, nplain, 0, 41);
    sgc_read_stats(&st);
    uint64_t majors = st.num_major_gc;
    run_minors(4); /* old, and their pages protected by minors */
    sgc_read_stats(&st);
    f_plain =
        faults_writing_pages((void *const *)plain, plain_first, nplain, 0, 42);
    if (!conc || st.num_major_gc == majors || attempt == 5)
      break;
  }
  long f_scan = faults_writing_pages((void *const *)scanned, scan_first,
                                     nscan, offsetof(obj, val), 43);
  int gen = generational();
  fprintf(stderr,
          "%s: %ld faults writing %d pointer-free pages, %ld writing %d "
          "pages old scanned objects fill\n",
          gen ? "generational" : "generations off", f_plain, nplain, f_scan,
          nscan);
  if (gen) {
    CHECKF(f_scan >= nscan / 4 * 3,
           "the old scanned pages were not protected (%ld faults on %d)",
           f_scan, nscan);
    CHECKF(f_plain <= nplain / 8,
           "pointer-free pages were protected: %ld faults on %d of them",
           f_plain, nplain);
  }

  run_minors(4);
  for (int i = 0; i < N; i++) {
    CHECKF(scanned[i]->val[6] == (uint64_t)i, "scanned object %d lost", i);
    CHECKF(plain[i][7] == (uint64_t)i, "pointer-free object %d lost", i);
  }
  return 0;
}
