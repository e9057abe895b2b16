/*
 * finalizer.c — finalizers and weak slots.
 *
 * A finalizer is a special record on its object's span (special.c).  After
 * the mark, mark_finalizers (markfinal.c) scans an unreachable finalizable
 * object's contents without marking the object, so what it references
 * survives, and dooms it; the sweeper keeps a doomed object, moves the
 * finalizer to the queue below and drops the record.  The queue is a root, so
 * the object and its argument stay alive until the finalizer has run; a
 * finalizer may store the object somewhere reachable (resurrect it).  If a
 * finalizable object references another, the other is marked through the first
 * and is finalized only in a later cycle: finalizers run in topological order,
 * and a cycle of finalizable objects is never collected (as in Go and bdwgc).
 *
 * Queued finalizers run on the finalizer thread, a registered mutator
 * started with the first finalizer, or on any thread that calls
 * sgc_run_finalizers().  While sgc_set_finalizer_thread(0) holds, the
 * thread, if started, takes no more of them (one it took already
 * finishes): it waits until the queue is not empty and it is enabled
 * again.
 *
 * Weak slots live in a hash table keyed by slot address, outside the
 * heap (so the table keeps nothing alive).  At mark termination, with the
 * world stopped, every slot whose object was not marked is set to NULL
 * (if it still points to that object; always, for a link) and forgotten
 * (weak_process); after finalization marking, slots inside heap objects
 * that died are forgotten, so that nothing is ever written into reused
 * memory (weak_forget_dead).
 *
 * fin.lock guards the queue and the counts; weak_lock the table.  Both are
 * taken by mutators only inside no-preempt regions (the collector takes
 * them with the world stopped), or inside a blocking region.
 */
#include <stdlib.h>

#include "spangc-int.h"

typedef struct finentry {
  void *obj;
  void (*fn)(void *, void *);
  void *arg;
} finentry;

#define FINBLOCK_N 170
typedef struct finblock {
  struct finblock *next;
  uint32_t n;
  finentry e[FINBLOCK_N];
} finblock;

static struct {
  sgc_mutex lock;
  pthread_cond_t cond; /* work for the finalizer thread */
  pthread_cond_t idle; /* queue empty and nothing running */
  finblock *queue, *spare;
  uint64_t nqueued, nrun;
  int running;
  int thread_started;
  int thread_disabled; /* written under lock; read without it (atomic) */
  int ready; /* atomic: the queue is not empty */
} fin = {SGC_MUTEX_INIT(FIN), PTHREAD_COND_INITIALIZER,
         PTHREAD_COND_INITIALIZER};

static sgc_mutex weak_lock = SGC_MUTEX_INIT(WEAK);

bool finalizer_queue(void *obj, void (*fn)(void *, void *), void *arg) {
  sgc_lock(&fin.lock);
  finblock *b = fin.queue;
  if (b == NULL || b->n == FINBLOCK_N) {
    finblock *nb = fin.spare;
    if (nb) {
      fin.spare = nb->next;
    } else if ((nb = os_alloc(sizeof(finblock))) == NULL) {
      sgc_unlock(&fin.lock);
      return false;
    } else {
      ATOMIC_ADD(&sgc_heap.sys_meta, sizeof(finblock));
    }
    nb->n = 0;
    nb->next = b;
    fin.queue = b = nb;
  }
  b->e[b->n++] = (finentry){obj, fn, arg};
  ATOMIC_STORE_RELAXED(&fin.nqueued, fin.nqueued + 1);
  ATOMIC_STORE_RELAXED(&fin.ready, 1);
  pthread_cond_signal(&fin.cond);
  sgc_unlock(&fin.lock);
  return true;
}

