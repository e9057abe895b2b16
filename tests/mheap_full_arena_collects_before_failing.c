// labels: heap gc
// env: SPANGC_ARENA_SIZE=48m SPANGC_GOGC=1000
/* When the page heap cannot grow (here the arena's end; the same holds when
 * the OS refuses memory, under strict overcommit or a ulimit -v), an
 * allocation collects and tries again before it fails, as it does at
 * sgc_set_max_heap: the heap's goal (ten times the live data with
 * GOGC=1000) lies past the arena, and the garbage behind it is what the
 * allocation needs.  Before, it failed with ENOMEM as soon as the arena
 * was full, with four fifths of it garbage.
 *   - small objects (the mcache refill), and large ones, churned over a
 *     live set of 6 MiB: no failure, and the live objects intact;
 *   - a request larger than the whole arena fails at once, without a
 *     collection: none can help it;
 *   - a live set that fills the arena still gets ENOMEM, after one
 *     collection for the failure;
 *   - while collections are disabled (sgc_disable) a full arena fails
 *     without collecting: a program that disables them to hide pointers
 *     keeps its objects (the first version collected regardless and
 *     overwrote them; found by the adversarial review). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"

#define SLOTS 65536 /* 6 MiB of tagged objects (96 bytes) live */

static uint64_t tag_of(long i, long gen) {
  return ((uint64_t)gen << 20) ^ (uint64_t)i ^ 0x5a5a000000000000ull;
}

int main(void) {
  sgc_init();
  void *lo, *hi;
  sgc_heap_bounds(&lo, &hi);
  size_t arena = (size_t)((char *)hi - (char *)lo);
  CHECKF(arena == (size_t)48 << 20, "arena of %zu bytes, asked 48 MiB",
         arena);
  /* Disabled: hidden objects survive a full arena, which fails. */
  sgc_stats st0, st1;
  uintptr_t hidden[64];
  for (int i = 0; i < 64; i++)
    hidden[i] = ~(uintptr_t)tagged_new(0xd15ab1edull + (uint64_t)i);
  sgc_disable();
  sgc_read_stats(&st0);
  long got = 0; /* the arena holds 768 such objects at most */
  while (got < 2000 && sgc_alloc_noscan(64 << 10) != NULL)
    got++;
  CHECKF(got < 2000 && errno == ENOMEM,
         "%ld objects of 64 KiB in a 48 MiB arena while disabled", got);
  sgc_read_stats(&st1);
  CHECKF(st1.num_gc == st0.num_gc, "%llu collections while disabled",
         (unsigned long long)(st1.num_gc - st0.num_gc));
  for (int i = 0; i < 64; i++)
    CHECKF(tagged_intact((uint64_t *)~hidden[i], 0xd15ab1edull + (uint64_t)i),
           "hidden object %d lost while collections were disabled", i);
  printf("disabled: %ld objects of 64 KiB, then ENOMEM, no collection\n",
         got);
  sgc_enable();
  sgc_collect();

  uint64_t **keep = sgc_alloc(SLOTS * sizeof *keep);
  uint64_t *tags = malloc(SLOTS * sizeof *tags);
  CHECK(keep != NULL && tags != NULL);
  for (long i = 0; i < SLOTS; i++) {
    tags[i] = tag_of(i, 0);
    keep[i] = tagged_new(tags[i]);
  }
  sgc_read_stats(&st0);
  /* 200 MiB of churn through a 48 MiB arena whose goal is past its end. */
  long fails = 0, n = 2L << 20;
  uint64_t s = 88172645463325252ull;
  for (long k = 0; k < n; k++) {
    long i = (long)(xorshift64(&s) % SLOTS);
    uint64_t t = tag_of(i, k + 1);
    uint64_t *o = tagged_try_new(t);
    if (o == NULL) {
      CHECK(errno == ENOMEM);
      fails++;
      continue;
    }
    keep[i] = o;
    tags[i] = t;
    if (k % 4096 == 0) { /* and a large object now and then */
      char *big = sgc_alloc_noscan(256 << 10);
      if (big == NULL)
        fails++;
      else
        big[0] = 1;
    }
  }
  sgc_read_stats(&st1);
  printf("%ld allocations failed; %llu collections\n", fails,
         (unsigned long long)(st1.num_gc - st0.num_gc));
  CHECKF(fails == 0, "%ld allocations failed in an arena full of garbage",
         fails);
  for (long i = 0; i < SLOTS; i++)
    CHECKF(tagged_intact(keep[i], tags[i]), "slot %ld lost its object", i);

  /* More than the arena: fails without collecting. */
  sgc_read_stats(&st0);
  errno = 0;
  CHECK(sgc_alloc_noscan(arena + ((size_t)1 << 20)) == NULL &&
        errno == ENOMEM);
  sgc_read_stats(&st1);
  CHECKF(st1.num_gc == st0.num_gc,
         "a request larger than the arena made %llu collections",
         (unsigned long long)(st1.num_gc - st0.num_gc));

  /* The arena filled with live data: ENOMEM, after one collection. */
  void **full = sgc_alloc(64 * sizeof *full);
  CHECK(full != NULL);
  int held = 0;
  while (held < 64 && (full[held] = sgc_alloc_noscan(1 << 20)) != NULL)
    held++;
  CHECK(held < 64 && errno == ENOMEM);
  sgc_read_stats(&st0);
  errno = 0;
  CHECK(sgc_alloc_noscan(8 << 20) == NULL && errno == ENOMEM);
  sgc_read_stats(&st1);
  CHECKF(st1.num_gc - st0.num_gc == 1,
         "a failure in a full arena made %llu collections, not one",
         (unsigned long long)(st1.num_gc - st0.num_gc));
  for (long i = 0; i < SLOTS; i++)
    CHECKF(tagged_intact(keep[i], tags[i]), "slot %ld lost its object", i);
  return 0;
}
