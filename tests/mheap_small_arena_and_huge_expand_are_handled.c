// labels: heap
// env: SPANGC_ARENA_SIZE=64m
/* SPANGC_ARENA_SIZE below 256 MiB reserves that much (it used to abort at
 * start-up: the reserve loop stopped at 256 MiB), the heap works inside
 * it, and running out of it is reported as ENOMEM.  sgc_expand_heap of
 * more than the arena (SIZE_MAX included, whose rounding to pages wraps
 * to 0) reports ENOMEM and changes nothing. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "spangc.h"

int main(void) {
  sgc_init();
  void *lo, *hi;
  sgc_heap_bounds(&lo, &hi);
  size_t arena = (size_t)((char *)hi - (char *)lo);
  CHECKF(arena == (size_t)64 << 20, "arena of %zu bytes, asked 64 MiB",
         arena);
  sgc_stats before, after;
  sgc_read_stats(&before);
  CHECK(sgc_expand_heap(SIZE_MAX) == ENOMEM);
  CHECK(sgc_expand_heap(SIZE_MAX - 4096) == ENOMEM);
  CHECK(sgc_expand_heap(arena + 1) == ENOMEM);
  sgc_read_stats(&after);
  /* The heap's pages, not metadata: the runtime's own threads, starting
   * meanwhile, take metadata of their own (a conc run failed so, loaded). */
  CHECKF(after.sys_bytes - after.meta_bytes ==
                 before.sys_bytes - before.meta_bytes &&
             after.arena_committed_bytes == before.arena_committed_bytes,
         "a refused expansion changed the heap: %llu -> %llu bytes",
         (unsigned long long)(before.sys_bytes - before.meta_bytes),
         (unsigned long long)(after.sys_bytes - after.meta_bytes));
  CHECK(sgc_expand_heap((size_t)1 << 20) == 0);
  /* Keep 40 MiB live: fits; then ask for more than is left. */
  void **keep = sgc_alloc(40 * sizeof(void *));
  for (int i = 0; i < 40; i++) {
    keep[i] = sgc_alloc_noscan((size_t)1 << 20);
    CHECK(keep[i] != NULL);
  }
  errno = 0;
  void *big = sgc_alloc_noscan((size_t)48 << 20);
  CHECK(big == NULL && errno == ENOMEM);
  sgc_collect();
  for (int i = 0; i < 40; i++)
    CHECK(sgc_size(keep[i]) >= (size_t)1 << 20);
  return 0;
}
