/* A GC_new_free_list + GC_new_proc + GC_new_kind(GC_MAKE_PROC) kind is
 * scanned by its mark procedure only: objects reachable solely through fields
 * it pushes with GC_MARK_AND_PUSH survive intact, those in a field it skips
 * are collected; the procedure gets the descriptor's env. */
// labels: bdwgc
#include <gc.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

#define N 1000
#define MAGIC ((GC_word)0x5eed0000c0ffee01u)  /* odd: never a pointer */
#define ENV 12345
#define TSIZE 40

/* Layout of an object of the new kind. */
struct kobj {
  GC_word magic;        /* MAGIC once initialised; a free-list link before */
  void *pushed_a;       /* a plain object */
  struct kobj *pushed_b;/* another object of the kind */
  void *not_pushed;     /* the procedure ignores this one */
  GC_word id;
};

int kind;
struct kobj *roots[N];
GC_hidden_pointer w_a[N], w_inner[N], w_inner_a[N], w_ignored[N];
long proc_calls, bad_env;

static struct GC_ms_entry *mark_kobj(GC_word *addr, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *lim, GC_word env) {
  struct kobj *o = (struct kobj *)addr;
  if (env != ENV) __atomic_fetch_add(&bad_env, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&proc_calls, 1, __ATOMIC_RELAXED);
  if (o->magic != MAGIC) return msp;    /* free or not yet initialised */
  msp = GC_MARK_AND_PUSH(o->pushed_a, msp, lim, &o->pushed_a);
  msp = GC_MARK_AND_PUSH(o->pushed_b, msp, lim, (void **)&o->pushed_b);
  return msp;
}

static struct kobj *new_kobj(GC_word id) {
  struct kobj *o = GC_generic_malloc(sizeof *o, kind);
  CHECK(o != NULL, "GC_generic_malloc of the new kind failed");
  CHECK(GC_size(o) >= sizeof *o, "GC_size %zu", GC_size(o));
  CHECK(all_zero(o, sizeof *o), "new object of a clearing kind not cleared");
  o->id = id;
  char *a = GC_malloc(TSIZE);
  CHECK(a != NULL, "allocation");
  fill_pattern(a, TSIZE, id);
  o->pushed_a = a;
  o->magic = MAGIC;
  return o;
}

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    struct kobj *outer = new_kobj((GC_word)i);
    struct kobj *inner = new_kobj((GC_word)(N + i));
    outer->pushed_b = inner;
    char *ign = GC_malloc(TSIZE);
    CHECK(ign != NULL, "allocation");
    outer->not_pushed = ign;
    inner->not_pushed = GC_malloc(TSIZE); /* ignored as well */
    watch(&w_a[i], outer->pushed_a);
    watch(&w_inner[i], inner);
    watch(&w_inner_a[i], inner->pushed_a);
    watch(&w_ignored[i], ign);
    roots[i] = outer;
  }
}

int main(void) {
  GC_INIT();
  void **fl = GC_new_free_list();
  CHECK(fl != NULL, "GC_new_free_list returned NULL");
  unsigned proc = GC_new_proc(mark_kobj);
  kind = (int)GC_new_kind(fl, GC_MAKE_PROC(proc, ENV), 0, 1);
  build();
  clear_stack();
  for (int round = 0; round < 25; round++) {
    for (int g = 0; g < 2000; g++) {
      CHECK(GC_malloc(64) != NULL, "garbage");
      if (g % 4 == 0) CHECK(GC_generic_malloc(sizeof(struct kobj), kind),
                            "garbage of the new kind");
    }
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(w_a[i] && w_inner[i] && w_inner_a[i], "an object reachable only "
            "through pushed fields was collected (index %d, collection %d)",
            i, round + 1);
      struct kobj *o = roots[i], *in = o->pushed_b;
      CHECK(o->magic == MAGIC && o->id == (GC_word)i && in->magic == MAGIC &&
                in->id == (GC_word)(N + i),
            "object of the new kind damaged (%d)", i);
      CHECK(check_pattern(o->pushed_a, TSIZE, (size_t)i) < 0 &&
                check_pattern(in->pushed_a, TSIZE, (size_t)(N + i)) < 0,
            "object reached through a pushed field damaged (%d)", i);
    }
  }
  CHECK(proc_calls > 0, "the mark procedure was never called");
  CHECK(bad_env == 0, "the mark procedure got a wrong env %ld times",
        bad_env);
  long dead = count_cleared(w_ignored, N);
  CHECK(mostly(dead, N), "only %ld of %d objects referenced only from a field "
        "the mark procedure does not push were collected", dead, N);
  PASS("bdwgc_kind_mark_proc_keeps_pushed_fields");
}
