// labels: heap
// env: SPANGC_SCAVENGE_MS=200
/* Free pages idle for the scavenge period go back to the OS even while
 * the program keeps allocating and freeing a little next to them: a
 * 40 KB object allocated and freed every 20 ms beside a 256 MiB idle run
 * once reset the run's idle time each time and kept all of it resident. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "spangc.h"

int main(void) {
  sgc_init();
  size_t big = (size_t)256 << 20;
  char *p = sgc_alloc_noscan(big);
  CHECK(p != NULL);
  memset(p, 1, big); /* resident */
  sgc_free(p);
  struct timespec ts = {0, 20000000};
  for (int i = 0; i < 75; i++) { /* 1.5 s */
    void *q = sgc_alloc_noscan(40000);
    CHECK(q != NULL);
    memset(q, 2, 40000);
    sgc_free(q);
    nanosleep(&ts, NULL);
  }
  sgc_stats st;
  sgc_read_stats(&st);
  printf("released %.1f MiB of %.1f MiB idle\n",
         (double)st.heap_released_bytes / 1048576.0,
         (double)st.heap_idle_bytes / 1048576.0);
  CHECKF(st.heap_released_bytes >= ((size_t)200 << 20),
         "only %.1f MiB returned to the OS",
         (double)st.heap_released_bytes / 1048576.0);
  return 0;
}
