// labels: gc
/* Finalizer semantics.
 *  - A -> B, both finalizable: A's finalizer runs in an earlier collection
 *    than B's (never B's first, never both in the same one).
 *  - A finalizer that stores its object in a global resurrects it: the
 *    object is intact and usable afterwards, and is never finalized twice.
 *  - sgc_set_finalizer(p, NULL, ..) removes the finalizer; a second call
 *    replaces it; sgc_free cancels it.
 *  - The finalizer's argument stays alive while the finalizer is
 *    registered, and is intact when the finalizer runs.
 * Finalizers run only on this thread (finalizer thread disabled), so
 * "which collection" is exact. */
#include "check.h"
#include "spangc-int.h"

#define NPAIRS 300
#define NRES 200
#define NREMOVE 300
#define NREPLACE 300
#define NFREE 300
#define NARG 100

static int phase; /* collection round the finalizers run in */

static void clear_stack_deep(void);

/* ------------------------------------------------ A -> B ordering */

typedef struct pair_obj {
  struct pair_obj *next; /* A -> B; B -> NULL */
  long index;
  long isb;
} pair_obj;

static int fin_phase_a[NPAIRS], fin_phase_b[NPAIRS];
static int fin_count_a[NPAIRS], fin_count_b[NPAIRS];
static int order_errors;

static void fin_pair(void *obj, void *arg) {
  (void)arg;
  pair_obj *o = obj;
  CHECK(o->index >= 0 && o->index < NPAIRS);
  if (o->isb) {
    fin_count_b[o->index]++;
    fin_phase_b[o->index] = phase;
    if (fin_count_a[o->index] == 0 || fin_phase_a[o->index] >= phase)
      order_errors++;
  } else {
    CHECK(o->next != NULL && o->next->isb && o->next->index == o->index);
    fin_count_a[o->index]++;
    fin_phase_a[o->index] = phase;
  }
}

__attribute__((noinline)) static void make_pairs(void) {
  for (long i = 0; i < NPAIRS; i++) {
    pair_obj *a = sgc_alloc(sizeof *a), *b = sgc_alloc(sizeof *b);
    CHECK(a && b);
    a->next = b;
    a->index = b->index = i;
    b->isb = 1;
    CHECK(sgc_set_finalizer(a, fin_pair, NULL) == 0);
    CHECK(sgc_set_finalizer(b, fin_pair, NULL) == 0);
  }
}

/* ------------------------------------------------ resurrection */

#define RES_WORDS 16
uint64_t *volatile g_res[NRES]; /* filled by the finalizer */
static int res_count[NRES];

static uint64_t res_word(long i, int w) {
  return 0xBEEF000000000000ull ^ ((uint64_t)i << 16) ^ (uint64_t)w;
}

static void fin_resurrect(void *obj, void *arg) {
  long i = (long)(intptr_t)arg;
  CHECK(i >= 0 && i < NRES);
  res_count[i]++;
  uint64_t *p = obj;
  for (int w = 0; w < RES_WORDS; w++)
    CHECKF(p[w] == res_word(i, w), "object %ld corrupted in its finalizer", i);
  g_res[i] = p;
}

__attribute__((noinline)) static void make_resurrectable(void) {
  for (long i = 0; i < NRES; i++) {
    uint64_t *p = sgc_alloc(RES_WORDS * sizeof(uint64_t));
    CHECK(p != NULL);
    for (int w = 0; w < RES_WORDS; w++)
      p[w] = res_word(i, w);
    CHECK(sgc_set_finalizer(p, fin_resurrect, (void *)(intptr_t)i) == 0);
  }
}

/* ------------------------------------------------ remove, replace, free */

static long n_removed_ran, n_first_ran, n_second_ran, n_freed_ran;
static void fin_removed(void *o, void *a) { (void)o; (void)a; n_removed_ran++; }
static void fin_first(void *o, void *a) { (void)o; (void)a; n_first_ran++; }
static void fin_second(void *o, void *a) { (void)o; (void)a; n_second_ran++; }
static void fin_freed(void *o, void *a) { (void)o; (void)a; n_freed_ran++; }

