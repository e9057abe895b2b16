/*
 * leak.c — bdwgc's leak-finding mode and debugging allocator.
 *
 * Debugging objects (GC_debug_malloc and friends): the program's bytes
 * follow a header of DBG_HDR bytes (where from, how big, a guard word
 * that depends on the address and size) and are followed, at the next word
 * boundary, by a second guard word.  GC_debug_free checks both guards,
 * marks the object freed and, for a collectable one, leaves it to the
 * collector (as bdwgc does): while the program still holds the pointer a
 * second GC_debug_free finds it marked and is reported, not obeyed.
 * Uncollectable ones are freed at once.
 *
 * The live debugging objects are listed in a hash set (dbg.set: their
 * addresses, stored inverted, with a copy of file, line and size, which
 * the reports use: a smashed header cannot mislead them), so that each
 * collection can check their guards (check_heap, from the collect hook,
 * before the world stops) and a sweep can tell a debugging object from
 * another.
 *
 * Leak finding (GC_find_leak, GC_set_find_leak, env GC_FIND_LEAK): the
 * layer installs spangc's reclaim hook (sgc_set_reclaim_hook).  The
 * sweeping thread asks it about every unreachable object; it records the
 * object (address, size, kind) in dbg.found and keeps it: the core pins
 * it, so a leaked object is never reclaimed, never reused and never
 * reported twice.  A debugging object freed with GC_debug_free is not a
 * leak: it is let go.  The records are printed ("Found N leaked
 * objects:", one line per object) by compat_report_leaks, on a mutator
 * thread, outside any lock: when GC_gcollect returns, before each collection (what the
 * lazy sweep found since the last one), and at exit (leak mode collects
 * then, as bdwgc does).  The reclaim hook is also installed once the
 * first debugging object exists, to drop reclaimed objects from the set.
 *
 * Locks: dbg.lock (a leaf) guards the set, the found and smashed lists.
 * The reclaim hook takes it inside the sweep's no-preempt region; every
 * other holder takes it inside sgc_call_without_collections, so no
 * collection (whose world-stopped sweep may run the hook) can start while
 * a stopped thread holds it.  Nothing is allocated under it: the lists
 * live in anonymous mappings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compat-int.h"

#define DBG_HDR 32
#define HEAD_GUARD ((uintptr_t)0xFEDCBA9876543210ull)
#define TAIL_GUARD ((uintptr_t)0x0123456789ABCDEFull)
#define FREED_STATE 0x0F4EEDu

typedef struct dbg_hdr {
  const char *file;
  int32_t line;
  uint32_t state; /* FREED_STATE once GC_debug_free took it */
  size_t size;    /* what the program asked for */
  uintptr_t guard;
} dbg_hdr;
_Static_assert(sizeof(dbg_hdr) == DBG_HDR, "debug header size");

const size_t GC_debug_header_size = DBG_HDR;
size_t GC_get_debug_header_size(void) { return DBG_HDR; }

typedef struct leak_rec {
  void *obj; /* base (debugging objects: their header) */
  size_t size;
  int kind;  /* spangc kind */
  int dbg;
  const char *file;
  int line;
  size_t dsize;
} leak_rec;

typedef struct smash_rec {
  void *where, *body;
  const char *file;
  int line;
  size_t size;
} smash_rec;

/* A growable array in an anonymous mapping (never malloc: the reclaim
 * hook runs inside the sweep). */
typedef struct mvec {
  void *v;
  size_t n, cap, elem;
} mvec;

/* An entry of the set: key 0 is empty, 1 deleted, else ~(body address). */
typedef struct dbg_ent {
  uintptr_t key;
  const char *file;
  size_t size;
  int line;
} dbg_ent;

static struct {
  sgc_mutex lock;
  dbg_ent *set; /* open addressing */
  size_t set_cap, set_used, set_live;
  mvec found, smashed;
  int hooked; /* atomic: the reclaim hook is installed */
} dbg = {.lock = SGC_MUTEX_INIT(COMPAT_DBG),
         .found = {.elem = sizeof(leak_rec)},
         .smashed = {.elem = sizeof(smash_rec)}};

static void *mvec_push(mvec *m) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 256;
    void *v = mmap(NULL, cap * m->elem, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v == MAP_FAILED)
      return NULL;
    if (m->v) {
      memcpy(v, m->v, m->n * m->elem);
      munmap(m->v, m->cap * m->elem);
    }
    m->v = v;
    m->cap = cap;
  }
  return (char *)m->v + m->elem * m->n++;
}

