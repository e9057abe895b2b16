/*
 * mark.c — what bdwgc's mark procedures and root pushers call.
 *
 * bdwgc's GC_ms_entry has spangc's sgc_mark_entry layout (a start address
 * and a descriptor word), and both use gc_mark.h's descriptor encoding,
 * so these are direct calls.  GC_push_other_roots is called by spangc's
 * root callback (control.c) once per collection, on the collecting thread
 * with the world stopped; the GC_push_* calls are valid there and inside
 * mark procedures.
 */
#include "compat-int.h"

struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *lim, void **src) {
  return (struct GC_ms_entry *)sgc_mark_and_push(
      obj, (sgc_mark_entry *)msp, (sgc_mark_entry *)lim, src);
}

struct GC_ms_entry *GC_signal_mark_stack_overflow(struct GC_ms_entry *msp) {
  return (struct GC_ms_entry *)sgc_mark_stack_overflow((sgc_mark_entry *)msp);
}

void GC_push_all(void *lo, void *hi) { sgc_push_range(lo, hi); }
void GC_push_all_eager(void *lo, void *hi) { sgc_push_range(lo, hi); }
/* Every collection is a full one: "all" or not, the range is pushed. */
void GC_push_conditional(void *lo, void *hi, int all) {
  sgc_push_range(lo, hi);
}

void GC_set_mark_bit(const void *p) { sgc_set_mark_bit(p); }
void GC_clear_mark_bit(const void *p) { sgc_clear_mark_bit(p); }
int GC_is_marked(const void *p) { return sgc_is_marked(p); }

void GC_set_push_other_roots(GC_push_other_roots_proc f) {
  __atomic_store_n(&GC_push_other_roots, f, __ATOMIC_RELEASE);
}
GC_push_other_roots_proc GC_get_push_other_roots(void) {
  return __atomic_load_n(&GC_push_other_roots, __ATOMIC_ACQUIRE);
}
