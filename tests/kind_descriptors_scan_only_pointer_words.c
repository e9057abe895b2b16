// labels: gc
/* Kinds with descriptors and typed objects scan exactly the words their
 * descriptor declares as pointers:
 *  - kinds made by sgc_new_kind with an SGC_DS_BITMAP descriptor, an
 *    SGC_DS_LENGTH one (a byte count), SGC_DS_LENGTH with
 *    SGC_KIND_ADD_SIZE (0: the whole object; -16: all but the last two
 *    words, small and large objects), and SGC_DS_LENGTH 0 without
 *    ADD_SIZE (nothing);
 *  - typed objects (sgc_make_descriptor + sgc_alloc_typed): a short
 *    bitmap, a bitmap whose pointer words form a prefix, an empty one, a
 *    bitmap longer than 62 words; typed arrays (sgc_calloc_typed) of short
 *    and long-bitmap elements, small and large.
 * Every object referenced only from a declared pointer word survives many
 * collections with its contents intact, and its weak slot is never
 * cleared (exact).  Objects referenced only from the other words die
 * (>= 90% of their weak slots, kept in malloc'ed memory, cleared: a stale
 * stack word may keep a few).
 * Also: sgc_kind_of reports each object's kind; sgc_new_kind fails with
 * EINVAL for a bad flag, a PROC descriptor naming an unregistered mark
 * procedure, or SGC_KIND_ADD_SIZE with a bitmap, procedure or extended
 * bitmap descriptor, and (in a child process, so the kinds of this one stay
 * available) with EAGAIN once every kind is taken, the kinds made before
 * still working. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define W sizeof(uintptr_t)
#define TARGET_SIZE 32
#define MAGIC 0x5ca1ab1e00000000ull

/* Objects that must live: where the pointer is, what it points to. */
typedef struct {
  void **field;
  uint64_t *target;
  uint64_t id;
} live_ref;

static live_ref *live;      /* malloc'ed: keeps nothing alive */
static void **live_slots;   /* weak slots of the live targets */
static size_t nlive, caplive;

/* Objects that must (mostly) die: weak slots, per category. */
enum {
  C_BITMAP, C_LEN24, C_ADDSIZE_M16, C_LEN0, C_TYPED_SHORT, C_TYPED_PREFIX,
  C_TYPED_EMPTY, C_TYPED_LONG, C_ARRAY, C_ARRAY_LONG, C_ARRAY_LARGE, NCAT
};
static const char *cat_name[NCAT] = {
    "bitmap kind", "length-24 kind", "add-size -16 kind", "length-0 kind",
    "typed short bitmap", "typed prefix bitmap", "typed empty bitmap",
    "typed long bitmap", "typed array", "typed array of long elements",
    "large typed array"};
static void **dead_slots[NCAT];
static size_t ndead[NCAT], capdead[NCAT];
static uint64_t next_id = 1;

/* Holders: roots in the data segment, scanned conservatively. */
#define NH 60
void *volatile g_holders[NCAT + 3][NH];

static uint64_t *new_target(uint64_t id) {
  uint64_t *t = sgc_alloc_noscan(TARGET_SIZE);
  CHECK(t != NULL);
  t[0] = MAGIC ^ id;
  t[1] = id;
  t[2] = ~id;
  t[3] = id * 0x9e3779b97f4a7c15ull;
  return t;
}

static void target_check(const uint64_t *t, uint64_t id, const char *what) {
  CHECKF(t[0] == (MAGIC ^ id) && t[1] == id && t[2] == ~id &&
             t[3] == id * 0x9e3779b97f4a7c15ull,
         "%s: target %llu at %p corrupted (%llx %llx %llx %llx): freed "
         "while referenced from a pointer word?", what,
         (unsigned long long)id, (void *)t, (unsigned long long)t[0],
         (unsigned long long)t[1], (unsigned long long)t[2],
         (unsigned long long)t[3]);
}

/* Word i of object o holds a pointer that must keep its target. */
static void put_live(void *o, size_t i) {
  void **field = (void **)o + i;
  uint64_t id = next_id++;
  uint64_t *t = new_target(id);
  *field = t;
  if (nlive == caplive) {
    caplive = caplive ? caplive * 2 : 1024;
    live = realloc(live, caplive * sizeof *live);
    live_slots = realloc(live_slots, caplive * sizeof *live_slots);
    CHECK(live && live_slots);
  }
  live[nlive] = (live_ref){field, t, id};
  live_slots[nlive] = t;
  nlive++;
}