void finalizer_scan_queue(gcwork *w) {
  sgc_lock(&fin.lock);
  for (finblock *b = fin.queue; b; b = b->next)
    for (uint32_t i = 0; i < b->n; i++) {
      if (sgc_sticky) /* not made old: see mspan_rare.finqbits */
        mark_queued_object(w, (uintptr_t)b->e[i].obj);
      else
        mark_root_word(w, (uintptr_t)b->e[i].obj);
      mark_root_word(w, (uintptr_t)b->e[i].arg);
    }
  sgc_unlock(&fin.lock);
}

/* Take one queued finalizer (fin.lock held). */
static bool dequeue(finentry *e) {
  SGC_ASSERT_HELD(&fin.lock);
  finblock *b = fin.queue;
  if (b == NULL)
    return false;
  *e = b->e[--b->n];
  if (b->n == 0) {
    fin.queue = b->next;
    if (fin.queue == NULL)
      ATOMIC_STORE_RELAXED(&fin.ready, 0);
    b->next = fin.spare;
    fin.spare = b;
  }
  fin.running++;
  return true;
}

static void finished_one(mcache *c) {
  nopreempt_enter(c);
  sgc_lock(&fin.lock);
  fin.running--;
  fin.nrun++;
  /* Not only at 0: a waiter inside a finalizer waits for its own count
   * (sgc_wait_finalizers). */
  if (fin.queue == NULL)
    pthread_cond_broadcast(&fin.idle);
  sgc_unlock(&fin.lock);
  nopreempt_leave(c);
}

/* Finalizers this thread is running (nested ones too): those
 * sgc_wait_finalizers, called from one, does not wait for. */
static __thread int fin_nesting;

/* Run one queued finalizer on this thread; false if none was queued. */
static bool run_one(mcache *c) {
  finentry e;
  nopreempt_enter(c);
  sgc_lock(&fin.lock);
  bool got = dequeue(&e);
  sgc_unlock(&fin.lock);
  nopreempt_leave(c);
  if (!got)
    return false;
  /* e (on this stack) keeps obj and arg alive while fn runs; then they
   * are wiped, or the dead frame keeps them for as long as the thread
   * blocks at that depth (the finalizer thread, idle, kept a finished
   * fiber its finalizer had handed over: fresh-clone check of fc4a7d0,
   * fiber_kept_by_its_finalizer_keeps_its_stack, once). */
  void *volatile obj = e.obj;
  fin_nesting++;
  e.fn(obj, e.arg);
  fin_nesting--;
  obj = NULL;
  explicit_bzero(&e, sizeof e);
  finished_one(c);
  return true;
}

size_t sgc_run_finalizers(void) {
  mcache *c = mcache_get();
  if (c == NULL)
    return 0;
  size_t n = 0;
  while (run_one(c))
    n++;
  return n;
}

static void *finalizer_main(void *arg) {
  if (sgc_register_thread() != 0) {
    /* Out of memory: the next finalizer registration tries to start
     * the thread again; until then sgc_run_finalizers() runs them. */
    sgc_warn("cannot register the finalizer thread (out of memory)");
    sgc_lock(&fin.lock);
    fin.thread_started = 0;
    pthread_cond_broadcast(&fin.idle);
    sgc_unlock(&fin.lock);
    return NULL;
  }
  mcache *c = sgc_tls_cache;
  for (;;) {
    while (!ATOMIC_LOAD_RELAXED(&fin.thread_disabled) && run_one(c))
      ;
    /* Waiting, it holds nothing (the queue is a root of its own): what
     * its stack and registers keep are the addresses of objects whose
     * finalizers ran, which the heap reuses (world-int.h, noroots).
     * Running finalizers, program code, it is a root as any thread. */
    ATOMIC_STORE(&c->thr->noroots, 1);
    sgc_enter_blocking();
    sgc_lock(&fin.lock);
    while (fin.queue == NULL || fin.thread_disabled)
      sgc_cond_wait(&fin.cond, &fin.lock);
    sgc_unlock(&fin.lock);
    sgc_exit_blocking();
    ATOMIC_STORE(&c->thr->noroots, 0);
  }
  return NULL;
}