/* ------------------------------------------------------------ the set */

static size_t set_hash(uintptr_t a, size_t cap) {
  return (size_t)((a >> 4) * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

static dbg_ent *set_find(uintptr_t a) {
  if (dbg.set == NULL)
    return NULL;
  uintptr_t key = ~a;
  for (size_t i = set_hash(a, dbg.set_cap);; i = (i + 1) & (dbg.set_cap - 1)) {
    if (dbg.set[i].key == 0)
      return NULL;
    if (dbg.set[i].key == key)
      return &dbg.set[i];
  }
}

static int set_add_raw(dbg_ent *t, size_t cap, const dbg_ent *e) {
  for (size_t i = set_hash(~e->key, cap);; i = (i + 1) & (cap - 1))
    if (t[i].key <= 1) {
      int fresh = t[i].key == 0;
      t[i] = *e;
      return fresh;
    }
}

/* dbg.lock held.  Returns 0 without memory (the object is then not
 * checked at collections, nor told from others by the sweep). */
static int set_add(const dbg_ent *e) {
  if ((dbg.set_used + 1) * 2 > dbg.set_cap) {
    size_t cap = dbg.set_cap ? dbg.set_cap : 1024;
    while ((dbg.set_live + 1) * 4 > cap)
      cap *= 2;
    dbg_ent *t = mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
      return 0;
    for (size_t i = 0; i < dbg.set_cap; i++)
      if (dbg.set[i].key > 1)
        set_add_raw(t, cap, &dbg.set[i]);
    if (dbg.set)
      munmap(dbg.set, dbg.set_cap * sizeof *t);
    dbg.set = t;
    dbg.set_cap = cap;
    dbg.set_used = dbg.set_live;
  }
  if (set_add_raw(dbg.set, dbg.set_cap, e))
    dbg.set_used++;
  dbg.set_live++;
  return 1;
}

static void set_remove(dbg_ent *e) {
  e->key = 1;
  dbg.set_live--;
}

/* ----------------------------------------------------- guards, reports */

static char *body_of(dbg_hdr *h) { return (char *)h + DBG_HDR; }
static uintptr_t *tail_at(char *body, size_t size) {
  return (uintptr_t *)(body + ((size + 7) & ~(size_t)7));
}

/* The head guard covers the size too. */
static uintptr_t head_guard(const char *body, size_t size) {
  return HEAD_GUARD ^ (uintptr_t)body ^ (size * 0x9E3779B97F4A7C15ull);
}

/* The first smashed word of the debugging object at body, of size bytes
 * (the set's record), or NULL.  Calls nothing of spangc (dbg.lock may be
 * held). */
static void *smashed_at(char *body, size_t size) {
  dbg_hdr *h = (dbg_hdr *)(body - DBG_HDR);
  if (h->size != size)
    return &h->size;
  if (h->guard != head_guard(body, size))
    return &h->guard;
  if (*tail_at(body, size) != (TAIL_GUARD ^ (uintptr_t)body))
    return tail_at(body, size);
  return NULL;
}

static void print_smashed(const char *msg, void *where, const void *body,
                          const char *file, int line, size_t size) {
  GC_err_printf("%s %p in or near object at %p (%s:%d, sz= %lu)\n", msg,
                where, body, file ? file : "?", line, (unsigned long)size);
}

static const char *kind_name(int sk, int dbgfmt) {
  int atomic = sk == SGC_KIND_NOSCAN || sk == compat_link_kind;
  if (dbgfmt)
    return atomic ? "PTRFREE" : sk == SGC_KIND_SCAN ? "NORMAL" : NULL;
  return atomic ? "atomic" : sk == SGC_KIND_SCAN ? "composite" : NULL;
}

/* --------------------------------------------------------- the hook */

static int find_leak_on(void) {
  return __atomic_load_n(&GC_find_leak, __ATOMIC_RELAXED) != 0;
}

/* spangc's reclaim hook (see the top comment): runs in the sweep. */
static int reclaim_hook(void *obj, size_t size, int kind) {
  int keep = 0;
  sgc_lock(&dbg.lock);
  dbg_hdr *h = obj;
  char *body = body_of(h);
  dbg_ent *e = size >= DBG_HDR + sizeof(uintptr_t)
                   ? set_find((uintptr_t)body)
                   : NULL;
  dbg_ent copy = e ? *e : (dbg_ent){0};
  int freed = e && h->state == FREED_STATE;
  if (e) {
    set_remove(e);
    void *where = freed ? NULL : smashed_at(body, copy.size);
    smash_rec *r = where ? mvec_push(&dbg.smashed) : NULL;
    if (r)
      *r = (smash_rec){where, body, copy.file, copy.line, copy.size};
  }
  if (find_leak_on() && !freed) {
    keep = 1;
    leak_rec *r = mvec_push(&dbg.found);
    if (r)
      *r = (leak_rec){obj, size, kind, e != NULL, copy.file, copy.line,
                      copy.size};
  }
  sgc_unlock(&dbg.lock);
  return keep;
}

static void install_hook(void) {
  if (!__atomic_exchange_n(&dbg.hooked, 1, __ATOMIC_ACQ_REL))
    sgc_set_reclaim_hook(reclaim_hook);
}

/* Take the lists (inside a region without collections). */
typedef struct taken {
  mvec found, smashed;
} taken;

static void *take_lists(void *arg) {
  taken *t = arg;
  sgc_lock(&dbg.lock);
  t->found = dbg.found;
  t->smashed = dbg.smashed;
  dbg.found.v = dbg.smashed.v = NULL;
  dbg.found.n = dbg.found.cap = dbg.smashed.n = dbg.smashed.cap = 0;
  sgc_unlock(&dbg.lock);
  return NULL;
}

static void mvec_drop(mvec *m) {
  if (m->v)
    munmap(m->v, m->cap * m->elem);
}

/* Print what the sweeps found since the last report.  No lock held: the
 * lists were taken. */
void compat_report_leaks(void) {
  if (!__atomic_load_n(&dbg.hooked, __ATOMIC_ACQUIRE))
    return;
  taken t;
  sgc_call_without_collections(take_lists, &t);
  smash_rec *sr = t.smashed.v;
  if (t.smashed.n) {
    GC_err_printf("GC_check_heap_block: found %lu smashed heap objects:\n",
                  (unsigned long)t.smashed.n);
    for (size_t i = 0; i < t.smashed.n; i++)
      GC_err_printf(" %p in or near object at %p (%s:%d, sz= %lu)\n",
                    sr[i].where, sr[i].body, sr[i].file ? sr[i].file : "?",
                    sr[i].line, (unsigned long)sr[i].size);
  }
  leak_rec *lr = t.found.v;
  if (t.found.n)
    GC_err_printf("Found %lu leaked objects:\n", (unsigned long)t.found.n);
  for (size_t i = 0; i < t.found.n; i++) {
    const char *kn = kind_name(lr[i].kind, lr[i].dbg);
    char other[32];
    if (kn == NULL) {
      snprintf(other, sizeof other, "kind=%d", lr[i].kind);
      kn = other;
    }
    if (lr[i].dbg)
      GC_err_printf("%p (%s:%d, sz= %lu, %s)\n",
                    (void *)((char *)lr[i].obj + DBG_HDR),
                    lr[i].file ? lr[i].file : "?", lr[i].line,
                    (unsigned long)lr[i].dsize, kn);
    else
      GC_err_printf("object at %p of appr. %lu bytes (%s)\n", lr[i].obj,
                    (unsigned long)lr[i].size, kn);
  }
  mvec_drop(&t.found);
  mvec_drop(&t.smashed);
}

/* Check the guards of every live debugging object (before a collection,
 * as bdwgc's GC_check_heap does); smashed ones go to the smashed list. */
static void *check_heap(void *arg) {
  (void)arg;
  sgc_lock(&dbg.lock);
  for (size_t i = 0; i < dbg.set_cap; i++) {
    dbg_ent *e = &dbg.set[i];
    if (e->key <= 1)
      continue;
    char *body = (char *)~e->key;
    if (((dbg_hdr *)(body - DBG_HDR))->state == FREED_STATE)
      continue;
    void *where = smashed_at(body, e->size); /* at every collection, as
                                                bdwgc */
    smash_rec *r = where ? mvec_push(&dbg.smashed) : NULL;
    if (r)
      *r = (smash_rec){where, body, e->file, e->line, e->size};
  }
  sgc_unlock(&dbg.lock);
  return NULL;
}

/* From the layer's collect hook, before each collection. */
void compat_leak_before_collection(void) {
  if (!__atomic_load_n(&dbg.hooked, __ATOMIC_ACQUIRE))
    return;
  sgc_call_without_collections(check_heap, NULL);
  compat_report_leaks();
}

static void *forget_obj(void *arg) {
  sgc_lock(&dbg.lock);
  dbg_ent *e = set_find((uintptr_t)arg + DBG_HDR);
  if (e)
    set_remove(e);
  sgc_unlock(&dbg.lock);
  return NULL;
}

/* GC_free of the object whose base is base: if it is a debugging object,
 * it leaves the set (the sweep is not asked about freed objects). */
void compat_leak_forget(void *base) {
  if (__atomic_load_n(&dbg.hooked, __ATOMIC_ACQUIRE))
    sgc_call_without_collections(forget_obj, base);
}

/* ------------------------------------------------------ the mode */

static int exit_check_registered; /* atomic */

static void exit_check(void) {
  /* bdwgc collects at exit in leak mode, so every leak is reported. */
  if (find_leak_on() && !__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED))
    GC_gcollect();
}

/* At initialisation (control.c): GC_FIND_LEAK, or a mode set before. */
void compat_leak_init(void) {
  if (getenv("GC_FIND_LEAK"))
    __atomic_store_n(&GC_find_leak, 1, __ATOMIC_RELAXED);
  if (find_leak_on()) {
    install_hook();
    if (!__atomic_exchange_n(&exit_check_registered, 1, __ATOMIC_ACQ_REL))
      atexit(exit_check);
  }
}

void GC_set_find_leak(int v) {
  int was = __atomic_exchange_n(&GC_find_leak, v, __ATOMIC_RELAXED);
  /* Switched on after initialisation: bdwgc asks for it before; take it
   * from here on. */
  if (v && !was && __atomic_load_n(&compat_initialised, __ATOMIC_ACQUIRE))
    compat_leak_init();
}
int GC_get_find_leak(void) {
  return __atomic_load_n(&GC_find_leak, __ATOMIC_RELAXED);
}

/* ------------------------------------------------ debugging allocator */

static void *register_obj(void *arg) {
  sgc_lock(&dbg.lock);
  set_add(arg);
  sgc_unlock(&dbg.lock);
  return NULL;
}

/* A debugging object of lb bytes, of bdwgc kind k. */
static void *dbg_alloc(size_t lb, int k, const char *file, int line) {
  compat_ensure_init();
  install_hook();
  size_t words = (lb + 7) & ~(size_t)7;
  size_t n = DBG_HDR + words + sizeof(uintptr_t);
  if (words < lb || n < words)
    return compat_out_of_memory(lb);
  dbg_hdr *h = compat_alloc_kind(n, k);
  if (h == NULL)
    return NULL;
  char *body = body_of(h);
  h->file = file;
  h->line = line;
  h->state = 0;
  h->size = lb;
  h->guard = head_guard(body, lb);
  *tail_at(body, lb) = TAIL_GUARD ^ (uintptr_t)body;
  dbg_ent e = {~(uintptr_t)body, file, lb, line};
  sgc_call_without_collections(register_obj, &e);
  return body;
}

void *GC_debug_malloc(size_t lb, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, GC_I_NORMAL, s, i);
}
void *GC_debug_malloc_atomic(size_t lb, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, GC_I_PTRFREE, s, i);
}
void *GC_debug_malloc_uncollectable(size_t lb, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, 2, s, i);
}
void *GC_debug_malloc_atomic_uncollectable(size_t lb, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, 3, s, i);
}
void *GC_debug_malloc_ignore_off_page(size_t lb, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, GC_I_NORMAL, s, i);
}
void *GC_debug_malloc_atomic_ignore_off_page(size_t lb, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, GC_I_PTRFREE, s, i);
}
void *GC_debug_malloc_stubborn(size_t lb, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, GC_I_NORMAL, s, i);
}
void *GC_debug_generic_or_special_malloc(size_t lb, int k, GC_EXTRA_PARAMS) {
  return dbg_alloc(lb, k, s, i);
}
char *GC_debug_strdup(const char *str, GC_EXTRA_PARAMS) {
  if (str == NULL)
    return NULL;
  size_t n = strlen(str) + 1;
  char *p = dbg_alloc(n, GC_I_PTRFREE, s, i);
  if (p)
    memcpy(p, str, n);
  return p;
}
char *GC_debug_strndup(const char *str, size_t n, GC_EXTRA_PARAMS) {
  if (str == NULL)
    return NULL;
  size_t len = strnlen(str, n);
  char *p = dbg_alloc(len + 1, GC_I_PTRFREE, s, i);
  if (p) {
    memcpy(p, str, len);
    p[len] = 0;
  }
  return p;
}