/* Word i of object o holds a pointer that must not keep its target. */
static void put_dead(int cat, void *o, size_t i) {
  uint64_t *t = new_target(next_id++);
  ((void **)o)[i] = t;
  if (ndead[cat] == capdead[cat]) {
    capdead[cat] = capdead[cat] ? capdead[cat] * 2 : 1024;
    dead_slots[cat] = realloc(dead_slots[cat], capdead[cat] * sizeof(void *));
    CHECK(dead_slots[cat] != NULL);
  }
  dead_slots[cat][ndead[cat]++] = t;
}

/* Register the weak slots once every array has its final address. */
static void register_slots(void) {
  for (size_t i = 0; i < nlive; i++)
    CHECK(sgc_register_weak(&live_slots[i], live_slots[i]) == 0);
  for (int c = 0; c < NCAT; c++)
    for (size_t i = 0; i < ndead[c]; i++)
      CHECK(sgc_register_weak(&dead_slots[c][i], dead_slots[c][i]) == 0);
}

static uintptr_t bm_word(const size_t *words, size_t n) {
  uintptr_t d = SGC_DS_BITMAP;
  for (size_t i = 0; i < n; i++)
    d |= (uintptr_t)1 << (63 - words[i]);
  return d;
}

static int k_bitmap, k_len24, k_addsize_m16, k_addsize_0, k_len0;
static uintptr_t d_short, d_prefix, d_empty, d_long, d_elem, d_elem_long;

static void *alloc_kind(size_t n, int kind) {
  void *p = sgc_alloc_kind(n, kind);
  CHECK(p != NULL);
  CHECKF(sgc_kind_of(p) == kind, "sgc_kind_of = %d, want %d", sgc_kind_of(p),
         kind);
  return p;
}

/* Long bitmap: 100 words, pointers at i % 7 == 3 and at 99. */
static int long_is_ptr(size_t i) { return i % 7 == 3 || i == 99; }
/* Long array element: 70 words, pointers at 0, 65, 69. */
static int elem_long_is_ptr(size_t i) { return i == 0 || i == 65 || i == 69; }

