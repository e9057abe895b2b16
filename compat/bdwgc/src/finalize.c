/*
 * finalize.c — bdwgc's finalization and disappearing links on spangc.
 *
 * Finalizers are spangc specials (sgc_set_finalizer_ex).  bdwgc's orders
 * map onto spangc's modes: GC_register_finalizer is ORDERED,
 * _ignore_self IGNORE_SELF, _no_order NO_ORDER, _unreachable UNREACHABLE.
 * What a NO_ORDER object references is always kept for its finalizer, as
 * bdwgc does when GC_java_finalization is set (its default).
 *
 * Queued finalizers run on the thread that allocates next (or calls
 * GC_gcollect), as in bdwgc; with GC_finalize_on_demand they wait for
 * GC_invoke_finalizers, and GC_finalizer_notifier is called when new ones
 * are queued.  A thread already running finalizers does not start more.
 */
#include <stdint.h>

#include "compat-int.h"

static __thread int in_finalizers;
static uint64_t notified; /* finalizers queued at the last notification */

void compat_finalize_slow(void) {
  if (__atomic_load_n(&GC_finalize_on_demand, __ATOMIC_RELAXED)) {
    GC_finalizer_notifier_proc n =
        __atomic_load_n(&GC_finalizer_notifier, __ATOMIC_ACQUIRE);
    uint64_t q = sgc_finalizers_queued();
    uint64_t seen = __atomic_load_n(&notified, __ATOMIC_RELAXED);
    if (n && q != seen &&
        __atomic_compare_exchange_n(&notified, &seen, q, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
      n();
    return;
  }
  /* Nor while this thread holds the allocation lock (inside
   * GC_call_with_alloc_lock's fn, or between GC_alloc_lock and
   * GC_alloc_unlock): a finalizer may collect, which cannot start before
   * the lock is released (a finalizer calling GC_gcollect aborted there,
   * the adversarial review of session 23), and bdwgc never runs program
   * code under that lock.  They run at the next allocation outside it. */
  if (in_finalizers || compat_holds_alloc_lock())
    return;
  in_finalizers = 1;
  sgc_run_finalizers();
  in_finalizers = 0;
}

/* Called from inside a finalizer too, it drains the queue as bdwgc's
 * does (only the automatic runs on allocation are kept from nesting). */
int GC_invoke_finalizers(void) {
  compat_ensure_init();
  int outer = in_finalizers;
  in_finalizers = 1;
  size_t n = sgc_run_finalizers();
  in_finalizers = outer;
  return (int)n;
}

int GC_should_invoke_finalizers(void) {
  compat_ensure_init();
  return sgc_finalizers_ready();
}

void GC_set_finalize_on_demand(int v) {
  __atomic_store_n(&GC_finalize_on_demand, v, __ATOMIC_RELAXED);
}
int GC_get_finalize_on_demand(void) { return GC_finalize_on_demand; }
void GC_set_java_finalization(int v) { GC_java_finalization = v; }
int GC_get_java_finalization(void) { return GC_java_finalization; }
void GC_set_finalizer_notifier(GC_finalizer_notifier_proc f) {
  __atomic_store_n(&GC_finalizer_notifier, f, __ATOMIC_RELEASE);
}
GC_finalizer_notifier_proc GC_get_finalizer_notifier(void) {
  return __atomic_load_n(&GC_finalizer_notifier, __ATOMIC_ACQUIRE);
}

/* A finalizer registered through an interior pointer: bdwgc finalizes
 * the object it points into and calls fn with the pointer as given.  The
 * record is a heap object, referenced by the finalizer's argument (which
 * the collector keeps), so cd stays alive with it. */
typedef struct interior_fin {
  GC_finalization_proc fn;
  void *cd;
  size_t offset;
  GC_await_finalize_proc await; /* see GC_set_await_finalize_proc */
} interior_fin;

static void call_interior(void *obj, void *arg) {
  interior_fin *r = arg;
  if (r->await)
    r->await(obj);
  r->fn((char *)obj + r->offset, r->cd);
}

/* bdwgc calls the await proc for each object as its finalizer is queued;
 * spangc has no such moment for the layer, so the proc is called just
 * before the finalizer runs, and only for finalizers registered while a
 * proc was set (those go through the record above; the others cost
 * nothing). */
static GC_await_finalize_proc await_proc;
void GC_set_await_finalize_proc(GC_await_finalize_proc f) {
  __atomic_store_n(&await_proc, f, __ATOMIC_RELEASE);
}
GC_await_finalize_proc GC_get_await_finalize_proc(void) {
  return __atomic_load_n(&await_proc, __ATOMIC_ACQUIRE);
}

static void register_finalizer(const char *call, void *obj,
                               GC_finalization_proc fn, void *cd, int mode,
                               GC_finalization_proc *ofn, void **ocd) {
  compat_ensure_init();
  if (ofn)
    *ofn = 0;
  if (ocd)
    *ocd = 0;
  void *base = sgc_base(obj);
  if (base == NULL)
    return; /* bdwgc: not a heap object, so never collected nor finalized */
  void (*sfn)(void *, void *) = (void (*)(void *, void *))fn;
  void *sarg = cd;
  GC_await_finalize_proc await = GC_get_await_finalize_proc();
  if ((base != obj || await) && fn != 0) {
    interior_fin *r = sgc_alloc(sizeof *r);
    if (r == NULL)
      compat_fatal("%s(%p): out of memory", call, obj);
    r->fn = fn;
    r->cd = cd;
    r->offset = (size_t)((char *)obj - (char *)base);
    r->await = await;
    sfn = call_interior;
    sarg = r;
  }
  void (*oldfn)(void *, void *);
  void *oldarg;
  int err = sgc_set_finalizer_ex(base, sfn, sarg, mode, &oldfn, &oldarg);
  if (oldfn == call_interior) { /* report what the program registered */
    interior_fin *r = oldarg;
    oldfn = (void (*)(void *, void *))r->fn;
    oldarg = r->cd;
  }
  if (err)
    compat_fatal("%s(%p): out of memory", call, base);
  if (ofn)
    *ofn = (GC_finalization_proc)oldfn;
  if (ocd)
    *ocd = oldarg;
}

void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                           GC_finalization_proc *ofn, void **ocd) {
  register_finalizer("GC_register_finalizer", obj, fn, cd, SGC_FIN_ORDERED,
                     ofn, ocd);
}

void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn,
                                       void *cd, GC_finalization_proc *ofn,
                                       void **ocd) {
  register_finalizer("GC_register_finalizer_ignore_self", obj, fn, cd,
                     SGC_FIN_IGNORE_SELF, ofn, ocd);
}

