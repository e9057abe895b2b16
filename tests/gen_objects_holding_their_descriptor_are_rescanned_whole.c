// labels: gc threads
/* A large object of a kind that holds its own descriptor
 * (SGC_DS_PER_OBJECT: in a word of the object, or in a type object its
 * first word points to) is filled while its descriptor is still 0 ("not
 * stored yet": nothing is scanned) with a pointer to a young object Y, far
 * from the descriptor's page; Y is also held by a global.  A minor runs
 * (the filled page is listed, read with descriptor 0; aging keeps Y
 * young, reached from the global only).  Then the program stores the
 * descriptor (the first page written) and drops the global: the next
 * minor lists only the first page, and must read the object whole with
 * its new descriptor, or Y dies while the object holds it.  Eight rounds
 * per form, each a new object; Y must be intact after more minors and a
 * major (exact tags).
 * Catches: scan_dirty reading such an object by the pages written only
 * (the adversarial review of 9573458: 4 to 5 of 8 rounds lost Y). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define SIZE ((size_t)512 << 10)
#define OFF ((size_t)256 << 10)
#define ROUNDS 8

static char *volatile obj[2][ROUNDS];
static void *volatile global; /* Y's other holder */
static uintptr_t type[2];     /* the indirect form's type: word 1 */
static int kind[2];
static uint64_t tags[2][ROUNDS];

static void **slot(int f, int r) { return (void **)(obj[f][r] + OFF + 24); }

__attribute__((noinline)) static void make(int f, int r) {
  obj[f][r] = sgc_alloc_kind(SIZE, kind[f]);
  CHECK(obj[f][r] != NULL);
  tags[f][r] = 0x5100000000000000ull | ((uint64_t)f << 8) | (uint64_t)r;
  void *y = tagged_new(tags[f][r]);
  *slot(f, r) = y;
  global = y;
}

__attribute__((noinline)) static void describe(int f, int r) {
  if (f == 1)
    *(uintptr_t **)obj[f][r] = type; /* its descriptor: type[1] */
  else
    *(uintptr_t *)obj[f][r] = SIZE; /* every word (a length) */
}

int main(void) {
  sgc_init();
  kind[0] = sgc_new_kind(SGC_DS_PER_OBJECT, 0); /* at offset 0 */
  /* in the type, at offset 8: -(8 + SGC_INDIR_PER_OBJ_BIAS) */
  kind[1] = sgc_new_kind(
      (uintptr_t)(intptr_t)(SGC_DS_PER_OBJECT - SGC_INDIR_PER_OBJ_BIAS - 8),
      0);
  CHECK(kind[0] >= 0 && kind[1] >= 0);
  type[1] = SIZE;
  /* Old data, so that the allocation between collections is a small part
   * of the heap and they stay minor. */
  static void *volatile ballast;
  ballast = sgc_alloc_noscan((size_t)64 << 20);
  CHECK(ballast != NULL);
  sgc_collect();
  run_minors(2);
  uint64_t minors = 0;
  for (int f = 0; f < 2; f++)
    for (int r = 0; r < ROUNDS; r++) {
      make(f, r);
      clear_stack();
      minors += run_minors(1);
      describe(f, r);
      global = NULL;
      clear_stack();
      minors += run_minors(3);
      CHECKF(tagged_intact(*slot(f, r), tags[f][r]),
             "%s form, round %d: the young object the object holds far "
             "from its descriptor was lost", f ? "type" : "offset", r);
    }
  printf("%llu minors (generational %d)\n", (unsigned long long)minors,
         generational());
  sgc_collect();
  for (int f = 0; f < 2; f++)
    for (int r = 0; r < ROUNDS; r++)
      CHECKF(tagged_intact(*slot(f, r), tags[f][r]),
             "after a major: form %d, round %d lost", f, r);
  return 0;
}
