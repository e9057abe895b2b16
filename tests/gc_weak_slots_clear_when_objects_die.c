// labels: gc
/* Weak slots (disappearing links) in malloc'ed memory:
 *  - set to NULL when their object dies (most of them: a stale stack word
 *    may keep a few objects), before the object's finalizer runs;
 *  - left alone while the object lives (all of them);
 *  - sgc_unregister_weak stops the clearing (returns 0, then ENOENT; an
 *    unknown slot gives ENOENT);
 *  - registering a slot again re-targets it;
 *  - a slot inside a live noscan heap object works too. */
#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define N 1000

void *volatile g_live[N];      /* keeps the "live" objects */
void *volatile g_retarget_a[N]; /* keeps the first targets of re-targeted slots */
void *volatile g_retarget_b2[N]; /* keeps the second targets (case 2) */

static void **slots_live, **slots_dead, **slots_unreg, **slots_rt1,
    **slots_rt2, **slots_fin;
static void **noscan_slots; /* a live noscan heap object holding slots */
static long fin_ran, fin_saw_slot_set;

static void on_finalize(void *obj, void *arg) {
  (void)obj;
  void **slot = arg; /* malloc'ed address: arg keeps nothing alive */
  fin_ran++;
  if (*slot != NULL)
    fin_saw_slot_set++;
}

static void *obj(long tag) {
  long *p = sgc_alloc(48);
  CHECK(p != NULL);
  p[0] = tag;
  p[5] = ~tag;
  return p;
}

__attribute__((noinline)) static void make_all(void) {
  for (long i = 0; i < N; i++) {
    g_live[i] = obj(i);
    slots_live[i] = g_live[i];
    CHECK(sgc_register_weak(&slots_live[i], g_live[i]) == 0);

    slots_dead[i] = obj(i);
    CHECK(sgc_register_weak(&slots_dead[i], slots_dead[i]) == 0);

    slots_unreg[i] = obj(i);
    CHECK(sgc_register_weak(&slots_unreg[i], slots_unreg[i]) == 0);

    /* Case 1: from a live object to a dead one: cleared. */
    g_retarget_a[i] = obj(i);
    slots_rt1[i] = g_retarget_a[i];
    CHECK(sgc_register_weak(&slots_rt1[i], g_retarget_a[i]) == 0);
    slots_rt1[i] = obj(i);
    CHECK(sgc_register_weak(&slots_rt1[i], slots_rt1[i]) == 0);

    /* Case 2: from a dead object to a live one: kept. */
    void *dead = obj(i);
    slots_rt2[i] = dead;
    CHECK(sgc_register_weak(&slots_rt2[i], dead) == 0);
    g_retarget_b2[i] = obj(i);
    slots_rt2[i] = g_retarget_b2[i];
    CHECK(sgc_register_weak(&slots_rt2[i], g_retarget_b2[i]) == 0);
    dead = NULL;

    /* With a finalizer: the slot is cleared before it runs. */
    slots_fin[i] = obj(i);
    CHECK(sgc_register_weak(&slots_fin[i], slots_fin[i]) == 0);
    CHECK(sgc_set_finalizer(slots_fin[i], on_finalize, &slots_fin[i]) == 0);
  }
  for (long i = 0; i < 64; i++) {
    noscan_slots[2 * i] = g_live[i]; /* live target */
    CHECK(sgc_register_weak(&noscan_slots[2 * i], g_live[i]) == 0);
    noscan_slots[2 * i + 1] = obj(i); /* dead target */
    CHECK(sgc_register_weak(&noscan_slots[2 * i + 1],
                            noscan_slots[2 * i + 1]) == 0);
  }
}

int main(void) {
  sgc_init();
  void ***arrays[] = {&slots_live, &slots_dead, &slots_unreg,
                      &slots_rt1,  &slots_rt2,  &slots_fin};
  for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) {
    *arrays[k] = calloc(N, sizeof(void *));
    CHECK(*arrays[k] != NULL);
  }
  noscan_slots = sgc_alloc_noscan(128 * sizeof(void *));
  CHECK(noscan_slots != NULL);
  memset(noscan_slots, 0, 128 * sizeof(void *));

  /* Error returns. */
  void *unknown = NULL;
  CHECK(sgc_unregister_weak(&unknown) == ENOENT);
  void *some = obj(-1);
  CHECK(sgc_register_weak(NULL, some) == EINVAL);
  some = NULL;
  CHECK(sgc_register_weak(&unknown, NULL) == EINVAL);

  make_all();
  /* Unregistered slots keep their (soon stale) value. */
  void **unreg_before = malloc(N * sizeof(void *));
  CHECK(unreg_before != NULL);
  for (long i = 0; i < N; i++) {
    unreg_before[i] = slots_unreg[i];
    CHECK(sgc_unregister_weak(&slots_unreg[i]) == 0);
    CHECK(sgc_unregister_weak(&slots_unreg[i]) == ENOENT);
  }
  clear_stack();
  settle();

  int dead_cleared = 0, rt1_cleared = 0, fin_cleared = 0;
  for (long i = 0; i < N; i++) {
    CHECKF(slots_live[i] == g_live[i], "slot %ld of a live object changed "
           "to %p", i, slots_live[i]);
    CHECKF(slots_unreg[i] == unreg_before[i], "unregistered slot %ld was "
           "written (%p)", i, slots_unreg[i]);
    CHECKF(slots_rt2[i] == g_retarget_b2[i], "slot %ld re-targeted to a "
           "live object changed to %p", i, slots_rt2[i]);
    dead_cleared += slots_dead[i] == NULL;
    rt1_cleared += slots_rt1[i] == NULL;
    fin_cleared += slots_fin[i] == NULL;
    long *p = g_live[i];
    CHECK(p[0] == i && p[5] == ~i);
  }
  int noscan_cleared = 0;
  for (long i = 0; i < 64; i++) {
    CHECKF(noscan_slots[2 * i] == g_live[i], "noscan slot %ld of a live "
           "object changed", i);
    noscan_cleared += noscan_slots[2 * i + 1] == NULL;
  }
  printf("cleared: dead %d/%d, re-targeted %d/%d, finalizable %d/%d, "
         "noscan %d/64; finalizers %ld\n", dead_cleared, N, rt1_cleared, N,
         fin_cleared, N, noscan_cleared, fin_ran);
  CHECKF(dead_cleared >= N * 9 / 10, "only %d of %d slots of dead objects "
         "cleared", dead_cleared, N);
  CHECKF(rt1_cleared >= N * 9 / 10, "only %d of %d re-targeted slots cleared "
         "(re-registering did not re-target?)", rt1_cleared, N);
  CHECKF(fin_cleared >= N * 9 / 10, "only %d of %d slots of finalizable "
         "objects cleared", fin_cleared, N);
  CHECKF(noscan_cleared >= 64 * 9 / 10, "only %d of 64 noscan slots "
         "cleared", noscan_cleared);
  CHECKF(fin_ran >= N * 9 / 10, "only %ld of %d finalizers ran", fin_ran, N);
  CHECKF(fin_saw_slot_set == 0, "%ld finalizers ran while their object's "
         "weak slot was still set", fin_saw_slot_set);

  /* Cleared slots were forgotten: unregistering them says ENOENT. */
  for (long i = 0; i < N; i++)
    if (slots_dead[i] == NULL)
      CHECK(sgc_unregister_weak(&slots_dead[i]) == ENOENT);
  /* Live ones are still registered. */
  for (long i = 0; i < N; i++)
    CHECK(sgc_unregister_weak(&slots_live[i]) == 0);
  return 0;
}