/* Weak slots (malloc'ed: not scanned) tell whether removed-finalizer
 * objects were collected. */
static void **weak_removed;

__attribute__((noinline)) static void make_remove_replace_free(void) {
  for (long i = 0; i < NREMOVE; i++) {
    void *p = sgc_alloc(32);
    CHECK(p != NULL);
    CHECK(sgc_set_finalizer(p, fin_removed, NULL) == 0);
    CHECK(sgc_set_finalizer(p, NULL, NULL) == 0);
    weak_removed[i] = p;
    CHECK(sgc_register_weak(&weak_removed[i], p) == 0);
  }
  for (long i = 0; i < NREPLACE; i++) {
    void *p = sgc_alloc(32);
    CHECK(p != NULL);
    CHECK(sgc_set_finalizer(p, fin_first, NULL) == 0);
    CHECK(sgc_set_finalizer(p, fin_second, NULL) == 0);
  }
  for (long i = 0; i < NFREE; i++) {
    void *p = sgc_alloc(32);
    CHECK(p != NULL);
    CHECK(sgc_set_finalizer(p, fin_freed, NULL) == 0);
    sgc_free(p);
  }
}

/* ------------------------------------------------ the argument lives */

#define ARG_WORDS 8
void *volatile g_argowner[NARG]; /* keeps the finalizable objects alive */
static void **weak_arg;        /* weak slots to the arguments */
static long arg_ran, arg_bad;

static uint64_t arg_word(long i, int w) {
  return 0xA000000000000000ull ^ ((uint64_t)i << 12) ^ (uint64_t)w;
}

static void fin_with_arg(void *obj, void *arg) {
  long i = ((long *)obj)[0];
  uint64_t *a = arg;
  for (int w = 0; w < ARG_WORDS; w++)
    if (a[w] != arg_word(i, w))
      arg_bad++;
  arg_ran++;
}

__attribute__((noinline)) static void make_arg_objects(void) {
  for (long i = 0; i < NARG; i++) {
    long *o = sgc_alloc(32);
    uint64_t *a = sgc_alloc(ARG_WORDS * sizeof(uint64_t));
    CHECK(o && a);
    o[0] = i;
    for (int w = 0; w < ARG_WORDS; w++)
      a[w] = arg_word(i, w);
    weak_arg[i] = a;
    CHECK(sgc_register_weak(&weak_arg[i], a) == 0);
    CHECK(sgc_set_finalizer(o, fin_with_arg, a) == 0);
    g_argowner[i] = o;
  }
}

__attribute__((noinline)) static void drop_arg_owners(void) {
  for (long i = 0; i < NARG; i++)
    g_argowner[i] = NULL;
}

/* ------------------------------------------------ driver */

__attribute__((noinline)) static void clear_stack_deep(void) {
  volatile char buf[32 << 10];
  memset((char *)buf, 0, sizeof buf);
}

/* One round: two collections (the second finishes the first's sweep, so
 * everything the first found dead is queued), then run the queue. */
static void round_(void) {
  phase++;
  clear_stack_deep();
  sgc_collect();
  sgc_collect();
  sgc_run_finalizers();
}

