/* A mark procedure may push far more entries than the mark stack holds
 * (GC_MARK_AND_PUSH handles the overflow): a vector pushing 100000 elements
 * in one call, a 600 x 600 tree of such vectors and a 200000-node list
 * survive many collections intact. */
// labels: bdwgc
/* bdwgc 8.2.2 has no public GC_signal_mark_stack_overflow: overflow is
 * reached through GC_MARK_AND_PUSH only (stock bdwgc reports overflows
 * here). */
#include <gc.h>
#include <gc/gc_mark.h>
#include "bdwgc_check.h"

#define FANOUT 600
#define BIG 100000
#define LISTLEN 200000
#define MAGIC ((GC_word)0x0dd0000ba5eba11u)

struct vec { GC_word magic; GC_word count; void *elem[]; };
struct elem { struct elem *leaf; GC_word id; };

struct vec *root_vec, *big_vec;
struct elem *list_head;
long proc_calls;
int kind;

static struct GC_ms_entry *push_all_elems(GC_word *addr,
                                          struct GC_ms_entry *msp,
                                          struct GC_ms_entry *lim,
                                          GC_word env) {
  struct vec *v = (struct vec *)addr;
  __atomic_fetch_add(&proc_calls, 1, __ATOMIC_RELAXED);
  if (v->magic != MAGIC) return msp;
  for (GC_word i = 0; i < v->count; i++)
    msp = GC_MARK_AND_PUSH(v->elem[i], msp, lim, &v->elem[i]);
  return msp;
}

static struct vec *new_vec(size_t n) {
  struct vec *v = GC_generic_malloc(sizeof *v + n * sizeof(void *), kind);
  CHECK(v != NULL, "allocation of a vector");
  /* Valid (and scanned) from the start: collections happen while the
   * vectors are filled, and count only grows after an element is set. */
  v->magic = MAGIC;
  return v;
}

static NOINLINE void build(void) {
  struct vec *big = new_vec(BIG);
  big_vec = big;
  for (GC_word i = 0; i < BIG; i++) {
    struct elem *e = GC_malloc(sizeof *e), *l = GC_malloc(sizeof *l);
    CHECK(e && l, "allocation");
    e->id = i;
    l->id = ~i;
    e->leaf = l;
    big->elem[i] = e;
    big->count = i + 1;
  }
  struct vec *root = new_vec(FANOUT);
  for (GC_word j = 0; j < FANOUT; j++) {
    struct vec *v = new_vec(FANOUT);
    for (GC_word i = 0; i < FANOUT; i++) {
      struct elem *e = GC_malloc(sizeof *e), *l = GC_malloc(sizeof *l);
      CHECK(e && l, "allocation");
      e->id = j * FANOUT + i;
      l->id = ~e->id;
      e->leaf = l;
      v->elem[i] = e;
      v->count = i + 1;
    }
    root->elem[j] = v;
    root->count = j + 1;
  }
  root_vec = root;
  for (GC_word i = 0; i < LISTLEN; i++) {
    struct elem *e = GC_malloc(sizeof *e);
    CHECK(e != NULL, "allocation");
    e->id = i;
    e->leaf = list_head;
    list_head = e;
  }
}

int main(void) {
  GC_INIT();
  unsigned proc = GC_new_proc(push_all_elems);
  kind = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(proc, 0), 0, 1);
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 5000; g++) CHECK(GC_malloc(64) != NULL, "garbage");
    GC_gcollect();
    CHECK(big_vec->magic == MAGIC && big_vec->count == BIG,
          "big vector damaged");
    for (GC_word i = 0; i < BIG; i++) {
      struct elem *e = big_vec->elem[i];
      CHECK(e->id == i && e->leaf->id == ~i, "element %lu of the big vector "
            "(or its leaf) damaged after %d collections", (unsigned long)i,
            round + 1);
    }
    CHECK(root_vec->magic == MAGIC && root_vec->count == FANOUT,
          "root vector damaged");
    for (GC_word j = 0; j < FANOUT; j++) {
      struct vec *v = root_vec->elem[j];
      CHECK(v->magic == MAGIC && v->count == FANOUT, "vector %lu damaged",
            (unsigned long)j);
      for (GC_word i = 0; i < FANOUT; i++) {
        struct elem *e = v->elem[i];
        GC_word id = j * FANOUT + i;
        CHECK(e->id == id && e->leaf->id == ~id, "element %lu (or its leaf) "
              "damaged after %d collections", (unsigned long)id, round + 1);
      }
    }
    GC_word n = 0;
    for (struct elem *e = list_head; e; e = e->leaf, n++)
      CHECK(e->id == LISTLEN - 1 - n, "list node %lu damaged",
            (unsigned long)n);
    CHECK(n == LISTLEN, "list lost nodes");
  }
  CHECK(proc_calls > 0, "the mark procedure was never called");
  PASS("bdwgc_mark_proc_pushing_many_entries");
}
