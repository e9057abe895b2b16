/* gc_gcj.h: GC_gcj_malloc returns zeroed memory whose first word is the
 * vtable; the collector scans a gcj object by the descriptor in its vtable's
 * second word: with a bitmap descriptor the marked word keeps its target and
 * an unmarked word does not; with GC_MAKE_PROC(GC_GCJ_RESERVED_MARK_PROC_INDEX,
 * env) the mark procedure given to GC_init_gcj_malloc is called (with env)
 * and what it pushes lives.  GC_gcj_kind is a kind GC_generic_malloc
 * accepts, and a GC_generic_malloc_many list of that kind stays whole.
 * Objects themselves die when unreachable. */
// labels: bdwgc
// requires: GC_init_gcj_malloc GC_gcj_malloc GC_gcj_kind
#include <gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_gcj.h>
#include <gc/gc_inline.h>
#include "bdwgc_check.h"

#define N 400
#define WORDS 4 /* vtable, kept, dropped, proc-kept */

/* vtable word 1 is the descriptor. */
static GC_word vt_bitmap[2];
static GC_word vt_proc[2];
static long proc_calls, proc_bad_env;

static struct GC_ms_entry *GC_CALLBACK mark_word3(GC_word *addr,
                                                  struct GC_ms_entry *sp,
                                                  struct GC_ms_entry *lim,
                                                  GC_word env) {
  /* Marker threads may run it at once. */
  __atomic_add_fetch(&proc_calls, 1, __ATOMIC_RELAXED);
  if (env != 77) __atomic_add_fetch(&proc_bad_env, 1, __ATOMIC_RELAXED);
  return GC_MARK_AND_PUSH((void *)addr[3], sp, lim, (void **)&addr[3]);
}

void **objs[N]; /* roots */
GC_hidden_pointer w_kept[N], w_dropped[N], w_prockept[N], w_obj[N];

static NOINLINE void build(GC_word *vt, int from, int to) {
  for (int i = from; i < to; i++) {
    void **o = GC_gcj_malloc(WORDS * sizeof(void *), vt);
    CHECK(o != NULL, "GC_gcj_malloc");
    CHECK(o[0] == vt, "first word is not the vtable");
    CHECK(o[1] == 0 && o[2] == 0 && o[3] == 0, "not zeroed");
    void *k = GC_malloc_atomic(24), *d = GC_malloc_atomic(24),
         *p = GC_malloc_atomic(24);
    CHECK(k && d && p, "allocation");
    o[1] = k;
    o[2] = d;
    o[3] = p;
    watch(&w_kept[i], k);
    watch(&w_dropped[i], d);
    watch(&w_prockept[i], p);
    objs[i] = o;
  }
}

static NOINLINE void drop_half(void) {
  for (int i = 0; i < N; i += 2) {
    watch(&w_obj[i], objs[i]);
    objs[i] = NULL;
  }
}

int main(void) {
  GC_INIT();
  GC_init_gcj_malloc(GC_GCJ_RESERVED_MARK_PROC_INDEX, (void *)mark_word3);
  /* word 1 only: bit 63 is word 0, bit 62 word 1. */
  vt_bitmap[1] = ((GC_word)1 << (8 * sizeof(GC_word) - 2)) | GC_DS_BITMAP;
  vt_proc[1] = GC_MAKE_PROC(GC_GCJ_RESERVED_MARK_PROC_INDEX, 77);
  build(vt_bitmap, 0, N / 2);
  build(vt_proc, N / 2, N);
  clear_stack();
  collect(3);

  long lost = 0, alive_dropped = 0;
  for (int i = 0; i < N / 2; i++) {
    lost += w_kept[i] == 0;
    alive_dropped += w_dropped[i] != 0;
  }
  CHECK(lost == 0, "%ld objects referenced from a descriptor word died", lost);
  CHECK(mostly(N / 2 - alive_dropped, N / 2), "%ld of %d objects referenced "
        "only from a word the descriptor leaves out survived",
        alive_dropped, N / 2);
  long plost = 0, palive = 0;
  for (int i = N / 2; i < N; i++) {
    plost += w_prockept[i] == 0;
    palive += w_kept[i] != 0 || w_dropped[i] != 0;
  }
  CHECK(proc_calls >= N / 2, "the mark procedure ran %ld times for %d "
        "reachable objects", proc_calls, N / 2);
  CHECK(proc_bad_env == 0, "the mark procedure got another env");
  CHECK(plost == 0, "%ld objects pushed by the mark procedure died", plost);
  CHECK(mostly(N / 2 - palive, N / 2), "%ld of %d objects the mark "
        "procedure does not push survived", palive, N / 2);

  /* The objects themselves are collectable. */
  drop_half();
  clear_stack();
  collect(3);
  long gone = 0;
  for (int i = 0; i < N; i += 2) gone += w_obj[i] == 0;
  CHECK(mostly(gone, N / 2), "only %ld of %d unreachable gcj objects died",
        gone, N / 2);
  for (int i = 1; i < N; i += 2)
    CHECK(objs[i][0] == (i < N / 2 ? vt_bitmap : vt_proc), "vtable lost");

  void **g = GC_generic_malloc(3 * sizeof(void *), GC_gcj_kind);
  CHECK(g != NULL && g[0] == 0, "GC_generic_malloc(GC_gcj_kind)");

  /* A list of gcj objects from GC_generic_malloc_many, held by its head
   * only, stays whole across collections and allocation (its links sit
   * where the vtable will go). */
  void *list = NULL;
  GC_generic_malloc_many(4 * sizeof(void *), GC_gcj_kind, &list);
  CHECK(list != NULL, "GC_generic_malloc_many(GC_gcj_kind) gave nothing");
  long len0 = 0;
  for (void **e = list; e; e = *e) len0++;
  clear_stack();
  collect(3);
  for (int i = 0; i < 2000; i++)
    CHECK(GC_gcj_malloc(4 * sizeof(void *), vt_bitmap) != NULL, "alloc");
  long len = 0;
  for (void **e = list; e; e = *e, len++)
    CHECK(GC_base(e) == (void *)e && len < len0, "list element %ld of %ld "
          "was reclaimed or reused", len, len0);
  CHECK(len == len0, "the list shrank from %ld to %ld", len0, len);
  PASS("bdwgc_gcj_objects_follow_their_descriptor");
}
