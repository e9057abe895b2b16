// labels: heap
// env: SPANGC_SCAVENGE_MS=600000
/* A fiber stack span goes back to the heap released: its stacks' pages
 * were returned to the OS as the stacks were freed, and the heap counts
 * them so (heap_released_bytes, bdwgc's GC_get_unmapped_bytes) and hands
 * them out again as zeroes.  They once came back counted resident, waiting
 * for the scavenger to release them a second time.  The scavenger is kept
 * out of the way here (a 10-minute period). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "spangc-int.h"

static void body(void *arg) {
  volatile char buf[256 << 10]; /* touch a good part of the stack */
  memset((char *)buf, 1, sizeof buf);
  (void)arg;
}

int main(void) {
  sgc_init();
  sgc_stats a, b;
  sgc_read_stats(&a);
  sgc_fiber *f = sgc_fiber_create(body, NULL, 1 << 20); /* a span of its own */
  CHECK(f != NULL);
  sgc_fiber_switch(f); /* runs body; its stack is freed on the way back */
  CHECK(sgc_fiber_finished(f));
  sgc_read_stats(&b);
  printf("released: %llu -> %llu bytes; stacks %llu bytes\n",
         (unsigned long long)a.heap_released_bytes,
         (unsigned long long)b.heap_released_bytes,
         (unsigned long long)b.stack_bytes);
  CHECK(b.stack_bytes == 0);
  CHECKF(b.heap_released_bytes >= a.heap_released_bytes + (1 << 20),
         "a freed 1 MiB stack span is not counted released (%llu -> %llu)",
         (unsigned long long)a.heap_released_bytes,
         (unsigned long long)b.heap_released_bytes);
  sgc_heap_verify();
  return 0;
}