/* What GC_debug_free and GC_debug_realloc find at p. */
enum { IS_NONE, IS_PLAIN, IS_DEBUG };

typedef struct lookup {
  void *p, *base;
  int what;
  int freed;       /* IS_DEBUG: GC_debug_free took it already */
  void *smashed;   /* IS_DEBUG: the first smashed word */
  const char *file; /* IS_DEBUG: the allocation's (the set's copy) */
  int line;
  size_t size;
  int mark_freed;  /* in: mark it freed */
  int drop;        /* in, with mark_freed: drop it from the set too */
} lookup;

static void *look_up(void *arg) {
  lookup *l = arg;
  l->base = sgc_base(l->p);
  l->what = l->base == NULL ? IS_NONE : IS_PLAIN;
  if (l->base == NULL || (char *)l->p - (char *)l->base != DBG_HDR)
    return NULL;
  sgc_lock(&dbg.lock);
  dbg_ent *e = set_find((uintptr_t)l->p);
  dbg_hdr *h = l->base;
  if (e) {
    l->what = IS_DEBUG;
    l->freed = h->state == FREED_STATE;
    l->file = e->file;
    l->line = e->line;
    l->size = e->size;
    l->smashed = l->freed ? NULL : smashed_at(l->p, e->size);
  } else if (h->state == FREED_STATE &&
             h->guard == head_guard(l->p, h->size)) {
    /* An uncollectable one freed already (it left the set then). */
    l->what = IS_DEBUG;
    l->freed = 1;
    l->file = h->file;
    l->line = h->line;
    l->size = h->size;
  }
  if (l->what == IS_DEBUG && l->mark_freed && !l->freed) {
    h->state = FREED_STATE;
    if (l->drop)
      set_remove(e);
  }
  sgc_unlock(&dbg.lock);
  return NULL;
}

