// labels: heap gc
/* allspans grows where it is (rule:snapshot-array-kept): its entries sit
 * in a reservation for every span the arena could need, committed as the
 * count grows, so the array never moves and a snapshot (the array and a
 * count) stays valid and unchanged however far allspans grows after it.
 * (It once grew by copying into a new array, 0.8-1.2 ms inside one
 * allocation of the pause test, and old arrays had to outlive the
 * snapshots that held them.)
 *
 *   - one-page objects, each a span of its own, until the committed
 *     capacity grew four times, with a collection every 2000 (each takes
 *     snapshots): the array is at the address it had, a snapshot taken
 *     before the first growth still reads the same structs, no entry is
 *     NULL, the metadata counted grew with the capacity, and every
 *     object is intact;
 *   - in a child with a 16 MiB arena (2048 pages): one- and two-page
 *     spans churned (freed and made again, so free runs merge and split),
 *     then made until the arena is full: the allocation fails with ENOMEM,
 *     not for want of allspans room, and allspans never holds more
 *     structs than the arena has pages and a few (the reservation's
 *     bound). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "nopreempt.h"

#define MAXOBJ 60000
static uint64_t *objs[MAXOBJ]; /* a root: keeps every span in use */

static void read_allspans(mspan ***a, uint32_t *n, uint32_t *cap) {
  mcache *np = np_lock(&sgc_heap.lock);
  mheap_snapshot_locked(a, n);
  *cap = sgc_heap.nspancap;
  np_unlock(&sgc_heap.lock, np);
}

static int small_arena(void) {
  sgc_init();
  void *lo, *hi;
  sgc_heap_bounds(&lo, &hi);
  size_t pages = (size_t)((char *)hi - (char *)lo) / PAGE_SIZE;
  CHECKF(pages == 2048, "arena of %zu pages, asked 16 MiB", pages);
  static void *held[4096];
  long made = 0, failed_at = -1;
  /* Three rounds below the arena's size: fill 1500 slots, then free every
   * third and take them again as two-page and one-page objects, so free
   * runs merge and split; then fill until the arena is full. */
  for (int round = 0; round < 4 && failed_at < 0; round++) {
    long upto = round < 3 ? 1500 : 4096;
    for (long i = 0; i < upto; i++) {
      if (held[i] != NULL)
        continue;
      held[i] = sgc_alloc_noscan(i % 7 == 3 ? 2 * PAGE_SIZE : PAGE_SIZE);
      if (held[i] == NULL) {
        CHECKF(round == 3, "round %d: object %ld failed", round, i);
        CHECKF(errno == ENOMEM, "object %ld: errno %d, not ENOMEM", i,
               errno);
        failed_at = made;
        break;
      }
      made++;
    }
    if (round < 3)
      for (long i = round; i < 1500; i += 3) {
        sgc_free(held[i]);
        held[i] = NULL;
      }
  }
  CHECKF(failed_at >= 0, "a 16 MiB arena took %ld page objects", made);
  uint32_t n, cap;
  mspan **a;
  read_allspans(&a, &n, &cap);
  CHECKF(n <= pages + 64 && n <= sgc_heap.nspanmax,
         "%u span structs for an arena of %zu pages (room for %u)", n,
         pages, sgc_heap.nspanmax);
  printf("16 MiB arena: full after %ld objects, %u span structs, "
         "room for %u\n", failed_at, n, sgc_heap.nspanmax);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "small") == 0)
    return small_arena();
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    setenv("SPANGC_ARENA_SIZE", "16m", 1);
    execl("/proc/self/exe", argv[0], "small", (char *)NULL);
    _exit(127);
  }
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
         "the 16 MiB arena run failed (status %#x)", st);

  sgc_init();
  objs[0] = sgc_alloc(64);
  CHECK(objs[0] != NULL);
  sgc_collect();
  mspan **a0;
  uint32_t n0, cap0;
  read_allspans(&a0, &n0, &cap0);
  mspan **copy = malloc(n0 * sizeof *copy);
  CHECK(copy != NULL);
  memcpy(copy, a0, n0 * sizeof *copy);
  uint64_t meta0 = ATOMIC_LOAD(&sgc_heap.sys_meta);
  int grew = 0, n = 1;
  uint32_t cap = cap0;
  while (grew < 4) {
    CHECKF(n < MAXOBJ, "allspans grew %d times in %d spans (capacity %u)",
           grew, n, cap);
    objs[n] = sgc_alloc_noscan(PAGE_SIZE); /* a one-page span each */
    CHECK(objs[n] != NULL);
    objs[n][0] = (uint64_t)n * 0x9e3779b97f4a7c15ull;
    n++;
    if (n % 2000 == 0)
      sgc_collect();
    mspan **a;
    uint32_t cnt, c;
    read_allspans(&a, &cnt, &c);
    CHECKF(a == a0, "allspans moved from %p to %p at capacity %u",
           (void *)a0, (void *)a, c);
    if (c != cap) {
      CHECKF(c > cap, "capacity fell from %u to %u", cap, c);
      cap = c;
      grew++;
    }
  }
  sgc_collect();
  uint32_t cnt, c;
  mspan **a;
  read_allspans(&a, &cnt, &c);
  CHECKF(memcmp(copy, a0, n0 * sizeof *copy) == 0,
         "the first snapshot's %u entries changed", n0);
  for (uint32_t k = 0; k < cnt; k++)
    CHECKF(a[k] != NULL, "allspans[%u] of %u is NULL", k, cnt);
  uint64_t meta1 = ATOMIC_LOAD(&sgc_heap.sys_meta);
  CHECKF(meta1 - meta0 >= (uint64_t)(c - cap0) * sizeof(mspan *),
         "metadata grew by %llu bytes, allspans' capacity by %u entries",
         (unsigned long long)(meta1 - meta0), c - cap0);
  for (int i = 1; i < n; i++)
    CHECKF(objs[i][0] == (uint64_t)i * 0x9e3779b97f4a7c15ull,
           "object %d lost its value", i);
  printf("allspans grew %d times in place, %u -> %u entries of room, %u "
         "spans, %d objects\n", grew, cap0, c, cnt, n);
  free(copy);
  return 0;
}
