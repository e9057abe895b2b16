// labels: gc
/* A large object that holds its own descriptor (SGC_DS_PER_OBJECT: in a
 * word of the object, or in a type object its first word points to) is
 * filled while its descriptor does not cover the filled part yet (0, "not
 * stored yet": nothing is scanned; or a length of 16 bytes) with a
 * pointer to a young object Y, far from the descriptor's page; Y is also
 * held by a global.  A minor runs (the filled page is listed, read with
 * the old descriptor; aging keeps Y young, reached from the global only).
 * Then the program stores the full descriptor (the first page written)
 * and drops the global: the next minor lists only the first page, and
 * must read the object whole with its new descriptor, or Y dies while the
 * object holds it.  Three forms, 32 rounds each, each a new object: a
 * program's kind with the descriptor at offset 0, one with it in a type
 * object, and a typed object (sgc_alloc_typed) whose descriptor is
 * itself per-object (offset 0, a length growing from 16).  Y must be
 * intact after more minors and a major (exact tags).
 * Catches: scan_dirty reading such an object by the pages written only
 * (the adversarial reviews of 9573458 and 2a7f5d0: their programs lost
 * Y in 3 to 6 rounds of 8; here the typed form loses it in about one
 * round of eight before the fix, hence 32 rounds). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define SIZE ((size_t)512 << 10)
#define OFF ((size_t)256 << 10)
#define ROUNDS 32

#define FORMS 3
static char *volatile obj[FORMS][ROUNDS];
static void *volatile global; /* Y's other holder */
static uintptr_t type[2];     /* the indirect form's type: word 1 */
static int kind[2];
static uint64_t tags[FORMS][ROUNDS];
static const char *forms[FORMS] = {"offset", "type", "typed"};

static void **slot(int f, int r) { return (void **)(obj[f][r] + OFF + 24); }

__attribute__((noinline)) static void make(int f, int r) {
  if (f == 2) {
    obj[f][r] = sgc_alloc_typed(SIZE, SGC_DS_PER_OBJECT);
    CHECK(obj[f][r] != NULL);
    *(uintptr_t *)obj[f][r] = 16; /* its first 16 bytes so far */
  } else {
    obj[f][r] = sgc_alloc_kind(SIZE, kind[f]);
    CHECK(obj[f][r] != NULL);
  }
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
  /* Old data (16 MB), so that the allocation between collections is a
   * small part of the heap and they stay minor. */
  static void *volatile ballast;
  ballast = sgc_alloc_noscan((size_t)16 << 20);
  CHECK(ballast != NULL);
  sgc_collect();
  run_minors(2);
  uint64_t minors = 0;
  for (int f = 0; f < FORMS; f++)
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
             "from its descriptor was lost", forms[f], r);
    }
  printf("%llu minors (generational %d)\n", (unsigned long long)minors,
         generational());
  sgc_collect();
  for (int f = 0; f < FORMS; f++)
    for (int r = 0; r < ROUNDS; r++)
      CHECKF(tagged_intact(*slot(f, r), tags[f][r]),
             "after a major: %s form, round %d lost", forms[f], r);
  return 0;
}