static void start_finalizer_thread(void) {
  mcache *c = nopreempt_enter_any();
  sgc_lock(&fin.lock);
  bool start = !fin.thread_started && !fin.thread_disabled;
  fin.thread_started |= start;
  sgc_unlock(&fin.lock);
  nopreempt_leave_any(c);
  if (!start)
    return;
  /* finalizer_main registers itself.  thread_started stays set when the
   * start fails, as before: finalizers then run from
   * sgc_run_finalizers(), and the warning is given once. */
  int err = os_start_detached(finalizer_main, NULL, 0, "spangc-final");
  if (err != 0)
    sgc_warn("cannot start the finalizer thread (%s); finalizers run only "
             "from sgc_run_finalizers()", strerror(err));
}

void sgc_set_finalizer_thread(int enabled) {
  mcache *c = nopreempt_enter_any();
  sgc_lock(&fin.lock);
  ATOMIC_STORE_RELAXED(&fin.thread_disabled, !enabled);
  if (enabled) /* a thread waiting while it was disabled */
    pthread_cond_signal(&fin.cond);
  sgc_unlock(&fin.lock);
  nopreempt_leave_any(c);
}

void sgc_wait_finalizers(void) {
  /* From a finalizer: the ones queued run here (on the finalizer thread
   * nobody else would run them), then the others running are waited
   * for, not this thread's own (it waited for itself for ever: the
   * adversarial review of session 51). */
  if (fin_nesting > 0) {
    mcache *c = mcache_get();
    while (c != NULL && run_one(c))
      ;
  }
  sgc_enter_blocking();
  sgc_lock(&fin.lock);
  while (fin.queue != NULL || fin.running > fin_nesting) {
    if (fin.thread_disabled || !fin.thread_started) {
      /* Nobody else will run them: the caller would wait forever. */
      break;
    }
    sgc_cond_wait(&fin.idle, &fin.lock);
  }
  sgc_unlock(&fin.lock);
  sgc_exit_blocking();
}

int sgc_finalizers_ready(void) { return ATOMIC_LOAD_RELAXED(&fin.ready); }

uint64_t sgc_finalizers_queued(void) {
  return ATOMIC_LOAD_RELAXED(&fin.nqueued);
}

size_t sgc_finalizers_pending(void) {
  size_t n = 0;
  mcache *c = nopreempt_enter_any();
  sgc_lock(&fin.lock);
  for (finblock *b = fin.queue; b; b = b->next)
    n += b->n;
  sgc_unlock(&fin.lock);
  nopreempt_leave_any(c);
  return n;
}

/* Caller in a no-preempt region (or the world stopped). */
void finalizer_counts(uint64_t *queued, uint64_t *run) {
  sgc_lock(&fin.lock);
  *queued = fin.nqueued;
  *run = fin.nrun;
  sgc_unlock(&fin.lock);
}

void finalizer_atfork(int phase) {
  if (phase == FORK_PREPARE) {
    sgc_lock(&fin.lock);
    sgc_lock(&weak_lock);
    return;
  }
  if (phase == FORK_CHILD) {
    fin.thread_started = 0; /* restarted with the next finalizer */
    fin.running = 0;        /* those were running on threads now gone */
    pthread_cond_init(&fin.cond, NULL);
    pthread_cond_init(&fin.idle, NULL);
  }
  sgc_unlock(&weak_lock);
  sgc_unlock(&fin.lock);
}

int sgc_set_finalizer(void *p, void (*fn)(void *obj, void *arg), void *arg) {
  return sgc_set_finalizer_ex(p, fn, arg, SGC_FIN_ORDERED, NULL, NULL);
}

