// labels: gc
/* Pages that first fill with old objects are probed (genprotect.c): only
 * a sample of each 2 MiB group is protected at once, the rest one
 * collection later, and only if the program left the sample unwritten;
 * if it wrote the sample, the whole group is hot.
 *   written: a structure written all over after each collection faults
 *     on the sample's pages only (before: on every page once, 25600
 *     faults a run of bench/gen.c writeall, 1.20x its time untracked);
 *   unwritten: a structure left alone is protected all the same, a
 *     collection later: a write to each page after a few minors faults.
 * A concurrent major protects the whole heap for its own mark, so after
 * one the structure is protected whole, probed or not: the first check
 * is made only when the major that made it old stopped the world (the
 * concurrent mark's protection: design.md).  Every object keeps its
 * contents. */
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 200000 /* 64-byte objects: 3125 kernel pages, six 2 MiB groups */

typedef struct obj {
  struct obj *next;
  uint64_t val[7];
} obj;

obj **volatile written, **volatile unwritten; /* roots */
static int first_w[N / 64], first_u[N / 64];

/* Built with collections off, so that its pages fill in one collection
 * (the sgc_collect after it), as a structure built between two does. */
static obj **build(uint64_t salt) {
  sgc_disable();
  obj **a = sgc_alloc(N * sizeof(obj *));
  CHECK(a != NULL);
  for (int i = 0; i < N; i++) {
    a[i] = sgc_alloc(sizeof(obj));
    CHECK(a[i] != NULL);
    a[i]->val[6] = (uint64_t)i ^ salt;
  }
  sgc_enable();
  return a;
}

static void check_intact(obj **a, uint64_t salt, const char *what) {
  for (int i = 0; i < N; i++)
    CHECKF(a[i]->val[6] == ((uint64_t)i ^ salt), "%s object %d lost", what,
           i);
}

int main(void) {
  _Static_assert(sizeof(obj) == 64, "obj is 64 bytes");
  sgc_init();
  written = build(0);
  int nw = whole_pages((void *const *)written, N, first_w);
  CHECKF(nw > 1500, "%d whole pages found", nw);
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t conc0 = st.num_concurrent_gc;
  sgc_collect(); /* old; the next collection is minor */
  sgc_read_stats(&st);
  int stw = st.num_concurrent_gc == conc0;
  /* Written all over after each collection: the first round meets the
   * pages protected by the major, the later ones those the minors
   * protected. */
  long fw = 0;
  for (int r = 0; r < 4; r++) {
    fw += faults_writing_pages((void *const *)written, first_w, nw,
                               offsetof(obj, val), (uint64_t)r);
    run_minors(1);
  }

  unwritten = build(0x5a5a);
  int nu = whole_pages((void *const *)unwritten, N, first_u);
  CHECKF(nu > 1500, "%d whole pages found", nu);
  sgc_collect();
  run_minors(3); /* the probe's collection and more */
  long fu = faults_writing_pages((void *const *)unwritten, first_u, nu,
                                 offsetof(obj, val), 7);

  int gen = generational();
  fprintf(stderr,
          "%s, %s major: %d pages written after each of 4 collections: "
          "%ld faults; %d pages left alone, then written: %ld faults\n",
          gen ? "generational" : "generations off",
          stw ? "stop-the-world" : "concurrent", nw, fw, nu, fu);
  if (gen && stw)
    CHECKF(fw <= nw / 4, "a structure written all over faulted %ld times "
           "on %d pages: its pages were protected unprobed", fw, nw);
  if (gen)
    CHECKF(fu >= nu * 3 / 4, "a structure left alone faulted %ld times on "
           "%d pages: its pages stayed unprotected", fu, nu);
  check_intact(written, 0, "written");
  check_intact(unwritten, 0x5a5a, "unwritten");
  return 0;
}
