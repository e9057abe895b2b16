// labels: gc
/* Disappearing links (sgc_register_link), moving registrations
 * (sgc_move_weak) and the finalizer-queue counters.
 *  - A link slot holding a hidden pointer (~obj) is set to NULL when obj
 *    dies (>= 90%: a stale stack word may keep a few objects), and left
 *    alone while obj lives (exact), also when obj is finalizable (then it
 *    is cleared before the finalizer runs).
 *  - Registering a link slot again returns EEXIST and re-targets it:
 *    from a live object to a dead one, the slot is cleared; from a dead
 *    one to a live one, it is kept (exact).  EINVAL for NULL arguments;
 *    sgc_unregister_weak ends a link (0, then ENOENT).
 *  - sgc_move_weak(from, to): 0, and from then on the registration
 *    concerns 'to': when the object dies 'to' is cleared and 'from' is
 *    never written again (exact), for links and weak slots alike;
 *    ENOENT when 'from' is not registered; EEXIST when 'to' already is
 *    (nothing changes: both still work); EINVAL for NULL; from == to is 0.
 *  - sgc_finalizers_ready / sgc_finalizers_queued (finalizer thread
 *    disabled, so finalizers stay queued until sgc_run_finalizers): ready
 *    is 0 while nothing is queued and nonzero while something is; queued
 *    grows by the number of finalizers queued, agrees with
 *    sgc_finalizers_pending and the statistics, and does not change when
 *    they run. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 1000
#define HIDE(p) ((void *)~(uintptr_t)(p))

void *volatile g_live[N];   /* keeps the live targets */
void *volatile g_live2[N];  /* live targets of re-targeted slots */

static void **s_dead, **s_live, **s_fin, **s_rt_to_dead, **s_rt_to_live;
static void **s_from, **s_to, **s_wfrom, **s_wto; /* moved */
static void **s_exist_a, **s_exist_b;             /* EEXIST on move */
static void **hidden_rt_to_live_old;              /* for the check */
static long fin_ran, fin_saw_link_set;
static long all_runs; /* every finalizer of this program */

static void *obj(long tag) {
  long *p = sgc_alloc(40);
  CHECK(p != NULL);
  p[0] = tag;
  p[4] = ~tag;
  return p;
}

static void on_fin(void *o, void *arg) {
  void **slot = arg; /* malloc'ed: keeps nothing */
  fin_ran++;
  all_runs++;
  if (*slot != NULL)
    fin_saw_link_set++;
}

__attribute__((noinline)) static void make_all(void) {
  for (long i = 0; i < N; i++) {
    void *d = obj(i);
    s_dead[i] = HIDE(d);
    CHECK(sgc_register_link(&s_dead[i], d) == 0);

    g_live[i] = obj(i);
    s_live[i] = HIDE(g_live[i]);
    CHECK(sgc_register_link(&s_live[i], g_live[i]) == 0);

    d = obj(i);
    s_fin[i] = HIDE(d);
    CHECK(sgc_register_link(&s_fin[i], d) == 0);
    CHECK(sgc_set_finalizer(d, on_fin, &s_fin[i]) == 0);

    /* Re-targeted from a live object to a dead one: cleared. */
    s_rt_to_dead[i] = HIDE(g_live[i]);
    CHECK(sgc_register_link(&s_rt_to_dead[i], g_live[i]) == 0);
    d = obj(i);
    s_rt_to_dead[i] = HIDE(d);
    CHECK(sgc_register_link(&s_rt_to_dead[i], d) == EEXIST);

    /* Re-targeted from a dead object to a live one: kept.  The slot keeps
     * the old hidden value, which would not matter for a link anyway. */
    d = obj(i);
    s_rt_to_live[i] = HIDE(d);
    CHECK(sgc_register_link(&s_rt_to_live[i], d) == 0);
    g_live2[i] = obj(i);
    CHECK(sgc_register_link(&s_rt_to_live[i], g_live2[i]) == EEXIST);
    hidden_rt_to_live_old[i] = s_rt_to_live[i];

    /* Moved links and weak slots. */
    d = obj(i);
    s_from[i] = HIDE(d);
    s_to[i] = HIDE(d);
    CHECK(sgc_register_link(&s_from[i], d) == 0);
    CHECK(sgc_move_weak(&s_from[i], &s_to[i]) == 0);
    CHECK(sgc_unregister_weak(&s_from[i]) == ENOENT);
    CHECK(sgc_move_weak(&s_from[i], &s_to[i]) == ENOENT);

    d = obj(i);
    s_wfrom[i] = d;
    s_wto[i] = d;
    CHECK(sgc_register_weak(&s_wfrom[i], d) == 0);
    CHECK(sgc_move_weak(&s_wfrom[i], &s_wto[i]) == 0);
    CHECK(sgc_move_weak(&s_wto[i], &s_wto[i]) == 0);

    /* EEXIST: both stay registered to their own objects. */
    d = obj(i);
    void *e = obj(i);
    s_exist_a[i] = HIDE(d);
    s_exist_b[i] = HIDE(e);
    CHECK(sgc_register_link(&s_exist_a[i], d) == 0);
    CHECK(sgc_register_link(&s_exist_b[i], e) == 0);
    CHECK(sgc_move_weak(&s_exist_a[i], &s_exist_b[i]) == EEXIST);
  }
}

