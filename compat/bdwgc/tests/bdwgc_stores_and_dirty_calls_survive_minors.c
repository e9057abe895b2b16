/* Incremental (on spangc: generational) mode: objects built and promoted
 * (GC_gcollect, then allocation until automatic collections ran) get young
 * objects stored into them each round, one by GC_ptr_store_and_dirty, one
 * by a plain store followed by GC_end_stubborn_change on the holder; the
 * young objects are reachable only through the holders, and survive many
 * automatic collections intact (exact: pattern and GC_base), round after
 * round; a final GC_gcollect keeps them too.
 * GC_is_incremental_mode(): on spangc (BDWGC_TEST_ON_SPANGC, set by this
 * directory's CMakeLists.txt), 1 when minor collections are available
 * (neither SPANGC_GENERATIONAL=0 nor SPANGC_DIRTY=off, and the kernel has
 * userfaultfd asynchronous write protection), 0 otherwise; on stock bdwgc
 * either, not checked.
 * Catches (spangc): the written holders' pages not scanned by minor
 * collections; GC_enable_incremental not reporting the mode. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#ifdef BDWGC_TEST_ON_SPANGC
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define NHOLD 2000
#define YSIZE 64
#define ROUNDS 10
#define COLLECTIONS 3 /* automatic collections per round */

struct holder {
  void *by_call;   /* GC_ptr_store_and_dirty */
  void *by_store;  /* plain store, then GC_end_stubborn_change */
  uintptr_t index;
};

struct holder *holders[NHOLD];

static size_t id_of(int round, long i, int which) {
  return ((size_t)round * NHOLD + (size_t)i) * 2 + (size_t)which;
}

static NOINLINE void *young(size_t id) {
  void *p = GC_MALLOC(YSIZE);
  CHECK(p != NULL, "allocation");
  fill_pattern(p, YSIZE, id);
  return p;
}

static NOINLINE void make_holders(void) {
  for (long i = 0; i < NHOLD; i++) {
    holders[i] = GC_MALLOC(sizeof(struct holder));
    CHECK(holders[i] != NULL, "allocation");
    holders[i]->index = (uintptr_t)i;
  }
}

/* Allocate garbage (YSIZE bytes, the young objects' size, filled with a
 * pattern no young object has) until n automatic collections ran. */
static NOINLINE void run_collections(int n) {
  GC_word start = GC_get_gc_no();
  for (long k = 0; GC_get_gc_no() - start < (GC_word)n; k++) {
    unsigned char *g = GC_MALLOC(YSIZE);
    CHECK(g != NULL, "allocation");
    memset(g, 0xa5, YSIZE);
    CHECK(k < 100000000L, "no automatic collection after %ld allocations", k);
  }
}

static NOINLINE void store_round(int round) {
  for (long i = 0; i < NHOLD; i++) {
    struct holder *h = holders[i];
    GC_ptr_store_and_dirty(&h->by_call, young(id_of(round, i, 0)));
    h->by_store = young(id_of(round, i, 1));
    GC_end_stubborn_change(h);
  }
}

static void check_round(int round, const char *when) {
  for (long i = 0; i < NHOLD; i++) {
    struct holder *h = holders[i];
    CHECK(h->index == (uintptr_t)i, "%s: holder %ld corrupted", when, i);
    for (int w = 0; w < 2; w++) {
      void *p = w == 0 ? h->by_call : h->by_store;
      CHECK(p != NULL && GC_base(p) == p, "round %d %s: the object stored "
            "%s into holder %ld is not an object", round, when,
            w == 0 ? "by GC_ptr_store_and_dirty" : "plainly", i);
      long bad = check_pattern(p, YSIZE, id_of(round, i, w));
      CHECK(bad < 0, "round %d %s: the object stored %s into holder %ld is "
            "corrupted at byte %ld", round, when,
            w == 0 ? "by GC_ptr_store_and_dirty" : "plainly", i, bad);
    }
  }
}

#ifdef BDWGC_TEST_ON_SPANGC
/* Whether the kernel has what spangc's minor collections need. */
static int kernel_tracks_writes(void) {
  int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
  if (fd < 0) return 0;
  struct uffdio_api api = {.api = UFFD_API,
                           .features = (1ull << 15) | (1ull << 13)};
  int ok = ioctl(fd, UFFDIO_API, &api) == 0 && (api.features & (1ull << 15));
  close(fd);
  return ok;
}
#endif

int main(void) {
  GC_INIT();
  GC_enable_incremental();
  int mode = GC_is_incremental_mode();
#ifdef BDWGC_TEST_ON_SPANGC
  const char *g = getenv("SPANGC_GENERATIONAL"), *d = getenv("SPANGC_DIRTY");
  int expect = !(g && strcmp(g, "0") == 0) && !(d && strcmp(d, "off") == 0) &&
               kernel_tracks_writes();
  CHECK(mode == expect, "GC_is_incremental_mode() = %d, expected %d", mode,
        expect);
#endif

  make_holders();
  clear_stack();
  GC_gcollect();
  run_collections(2); /* the holders are old */
  GC_word gc0 = GC_get_gc_no();
  for (int round = 0; round < ROUNDS; round++) {
    store_round(round);
    clear_stack();
    for (int k = 0; k < COLLECTIONS; k++) {
      run_collections(1);
      check_round(round, "after an automatic collection");
    }
  }
  printf("incremental mode %d; %lu collections\n", mode,
         (unsigned long)(GC_get_gc_no() - gc0));
  GC_gcollect();
  check_round(ROUNDS - 1, "after GC_gcollect");
  PASS("bdwgc_stores_and_dirty_calls_survive_minors");
}
