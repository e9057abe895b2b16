// labels: gc
/* Finalizer ordering modes (sgc_set_finalizer_ex):
 *  - SGC_FIN_ORDERED: of a chain A -> B of unreachable finalizable
 *    objects, A is finalized first and B only in a later collection
 *    (never B before A, never both in one collection: exact);
 *  - an object pointing to itself is never finalized under ORDERED
 *    (exact), but is under SGC_FIN_IGNORE_SELF (>= 90%);
 *  - SGC_FIN_NO_ORDER: A -> B, both NO_ORDER and unreachable, are
 *    finalized in the same collection (>= 90% of the pairs: a stale stack
 *    word may keep a B alone), and what they point to (C, with a known
 *    pattern, and the noscan D that C points to) is intact and still
 *    allocated when their finalizers run (exact), although the memory the
 *    collector freed was reused in between;
 *  - sgc_set_finalizer_ex reports the finalizer it replaces (*oldfn,
 *    *oldarg), removal with fn NULL reports it too, NULL when there was
 *    none; a replaced or removed finalizer never runs;
 *  - EINVAL for an unknown mode (nothing changes) or a NULL object.
 * Finalizers run only on this thread (finalizer thread disabled), after
 * each collection, so "which collection" is exact. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NPAIRS 300
#define NSELF 300
#define NTRI 300

static int round_no; /* the collection the finalizers run after */

/* ---------------------------------------------- ORDERED chains */

typedef struct link_obj {
  struct link_obj *next;
  long index;
  long isb;
} link_obj;

static int ord_round_a[NPAIRS], ord_round_b[NPAIRS];
static int ord_count[2][NPAIRS];
static long ord_errors;

static void fin_ordered(void *obj, void *arg) {
  link_obj *o = obj;
  CHECK(arg == &ord_round_a);
  CHECK(o->index >= 0 && o->index < NPAIRS);
  ord_count[o->isb][o->index]++;
  if (o->isb) {
    ord_round_b[o->index] = round_no;
    if (ord_round_a[o->index] == 0 || ord_round_a[o->index] >= round_no)
      ord_errors++;
  } else {
    CHECK(o->next && o->next->isb && o->next->index == o->index);
    ord_round_a[o->index] = round_no;
  }
}

__attribute__((noinline)) static void make_ordered(void) {
  for (long i = 0; i < NPAIRS; i++) {
    link_obj *a = sgc_alloc(sizeof *a), *b = sgc_alloc(sizeof *b);
    CHECK(a && b);
    a->next = b;
    a->index = b->index = i;
    b->isb = 1;
    /* B first: registration order must not matter. */
    CHECK(sgc_set_finalizer_ex(b, fin_ordered, &ord_round_a,
                               SGC_FIN_ORDERED, NULL, NULL) == 0);
    CHECK(sgc_set_finalizer_ex(a, fin_ordered, &ord_round_a,
                               SGC_FIN_ORDERED, NULL, NULL) == 0);
  }
}

/* ---------------------------------------------- self references */

typedef struct self_obj {
  struct self_obj *self;  /* to the base */
  long *inner;            /* into itself */
  long index;
  long mode;
  long data[4];
} self_obj;

static int self_count[2][NSELF];

static void fin_self(void *obj, void *arg) {
  self_obj *o = obj;
  CHECK(o->self == o && o->inner == &o->data[2]);
  CHECK(o->index >= 0 && o->index < NSELF);
  self_count[o->mode == SGC_FIN_IGNORE_SELF][o->index]++;
}

__attribute__((noinline)) static void make_self(void) {
  for (long i = 0; i < NSELF; i++)
    for (int m = 0; m < 2; m++) {
      self_obj *o = sgc_alloc(sizeof *o);
      CHECK(o != NULL);
      o->self = o;
      o->inner = &o->data[2];
      o->index = i;
      o->mode = m ? SGC_FIN_IGNORE_SELF : SGC_FIN_ORDERED;
      CHECK(sgc_set_finalizer_ex(o, fin_self, NULL, (int)o->mode, NULL,
                                 NULL) == 0);
    }
}

/* ---------------------------------------------- NO_ORDER */

#define CWORDS 8
typedef struct cobj {
  uint64_t pat[CWORDS];
  uint64_t *d; /* noscan, 4 words */
} cobj;

typedef struct nobj {
  struct nobj *b; /* A -> B; B -> NULL */
  cobj *c;
  long index;
  long isb;
  uint64_t tag;
} nobj;

static int no_round[2][NTRI], no_count[2][NTRI];
static long no_corrupt;

static uint64_t cpat(long i, int w) {
  return 0x0dd0000000000000ull ^ ((uint64_t)i << 20) ^ (uint64_t)w;
}

static int c_intact(const cobj *c, long i) {
  if (sgc_base(c) != c || sgc_base(c->d) != c->d)
    return 0;
  for (int w = 0; w < CWORDS; w++)
    if (c->pat[w] != cpat(i, w))
      return 0;
  for (int w = 0; w < 4; w++)
    if (c->d[w] != ~cpat(i, w))
      return 0;
  return 1;
}