static void **slots(void) {
  void **p = calloc(N, sizeof(void *));
  CHECK(p != NULL);
  return p;
}

static int cleared(void **s) {
  int n = 0;
  for (int i = 0; i < N; i++)
    n += s[i] == NULL;
  return n;
}

/* ------------------------------------------ finalizer queue counters */

static long qfin_ran;
static void qfin(void *o, void *arg) {
  qfin_ran++;
  all_runs++;
}

__attribute__((noinline)) static void make_finalizable(int n) {
  for (int i = 0; i < n; i++)
    CHECK(sgc_set_finalizer(obj(i), qfin, NULL) == 0);
}

static void check_counters(void) {
  sgc_run_finalizers(); /* whatever earlier parts queued */
  CHECK(sgc_finalizers_ready() == 0 && sgc_finalizers_pending() == 0);
  uint64_t q0 = sgc_finalizers_queued();
  sgc_stats st;
  sgc_read_stats(&st);
  CHECK(st.finalizers_queued == q0);
  long runs0 = all_runs;

  make_finalizable(500);
  clear_stack();
  sgc_collect();
  sgc_collect();
  uint64_t q1 = sgc_finalizers_queued();
  size_t pending = sgc_finalizers_pending();
  printf("queued %llu finalizers, %zu pending, ready %d\n",
         (unsigned long long)(q1 - q0), pending, sgc_finalizers_ready());
  CHECKF(q1 - q0 >= 450, "%llu finalizers queued for 500 dead objects",
         (unsigned long long)(q1 - q0));
  CHECKF(pending == q1 - q0, "%zu pending, %llu queued", pending,
         (unsigned long long)(q1 - q0));
  CHECKF(sgc_finalizers_ready() != 0, "finalizers are queued but "
         "sgc_finalizers_ready() is 0");
  CHECK(qfin_ran == 0);
  sgc_read_stats(&st);
  CHECK(st.finalizers_queued == q1);

  size_t ran = sgc_run_finalizers();
  CHECK(ran == pending && all_runs - runs0 == (long)ran);
  CHECKF(sgc_finalizers_ready() == 0, "nothing is queued but "
         "sgc_finalizers_ready() is %d", sgc_finalizers_ready());
  CHECK(sgc_finalizers_pending() == 0);
  CHECK(sgc_finalizers_queued() == q1);
  sgc_read_stats(&st);
  CHECK(st.finalizers_queued == q1 && st.finalizers_run >= ran);

  /* The stragglers kept by a stale word, if any, go later. */
  clear_stack();
  settle();
  CHECK(sgc_finalizers_queued() - q0 == (uint64_t)(all_runs - runs0));
  CHECK(qfin_ran <= 500);
}