int sgc_set_finalizer_ex(void *p, void (*fn)(void *obj, void *arg), void *arg,
                         int mode, void (**oldfn)(void *obj, void *arg),
                         void **oldarg) {
  if (oldfn)
    *oldfn = NULL;
  if (oldarg)
    *oldarg = NULL;
  if (p == NULL || mode < SGC_FIN_ORDERED || mode > SGC_FIN_UNREACHABLE)
    return EINVAL;
  mcache *c = mcache_get();
  if (c == NULL)
    return ENOMEM;
  nopreempt_enter(c);
  uint32_t index;
  mspan *s = object_span("sgc_set_finalizer", p, &index);
  uintptr_t off = (uintptr_t)p - s->base;
  int err = 0;
  special *old = NULL;
  if (fn == NULL) {
    sgc_lock(&s->speciallock);
    for (special **pp = &s->specials; *pp; pp = &(*pp)->next)
      if ((*pp)->offset == off && (*pp)->kind == SPECIAL_FINALIZER) {
        old = *pp;
        ATOMIC_STORE_RELAXED(pp, old->next);
        break;
      }
    sgc_unlock(&s->speciallock);
    goto out;
  }
  /* The finalizer queue's bit (mspan_rare.finqbits) needs the struct,
   * which the markers cannot make. */
  special *sp = mspan_rare_make(s) != NULL ? special_new() : NULL;
  if (sp == NULL) {
    err = ENOMEM;
    goto out;
  }
  sp->offset = off;
  sp->kind = SPECIAL_FINALIZER;
  sp->mode = (uint8_t)mode;
  sp->doomed = 0;
  sp->fn = fn;
  sp->arg = arg;
  old = special_insert(s, sp);
out:
  if (old) {
    if (oldfn)
      *oldfn = old->fn;
    if (oldarg)
      *oldarg = old->arg;
    special_dispose(old);
  }
  nopreempt_leave(c);
  if (fn != NULL && err == 0)
    start_finalizer_thread();
  return err;
}

/* ------------------------------------------------------------ weak slots */

typedef struct { void **slot; void *obj; int always; } weakent;
#define WEAK_TOMB ((void **)1)

static weakent *weak;
static size_t weakcap, weakused, weaklive; /* used counts tombstones */

static size_t weak_hash(void **slot, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)slot * 0x9e3779b97f4a7c15ull;
  return (size_t)(h >> 17) & (cap - 1);
}

static weakent *weak_find(void **slot) {
  if (weakcap == 0)
    return NULL;
  for (size_t i = weak_hash(slot, weakcap);; i = (i + 1) & (weakcap - 1)) {
    if (weak[i].slot == slot)
      return &weak[i];
    if (weak[i].slot == NULL)
      return NULL;
  }
}

static bool weak_grow(void) {
  size_t cap = weakcap ? weakcap * 2 : 256;
  if (weaklive * 4 < weakcap)
    cap = weakcap; /* mostly tombstones: rehash in place size */
  weakent *t = os_alloc(cap * sizeof(weakent));
  if (t == NULL)
    return false;
  for (size_t i = 0; i < weakcap; i++) {
    void **slot = weak[i].slot;
    if (slot == NULL || slot == WEAK_TOMB)
      continue;
    size_t j = weak_hash(slot, cap);
    while (t[j].slot)
      j = (j + 1) & (cap - 1);
    t[j] = weak[i];
  }
  if (weak)
    os_free(weak, weakcap * sizeof(weakent));
  weak = t;
  weakcap = cap;
  weakused = weaklive;
  return true;
}

static int register_weak(const char *call, void **slot, void *obj,
                         bool always) {
  if (slot == NULL || obj == NULL)
    return EINVAL;
  mcache *c = mcache_get();
  if (c == NULL)
    return ENOMEM;
  nopreempt_enter(c);
  uint32_t index;
  object_span(call, obj, &index);
  sgc_lock(&weak_lock);
  int err = 0;
  weakent *e = weak_find(slot);
  if (e) {
    e->obj = obj;
    e->always = always;
    if (always)
      err = EEXIST;
  } else if ((weakused + 1) * 2 > weakcap && !weak_grow()) {
    err = ENOMEM;
  } else {
    size_t i = weak_hash(slot, weakcap);
    while (weak[i].slot != NULL && weak[i].slot != WEAK_TOMB)
      i = (i + 1) & (weakcap - 1);
    if (weak[i].slot == NULL)
      weakused++;
    weak[i] = (weakent){slot, obj, always};
    weaklive++;
  }
  sgc_unlock(&weak_lock);
  nopreempt_leave(c);
  return err;
}