__attribute__((noinline)) static void build(void) {
  for (int h = 0; h < NH; h++) {
    /* Bitmap kind: words 0, 2, 5 of 8. */
    void **o = alloc_kind(64, k_bitmap);
    g_holders[C_BITMAP][h] = o;
    for (size_t i = 0; i < 8; i++)
      if (i == 0 || i == 2 || i == 5)
        put_live(o, i);
      else
        put_dead(C_BITMAP, o, i);

    /* Length kind: the first 24 bytes of 80. */
    o = alloc_kind(80, k_len24);
    g_holders[C_LEN24][h] = o;
    for (size_t i = 0; i < 10; i++)
      if (i < 3)
        put_live(o, i);
      else
        put_dead(C_LEN24, o, i);

    /* Add-size kind, descriptor -16: all of the object (its whole size
     * class, or whole pages) but the last two words.  Every 10th one is
     * large, scanned in pieces. */
    size_t req = h % 10 == 0 ? 40000 + 8 * (size_t)h : 100 + 16 * (size_t)h;
    o = alloc_kind(req, k_addsize_m16);
    g_holders[C_ADDSIZE_M16][h] = o;
    size_t words = sgc_size(o) / W;
    put_live(o, 0);
    put_live(o, words / 2);
    put_live(o, words - 3);
    put_dead(C_ADDSIZE_M16, o, words - 2);
    put_dead(C_ADDSIZE_M16, o, words - 1);

    /* Add-size kind, descriptor 0: the whole object, even past what was
     * asked for; large ones past the first 64 KiB too. */
    req = h % 10 == 0 ? 200000 : 100;
    o = alloc_kind(req, k_addsize_0);
    g_holders[NCAT][h] = o;
    words = sgc_size(o) / W;
    put_live(o, 0);
    put_live(o, words / 2);
    if (words > 70000 / W)
      put_live(o, 70000 / W);
    put_live(o, words - 1);

    /* Length 0 without add-size: nothing is scanned. */
    o = alloc_kind(48, k_len0);
    g_holders[C_LEN0][h] = o;
    for (size_t i = 0; i < 6; i++)
      put_dead(C_LEN0, o, i);

    /* Typed, short bitmap: words 1, 4, 9 of 10. */
    o = sgc_alloc_typed(80, d_short);
    CHECK(o != NULL);
    g_holders[C_TYPED_SHORT][h] = o;
    for (size_t i = 0; i < 10; i++)
      if (i == 1 || i == 4 || i == 9)
        put_live(o, i);
      else
        put_dead(C_TYPED_SHORT, o, i);

    /* Typed, prefix bitmap: words 0-2 of 6. */
    o = sgc_alloc_typed(48, d_prefix);
    CHECK(o != NULL);
    g_holders[C_TYPED_PREFIX][h] = o;
    for (size_t i = 0; i < 6; i++)
      if (i < 3)
        put_live(o, i);
      else
        put_dead(C_TYPED_PREFIX, o, i);

    /* Typed, no pointer at all. */
    o = sgc_alloc_typed(40, d_empty);
    CHECK(o != NULL);
    g_holders[C_TYPED_EMPTY][h] = o;
    for (size_t i = 0; i < 5; i++)
      put_dead(C_TYPED_EMPTY, o, i);

    /* Typed, long bitmap (100 words); dead words at i % 7 == 5 (and 98). */
    if (h < NH / 2) {
      errno = 0;
      o = sgc_alloc_typed(100 * W, d_long);
      CHECKF(o != NULL, "sgc_alloc_typed with a 100-word bitmap descriptor "
             "(%#lx) failed, errno %d", (unsigned long)d_long, errno);
      g_holders[C_TYPED_LONG][h] = o;
      for (size_t i = 0; i < 100; i++)
        if (long_is_ptr(i))
          put_live(o, i);
        else if (i % 7 == 5 || i == 98)
          put_dead(C_TYPED_LONG, o, i);
    }

    /* Typed array: 25 elements of 4 words, pointers at 0 and 2. */
    o = sgc_calloc_typed(25, 4 * W, d_elem);
    CHECK(o != NULL);
    g_holders[C_ARRAY][h] = o;
    for (size_t e = 0; e < 25; e++) {
      put_live(o, e * 4);
      put_live(o, e * 4 + 2);
      put_dead(C_ARRAY, o, e * 4 + 1);
      put_dead(C_ARRAY, o, e * 4 + 3);
    }

    /* Typed array of long-bitmap elements: 4 elements of 70 words. */
    errno = 0;
    o = sgc_calloc_typed(4, 70 * W, d_elem_long);
    CHECKF(o != NULL, "sgc_calloc_typed of elements with a 70-word bitmap "
           "descriptor (%#lx) failed, errno %d", (unsigned long)d_elem_long,
           errno);
    g_holders[C_ARRAY_LONG][h] = o;
    for (size_t e = 0; e < 4; e++)
      for (size_t i = 0; i < 70; i++)
        if (elem_long_is_ptr(i))
          put_live(o, e * 70 + i);
        else if (i == 1 || i == 64 || i == 66 || i == 68)
          put_dead(C_ARRAY_LONG, o, e * 70 + i);

    /* A large typed array (1500 elements of 4 words: 48000 bytes). */
    if (h < 6) {
      o = sgc_calloc_typed(1500, 4 * W, d_elem);
      CHECK(o != NULL);
      CHECK(sgc_size(o) > SGC_MAX_SMALL_SIZE);
      g_holders[C_ARRAY_LARGE][h] = o;
      for (size_t e = 0; e < 1500; e++) {
        put_live(o, e * 4 + 2);
        if (e % 10 == 0) {
          put_dead(C_ARRAY_LARGE, o, e * 4 + 1);
          put_dead(C_ARRAY_LARGE, o, e * 4 + 3);
        }
      }
    }
  }
}

/* Allocation that reuses whatever the collector freed, so a target freed
 * by mistake gets overwritten. */
__attribute__((noinline)) static void churn(long n) {
  for (long i = 0; i < n; i++) {
    uint64_t *p = sgc_alloc_noscan(TARGET_SIZE);
    CHECK(p != NULL);
    memset(p, 0xA5, TARGET_SIZE);
  }
}

static void check_live(const char *when) {
  for (size_t i = 0; i < nlive; i++) {
    const live_ref *r = &live[i];
    CHECKF(*r->field == r->target, "%s: pointer word %p changed", when,
           (void *)r->field);
    CHECKF(live_slots[i] == r->target, "%s: weak slot of target %llu (a "
           "pointer word references it) was cleared", when,
           (unsigned long long)r->id);
    target_check(r->target, r->id, when);
  }
}

