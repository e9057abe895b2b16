// labels: malloc gc
/* A malloc-style program: at most 8 MiB live at any time, stepping
 * through the size classes and freeing everything it allocated each
 * round.  Objects freed with sgc_free keep their slots until a collection
 * drops the freed lists and sweeps them, so the pacer counts them: the
 * program still collects, and the pages freed in one class serve the
 * next.  The spans in use stay within 4x the live data plus a few MiB
 * (they once grew to 508 MiB here). */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "spangc.h"

#define LIVE ((size_t)8 << 20)

int main(void) {
  sgc_init();
  size_t peak = 0;
  int rounds = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t size = 16; size <= 32768; size += size / 8 + 16) {
      size_t n = LIVE / size;
      void **held = sgc_alloc(n * sizeof(void *)); /* scanned: a root */
      CHECK(held != NULL);
      for (size_t i = 0; i < n; i++) {
        held[i] = sgc_alloc_noscan(size);
        CHECK(held[i] != NULL);
        ((char *)held[i])[size - 1] = 1;
      }
      for (size_t i = 0; i < n; i++)
        sgc_free(held[i]);
      sgc_free(held);
      sgc_stats st;
      sgc_read_stats(&st);
      if (st.heap_span_bytes > peak)
        peak = st.heap_span_bytes;
      rounds++;
    }
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%d rounds of %zu MiB: peak spans %.1f MiB, %llu collections\n",
         rounds, LIVE >> 20, (double)peak / 1048576.0,
         (unsigned long long)st.num_gc);
  CHECKF(peak <= 4 * LIVE + ((size_t)8 << 20),
         "spans in use peaked at %.1f MiB for %zu MiB live",
         (double)peak / 1048576.0, LIVE >> 20);
  return 0;
}