static void fin_no_order(void *obj, void *arg) {
  nobj *o = obj;
  CHECK(o->index >= 0 && o->index < NTRI);
  long i = o->index;
  no_count[o->isb][i]++;
  no_round[o->isb][i] = round_no;
  if (o->tag != 0xfeed0000u + (uint64_t)i || !c_intact(o->c, i))
    no_corrupt++;
  if (!o->isb && (o->b == NULL || o->b->tag != 0xfeed0000u + (uint64_t)i ||
                  o->b->c != o->c))
    no_corrupt++;
}

__attribute__((noinline)) static void make_no_order(void) {
  for (long i = 0; i < NTRI; i++) {
    cobj *c = sgc_alloc(sizeof *c);
    CHECK(c != NULL);
    c->d = sgc_alloc_noscan(4 * sizeof(uint64_t));
    CHECK(c->d != NULL);
    for (int w = 0; w < CWORDS; w++)
      c->pat[w] = cpat(i, w);
    for (int w = 0; w < 4; w++)
      c->d[w] = ~cpat(i, w);
    nobj *a = sgc_alloc(sizeof *a), *b = sgc_alloc(sizeof *b);
    CHECK(a && b);
    a->b = b;
    a->c = b->c = c;
    a->index = b->index = i;
    b->isb = 1;
    a->tag = b->tag = 0xfeed0000u + (uint64_t)i;
    CHECK(sgc_set_finalizer_ex(a, fin_no_order, NULL, SGC_FIN_NO_ORDER, NULL,
                               NULL) == 0);
    CHECK(sgc_set_finalizer_ex(b, fin_no_order, NULL, SGC_FIN_NO_ORDER, NULL,
                               NULL) == 0);
  }
}

/* ---------------------------------------------- replace / remove */

static int ran_f1, ran_f2, ran_f3;
static int arg1, arg2, arg3;
static void f1(void *obj, void *arg) { ran_f1++; }
static void f2(void *obj, void *arg) { ran_f2++; }
static void f3(void *obj, void *arg) {
  CHECK(arg == &arg3);
  ran_f3++;
}

typedef void (*finfn)(void *, void *);
#define JUNK_FN ((finfn)(uintptr_t)0x1234)
#define JUNK_ARG ((void *)(uintptr_t)0x5678)

__attribute__((noinline)) static void replace_cases(void) {
  finfn of;
  void *oa;
  for (int i = 0; i < 50; i++) {
    void *p = sgc_alloc(32);
    CHECK(p != NULL);
    of = JUNK_FN, oa = JUNK_ARG;
    CHECK(sgc_set_finalizer_ex(p, f1, &arg1, SGC_FIN_ORDERED, &of, &oa) == 0);
    CHECKF(of == NULL && oa == NULL, "no previous finalizer, but *oldfn %p "
           "*oldarg %p", (void *)(uintptr_t)of, oa);
    of = JUNK_FN, oa = JUNK_ARG;
    CHECK(sgc_set_finalizer_ex(p, f2, &arg2, SGC_FIN_NO_ORDER, &of, &oa) ==
          0);
    CHECKF(of == f1 && oa == &arg1, "replacing: *oldfn %p *oldarg %p",
           (void *)(uintptr_t)of, oa);
    /* A bad mode: EINVAL, and f2 stays. */
    of = JUNK_FN, oa = JUNK_ARG;
    CHECK(sgc_set_finalizer_ex(p, f1, &arg1, 4, &of, &oa) == EINVAL);
    CHECK(of == NULL && oa == NULL);
    CHECK(sgc_set_finalizer_ex(p, f1, &arg1, -1, NULL, NULL) == EINVAL);
    CHECK(sgc_set_finalizer_ex(p, f1, &arg1, 1000, NULL, NULL) == EINVAL);
    /* Removal reports what it removed. */
    of = JUNK_FN, oa = JUNK_ARG;
    CHECK(sgc_set_finalizer_ex(p, NULL, NULL, SGC_FIN_ORDERED, &of, &oa) ==
          0);
    CHECKF(of == f2 && oa == &arg2, "removing: *oldfn %p *oldarg %p",
           (void *)(uintptr_t)of, oa);
    of = JUNK_FN, oa = JUNK_ARG;
    CHECK(sgc_set_finalizer_ex(p, NULL, NULL, SGC_FIN_ORDERED, &of, &oa) ==
          0);
    CHECK(of == NULL && oa == NULL);
    /* Either report pointer may be NULL; sgc_set_finalizer replaces an
     * _ex one, and the last one set is the one that runs. */
    CHECK(sgc_set_finalizer_ex(p, f1, &arg1, SGC_FIN_IGNORE_SELF, NULL,
                               &oa) == 0);
    CHECK(oa == NULL);
    CHECK(sgc_set_finalizer(p, f2, &arg2) == 0);
    of = JUNK_FN;
    CHECK(sgc_set_finalizer_ex(p, f3, &arg3, SGC_FIN_UNREACHABLE, &of,
                               NULL) == 0);
    CHECK(of == f2);
    if (i % 2) { /* half of them lose their finalizer again */
      CHECK(sgc_set_finalizer_ex(p, NULL, NULL, SGC_FIN_NO_ORDER, &of, &oa) ==
            0);
      CHECK(of == f3 && oa == &arg3);
    }
  }
  of = JUNK_FN, oa = JUNK_ARG;
  CHECK(sgc_set_finalizer_ex(NULL, f1, NULL, SGC_FIN_ORDERED, &of, &oa) ==
        EINVAL);
  CHECK(of == NULL && oa == NULL);
}

