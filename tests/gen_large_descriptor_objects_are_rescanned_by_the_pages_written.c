// labels: gc threads
/* A large old object of a kind with a fixed descriptor, written on a few
 * pages far apart, is rescanned by a minor collection on those pages
 * only, as its descriptor describes them; one that cannot be read by part
 * (a mark procedure's, or one holding its own descriptor: typed objects)
 * is scanned whole, but once a minor however many of its pages were
 * written.  Six 4 MiB objects, made old:
 *  - of a kind whose descriptor is an extended bitmap (every eighth word,
 *    from sgc_make_descriptor), read by part;
 *  - of a kind scanning its whole length (sgc_new_kind(0, ADD_SIZE)),
 *    read by part;
 *  - of a kind whose descriptor is a short bitmap (words 0-3), read by
 *    part (nothing beyond its first page);
 *  - typed (sgc_alloc_typed, the same extended bitmap), whole;
 *  - a typed array (sgc_calloc_typed, elements of 64 bytes, pointer in
 *    word 3), whole;
 *  - of a mark-procedure kind whose procedure marks the slots the test
 *    writes, whole.
 * Each round stores young objects into STORES slots 512 KiB apart in
 * each object but the short bitmap's (each its own run of written pages),
 * then runs minors: the young ones survive them and a major (exact tags).
 * A round whose only collection was one minor must have rescanned exactly
 * three objects whole; any run of minors alone, at most three a minor.
 * Catches: scan_dirty scanning a descriptor object whole for each run of
 * written pages over it (41 whole rescans a minor: a 64 MiB typed object
 * made a minor take 356 ms); a partial rescan missing the written words
 * (young objects lost). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define SIZE ((size_t)4 << 20)
#define STORES 8
#define STRIDE ((size_t)512 << 10)
#define ROUNDS 6
#define ELEM 64

enum { EXT, LENGTH, SHORT, TYPED, ARRAY, PROC, NOBJ };
static const char *names[NOBJ] = {"extended-bitmap kind", "length kind",
                                  "short-bitmap kind",    "typed",
                                  "typed array",          "procedure kind"};
#define WHOLE 3 /* the objects scanned whole: typed, array, procedure */
static char *volatile obj[NOBJ];
static uint64_t tags[NOBJ][STORES];

/* Slot s of object o: word 3 of an element, so that it is a pointer word
 * of every descriptor here (the bitmaps: every eighth word from 3); the
 * short bitmap's object has one slot, on its first page. */
static void **slot(int o, int s) {
  return (void **)(obj[o] + (size_t)s * STRIDE + 3 * sizeof(void *));
}
static int nslots(int o) { return o == SHORT ? 1 : STORES; }

static sgc_mark_entry *proc(uintptr_t *addr, sgc_mark_entry *top,
                            sgc_mark_entry *limit, uintptr_t env) {
  (void)env;
  for (int s = 0; s < STORES; s++) {
    void **p = (void **)((char *)addr + (size_t)s * STRIDE +
                         3 * sizeof(void *));
    top = sgc_mark_and_push(*p, top, limit, p);
  }
  return top;
}

__attribute__((noinline)) static void make(void) {
  size_t nwords = SIZE / sizeof(uintptr_t);
  uintptr_t *bm = calloc(nwords / 64 + 1, sizeof *bm);
  CHECK(bm != NULL);
  for (size_t w = 3; w < nwords; w += 8)
    bm[w / 64] |= (uintptr_t)1 << (w % 64);
  uintptr_t typed = sgc_make_descriptor(bm, nwords);
  free(bm);
  int kext = sgc_new_kind(typed, 0);
  /* bit 63 - i stands for word i: words 0 to 3 */
  int kshort = sgc_new_kind(((uintptr_t)0xf << 60) | SGC_DS_BITMAP, 0);
  CHECK(kext >= 0 && kshort >= 0);
  uintptr_t ebm = (uintptr_t)1 << 3;
  uintptr_t elem = sgc_make_descriptor(&ebm, ELEM / sizeof(uintptr_t));
  int klen = sgc_new_kind(0, SGC_KIND_ADD_SIZE);
  int pidx = sgc_new_mark_proc(proc);
  CHECK(klen >= 0 && pidx >= 0);
  int kproc = sgc_new_kind(SGC_MAKE_PROC(pidx, 0), 0);
  CHECK(kproc >= 0);
  obj[EXT] = sgc_alloc_kind(SIZE, kext);
  obj[SHORT] = sgc_alloc_kind(SIZE, kshort);
  obj[TYPED] = sgc_alloc_typed(SIZE, typed);
  obj[ARRAY] = sgc_calloc_typed(SIZE / ELEM, ELEM, elem);
  obj[LENGTH] = sgc_alloc_kind(SIZE, klen);
  obj[PROC] = sgc_alloc_kind(SIZE, kproc);
  for (int o = 0; o < NOBJ; o++)
    CHECKF(obj[o] != NULL, "%s object not allocated", names[o]);
}

__attribute__((noinline)) static void store(int r) {
  for (int o = 0; o < NOBJ; o++)
    for (int s = 0; s < nslots(o); s++) {
      tags[o][s] = 0x3100000000000000ull | ((uint64_t)r << 16) |
                   ((uint64_t)o << 8) | (uint64_t)s;
      *slot(o, s) = tagged_new(tags[o][s]);
    }
}

__attribute__((noinline)) static void check_all(const char *when, int r) {
  for (int o = 0; o < NOBJ; o++)
    for (int s = 0; s < nslots(o); s++)
      CHECKF(tagged_intact(*slot(o, s), tags[o][s]),
             "round %d, %s: the young object in slot %d of the %s object "
             "was lost", r, when, s, names[o]);
}

int main(void) {
  sgc_init();
  make();
  clear_stack();
  sgc_collect(); /* old now */
  run_minors(2);
  int gen = generational();
  uint64_t minors = 0, whole = 0;
  int single = 0;
  for (int r = 0; r < ROUNDS; r++) {
    store(r);
    clear_stack();
    sgc_stats st;
    sgc_read_stats(&st);
    uint64_t g0 = st.num_gc, w0 = ATOMIC_LOAD(&sgc_test_whole_rescans);
    uint64_t m = run_minors(1);
    sgc_read_stats(&st);
    uint64_t dw = ATOMIC_LOAD(&sgc_test_whole_rescans) - w0;
    if (st.num_gc - g0 == m) { /* minors only (a concurrent major's
                                    rescans count too) */
      CHECKF(dw <= WHOLE * m, "round %d: %llu whole rescans in %llu "
             "minors", r, (unsigned long long)dw, (unsigned long long)m);
      if (m == 1)
        single++;
      CHECKF(m != 1 || dw == WHOLE, "round %d: one minor rescanned %llu "
             "large objects whole (%d, once each)", r,
             (unsigned long long)dw, WHOLE);
    }
    minors += m;
    whole += dw;
    check_all("after a minor", r);
    minors += run_minors(2);
    check_all("after more minors", r);
  }
  printf("%d rounds: %llu minors, %d rounds of a single minor, %llu whole "
         "rescans (generational %d)\n", ROUNDS, (unsigned long long)minors,
         single, (unsigned long long)whole, gen);
  if (gen)
    CHECKF(single >= 1, "no round ran a single minor (%llu minors)",
           (unsigned long long)minors);
  sgc_collect();
  check_all("after a major", ROUNDS);
  return 0;
}
