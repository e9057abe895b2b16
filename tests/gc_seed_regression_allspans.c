// labels: gc threads
// env: SPANGC_DEBUG=verify=1
/* Regression test for Go's "runtime: fix races on mheap.allspans" bugs.
 *
 * Mutator threads enter and leave blocking regions over and over and
 * allocate the moment they leave, so some thread leaves during every
 * stop-the-world.  Meanwhile a mark hook (sgc_test_mark_hook, run by the
 * collecting thread while the helper markers mark with the world stopped)
 * creates spans during marking, and in some cycles enough of them to make
 * allspans grow under the markers' snapshot.
 *
 * Spans created while marking must not be freed by that cycle's sweep
 * (their mark bits were never computed): after the collection returns and
 * after its sweep has finished (the next collection finishes it), every
 * such span is still an in-use span at its base with its pattern intact.
 * Every live object of the mutators is checked as well. */
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define NMUT 4
#define NLIVE 256
#define PER_CYCLE 8          /* spans made during every mark */
#define MAX_HOOK_SPANS 40000 /* spans made in one forced-growth mark */
#define GROW_CAP_LIMIT 30000 /* force growth while allspans is smaller */
#define PATTERN_WORDS 16

/* ------------------------------------------------------------ the hook */

/* Spans made by the hook in the current cycle.  Malloc'ed, not a root: the
 * cycle that made them must not see them through us. */
static uintptr_t *hook_bases;
static uint32_t hook_n;
static int hook_force_growth; /* set by main before a collection */
static uint32_t hook_grew;    /* cycles in which allspans grew under marking */
static uint32_t hook_failed;

static uint64_t pat(uintptr_t base, int w) {
  return 0xD00D000000000000ull ^ (uint64_t)(base >> 13) ^ ((uint64_t)w << 44);
}

static void mark_hook(void) {
  mheap *h = &sgc_heap;
  sgc_lock(&h->lock);
  uint32_t nspan0 = h->nspan, cap0 = h->nspancap;
  int marking = h->gcmarking;
  sgc_unlock(&h->lock);
  if (!marking)
    hook_failed++;
  uint32_t want = PER_CYCLE;
  if (hook_force_growth && cap0 < GROW_CAP_LIMIT)
    want = MAX_HOOK_SPANS;
  for (uint32_t k = 0; k < want; k++) {
    mspan *s = mheap_alloc(1, 0, true);
    if (s == NULL) {
      hook_failed++;
      break;
    }
    uint64_t *p = (uint64_t *)s->base;
    for (int w = 0; w < PATTERN_WORDS; w++)
      p[w] = pat(s->base, w);
    hook_bases[hook_n++] = s->base;
    if (want > PER_CYCLE && k % 64 == 0) {
      sgc_lock(&h->lock);
      uint32_t cap = h->nspancap;
      sgc_unlock(&h->lock);
      if (cap != cap0)
        break;
    }
  }
  sgc_lock(&h->lock);
  if (h->nspancap != cap0 || h->nspan < nspan0)
    hook_grew += h->nspancap != cap0;
  sgc_unlock(&h->lock);
}

/* ------------------------------------------------------------ checks */

/* Spans of the previous cycle, kept alive (this array is a root) until the
 * next check. */
uintptr_t g_kept[MAX_HOOK_SPANS + PER_CYCLE];
static uint32_t g_nkept;

static void check_span(uintptr_t base, const char *when, long cycle) {
  mspan *s = mheap_lookup(base);
  CHECKF(s != NULL && s->base == base && s->state == MSPAN_INUSE,
         "cycle %ld, %s: span %p made during marking is no longer in use "
         "(lookup %p)", cycle, when, (void *)base, (void *)s);
  const uint64_t *p = (const uint64_t *)base;
  for (int w = 0; w < PATTERN_WORDS; w++)
    CHECKF(p[w] == pat(base, w), "cycle %ld, %s: span %p made during "
           "marking was overwritten", cycle, when, (void *)base);
}

/* ------------------------------------------------------------ mutators */

static int stop;    /* atomic */
static long nbad;   /* atomic */
static long nalloc; /* atomic */

typedef struct obj {
  uint64_t id;
  uint32_t nwords;
  uint32_t pad;
  uint64_t w[];
} obj;

static uint64_t ow(uint64_t id, uint32_t i) {
  return 0x8000000000000000ull | ((id * 0x9e3779b97f4a7c15ull) ^ i);
}

static int obj_ok(const obj *o) {
  for (uint32_t i = 0; i < o->nwords; i++)
    if (o->w[i] != ow(o->id, i))
      return 0;
  return 1;
}

