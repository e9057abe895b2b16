/*
 * toggleref.c — toggle references and long links.
 *
 * Toggle references: a table of entries in malloc'ed chunks (memory the
 * collector does not scan; chunks never move nor go away, so a slot's
 * address stays valid for spangc's weak registration).  An entry holds
 * its object's base and a state:
 *   STRONG  the root callback pushes the slot, so the object lives;
 *   WEAK    the slot is a spangc weak slot: cleared when the object dies.
 * Before each collection (the collect hook, world running, as bdwgc asks
 * the callback with its lock held before marking) the callback decides
 * each live entry's new state; DROP and cleared entries are emptied.
 * The root callback reads the table without a lock (a stopped thread may
 * hold it): an entry is filled before it is counted, and its state is
 * made STRONG before its weak registration ends.
 *
 * Long links: spangc's links (sgc_register_link) are cleared when the
 * object becomes unreachable, before its finalizer runs; bdwgc's long
 * links wait until it is reclaimed.  The same call serves both.
 */
#include <stdlib.h>

#include "compat-int.h"

enum { EMPTY = 0, STRONG = 1, WEAK = 2 };
#define CHUNK 256
typedef struct entry {
  void *obj;
  int state; /* atomic */
} entry;
typedef struct chunk {
  struct chunk *next; /* atomic */
  unsigned used;      /* atomic: entries filled so far */
  entry e[CHUNK];
} chunk;

static chunk *chunks; /* atomic; newest first */
static GC_toggleref_func toggleref_fn;
static sgc_mutex table_lock = SGC_MUTEX_INIT(COMPAT_TOGGLEREF);
static __thread int deciding;

/* In a fork child: a thread the child does not have may have held the
 * table's lock (its entries are written before they are published). */
void compat_toggleref_atfork_child(void) {
  table_lock = (sgc_mutex)SGC_MUTEX_INIT(COMPAT_TOGGLEREF);
}

void GC_set_toggleref_func(GC_toggleref_func f) {
  __atomic_store_n(&toggleref_fn, f, __ATOMIC_RELEASE);
}
GC_toggleref_func GC_get_toggleref_func(void) {
  return __atomic_load_n(&toggleref_fn, __ATOMIC_ACQUIRE);
}

static entry *free_entry(void) {
  for (chunk *c = chunks; c; c = c->next) {
    for (unsigned i = 0; i < c->used; i++)
      if (__atomic_load_n(&c->e[i].state, __ATOMIC_RELAXED) == EMPTY)
        return &c->e[i];
    if (c->used < CHUNK)
      return &c->e[c->used];
  }
  chunk *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->next = chunks;
  __atomic_store_n(&chunks, c, __ATOMIC_RELEASE);
  return &c->e[0];
}

static void count_in(entry *e) {
  for (chunk *c = chunks; c; c = c->next)
    if (e >= c->e && e < c->e + CHUNK) {
      unsigned i = (unsigned)(e - c->e);
      if (i >= c->used)
        __atomic_store_n(&c->used, i + 1, __ATOMIC_RELEASE);
      return;
    }
}

int GC_toggleref_add(void *obj, int is_strong) {
  compat_ensure_init();
  if (GC_get_toggleref_func() == NULL)
    return GC_SUCCESS; /* bdwgc: nothing is recorded without a callback */
  void *base = sgc_base(obj);
  if (base == NULL)
    compat_fatal("GC_toggleref_add(%p): not a heap object", obj);
  compat_lock(&table_lock);
  entry *e = free_entry();
  if (e == NULL) {
    sgc_unlock(&table_lock);
    return GC_NO_MEMORY;
  }
  e->obj = base;
  int err = 0;
  if (is_strong) {
    __atomic_store_n(&e->state, STRONG, __ATOMIC_RELEASE);
  } else {
    err = sgc_register_weak(&e->obj, base);
    if (err == 0)
      __atomic_store_n(&e->state, WEAK, __ATOMIC_RELEASE);
  }
  if (err == 0)
    count_in(e);
  else
    e->obj = NULL;
  sgc_unlock(&table_lock);
  return err == 0 ? GC_SUCCESS : GC_NO_MEMORY;
}

/* The collect hook, before each collection. */
void compat_toggleref_decide(void) {
  GC_toggleref_func f = GC_get_toggleref_func();
  if (f == NULL || __atomic_load_n(&chunks, __ATOMIC_ACQUIRE) == NULL ||
      deciding)
    return;
  deciding = 1; /* the callback could allocate and collect */
  if (compat_alloc_lock_mine()) {
    /* This thread allocated into a collection while holding
     * GC_alloc_lock, and the table's lock ranks before the allocation
     * lock: its holder may be deciding, with a callback whose collection
     * waits (in the collect hook) for the allocation lock this thread
     * holds.  So only try; when another thread holds the table, this
     * collection goes with the states as they stand (that thread is
     * deciding them). */
    if (!sgc_trylock(&table_lock)) {
      deciding = 0;
      return;
    }
  } else {
    compat_lock(&table_lock);
  }
  for (chunk *c = chunks; c; c = c->next)
    for (unsigned i = 0; i < c->used; i++) {
      entry *e = &c->e[i];
      int st = __atomic_load_n(&e->state, __ATOMIC_RELAXED);
      if (st == EMPTY)
        continue;
      void *obj = __atomic_load_n(&e->obj, __ATOMIC_ACQUIRE);
      if (obj == NULL) { /* a weak entry whose object died */
        sgc_unregister_weak(&e->obj);
        __atomic_store_n(&e->state, EMPTY, __ATOMIC_RELEASE);
        continue;
      }
      GC_ToggleRefStatus r = f(obj);
      if (r == GC_TOGGLE_REF_STRONG && st == WEAK) {
        __atomic_store_n(&e->state, STRONG, __ATOMIC_RELEASE);
        sgc_unregister_weak(&e->obj);
      } else if (r == GC_TOGGLE_REF_WEAK && st == STRONG) {
        if (sgc_register_weak(&e->obj, obj) == 0)
          __atomic_store_n(&e->state, WEAK, __ATOMIC_RELEASE);
      } else if (r == GC_TOGGLE_REF_DROP) {
        if (st == WEAK)
          sgc_unregister_weak(&e->obj);
        __atomic_store_n(&e->state, EMPTY, __ATOMIC_RELEASE);
        __atomic_store_n(&e->obj, NULL, __ATOMIC_RELEASE);
      }
    }
  sgc_unlock(&table_lock);
  deciding = 0;
}

/* The root callback: world stopped, no lock. */
void compat_toggleref_push(void) {
  for (chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c;
       c = __atomic_load_n(&c->next, __ATOMIC_ACQUIRE)) {
    unsigned n = __atomic_load_n(&c->used, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
      if (__atomic_load_n(&c->e[i].state, __ATOMIC_ACQUIRE) == STRONG)
        sgc_push_range(&c->e[i].obj, &c->e[i].obj + 1);
  }
}

/* ------------------------------------------------------------ long links */

int GC_register_long_link(void **link, const void *obj) {
  return GC_general_register_disappearing_link(link, obj);
}
int GC_unregister_long_link(void **link) {
  return GC_unregister_disappearing_link(link);
}
int GC_move_long_link(void **link, void **new_link) {
  return GC_move_disappearing_link(link, new_link);
}
