/* probe — does spangc collect garbage yet?
 *
 * Allocates 2 GiB in total in 1 KiB scanned objects and keeps none of them.
 * A collecting heap stays small; a heap that never frees grows without
 * bound.  The probe stops as soon as the heap's spans (sgc_read_stats
 * heap_span_bytes) or its own resident set exceed LIMIT (512 MiB), so it
 * never uses much more than that.
 *   exit 0: collects (prints the largest heap seen)
 *   exit 1: does not collect
 */
#include <spangc.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#define TOTAL (2ull << 30)
#define OBJ 1024
#define LIMIT (512ull << 20)

static void *volatile sink;

int main(void) {
  sgc_init();
  sgc_stats st;
  uint64_t n = TOTAL / OBJ, peak = 0;
  for (uint64_t i = 0; i < n; i++) {
    char *p = sgc_alloc(OBJ);
    if (!p) {
      printf("probe: allocation failed after %llu MiB\n", (unsigned long long)(i * OBJ >> 20));
      return 1;
    }
    p[0] = 1;
    sink = p;
    if (i % 4096 == 0) {
      sgc_read_stats(&st);
      struct rusage ru;
      getrusage(RUSAGE_SELF, &ru);
      uint64_t rss = (uint64_t)ru.ru_maxrss * 1024;
      if (st.heap_span_bytes > peak) peak = st.heap_span_bytes;
      if (st.heap_span_bytes > LIMIT || rss > LIMIT) {
        printf("probe: no collection: after %llu MiB allocated the heap spans %llu MiB, peak RSS %llu MiB\n",
               (unsigned long long)(i * OBJ >> 20), (unsigned long long)(st.heap_span_bytes >> 20),
               (unsigned long long)(rss >> 20));
        return 1;
      }
    }
  }
  sink = NULL;
  printf("probe: collects: %llu MiB allocated, largest heap seen %llu MiB\n",
         (unsigned long long)(TOTAL >> 20), (unsigned long long)(peak >> 20));
  return 0;
}