static void check_kinds(void) {
  int typed = -1;
  for (int h = 0; h < NH; h++) {
    CHECK(sgc_kind_of(g_holders[C_BITMAP][h]) == k_bitmap);
    CHECK(sgc_kind_of(g_holders[C_LEN24][h]) == k_len24);
    CHECK(sgc_kind_of(g_holders[C_ADDSIZE_M16][h]) == k_addsize_m16);
    CHECK(sgc_kind_of(g_holders[NCAT][h]) == k_addsize_0);
    CHECK(sgc_kind_of(g_holders[C_LEN0][h]) == k_len0);
    int cats[] = {C_TYPED_SHORT, C_TYPED_PREFIX, C_TYPED_EMPTY, C_TYPED_LONG,
                  C_ARRAY, C_ARRAY_LONG, C_ARRAY_LARGE};
    for (size_t c = 0; c < sizeof cats / sizeof cats[0]; c++) {
      void *o = g_holders[cats[c]][h];
      if (o == NULL)
        continue;
      int k = sgc_kind_of(o);
      if (typed < 0)
        typed = k;
      CHECKF(k == typed, "typed objects have kinds %d and %d", typed, k);
    }
  }
  CHECKF(typed >= 2 && typed < SGC_MAX_KINDS && typed != k_bitmap &&
             typed != k_len24 && typed != k_addsize_m16 &&
             typed != k_addsize_0 && typed != k_len0,
         "typed objects have kind %d", typed);
  void *p = sgc_alloc(64), *q = sgc_alloc_noscan(64);
  void *u = sgc_alloc_uncollectable(64);
  CHECK(p && q && u);
  CHECK(sgc_kind_of(p) == SGC_KIND_SCAN);
  CHECK(sgc_kind_of(q) == SGC_KIND_NOSCAN);
  CHECK(sgc_kind_of(u) == SGC_KIND_SCAN);
  sgc_free(u);
}

static sgc_mark_entry *unused_proc(uintptr_t *addr, sgc_mark_entry *top,
                                   sgc_mark_entry *limit, uintptr_t env) {
  return top;
}

/* Child: take every kind left, then check EAGAIN and that they work. */
static int exhaust_kinds(void) {
  sgc_init();
  int made[SGC_MAX_KINDS], n = 0;
  for (;;) {
    errno = 0;
    int k = sgc_new_kind(n % 2 ? SGC_DS_LENGTH : 16 | SGC_DS_LENGTH, 0);
    if (k < 0) {
      CHECKF(errno == EAGAIN, "sgc_new_kind failed with errno %d, not "
             "EAGAIN, after %d kinds", errno, n);
      break;
    }
    CHECKF(k >= 2 && k < SGC_MAX_KINDS, "sgc_new_kind returned %d", k);
    for (int j = 0; j < n; j++)
      CHECKF(made[j] != k, "kind %d returned twice", k);
    CHECKF(n < SGC_MAX_KINDS - 2, "more than %d kinds made",
           SGC_MAX_KINDS - 2);
    made[n++] = k;
  }
  CHECKF(n >= SGC_MAX_KINDS - 3, "only %d kinds could be made", n);
  errno = 0;
  CHECK(sgc_new_kind(0, SGC_KIND_ADD_SIZE) == -1 && errno == EAGAIN);
  /* A kind from a mark procedure: also refused now. */
  int proc = sgc_new_mark_proc(unused_proc);
  CHECK(proc >= 8 && proc < 64);
  errno = 0;
  CHECK(sgc_new_kind(SGC_MAKE_PROC(proc, 0), 0) == -1 && errno == EAGAIN);
  /* The kinds made still work: the ones scanning 16 bytes keep what their
   * first two words point to. */
  void **objs[SGC_MAX_KINDS];
  for (int j = 0; j < n; j++) {
    objs[j] = sgc_alloc_kind(64, made[j]);
    CHECK(objs[j] != NULL && sgc_kind_of(objs[j]) == made[j]);
    objs[j][1] = new_target(1000 + (uint64_t)j);
  }
  for (int r = 0; r < 3; r++) {
    sgc_collect();
    churn(20000);
  }
  for (int j = 0; j < n; j++)
    if (j % 2 == 0)
      target_check(objs[j][1], 1000 + (uint64_t)j, "exhausted kinds");
  fprintf(stderr, "made %d kinds\n", n);
  return 0;
}

