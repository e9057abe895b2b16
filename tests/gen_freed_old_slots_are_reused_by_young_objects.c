// labels: gc
/* Generational collection and sgc_free: an old object (made old by a
 * collection) freed explicitly gives its slot back, and a young object
 * allocated there is young, not old:
 *  - reuse: young objects allocated after the frees land in the freed
 *    slots (most of them);
 *  - survival: such young objects, each pointing to a young noscan child,
 *    stored into old holders written afterwards and kept by nothing else,
 *    survive several minor collections intact (exact);
 *  - not leaked: young objects in freed old slots that nothing references
 *    are freed by minor collections, not kept as old until a major one
 *    (>= 90% of their weak slots cleared with no major collection in
 *    between; when generations are off, by ordinary collections).
 * Catches: sgc_free not clearing the mark bit of an old object (its slot's
 * next object inherits "old" and is never freed by a minor). */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 3000
#define VSIZE 48 /* victims and young objects: a class of their own */

void *volatile g_victims[N];
void **volatile g_holders; /* an old array of N pointers (large: old) */
static uintptr_t *freed;   /* malloc'ed, sorted: addresses freed */
static void **weak;        /* malloc'ed weak slots */

static int cmp(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

static int was_freed(const void *p) {
  uintptr_t k = (uintptr_t)p;
  return bsearch(&k, freed, N, sizeof *freed, cmp) != NULL;
}

__attribute__((noinline)) static void make_victims(void) {
  for (int i = 0; i < N; i++) {
    uint64_t *v = sgc_alloc(VSIZE);
    CHECK(v != NULL);
    v[0] = (uint64_t)i;
    g_victims[i] = v;
  }
}

__attribute__((noinline)) static void free_victims(void) {
  for (int i = 0; i < N; i++) {
    freed[i] = (uintptr_t)g_victims[i];
    sgc_free(g_victims[i]);
    g_victims[i] = NULL;
  }
  qsort(freed, N, sizeof *freed, cmp);
}

static uint64_t ytag(int i) { return 0x3e00000000000000ull | (uint64_t)i; }

/* Young objects in the freed slots, stored into the old holders: returns
 * how many landed in a freed slot. */
__attribute__((noinline)) static int make_kept(void) {
  int reused = 0;
  for (int i = 0; i < N; i++) {
    uint64_t *y = sgc_alloc(VSIZE), *c = sgc_alloc_noscan(16);
    CHECK(y != NULL && c != NULL);
    reused += was_freed(y);
    c[0] = ~ytag(i);
    c[1] = ytag(i) * 3;
    y[0] = ytag(i);
    y[1] = (uint64_t)(uintptr_t)c;
    y[2] = ytag(i) + 5;
    g_holders[i] = y; /* the old holder is written after the frees */
  }
  return reused;
}

__attribute__((noinline)) static void check_kept(const char *when) {
  for (int i = 0; i < N; i++) {
    const uint64_t *y = g_holders[i];
    CHECKF(y != NULL && sgc_base(y) == y && y[0] == ytag(i) &&
               y[2] == ytag(i) + 5,
           "%s: young object %d (in a freed old slot) lost: %p", when, i,
           (const void *)y);
    const uint64_t *c = (const uint64_t *)(uintptr_t)y[1];
    CHECKF(c != NULL && sgc_base(c) == c && c[0] == ~ytag(i) &&
               c[1] == ytag(i) * 3,
           "%s: child of young object %d lost", when, i);
  }
}

/* Young garbage in freed old slots, each watched by a weak slot. */
__attribute__((noinline)) static int make_garbage(void) {
  int reused = 0;
  for (int i = 0; i < N; i++) {
    uint64_t *y = sgc_alloc(VSIZE);
    CHECK(y != NULL);
    reused += was_freed(y);
    y[0] = (uint64_t)i;
    weak[i] = y;
    CHECK(sgc_register_weak(&weak[i], y) == 0);
  }
  return reused;
}

int main(void) {
  sgc_init();
  sgc_set_finalizer_thread(0);
  freed = malloc(N * sizeof *freed);
  weak = calloc(N, sizeof *weak);
  CHECK(freed && weak);
  g_holders = sgc_alloc(N * sizeof(void *));
  CHECK(g_holders != NULL);
  make_victims();
  clear_stack();
  sgc_collect(); /* the holders and the victims are old */
  int gen = generational();
  uint64_t m0 = minor_count();
  sgc_stats st0, st1;
  sgc_read_stats(&st0);

  /* Survival. */
  free_victims();
  int reused = make_kept();
  clear_stack();
  uint64_t minors = run_minors(4);
  check_kept("after minor collections");
  printf("kept: %d of %d young objects in freed old slots\n", reused, N);
  CHECKF(reused >= N / 2, "only %d of %d young objects reused a freed "
         "slot", reused, N);

  /* Not leaked: the kept ones become old; free them, fill their slots
   * with young garbage. */
  for (int i = 0; i < N; i++)
    g_victims[i] = g_holders[i];
  free_victims(); /* the kept objects (old now); their children die */
  for (int i = 0; i < N; i++)
    g_holders[i] = NULL;
  int greused = make_garbage();
  clear_stack();
  minors += run_minors(4);
  sgc_read_stats(&st1);
  int cleared = 0;
  for (int i = 0; i < N; i++)
    cleared += weak[i] == NULL;
  printf("garbage: %d of %d in freed old slots, %d of %d freed by %llu "
         "minor collections, %llu major (generational %d)\n", greused, N,
         cleared, N, (unsigned long long)minors,
         (unsigned long long)(st1.num_major_gc - st0.num_major_gc), gen);
  CHECKF(greused >= N / 2, "only %d of %d young objects reused a freed "
         "slot", greused, N);
  if (gen) {
    CHECK(minor_count() - m0 == minors);
    CHECKF(minors >= 8, "only %llu minor collections ran",
           (unsigned long long)minors);
    CHECKF(st1.num_major_gc == st0.num_major_gc,
           "a major collection ran; the check below needs minors only");
  }
  CHECKF(cleared >= N * 9 / 10, "only %d of %d young objects in freed old "
         "slots were freed (kept as old?)", cleared, N);
  sgc_collect();
  return 0;
}