void GC_debug_free(void *p) {
  if (p == NULL)
    return;
  compat_ensure_init();
  lookup l = {.p = p, .mark_freed = 1};
  /* Uncollectable objects are freed now: they leave the set first. */
  void *b = sgc_base(p);
  if (b && (char *)p - (char *)b == DBG_HDR) {
    int k = compat_kind_of(b);
    l.drop = k >= 0 && compat_kinds[k].uncollectable;
  }
  sgc_call_without_collections(look_up, &l);
  if (l.what == IS_NONE) {
    GC_err_printf("GC_debug_free: %p is not a heap object (ignored)\n", p);
    return;
  }
  if (l.what == IS_PLAIN) {
    GC_err_printf("GC_debug_free called on pointer %p w/o debugging info\n",
                  p);
    GC_free(l.base);
    return;
  }
  if (l.freed) {
    GC_err_printf("GC_debug_free: double free of %p (%s:%d, sz= %lu); "
                  "ignored\n", p, l.file ? l.file : "?", l.line,
                  (unsigned long)l.size);
    return;
  }
  if (l.smashed)
    print_smashed("GC_debug_free: found smashed location at", l.smashed, p,
                  l.file, l.line, l.size);
  if (l.drop) {
    GC_free(l.base);
    return;
  }
  /* Left to the collector, cleared so that it keeps nothing alive. */
  memset(p, 0, l.size);
}