/* A registered procedure for the error checks (never called). */
static sgc_mark_entry *no_proc(uintptr_t *addr, sgc_mark_entry *top,
                               sgc_mark_entry *limit, uintptr_t env) {
  (void)addr, (void)limit, (void)env;
  return top;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exhaust") == 0)
    return exhaust_kinds();
  sgc_init();

  /* Errors first, while every kind is free. */
  errno = 0;
  CHECK(sgc_new_kind(SGC_MAKE_PROC(63, 0), 0) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(sgc_new_kind(SGC_MAKE_PROC(9, 77), SGC_KIND_ADD_SIZE) == -1 &&
        errno == EINVAL);
  errno = 0;
  CHECK(sgc_new_kind(SGC_DS_LENGTH, 2) == -1 && errno == EINVAL);
  /* The size added to a bitmap, a procedure or an extended bitmap would
   * make another descriptor. */
  int pidx = sgc_new_mark_proc(no_proc);
  CHECK(pidx >= 0);
  uintptr_t ext_bits[2] = {1, 1};
  uintptr_t ext = sgc_make_descriptor(ext_bits, 100);
  CHECK((ext & 3) == SGC_DS_PROC);
  uintptr_t bad[] = {SGC_MAKE_PROC(pidx, 0), ext,
                     ((uintptr_t)1 << 63) | SGC_DS_BITMAP};
  for (int i = 0; i < 3; i++) {
    errno = 0;
    CHECKF(sgc_new_kind(bad[i], SGC_KIND_ADD_SIZE) == -1 && errno == EINVAL,
           "descriptor %#lx with SGC_KIND_ADD_SIZE accepted",
           (unsigned long)bad[i]);
  }

  size_t bw[] = {0, 2, 5};
  k_bitmap = sgc_new_kind(bm_word(bw, 3), 0);
  k_len24 = sgc_new_kind(24 | SGC_DS_LENGTH, 0);
  k_addsize_m16 = sgc_new_kind((uintptr_t)-16 | SGC_DS_LENGTH,
                               SGC_KIND_ADD_SIZE);
  k_addsize_0 = sgc_new_kind(SGC_DS_LENGTH, SGC_KIND_ADD_SIZE);
  k_len0 = sgc_new_kind(SGC_DS_LENGTH, 0);
  int ks[] = {k_bitmap, k_len24, k_addsize_m16, k_addsize_0, k_len0};
  for (int i = 0; i < 5; i++) {
    CHECKF(ks[i] >= 2 && ks[i] < SGC_MAX_KINDS, "kind %d", ks[i]);
    for (int j = 0; j < i; j++)
      CHECK(ks[i] != ks[j]);
  }

  uintptr_t b = (1u << 1) | (1u << 4) | (1u << 9);
  d_short = sgc_make_descriptor(&b, 10);
  b = 7;
  d_prefix = sgc_make_descriptor(&b, 6);
  b = 0;
  d_empty = sgc_make_descriptor(&b, 5);
  uintptr_t lb[2] = {0, 0};
  for (size_t i = 0; i < 100; i++)
    if (long_is_ptr(i))
      lb[i / 64] |= (uintptr_t)1 << (i % 64);
  d_long = sgc_make_descriptor(lb, 100);
  b = 5;
  d_elem = sgc_make_descriptor(&b, 4);
  uintptr_t eb[2] = {0, 0};
  for (size_t i = 0; i < 70; i++)
    if (elem_long_is_ptr(i))
      eb[i / 64] |= (uintptr_t)1 << (i % 64);
  d_elem_long = sgc_make_descriptor(eb, 70);

  /* No collection before the slots are registered: it would free the
   * objects only non-pointer words hold (as it should), and registering
   * their slots would then abort.  The first collection may come early
   * (SPANGC_CONCURRENT=1 starts it at half the first goal). */
  sgc_disable();
  build();
  register_slots();
  sgc_enable();
  clear_stack();
  check_kinds();

  const long rounds = 8, churn_n = scaled(60000);
  for (long r = 0; r < rounds; r++) {
    if (r % 2)
      settle();
    else
      sgc_collect();
    churn(churn_n);
    check_live("after a collection");
  }
  clear_stack();
  settle();
  check_live("at the end");

  for (int c = 0; c < NCAT; c++) {
    size_t cleared = 0;
    for (size_t i = 0; i < ndead[c]; i++)
      cleared += dead_slots[c][i] == NULL;
    printf("%-30s %5zu of %5zu unreferenced targets collected\n",
           cat_name[c], cleared, ndead[c]);
    CHECK(ndead[c] > 0);
    CHECKF(cleared >= ndead[c] * 9 / 10, "%s: only %zu of %zu targets "
           "referenced from non-pointer words were collected", cat_name[c],
           cleared, ndead[c]);
  }
  printf("%zu targets referenced from pointer words intact after %ld "
         "collections\n", nlive, rounds + 7);

  /* EAGAIN, in a process of its own. */
  char out[4096];
  int status = run_self(argv[0], "exhaust", out, sizeof out);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "exhaust child: status %#x, output:\n%s", status, out);
  CHECKF(strstr(out, "made ") != NULL, "exhaust child said:\n%s", out);
  printf("child: %s", out);
  return 0;
}