int main(void) {
  sgc_init();
  sgc_set_finalizer_thread(0);
  void ***all[] = {&s_dead, &s_live, &s_fin, &s_rt_to_dead, &s_rt_to_live,
                   &s_from, &s_to, &s_wfrom, &s_wto, &s_exist_a, &s_exist_b,
                   &hidden_rt_to_live_old};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
    *all[k] = slots();

  /* Errors. */
  void *some = obj(-1), *nowhere = NULL, *other = NULL;
  CHECK(sgc_register_link(NULL, some) == EINVAL);
  CHECK(sgc_register_link(&nowhere, NULL) == EINVAL);
  CHECK(sgc_move_weak(NULL, &other) == EINVAL);
  CHECK(sgc_move_weak(&nowhere, NULL) == EINVAL);
  CHECK(sgc_move_weak(&nowhere, &other) == ENOENT);
  some = NULL;

  make_all();
  clear_stack();
  settle();

  for (int i = 0; i < N; i++) {
    CHECKF(s_live[i] == HIDE(g_live[i]), "link %d of a live object "
           "changed to %p", i, s_live[i]);
    CHECKF(s_rt_to_live[i] == hidden_rt_to_live_old[i], "link %d "
           "re-targeted to a live object was written (%p)", i,
           s_rt_to_live[i]);
    CHECKF(s_from[i] != NULL && s_wfrom[i] != NULL, "slot %d was cleared "
           "although its registration was moved away", i);
  }
  int c_dead = cleared(s_dead), c_fin = cleared(s_fin),
      c_rt = cleared(s_rt_to_dead), c_to = cleared(s_to),
      c_wto = cleared(s_wto), c_ea = cleared(s_exist_a),
      c_eb = cleared(s_exist_b);
  printf("links cleared: dead %d, finalizable %d, re-targeted %d; moved "
         "links %d, moved weak slots %d; after EEXIST %d and %d (of %d "
         "each); %ld finalizers ran\n", c_dead, c_fin, c_rt, c_to, c_wto,
         c_ea, c_eb, N, fin_ran);
  const int want = N * 9 / 10;
  CHECKF(c_dead >= want, "only %d of %d links of dead objects cleared",
         c_dead, N);
  CHECKF(c_fin >= want, "only %d of %d links of finalizable objects "
         "cleared", c_fin, N);
  CHECKF(c_rt >= want, "only %d of %d links re-targeted to dead objects "
         "cleared", c_rt, N);
  CHECKF(c_to >= want, "only %d of %d moved links cleared at their new "
         "slot", c_to, N);
  CHECKF(c_wto >= want, "only %d of %d moved weak slots cleared at their "
         "new slot", c_wto, N);
  CHECKF(c_ea >= want && c_eb >= want, "after sgc_move_weak said EEXIST, "
         "only %d / %d of %d links still cleared", c_ea, c_eb, N);
  CHECKF(fin_ran >= want, "only %ld of %d finalizers ran", fin_ran, N);
  CHECKF(fin_saw_link_set == 0, "%ld finalizers ran with their object's "
         "link still set", fin_saw_link_set);

  /* Cleared registrations are gone; live ones can be unregistered once. */
  for (int i = 0; i < N; i++) {
    if (s_dead[i] == NULL)
      CHECK(sgc_unregister_weak(&s_dead[i]) == ENOENT);
    CHECK(sgc_unregister_weak(&s_live[i]) == 0);
    CHECK(sgc_unregister_weak(&s_live[i]) == ENOENT);
    CHECK(sgc_unregister_weak(&s_rt_to_live[i]) == 0);
  }
  /* Unregistered: no longer cleared. */
  for (int i = 0; i < N; i++)
    g_live[i] = NULL;
  clear_stack();
  settle();
  for (int i = 0; i < N; i++)
    CHECKF(s_live[i] != NULL, "unregistered link %d was cleared", i);

  check_counters();
  return 0;
}
