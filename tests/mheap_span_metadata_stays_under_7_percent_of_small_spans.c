// labels: gc
/* Metadata per span stays small.  The pause test's 1 KiB objects sit
 * eight to an 8 KiB span; each span's struct was 576 bytes while its
 * bitmaps for uncollectable objects, objects ever freed and the
 * finalizer queue, which few spans use, were inline; out of line
 * (mspan_rare) it is 384.  Here 256 MB of such objects are kept live and
 * the metadata grown meanwhile (span structs, page table, allspans, the
 * struct allocator's chunk) is divided by the spans made: at most 7% of
 * a span, 573 bytes (about 490 now; about 750 with the inline bitmaps,
 * 9%).  The debug build's structs hold one bitmap more (64 bytes). */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define OBJ 1024

int main(void) {
  sgc_init();
  size_t n = (size_t)(256 << 20) / OBJ;
  void **keep = calloc(n, sizeof *keep);
  CHECK(keep != NULL);
  CHECK(sgc_add_roots(keep, keep + n) == 0);
  sgc_stats a, b;
  sgc_read_stats(&a);
  for (size_t i = 0; i < n; i++)
    CHECK((keep[i] = sgc_alloc(OBJ)) != NULL);
  sgc_read_stats(&b);
  uint64_t spans = b.spans_inuse - a.spans_inuse;
  uint64_t meta = b.meta_bytes - a.meta_bytes;
  CHECK(spans > 0);
  printf("%llu spans made, metadata %llu bytes more: %llu a span\n",
         (unsigned long long)spans, (unsigned long long)meta,
         (unsigned long long)(meta / spans));
  uint64_t bound = 8192 * 7 / 100 + (SPANGC_DEBUG ? 64 : 0);
  CHECKF(meta / spans <= bound, "%llu bytes of metadata a span",
         (unsigned long long)(meta / spans));
  sgc_remove_roots(keep, keep + n);
  free(keep);
  return 0;
}