int sgc_register_weak(void **slot, void *obj) {
  return register_weak("sgc_register_weak", slot, obj, false);
}

int sgc_register_link(void **slot, void *obj) {
  return register_weak("sgc_register_link", slot, obj, true);
}

int sgc_move_weak(void **from, void **to) {
  if (from == NULL || to == NULL)
    return EINVAL;
  mcache *c = nopreempt_enter_any();
  sgc_lock(&weak_lock);
  int err = 0;
  weakent *e = weak_find(from);
  if (e == NULL) {
    err = ENOENT;
  } else if (from == to) {
    err = 0;
  } else if (weak_find(to) != NULL) {
    err = EEXIST;
  } else if ((weakused + 1) * 2 > weakcap && !weak_grow()) {
    err = ENOMEM;
  } else {
    e = weak_find(from); /* the table may have been rebuilt */
    void *obj = e->obj;
    int always = e->always;
    e->slot = WEAK_TOMB;
    e->obj = NULL;
    size_t i = weak_hash(to, weakcap);
    while (weak[i].slot != NULL && weak[i].slot != WEAK_TOMB)
      i = (i + 1) & (weakcap - 1);
    if (weak[i].slot == NULL)
      weakused++;
    weak[i] = (weakent){to, obj, always};
  }
  sgc_unlock(&weak_lock);
  nopreempt_leave_any(c);
  return err;
}

int sgc_unregister_weak(void **slot) {
  mcache *c = nopreempt_enter_any();
  sgc_lock(&weak_lock);
  weakent *e = weak_find(slot);
  if (e) {
    e->slot = WEAK_TOMB;
    e->obj = NULL;
    weaklive--;
  }
  sgc_unlock(&weak_lock);
  nopreempt_leave_any(c);
  return e ? 0 : ENOENT;
}

static bool is_marked(uintptr_t p, bool *inheap) {
  mspan *s = mheap_lookup(p);
  *inheap = s != NULL;
  if (s == NULL)
    return false;
  uint32_t i = mspan_obj_index(s, p);
  return bitmap_get(s->markbits, i) || MSPAN_RARE_BIT(s, finqbits, i);
}

void weak_process(mspan **spans, uint32_t nspan) {
  sgc_lock(&weak_lock);
  for (size_t i = 0; i < weakcap; i++) {
    weakent *e = &weak[i];
    if (e->slot == NULL || e->slot == WEAK_TOMB)
      continue;
    bool inheap;
    if (is_marked((uintptr_t)e->obj, &inheap))
      continue; /* the object lives; but does the slot? */
    /* A slot inside a dead object is written too: nothing reuses that
     * memory before the sweep, and a finalizer may look at it. */
    if (e->always || *e->slot == e->obj)
      *e->slot = NULL;
    e->slot = WEAK_TOMB;
    e->obj = NULL;
    weaklive--;
  }
  sgc_unlock(&weak_lock);
}

/* After mark_finalizers (which marked what finalization keeps): forget
 * registrations whose slot lies inside a heap object that died, so that
 * nothing is ever written into reused memory. */
void weak_forget_dead(void) {
  sgc_lock(&weak_lock);
  for (size_t i = 0; i < weakcap; i++) {
    weakent *e = &weak[i];
    if (e->slot == NULL || e->slot == WEAK_TOMB)
      continue;
    bool slot_inheap;
    bool slot_live = is_marked((uintptr_t)e->slot, &slot_inheap);
    if (slot_inheap && !slot_live) {
      e->slot = WEAK_TOMB;
      e->obj = NULL;
      weaklive--;
    }
  }
  sgc_unlock(&weak_lock);
}