void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn,
                                    void *cd, GC_finalization_proc *ofn,
                                    void **ocd) {
  register_finalizer("GC_register_finalizer_no_order", obj, fn, cd,
                     SGC_FIN_NO_ORDER, ofn, ocd);
}

void GC_register_finalizer_unreachable(void *obj, GC_finalization_proc fn,
                                       void *cd, GC_finalization_proc *ofn,
                                       void **ocd) {
  register_finalizer("GC_register_finalizer_unreachable", obj, fn, cd,
                     SGC_FIN_UNREACHABLE, ofn, ocd);
}

void GC_debug_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                 GC_finalization_proc *ofn, void **ocd) {
  GC_register_finalizer(obj, fn, cd, ofn, ocd);
}
void GC_debug_register_finalizer_ignore_self(void *obj,
                                             GC_finalization_proc fn, void *cd,
                                             GC_finalization_proc *ofn,
                                             void **ocd) {
  GC_register_finalizer_ignore_self(obj, fn, cd, ofn, ocd);
}
void GC_debug_register_finalizer_no_order(void *obj, GC_finalization_proc fn,
                                          void *cd, GC_finalization_proc *ofn,
                                          void **ocd) {
  GC_register_finalizer_no_order(obj, fn, cd, ofn, ocd);
}
void GC_debug_register_finalizer_unreachable(void *obj,
                                             GC_finalization_proc fn, void *cd,
                                             GC_finalization_proc *ofn,
                                             void **ocd) {
  GC_register_finalizer_unreachable(obj, fn, cd, ofn, ocd);
}

/* ---------------------------------------------------- disappearing links */

static void check_link(const char *call, void **link) {
  if (link == NULL || ((uintptr_t)link & (sizeof(void *) - 1)))
    compat_fatal("%s(%p): the link must be an aligned, non-NULL address",
                 call, (void *)link);
}

int GC_general_register_disappearing_link(void **link, const void *obj) {
  compat_ensure_init();
  check_link("GC_general_register_disappearing_link", link);
  void *base = sgc_base(obj);
  if (base == NULL)
    compat_fatal("GC_general_register_disappearing_link(%p, %p): the object "
                 "is not a heap object", (void *)link, obj);
  if (base != obj) { /* accepted, as bdwgc does: the link is to the object */
    compat_warn("GC_general_register_disappearing_link: interior pointer %p "
                "taken as its object\n", (GC_word)obj);
    obj = base;
  }
  int err = sgc_register_link(link, (void *)obj);
  if (err == 0)
    return GC_SUCCESS;
  if (err == EEXIST)
    return GC_DUPLICATE;
  return GC_NO_MEMORY;
}

int GC_register_disappearing_link(void **link) {
  compat_ensure_init();
  check_link("GC_register_disappearing_link", link);
  void *base = sgc_base(link);
  if (base == NULL)
    compat_fatal("GC_register_disappearing_link(%p): the link is not inside "
                 "a heap object", (void *)link);
  return GC_general_register_disappearing_link(link, base);
}

int GC_unregister_disappearing_link(void **link) {
  compat_ensure_init();
  if (link == NULL || ((uintptr_t)link & (sizeof(void *) - 1)))
    return 0;
  return sgc_unregister_weak(link) == 0;
}

int GC_move_disappearing_link(void **link, void **new_link) {
  compat_ensure_init();
  check_link("GC_move_disappearing_link", new_link);
  if (link == NULL || ((uintptr_t)link & (sizeof(void *) - 1)))
    return GC_NOT_FOUND;
  int err = sgc_move_weak(link, new_link);
  if (err == 0)
    return GC_SUCCESS;
  return err == EEXIST ? GC_DUPLICATE : GC_NOT_FOUND;
}
