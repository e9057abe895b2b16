// labels: heap
/* An allocation that runs into sgc_set_max_heap collects and tries again;
 * it collects again only if the collection made room (spangc.h: "collects,
 * then fails ... if it still would").  Here the limit is filled with
 * 16-byte objects and every other one is kept: the live bytes are half
 * the limit, but every span keeps a live object, so no collection frees a
 * page and a large object can never fit.  Each failed large allocation
 * must cost one collection.  Before (found by an adversarial review) the
 * retries judged by the live bytes alone and made four full collections
 * a failure, 150 ms each at 64 MiB, 1.4 s at 256 MiB.  The kept objects
 * are intact. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"

#define LIMIT ((size_t)16 << 20)
#define TRIES 5

int main(void) {
  sgc_init();
  sgc_set_max_heap(LIMIT);
  long cap = (long)(LIMIT / 8); /* more than the limit holds */
  void ***tab = malloc((size_t)cap * sizeof *tab);
  CHECK(tab != NULL);
  sgc_add_roots(tab, tab + cap);
  long n = 0;
  for (; n < cap; n++) {
    void **o = sgc_alloc(16);
    if (o == NULL)
      break;
    o[0] = (void *)(uintptr_t)(n * 7 + 1);
    tab[n] = o;
  }
  CHECKF(n < cap, "the limit never refused a 16-byte object (%ld made)", n);
  for (long i = 1; i < n; i += 2)
    tab[i] = NULL;
  sgc_collect();
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t gc0 = st.num_gc;
  int failed = 0;
  for (int i = 0; i < TRIES; i++) {
    errno = 0;
    void *p = sgc_alloc(200000);
    if (p == NULL) {
      CHECKF(errno == ENOMEM, "NULL with errno %d", errno);
      failed++;
    }
  }
  sgc_read_stats(&st);
  uint64_t gcs = st.num_gc - gc0;
  printf("%ld small objects, half kept; %d of %d large allocations failed "
         "after %llu collections; spans %.1f MiB, live %.1f MiB\n",
         n, failed, TRIES, (unsigned long long)gcs,
         st.heap_span_bytes / 1048576.0, st.last_heap_after / 1048576.0);
  CHECKF(failed == TRIES, "a large object fit in a heap whose every span "
                          "holds a live object (%d of %d)", TRIES - failed,
         TRIES);
  CHECKF(gcs <= (uint64_t)failed, "%llu collections for %d failures: "
         "collections that freed nothing were repeated",
         (unsigned long long)gcs, failed);
  for (long i = 0; i < n; i += 2)
    CHECKF(tab[i][0] == (void *)(uintptr_t)(i * 7 + 1), "object %ld lost", i);
  sgc_remove_roots(tab, tab + cap);
  free(tab);
  sgc_set_max_heap(0);
  return 0;
}