/* ---------------------------------------------- driver */

__attribute__((noinline)) static void churn(long n) {
  for (long i = 0; i < n; i++) {
    void *p = sgc_alloc(sizeof(cobj));
    void *q = sgc_alloc_noscan(4 * sizeof(uint64_t));
    void *r = sgc_alloc(sizeof(nobj));
    CHECK(p && q && r);
    memset(p, 0x77, sizeof(cobj));
    memset(q, 0x88, 4 * sizeof(uint64_t));
    memset(r, 0x99, sizeof(nobj));
  }
}

/* One round: collect, let the memory it freed be reused, then run what
 * it queued. */
__attribute__((noinline)) static void one_round(int r) {
  clear_stack();
  sgc_collect();
  churn(scaled(20000));
  round_no = r;
  sgc_run_finalizers();
}

int main(void) {
  sgc_init();
  sgc_set_finalizer_thread(0);

  replace_cases();
  make_ordered();
  make_self();
  make_no_order();
  for (int r = 1; r <= 10; r++)
    one_round(r);

  /* ORDERED chains. */
  int both = 0, same = 0, twice = 0;
  for (int i = 0; i < NPAIRS; i++) {
    both += ord_count[0][i] && ord_count[1][i];
    same += ord_count[0][i] && ord_count[1][i] &&
            ord_round_a[i] == ord_round_b[i];
    twice += ord_count[0][i] > 1 || ord_count[1][i] > 1;
  }
  printf("ORDERED: %d of %d chains fully finalized, %ld order errors\n",
         both, NPAIRS, ord_errors);
  CHECKF(ord_errors == 0, "%ld B objects finalized before or with their A",
         ord_errors);
  CHECK(same == 0 && twice == 0);
  CHECKF(both >= NPAIRS * 9 / 10, "only %d of %d ORDERED chains finalized",
         both, NPAIRS);

  /* Self references. */
  int ordered_self = 0, ignore_self = 0;
  for (int i = 0; i < NSELF; i++) {
    ordered_self += self_count[0][i];
    ignore_self += self_count[1][i];
    CHECK(self_count[1][i] <= 1);
  }
  printf("self-referencing: %d of %d ORDERED finalized, %d of %d "
         "IGNORE_SELF\n", ordered_self, NSELF, ignore_self, NSELF);
  CHECKF(ordered_self == 0, "%d ORDERED objects pointing to themselves "
         "were finalized", ordered_self);
  CHECKF(ignore_self >= NSELF * 9 / 10, "only %d of %d IGNORE_SELF objects "
         "pointing to themselves were finalized", ignore_self, NSELF);

  /* NO_ORDER. */
  int no_both = 0, no_same = 0;
  for (int i = 0; i < NTRI; i++) {
    CHECK(no_count[0][i] <= 1 && no_count[1][i] <= 1);
    no_both += no_count[0][i] && no_count[1][i];
    no_same += no_count[0][i] && no_count[1][i] &&
               no_round[0][i] == no_round[1][i];
  }
  printf("NO_ORDER: %d of %d pairs finalized, %d of them in the same "
         "collection; %ld saw a referent corrupted\n", no_both, NTRI, no_same,
         no_corrupt);
  CHECKF(no_corrupt == 0, "%ld NO_ORDER finalizers found what their object "
         "points to freed or corrupted", no_corrupt);
  CHECKF(no_same >= NTRI * 9 / 10, "only %d of %d NO_ORDER pairs A -> B "
         "were finalized in the same collection", no_same, NTRI);

  /* Replaced and removed finalizers. */
  printf("replace cases: f1 %d, f2 %d, f3 %d runs\n", ran_f1, ran_f2, ran_f3);
  CHECKF(ran_f1 == 0 && ran_f2 == 0, "replaced or removed finalizers ran "
         "(f1 %d, f2 %d)", ran_f1, ran_f2);
  CHECKF(ran_f3 <= 25 && ran_f3 >= 25 * 9 / 10, "f3 ran %d times, want "
         "about 25", ran_f3);
  return 0;
}
