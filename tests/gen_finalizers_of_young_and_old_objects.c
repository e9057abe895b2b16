// labels: gc
/* Generational collection and finalizers, in every ordering mode
 * (SGC_FIN_ORDERED, IGNORE_SELF, NO_ORDER, UNREACHABLE):
 *  - a young finalizable object that dies is finalized after minor
 *    collections, with no major one in between (>= 90% per mode: a stale
 *    stack word may keep a few), and what it references (a young noscan
 *    child with a known pattern) is intact when its finalizer runs
 *    (exact);
 *  - once its finalizer ran, the object is not old: a later minor
 *    collection frees it (>= 90% of weak slots registered on it by its
 *    finalizer are cleared by minors), when its finalizer ran before the
 *    next collection (the sweep is finished first, then the finalizers
 *    run; a collection in between: gen_finalized_objects_are_not_kept_as_old);
 *  - an old finalizable object (made old by a collection) that dies is not
 *    finalized by minor collections (they do not look at old objects) and
 *    is finalized after sgc_collect, a major collection (>= 90% per mode).
 * With generations off, the same holds across ordinary collections
 * (the old objects are then finalized by them: not checked).
 * Finalizers run on this thread only (sgc_run_finalizers).
 * Catches: objects whose finalizer was queued staying marked (old) after
 * the sweep (sweep.c's 'queued'). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 1000
#define NMODES 4

typedef struct fobj {
  uint64_t tag;
  uint64_t *child; /* noscan, 4 words */
  struct fobj *self;
  long index;
  int mode;
  int old;
} fobj;

static int count[2][NMODES];   /* [old][mode] finalized */
static long bad_child, bad_obj;
static void **weak;            /* malloc'ed: [mode * N + index] */
static const char *mname[NMODES] = {"ORDERED", "IGNORE_SELF", "NO_ORDER",
                                    "UNREACHABLE"};
void *volatile g_old[NMODES * N];

static uint64_t tag_of(int old, int mode, long i) {
  return 0x6600000000000000ull | ((uint64_t)old << 40) |
         ((uint64_t)mode << 32) | (uint64_t)i;
}

static void fin(void *obj, void *arg) {
  fobj *o = obj;
  (void)arg;
  if (o->mode < 0 || o->mode >= NMODES || o->index < 0 || o->index >= N ||
      o->tag != tag_of(o->old, o->mode, o->index)) {
    bad_obj++;
    return;
  }
  const uint64_t *c = o->child;
  if (c == NULL || sgc_base(c) != c || c[0] != ~o->tag || c[3] != o->tag * 5)
    bad_child++;
  count[o->old][o->mode]++;
  if (!o->old) {
    void **slot = &weak[o->mode * N + o->index];
    *slot = o;
    CHECK(sgc_register_weak(slot, o) == 0);
  }
}

static fobj *make(int old, int mode, long i) {
  fobj *o = sgc_alloc(sizeof *o);
  uint64_t *c = sgc_alloc_noscan(32);
  CHECK(o != NULL && c != NULL);
  o->tag = tag_of(old, mode, i);
  c[0] = ~o->tag;
  c[1] = c[2] = 0;
  c[3] = o->tag * 5;
  o->child = c;
  o->self = mode == SGC_FIN_IGNORE_SELF ? o : NULL; /* ignored by its mode */
  o->index = i;
  o->mode = mode;
  o->old = old;
  CHECK(sgc_set_finalizer_ex(o, fin, NULL, mode, NULL, NULL) == 0);
  return o;
}

__attribute__((noinline)) static void make_old(void) {
  for (int m = 0; m < NMODES; m++)
    for (long i = 0; i < N; i++)
      g_old[m * N + i] = make(1, m, i);
}

__attribute__((noinline)) static void make_young(void) {
  for (int m = 0; m < NMODES; m++)
    for (long i = 0; i < N; i++)
      make(0, m, i);
}

int main(void) {
  sgc_init();
  sgc_set_finalizer_thread(0);
  weak = calloc(NMODES * N, sizeof *weak);
  CHECK(weak != NULL);
  make_old();
  clear_stack();
  sgc_collect(); /* the g_old objects are old */
  int gen = generational();
  sgc_stats st0, st1, st2;
  sgc_read_stats(&st0);

  /* The old ones become unreachable; young ones are made and die. */
  for (int k = 0; k < NMODES * N; k++)
    g_old[k] = NULL;
  make_young();
  clear_stack();
  uint64_t minors = 0;
  for (int k = 0; k < 4; k++) {
    minors += run_minors(1);
    finish_sweep();
    sgc_run_finalizers();
  }
  sgc_read_stats(&st1);
  printf("young finalized after %llu minors (%llu majors):", (unsigned long long)minors,
         (unsigned long long)(st1.num_major_gc - st0.num_major_gc));
  for (int m = 0; m < NMODES; m++)
    printf(" %s %d/%d", mname[m], count[0][m], N);
  printf("; old: %d %d %d %d\n", count[1][0], count[1][1], count[1][2],
         count[1][3]);
  CHECKF(bad_obj == 0 && bad_child == 0, "%ld finalized objects and %ld "
         "of their children were corrupted", bad_obj, bad_child);
  if (gen) {
    CHECKF(minors >= 4, "only %llu minor collections ran",
           (unsigned long long)minors);
    CHECKF(st1.num_major_gc == st0.num_major_gc, "a major collection ran "
           "among the minors: the checks below need minors only");
    for (int m = 0; m < NMODES; m++)
      CHECKF(count[1][m] == 0, "%d old %s objects were finalized by minor "
             "collections", count[1][m], mname[m]);
  }
  for (int m = 0; m < NMODES; m++)
    CHECKF(count[0][m] >= N * 9 / 10, "only %d of %d young %s objects "
           "finalized", count[0][m], N, mname[m]);

  /* Finalized young objects are freed by the next minors. */
  minors = run_minors(3);
  finish_sweep();
  sgc_read_stats(&st2);
  int cleared = 0, registered = 0;
  for (int k = 0; k < NMODES * N; k++) {
    registered += count[0][k / N] > 0;
    cleared += weak[k] == NULL;
  }
  int finalized = count[0][0] + count[0][1] + count[0][2] + count[0][3];
  printf("finalized young objects freed by %llu more minors: %d of %d\n",
         (unsigned long long)minors, cleared - (NMODES * N - finalized),
         finalized);
  if (gen)
    CHECKF(st2.num_major_gc == st0.num_major_gc, "a major collection ran "
           "among the minors");
  CHECKF(cleared - (NMODES * N - finalized) >= finalized * 9 / 10,
         "only %d of %d finalized young objects were freed afterwards (kept "
         "as old?)", cleared - (NMODES * N - finalized), finalized);
  (void)registered;

  /* A major collection finalizes the old ones. */
  settle();
  for (int m = 0; m < NMODES; m++)
    CHECKF(count[1][m] >= N * 9 / 10, "only %d of %d old %s objects "
           "finalized after major collections", count[1][m], N, mname[m]);
  CHECK(bad_obj == 0 && bad_child == 0);
  return 0;
}