void *GC_debug_realloc(void *p, size_t lb, GC_EXTRA_PARAMS) {
  if (p == NULL)
    return GC_debug_malloc(lb, s, i);
  if (lb == 0) {
    GC_debug_free(p);
    return NULL;
  }
  compat_ensure_init();
  lookup l = {.p = p};
  sgc_call_without_collections(look_up, &l);
  if (l.what != IS_DEBUG) {
    if (l.what == IS_NONE)
      compat_fatal("GC_debug_realloc(%p): not a heap object", p);
    GC_err_printf("GC_debug_realloc called on pointer %p w/o debugging "
                  "info\n", p);
    return GC_realloc(p, lb);
  }
  if (l.freed)
    compat_fatal("GC_debug_realloc(%p): the object was freed (%s:%d)", p,
                 l.file ? l.file : "?", l.line);
  if (l.smashed)
    print_smashed("GC_debug_realloc: found smashed location at", l.smashed,
                  p, l.file, l.line, l.size);
  int k = compat_kind_of(l.base);
  if (k < 0)
    k = GC_I_NORMAL;
  void *q = dbg_alloc(lb, k, s, i);
  if (q == NULL)
    return NULL;
  memcpy(q, p, l.size < lb ? l.size : lb);
  GC_debug_free(p);
  return q;
}
