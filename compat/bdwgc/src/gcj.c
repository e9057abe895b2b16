/*
 * gcj.c — gcj objects (gc_gcj.h) and disclaim procedures (gc_disclaim.h).
 *
 * gcj objects: a spangc kind whose descriptor is spangc's indirect
 * per-object one (SGC_DS_PER_OBJECT, negative): the collector follows
 * the object's first word to its vtable and reads the descriptor one word
 * into it (offset -(d - SGC_DS_PER_OBJECT + SGC_INDIR_PER_OBJ_BIAS) = 8).
 * An object whose first word is still 0 is not scanned.  The mark
 * procedure of GC_init_gcj_malloc goes into one of the slots spangc
 * reserves for bdwgc's well-known clients (indices below 8; spangc uses
 * 1 and 2 itself), so that vtable descriptors made with
 * GC_MAKE_PROC(mp_index, env) reach it.  There are no debugging objects:
 * GC_gcj_debug_kind is GC_gcj_kind.
 *
 * Disclaim: spangc has no reclaim-time callback, so a disclaim procedure
 * is an unordered finalizer (SGC_FIN_NO_ORDER: what the object references
 * stays alive until it ran) put on every object of the kind when it is
 * allocated.  A procedure that returns nonzero gets the object back: the
 * finalizer is registered again, so it is asked again after a later
 * collection.  GC_finalized_malloc's objects carry their closure in the
 * word before the pointer returned (tagged with 1, as bdwgc does), which
 * keeps a heap-allocated closure alive with the object.
 */
#include "compat-int.h"

/* spangc's table of mark procedures (src/kind.c): part of the library
 * this layer is linked into.  Only free reserved slots are written. */
extern sgc_mark_proc sgc_mark_procs[];

int GC_gcj_kind;
int GC_gcj_debug_kind;
static int gcj_ready; /* atomic */

/* bdwgc's gcj descriptor word sits one word into the vtable. */
#define GCJ_DESCR_OFFSET sizeof(GC_word)

static sgc_mutex gcj_lock = SGC_MUTEX_INIT(COMPAT_GCJ);

/* In a fork child: a thread the child does not have may have held it
 * (gcj_ready still unset then: the child may set the kind up again). */
void compat_gcj_atfork_child(void) {
  gcj_lock = (sgc_mutex)SGC_MUTEX_INIT(COMPAT_GCJ);
}

void GC_init_gcj_malloc(int mp_index, void *mp) {
  compat_ensure_init();
  sgc_mutex *lock = &gcj_lock;
  compat_lock(lock);
  if (__atomic_load_n(&gcj_ready, __ATOMIC_ACQUIRE)) {
    sgc_unlock(lock);
    return; /* bdwgc: later calls are ignored */
  }
  if (mp != NULL) {
    if (mp_index < 0 || mp_index >= GC_RESERVED_MARK_PROCS || mp_index == 1 ||
        mp_index == 2)
      compat_fatal("GC_init_gcj_malloc(%d, %p): spangc accepts the reserved "
                   "mark procedure indices 0 and 3..%d", mp_index, mp,
                   GC_RESERVED_MARK_PROCS - 1);
    __atomic_store_n(&sgc_mark_procs[mp_index], (sgc_mark_proc)mp,
                     __ATOMIC_RELEASE);
  }
  uintptr_t d = (uintptr_t)(-(intptr_t)GCJ_DESCR_OFFSET -
                            SGC_INDIR_PER_OBJ_BIAS) |
                SGC_DS_PER_OBJECT;
  int sk = sgc_new_kind(d, 0);
  if (sk < 0)
    compat_fatal("GC_init_gcj_malloc: no kind left for gcj objects");
  int k = (int)compat_add_kind(sk, "GC_init_gcj_malloc", (GC_word)d, 0);
  GC_gcj_kind = k;
  GC_gcj_debug_kind = k;
  __atomic_store_n(&gcj_ready, 1, __ATOMIC_RELEASE);
  sgc_unlock(lock);
}

void *GC_gcj_malloc(size_t lb, void *vtable) {
  if (COMPAT_UNLIKELY(!__atomic_load_n(&gcj_ready, __ATOMIC_ACQUIRE)))
    GC_init_gcj_malloc(0, NULL); /* bdwgc requires the call; be lenient */
  if (lb < sizeof(void *))
    lb = sizeof(void *);
  void **p = compat_alloc_kind(lb, GC_gcj_kind);
  if (p)
    *p = vtable; /* world stopped during marking: seen as 0 or vtable */
  return p;
}

void *GC_gcj_malloc_ignore_off_page(size_t lb, void *vtable) {
  return GC_gcj_malloc(lb, vtable);
}

void *GC_debug_gcj_malloc(size_t lb, void *vtable, GC_EXTRA_PARAMS) {
  return GC_gcj_malloc(lb, vtable);
}

/* ------------------------------------------------------------ disclaim */

unsigned compat_disclaim_mask;
static GC_disclaim_proc disclaim_procs[COMPAT_MAX_KINDS];

static void disclaim_fin(void *obj, void *arg) {
  GC_disclaim_proc proc = (GC_disclaim_proc)arg;
  if (proc(obj)) /* keep it: ask again after a later collection */
    sgc_set_finalizer_ex(obj, disclaim_fin, arg, SGC_FIN_NO_ORDER, NULL, NULL);
}

void compat_disclaim_new(void *p, int k) {
  GC_disclaim_proc proc = __atomic_load_n(&disclaim_procs[k], __ATOMIC_ACQUIRE);
  if (sgc_base(p) != p)
    return; /* memory from the program's oom function, not an object */
  if (proc &&
      sgc_set_finalizer_ex(p, disclaim_fin, (void *)proc, SGC_FIN_NO_ORDER,
                           NULL, NULL) != 0)
    compat_fatal("GC_register_disclaim_proc: out of memory for object %p", p);
}

void GC_register_disclaim_proc(int k, GC_disclaim_proc proc, int mark_all) {
  (void)mark_all; /* always as if nonzero: see above */
  compat_ensure_init();
  if (k < 0 || (unsigned)k >= __atomic_load_n(&compat_nkinds, __ATOMIC_ACQUIRE))
    compat_fatal("GC_register_disclaim_proc(%d): no such kind", k);
  __atomic_store_n(&disclaim_procs[k], proc, __ATOMIC_RELEASE);
  if (proc)
    __atomic_or_fetch(&compat_disclaim_mask, 1u << k, __ATOMIC_RELEASE);
  else
    __atomic_and_fetch(&compat_disclaim_mask, ~(1u << k), __ATOMIC_RELEASE);
}

void GC_init_finalized_malloc(void) { compat_ensure_init(); }

static void finalized_fin(void *obj, void *arg) {
  const struct GC_finalizer_closure *fc = arg;
  fc->proc((GC_word *)obj + 1, fc->cd);
}

void *GC_finalized_malloc(size_t lb, const struct GC_finalizer_closure *fc) {
  compat_ensure_init();
  size_t n = lb + sizeof(GC_word);
  if (n < lb)
    return compat_out_of_memory(lb);
  GC_word *p = GC_malloc(n);
  if (p == NULL)
    return NULL;
  p[0] = (GC_word)fc | 1;
  if (sgc_set_finalizer_ex(p, finalized_fin, (void *)fc, SGC_FIN_NO_ORDER,
                           NULL, NULL) != 0)
    return compat_out_of_memory(lb);
  return p + 1;
}