int main(void) {
  sgc_set_finalizer_thread(0);
  sgc_init();
  weak_removed = calloc(NREMOVE, sizeof(void *));
  weak_arg = calloc(NARG, sizeof(void *));
  CHECK(weak_removed && weak_arg);

  make_pairs();
  make_resurrectable();
  make_remove_replace_free();
  make_arg_objects();

  for (int r = 0; r < 8; r++) {
    round_();
    CHECKF(order_errors == 0, "round %d: %d B objects finalized before or "
           "with their referrer A", r, order_errors);
    /* Arguments of registered finalizers are alive. */
    for (long i = 0; i < NARG; i++)
      CHECKF(weak_arg[i] != NULL, "round %d: argument %ld of a registered "
             "finalizer was collected", r, i);
    CHECK(arg_ran == 0);
  }

  /* Ordering. */
  int na = 0, nb = 0;
  for (long i = 0; i < NPAIRS; i++) {
    CHECKF(fin_count_a[i] <= 1 && fin_count_b[i] <= 1,
           "pair %ld finalized twice", i);
    na += fin_count_a[i];
    nb += fin_count_b[i];
    if (fin_count_b[i])
      CHECKF(fin_phase_a[i] < fin_phase_b[i],
             "pair %ld: A finalized in round %d, B in round %d", i,
             fin_phase_a[i], fin_phase_b[i]);
  }
  printf("pairs: %d A and %d B finalized of %d\n", na, nb, NPAIRS);
  CHECKF(na >= NPAIRS * 9 / 10, "only %d of %d A objects finalized", na,
         NPAIRS);
  CHECKF(nb >= NPAIRS * 9 / 10, "only %d of %d B objects finalized", nb,
         NPAIRS);

  /* Resurrection. */
  int nres = 0;
  for (long i = 0; i < NRES; i++) {
    CHECKF(res_count[i] <= 1, "object %ld finalized %d times", i,
           res_count[i]);
    if (res_count[i] == 0)
      continue;
    nres++;
    uint64_t *p = g_res[i];
    CHECK(p != NULL);
    CHECKF(sgc_base(p) == p, "resurrected object %ld is not a live object",
           i);
    for (int w = 0; w < RES_WORDS; w++)
      CHECKF(p[w] == res_word(i, w), "resurrected object %ld corrupted", i);
  }
  CHECKF(nres >= NRES * 9 / 10, "only %d of %d resurrectable objects "
         "finalized", nres, NRES);
  /* Usable afterwards: written, referenced from new objects, survives. */
  for (long i = 0; i < NRES; i++)
    if (g_res[i]) {
      g_res[i][RES_WORDS - 1] = ~res_word(i, RES_WORDS - 1);
      void **holder = sgc_alloc(16);
      CHECK(holder != NULL);
      holder[0] = g_res[i];
      holder[1] = NULL;
      CHECK(holder[0] == g_res[i]);
    }
  for (int r = 0; r < 4; r++) {
    for (int k = 0; k < 5000; k++) { /* reuse freed memory */
      uint64_t *volatile g = sgc_alloc(RES_WORDS * sizeof(uint64_t));
      memset((void *)g, 0x77, RES_WORDS * sizeof(uint64_t));
    }
    round_();
  }
  for (long i = 0; i < NRES; i++) {
    CHECKF(res_count[i] <= 1, "resurrected object %ld finalized again", i);
    if (!g_res[i])
      continue;
    for (int w = 0; w < RES_WORDS - 1; w++)
      CHECKF(g_res[i][w] == res_word(i, w), "resurrected object %ld "
             "corrupted after more collections", i);
    CHECK(g_res[i][RES_WORDS - 1] == ~res_word(i, RES_WORDS - 1));
  }

  /* Removed, replaced, freed. */
  int removed_dead = 0;
  for (long i = 0; i < NREMOVE; i++)
    removed_dead += weak_removed[i] == NULL;
  printf("removed: %d of %d collected; replaced: first %ld second %ld\n",
         removed_dead, NREMOVE, n_first_ran, n_second_ran);
  CHECKF(n_removed_ran == 0, "%ld removed finalizers ran", n_removed_ran);
  CHECKF(removed_dead >= NREMOVE * 9 / 10, "only %d of %d objects whose "
         "finalizer was removed were collected", removed_dead, NREMOVE);
  CHECKF(n_first_ran == 0, "%ld replaced finalizers ran", n_first_ran);
  CHECKF(n_second_ran >= NREPLACE * 9 / 10, "only %ld of %d replacing "
         "finalizers ran", n_second_ran, NREPLACE);
  CHECKF(n_freed_ran == 0, "%ld finalizers of freed objects ran",
         n_freed_ran);

  /* Arguments: alive until the finalizer ran, intact when it runs. */
  drop_arg_owners();
  for (int r = 0; r < 3; r++)
    round_();
  printf("argument finalizers: %ld of %d ran\n", arg_ran, NARG);
  CHECKF(arg_bad == 0, "%ld finalizer argument words corrupted", arg_bad);
  CHECKF(arg_ran >= NARG * 9 / 10, "only %ld of %d finalizers ran", arg_ran,
         NARG);
  return 0;
}