static void *mutator(void *arg) {
  uint64_t rs = (uint64_t)(uintptr_t)arg * 0x2545F4914F6CDD1Dull + 1;
  obj *live[NLIVE];
  memset(live, 0, sizeof live);
  uint64_t id = (uint64_t)(uintptr_t)arg << 40;
  while (!ATOMIC_LOAD(&stop)) {
    sgc_enter_blocking();
    for (volatile int spin = 0; spin < 50; spin++)
      ;
    sgc_exit_blocking();
    /* Allocate at once after leaving. */
    xorshift64(&rs);
    uint32_t nwords = (uint32_t)(rs % 64);
    obj *o = sgc_alloc(sizeof(obj) + nwords * 8u);
    if (o == NULL) {
      ATOMIC_ADD(&nbad, 1);
      continue;
    }
    o->id = ++id;
    o->nwords = nwords;
    for (uint32_t i = 0; i < nwords; i++)
      o->w[i] = ow(o->id, i);
    ATOMIC_ADD(&nalloc, 1);
    int k = (int)((rs >> 20) % NLIVE);
    if (live[k] && !obj_ok(live[k])) {
      fprintf(stderr, "object %p (id %llx) corrupted\n", (void *)live[k],
              (unsigned long long)live[k]->id);
      ATOMIC_ADD(&nbad, 1);
    }
    live[k] = o;
  }
  for (int k = 0; k < NLIVE; k++)
    if (live[k] && !obj_ok(live[k]))
      ATOMIC_ADD(&nbad, 1);
  return NULL;
}

int main(void) {
  sgc_init();
  /* Only this thread collects, so the hook runs only here. */
  sgc_set_gcpercent(-1);
  hook_bases = malloc((MAX_HOOK_SPANS + PER_CYCLE) * sizeof(uintptr_t));
  CHECK(hook_bases != NULL);
  ATOMIC_STORE(&sgc_test_mark_hook, mark_hook);

  pthread_t t[NMUT];
  for (long i = 0; i < NMUT; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, mutator, (void *)(i + 1)) == 0);

  /* allspans is made to grow under the markers up to six times whatever
   * n is, first in cycle 0, while its capacity is the initial one: a
   * later attempt finds no growth within MAX_HOOK_SPANS once the
   * mutators' heap took allspans past GROW_CAP_LIMIT (in concurrent mode
   * they allocate through each mark and did so before the first attempt,
   * then in cycle 41).  The other cycles make spans during the mark
   * without growth. */
  long n = scaled(500);
  long grow_every = n / 6 > 0 ? n / 6 : 1;
  for (long c = 0; c < n; c++) {
    hook_n = 0;
    hook_force_growth = c % grow_every == 0;
    sgc_collect(); /* finishes the previous cycle's sweep, then marks */
    CHECKF(ATOMIC_LOAD(&nbad) == 0, "cycle %ld: %ld corrupted or failed "
           "objects", c, ATOMIC_LOAD(&nbad));
    CHECKF(hook_failed == 0, "cycle %ld: the hook did not run while "
           "marking or could not allocate", c);
    /* Last cycle's spans: kept through this cycle (g_kept is a root) and
     * past the end of last cycle's sweep. */
    for (uint32_t k = 0; k < g_nkept; k++)
      check_span(g_kept[k], "after the sweep of the cycle that made it", c);
    /* This cycle's spans, right after the collection returned. */
    for (uint32_t k = 0; k < hook_n; k++)
      check_span(hook_bases[k], "right after its collection", c);
    memcpy(g_kept, hook_bases, hook_n * sizeof(uintptr_t));
    g_nkept = hook_n; /* the previous ones are dropped: the GC frees them */
  }
  /* One more collection finishes the sweep of the last cycle. */
  hook_n = 0;
  sgc_collect();
  for (uint32_t k = 0; k < g_nkept; k++)
    check_span(g_kept[k], "after the sweep of the last cycle", n);
  ATOMIC_STORE(&sgc_test_mark_hook, NULL);

  ATOMIC_STORE(&stop, 1);
  for (int i = 0; i < NMUT; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
  CHECK(ATOMIC_LOAD(&nbad) == 0);
  memset(g_kept, 0, sizeof g_kept);
  g_nkept = 0;
  sgc_collect();
  sgc_collect();
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%ld cycles, allspans grew under the markers in %u of them, %ld "
         "objects allocated, %u spans recorded\n", n, hook_grew,
         ATOMIC_LOAD(&nalloc), sgc_heap.nspan);
  CHECKF(hook_grew >= 1 || n < 6, "allspans never grew during marking");
  return 0;
}
